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
"""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import posixpath
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from archive_portal.context import Archive
from archive_portal.db.models import Blob, Document, DocumentFile, IngestItem, Package, Page, utcnow
from indexes.base import IndexDocument
from indexes.fold import normalize_number

from .extract import Extraction, ExtractionRefused, ExtractLimits, extract, sniff
from .fields import COLUMN_TO_ATTRIBUTE, normalize_direction, parse_date, secret_level
from .manifests import Row
from .metadata import normalize_doc_type, read_metadata
from .ocr import OcrUnavailable
from .packages import PackageContents, PackageRefused, open_package
from . import edxml, unzip
from .store import BlobStore

EDXML_MEDIA_TYPE = "application/edxml+xml"
EDXML_CANDIDATE_TYPES = {"application/xml", "text/xml", "text/plain", "application/octet-stream"}
TEXT_FIELDS = ("number", "issued_date", "doc_type", "subject", "issuer", "signer", "signer_title")
ROW_BATCH = 200
INDEX_BATCH = 100


@dataclass
class IngestOptions:
    unit_code: str | None = None
    workers: int | None = None
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
    workers = options.workers or archive.settings.effective_workers()
    try:
        contents = open_package(Path(path), unit_code=options.unit_code,
                                accept_invalid_bag=options.accept_invalid_bag, workers=workers,
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


def _extract_job(path: str, limits: ExtractLimits) -> Extraction | str:
    """Runs in a worker process; a refusal or crash comes back as its reason."""
    try:
        return extract(Path(path), limits)
    except ExtractionRefused as refused:
        return refused.reason
    except OcrUnavailable:
        raise  # the machine, not the file, is at fault: stop the run with the reason
    except Exception as error:  # noqa: BLE001 - one bad file must never stop the rest
        return f"Lỗi khi đọc tệp: {type(error).__name__}: {error}"


class PackageRun:
    def __init__(self, archive: Archive, contents: PackageContents, workers: int, options: IngestOptions):
        self.archive = archive
        self.contents = contents
        self.workers = max(1, workers)
        self.options = options
        self.store = BlobStore(archive.settings.store_dir)
        self.state = RunState()
        settings = archive.settings
        self.limits = ExtractLimits(
            ocr_languages=settings.ocr_languages, dpi=settings.ocr_dpi,
            max_image_pixels=settings.max_image_pixels, max_pages=settings.max_pdf_pages,
            max_file_bytes=settings.max_file_bytes,
        )
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
        self.extract_pending()
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
        with self.archive.db.transaction() as session:
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
            if session.get(Blob, stored.sha256) is None:
                session.add(Blob(sha256=stored.sha256, size=stored.size, media_type=media_type))
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
        session = self.archive.db.session()
        try:
            for index, row in enumerate(rows, start=1):
                self._register_row(session, row, seen)
                if index % ROW_BATCH == 0:
                    session.commit()
                    self._progress("rows", index, len(rows))
            session.commit()
            self._progress("rows", len(rows), len(rows))
        finally:
            session.close()

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
        existing = session.scalar(
            select(Document).where(Document.unit_code == self.contents.unit_code, Document.ma_van_ban == row.key)
        )
        if existing is not None:
            if existing.package_id != self.package_id:
                self.state.row_duplicates[row.key] = f"Đã có trong kho (văn bản #{existing.id}, gói #{existing.package_id})"
                for rel in row.attachments:
                    self.state.file_duplicates.setdefault(self._safe_rel(rel) or rel, "Thuộc văn bản đã có trong kho")
            return
        document = self._document_from_row(row)
        session.add(document)
        session.flush()
        self.state.created += 1
        position = 0
        for rel in row.attachments:
            safe = self._safe_rel(rel)
            if safe in self.state.edxml:
                self._apply_edxml_fields(document, safe)
                files = self._edxml_files(document, position, safe)
            else:
                files = [self._file_for(document, position, rel)]
            session.add_all(files)
            position += len(files)

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
        with self.archive.db.transaction() as session:
            for rel, info in self.state.files.items():
                if rel in self.state.referenced or info.refused:
                    continue
                message = self.state.edxml.get(rel)
                document_id = message.fields.get("ma_van_ban") if message else ""
                key = f"edxml:{document_id}" if document_id else f"tep:{rel}"
                mine = session.scalar(select(Document).where(Document.unit_code == unit, Document.ma_van_ban == key))
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
                session.add(document)
                session.flush()
                self.state.created += 1
                if message:
                    self._apply_edxml_fields(document, rel)
                    session.add_all(self._edxml_files(document, 0, rel))
                else:
                    session.add(DocumentFile(document=document, position=0, path_in_package=rel,
                                             filename=posixpath.basename(rel), blob_sha256=info.sha256,
                                             media_type=info.media_type, status="pending"))

    # -- extraction -------------------------------------------------------------------------
    def _pending_files(self, session: Session) -> list[tuple[int, int, str]]:
        return list(session.execute(
            select(DocumentFile.id, DocumentFile.document_id, DocumentFile.blob_sha256)
            .join(Document).where(Document.package_id == self.package_id, Document.withheld.is_(False),
                                  DocumentFile.status == "pending")
            .order_by(DocumentFile.id)
        ).all())

    def extract_pending(self) -> None:
        with self.archive.db.session() as session:
            pending = self._pending_files(session)
        remaining: dict[int, int] = defaultdict(int)
        for _, document_id, _ in pending:
            remaining[document_id] += 1
        self._finalize_documents_without_pending()
        jobs: list[tuple[int, int, str]] = []
        for file_id, document_id, sha in pending:
            if self._copy_known_extraction(file_id, sha):
                self._file_done(document_id, remaining)
            else:
                jobs.append((file_id, document_id, sha))
        total = len(jobs)
        self._progress("extract", 0, total)
        for done, (file_id, document_id, result) in enumerate(self._run_jobs(jobs), start=1):
            self._save_extraction(file_id, result)
            self._file_done(document_id, remaining)
            self._progress("extract", done, total)

    def _run_jobs(self, jobs: list[tuple[int, int, str]]):
        paths = {file_id: str(self.store.path(sha)) for file_id, _, sha in jobs}
        if self.workers == 1 or len(jobs) <= 1:
            for file_id, document_id, _ in jobs:
                yield file_id, document_id, _extract_job(paths[file_id], self.limits)
            return
        context = multiprocessing.get_context("spawn")
        window = self.workers * 2
        with cf.ProcessPoolExecutor(max_workers=self.workers, mp_context=context) as pool:
            queue = iter(jobs)
            running: dict[cf.Future, tuple[int, int]] = {}

            def submit_next() -> None:
                job = next(queue, None)
                if job is not None:
                    running[pool.submit(_extract_job, paths[job[0]], self.limits)] = (job[0], job[1])

            for _ in range(window):
                submit_next()
            while running:
                finished, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
                for future in finished:
                    file_id, document_id = running.pop(future)
                    try:
                        result = future.result()
                    except OcrUnavailable:
                        raise
                    except Exception as error:  # noqa: BLE001 - a dead worker is this file's refusal
                        result = f"Tiến trình đọc tệp bị dừng bất thường: {error}"
                    submit_next()
                    yield file_id, document_id, result

    def _copy_known_extraction(self, file_id: int, sha: str) -> bool:
        """Reuse the pages of a file with the same bytes already extracted (no OCR twice)."""
        with self.archive.db.transaction() as session:
            source = session.scalar(
                select(DocumentFile).where(DocumentFile.blob_sha256 == sha, DocumentFile.status.in_(("extracted", "refused")),
                                           DocumentFile.id != file_id).limit(1)
            )
            if source is None:
                return False
            target = session.get(DocumentFile, file_id)
            target.status, target.reason, target.page_count = source.status, source.reason, source.page_count
            for page in source.pages:
                session.add(Page(file_id=file_id, number=page.number, text=page.text, method=page.method,
                                 ocr_confidence=page.ocr_confidence))
        return True

    def _save_extraction(self, file_id: int, result: Extraction | str) -> None:
        with self.archive.db.transaction() as session:
            file = session.get(DocumentFile, file_id)
            session.execute(delete(Page).where(Page.file_id == file_id))
            if isinstance(result, str):
                file.status, file.reason = "refused", result
                document = file.document
                document.flags = [*document.flags, f"Không đọc được tệp {file.filename}: {result}"]
                return
            file.status = "extracted"
            file.media_type = result.media_type
            file.page_count = len(result.pages)
            if result.warnings:
                file.reason = "; ".join(result.warnings)
            for page in result.pages:
                session.add(Page(file_id=file_id, number=page.number, text=page.text, method=page.method,
                                 ocr_confidence=page.ocr_confidence))
            self.state.pages_done += len(result.pages)

    def _file_done(self, document_id: int, remaining: dict[int, int]) -> None:
        remaining[document_id] -= 1
        if remaining[document_id] == 0:
            self._finalize_document(document_id)

    def _finalize_documents_without_pending(self) -> None:
        with self.archive.db.session() as session:
            ids = list(session.scalars(
                select(Document.id).where(Document.package_id == self.package_id, Document.text_ready.is_(False))
                .where(~Document.files.any(DocumentFile.status == "pending"))
            ))
        for document_id in ids:
            self._finalize_document(document_id)

    def _finalize_document(self, document_id: int) -> None:
        """Fill empty fields from the text (manifest values always win) and mark the document ready."""
        with self.archive.db.transaction() as session:
            document = session.get(Document, document_id)
            if document.withheld:
                document.text_ready = True
                return
            first_text = next((p.text for f in document.files for p in f.pages[:2] if p.text.strip()), "")
            if first_text:
                head = "\n".join(p.text for f in document.files[:1] for p in f.pages[:2])
                found = read_metadata(head)
                sources = dict(document.field_sources or {})
                for name in TEXT_FIELDS:
                    value = found.get(name)
                    if value and not getattr(document, name):
                        setattr(document, name, value)
                        sources[name] = "text"
                if sources.get("issued_date") == "text" and found.get("issued_date_raw"):
                    document.issued_date_raw = str(found["issued_date_raw"])
                if sources.get("number") == "text":
                    document.number_norm = normalize_number(document.number)
                document.field_sources = sources
            if document.page_count is None:
                pages = sum(f.page_count for f in document.files)
                document.page_count = pages or None
            document.text_ready = True

    # -- indexing and outcomes ----------------------------------------------------------------
    def index_ready(self) -> None:
        engine = self.archive.engine
        while True:
            with self.archive.db.session() as session:
                documents = list(session.scalars(
                    select(Document).where(Document.package_id == self.package_id, Document.text_ready.is_(True),
                                           Document.withheld.is_(False), Document.indexed_at.is_(None))
                    .order_by(Document.id).limit(INDEX_BATCH)
                ))
                if not documents:
                    return
                engine.index([index_document(session, d) for d in documents])
                ids = [d.id for d in documents]
            with self.archive.db.transaction() as session:
                now = utcnow()
                for document in session.scalars(select(Document).where(Document.id.in_(ids))):
                    document.indexed_at = now

    def record_outcomes(self) -> None:
        from .outcomes import compute_outcomes

        with self.archive.db.transaction() as session:
            package = session.get(Package, self.package_id)
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


def document_text(document: Document) -> str:
    return "\n\n".join(p.text for f in document.files for p in f.pages if p.text)


def index_document(session: Session, document: Document) -> IndexDocument:
    """The engine's view of a document; the one place that decides what is searchable."""
    return IndexDocument(
        id=document.id, unit_code=document.unit_code, ma_van_ban=document.ma_van_ban,
        number=document.number or "", issued_date=document.issued_date, doc_type=document.doc_type or "",
        direction=document.direction or "", subject=document.subject or "", issuer=document.issuer or "",
        signer=document.signer or "", body=document_text(document),
    )
