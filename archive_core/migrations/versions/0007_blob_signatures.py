"""blob_signatures: the verdict on the digital signatures of each PDF original (pyHanko), re-checked by verify

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blob_signatures",
        sa.Column("blob_sha256", sa.String(64), sa.ForeignKey("blob.sha256"), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("signature_count", sa.Integer(), nullable=False),
        sa.Column("signatures", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("trust_store", sa.String(64), nullable=False),
        sa.Column("checked_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("blob_sha256"),
    )
    op.create_index("ix_blob_signatures_status", "blob_signatures", ["status"])


def downgrade() -> None:
    op.drop_index("ix_blob_signatures_status", table_name="blob_signatures")
    op.drop_table("blob_signatures")
