"""What every view and hook of the web application shares, typed: the archive, and the request's unit of work.

One database session per request (flaskr's ``g.db``, warehouse's request
transaction): opened on first use by ``db_session()``, committed once when the
response is ready, rolled back when an error answered the request
(``rollback``, called by the error handlers), closed at teardown.  Services take
that session as an argument; they never open one of their own.

Work that must reach the database whatever the outcome of the request (the
audit trail of a refused read, say) is handed to ``at_commit``: it runs in the
request's session just before the one commit, so it commits together with the
view's change; when an error answered the request, it runs after the rollback,
alone; and should even the error page fail, at teardown.  A search page is
thus one connection and one transaction: its reads, then one audit record.

A view that catches a service's refusal (a ``UserError``) after the service may
have changed something calls ``rollback()`` itself.  Background work and the
CLI open their own transaction (``archive.db.transaction()``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, Response, current_app, g
from sqlalchemy.orm import Session

from archive_core.context import Archive

log = logging.getLogger(__name__)

_EXTENSION = "archive"

AtCommit = Callable[[Session], None]


def current_archive() -> Archive:
    """The archive this application serves (settings, database, search engine)."""
    return current_app.extensions[_EXTENSION]


def archive_of(app: Flask) -> Archive:
    """The archive of ``app``, outside a request (while the application is being built)."""
    return app.extensions[_EXTENSION]


def db_session() -> Session:
    """This request's database session, opened on first use."""
    session = g.get("db")
    if session is None:
        session = g.db = current_archive().db.session()
    return session


def at_commit(work: AtCommit) -> None:
    """Run ``work(session)`` at the end of the request, in its transaction, whether or not the view's changes stay."""
    g.setdefault("_at_commit", []).append(work)


def rollback() -> None:
    """Drop the request's uncommitted changes (an error answers the request, or a service refused them)."""
    session = g.get("db")
    if session is not None:
        session.rollback()


def _commit(response: Response) -> Response:
    """Commit the unit of work before the response leaves: a failing commit becomes an error page, not a lie."""
    pending: list[AtCommit] = g.get("_at_commit", [])
    session = g.get("db")
    if pending:
        session = db_session()
        for work in pending:
            work(session)
    if session is not None:
        session.commit()
    g._at_commit = []  # done; after a failed commit they run again with the error page's transaction
    return response


def _close(_exc: BaseException | None) -> None:
    """Close the session; work for the commit that never came (even the error page failed) still gets written."""
    pending: list[AtCommit] = g.pop("_at_commit", [])
    session = g.pop("db", None)
    if pending:
        session = session or current_archive().db.session()
        try:
            session.rollback()
            for work in pending:
                work(session)
            session.commit()
        except Exception:  # teardown must not raise; the request has already failed
            log.exception("work of a failed request could not be written at teardown")
    if session is not None:
        session.close()  # rolls back whatever was not committed


def init_app(app: Flask, archive: Archive) -> None:
    """Install the archive and the unit of work.  Call first: the commit hook must run after every other hook."""
    app.extensions[_EXTENSION] = archive
    app.after_request(_commit)
    app.teardown_request(_close)
