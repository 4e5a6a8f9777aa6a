"""The outcome of every row and every file of a package (indexed, duplicate, withheld or refused), and its counts.

The outcomes are written as they are found, a batch at a time: the package's
documents are read back in batches of ``BATCH`` (by id), and the owners of its
files are looked up for ``BATCH`` paths at a time, so a package of any size is
never held whole in memory (only this run's own findings, ``RunState``, which
the extraction held already).  Items are inserted in the order of the report:
refused and duplicate rows, documents by id, the manifest, refused zip members,
files, then attachments decoded from edXML messages.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import chain, islice

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from archive_core.clock import utcnow
from archive_core.db.models import Document, DocumentFile, IngestItem, Package

from ..packages import PackageContents
from .run import FileInfo, IngestRun, RunState

BATCH = 500  # documents read, paths looked up and items inserted at a time


def record_outcomes(run: IngestRun) -> None:
    """Replace the package's items with this run's outcomes; count them; mark the package done."""
    contents = run.contents
    with run.archive.db.write_transaction() as session:
        # another run of the same package may record at the same moment: one after the other
        package = session.scalars(select(Package).where(Package.id == run.package_id).with_for_update()).one()
        session.execute(delete(IngestItem).where(IngestItem.package_id == run.package_id))
        counts: dict[str, int] = defaultdict(int)
        items = compute_outcomes(session, package, contents, run.state, BATCH)
        while chunk := list(islice(items, BATCH)):
            for item in chunk:
                counts[f"{item['kind']}_{item['outcome']}"] += 1
                counts[f"{item['kind']}_total"] += 1
            session.execute(insert(IngestItem), chunk)  # one executemany, no ORM objects
        counts["documents_added_this_run"] = run.state.created
        counts["manifest_rows"] = len(contents.manifest.rows) if contents.manifest else 0
        counts["payload_files"] = len(contents.files) + (1 if contents.manifest else 0)
        package.counts = dict(counts)
        package.status = "done"
        package.finished_at = utcnow()


@dataclass(frozen=True)
class _Owner:
    """A document that holds a file, as much of it as the file's outcome needs."""

    document_id: int
    withheld: bool
    withheld_reason: str | None
    indexed: bool
    file_status: str
    file_reason: str


def _document_outcome(
    withheld: bool, withheld_reason: str | None, confidentiality: str | None, indexed_at: datetime | None, flags
) -> tuple[str, str]:
    if withheld:
        why = withheld_reason or f"Văn bản {confidentiality}"  # names the value that withheld it
        return "withheld", f"{why}: lưu giữ nhưng không cho tra cứu"
    if indexed_at is not None:
        return "indexed", "; ".join(flags or [])
    return "refused", "Chưa đánh chỉ mục được (chạy lại lệnh nhập để hoàn tất)"


def compute_outcomes(
    session: Session, package: Package, contents: PackageContents, state: RunState, batch: int
) -> Iterator[dict]:
    """Every item of the package, in order, as the column values of an ``IngestItem``; produced as read."""

    def item(kind: str, key: str, outcome: str, reason: str = "", **extra) -> dict:
        values = {"document_id": None, "sha256": "", "size": None, **extra}
        return {"package_id": package.id, "kind": kind, "key": key, "outcome": outcome, "reason": reason, **values}

    for label, reason in state.row_refusals.items():
        yield item("row", label, "refused", reason)
    for key, reason in state.row_duplicates.items():  # a re-export that raised secrecy withheld its document
        yield item("row", key, "withheld" if key in state.raised else "duplicate", reason)

    for document_id, ma_van_ban, origin, *facts in _documents(session, package.id, batch):
        outcome, reason = _document_outcome(*facts)
        kind = "row" if origin == "manifest" else "document"
        yield item(kind, ma_van_ban, outcome, reason, document_id=document_id)

    if contents.manifest is not None and package.manifest_sha256:
        yield item(
            "manifest",
            contents.manifest.path.relative_to(contents.payload).as_posix(),
            "indexed",
            f"Bảng kê văn bản: {len(contents.manifest.rows)} dòng",
            sha256=package.manifest_sha256,
            size=contents.manifest.path.stat().st_size,
        )
    for member, reason in contents.refused_members:
        yield item("file", f"zip:{member}", "refused", reason)
    files = chain(
        (("file", rel, info) for rel, info in state.files.items()),
        (("attachment", key, info) for key, info in state.derived.items()),
    )
    while chunk := list(islice(files, batch)):
        owners = _owners(session, package.id, [rel for _, rel, info in chunk if not info.refused])
        for kind, rel, info in chunk:
            yield _file_item(item, kind, rel, info, owners.get(rel, []), state)


def _file_item(item, kind: str, rel: str, info: FileInfo, owners: list[_Owner], state: RunState) -> dict:
    sizes = {"sha256": info.sha256, "size": info.size}
    if info.refused:
        return item(kind, rel, "refused", info.refused, **sizes)
    if not owners:
        reason = state.file_duplicates.get(rel, "Không thuộc văn bản nào (lỗi nội bộ: hãy báo lại)")
        return item(kind, rel, "duplicate" if rel in state.file_duplicates else "refused", reason, **sizes)
    first = owners[0].document_id
    refused = [o for o in owners if o.file_status == "refused"]
    if refused:
        return item(kind, rel, "refused", refused[0].file_reason, document_id=first, **sizes)
    if all(o.withheld for o in owners):
        why = owners[0].withheld_reason or "Thuộc văn bản mật"
        return item(kind, rel, "withheld", why, document_id=first, **sizes)
    if any(o.indexed for o in owners):
        return item(kind, rel, "indexed", "", document_id=first, **sizes)
    return item(kind, rel, "refused", "Chưa xử lý xong (chạy lại lệnh nhập để hoàn tất)", document_id=first, **sizes)


def _documents(session: Session, package_id: int, batch: int) -> Iterator[tuple]:
    """(id, ma_van_ban, origin, withheld, withheld_reason, confidentiality, indexed_at, flags) of each
    document of the package, by id, ``batch`` at a time."""
    after = 0
    while True:
        rows = session.execute(
            select(
                Document.id,
                Document.ma_van_ban,
                Document.origin,
                Document.withheld,
                Document.withheld_reason,
                Document.confidentiality,
                Document.indexed_at,
                Document.flags,
            )
            .where(Document.package_id == package_id, Document.id > after)
            .order_by(Document.id)
            .limit(batch)
        ).all()
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1][0]


def _owners(session: Session, package_id: int, paths: list[str]) -> dict[str, list[_Owner]]:
    """The documents of the package that hold each of ``paths``, by document id then file position."""
    owners: dict[str, list[_Owner]] = {}
    if not paths:
        return owners
    rows = session.execute(
        select(
            DocumentFile.path_in_package,
            Document.id,
            Document.withheld,
            Document.withheld_reason,
            Document.indexed_at,
            DocumentFile.status,
            DocumentFile.reason,
        )
        .join(Document, DocumentFile.document_id == Document.id)
        .where(Document.package_id == package_id, DocumentFile.path_in_package.in_(paths))
        .order_by(Document.id, DocumentFile.position, DocumentFile.id)
    )
    for path, document_id, withheld, withheld_reason, indexed_at, status, reason in rows:
        owners.setdefault(path, []).append(
            _Owner(document_id, bool(withheld), withheld_reason, indexed_at is not None, status, reason)
        )
    return owners
