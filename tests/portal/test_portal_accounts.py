"""The accounts service: role rules, generated passwords, argon2, refusals."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from archive_core.clock import utcnow
from archive_portal.services.accounts import AccountError, authenticate, create_account, get_account


def test_lookup_account_gets_unit_expiry_and_generated_password(world):
    with world.archive.db.transaction() as s:
        account, password = create_account(s, username="Tra.Cuu1", role="lookup", new_unit_code="11953")
        assert account.username == "tra.cuu1"
        assert len(password) >= 16
        assert account.password_hash.startswith("$argon2")
        assert password not in account.password_hash
        assert account.expires_at - utcnow() > timedelta(days=360)
        account_id = account.id
    with world.archive.db.transaction() as s:
        assert authenticate(s, "tra.cuu1", password).id == account_id
        assert authenticate(s, "tra.cuu1", password + "x") is None
        assert get_account(s, account_id).last_login_at is not None


@pytest.mark.parametrize("kwargs", [
    dict(username="a1", role="lookup"),  # lookup without unit
    dict(username="a2", role="lookup", new_unit_code="99999"),  # unknown unit
    dict(username="a3", role="admin", new_unit_code="11953"),  # admin with a unit
    dict(username="a4", role="superuser"),
    dict(username="x y", role="admin"),
    dict(username="a5", role="admin", password="ngan"),
    dict(username="admin", role="admin"),  # taken
])
def test_refused_accounts(world, kwargs):
    with world.archive.db.transaction() as s:
        with pytest.raises(AccountError):
            create_account(s, **kwargs)


def test_expired_and_inactive_accounts_cannot_sign_in(world):
    with world.archive.db.transaction() as s:
        create_account(s, username="cu", role="lookup", new_unit_code="11953", password="mot-mat-khau-dai",
                       expires_at=datetime(2020, 1, 1))
        assert authenticate(s, "cu", "mot-mat-khau-dai") is None
        assert authenticate(s, "", "") is None
        assert authenticate(s, "khong-ton-tai", "mot-mat-khau-dai") is None
