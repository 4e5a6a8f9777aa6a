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
    if not result.unchanged:
        from ..services.audit import record

        record(
            archive,
            "units_import",
            username=loaded_by or "(dòng lệnh)",
            new_unit_code="",
            client="cli",
            target=f"phien-ban:{result.version_id}",
            details={"source": path.name, "pairs": result.rows, "new_units": result.new_units},
        )
    state = "không thay đổi (đã nạp đúng tệp này)" if result.unchanged else "đã nạp phiên bản mới"
    console.print(
        f"Phiên bản #{result.version_id} {state}: {result.rows} cặp, {result.old_units} đơn vị cũ "
        f"(thuộc {result.districts} huyện cũ) → {result.new_units} đơn vị mới"
    )


@units.command("show")
@click.argument("new_unit_code")
def units_show(new_unit_code: str) -> None:
    """Show the predecessors (old units, including old districts) of a new unit."""
    from archive_core.db.models import NewUnit, OldUnit

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


@units.command("diff")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def units_diff(path: Path) -> None:
    """Show what loading PATH as a new version would change (nothing is written)."""
    from ..services.units import UnitsFileError, diff_mapping

    archive = open_archive()
    try:
        with archive.db.session() as session:
            diff = diff_mapping(session, path.read_bytes())
    except UnitsFileError as error:
        raise click.ClickException(f"Không đọc được tệp đơn vị: {error}") from None
    for line in diff_lines(diff):
        console.print(line, highlight=False, markup=False, soft_wrap=True)


def diff_lines(diff) -> list[str]:
    """The preview of a mapping diff as plain lines (the admin page shows the same)."""
    name = diff.names.get
    new = lambda code: f"{code} {name('new:' + code, code)}"
    old = lambda code: f"{code} {name(code, code)}"
    against = f"phiên bản #{diff.against_version}" if diff.against_version else "chưa có phiên bản nào"
    lines = [f"Tệp {diff.sha256[:12]}…: {diff.rows} dòng; so với {against}"]
    if diff.unchanged:
        lines.append("Tệp này đúng là phiên bản mới nhất đã nạp: nạp lại không thay đổi gì.")
    if not diff.changes:
        lines.append("Không thay đổi cặp kế thừa nào.")
    sections = [
        ("Cặp thêm", [f"+ {old(o)} → {new(n)}" for o, n in diff.added]),
        ("Cặp bỏ", [f"- {old(o)} → {new(n)}" for o, n in diff.removed]),
        (
            "Đơn vị cũ chuyển sang đơn vị mới khác",
            [
                f"~ {old(o)}: {', '.join(map(new, b)) or '(không)'} ⇒ {', '.join(map(new, a)) or '(không)'}"
                for o, b, a in diff.moved
            ],
        ),
        ("Đơn vị mới xuất hiện", [f"+ {c} {n}" for c, n in diff.new_units]),
        ("Đơn vị mới không còn trong tệp", [f"- {c} {n}" for c, n in diff.dropped_units]),
        (
            "Phạm vi tra cứu thay đổi",
            [
                f"{change.new_code} {change.new_name}: "
                + "; ".join(
                    filter(
                        None,
                        [
                            ("thêm " + ", ".join(map(old, change.gained))) if change.gained else "",
                            ("mất " + ", ".join(map(old, change.lost))) if change.lost else "",
                        ],
                    )
                )
                for change in diff.scope_changes
            ],
        ),
    ]
    for title, items in sections:
        if items:
            lines.append(f"{title} ({len(items)}):")
            lines.extend(f"  {item}" for item in items)
    return lines


@units.command("versions")
def units_versions() -> None:
    """List every loaded version of the mapping, the one in force marked."""
    from ..services.audit import to_local
    from ..services.formatting import format_date
    from ..services.units import list_versions

    archive = open_archive()
    with archive.db.session() as session:
        versions = list_versions(session)
    table = Table(title="Các phiên bản bảng sắp xếp đơn vị")
    for column in ("#", "Tệp", "Hiệu lực từ", "Nạp lúc", "Người nạp", "Cặp", "Đang áp dụng"):
        table.add_column(column)
    for v in versions:
        table.add_row(
            str(v.id),
            v.source_name,
            format_date(v.effective_date),
            format_date(to_local(v.loaded_at)),
            v.loaded_by,
            str(v.pairs),
            "✓" if v.in_force else "",
        )
    console.print(table)
