"""Keep pyHanko's verdict on every stored PDF original (``BlobSignatures``), and read it back.

Ingest checks the PDFs of a package before indexing them (``check_unchecked``,
called from ``indexing.index_ready`` so ``archive ingest`` and ``archive worker``
both do it); ``archive verify`` checks every one again (``recheck_all``): a
verdict depends on the trust store and on time, not only on the bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive_core.context import Archive
from archive_core.db.models import Blob, BlobSignatures, Document, DocumentFile
from archive_core.store import blob_path

from . import signatures as sig

PDF = "application/pdf"
BATCH = 100


def trust_store(archive: Archive) -> sig.TrustStore:
    return sig.TrustStore.load(archive.settings.trust_roots or None)


def _values(sha256: str, result: sig.PdfSignatures) -> dict[str, Any]:
    return {
        "blob_sha256": sha256,
        "status": result.status,
        "signature_count": len(result.signatures),
        "signatures": [s.to_dict() for s in result.signatures],
        "error": result.error,
        "trust_store": result.trust_store,
        "checked_at": result.checked_at.replace(tzinfo=None),
    }


def _record(sha256: str, result: sig.PdfSignatures) -> BlobSignatures:
    return BlobSignatures(**_values(sha256, result))


def trust_fingerprint(archive: Archive) -> str | None:
    """The trust store's fingerprint, or None if it cannot be read (``check_unchecked`` says why later)."""
    try:
        return trust_store(archive).fingerprint
    except Exception:
        return None


def record_signature_free(session: Session, shas: Iterable[str], fingerprint: str) -> None:
    """Keep, in the caller's transaction, the verdict ``check_pdf`` gives a PDF that surely holds no signature
    for each of ``shas`` (``Extraction.signature_free``, found by the extractor while the PDF was open), unless
    one is kept already: ``check_unchecked`` then has nothing to open again for them."""
    rows = [_values(sha, sig.PdfSignatures(datetime.now(UTC), fingerprint)) for sha in dict.fromkeys(shas)]
    if not rows:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    # one statement compiled once (cached), run for every row, not a VALUES list compiled anew per batch
    session.execute(dialect.insert(BlobSignatures).on_conflict_do_nothing(), rows)


def _is_pdf():
    return (DocumentFile.media_type == PDF) | (Blob.media_type == PDF)


def check_unchecked(archive: Archive, package_id: int | None = None, document_ids: list[int] | None = None) -> int:
    """Check every extracted PDF original with no verdict yet (of some documents, one package, or all); the count."""
    trust = trust_store(archive)
    store_dir = archive.settings.store_dir
    done = 0
    while True:
        with archive.db.session() as session:
            query = (
                select(Blob.sha256)
                .join(DocumentFile, DocumentFile.blob_sha256 == Blob.sha256)
                .where(DocumentFile.status == "extracted", _is_pdf())
                .where(~exists().where(BlobSignatures.blob_sha256 == Blob.sha256))
            )
            if package_id is not None:
                query = query.join(Document, Document.id == DocumentFile.document_id).where(
                    Document.package_id == package_id
                )
            if document_ids is not None:
                query = query.where(DocumentFile.document_id.in_(document_ids))
            shas = list(dict.fromkeys(session.scalars(query.limit(BATCH))))
        if not shas:
            return done
        records = [_record(sha, sig.check_pdf(blob_path(store_dir, sha), trust)) for sha in shas]
        try:
            with archive.db.write_transaction() as session:
                session.add_all(records)  # new verdicts (none was kept for these): inserted, nothing read first
        except IntegrityError:
            continue  # another process stored a verdict for one of these first; the rest are picked up again
        done += len(records)


@dataclass(frozen=True)
class Recheck:
    sha256: str
    before: str
    after: str
    documents: list[int]


def recheck_all(archive: Archive, progress: Callable[[str], None] | None = None) -> list[Recheck]:
    """Check every kept verdict again, store the new one, and return each of them (changed or not)."""
    trust = trust_store(archive)
    store_dir = archive.settings.store_dir
    with archive.db.session() as session:
        rows = list(
            session.execute(
                select(BlobSignatures.blob_sha256, BlobSignatures.status).order_by(BlobSignatures.blob_sha256)
            )
        )
    out: list[Recheck] = []
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        results = {sha: sig.check_pdf(blob_path(store_dir, sha), trust) for sha, _ in batch}
        with archive.db.write_transaction() as session:
            for sha, before in batch:
                session.merge(_record(sha, results[sha]))
                documents = list(
                    session.scalars(select(DocumentFile.document_id).where(DocumentFile.blob_sha256 == sha).distinct())
                )
                out.append(Recheck(sha, before, results[sha].status, sorted(documents)))
        if progress:
            progress(f"chữ ký số: {min(start + BATCH, len(rows))}/{len(rows)}")
    return out


# -- reading -------------------------------------------------------------------------------------
def verdicts(session: Session, shas: Iterable[str | None]) -> dict[str, BlobSignatures]:
    wanted = {s for s in shas if s}
    if not wanted:
        return {}
    rows = session.scalars(select(BlobSignatures).where(BlobSignatures.blob_sha256.in_(wanted)))
    return {row.blob_sha256: row for row in rows}


def combined_status(statuses: Iterable[str]) -> str:
    """A document's status from its files': the worst of its signed files, else unsigned ("" without PDFs)."""
    seen = list(statuses)
    signed = [s for s in seen if s not in (sig.UNSIGNED, "")]
    if signed:
        return max(signed, key=lambda s: sig.STATUS_ORDER.index(s) if s in sig.STATUS_ORDER else len(sig.STATUS_ORDER))
    return sig.UNSIGNED if seen else ""


def document_status(session: Session, document: Document, known: dict[str, BlobSignatures] | None = None) -> str:
    """What the search filter "có chữ ký số hợp lệ" reads: ``hop_le`` only if every signed file is valid.

    ``known``: verdicts already read for a batch of documents (``verdicts``), holding these files' too."""
    found = known if known is not None else verdicts(session, (f.blob_sha256 for f in document.files))
    return combined_status(found[f.blob_sha256].status for f in document.files if f.blob_sha256 in found)
