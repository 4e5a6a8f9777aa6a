"""Gunicorn settings read automatically from the working directory (``make run`` / ``make serve``).

Prometheus multiprocess mode: every worker writes its counters to files in
``PROMETHEUS_MULTIPROC_DIR`` (default ``$ARCHIVE_HOME/prometheus``; its ``*.db``
files are removed at start) and ``/metrics`` sums them, whichever worker answers the scrape.
"""
import os
from pathlib import Path

_home = Path(os.environ.get("ARCHIVE_HOME", "./var")).resolve()
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(_home / "prometheus"))


def on_starting(server):
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):  # counts of a previous run would otherwise be summed in
        stale.unlink()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
