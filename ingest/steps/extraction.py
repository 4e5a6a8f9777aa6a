"""Extract the package's pending files here (with whoever else works on it), or follow ``archive worker``s."""

from __future__ import annotations

import time

from .. import claims
from ..ahead import AHEAD_PER_PROCESS, ExtractAhead
from ..indexing import index_ready
from ..worker import ExtractionLoop, limits_of, new_pool, start_pool_server
from .run import IngestRun

WAIT_POLL_SECONDS = 2.0
INDEX_EVERY_DOCUMENTS = 200  # finished documents indexed during the extraction, in batches of this many at least
# ... and not more often than this: each turn is one engine commit (Tantivy: a writer taken, a segment
# flushed, its merges waited for), so a long run's documents become searchable every 10 s or so, a
# short run's at its end, with a handful of commits instead of one per 200 documents.
INDEX_EVERY_SECONDS = 10.0


def start_ahead(run: IngestRun, processes: int) -> None:
    """Start the pool's process server now (its imports overlap with storing the package), and have its
    pool read the stored originals as they come (``ingest.ahead``)."""
    if processes > 1:
        start_pool_server()
        run.ahead = ExtractAhead(new_pool(processes), limits_of(run.archive), AHEAD_PER_PROCESS * processes)


def stop_ahead(run: IngestRun) -> None:
    """The pool of a run that ends before its extraction loop took it over (which shuts it down itself)."""
    if run.ahead is not None:
        run.ahead.close()
        run.ahead.executor.shutdown(wait=False, cancel_futures=True)
        run.ahead = None


def extract_pending(run: IngestRun, *, processes: int, lease_seconds: float) -> None:
    """Claim this package's pending files and extract them in ``processes`` processes."""
    db = run.archive.db
    claims.finalize_documents_without_pending(db, run.package_id, store=run.store)
    total = claims.pending_count(db, run.package_id)
    done = 0
    run.progress("extract", 0, total)

    finalized = 0
    last_index = time.monotonic()

    def on_saved(_claim: claims.Claim, saved: claims.Saved) -> None:
        nonlocal done, finalized, last_index
        run.state.pages_done += saved.pages if saved.saved and not saved.copied else 0
        done += 1
        finalized += int(saved.finalized)
        run.progress("extract", done, max(total, done))
        if finalized >= INDEX_EVERY_DOCUMENTS and time.monotonic() - last_index >= INDEX_EVERY_SECONDS:
            # index what is finished while the pool reads on (it holds a window of files claimed ahead)
            index_ready(run.archive, run.package_id, wait=False)  # the run's last turn, after the extraction, waits
            finalized, last_index = 0, time.monotonic()

    def on_wait() -> None:  # files claimed by other processes: show their progress too
        run.progress("extract", max(done, total - claims.pending_count(db, run.package_id)), total)

    ExtractionLoop(
        run.archive,
        processes=processes,
        lease_seconds=lease_seconds,
        package_id=run.package_id,
        on_saved=on_saved,
        on_wait=on_wait,
        ahead=run.ahead,
    ).run()
    run.progress("extract", total, total)


def wait_for_workers(run: IngestRun) -> None:
    """``--workers 0``: the files are extracted by ``archive worker`` processes; follow their progress."""
    db = run.archive.db
    claims.finalize_documents_without_pending(db, run.package_id, store=run.store)
    total = claims.pending_count(db, run.package_id)
    remaining = total
    while True:
        run.progress("extract", total - remaining, total)
        if remaining == 0:
            break
        time.sleep(WAIT_POLL_SECONDS)
        remaining = claims.pending_count(db, run.package_id)
    claims.finalize_documents_without_pending(db, run.package_id, store=run.store)
