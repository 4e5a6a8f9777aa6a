"""Units mapping commands."""
from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from . import console, main, open_archive


# -- units --------------------------------------------------------------------------------------
@main.group()
def units() -> None:
    """Đơn vị cũ và đơn vị kế thừa."""


@units.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--by", "loaded_by", default="", help="Who loads this version (recorded).")
def units_import(path: Path, loaded_by: str) -> None:
    """Load the old-to-new unit mapping CSV (contract section 6) as a new version."""
    from ..services.units import UnitsFileError, import_mapping

    archive = open_archive()
    try:
        with archive.db.transaction() as session:
            result = import_mapping(session, path, loaded_by=loaded_by)
    except UnitsFileError as error:
        raise click.ClickException(f"Không nạp được tệp đơn vị: {error}") from None
    state = "không thay đổi (đã nạp đúng tệp này)" if result.unchanged else "đã nạp phiên bản mới"
    console.print(
        f"Phiên bản #{result.version_id} {state}: {result.rows} cặp, {result.old_units} đơn vị cũ "
        f"(thuộc {result.districts} huyện cũ) → {result.new_units} đơn vị mới"
    )


@units.command("show")
@click.argument("new_unit_code")
def units_show(new_unit_code: str) -> None:
    """Show the predecessors (old units, including old districts) of a new unit."""
    from ..db.models import NewUnit, OldUnit
    from ..services.scope import predecessors

    archive = open_archive()
    with archive.db.session() as session:
        unit = session.get(NewUnit, new_unit_code)
        if unit is None:
            raise click.ClickException(f"Không có đơn vị mới mã {new_unit_code}")
        table = Table(title=f"{unit.name} ({unit.code}): đơn vị cũ được tra cứu")
        for column in ("Mã", "Tên", "Cấp"):
            table.add_column(column)
        for code in sorted(predecessors(session, new_unit_code)):
            old = session.get(OldUnit, code)
            table.add_row(code, old.name if old else "?", old.level if old else "?")
    console.print(table)
