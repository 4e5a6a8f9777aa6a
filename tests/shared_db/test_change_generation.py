"""The change counter behind the portal's cached search menus (migration 0013), on SQLite and PostgreSQL:
it moves when a committed change alters what the menus list (a document added, withheld, retyped, moved, an
old unit renamed), whichever way the rows were written, and stays put for changes the menus do not show."""
from __future__ import annotations

import threading

import sqlalchemy as sa

from archive_core.db.models import (
    ChangeGeneration,
    Document,
    NewUnit,
    OldUnit,
    Package,
    Succession,
    UnitMappingVersion,
)
from archive_core.db.session import Database


def _counter(database: Database) -> tuple[str, int]:
    with database.session() as session:
        row = session.execute(sa.select(ChangeGeneration.token, ChangeGeneration.value)).one()
        return row[0], row[1]


def _document(package_id: int, n: int, **values) -> dict:
    return {"package_id": package_id, "unit_code": "11950", "ma_van_ban": f"VB-{n}", "doc_type": "Công văn",
            "subject": f"Văn bản {n}", **values}


def test_the_counter_moves_on_committed_menu_changes_only(database_url):
    database = Database(database_url)
    database.upgrade()
    token, start = _counter(database)
    with database.transaction() as session:
        session.add(OldUnit(code="11950", name="Phường Lam Sơn", level="xa", parent_code="323"))
        package = Package(fingerprint="a" * 64, source_path="/p", form="folder", unit_code="11950")
        session.add(package)
        session.flush()
        package_id = package.id
    after_unit = _counter(database)[1]
    assert after_unit != start

    with database.engine.begin() as connection:  # a Core bulk insert, as a batched ingest writes
        connection.execute(sa.insert(Document.__table__), [_document(package_id, n) for n in range(50)])
    after_insert = _counter(database)[1]
    assert after_insert != after_unit

    with database.transaction() as session:  # what the menus do not show: no move
        session.execute(sa.update(Document).values(subject="Trích yếu mới", dossier="HS-1"))
    assert _counter(database)[1] == after_insert

    for change in ({"withheld": True}, {"withheld": False}, {"doc_type": "Tờ trình"}, {"unit_code": "323"}):
        before = _counter(database)[1]
        with database.transaction() as session:
            session.execute(sa.update(Document).where(Document.ma_van_ban == "VB-1").values(**change))
        assert _counter(database)[1] != before, change

    before = _counter(database)[1]
    seen_inside = None
    try:
        with database.transaction() as session:  # rolled back: nothing changed, no move
            session.execute(sa.delete(Document).where(Document.ma_van_ban == "VB-2"))
            seen_inside = session.scalar(sa.select(ChangeGeneration.value))
            raise RuntimeError("abandon")
    except RuntimeError:
        pass
    assert _counter(database)[1] == before
    with database.transaction() as session:
        session.execute(sa.delete(Document).where(Document.ma_van_ban == "VB-2"))
    assert _counter(database)[1] not in (before, seen_inside)  # what a rolled-back writer saw never comes back
    assert _counter(database)[0] == token  # one database, one token

    for step in ("version", "new unit", "succession"):  # the units mapping: the scopes follow it
        before = _counter(database)[1]
        with database.transaction() as session:
            if step == "version":
                session.add(UnitMappingVersion(id=1, source_name="units.csv", sha256="c" * 64))
            elif step == "new unit":
                session.add(NewUnit(code="11983", name="Phường Sơn Nam"))
            else:
                session.add(Succession(version_id=1, old_code="11950", new_code="11983"))
        assert _counter(database)[1] != before, step
    database.dispose()


def test_concurrent_writers_all_commit_and_each_moves_the_counter(database_url):
    """Writers adding documents at once (ingest workers) never deadlock on the counter, and every commit counts."""
    database = Database(database_url)
    database.upgrade()
    with database.transaction() as session:
        package = Package(fingerprint="b" * 64, source_path="/p", form="folder", unit_code="11950")
        session.add(package)
        session.flush()
        package_id = package.id
    start = _counter(database)[1]
    errors: list[BaseException] = []

    def writer(w: int) -> None:
        try:
            for batch in range(5):
                with database.write_transaction() as session:
                    session.execute(sa.insert(Document.__table__),
                                    [_document(package_id, w * 1000 + batch * 10 + i) for i in range(10)])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    with database.session() as session:
        assert session.scalar(sa.select(sa.func.count(Document.id))) == 200
    assert _counter(database)[1] != start
    database.dispose()
