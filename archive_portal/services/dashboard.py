"""What the dashboards count: documents per old unit, year and type (in the reader's scope), ingest progress,
OCR confidence. Counted by the database (a few GROUP BYs), drawn by ``charts``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup
from sqlalchemy import extract, func, select
from sqlalchemy.orm import Session

from archive_core.db.models import Document, DocumentFile, OldUnit, Package, Page

from .charts import bar_chart, column_chart
from .scope import may_see_restricted

TOP_UNITS = 15
TOP_TYPES = 10
CONFIDENCE_BINS = ((0, 50, "dưới 50%"), (50, 70, "50–70%"), (70, 85, "70–85%"), (85, 101, "từ 85%"))
FILE_STATUS_LABELS = {
    "pending": "Đang chờ đọc",
    "extracted": "Đã đọc xong",
    "missing": "Thiếu tệp",
    "refused": "Từ chối",
}


@dataclass(frozen=True)
class Progress:
    """Files of the archive still to read (text layer or OCR) and the packages still running."""

    files_total: int
    files_done: int
    files_pending: int
    running_packages: int
    by_status: dict[str, int] = field(default_factory=dict)

    @property
    def percent(self) -> int:
        return 100 if not self.files_total else int(100 * self.files_done / self.files_total)

    def as_json(self) -> dict:
        return {
            "files_total": self.files_total,
            "files_done": self.files_done,
            "files_pending": self.files_pending,
            "running_packages": self.running_packages,
            "percent": self.percent,
            "by_status": {FILE_STATUS_LABELS.get(k, k): v for k, v in self.by_status.items()},
        }


@dataclass(frozen=True)
class Dashboard:
    documents: int
    units: int
    years: tuple[int, int] | None
    pages: dict[str, int]
    charts: dict[str, Markup]
    progress: Progress | None = None
    low_confidence_pages: int = 0


def _readable(stmt, scope: frozenset[str] | None):
    """Only what the account may read: never withheld, its old units, restricted only if allowed."""
    stmt = stmt.where(Document.withheld.is_(False))
    if scope is not None:
        stmt = stmt.where(Document.unit_code.in_(sorted(scope)))
    if not may_see_restricted(scope):
        stmt = stmt.where(Document.restricted.is_(False))
    return stmt


def ingest_progress(session: Session) -> Progress:
    # files of withheld documents are never read (nothing of them may reach the index): not "to do"
    by_status = dict(
        session.execute(
            select(DocumentFile.status, func.count())
            .join(Document, DocumentFile.document_id == Document.id)
            .where(Document.withheld.is_(False))
            .group_by(DocumentFile.status)
        ).all()
    )
    running = session.scalar(select(func.count()).select_from(Package).where(Package.status == "running")) or 0
    total = sum(by_status.values())
    pending = by_status.get("pending", 0)
    return Progress(
        files_total=total,
        files_done=total - pending,
        files_pending=pending,
        running_packages=running,
        by_status=by_status,
    )


def dashboard(session: Session, scope: frozenset[str] | None, *, operations: bool = False) -> Dashboard:
    """The counts of one reader's scope; ``operations`` adds ingest progress and OCR quality (staff only)."""
    counted = session.execute(
        _readable(select(Document.unit_code, func.count()), scope).group_by(Document.unit_code)
    ).all()
    names = dict(
        session.execute(select(OldUnit.code, OldUnit.name).where(OldUnit.code.in_([c for c, _ in counted]))).all()
    )
    per_unit: list[tuple[str, int]] = sorted(((names.get(c, c), n) for c, n in counted), key=lambda r: -r[1])
    if len(per_unit) > TOP_UNITS:
        per_unit = per_unit[:TOP_UNITS] + [
            (f"{len(per_unit) - TOP_UNITS} đơn vị khác", sum(n for _, n in per_unit[TOP_UNITS:]))
        ]
    year = extract("year", Document.issued_date)
    per_year = session.execute(
        _readable(select(year, func.count()), scope)
        .where(Document.issued_date.is_not(None))
        .group_by(year)
        .order_by(year)
    ).all()
    undated = (
        session.scalar(
            _readable(select(func.count()).select_from(Document), scope).where(Document.issued_date.is_(None))
        )
        or 0
    )
    per_type = session.execute(
        _readable(select(Document.doc_type, func.count()), scope)
        .group_by(Document.doc_type)
        .order_by(func.count().desc())
    ).all()
    types = [(t or "(chưa rõ loại)", n) for t, n in per_type]
    if len(types) > TOP_TYPES:
        types = types[:TOP_TYPES] + [("Loại khác", sum(n for _, n in types[TOP_TYPES:]))]
    total = sum(n for _, n in per_unit)

    pages_stmt = _readable(
        select(Page.method, func.count())
        .join(DocumentFile, Page.file_id == DocumentFile.id)
        .join(Document, DocumentFile.document_id == Document.id),
        scope,
    ).group_by(Page.method)
    pages = dict(session.execute(pages_stmt).all())

    charts = {
        "units": bar_chart("Văn bản theo đơn vị cũ", per_unit),
        "years": column_chart("Văn bản theo năm ban hành", [(str(int(y)), n) for y, n in per_year if y is not None]),
        "types": bar_chart("Văn bản theo loại", types),
    }
    years = (int(per_year[0][0]), int(per_year[-1][0])) if per_year and per_year[0][0] is not None else None
    progress = None
    low = 0
    if operations:
        progress = ingest_progress(session)
        bins = []
        for lo, hi, label in CONFIDENCE_BINS:
            n = (
                session.scalar(
                    select(func.count())
                    .select_from(Page)
                    .where(Page.method == "ocr", Page.ocr_confidence >= lo, Page.ocr_confidence < hi)
                )
                or 0
            )
            bins.append((label, n))
        low = bins[0][1] + bins[1][1]
        charts["confidence"] = bar_chart("Trang nhận dạng (OCR) theo độ tin cậy", bins)
        charts["files"] = bar_chart(
            "Tệp theo trạng thái đọc",
            [(FILE_STATUS_LABELS.get(k, k), v) for k, v in sorted(progress.by_status.items())],
        )
    if undated:
        charts["undated"] = Markup(f'<p class="hint">{undated} văn bản chưa rõ ngày ban hành.</p>')
    return Dashboard(
        documents=total,
        units=len(counted),
        years=years,
        pages=pages,
        charts=charts,
        progress=progress,
        low_confidence_pages=low,
    )
