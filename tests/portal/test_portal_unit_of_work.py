"""One database session per request: what a page costs the database, and what stays when a request fails.

Counted with SQLAlchemy's own events on the archive's engine: transactions begun
and committed, connections taken from the pool, and the statements that write.
"""

from __future__ import annotations

import re
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from sqlalchemy import event, func, select

from archive_core.db.models import AuditEvent

WRITE_RE = re.compile(r"^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.IGNORECASE)


@dataclass
class DatabaseCost:
    begins: int = 0
    commits: int = 0
    rollbacks: int = 0
    checkouts: int = 0
    writes: Counter = field(default_factory=Counter)  # (verb, table) -> statements

    def line(self, name: str) -> str:
        written = ", ".join(f"{verb} {table} ×{n}" for (verb, table), n in sorted(self.writes.items())) or "nothing"
        return (
            f"{name}: {self.checkouts} connection(s), {self.begins} transaction(s), {self.commits} commit(s), "
            f"{self.rollbacks} rollback(s); wrote {written}"
        )


@contextmanager
def database_cost(engine):
    cost = DatabaseCost()

    def on_begin(_conn):
        cost.begins += 1

    def on_commit(_conn):
        cost.commits += 1

    def on_rollback(_conn):
        cost.rollbacks += 1

    def on_checkout(*_args):
        cost.checkouts += 1

    def on_execute(_conn, _cursor, statement, *_args):
        match = WRITE_RE.match(statement)
        if match:
            cost.writes[(match.group(1).split()[0].upper(), match.group(2).lower())] += 1

    listeners = [
        (engine, "begin", on_begin),
        (engine, "commit", on_commit),
        (engine, "rollback", on_rollback),
        (engine.pool, "checkout", on_checkout),
        (engine, "before_cursor_execute", on_execute),
    ]
    for target, name, fn in listeners:
        event.listen(target, name, fn)
    try:
        yield cost
    finally:
        for target, name, fn in listeners:
            event.remove(target, name, fn)


def _audit_count(world, action: str) -> int:
    with world.archive.db.session() as s:
        return s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)) or 0


def test_a_search_page_costs_one_read_session_and_one_audit_write(as_phohien, world):
    as_phohien.get("/", query_string={"q": "bao cao"})  # warm: caches and first-use work are not the page's cost
    searches = _audit_count(world, "search")
    with database_cost(world.archive.db.engine) as cost:
        r = as_phohien.get("/", query_string={"q": "bao cao", "direction": "den"})
    print(cost.line("search page"))
    assert r.status_code == 200 and world.subjects["an_tao"] in r.get_data(as_text=True)
    assert cost.checkouts <= 1 and cost.begins <= 2 and cost.commits <= 2
    assert cost.writes == Counter({("INSERT", "audit_event"): 1})
    assert _audit_count(world, "search") == searches + 1


def test_an_api_search_costs_the_same(as_sonnam, world):
    as_sonnam.get("/api/v1/search", query_string={"q": "bao cao"})
    with database_cost(world.archive.db.engine) as cost:
        r = as_sonnam.get("/api/v1/search", query_string={"q": "bao cao"})
    print(cost.line("API search"))
    assert r.status_code == 200 and r.get_json()["total"] >= 1
    assert cost.checkouts <= 1 and cost.begins <= 2 and cost.commits <= 2
    assert cost.writes == Counter({("INSERT", "audit_event"): 1})


def test_a_document_page_is_one_session(as_admin, world):
    doc_id = world.docs["lam_son"]
    with database_cost(world.archive.db.engine) as cost:
        r = as_admin.get(f"/van-ban/{doc_id}")
    print(cost.line("document page"))
    assert r.status_code == 200
    assert cost.checkouts <= 1 and cost.begins <= 2
    assert cost.writes == Counter({("INSERT", "audit_event"): 1})


def test_a_refused_read_is_still_in_the_trail(as_sonnam, world):
    """The request ends in a 404 (its unit of work rolled back), and the attempt is recorded all the same."""
    views = _audit_count(world, "document_view")
    with database_cost(world.archive.db.engine) as cost:
        r = as_sonnam.get(f"/van-ban/{world.docs['an_tao']}")  # another new unit's document
    assert r.status_code == 404
    assert _audit_count(world, "document_view") == views + 1
    assert cost.begins <= 2 and cost.rollbacks <= 1  # the view's reads, dropped; then the trail
    assert cost.writes == Counter({("INSERT", "audit_event"): 1})


def test_every_request_gives_its_connection_back(app, as_admin, world):
    pool = world.archive.db.engine.pool
    for url in (
        "/",
        "/?q=bao+cao",
        f"/van-ban/{world.docs['lam_son']}",
        "/quan-tri/",
        "/nhat-ky/",
        "/api/v1/units",
        "/khong-co-trang-nay",
    ):
        as_admin.get(url)
        assert pool.checkedout() == 0, url


def _app_with_routes(world):
    """A fresh portal over the test archive, with two routes that change an account: one succeeds, one fails."""
    from archive_portal import create_app
    from archive_portal.services.accounts import find_account
    from archive_portal.web import db_session

    app = create_app(archive=world.archive)

    @app.route("/_thu/doi-ten/<name>")
    def rename(name: str):
        find_account(db_session(), "uow-test").display_name = name
        return "ok"

    @app.route("/_thu/doi-ten-roi-loi/<name>")
    def rename_then_fail(name: str):
        find_account(db_session(), "uow-test").display_name = name
        db_session().flush()
        raise RuntimeError("a bug after the change")

    return app


def test_a_request_commits_its_change_once_and_an_error_drops_it(world):
    from archive_portal.services.accounts import create_account, find_account

    with world.archive.db.transaction() as s:
        create_account(s, username="uow-test", role="archivist", display_name="Trước")
    try:
        client = _app_with_routes(world).test_client()
        with database_cost(world.archive.db.engine) as cost:
            assert client.get("/_thu/doi-ten/Sau").status_code == 200
        assert cost.commits == 1 and cost.writes == Counter({("UPDATE", "account"): 1})
        with world.archive.db.session() as s:
            assert find_account(s, "uow-test").display_name == "Sau"

        assert client.get("/_thu/doi-ten-roi-loi/Hong").status_code == 500
        with world.archive.db.session() as s:
            assert find_account(s, "uow-test").display_name == "Sau"
        assert world.archive.db.engine.pool.checkedout() == 0
    finally:  # the world is shared: leave no extra account behind
        with world.archive.db.transaction() as s:
            s.delete(find_account(s, "uow-test"))


def test_the_trail_is_written_even_when_the_error_page_fails(world):
    """A view records a read, then fails, and so does the error page: the record is written at teardown."""
    from archive_portal.views.auditing import audit_event

    app = _app_with_routes(world)

    @app.route("/_thu/doc-roi-hong")
    def read_then_fail():
        audit_event("document_view", username="uow-teardown", target="van-ban:0")
        raise KeyError("a bug")

    @app.errorhandler(KeyError)
    @app.errorhandler(500)
    def broken_error_page(_error):
        raise RuntimeError("the error page fails too")

    with pytest.raises(RuntimeError):
        app.test_client().get("/_thu/doc-roi-hong")
    with world.archive.db.session() as s:
        written = s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.username == "uow-teardown"))
    assert written == 1
    assert world.archive.db.engine.pool.checkedout() == 0
