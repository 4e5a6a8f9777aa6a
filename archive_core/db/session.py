"""Engine and sessions; the schema is brought up to date by Alembic, never by create_all."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
MIGRATION_LOCK_KEY = 0x4D494752  # "MIGR": PostgreSQL advisory lock held while migrating


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class Database:
    """One database of one data home."""

    def __init__(self, url: str):
        self.url = url
        self.engine: Engine = create_engine(url, future=True)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def set_session_info(self, **values: object) -> None:
        """What every session made from now on carries in ``Session.info`` (e.g. the archive, for
        the audit trail's key files)."""
        self._sessions.configure(info=dict(values))

    def upgrade(self) -> None:
        """Apply every Alembic migration not yet applied, all of them or none."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        engine = self._migration_engine()
        try:
            with engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    # the portal and every worker migrate at start: one at a time, the others then find nothing to do
                    connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        finally:
            if engine is not self.engine:
                engine.dispose()

    def _migration_engine(self) -> Engine:
        """On SQLite, pysqlite commits DDL on its own; a process killed mid-migration would leave
        tables without their version stamp.  Migrations therefore run in one explicit
        ``BEGIN IMMEDIATE`` transaction, which also makes concurrent starters wait their turn."""
        if not self.url.startswith("sqlite"):
            return self.engine
        engine = create_engine(self.url, future=True)
        event.listen(engine, "connect", _sqlite_pragmas)

        @event.listens_for(engine, "connect")
        def _manual_transactions(dbapi_connection, _record) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin_immediate(connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine

    def session(self) -> Session:
        return self._sessions()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def write_transaction(self) -> Iterator[Session]:
        """A transaction that holds the write lock from its first statement.

        On SQLite a deferred transaction that reads and then writes can fail with
        SQLITE_BUSY when another process wrote in between; ``BEGIN IMMEDIATE`` makes
        concurrent writers (ingest runs, workers) queue instead.  PostgreSQL needs
        nothing: callers lock the rows they change (``FOR UPDATE``)."""
        with self._sessions() as session, session.begin():
            if self.engine.dialect.name == "sqlite":
                raw = session.connection().connection.dbapi_connection
                assert raw is not None  # a live pooled connection
                if not raw.in_transaction:
                    raw.execute("BEGIN IMMEDIATE")
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
