"""``archive reocr``: redo the OCR of weak pages from the stored originals, without re-ingesting."""

from __future__ import annotations

import json

import click
from rich.table import Table

from . import console, main, open_archive


def _conf(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


@main.command("reocr")
@click.option("--package", "package_id", type=int, default=None, help="Only the pages of this package.")
@click.option("--unit", "unit_code", default=None, help="Only the pages of this old unit.")
@click.option("--document", "document_id", type=int, default=None, help="Only the pages of this document.")
@click.option(
    "--below",
    type=float,
    default=None,
    help="Only pages whose OCR confidence is under this (default: ARCHIVE_OCR_MIN_CONFIDENCE when no other option).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
def reocr_command(
    package_id: int | None, unit_code: str | None, document_id: int | None, below: float | None, as_json: bool
) -> None:
    """Nhận dạng lại (OCR) các trang có độ tin cậy thấp, từ bản gốc đã lưu."""
    from ingest.reocr import reocr

    archive = open_archive()
    changes = reocr(archive, package_id=package_id, unit_code=unit_code, document_id=document_id, below=below)
    if as_json:
        click.echo(json.dumps([c.__dict__ for c in changes], ensure_ascii=False, indent=2))
        return
    if not changes:
        console.print("Không có trang nào cần nhận dạng lại.")
        return
    table = Table(title="Nhận dạng lại")
    for column in ("Mã văn bản", "Tệp", "Trang", "Độ tin cậy cũ", "Độ tin cậy mới", "Kết quả"):
        table.add_column(column)
    for c in changes:
        outcome = "đã thay" if c.replaced else (c.note or "giữ bản cũ (kết quả mới kém hơn)")
        table.add_row(
            c.ma_van_ban, c.filename, str(c.number), _conf(c.old_confidence), _conf(c.new_confidence), outcome
        )
    console.print(table)
    replaced = sum(c.replaced for c in changes)
    documents = len({c.document_id for c in changes if c.replaced})
    console.print(f"{replaced}/{len(changes)} trang đã cập nhật; {documents} văn bản được lập chỉ mục lại.")
