"""Audit trail commands: verify the hash chain, export the trail."""

from __future__ import annotations

import sys
from datetime import datetime

import click

from . import console, main, open_archive


@main.group()
def audit() -> None:
    """Nhật ký truy cập và thao tác."""


@audit.command("verify")
def audit_verify() -> None:
    """Check the hash chain of the audit trail; exit 1 at the first changed or missing record."""
    from archive_core.db.models import AuditEvent

    from ..services.audit import to_local, verify

    archive = open_archive()
    with archive.db.session() as session:
        result = verify(session)
        if result.ok:
            how = (
                f"khóa HMAC, {result.checkpoints} mốc kiểm tra có chữ ký khớp"
                if result.keyed
                else "chưa có khóa nhật ký: chỉ kiểm tra SHA-256"
            )
            console.print(
                f"Nhật ký nguyên vẹn: {result.records} bản ghi ({how}); hash cuối {result.last_hash}",
                soft_wrap=True,
                highlight=False,
            )
            return
        problem = result.problem
        assert problem is not None  # not ok: verify names the first broken record
        event = session.get(AuditEvent, problem.id)
        shown = (
            f"{to_local(event.at):%d/%m/%Y %H:%M:%S} {event.action} {event.username} {event.target}"
            if event is not None
            else ""
        )
    console.print(f"[bold red]Nhật ký bị thay đổi[/]: bản ghi #{problem.id}: {problem.reason}", highlight=False)
    if shown:
        console.print(f"  {shown}", highlight=False, markup=False)
    console.print(f"{result.records} bản ghi đầu tiên vẫn nguyên vẹn.")
    sys.exit(1)


def _parse(value: str | None, end: bool = False) -> datetime | None:
    from ..services.audit import parse_local_datetime

    try:
        return parse_local_datetime(value or "", end=end)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@audit.command("export")
@click.option("--username", default="")
@click.option("--new-unit", "new_unit_code", default="")
@click.option("--action", default="")
@click.option("--since", default=None, help="dd/mm/yyyy [HH:MM] (giờ Việt Nam)")
@click.option("--until", default=None, help="dd/mm/yyyy [HH:MM] (giờ Việt Nam)")
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-")
def audit_export(username: str, new_unit_code: str, action: str, since: str | None, until: str | None, output) -> None:
    """Write the (filtered) audit trail as CSV."""
    from ..services.audit import AuditFilter, export_csv

    flt = AuditFilter(
        username=username,
        new_unit_code=new_unit_code,
        action=action,
        since=_parse(since),
        until=_parse(until, end=True),
    )
    archive = open_archive()
    with archive.db.session() as session:
        for chunk in export_csv(session, flt):
            output.write(chunk)
