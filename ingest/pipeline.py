"""Ingest one export package: ordered, re-runnable steps whose state lives in the database.

1. open the package (``packages``) and find or create its ``Package`` record;
2. store every payload file by SHA-256 (``store``);
3. register every manifest row as a ``Document`` with its ``DocumentFile``s,
   and every file no row references as a document of its own;
4. extract text from pending files in worker processes (``extract``; OCR inside);
5. fill empty metadata from the text (``metadata``) and index ready documents;
6. write the outcome of every row and file (``report``).

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

import posixpath
import time
import zlib
from collections import defaultdict
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from sqlalchemy import delete, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive_core.context import Archive
from archive_core.db.models import Blob, Document, DocumentFile, IngestItem, Package, Page
from archive_core.clock import utcnow
from indexes.fold import normalize_number

from . import claims, edxml, unzip
from .extract import sniff
from .fields import COLUMN_TO_ATTRIBUTE, normalize_direction, parse_date, secret_level
from .indexing import document_text, index_document, index_ready  # noqa: F401  (re-exported: reindex, reocr, backup)
from .manifests import Row
from .metadata import normalize_doc_type
from .packages import PackageContents, PackageRefused, open_package
from archive_core.store import BlobStore
from .worker import ExtractionLoop, extract_job as _extract_job, limits_of  # noqa: F401

EDXML_MEDIA_TYPE = "application/edxml+xml"
EDXML_CANDIDATE_TYPES = {"application/xml", "text/xml", "text/plain", "application/octet-stream"}
TEXT_FIELDS = claims.TEXT_FIELDS
ROW_BATCH = 200
WAIT_POLL_SECONDS = 2.0


@dataclass
class IngestOptions:
    unit_code: str | None = None
    workers: int | None = None  # None: one per core; 0: extract nothing here, wait for `archive worker`s
    lease_seconds: float = claims.LEASE_SECONDS
    accept_invalid_bag: bool = False
    progress: Callable[[str, int, int, int], None] | None = None  # (stage, done, total, pages)


@dataclass
class FileInfo:
    sha256: str = ""
    size: int = 0
    media_type: str = ""
    refused: str = ""


@dataclass
class EdxmlInfo:
    fields: dict[str, str]
    content: str
    attachments: list[tuple[str, str]]  # (key in RunState.derived, file name)


@dataclass
class RunState:
    """What this run learned that is not (yet) in the database."""

    files: dict[str, FileInfo] = field(default_factory=dict)
    row_refusals: dict[str, str] = field(default_factory=dict)  # row key/line -> reason
    row_duplicates: dict[str, str] = field(default_factory=dict)
    file_duplicates: dict[str, str] = field(default_factory=dict)
    referenced: set[str] = field(default_factory=set)
    edxml: dict[str, "EdxmlInfo"] = field(default_factory=dict)  # payload path -> message read from it
    derived: dict[str, FileInfo] = field(default_factory=dict)  # "message#n/name" -> decoded attachment
    created: int = 0
    pages_done: int = 0


def ingest_package(archive: Archive, path: Path, options: IngestOptions | None = None) -> int:
    """Ingest ``path``; return the id of its Package record (see ``report`` for the outcome)."""
    options = options or IngestOptions()
    workers = options.workers if options.workers is not None else archive.settings.effective_workers()
    try:
        contents = open_package(Path(path), unit_code=options.unit_code,
                                accept_invalid_bag=options.accept_invalid_bag, workers=max(1, workers),
                                scratch_dir=archive.settings.scratch_dir)
    except PackageRefused as refusal:
        return _record_refused_package(archive, Path(path), refusal, options)
    return PackageRun(archive, contents, workers, options).run()


def _record_refused_package(archive: Archive, path: Path, refusal: PackageRefused, options: IngestOptions) -> int:
    from .report import write_report

    with archive.db.transaction() as session:
        bag_info = refusal.facts.get("bag_info", {})
        package = Package(
            fingerprint="", source_path=str(path), form="refused",
            unit_code=options.unit_code or bag_info.get("Unit-Code", ""),
            source_organization=bag_info.get("Source-Organization", ""), bag_info=bag_info,
            status="refused", warnings=[refusal.reason], finished_at=utcnow(),
        )
        session.add(package)
        session.flush()
        session.add(IngestItem(package_id=package.id, kind="package", key=str(path), outcome="refused",
                               reason=refusal.reason))
        for problem in refusal.problems:
            session.add(IngestItem(package_id=package.id, kind="file", key=problem["path"] or str(path),
                                   outcome="refused", reason=f"[{problem['problem']}] {problem['reason']}"))
        package_id = package.id
    write_report(archive, package_id)
    return package_id


class PackageRun:
    def __init__(self, archive: Archive, contents: PackageContents, workers: int, options: IngestOptions):
        self.archive = archive
        self.contents = contents
        self.workers = max(0, workers)  # 0: registration only, extraction by workers elsewhere
        self.options = options
        self.store = BlobStore(archive.settings.store_dir)
        self.state = RunState()
        self.limits = limits_of(archive)
        self.package_id = 0

    # -- steps ---------------------------------------------------------------------------
    def run(self) -> int:
        from .report import write_report

        self.package_id = self._find_or_create_package()
        self.store.clean_incoming()
        self._keep_package_manifests()
        self.store_files()
        self.register_rows()
        self.register_unreferenced_files()
        if self.workers:
            self.extract_pending()
        else:
            self.wait_for_workers()
        self.index_ready()
        self.record_outcomes()
        write_report(self.archive, self.package_id)
        if self.contents.scratch is not None:  # every original is in the store now
            unzip.remove(self.contents.scratch)
        return self.package_id

    def _progress(self, stage: str, done: int, total: int) -> None:
        if self.options.progress:
            self.options.progress(stage, done, total, self.state.pages_done)

    def _find_or_create_package(self) -> int:
        contents = self.contents
        fingerprint = contents.fingerprint()
        with self.archive.db.write_transaction() as session:
            _lock_name(session, f"package:{contents.unit_code}:{fingerprint}")  # two runs of one package: one record
            package = session.scalar(
                select(Package).where(Package.fingerprint == fingerprint, Package.unit_code == contents.unit_code)
                .order_by(Package.id).limit(1)
            )
            if package is None:
                package = Package(fingerprint=fingerprint, source_path=str(contents.source), form=contents.form,
                                  unit_code=contents.unit_code)
                session.add(package)
            package.source_path = str(contents.source)
            package.source_organization = contents.source_organization
            package.unit_level = contents.unit_level
            package.parent_unit_code = contents.parent_unit_code
            package.bag_info = contents.bag_info
            package.verified = contents.verified
            package.warnings = contents.warnings
            package.status = "running"
            package.finished_at = None
            session.flush()
            return package.id

    def _keep_package_manifests(self) -> None:
        """The manifest and the bag's checksum list are originals of the handover: store them too."""
        contents = self.contents
        manifest = self._store_path(contents.manifest.path) if contents.manifest else None
        bag_manifest_path = contents.payload.parent / "manifest-sha256.txt"
        bag_manifest = self._store_path(bag_manifest_path) if contents.form.endswith("bag") and bag_manifest_path.is_file() else None
        with self.archive.db.transaction() as session:
            package = session.get(Package, self.package_id)
            package.manifest_name = contents.manifest.path.name if contents.manifest else ""
            package.manifest_sha256 = manifest.sha256 if manifest else ""
            package.bag_manifest_sha256 = bag_manifest.sha256 if bag_manifest else ""

    def store_files(self) -> None:
        """Hash and store every payload file; refuse empty, oversized and linked files."""
        files = self.contents.files
        for done, rel in enumerate(files, start=1):
            self.state.files[rel] = self._store_one(rel)
            if done % 50 == 0 or done == len(files):
                self._progress("store", done, len(files))

    def _store_one(self, rel: str) -> FileInfo:
        full = self.contents.payload / rel
        if full.is_symlink():
            return FileInfo(refused="Liên kết tượng trưng (symlink): bị từ chối vì lý do an toàn")
        size = full.stat().st_size
        if size == 0:
            return FileInfo(size=0, refused="Tệp rỗng (0 byte)")
        if size > self.archive.settings.max_file_bytes:
            return FileInfo(size=size, refused=f"Tệp quá lớn ({size} byte, tối đa {self.archive.settings.max_file_bytes})")
        info = self._store_path(full)
        if info.media_type in EDXML_CANDIDATE_TYPES:
            with open(full, "rb") as handle:
                if edxml.looks_like_edxml(handle.read(4096)):
                    info = self._read_edxml(rel, full, info)
        return info

    def _store_path(self, path: Path) -> FileInfo:
        stored = self.store.put(path)
        media_type = sniff(stored.path)
        with self.archive.db.transaction() as session:
            if session.get(Blob, stored.sha256) is None:  # another run may insert it meanwhile: no error then
                session.execute(_insert(session, Blob).values(sha256=stored.sha256, size=stored.size, media_type=media_type,
                                                              stored_at=utcnow()).on_conflict_do_nothing())
        return FileInfo(sha256=stored.sha256, size=stored.size, media_type=media_type)

    def _read_edxml(self, rel: str, path: Path, info: FileInfo) -> FileInfo:
        """Read the message's metadata and store its decoded attachments as originals of their own."""
        try:
            message = edxml.parse(path, max_attachment_bytes=self.archive.settings.max_file_bytes)
        except edxml.EdxmlError as error:
            info.refused = f"Thông điệp edXML không đọc được: {error}"
            return info
        info.media_type = EDXML_MEDIA_TYPE
        attachments: list[tuple[str, str]] = []
        scratch = self.archive.settings.scratch_dir / f"edxml-{info.sha256}"
        for index, attachment in enumerate(message.attachments, start=1):
            key = f"{rel}#{index}/{attachment.name}"
            attachments.append((key, attachment.name))
            if attachment.problem:
                self.state.derived[key] = FileInfo(refused=attachment.problem)
                continue
            scratch.mkdir(parents=True, exist_ok=True)
            temporary = scratch / f"{index}"
            temporary.write_bytes(attachment.data)
            self.state.derived[key] = self._store_path(temporary)
            temporary.unlink()
        if scratch.exists():
            scratch.rmdir()
        self.state.edxml[rel] = EdxmlInfo(fields=message.fields, content=message.content, attachments=attachments)
        return info

    def _edxml_files(self, document: Document, position: int, rel: str) -> list[DocumentFile]:
        """The message itself (its Content as text) and each decoded attachment, in order."""
        message = self.state.edxml[rel]
        info = self.state.files[rel]
        carrier = DocumentFile(document=document, position=position, path_in_package=rel,
                               filename=posixpath.basename(rel), blob_sha256=info.sha256,
                               media_type=EDXML_MEDIA_TYPE, status="extracted", page_count=1 if message.content else 0,
                               reason="Thông điệp edXML: siêu dữ liệu và trích yếu nội dung")
        if message.content:
            carrier.pages.append(Page(number=1, text=message.content, method="text"))
        files = [carrier]
        for offset, (key, name) in enumerate(message.attachments, start=1):
            attachment = self.state.derived[key]
            if attachment.refused:
                document.flags = [*document.flags, f"Đính kèm edXML bị từ chối: {name}: {attachment.refused}"]
                files.append(DocumentFile(document=document, position=position + offset, path_in_package=key,
                                          filename=name, status="refused", reason=attachment.refused))
            else:
                files.append(DocumentFile(document=document, position=position + offset, path_in_package=key,
                                          filename=name, blob_sha256=attachment.sha256,
                                          media_type=attachment.media_type, status="pending"))
        return files

    def _apply_edxml_fields(self, document: Document, rel: str) -> None:
        """Fill the fields the manifest left empty from the message header (source: edxml)."""
        sources = dict(document.field_sources or {})
        from_message = self._document_from_row(Row(line=0, values=self.state.edxml[rel].fields))
        for attribute in (*COLUMN_TO_ATTRIBUTE.values(), "issued_date", "number_norm"):
            if attribute == "ma_van_ban":
                continue
            value = getattr(from_message, attribute)
            if value not in (None, "") and not getattr(document, attribute):
                setattr(document, attribute, value)
                if attribute in from_message.field_sources:
                    sources[attribute] = "edxml"
        document.field_sources = sources
        document.flags = [*document.flags, *(f"edXML: {flag}" for flag in from_message.flags)]
        if from_message.withheld:
            document.withheld, document.confidentiality = True, from_message.confidentiality

    def register_rows(self) -> None:
        manifest = self.contents.manifest
        if manifest is None:
            return
        seen: dict[str, int] = {}
        rows = manifest.rows
        for start in range(0, len(rows), ROW_BATCH):
            with self.archive.db.write_transaction() as session:
                for row in rows[start:start + ROW_BATCH]:
                    self._register_row(session, row, seen)
            self._progress("rows", min(start + ROW_BATCH, len(rows)), len(rows))
        if not rows:
            self._progress("rows", 0, 0)

    def _register_row(self, session: Session, row: Row, seen: dict[str, int]) -> None:
        item_key = row.key or f"dòng {row.line}"
        if "__invalid__" in row.extra:
            self.state.row_refusals[f"dòng {row.line}"] = "Dòng bảng kê không đọc được (JSON hỏng)"
            return
        if not row.key:
            self.state.row_refusals[item_key] = "Thiếu ma_van_ban (mã văn bản) bắt buộc"
            return
        if row.key in seen:
            self.state.row_refusals[f"{row.key} (dòng {row.line})"] = f"ma_van_ban trùng với dòng {seen[row.key]} trong cùng gói"
            return
        seen[row.key] = row.line
        for rel in row.attachments:  # only rows that own or duplicate a document claim their files
            self.state.referenced.add(self._safe_rel(rel) or rel)
        existing = self._existing_document(session, row.key)
        if existing is None:
            document = self._document_from_row(row)
            position = 0
            files: list[DocumentFile] = []
            for rel in row.attachments:
                safe = self._safe_rel(rel)
                if safe in self.state.edxml:
                    self._apply_edxml_fields(document, safe)
                    more = self._edxml_files(document, position, safe)
                else:
                    more = [self._file_for(document, position, rel)]
                files += more
                position += len(more)
            if self._insert_document(session, document, files):
                return
            existing = self._existing_document(session, row.key)  # another run inserted it first
        if existing.package_id != self.package_id:
            self.state.row_duplicates[row.key] = f"Đã có trong kho (văn bản #{existing.id}, gói #{existing.package_id})"
            for rel in row.attachments:
                self.state.file_duplicates.setdefault(self._safe_rel(rel) or rel, "Thuộc văn bản đã có trong kho")

    def _existing_document(self, session: Session, key: str) -> Document | None:
        return session.scalar(
            select(Document).where(Document.unit_code == self.contents.unit_code, Document.ma_van_ban == key)
        )

    def _insert_document(self, session: Session, document: Document, files: list[DocumentFile]) -> bool:
        """Insert a new document with its files; False if another run inserted the same key meanwhile.

        On PostgreSQL the insert runs in a savepoint and a unique-key violation
        rolls back only this document; on SQLite the batch's ``BEGIN IMMEDIATE``
        already excludes every other writer, so the key check above is final."""
        sqlite = session.get_bind().dialect.name == "sqlite"
        try:
            with nullcontext() if sqlite else session.begin_nested():
                session.add(document)
                session.add_all(files)
                session.flush()
        except IntegrityError:
            if sqlite:
                raise
            return False
        self.state.created += 1
        return True

    def _safe_rel(self, rel: str) -> str | None:
        """The payload-relative path of an attachment, or None if it points outside the package."""
        rel = rel.replace("\\", "/").strip()
        if rel.startswith("data/") and rel not in self.state.files:
            rel = rel[5:]
        if not rel or rel.startswith("/") or (len(rel) > 1 and rel[1] == ":"):
            return None
        normal = posixpath.normpath(rel)
        if normal.startswith("..") or "/../" in f"/{normal}/":
            return None
        return normal

    def _file_for(self, document: Document, position: int, rel: str) -> DocumentFile:
        safe = self._safe_rel(rel)
        name = posixpath.basename(rel.replace("\\", "/")) or rel
        if safe is None:
            document.flags = [*document.flags, f"Đường dẫn tệp đính kèm không an toàn, bị từ chối: {rel}"]
            return DocumentFile(document=document, position=position, path_in_package=rel, filename=name,
                                status="refused", reason="Đường dẫn ra ngoài gói (.. hoặc tuyệt đối)")
        info = self.state.files.get(safe)
        if info is None:
            document.flags = [*document.flags, f"Thiếu tệp đính kèm: {rel}"]
            return DocumentFile(document=document, position=position, path_in_package=safe, filename=name,
                                status="missing", reason="Tệp được bảng kê nhắc đến nhưng không có trong gói")
        if info.refused:
            document.flags = [*document.flags, f"Tệp đính kèm bị từ chối: {rel}: {info.refused}"]
            return DocumentFile(document=document, position=position, path_in_package=safe, filename=name,
                                status="refused", reason=info.refused)
        return DocumentFile(document=document, position=position, path_in_package=safe, filename=name,
                            blob_sha256=info.sha256, media_type=info.media_type, status="pending")

    def _document_from_row(self, row: Row) -> Document:
        values = row.values
        document = Document(package_id=self.package_id, unit_code=self.contents.unit_code, ma_van_ban=row.key,
                            origin="manifest", flags=[], extra=dict(row.extra), field_sources={})
        sources: dict[str, str] = {}
        for column, attribute in COLUMN_TO_ATTRIBUTE.items():
            value = values.get(column, "")
            if not value or attribute == "ma_van_ban":
                continue
            if attribute == "page_count":
                if value.isdigit():
                    document.page_count = int(value)
                else:
                    document.flags.append(f"so_trang không phải số: {value}")
                    document.extra["so_trang"] = value
                continue
            setattr(document, attribute, value)
            sources[attribute] = "manifest"
        for column in ("so_den", "ngay_den"):
            if values.get(column):
                document.extra[column] = values[column]
        if document.direction:
            raw = document.direction
            document.direction = normalize_direction(raw)
            if not document.direction:
                document.flags.append(f"Hướng văn bản không rõ: {raw}")
                document.extra["huong"] = raw
        if document.doc_type:
            document.doc_type = normalize_doc_type(document.doc_type)
        if document.number:
            document.number_norm = normalize_number(document.number)
        if document.issued_date_raw:
            document.issued_date = parse_date(document.issued_date_raw)
            if document.issued_date is None:
                document.flags.append(f"Ngày ban hành không đọc được, giữ nguyên: {document.issued_date_raw}")
            else:
                sources["issued_date"] = "manifest"
        level = secret_level(document.confidentiality)
        if level:
            document.confidentiality = level
            document.withheld = True
        document.field_sources = sources
        return document

    def register_unreferenced_files(self) -> None:
        """Each file no row references becomes a document of its own (flagged), unless a duplicate."""
        manifest_present = self.contents.manifest is not None
        unit = self.contents.unit_code
        with self.archive.db.write_transaction() as session:
            for rel, info in self.state.files.items():
                if rel in self.state.referenced or info.refused:
                    continue
                message = self.state.edxml.get(rel)
                document_id = message.fields.get("ma_van_ban") if message else ""
                key = f"edxml:{document_id}" if document_id else f"tep:{rel}"
                mine = self._existing_document(session, key)
                if mine is not None:
                    if mine.package_id != self.package_id:
                        self.state.file_duplicates[rel] = f"Đã có trong kho (văn bản #{mine.id})"
                    continue
                twin = session.scalar(
                    select(Document.id).join(DocumentFile)
                    .where(Document.unit_code == unit, DocumentFile.blob_sha256 == info.sha256).limit(1)
                )
                if twin is not None:
                    self.state.file_duplicates[rel] = f"Trùng nội dung (SHA-256) với văn bản #{twin} của cùng đơn vị"
                    continue
                flags = ["Tệp không có trong bảng kê: tạo văn bản riêng, siêu dữ liệu đọc từ nội dung"] if manifest_present else []
                document = Document(package_id=self.package_id, unit_code=unit, ma_van_ban=key,
                                    origin="edxml" if message else "file", flags=flags, extra={}, field_sources={})
                if message:
                    self._apply_edxml_fields(document, rel)
                    files = self._edxml_files(document, 0, rel)
                else:
                    files = [DocumentFile(document=document, position=0, path_in_package=rel,
                                          filename=posixpath.basename(rel), blob_sha256=info.sha256,
                                          media_type=info.media_type, status="pending")]
                if not self._insert_document(session, document, files):
                    mine = self._existing_document(session, key)
                    if mine is not None and mine.package_id != self.package_id:
                        self.state.file_duplicates[rel] = f"Đã có trong kho (văn bản #{mine.id})"

    # -- extraction -------------------------------------------------------------------------
    def extract_pending(self) -> None:
        """Claim this package's pending files and extract them here, with whoever else works on it."""
        db = self.archive.db
        claims.finalize_documents_without_pending(db, self.package_id)
        total = claims.pending_count(db, self.package_id)
        done = 0
        self._progress("extract", 0, total)

        def on_saved(_claim: claims.Claim, saved: claims.Saved) -> None:
            nonlocal done
            self.state.pages_done += saved.pages if saved.saved and not saved.copied else 0
            done += 1
            self._progress("extract", done, max(total, done))

        def on_wait() -> None:  # files claimed by other processes: show their progress too
            self._progress("extract", max(done, total - claims.pending_count(db, self.package_id)), total)

        ExtractionLoop(self.archive, processes=self.workers, lease_seconds=self.options.lease_seconds,
                       package_id=self.package_id, on_saved=on_saved, on_wait=on_wait).run()
        self._progress("extract", total, total)

    def wait_for_workers(self) -> None:
        """``--workers 0``: the files are extracted by ``archive worker`` processes; follow their progress."""
        db = self.archive.db
        claims.finalize_documents_without_pending(db, self.package_id)
        total = claims.pending_count(db, self.package_id)
        remaining = total
        while True:
            self._progress("extract", total - remaining, total)
            if remaining == 0:
                break
            time.sleep(WAIT_POLL_SECONDS)
            remaining = claims.pending_count(db, self.package_id)
        claims.finalize_documents_without_pending(db, self.package_id)

    # -- indexing and outcomes ----------------------------------------------------------------
    def index_ready(self) -> None:
        index_ready(self.archive, self.package_id)

    def record_outcomes(self) -> None:
        from .outcomes import compute_outcomes

        with self.archive.db.write_transaction() as session:
            # another run of the same package may record at the same moment: one after the other
            package = session.scalar(select(Package).where(Package.id == self.package_id).with_for_update())
            items = compute_outcomes(session, package, self.contents, self.state)
            session.execute(delete(IngestItem).where(IngestItem.package_id == self.package_id))
            session.add_all(items)
            counts: dict[str, int] = defaultdict(int)
            for item in items:
                counts[f"{item.kind}_{item.outcome}"] += 1
                counts[f"{item.kind}_total"] += 1
            counts["documents_added_this_run"] = self.state.created
            counts["manifest_rows"] = len(self.contents.manifest.rows) if self.contents.manifest else 0
            counts["payload_files"] = len(self.contents.files) + (1 if self.contents.manifest else 0)
            package.counts = dict(counts)
            package.status = "done"
            package.finished_at = utcnow()



def _lock_name(session: Session, name: str) -> None:
    """Serialise, for the rest of the transaction, the writers that use the same name (PostgreSQL;
    on SQLite the ``BEGIN IMMEDIATE`` of a write transaction already does)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": zlib.crc32(name.encode())})


def _insert(session: Session, model):
    """The dialect's INSERT, which knows ``ON CONFLICT DO NOTHING``."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model)
