"""dossiers (hồ sơ) with retention and access regime; document order and restricted flag; accounts allowed restricted material

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dossier",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_code", sa.String(32), nullable=False),
        sa.Column("code", sa.String(200), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("retention_raw", sa.String(100), nullable=False),
        sa.Column("permanent", sa.Boolean(), nullable=False),
        sa.Column("retention_years", sa.Integer(), nullable=True),
        sa.Column("access", sa.String(16), nullable=False),
        sa.Column("access_raw", sa.String(100), nullable=False),
        sa.Column("reliability", sa.String(100), nullable=False),
        sa.Column("creator", sa.String(300), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("start_date_raw", sa.String(100), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("end_date_raw", sa.String(100), nullable=False),
        sa.Column("keywords", sa.Text(), nullable=False),
        sa.Column("registered_documents", sa.Integer(), nullable=True),
        sa.Column("registered_pages", sa.Integer(), nullable=True),
        sa.Column("remarks", sa.Text(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("package_id", sa.Integer(), sa.ForeignKey("package.id"), nullable=True),
        sa.Column("source_sha256", sa.String(64), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("unit_code", "code", name="uq_dossier_unit_code"),
    )
    op.create_index("ix_dossier_unit_code", "dossier", ["unit_code"])
    with op.batch_alter_table("document") as batch:
        batch.add_column(sa.Column("dossier_order", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("restricted", sa.Boolean(), nullable=False, server_default="0"))
    with op.batch_alter_table("account") as batch:
        batch.add_column(sa.Column("may_see_restricted", sa.Boolean(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("account") as batch:
        batch.drop_column("may_see_restricted")
    with op.batch_alter_table("document") as batch:
        batch.drop_column("restricted")
        batch.drop_column("dossier_order")
    op.drop_index("ix_dossier_unit_code", table_name="dossier")
    op.drop_table("dossier")
