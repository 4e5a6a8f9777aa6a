"""The same Alembic migrations on a real PostgreSQL: the schema the models describe, an append-only
audit trail, and a hash chain that stays one line when many processes write at once."""
from __future__ import annotations

import multiprocessing

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext

from archive_core.db.models import AuditEvent, Base
from archive_core.db.session import MIGRATIONS_DIR, Database
from archive_portal.services import audit


def test_migrations_build_the_models_schema_on_postgresql(pg_url):
    database = Database(pg_url)
    database.upgrade()
    database.upgrade()  # a second start finds nothing to do
    with database.engine.connect() as connection:
        assert connection.dialect.name == "postgresql"
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        heads = MigrationContext.configure(connection).get_current_heads()
    database.dispose()
    assert diff == [], f"models and migrations differ on PostgreSQL: {diff}"
    assert len(heads) == 1


def test_migrations_go_down_and_up_again_on_postgresql(pg_url):
    database = Database(pg_url)
    database.upgrade()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    with database.engine.connect() as connection:
        assert sa.inspect(connection).get_table_names() == ["alembic_version"]
    database.upgrade()
    with database.engine.connect() as connection:
        assert "document_file" in sa.inspect(connection).get_table_names()
    database.dispose()


def test_postgresql_refuses_to_change_or_delete_audit_records(pg_url):
    database = Database(pg_url)
    database.upgrade()
    with database.transaction() as session:
        audit.record(session, "login", username="luutru", client="127.0.0.1")
    for statement in ("UPDATE audit_event SET username = 'x'", "DELETE FROM audit_event", "TRUNCATE audit_event"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            with database.engine.begin() as connection:
                connection.execute(sa.text(statement))
    with database.session() as session:
        assert session.scalar(sa.select(sa.func.count(AuditEvent.id))) == 1
        assert audit.verify(session).ok
    database.dispose()


def _write_audit(url: str, worker: int, count: int) -> None:
    database = Database(url)
    for index in range(count):
        with database.transaction() as session:
            audit.record(session, "search", username=f"can-bo-{worker}", client="127.0.0.1",
                         target=f"{worker}:{index}", details={"q": f"kế hoạch {index}"})
    database.dispose()


def test_audit_chain_stays_linear_with_concurrent_writers_on_postgresql(pg_url):
    database = Database(pg_url)
    database.upgrade()
    writers, each = 6, 25
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_write_audit, args=(pg_url, w, each)) for w in range(writers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
        assert process.exitcode == 0
    with database.session() as session:
        result = audit.verify(session)
        targets = set(session.scalars(sa.select(AuditEvent.target)))
    database.dispose()
    assert result.ok, result.problem
    assert result.records == writers * each
    assert targets == {f"{w}:{i}" for w in range(writers) for i in range(each)}


def _start(url: str) -> None:
    Database(url).upgrade()


def test_processes_starting_together_migrate_one_at_a_time_on_postgresql(pg_url):
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_start, args=(pg_url,)) for _ in range(4)]  # portal + workers at boot
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
        assert process.exitcode == 0
    database = Database(pg_url)
    with database.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    database.dispose()
