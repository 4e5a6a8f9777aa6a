"""package manifests kept as originals; extraction claims for shared-database workers

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("package") as batch:
        batch.add_column(sa.Column("manifest_name", sa.String(100), nullable=False, server_default=""))
        batch.add_column(sa.Column("manifest_sha256", sa.String(64), nullable=False, server_default=""))
        batch.add_column(sa.Column("bag_manifest_sha256", sa.String(64), nullable=False, server_default=""))
    with op.batch_alter_table("document_file") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(120), nullable=False, server_default=""))
        batch.add_column(sa.Column("lease_until", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("document_file") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("claimed_by")
    with op.batch_alter_table("package") as batch:
        batch.drop_column("bag_manifest_sha256")
        batch.drop_column("manifest_sha256")
        batch.drop_column("manifest_name")
