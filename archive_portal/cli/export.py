"""The export command: a fonds, a dossier, or what a new unit succeeded, as transfer packages with their biên bản."""

from __future__ import annotations

import json
from pathlib import Path

import click

from . import console, main, open_archive


@main.command("export")
@click.argument("destination", type=click.Path(file_okay=False, path_type=Path))
@click.option("--unit", default="", help="Old unit code: its fonds.")
@click.option("--new-unit", "new_unit", default="", help="New unit code: every old unit it succeeded.")
@click.option("--dossier", default="", help="Dossier code (ma_ho_so); with --unit when codes repeat across units.")
@click.option(
    "--format",
    "form",
    type=click.Choice(["bag", "eark"]),
    default="bag",
    help="bag: this archive's own contract (another instance ingests it); eark: E-ARK SIP with METS/PREMIS.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def export_command(destination: Path, unit: str, new_unit: str, dossier: str, form: str, as_json: bool) -> None:
    """Export packages under DESTINATION (one per old unit); withheld documents are never exported."""
    from archive_ops.transfer import ExportError, export

    if bool(unit) + bool(new_unit) > 1 or not (unit or new_unit or dossier):
        raise click.UsageError("Chọn một trong --unit, --new-unit, --dossier (--dossier có thể kèm --unit).")
    archive = open_archive()
    try:
        result = export(archive, destination, unit=unit, new_unit=new_unit, dossier=dossier, form=form)
    except ExportError as error:
        raise click.ClickException(str(error)) from None
    finally:
        archive.close()
    summary = [
        {
            "unit_code": u.unit_code,
            "path": str(u.path),
            "documents": u.documents,
            "files": u.files,
            "bytes": u.bytes,
            "dossiers": u.dossiers,
            "restricted": u.restricted,
            "withheld_left_out": u.withheld_left_out,
            "missing_originals": len(u.missing_originals),
        }
        for u in result.units
    ]
    if as_json:
        click.echo(
            json.dumps(
                {"format": form, "destination": str(destination), "packages": summary}, ensure_ascii=False, indent=2
            )
        )
        return
    for s in summary:
        console.print(
            f"{s['path']}: {s['documents']} văn bản, {s['files']} tệp ({s['bytes']:,} byte), "
            f"{s['dossiers']} hồ sơ, {s['restricted']} hạn chế; mật không xuất: {s['withheld_left_out']}; "
            f"thiếu bản gốc: {s['missing_originals']}",
            soft_wrap=True,
            highlight=False,
        )
    console.print(f"Đã xuất {result.documents} văn bản ({form}); biên bản trong từng gói: bien-ban-ban-giao.json")
