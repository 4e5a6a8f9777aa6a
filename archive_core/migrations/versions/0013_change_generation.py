"""change_generation: a counter the database bumps whenever what the search menus list changes

The portal keeps the search form's menus (document types, old units) per scope and per
process; they are computed again only when this counter has moved.  Triggers bump it, so
every writer is covered (ORM, Core bulk inserts, SQL by hand): a document inserted or
deleted, a document's ``withheld``, ``doc_type`` or ``unit_code`` changed, any change of
``old_unit``.  ``token`` is random per database, so a recreated database never passes for a
cached one.

SQLite: row triggers inside the writing transaction (SQLite has one writer at a time), setting a
random value (a rolled-back value never comes back).
PostgreSQL: a deferred constraint trigger, run once per transaction at its commit: the
counter row is the last lock a writer takes, held only while it commits, so concurrent
ingest workers never deadlock on it.

Revision ID: 0013
Revises: 0012
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# SQLite: a random value, not value + 1, so that a value seen inside a transaction that is then rolled
# back (row triggers fire at once) never comes again for other data.  PostgreSQL bumps at commit.
_BUMP = "UPDATE change_generation SET value = random() WHERE name = 'documents'"
_PG_BUMP = "UPDATE change_generation SET value = value + 1 WHERE name = 'documents'"
_SQLITE_TRIGGERS = {
    "change_generation_document_insert": "AFTER INSERT ON document",
    "change_generation_document_delete": "AFTER DELETE ON document",
    "change_generation_document_update": "AFTER UPDATE OF withheld, doc_type, unit_code ON document",
    "change_generation_old_unit_insert": "AFTER INSERT ON old_unit",
    "change_generation_old_unit_delete": "AFTER DELETE ON old_unit",
    "change_generation_old_unit_update": "AFTER UPDATE ON old_unit",
}
_PG_TRIGGERS = {
    "change_generation_document": "AFTER INSERT OR DELETE OR UPDATE OF withheld, doc_type, unit_code ON document",
    "change_generation_old_unit": "AFTER INSERT OR DELETE OR UPDATE ON old_unit",
}


def upgrade() -> None:
    op.create_table(
        "change_generation",
        sa.Column("name", sa.String(length=64), primary_key=True),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
    )
    op.execute(
        sa.text("INSERT INTO change_generation (name, value, token) VALUES ('documents', 0, :token)").bindparams(
            token=secrets.token_hex(16)
        )
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name, when in _SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {when} BEGIN {_BUMP}; END")
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION change_generation_bump() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF current_setting('archive.generation_bumped', true) IS DISTINCT FROM txid_current()::text THEN "
            "PERFORM set_config('archive.generation_bumped', txid_current()::text, true); "
            f"{_PG_BUMP}; "
            "END IF; RETURN NULL; END $$"
        )
        for name, when in _PG_TRIGGERS.items():
            op.execute(
                f"CREATE CONSTRAINT TRIGGER {name} {when} DEFERRABLE INITIALLY DEFERRED "
                "FOR EACH ROW EXECUTE FUNCTION change_generation_bump()"
            )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS change_generation_document ON document")
        op.execute("DROP TRIGGER IF EXISTS change_generation_old_unit ON old_unit")
        op.execute("DROP FUNCTION IF EXISTS change_generation_bump()")
    op.drop_table("change_generation")
