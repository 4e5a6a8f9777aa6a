"""``archive withhold ID --reason`` and ``archive release ID --reason``: secrecy decided after ingest.

``--by`` names the archive account the command acts as (withhold: an archivist
or an admin; release: an admin); the audit record names it and the OS user.
Release extracts the files of a document withheld at ingest (never extracted
then) here, and indexes it.
"""

from __future__ import annotations

import getpass

import click

from archive_core.errors import UserError

from . import console, main, open_archive


def _act(action: str, document_id: int, reason: str, by: str):
    from ..services import audit, withholding

    archive = open_archive()
    try:
        with archive.db.session() as session:
            account = withholding.operator(session, by)
            role = account.role
        change_of = withholding.withhold if action == "withhold" else withholding.release
        change = change_of(archive, document_id, reason, role=role, by=by)
    except UserError as error:
        with archive.db.transaction() as session:
            audit.record(
                session,
                f"document_{action}_refused",
                username=by[:150],
                new_unit_code="",
                target=f"van-ban:{document_id}",
                client="cli",
                details={"reason": reason, "error": str(error), "os_user": getpass.getuser()},
            )
        raise click.ClickException(str(error)) from None
    with archive.db.transaction() as session:
        audit.record(
            session,
            f"document_{action}",
            username=by[:150],
            new_unit_code="",
            target=f"van-ban:{document_id}",
            client="cli",
            details={
                "reason": reason,
                "changed": change.changed,
                "unit_code": change.unit_code,
                "previous": change.previous_reason,
                "os_user": getpass.getuser(),
            },
        )
    if action == "release" and change.pending_files:
        _extract_now(archive, document_id)
    return change


def _extract_now(archive, document_id: int) -> None:
    """A document withheld at ingest was never read: read and index it now."""
    from ingest.withholding import extract_released

    console.print(f"Văn bản #{document_id}: đang trích xuất các tệp chưa đọc ...")
    extract_released(archive, document_id)


@main.command()
@click.argument("document_id", type=int)
@click.option("--reason", required=True, help="Why (kept in the audit trail and shown on the archivist's pages).")
@click.option("--by", required=True, help="The archivist or admin account acting.")
def withhold(document_id: int, reason: str, by: str) -> None:
    """Withhold a document now: out of every search, page, file, API and OAI answer."""
    change = _act("withhold", document_id, reason, by)
    console.print(
        f"Văn bản #{document_id}: "
        + ("đã giữ lại, không còn tra cứu được." if change.changed else "đã bị giữ lại từ trước.")
    )


@main.command()
@click.argument("document_id", type=int)
@click.option("--reason", required=True, help="Why it may be searched again.")
@click.option("--by", required=True, help="The admin account acting.")
def release(document_id: int, reason: str, by: str) -> None:
    """Release a withheld document (admins only): searchable again."""
    change = _act("release", document_id, reason, by)
    console.print(
        f"Văn bản #{document_id}: " + ("đã giải tỏa, tra cứu được trở lại." if change.changed else "không bị giữ lại.")
    )
