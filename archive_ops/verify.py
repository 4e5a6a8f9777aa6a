"""Fixity and consistency: is every original intact, and do database, store and index agree?

``verify(archive)`` re-hashes every stored original against its ``Blob`` row
and against the BagIt manifest it arrived with (when the bag is still where it
was ingested from; otherwise against the hash recorded when the manifest was
checked at ingest), then checks that

* every ``DocumentFile`` that names an original finds it in the store;
* every object in the store is an original the database knows (``.incoming/``,
  the store's temporary directory, is ignored);
* the index holds exactly the documents the database says are indexed and not
  withheld, and holds as many of each unit as the database.

Ingest may run meanwhile: what looks wrong because a write was half-way (a
stored file whose row is not committed yet, a document indexed a moment before
its ``indexed_at``) is read again at the end before being called a problem.
Each run is recorded as a ``VerificationRun``.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import re
import zipfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from archive_core import programs
from archive_core.clock import utcnow
from archive_core.context import Archive
from archive_core.db.models import Blob, Document, DocumentFile, IngestItem, Package, VerificationRun
from archive_core.store import CHUNK, blob_path
from indexes.base import SearchUnavailable
from ingest.indexing import index_document
from ingest.signature_checks import check_unchecked, recheck_all
from ingest.signatures import STATUS_LABELS, UNSIGNED, VALID

SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_RECORDED_PROBLEMS = 500

Progress = Callable[[str], None]


@dataclass
class Problem:
    kind: str  # signature_invalid | hash_mismatch | size_mismatch | missing_file | stray_file | manifest_mismatch | index_missing | index_extra | unit_count | index_unreachable | program_missing
    target: str
    message: str
    documents: list[int] = field(default_factory=list)


@dataclass
class VerificationReport:
    started_at: datetime
    finished_at: datetime | None = None
    quick: bool = False
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    run_id: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, kind: str, target: str, message: str, documents: list[int] | None = None) -> None:
        self.problems.append(Problem(kind, target, message, sorted(documents or [])))

    def as_dict(self) -> dict:
        return {
            "run_id": self.run_id,
            "ok": self.ok,
            "quick": self.quick,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "counts": dict(self.counts),
            "problems": [asdict(p) for p in self.problems],
            "notes": self.notes,
        }


def hash_file(path: Path, algorithms: tuple[str, ...] = ("sha256",)) -> tuple[dict[str, str], int]:
    digests = {name: hashlib.new(name) for name in algorithms}
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            size += len(chunk)
            for digest in digests.values():
                digest.update(chunk)
    return {name: d.hexdigest() for name, d in digests.items()}, size


# -- the originals ----------------------------------------------------------------------------
def _documents_of(archive: Archive, shas: set[str]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = defaultdict(list)
    if not shas:
        return found
    with archive.db.session() as session:
        for sha, doc_id in session.execute(
            select(DocumentFile.blob_sha256, DocumentFile.document_id).where(DocumentFile.blob_sha256.in_(shas))
        ):
            if sha is not None:
                found[sha].append(doc_id)
    return found


def _check_blobs(archive: Archive, report: VerificationReport, workers: int, progress: Progress) -> set[str]:
    """Existence, size and (unless quick) SHA-256 of every Blob; returns the known hashes."""
    store = archive.settings.store_dir
    with archive.db.session() as session:
        blobs = list(session.execute(select(Blob.sha256, Blob.size)))
    report.counts["originals"] = len(blobs)
    bad: dict[str, tuple[str, str]] = {}

    def check(sha: str, size: int) -> tuple[str, str, str] | None:
        path = blob_path(store, sha)
        try:
            actual_size = path.stat().st_size
        except FileNotFoundError:
            return sha, "missing_file", "Thiếu bản gốc trong kho / original missing from the store"
        if actual_size != size:
            return sha, "size_mismatch", f"Kích thước sai / wrong size: {actual_size} ≠ {size} byte"
        if not report.quick:
            digests, _ = hash_file(path)
            if digests["sha256"] != sha:
                return sha, "hash_mismatch", f"Bản gốc bị thay đổi / original altered: SHA-256 {digests['sha256']}"
        return None

    with cf.ThreadPoolExecutor(max_workers=max(1, workers)) as pool:  # hashlib releases the GIL
        for done, outcome in enumerate(pool.map(lambda b: check(*b), blobs), start=1):
            if outcome:
                bad[outcome[0]] = outcome[1:]
            if done % 1000 == 0:
                progress(f"bản gốc / originals {done}/{len(blobs)}")
    report.counts["bytes"] = sum(size for _, size in blobs)
    report.counts["bytes_hashed"] = 0 if report.quick else report.counts["bytes"]
    owners = _documents_of(archive, set(bad))
    for sha, (kind, message) in sorted(bad.items()):
        report.add(kind, sha, message, owners.get(sha))
    with archive.db.session() as session:
        orphans = list(
            session.execute(
                select(DocumentFile.blob_sha256, DocumentFile.document_id)
                .outerjoin(Blob, Blob.sha256 == DocumentFile.blob_sha256)
                .where(DocumentFile.blob_sha256.is_not(None), Blob.sha256.is_(None))
            )
        )
    for orphan_sha, doc_id in orphans:
        report.add(
            "missing_file",
            orphan_sha or "",
            "Tệp của văn bản không có trong cơ sở dữ liệu kho / file row names an unknown original",
            [doc_id],
        )
    return {sha for sha, _ in blobs}


def _check_stray(archive: Archive, report: VerificationReport, known: set[str]) -> None:
    """Objects of the store no Blob row names (the store's ``.incoming/`` is ignored)."""
    store = archive.settings.store_dir
    candidates: list[str] = []
    if store.is_dir():
        for path in store.rglob("*"):
            rel = path.relative_to(store)
            if rel.parts[0] == ".incoming" or path.is_dir():
                continue
            name = path.name
            well_placed = (
                len(rel.parts) == 3 and SHA256.match(name) and rel.parts[0] == name[:2] and rel.parts[1] == name[2:4]
            )
            if not well_placed or name not in known:
                candidates.append(rel.as_posix())
    report.counts["store_objects"] = len(known) + len(candidates)
    if not candidates:
        return
    with archive.db.session() as session:  # read again: an ingest may have committed since
        names = [Path(c).name for c in candidates]
        now_known = set(session.scalars(select(Blob.sha256).where(Blob.sha256.in_(names))))
    for candidate in candidates:
        name = Path(candidate).name
        if name in now_known and Path(candidate).parent.as_posix() == f"{name[:2]}/{name[2:4]}":
            continue
        report.add(
            "stray_file", candidate, "Tệp trong kho không thuộc văn bản nào / file in the store no document owns"
        )


# -- the bag manifests ------------------------------------------------------------------------
def _read_manifests(source: Path) -> dict[str, dict[str, str]] | None:
    """{algorithm: {payload path: hash}} of a bag directory or zipped bag; None if it is gone."""
    pattern = re.compile(r"(?:^|/)manifest-(\w+)\.txt$")
    found: dict[str, dict[str, str]] = {}

    def parse(alg: str, text: str) -> None:
        entries = found.setdefault(alg, {})
        for line in text.splitlines():
            if line.strip():
                digest, _, path = line.strip().partition(" ")
                entries[path.strip().lstrip("*")] = digest.lower()

    if source.is_dir():
        if not (source / "bagit.txt").is_file():
            return None
        for path in source.glob("manifest-*.txt"):
            if (match := pattern.search(path.name)) is not None:
                parse(match.group(1), path.read_text(encoding="utf-8"))
        return found
    if source.is_file() and zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive_zip:
            names = [n for n in archive_zip.namelist() if pattern.search(n)]
            depth = min((n.count("/") for n in names), default=0)
            for name in names:
                if name.count("/") == depth and (match := pattern.search(name)) is not None:
                    parse(match.group(1), archive_zip.read(name).decode("utf-8"))
        return found or None
    return None


def _parse_manifest_text(text: str) -> dict[str, dict[str, str]]:
    """A BagIt manifest's lines; the algorithm is told by the digest length."""
    by_length = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}
    found: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        digest, _, path = line.strip().partition(" ")
        if digest and len(digest) in by_length:
            found.setdefault(by_length[len(digest)], {})[path.strip().lstrip("*")] = digest.lower()
    return found


def _package_manifests(store: Path, stored_sha: str, source_path: str, known: set[str]) -> tuple[str, dict | None]:
    """The bag manifest a package came with: the copy kept in the store at ingest, else the bag itself."""
    if stored_sha and stored_sha in known:
        try:
            return "store", _parse_manifest_text(blob_path(store, stored_sha).read_text("utf-8"))
        except (OSError, UnicodeDecodeError):
            pass  # the lost or altered copy is reported with the originals
    return "bag", _read_manifests(Path(source_path))


def _check_manifests(archive: Archive, report: VerificationReport, known: set[str]) -> None:
    store = archive.settings.store_dir
    with archive.db.session() as session:
        packages = list(
            session.execute(
                select(
                    Package.id, Package.source_path, Package.form, Package.verified, Package.bag_manifest_sha256
                ).where(Package.status != "refused")
            )
        )
        items = defaultdict(list)
        for package_id, key, sha, doc_id in session.execute(
            select(IngestItem.package_id, IngestItem.key, IngestItem.sha256, IngestItem.document_id).where(
                IngestItem.kind == "file", IngestItem.sha256 != ""
            )
        ):
            items[package_id].append((key, sha, doc_id))
    for package_id, source_path, form, verified, stored_manifest in packages:
        files = items.get(package_id, [])
        report.counts["files_recorded"] += len(files)
        for key, sha, doc_id in files:
            if sha not in known:
                report.add(
                    "missing_file",
                    sha,
                    f"Tệp {key} của gói #{package_id} không còn trong kho / "
                    f"file of package #{package_id} no longer stored",
                    [doc_id] if doc_id else [],
                )
        if "bag" not in form:
            continue
        origin, manifests = _package_manifests(store, stored_manifest, source_path, known)
        if manifests is None:
            report.counts["packages_bag_gone"] += 1
            report.notes.append(
                f"Gói #{package_id}: không còn gói BagIt gốc ở {source_path}; đã so với mã kiểm tra "
                f"ghi lúc nhập / original bag gone, checked against the hashes recorded at ingest"
            )
            continue
        report.counts[f"packages_manifest_from_{origin}"] += 1
        algorithm = "sha256" if "sha256" in manifests else (sorted(manifests)[0] if manifests else "")
        entries = manifests.get(algorithm, {})
        for key, sha, doc_id in files:
            expected = entries.get(f"data/{key}")
            if expected is None:
                continue
            if algorithm == "sha256":
                actual = sha
            elif report.quick or sha not in known:
                continue
            else:
                actual = hash_file(blob_path(store, sha), (algorithm,))[0][algorithm]
            report.counts["files_checked_against_manifest"] += 1
            if actual != expected:
                if verified:
                    report.add(
                        "manifest_mismatch",
                        f"#{package_id}:{key}",
                        f"Khác manifest BagIt của gói / differs from the bag manifest ({algorithm})",
                        [doc_id] if doc_id else [],
                    )
                else:
                    report.notes.append(f"Gói #{package_id}: {key} khác manifest (gói được nhập dù không hợp lệ)")


# -- the index --------------------------------------------------------------------------------
def _wanted(archive: Archive, ids: set[int] | None = None) -> dict[int, str]:
    with archive.db.session() as session:
        query = select(Document.id, Document.unit_code).where(
            Document.indexed_at.is_not(None), Document.withheld.is_(False)
        )
        if ids is not None:
            query = query.where(Document.id.in_(ids))
        return dict(session.execute(query).all())


def _check_index(archive: Archive, report: VerificationReport) -> None:

    engine = archive.engine
    try:
        present = engine.indexed_ids()
        wanted = _wanted(archive)
        missing, extra = set(wanted) - present, present - set(wanted)
        if missing or extra:  # read both again: an ingest may be between indexing and recording it
            differing = missing | extra
            now_wanted = _wanted(archive, differing)
            now_present = engine.indexed_ids() & differing
            missing = {i for i in differing if i in now_wanted and i not in now_present}
            extra = {i for i in differing if i in now_present and i not in now_wanted}
            wanted.update(now_wanted)
        report.counts["documents_indexed_db"] = len(wanted)
        report.counts["documents_indexed_engine"] = len(present)
        for doc_id in sorted(missing):
            report.add(
                "index_missing",
                str(doc_id),
                "Văn bản chưa có trong chỉ mục / document missing from the index",
                [doc_id],
            )
        for doc_id in sorted(extra):
            report.add(
                "index_extra",
                str(doc_id),
                "Chỉ mục có văn bản không được tra cứu / index holds a document it must not",
                [doc_id],
            )
        per_unit: dict[str, int] = defaultdict(int)
        for unit in wanted.values():
            per_unit[unit] += 1
        for unit, db_count in sorted(per_unit.items()):
            in_index = engine.count(scope=frozenset({unit}))
            report.counts["units_checked"] += 1
            if in_index != db_count:
                report.add(
                    "unit_count",
                    unit,
                    f"Số văn bản của đơn vị khác nhau / per-unit count differs: "
                    f"cơ sở dữ liệu / database {db_count}, chỉ mục / index {in_index}",
                )
    except SearchUnavailable as error:
        report.add(
            "index_unreachable",
            archive.settings.index_engine,
            f"Không truy cập được chỉ mục / index unreachable: {error}",
        )


def _check_signatures(archive: Archive, report: VerificationReport, progress: Progress) -> None:
    """Validate every PDF signature again: a certificate may be revoked since, or the trust store changed."""
    report.counts["signatures_first_checked"] = check_unchecked(archive)
    changed: set[int] = set()
    for change in recheck_all(archive, progress):
        if change.before != change.after:
            changed.update(change.documents)
        report.counts["signed_files_checked" if change.after != UNSIGNED else "unsigned_pdfs_checked"] += 1
        report.counts["signed_files_valid"] += int(change.after == VALID)
        if change.before == VALID and change.after != VALID:
            report.add(
                "signature_invalid",
                change.sha256,
                f"Chữ ký số hợp lệ khi nhận, nay: {STATUS_LABELS.get(change.after, change.after)} / "
                f"signature valid at ingest, now {change.after}",
                change.documents,
            )
    report.counts["signature_verdicts_changed"] = len(changed)
    _reindex(archive, changed)


def _reindex(archive: Archive, ids: set[int]) -> None:
    """The index carries each document's signature verdict (the search filter): refresh the changed ones."""
    if not ids:
        return
    with archive.db.session() as session:
        documents = list(
            session.scalars(
                select(Document).where(
                    Document.id.in_(ids), Document.indexed_at.is_not(None), Document.withheld.is_(False)
                )
            )
        )
        if documents:
            archive.engine.index([index_document(session, d) for d in documents])


def _check_programs(archive: Archive, report: VerificationReport) -> None:
    """The external programs the configuration needs (OCR and its languages, old Word files, pg_dump)."""
    for status in programs.check(archive.settings):
        report.counts["programs_checked"] += 1
        if not status.ok:
            report.add("program_missing", status.program, status.message)


# -- the run ----------------------------------------------------------------------------------
def verify(
    archive: Archive, *, quick: bool = False, workers: int = 2, progress: Progress | None = None, record: bool = True
) -> VerificationReport:
    """Check everything; record the run; the report's ``ok`` says whether anything is wrong."""
    progress = progress or (lambda _message: None)
    report = VerificationReport(started_at=utcnow(), quick=quick)
    progress("bản gốc / originals")
    known = _check_blobs(archive, report, workers, progress)
    progress("manifest BagIt / bag manifests")
    _check_manifests(archive, report, known)
    progress("kho / store")
    _check_stray(archive, report, known)
    if not quick:
        progress("chữ ký số / digital signatures")
        _check_signatures(archive, report, progress)
    progress("chỉ mục / index")
    _check_index(archive, report)
    progress("chương trình / programs")
    _check_programs(archive, report)
    with archive.db.session() as session:
        report.counts["documents"] = session.scalar(select(func.count()).select_from(Document)) or 0
    report.counts["problems"] = len(report.problems)
    report.finished_at = utcnow()
    if record:
        with archive.db.transaction() as session:
            run = VerificationRun(
                started_at=report.started_at,
                finished_at=report.finished_at,
                quick=quick,
                ok=report.ok,
                counts=dict(report.counts),
                problems=[asdict(p) for p in report.problems[:MAX_RECORDED_PROBLEMS]],
            )
            session.add(run)
            session.flush()
            report.run_id = run.id
    return report


def last_verification(archive: Archive) -> VerificationRun | None:
    """The newest recorded run, for the administration page."""
    with archive.db.session() as session:
        return session.scalars(
            select(VerificationRun).order_by(VerificationRun.started_at.desc(), VerificationRun.id.desc()).limit(1)
        ).first()
