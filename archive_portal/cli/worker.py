"""``archive worker``: extraction for every package, on any machine that shares the database and the store."""

from __future__ import annotations

import signal
import sys

import click

from . import main, open_archive


@main.command()
@click.option(
    "--workers", type=int, default=None, help="Extraction processes (default: ARCHIVE_WORKERS, or one per core)."
)
@click.option(
    "--idle-exit",
    type=float,
    default=None,
    metavar="SECONDS",
    help="Stop after this long with nothing to do (default: run until stopped).",
)
@click.option(
    "--lease",
    type=float,
    default=600.0,
    show_default=True,
    metavar="SECONDS",
    help="How long a claimed file stays this worker's without renewal; a dead worker's files are taken over after it.",
)
def worker(workers: int | None, idle_exit: float | None, lease: float) -> None:
    """Claim pending files of any package, extract them, finish and index their documents.

    SIGTERM or Ctrl-C: the files being read are finished and saved, nothing new is claimed."""
    from ingest.worker import Worker

    archive = open_archive()
    processes = workers if workers and workers > 0 else archive.settings.effective_workers()

    def report(line: str) -> None:
        click.echo(line)
        sys.stdout.flush()

    runner = Worker(archive, processes=processes, lease_seconds=lease, idle_exit=idle_exit, report=report)

    def stop(signum, _frame) -> None:
        report(
            f"worker {runner.worker_id}: nhận tín hiệu {signal.Signals(signum).name}, hoàn tất tệp đang đọc rồi dừng"
        )
        runner.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        runner.run()
    finally:
        archive.close()
