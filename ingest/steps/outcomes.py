"""The outcome of every row and every file of a package (indexed, duplicate, withheld or refused), and its counts."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from archive_core.clock import utcnow
from archive_core.db.models import Document, DocumentFile, IngestItem, Package

from ..packages import PackageContents
from .run import IngestRun, RunState


def record_outcomes(run: IngestRun) -> None:
    """Replace the package's items with this run's outcomes; count them; mark the package done."""
    contents = run.contents
    with run.archive.db.write_transaction() as session:
        # another run of the same package may record at the same moment: one after the other
        package = session.scalars(select(Package).where(Package.id == run.package_id).with_for_update()).one()
        items = compute_outcomes(session, package, contents, run.state)
        session.execute(delete(IngestItem).where(IngestItem.package_id == run.package_id))
        session.add_all(items)
        counts: dict[str, int] = defaultdict(int)
        for item in items:
            counts[f"{item.kind}_{item.outcome}"] += 1
            counts[f"{item.kind}_total"] += 1
        counts["documents_added_this_run"] = run.state.created
        counts["manifest_rows"] = len(contents.manifest.rows) if contents.manifest else 0
        counts["payload_files"] = len(contents.files) + (1 if contents.manifest else 0)
        package.counts = dict(counts)
        package.status = "done"
        package.finished_at = utcnow()


def _document_outcome(document: Document) -> tuple[str, str]:
    if document.withheld:
        why = document.withheld_reason or f"Văn bản {document.confidentiality}"  # names the value that withheld it
        return "withheld", f"{why}: lưu giữ nhưng không cho tra cứu"
    if document.indexed_at is not None:
        return "indexed", "; ".join(document.flags or [])
    return "refused", "Chưa đánh chỉ mục được (chạy lại lệnh nhập để hoàn tất)"


def compute_outcomes(
    session: Session, package: Package, contents: PackageContents, state: RunState
) -> list[IngestItem]:
    items: list[IngestItem] = []

    def add(kind: str, key: str, outcome: str, reason: str = "", **extra) -> None:
        items.append(IngestItem(package_id=package.id, kind=kind, key=key, outcome=outcome, reason=reason, **extra))

    for label, reason in state.row_refusals.items():
        add("row", label, "refused", reason)
    for key, reason in state.row_duplicates.items():  # a re-export that raised secrecy withheld its document
        add("row", key, "withheld" if key in state.raised else "duplicate", reason)

    documents = list(
        session.scalars(
            select(Document)
            .where(Document.package_id == package.id)
            .options(selectinload(Document.files))
            .order_by(Document.id)
        )
    )
    files_by_path: dict[str, list[tuple[Document, DocumentFile]]] = {}
    for document in documents:
        outcome, reason = _document_outcome(document)
        kind = "row" if document.origin == "manifest" else "document"
        add(kind, document.ma_van_ban, outcome, reason, document_id=document.id)
        for file in document.files:
            files_by_path.setdefault(file.path_in_package, []).append((document, file))

    if contents.manifest is not None and package.manifest_sha256:
        size = contents.manifest.path.stat().st_size
        add(
            "manifest",
            contents.manifest.path.relative_to(contents.payload).as_posix(),
            "indexed",
            f"Bảng kê văn bản: {len(contents.manifest.rows)} dòng",
            sha256=package.manifest_sha256,
            size=size,
        )
    for member, reason in contents.refused_members:
        add("file", f"zip:{member}", "refused", reason)
    files = [("file", rel, info) for rel, info in state.files.items()]
    files += [("attachment", key, info) for key, info in state.derived.items()]
    for kind, rel, info in files:
        sizes = {"sha256": info.sha256, "size": info.size}
        if info.refused:
            add(kind, rel, "refused", info.refused, **sizes)
            continue
        owners = files_by_path.get(rel, [])
        if not owners:
            reason = state.file_duplicates.get(rel, "Không thuộc văn bản nào (lỗi nội bộ: hãy báo lại)")
            add(kind, rel, "duplicate" if rel in state.file_duplicates else "refused", reason, **sizes)
            continue
        refused = [f for _, f in owners if f.status == "refused"]
        if refused:
            add(kind, rel, "refused", refused[0].reason, document_id=owners[0][0].id, **sizes)
        elif all(d.withheld for d, _ in owners):
            why = owners[0][0].withheld_reason or "Thuộc văn bản mật"
            add(kind, rel, "withheld", why, document_id=owners[0][0].id, **sizes)
        elif any(d.indexed_at is not None for d, _ in owners):
            add(kind, rel, "indexed", "", document_id=owners[0][0].id, **sizes)
        else:
            add(
                kind,
                rel,
                "refused",
                "Chưa xử lý xong (chạy lại lệnh nhập để hoàn tất)",
                document_id=owners[0][0].id,
                **sizes,
            )
    return items
