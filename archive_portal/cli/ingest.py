"""Ingest commands."""

from __future__ import annotations

import os
import sys
from datetime import datetime
from itertools import islice
from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from . import console, main, open_archive

STAGE_LABELS = {"store": "Lưu bản gốc", "rows": "Đọc bảng kê", "extract": "Trích xuất văn bản"}


# -- ingest -------------------------------------------------------------------------------------
@main.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--unit", "unit_code", default=None, help="Old unit code, for a package without Unit-Code.")
@click.option(
    "--workers",
    type=int,
    default=None,
    help="Worker processes (default: one per core); 0: only register, `archive worker`s extract.",
)
@click.option(
    "--lease",
    type=float,
    default=600.0,
    show_default=True,
    metavar="SECONDS",
    help="How long a claimed file stays this run's without renewal (shared database).",
)
@click.option("--accept-invalid-bag", is_flag=True, help="Ingest a bag whose payload does not match its manifest.")
@click.option(
    "--allow-unknown-unit",
    is_flag=True,
    help="Ingest a package whose Unit-Code the loaded units do not know (with a warning).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def ingest(
    path: Path,
    unit_code: str | None,
    workers: int | None,
    lease: float,
    accept_invalid_bag: bool,
    allow_unknown_unit: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Ingest an export package (bag, folder or loose files)."""
    from ingest.pipeline import IngestOptions, ingest_with_report
    from ingest.report import report_paths, write_json

    archive = open_archive()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=quiet or as_json,
        transient=False,
    ) as progress:
        tasks: dict[str, TaskID] = {}
        started = datetime.now()

        def on_progress(stage: str, done: int, total: int, pages: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(STAGE_LABELS.get(stage, stage), total=total or 1, rate="")
            seconds = max((datetime.now() - started).total_seconds(), 1e-6)
            rate = f"{pages / seconds:.1f} trang/s" if stage == "extract" else ""
            progress.update(tasks[stage], completed=done, total=total or 1, rate=rate)

        ingested = ingest_with_report(
            archive,
            path,
            IngestOptions(
                unit_code=unit_code,
                workers=workers,
                accept_invalid_bag=accept_invalid_bag,
                progress=on_progress,
                lease_seconds=lease,
                allow_unknown_unit=allow_unknown_unit,
            ),
        )
    package_id, report = ingested.package_id, ingested.report
    from ..services.audit import record

    record(
        archive,
        "ingest",
        username=os.environ.get("SUDO_USER") or os.environ.get("USER", ""),
        client="cli",
        target=f"goi:{package_id}",
        details={"path": str(path), "status": report["package"]["status"], "unit_code": report["package"]["unit_code"]},
    )
    for document_id, why in ingested.raised.items():  # a re-export raised its secrecy: withheld, audited
        record(
            archive,
            "document_withhold",
            username=os.environ.get("SUDO_USER") or os.environ.get("USER", ""),
            client="cli",
            target=f"van-ban:{document_id}",
            details={"reason": why, "package_id": package_id},
        )
    if as_json:  # written as it is read, as the report file is (its items are not held whole)
        write_json(report, _Echo())
        click.echo()
    else:
        _print_report_summary(report, report_paths(archive, package_id))
    if report["package"]["status"] == "refused":
        sys.exit(2)


class _Echo:
    """Standard output as a file to write to (through click, which a test's runner captures)."""

    def write(self, text: str) -> None:
        click.echo(text, nl=False)


def _print_report_summary(report: dict, paths: tuple[Path, Path]) -> None:
    package = report["package"]
    console.print(f"Gói #{package['id']} ({package['form']}, đơn vị {package['unit_code']}): {package['status']}")
    for warning in report["warnings"]:
        console.print(f"  [yellow]! {warning}[/yellow]")
    for key, count in report["counts"].items():
        console.print(f"  {key}: {count}")
    console.print(
        f"  thêm mới lần này: {report['documents_added_this_run']} văn bản; "
        f"trang có chữ {report['pages']['text']}, trang OCR {report['pages']['ocr']}"
    )
    refused = sum(n for key, n in report["counts"].items() if key.endswith(":refused"))
    for item in islice((i for i in report["items"] if i["outcome"] == "refused"), 20 if refused else 0):
        console.print(f"  [red]✗ {item['kind']} {item['key']}: {item['reason']}[/red]")
    if refused > 20:
        console.print(f"  ... và {refused - 20} mục bị từ chối khác (xem báo cáo)")
    console.print(f"Báo cáo: {paths[1]} (JSON: {paths[0]})")
