"""The ``archive`` command: what archivists and admins run on the server."""
from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from .context import Archive
from .settings import Settings

console = Console()
STAGE_LABELS = {"store": "Lưu bản gốc", "rows": "Đọc bảng kê", "extract": "Trích xuất văn bản"}


def _open() -> Archive:
    return Archive.open(Settings.load())


@click.group()
def main() -> None:
    """Kho lưu trữ văn bản của các đơn vị hành chính cũ."""


@main.group()
def db() -> None:
    """Cơ sở dữ liệu."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply Alembic migrations to the database of ARCHIVE_HOME."""
    archive = _open()
    console.print(f"Cơ sở dữ liệu đã cập nhật: {archive.settings.database_url}")


# -- units --------------------------------------------------------------------------------------
@main.group()
def units() -> None:
    """Đơn vị cũ và đơn vị kế thừa."""


@units.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--by", "loaded_by", default="", help="Who loads this version (recorded).")
def units_import(path: Path, loaded_by: str) -> None:
    """Load the old-to-new unit mapping CSV (contract section 6) as a new version."""
    from .services.units import UnitsFileError, import_mapping

    archive = _open()
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
    from .db.models import NewUnit, OldUnit
    from .services.scope import predecessors

    archive = _open()
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


# -- ingest -------------------------------------------------------------------------------------
@main.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--unit", "unit_code", default=None, help="Old unit code, for a package without Unit-Code.")
@click.option("--workers", type=int, default=None, help="Worker processes (default: one per core).")
@click.option("--accept-invalid-bag", is_flag=True, help="Ingest a bag whose payload does not match its manifest.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def ingest(path: Path, unit_code: str | None, workers: int | None, accept_invalid_bag: bool, as_json: bool, quiet: bool) -> None:
    """Ingest an export package (bag, folder or loose files)."""
    from ingest.pipeline import IngestOptions, ingest_package
    from ingest.report import build_report, report_paths

    archive = _open()
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn(),
        console=Console(stderr=True), disable=quiet or as_json, transient=False,
    ) as progress:
        tasks: dict[str, int] = {}
        started = datetime.now()

        def on_progress(stage: str, done: int, total: int, pages: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(STAGE_LABELS.get(stage, stage), total=total or 1, rate="")
            seconds = max((datetime.now() - started).total_seconds(), 1e-6)
            rate = f"{pages / seconds:.1f} trang/s" if stage == "extract" else ""
            progress.update(tasks[stage], completed=done, total=total or 1, rate=rate)

        package_id = ingest_package(archive, path, IngestOptions(
            unit_code=unit_code, workers=workers, accept_invalid_bag=accept_invalid_bag, progress=on_progress))
    report = build_report(archive, package_id)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        _print_report_summary(report, report_paths(archive, package_id))
    if report["package"]["status"] == "refused":
        sys.exit(2)


def _print_report_summary(report: dict, paths: tuple[Path, Path]) -> None:
    package = report["package"]
    console.print(f"Gói #{package['id']} ({package['form']}, đơn vị {package['unit_code']}): {package['status']}")
    for warning in report["warnings"]:
        console.print(f"  [yellow]! {warning}[/yellow]")
    for key, count in report["counts"].items():
        console.print(f"  {key}: {count}")
    console.print(f"  thêm mới lần này: {report['documents_added_this_run']} văn bản; "
                  f"trang có chữ {report['pages']['text']}, trang OCR {report['pages']['ocr']}")
    refused = [i for i in report["items"] if i["outcome"] == "refused"]
    for item in refused[:20]:
        console.print(f"  [red]✗ {item['kind']} {item['key']}: {item['reason']}[/red]")
    if len(refused) > 20:
        console.print(f"  ... và {len(refused) - 20} mục bị từ chối khác (xem báo cáo)")
    console.print(f"Báo cáo: {paths[1]} (JSON: {paths[0]})")


# -- accounts -----------------------------------------------------------------------------------
@main.group()
def accounts() -> None:
    """Tài khoản."""


@accounts.command("create")
@click.option("--username", required=True)
@click.option("--new-unit", "new_unit_code", default=None, help="New unit code (lookup accounts).")
@click.option("--role", type=click.Choice(["lookup", "archivist", "admin", "auditor"]), default="lookup")
@click.option("--password", default=None, help="Initial password (default: generated and printed).")
@click.option("--name", "display_name", default="")
@click.option("--email", default="")
def accounts_create(username: str, new_unit_code: str | None, role: str, password: str | None, display_name: str, email: str) -> None:
    """Create a local account; a lookup account is bound to one new unit."""
    from .services.accounts import AccountError, create_account

    archive = _open()
    try:
        with archive.db.transaction() as session:
            account, initial = create_account(session, username=username, role=role, new_unit_code=new_unit_code,
                                              password=password, display_name=display_name, email=email)
            expires = account.expires_at.strftime("%d/%m/%Y") if account.expires_at else "không"
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    console.print(f"Đã tạo tài khoản {username} ({role}{', đơn vị ' + new_unit_code if new_unit_code else ''}); "
                  f"hết hạn: {expires}")
    if password is None:
        console.print(f"Mật khẩu ban đầu: {initial}")


# -- search -------------------------------------------------------------------------------------
@main.command()
@click.argument("query", nargs=-1)
@click.option("--new-unit", "new_unit_code", default=None, help="Search as a lookup account of this new unit.")
@click.option("--unit", "units_", multiple=True, help="Filter: old unit code.")
@click.option("--type", "types", multiple=True, help="Filter: document type.")
@click.option("--direction", "directions", multiple=True, type=click.Choice(["den", "di", "noi_bo"]))
@click.option("--from", "date_from", default="", help="From date (dd/mm/yyyy).")
@click.option("--to", "date_to", default="", help="To date (dd/mm/yyyy).")
@click.option("--number", default="", help="Filter: exact number and symbol.")
@click.option("--sort", type=click.Choice(["relevance", "date_desc", "date_asc"]), default="relevance")
@click.option("--page", type=int, default=1)
@click.option("--json", "as_json", is_flag=True)
def search(query: tuple[str, ...], new_unit_code: str | None, units_, types, directions, date_from: str, date_to: str,
           number: str, sort: str, page: int, as_json: bool) -> None:
    """Search the archive with the portal's search and scoping."""
    from .services.scope import scope_for
    from .services.search import search_documents

    archive = _open()
    with archive.db.session() as session:
        scope = scope_for(session, "lookup" if new_unit_code else "admin", new_unit_code)
    params = {"q": " ".join(query), "unit": list(units_), "type": list(types), "direction": list(directions),
              "from": date_from, "to": date_to, "number": number, "sort": sort, "page": str(page)}
    result = search_documents(archive, account_scope=scope, params=params)
    if result.error:
        raise click.ClickException(result.error)
    if as_json:
        click.echo(json.dumps({
            "total": result.total, "page": result.page,
            "hits": [{"id": h.id, "ma_van_ban": h.ma_van_ban, "unit_code": h.unit_code, "number": h.number,
                      "issued_date": h.issued_date.isoformat() if h.issued_date else None,
                      "subject": h.subject, "score": round(h.score, 4)} for h in result.hits],
        }, ensure_ascii=False, indent=2))
        return
    console.print(f"{result.total} văn bản (trang {result.page}/{result.pages})")
    for hit in result.hits:
        console.print(f"[bold]#{hit.id}[/bold] {hit.number or '—'}  {hit.issued_date_display}  "
                      f"[{hit.unit_name}] {hit.subject}")


# -- demo ---------------------------------------------------------------------------------------
@main.command()
@click.option("--dest", type=click.Path(path_type=Path), default=None, help="Where to write the demo export.")
@click.option("--documents", "per_unit", type=int, default=6, help="Documents per old unit.")
def demo(dest: Path | None, per_unit: int) -> None:
    """Load the real Hưng Yên units, build a demo export, ingest it and create demo accounts."""
    from .demo import setup_demo

    archive = _open()
    setup_demo(archive, dest or archive.settings.home / "demo-export", per_unit=per_unit, console=console)


if __name__ == "__main__":  # pragma: no cover
    main()
