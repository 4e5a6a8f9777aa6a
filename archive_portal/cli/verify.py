"""The verify command: fixity of the originals and agreement of database, store and index (cron-friendly)."""

from __future__ import annotations

import json
import sys

import click
from rich.console import Console

from . import console, main, open_archive


def _say(text: str) -> None:
    console.print(text, soft_wrap=True, highlight=False)


PROBLEM_LABELS = {
    "hash_mismatch": "Bản gốc bị thay đổi / altered original",
    "size_mismatch": "Sai kích thước / wrong size",
    "missing_file": "Văn bản thiếu tệp / document without its file",
    "stray_file": "Tệp không thuộc văn bản nào / file without its document",
    "manifest_mismatch": "Khác manifest BagIt / differs from the bag manifest",
    "index_missing": "Thiếu trong chỉ mục / missing from the index",
    "index_extra": "Thừa trong chỉ mục / extra in the index",
    "unit_count": "Số văn bản theo đơn vị lệch / per-unit count differs",
    "index_unreachable": "Không truy cập được chỉ mục / index unreachable",
    "signature_invalid": "Chữ ký số không còn hợp lệ / signature no longer valid",
    "program_missing": "Thiếu chương trình / program missing",
}


@main.command("verify")
@click.option("--quick", is_flag=True, help="Check presence and sizes only, do not re-hash the originals.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--workers", type=click.IntRange(min=1), default=2, help="Hashing threads.")
@click.option("--quiet", is_flag=True, help="No progress on stderr.")
def verify_command(quick: bool, as_json: bool, workers: int, quiet: bool) -> None:
    """Re-hash every original, check database, store and index agree; exit 1 on any problem."""
    from archive_ops.verify import verify

    archive = open_archive()
    err = Console(stderr=True)
    progress = (lambda _m: None) if quiet or as_json else (lambda m: err.print(f"[dim]… {m}[/dim]"))
    try:
        report = verify(archive, quick=quick, workers=workers, progress=progress)
    finally:
        archive.close()
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        _print(report)
    sys.exit(0 if report.ok else 1)


def _print(report) -> None:
    c = report.counts
    seconds = (report.finished_at - report.started_at).total_seconds()
    mode = "nhanh (không băm lại) / quick (no re-hash)" if report.quick else "đầy đủ / full"
    _say(f"Kiểm tra toàn vẹn / verification #{report.run_id} — {mode}, {seconds:.1f} s")
    _say(
        f"  bản gốc / originals: {c.get('originals', 0)} ({c.get('bytes', 0):,} byte, "
        f"đã băm lại / re-hashed {c.get('bytes_hashed', 0):,} byte)"
    )
    _say(
        f"  so với manifest BagIt / checked against bag manifests: {c.get('files_checked_against_manifest', 0)} tệp; "
        f"gói không còn bản gốc / bags gone: {c.get('packages_bag_gone', 0)}"
    )
    _say(
        f"  văn bản / documents: {c.get('documents', 0)}; chỉ mục / index: {c.get('documents_indexed_engine', 0)} "
        f"(cơ sở dữ liệu cần / database expects {c.get('documents_indexed_db', 0)}), "
        f"{c.get('units_checked', 0)} đơn vị / units"
    )
    if not report.quick:
        _say(
            f"  chữ ký số / digital signatures: {c.get('signed_files_checked', 0)} tệp có chữ ký / signed files, "
            f"{c.get('signed_files_valid', 0)} hợp lệ / valid, {c.get('unsigned_pdfs_checked', 0)} PDF không ký / "
            f"unsigned PDFs; kết luận thay đổi / verdicts changed: {c.get('signature_verdicts_changed', 0)} văn bản"
        )
    for note in report.notes:
        _say(f"  [dim]ghi chú / note: {note}[/dim]")
    if report.ok:
        _say("[green]KẾT QUẢ / RESULT: tốt / OK[/green]")
        return
    _say(f"[red]KẾT QUẢ / RESULT: {len(report.problems)} vấn đề / problems[/red]")
    for problem in report.problems:
        docs = f" (văn bản / documents {', '.join(f'#{d}' for d in problem.documents)})" if problem.documents else ""
        _say(
            f"  [red]✗[/red] {PROBLEM_LABELS.get(problem.kind, problem.kind)}: {problem.target} — "
            f"{problem.message}{docs}"
        )
