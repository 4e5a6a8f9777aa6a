"""Gunicorn settings read automatically from the working directory (``make run`` / ``make serve``).

Workers and threads (``GUNICORN_WORKERS``, ``GUNICORN_THREADS`` override; command-line flags too):

* ``gthread`` workers, one per core by default (2 on the 2-core reference machine).  A search is
  mostly Python (parsing, hydrating, rendering the page) under the GIL, so only processes run
  it on both cores at once; a worker per core keeps both busy without the context switches
  and the extra memory (own engine readers, own caches) of more.
* 4 threads per worker: while one thread waits on SQLite, the engine (Tantivy searches in
  Rust) or a client reading a download, another runs Python; more threads only queue on the
  GIL and stretch the tail of every request.
* ``keepalive`` 75 s: a gthread worker parks an idle keep-alive connection in its poller (no
  thread is held), so a long keep-alive costs a socket, not a worker.  Gunicorn's 2 s default
  closed connections that clients (locust; a reverse proxy keeps upstream connections up to
  60 s, nginx's ``keepalive_timeout``) were about to reuse: the request then met a reset socket
  (ConnectionResetError).  The server must keep an idle connection longer than any client, so
  that the client is always the one to close it.
* ``timeout`` 60 s: a worker stuck longer is restarted (a search is bounded well below that by
  ``ARCHIVE_SEARCH_TIMEOUT_MS``); no ``max_requests`` recycling, which would hide a leak the
  soak of ``make bench-load`` is there to show.

Prometheus multiprocess mode: every worker writes its counters to files in
``PROMETHEUS_MULTIPROC_DIR`` (default ``$ARCHIVE_HOME/prometheus``; its ``*.db``
files are removed at start) and ``/metrics`` sums them, whichever worker answers the scrape.
"""
import os
from pathlib import Path

_home = Path(os.environ.get("ARCHIVE_HOME", "./var")).resolve()
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(_home / "prometheus"))

worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS") or os.cpu_count() or 2)
threads = int(os.environ.get("GUNICORN_THREADS") or 4)
keepalive = 75
timeout = 60
graceful_timeout = 30


def on_starting(server):
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):  # counts of a previous run would otherwise be summed in
        stale.unlink()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
