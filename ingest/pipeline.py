"""Ingest one export package: the order of the steps (``ingest.steps``), nothing else.

1. open the package (``packages``) and find or create its ``Package`` record;
2. store every payload file by SHA-256 and look at each once (``steps.store_originals``, ``steps.inspect``);
3. register every manifest row as a ``Document`` with its ``DocumentFile``s,
   and every file no row references as a document of its own (``steps.register``);
4. extract text from pending files in worker processes (``steps.extraction``; OCR inside),
   fill empty metadata from the text as each document completes (``finalize``); the pool
   starts on the stored originals during steps 2-3 already (``ahead``);
5. index ready documents (``indexing``);
6. write the outcome of every row and file (``steps.outcomes``) and the report (``report``).

A killed run leaves committed documents, files and pages behind; running the
same command again skips what is done and finishes the rest.

Extraction goes through claims (``claims``, ``worker``): two runs on the same
package, or ``archive worker`` processes on other machines sharing the
database and the store, split the files between them.  With ``workers=0`` this
run only registers the package and waits while workers elsewhere extract.
Registration is safe against a second run of the same package at the same
time (one package record, one document per key, one blob per SHA-256).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from archive_core.context import Archive
from archive_core.store import BlobStore

from . import claims, unzip
from .indexing import index_ready
from .packages import PackageContents, PackageRefused, open_package
from .provenance import check_unit
from .report import write_report
from .steps.dossiers import register_package_dossiers
from .steps.extraction import extract_pending, start_ahead, stop_ahead, wait_for_workers
from .steps.outcomes import record_outcomes
from .steps.package_record import find_or_create_package, record_refused_package
from .steps.register import register_rows, register_unreferenced_files
from .steps.run import IngestRun, Progress
from .steps.store_originals import keep_package_manifests, store_payload


@dataclass
class IngestOptions:
    unit_code: str | None = None
    workers: int | None = None  # None: one per core; 0: extract nothing here, wait for `archive worker`s
    lease_seconds: float = claims.LEASE_SECONDS
    accept_invalid_bag: bool = False
    allow_unknown_unit: bool = False  # a Unit-Code the loaded units do not know goes in with a warning
    progress: Progress | None = None  # (stage, done, total, pages)


@dataclass(frozen=True)
class Ingested:
    package_id: int
    report: dict  # as ``report.report_of`` gives it (items read again when iterated), and as written to its files
    raised: dict[int, str] = field(default_factory=dict)  # documents a re-export withheld (id -> why), to audit


def ingest_package(archive: Archive, path: Path, options: IngestOptions | None = None) -> int:
    """Ingest ``path``; return the id of its Package record (see ``report`` for the outcome)."""
    return ingest_with_report(archive, path, options).package_id


def ingest_with_report(archive: Archive, path: Path, options: IngestOptions | None = None) -> Ingested:
    """Ingest ``path``; return its Package id and its report (written to ``report.report_paths``)."""
    options = options or IngestOptions()
    workers = options.workers if options.workers is not None else archive.settings.effective_workers()
    try:
        contents = open_package(
            Path(path),
            unit_code=options.unit_code,
            accept_invalid_bag=options.accept_invalid_bag,
            workers=max(1, workers),
            scratch_dir=archive.settings.scratch_dir,
        )
        _check_unit(archive, contents, options)
    except PackageRefused as refusal:
        package_id = record_refused_package(archive, Path(path), refusal, options.unit_code)
        return Ingested(package_id, write_report(archive, package_id))
    run = _run_steps(archive, contents, max(0, workers), options)
    report = write_report(archive, run.package_id)
    if contents.scratch is not None:  # every original is in the store now
        unzip.remove(contents.scratch)
    return Ingested(run.package_id, report, {i: why for i, why in run.state.raised.values()})


def _check_unit(archive: Archive, contents: PackageContents, options: IngestOptions) -> None:
    try:
        check_unit(archive, contents, allow_unknown=options.allow_unknown_unit)
    except PackageRefused:
        if contents.scratch is not None:
            unzip.remove(contents.scratch)
        raise


def _run_steps(archive: Archive, contents: PackageContents, workers: int, options: IngestOptions) -> IngestRun:
    run = IngestRun(
        archive,
        contents,
        find_or_create_package(archive, contents),
        BlobStore(archive.settings.store_dir),
        on_progress=options.progress,
    )
    start_ahead(run, workers)  # the pool reads stored originals while the rest are stored and registered
    try:
        run.store.clean_incoming()
        keep_package_manifests(run)
        store_payload(run)
        register_rows(run)
        register_unreferenced_files(run)
        register_package_dossiers(run)  # ho_so.* and ma_ho_so: dossiers, order, inherited access (contract 3a)
        if workers:
            extract_pending(run, processes=workers, lease_seconds=options.lease_seconds)
        else:  # registration only, extraction by `archive worker`s elsewhere
            wait_for_workers(run)
    finally:
        stop_ahead(run)
    index_ready(archive, run.package_id)
    record_outcomes(run)
    return run
