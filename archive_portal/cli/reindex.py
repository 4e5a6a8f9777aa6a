"""The reindex command: rebuild the search index from the database, then switch to it."""

from __future__ import annotations

import click

from . import console, main, open_archive


@main.command()
@click.option(
    "--engine",
    "engine_name",
    type=click.Choice(["sqlite", "tantivy", "opensearch", "elasticsearch"]),
    default=None,
    help="The engine to rebuild (default: ARCHIVE_INDEX_ENGINE).",
)
def reindex(engine_name: str | None) -> None:
    """Rebuild the index into a new one (no OCR again); searches keep working until it switches."""
    from archive_ops.reindex import reindex as run_reindex

    archive = open_archive()

    def progress(done: int, total: int) -> None:
        console.print(f"  {done}/{total} văn bản")

    report = run_reindex(archive, engine_name, progress=progress)
    console.print(
        f"Đã dựng lại chỉ mục {report.engine}: {report.documents} văn bản trong {report.seconds} giây"
        f" (bổ sung sau khi chuyển: {report.caught_up}, gỡ bỏ: {report.removed})."
    )
