"""Ingest packages as archivists see them: the list, each report and the handover records.

The archivist's pages reach ingest's report and handover record through this
module only (views never import ingest).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive_core.context import Archive
from archive_core.db.models import OldUnit, Package
from ingest import handover
from ingest.handover import HandoverRecord
from ingest.report import TEMPLATE_LABELS, build_report


@dataclass(frozen=True)
class PackageSummary:
    id: int
    unit_code: str
    unit_name: str
    form: str
    status: str
    verified: bool
    started_at: object
    counts: dict


REPORT_LABELS = TEMPLATE_LABELS


def list_packages(session: Session, limit: int = 500) -> list[PackageSummary]:
    packages = list(session.scalars(select(Package).order_by(Package.id.desc()).limit(limit)))
    names = dict(
        session.execute(
            select(OldUnit.code, OldUnit.name).where(OldUnit.code.in_({p.unit_code for p in packages}))
        ).all()
    )
    return [
        PackageSummary(
            p.id,
            p.unit_code,
            names.get(p.unit_code, p.source_organization),
            p.form,
            p.status,
            p.verified,
            p.started_at,
            dict(p.counts or {}),
        )
        for p in packages
    ]


def units_with_packages(session: Session) -> list[tuple[str, str, int]]:
    rows = session.execute(
        select(Package.unit_code, func.count(Package.id))
        .where(Package.unit_code != "")
        .group_by(Package.unit_code)
        .order_by(Package.unit_code)
    ).all()
    names = dict(
        session.execute(select(OldUnit.code, OldUnit.name).where(OldUnit.code.in_({code for code, _ in rows}))).all()
    )
    return [(code, names.get(code, code), count) for code, count in rows]


def package_report(session: Session, archive: Archive, package_id: int) -> dict | None:
    """The ingest report of one package (ingest builds it in a read of its own), or None."""
    if session.get(Package, package_id) is None:
        return None
    return build_report(archive, package_id)


def handover_record(
    archive: Archive, *, package_id: int | None = None, unit_code: str | None = None
) -> HandoverRecord | None:
    if package_id is not None:
        return handover.package_handover(archive, package_id)
    return handover.unit_handover(archive, unit_code or "")


def handover_csv(record: HandoverRecord) -> str:
    """The record with every file, as CSV to download."""
    return handover.to_csv(record)


def handover_html(record: HandoverRecord) -> str:
    """The record as a standalone page to print."""
    return handover.to_html(record)


def handover_fragment(record: HandoverRecord) -> str:
    """The record's body (trusted HTML built by ingest) to show inside a portal page."""
    return handover.to_html_fragment(record)
