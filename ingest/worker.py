"""Extraction by claims: the loop ``archive ingest`` runs for its package and ``archive worker`` for all.

The loop claims pending files (``claims``), extracts them in a pool of
processes (one single-threaded Tesseract each), saves each result with a
compare-and-set on the claim, and keeps its leases alive meanwhile.  Several
loops, in processes on one or many machines sharing the database and the
store, split the work between them: a file is extracted by one of them, and
the files of one that dies are taken over when its lease expires.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing import forkserver

from archive_core.context import Archive
from archive_core.store import BlobStore

from . import claims
from .ahead import ExtractAhead
from .claims import Claim, Saved
from .extract import Extraction, ExtractLimits
from .extract.job import extract_job, ignore_interrupts
from .extract.pool import pool_context
from .indexing import index_ready
from .ocr import OcrUnavailable
from .signature_checks import trust_fingerprint

log = logging.getLogger("ingest.worker")
POLL_SECONDS = 1.0
WINDOW_PER_PROCESS = 4  # files claimed ahead per process at least: the pool never waits while the loop saves
MAX_WINDOW_PER_PROCESS = 32  # ... and at most, when files take milliseconds (born-digital PDFs)
AHEAD_SECONDS = 2.0  # the window holds about this much work per process (files that take seconds: the minimum)
SAVE_EVERY_SECONDS = 0.5  # results wait at most this long to be saved together in one transaction


def _pool_context() -> multiprocessing.context.BaseContext:
    """Pool processes are forked from a forkserver that imported the extractors once, and do not run the
    main script again (``extract.pool``): a process starts in milliseconds, not in seconds of imports."""
    return pool_context()


def start_pool_server() -> None:
    """Start the forkserver now, so its imports happen while the package is being stored."""
    _pool_context()
    forkserver.ensure_running()


def new_pool(processes: int) -> cf.Executor:
    """The extraction pool: ``processes`` forkserver processes, started on the first job."""
    return cf.ProcessPoolExecutor(max_workers=processes, initializer=ignore_interrupts, mp_context=_pool_context())


def limits_of(archive: Archive) -> ExtractLimits:
    settings = archive.settings
    return ExtractLimits(
        ocr_languages=settings.ocr_languages,
        dpi=settings.ocr_dpi,
        max_image_pixels=settings.max_image_pixels,
        max_pages=settings.max_pdf_pages,
        max_file_bytes=settings.max_file_bytes,
    )


@dataclass
class LoopStats:
    extracted: int = 0  # files extracted here (including refusals)
    copied: int = 0  # files whose pages were copied from a twin
    lost: int = 0  # results dropped because another worker had taken the file over
    pages: int = 0
    finalized: int = 0
    indexed: int = 0
    released: int = 0
    done_ids: list[int] = field(default_factory=list)


class ExtractionLoop:
    """Claim, extract, save until there is nothing left (``package_id``) or until stopped/idle (worker)."""

    def __init__(
        self,
        archive: Archive,
        *,
        processes: int,
        worker_id: str | None = None,
        lease_seconds: float = claims.LEASE_SECONDS,
        package_id: int | None = None,
        idle_exit: float | None = None,
        poll_seconds: float = POLL_SECONDS,
        on_saved: Callable[[Claim, Saved], None] | None = None,
        on_idle: Callable[[], None] | None = None,
        on_wait: Callable[[], None] | None = None,
        ahead: ExtractAhead | None = None,
    ):
        """``ahead``: extractions started before the files were claimed (``ingest.ahead``); the loop takes
        over their pool, and shuts it down when it ends."""
        self.archive = archive
        self.processes = max(1, processes)
        self.worker_id = worker_id or claims.new_worker_id(archive.settings.worker_name)
        self.lease_seconds = lease_seconds
        self.package_id = package_id
        self.idle_exit = idle_exit
        self.poll_seconds = poll_seconds
        self.on_saved = on_saved
        self.on_idle = on_idle
        self.on_wait = on_wait
        self.stop_event = threading.Event()
        self.stats = LoopStats()
        self.store = BlobStore(archive.settings.store_dir)
        self.limits = limits_of(archive)
        # PDFs the pool finds surely unsigned get their verdict when saved (None: the check before indexing does it)
        self.trust_fingerprint = trust_fingerprint(archive)
        self.ahead = ahead
        self._pool: cf.Executor | None = ahead.executor if ahead is not None else None
        self._from_ahead: set[cf.Future] = set()
        self._pools: dict[cf.Future, cf.Executor] = {}  # the pool each running file is in
        self._seconds_per_file: float | None = None  # how long one file takes one process, lately
        self._last_finished: float | None = None

    def stop(self) -> None:
        """Finish the files being extracted, claim no more (safe from a signal handler)."""
        self.stop_event.set()

    # -- the pool -----------------------------------------------------------------------------
    def _executor(self) -> cf.Executor:
        if self._pool is None:
            if self.processes == 1:  # one file at a time in this process (a thread, so the loop stays the same)
                self._pool = cf.ThreadPoolExecutor(max_workers=1)
            else:
                self._pool = new_pool(self.processes)
        return self._pool

    def _shutdown_pool(self) -> None:
        """Nothing is running any more: the processes end on their own while the run goes on."""
        if self.ahead is not None:
            self.ahead.close()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    # -- the loop -----------------------------------------------------------------------------
    def _window(self) -> int:
        """Files to hold claimed: about ``AHEAD_SECONDS`` of work per process, within the bounds."""
        per_file = self._seconds_per_file
        ahead = WINDOW_PER_PROCESS if per_file is None else int(AHEAD_SECONDS / max(per_file, 1e-3))
        return self.processes * min(MAX_WINDOW_PER_PROCESS, max(WINDOW_PER_PROCESS, ahead))

    def _finished_one(self) -> None:
        """A file came back from the pool: follow how long a file takes one process (moving average)."""
        now = time.monotonic()
        if self._last_finished is not None:
            seconds = (now - self._last_finished) * self.processes
            old = self._seconds_per_file
            self._seconds_per_file = seconds if old is None else 0.8 * old + 0.2 * seconds
        self._last_finished = now

    def run(self) -> LoopStats:
        running: dict[cf.Future, Claim] = {}
        unsaved: list[tuple[Claim, claims.Result]] = []  # finished, to be saved together
        unsaved_since = 0.0
        idle_since = time.monotonic()
        db = self.archive.db
        try:
            with claims.Heartbeat(db, self.worker_id, self.lease_seconds):
                while True:
                    claimed = 0
                    window = self._window()
                    # claim again when half the window is done: claims go in batches, not one file at a time
                    if not self.stop_event.is_set() and len(running) + len(unsaved) <= window // 2:
                        batch = claims.claim_files(
                            db,
                            self.worker_id,
                            window - len(running) - len(unsaved),
                            lease_seconds=self.lease_seconds,
                            package_id=self.package_id,
                        )
                        twins = claims.extracted_twins(db, batch)  # one query for the batch, not one per file
                        for claim in batch:
                            claimed += 1
                            copied = (
                                claims.copy_known_extraction(db, self.worker_id, claim, store=self.store)
                                if claim.sha256 in twins
                                else None
                            )
                            if copied is not None:
                                self._saved(claim, copied)
                            else:
                                running[self._start(claim)] = claim
                    if running and self.stop_event.is_set():  # stopping: files not started go back at once
                        for future in [f for f in running if f.cancel()]:
                            self.stats.released += claims.release(db, self.worker_id, [running.pop(future).file_id])
                    if running or unsaved:
                        idle_since = time.monotonic()
                        finished: set[cf.Future] = set()
                        if running:
                            finished, _ = cf.wait(
                                running,
                                timeout=min(self.poll_seconds, SAVE_EVERY_SECONDS),
                                return_when=cf.FIRST_COMPLETED,
                            )
                        for future in finished:
                            claim = running.pop(future)
                            if self._broken_ahead(future):  # the pool broke under it: read it again
                                running[self._submit(str(self.store.path(claim.sha256)), claim.metadata)] = claim
                                continue
                            result = self._result(future)
                            self._finished_one()
                            if result is None:  # stopping: the file goes back to the queue
                                self.stats.released += claims.release(db, self.worker_id, [claim.file_id])
                                continue
                            if not unsaved:
                                unsaved_since = time.monotonic()
                            unsaved.append((claim, result))
                        if unsaved and (
                            not running
                            or len(unsaved) >= max(self.processes * WINDOW_PER_PROCESS, window // 2)
                            or self.stop_event.is_set()
                            or time.monotonic() - unsaved_since >= SAVE_EVERY_SECONDS
                        ):  # what finished meanwhile is saved in one transaction
                            saved = claims.save_extractions(
                                db, self.worker_id, unsaved, store=self.store, trust_fingerprint=self.trust_fingerprint
                            )
                            for (claim, _result), outcome in zip(unsaved, saved, strict=True):
                                self._saved(claim, outcome)
                            unsaved = []
                        continue
                    if claimed:
                        idle_since = time.monotonic()
                        continue
                    if self.ahead is not None:  # nothing left to claim: what is still ahead, no claim will take
                        self.ahead.close()
                    if self.stop_event.is_set():
                        break
                    if self.package_id is not None and claims.pending_count(db, self.package_id) == 0:
                        break
                    if self.on_idle is not None:
                        self.on_idle()
                    if self.package_id is not None and self.on_wait is not None:
                        self.on_wait()  # the rest is being extracted by other workers
                    if self.idle_exit is not None and time.monotonic() - idle_since >= self.idle_exit:
                        break
                    self.stop_event.wait(self.poll_seconds)
        finally:
            for future in running:
                future.cancel()
            self._shutdown_pool()
            self.stats.released += claims.release(self.archive.db, self.worker_id)
        return self.stats

    def _start(self, claim: Claim) -> cf.Future:
        """The claimed file's extraction: the one started ahead for its bytes, or a new one."""
        ahead = self.ahead
        future = ahead.take(claim.sha256) if ahead is not None and claim.sha256 else None
        if ahead is None or future is None or future.cancelled():
            return self._submit(str(self.store.path(claim.sha256)), claim.metadata)
        self._from_ahead.add(future)
        self._pools[future] = ahead.executor
        return future

    def _broken_ahead(self, future: cf.Future) -> bool:
        """A file started ahead whose pool broke (a process died on some other file) is not refused for it."""
        if future not in self._from_ahead:
            return False
        self._from_ahead.discard(future)
        broken = not future.cancelled() and isinstance(future.exception(), cf.BrokenExecutor)
        if broken and not self.stop_event.is_set():
            self._drop_broken(self._pools.pop(future, None))
            return True
        return False

    def _drop_broken(self, pool: cf.Executor | None) -> None:
        """The pool a file broke in is shut down if it is still the current one (not a fresh one started since)."""
        if pool is not None and pool is self._pool:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None  # the next submit starts a fresh pool

    def _submit(self, path: str, metadata: bool = True) -> cf.Future:
        pool = self._executor()
        try:
            future = pool.submit(extract_job, path, self.limits, metadata)
        except cf.BrokenExecutor:  # a pool process died: start a fresh pool
            self._drop_broken(pool)
            pool = self._executor()
            future = pool.submit(extract_job, path, self.limits, metadata)
        self._pools[future] = pool
        return future

    def _result(self, future: cf.Future) -> Extraction | str | None:
        pool = self._pools.pop(future, None)
        try:
            return future.result()
        except OcrUnavailable:
            raise
        except Exception as error:
            if self.stop_event.is_set():
                return None
            if isinstance(error, cf.BrokenExecutor):  # a file of an older, broken pool leaves a fresh one be
                self._drop_broken(pool)
            return f"Tiến trình đọc tệp bị dừng bất thường: {error}"

    def _saved(self, claim: Claim, saved: Saved) -> None:
        stats = self.stats
        if not saved.saved:
            stats.lost += 1
            log.warning("tệp #%s: đã được tiến trình khác nhận lại, bỏ kết quả (%s)", claim.file_id, self.worker_id)
        else:
            if saved.copied:
                stats.copied += 1
            else:
                stats.extracted += 1
            stats.pages += saved.pages
            stats.finalized += int(saved.finalized)
            stats.done_ids.append(claim.file_id)
        if self.on_saved is not None:
            self.on_saved(claim, saved)


class Worker:
    """``archive worker``: extract pending files of every package, finish and index their documents."""

    INDEX_EVERY_SECONDS = 10.0

    def __init__(
        self,
        archive: Archive,
        *,
        processes: int,
        lease_seconds: float = claims.LEASE_SECONDS,
        idle_exit: float | None = None,
        poll_seconds: float = POLL_SECONDS,
        report: Callable[[str], None] | None = None,
    ):
        self.archive = archive
        self.report = report or (lambda line: None)
        self.loop = ExtractionLoop(
            archive,
            processes=processes,
            lease_seconds=lease_seconds,
            idle_exit=idle_exit,
            poll_seconds=poll_seconds,
            on_saved=self._on_saved,
            on_idle=self._on_idle,
        )
        self._finalized_since_index = 0
        self._last_index = time.monotonic()

    @property
    def worker_id(self) -> str:
        return self.loop.worker_id

    def stop(self) -> None:
        self.loop.stop()

    def run(self) -> LoopStats:
        self.report(
            f"worker {self.worker_id}: bắt đầu ({self.loop.processes} tiến trình, "
            f"thời hạn nhận việc {self.loop.lease_seconds:g} s)"
        )
        try:
            self.loop.run()
        finally:
            claims.finalize_documents_without_pending(self.archive.db, store=self.loop.store)
            self.loop.stats.indexed += index_ready(self.archive)
        stats = self.loop.stats
        self.report(
            f"worker {self.worker_id}: dừng; trích xuất {stats.extracted} tệp, sao chép {stats.copied}, "
            f"{stats.pages} trang, {stats.finalized} văn bản xong, {stats.indexed} đánh chỉ mục, "
            f"trả lại {stats.released}"
        )
        return stats

    def _on_saved(self, claim: Claim, saved: Saved) -> None:
        if saved.saved:
            how = "sao chép" if saved.copied else "trích xuất"
            self.report(f"tệp #{claim.file_id}: {how} {saved.status}, {saved.pages} trang ({self.worker_id})")
            self._finalized_since_index += int(saved.finalized)
        else:
            self.report(f"tệp #{claim.file_id}: tiến trình khác đã nhận lại, bỏ kết quả ({self.worker_id})")
        if self._finalized_since_index and time.monotonic() - self._last_index >= self.INDEX_EVERY_SECONDS:
            self._index()

    def _on_idle(self) -> None:
        claims.finalize_documents_without_pending(self.archive.db, store=self.loop.store)
        self._index()

    def _index(self) -> None:
        # a periodic turn: skipped while another worker of this machine indexes (the last one, at exit, waits)
        self.loop.stats.indexed += index_ready(self.archive, wait=False)
        self._finalized_since_index = 0
        self._last_index = time.monotonic()
