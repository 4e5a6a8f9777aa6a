"""document.restricted_own: a row's own chế độ sử dụng "Hạn chế" restricts it whatever its dossier says

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("document") as batch:
        batch.add_column(sa.Column("restricted_own", sa.Boolean(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("document") as batch:
        batch.drop_column("restricted_own")
