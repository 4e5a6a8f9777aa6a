"""`archive accounts restricted USERNAME [--deny]`: an admin allows a lookup account restricted material."""
from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from archive_core.context import Archive
from archive_core.db.models import Account, AuditEvent
from archive_core.settings import Settings
from archive_portal.cli import main

UNITS_CSV = Path(__file__).resolve().parents[2] / "archive_core" / "data" / "units-hung-yen-2025.csv"


def test_allow_and_deny_restricted_material(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHIVE_HOME", str(tmp_path / "home"))
    runner = CliRunner()
    for args in (["units", "import", str(UNITS_CSV)], ["accounts", "create", "--new-unit", "11983", "--username", "sonnam"],
                 ["accounts", "restricted", "sonnam"]):
        result = runner.invoke(main, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
    assert "được xem tài liệu hạn chế" in result.output
    archive = Archive.open(Settings.load(home=tmp_path / "home"))
    try:
        with archive.db.session() as session:
            assert session.scalar(select(Account.may_see_restricted).where(Account.username == "sonnam"))
        assert runner.invoke(main, ["accounts", "restricted", "sonnam", "--deny"]).exit_code == 0
        assert runner.invoke(main, ["accounts", "restricted", "khongco"]).exit_code != 0
        with archive.db.session() as session:
            assert not session.scalar(select(Account.may_see_restricted).where(Account.username == "sonnam"))
            actions = list(session.scalars(select(AuditEvent.details).where(
                AuditEvent.action == "account_restricted_access")))
        assert [a["allowed"] for a in actions] == [True, False]
    finally:
        archive.close()
