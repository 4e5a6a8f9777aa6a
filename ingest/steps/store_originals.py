"""Store every original of a package by SHA-256, and decode the attachments of edXML messages.

Empty, oversized and linked files are refused here; an edXML message is read
for its header fields and its decoded attachments become originals of their
own.  Each stored original is then looked at once (``inspect``).
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from archive_core.clock import utcnow
from archive_core.db.models import Blob, Package

from .. import edxml
from ..extract import extractor_for, sniff
from .inspect import inspect_original
from .metadata_needs import files_without_metadata
from .run import EdxmlInfo, FileInfo, IngestRun

EDXML_MEDIA_TYPE = "application/edxml+xml"
EDXML_CANDIDATE_TYPES = {"application/xml", "text/xml", "text/plain", "application/octet-stream"}
PROGRESS_EVERY = 50
STORE_BATCH = 200  # files whose Blob rows go in one transaction
STORE_THREADS = 8  # files copied at once: their fsyncs overlap (the disk, not the CPU, is what waits)


def store_payload(run: IngestRun) -> None:
    """Hash and store every payload file; refuse empty, oversized and linked files.

    Files are copied (and hashed while copied, and synced) by ``STORE_THREADS`` threads, so the
    disk's flushes overlap; their ``Blob`` rows go in one transaction per ``STORE_BATCH`` files."""
    files = run.contents.files
    lean = files_without_metadata(run) if run.ahead is not None else frozenset()
    done = 0
    with ThreadPoolExecutor(max_workers=STORE_THREADS, thread_name_prefix="store") as pool:
        for start in range(0, len(files), STORE_BATCH):
            batch = files[start : start + STORE_BATCH]
            refused = {rel: _refusal(run, rel) for rel in batch}
            wanted = [rel for rel in batch if refused[rel] is None]
            infos = dict(zip(wanted, pool.map(lambda rel: _store(run, rel, rel not in lean), wanted), strict=True))
            _record_blobs(run, infos.values())
            for rel in batch:
                refusal = refused[rel]
                run.state.files[rel] = refusal if refusal is not None else _look_at(run, rel, infos[rel])
                done += 1
                if done % PROGRESS_EVERY == 0 or done == len(files):
                    run.progress("store", done, len(files))


def _store(run: IngestRun, rel: str, metadata: bool) -> FileInfo:
    """Store one payload file; a file the pool can read is handed to it at once (``ingest.ahead``)."""
    stored = run.store.put(run.contents.payload / rel)
    info = FileInfo(sha256=stored.sha256, size=stored.size, media_type=sniff(stored.path))
    if run.ahead is not None and info.media_type not in EDXML_CANDIDATE_TYPES and extractor_for(info.media_type):
        run.ahead.start(info.sha256, stored.path, metadata)
    return info


def keep_package_manifests(run: IngestRun) -> None:
    """The manifest and the bag's checksum list are originals of the handover: store them too."""
    contents = run.contents
    manifest = store_path(run, contents.manifest.path) if contents.manifest else None
    bag_manifest_path = contents.payload.parent / "manifest-sha256.txt"
    is_bag = contents.form.endswith("bag") and bag_manifest_path.is_file()
    bag_manifest = store_path(run, bag_manifest_path) if is_bag else None
    with run.archive.db.transaction() as session:
        package = session.get_one(Package, run.package_id)
        package.manifest_name = contents.manifest.path.name if contents.manifest else ""
        package.manifest_sha256 = manifest.sha256 if manifest else ""
        package.bag_manifest_sha256 = bag_manifest.sha256 if bag_manifest else ""


def store_path(run: IngestRun, path: Path) -> FileInfo:
    """Put one file in the store and record its ``Blob`` (once per SHA-256, even across runs)."""
    stored = run.store.put(path)
    media_type = sniff(stored.path)
    with run.archive.db.transaction() as session:
        if session.get(Blob, stored.sha256) is None:  # another run may insert it meanwhile: no error then
            session.execute(
                _insert(session, Blob)
                .values(sha256=stored.sha256, size=stored.size, media_type=media_type, stored_at=utcnow())
                .on_conflict_do_nothing()
            )
    return FileInfo(sha256=stored.sha256, size=stored.size, media_type=media_type)


def _refusal(run: IngestRun, rel: str) -> FileInfo | None:
    """The refusal of a payload file that must not be stored (link, empty, too large); None to store it."""
    full = run.contents.payload / rel
    limit = run.archive.settings.max_file_bytes
    if full.is_symlink():
        return FileInfo(refused="Liên kết tượng trưng (symlink): bị từ chối vì lý do an toàn")
    size = full.stat().st_size
    if size == 0:
        return FileInfo(size=0, refused="Tệp rỗng (0 byte)")
    if size > limit:
        return FileInfo(size=size, refused=f"Tệp quá lớn ({size} byte, tối đa {limit})")
    return None


def _record_blobs(run: IngestRun, infos: Iterable[FileInfo]) -> None:
    """The ``Blob`` rows of stored files, in one transaction (once per SHA-256, even across runs)."""
    rows = {info.sha256: info for info in infos}
    if not rows:
        return
    now = utcnow()
    with run.archive.db.transaction() as session:  # another run may insert some meanwhile: no error then
        session.execute(
            _insert(session, Blob)
            .values(
                [
                    {"sha256": i.sha256, "size": i.size, "media_type": i.media_type, "stored_at": now}
                    for i in rows.values()
                ]
            )
            .on_conflict_do_nothing()
        )


def _look_at(run: IngestRun, rel: str, info: FileInfo) -> FileInfo:
    """A stored payload file: an edXML message is read; any other original is inspected."""
    if info.media_type in EDXML_CANDIDATE_TYPES:
        full = run.contents.payload / rel
        with open(full, "rb") as handle:
            if edxml.looks_like_edxml(handle.read(4096)):
                return _read_edxml(run, rel, full, info)
    inspect_original(run, info)
    return info


def _read_edxml(run: IngestRun, rel: str, path: Path, info: FileInfo) -> FileInfo:
    """Read the message's metadata and store its decoded attachments as originals of their own."""
    try:
        message = edxml.parse(path, max_attachment_bytes=run.archive.settings.max_file_bytes)
    except edxml.EdxmlError as error:
        info.refused = f"Thông điệp edXML không đọc được: {error}"
        return info
    info.media_type = EDXML_MEDIA_TYPE
    attachments: list[tuple[str, str]] = []
    scratch = run.archive.settings.scratch_dir / f"edxml-{info.sha256}"
    for index, attachment in enumerate(message.attachments, start=1):
        key = f"{rel}#{index}/{attachment.name}"
        attachments.append((key, attachment.name))
        if attachment.problem:
            run.state.derived[key] = FileInfo(refused=attachment.problem)
            continue
        scratch.mkdir(parents=True, exist_ok=True)
        temporary = scratch / f"{index}"
        temporary.write_bytes(attachment.data)
        decoded = store_path(run, temporary)
        temporary.unlink()
        inspect_original(run, decoded)
        run.state.derived[key] = decoded
    if scratch.exists():
        scratch.rmdir()
    run.state.edxml[rel] = EdxmlInfo(fields=message.fields, content=message.content, attachments=attachments)
    return info


def _insert(session: Session, model):
    """The dialect's INSERT, which knows ``ON CONFLICT DO NOTHING``."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(model)
