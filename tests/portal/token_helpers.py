"""Accounts and tokens the API, OAI-PMH and metrics tests share (created once per session)."""
from __future__ import annotations

from archive_portal.services.accounts import create_account
from archive_portal.services.tokens import create_token, find_account
from portal_helpers import PASSWORD


def ensure_account(world, username: str, role: str, new_unit_code: str | None = None) -> None:
    with world.archive.db.transaction() as session:
        if find_account(session, username) is None:
            create_account(session, username=username, role=role, new_unit_code=new_unit_code, password=PASSWORD)


def new_token(world, username: str, days: int = 30, name: str = "") -> str:
    with world.archive.db.transaction() as session:
        _, clear = create_token(session, find_account(session, username), days=days, name=name)
    return clear


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
