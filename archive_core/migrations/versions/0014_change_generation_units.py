"""change_generation also moves when the units mapping changes (new units, successions, versions)

The portal keeps each new unit's scope (the old units it sees, ``services.scope``) beside the
search menus, under the same counter; a mapping loaded, corrected or withdrawn must move it.
Same triggers as migration 0013 (SQLite: row triggers; PostgreSQL: the deferred constraint
trigger, once per transaction, at commit).

Revision ID: 0014
Revises: 0013
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TABLES = ("new_unit", "succession", "unit_mapping_version")
_BUMP = "UPDATE change_generation SET value = random() WHERE name = 'documents'"  # as in 0013


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        if dialect == "sqlite":
            for verb in ("INSERT", "UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER change_generation_{table}_{verb.lower()} AFTER {verb} ON {table} "
                    f"BEGIN {_BUMP}; END"
                )
        elif dialect == "postgresql":
            op.execute(
                f"CREATE CONSTRAINT TRIGGER change_generation_{table} AFTER INSERT OR DELETE OR UPDATE ON {table} "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION change_generation_bump()"
            )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        if dialect == "sqlite":
            for verb in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS change_generation_{table}_{verb}")
        elif dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS change_generation_{table} ON {table}")
