"""Upgrading a database that already holds data (SQLite and a real PostgreSQL): every row of every
table of an older schema survives the later migrations unchanged, and the models read it back."""
from __future__ import annotations

from datetime import date, datetime

from alembic import command
from alembic.config import Config
from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, Float, Integer, MetaData, Numeric, String, select
from sqlalchemy.orm import Session

from archive_core.db.models import Base
from archive_core.db.session import MIGRATIONS_DIR, Database

# The schema the archive had when it was first deployed with workers and claims.
OLD_REVISION = "0006"


def _migrate(database: Database, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _value(column, row_id: int):
    """A plausible value of a column's type (foreign keys point at row ``row_id`` of their table)."""
    kind = column.type
    if isinstance(kind, Boolean):
        return True
    if isinstance(kind, (Integer, BigInteger, Numeric)):
        return row_id
    if isinstance(kind, Float):
        return 0.5
    if isinstance(kind, DateTime):
        return datetime(2025, 6, 30, 1, 2, 3)
    if isinstance(kind, Date):
        return date(2025, 6, 30)
    if isinstance(kind, JSON):
        return {"cu": "dữ liệu cũ"}
    if isinstance(kind, String) and kind.length:
        return f"{row_id} Xã cũ đ"[: kind.length]
    return f"Văn bản {row_id} của đơn vị cũ"


def test_a_populated_database_upgrades_without_losing_a_value(database_url):
    database = Database(database_url)
    _migrate(database, OLD_REVISION)
    old = MetaData()
    old.reflect(database.engine)
    written: dict[str, list[dict]] = {}
    with database.engine.begin() as connection:
        for table in old.sorted_tables:
            if table.name == "alembic_version":
                continue
            rows = []
            for row_id in (1, 2):
                row = {c.name: _value(c, row_id if not c.foreign_keys else 1) for c in table.columns}
                if table.name == "audit_event" and "prev_hash" in row:
                    row["prev_hash"] = "0" * 64 if row_id == 1 else "1" * 64
                rows.append(row)
            connection.execute(table.insert(), rows)
            written[table.name] = rows
    assert written, "the old schema has tables"

    database.upgrade()  # the way the portal and workers migrate at start

    with database.engine.connect() as connection:
        for name, rows in written.items():
            table = old.tables[name]
            keys = [c for c in table.primary_key.columns]
            found = [dict(r._mapping) for r in connection.execute(select(table).order_by(*keys))]
            assert len(found) == len(rows), f"{name}: rows lost"
            for before, after in zip(rows, found):
                for column, value in before.items():
                    got = after[column]
                    if isinstance(value, datetime) and isinstance(got, datetime):
                        got = got.replace(tzinfo=None)
                    assert got == value, f"{name}.{column} changed: {value!r} -> {got!r}"
    with Session(database.engine) as session:
        for mapper in Base.registry.mappers:
            if mapper.local_table.name in written:
                assert session.scalars(select(mapper.class_)).all(), f"{mapper.class_.__name__} reads old rows"
    database.dispose()

