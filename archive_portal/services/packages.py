"""Ingest packages as archivists see them: the list, each report and the handover records."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from ingest import handover
from ingest.report import build_report

from archive_core.context import Archive
from archive_core.db.models import OldUnit, Package


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


def list_packages(archive: Archive, limit: int = 500) -> list[PackageSummary]:
    with archive.db.session() as session:
        packages = list(session.scalars(select(Package).order_by(Package.id.desc()).limit(limit)))
        names = dict(session.execute(
            select(OldUnit.code, OldUnit.name).where(OldUnit.code.in_({p.unit_code for p in packages}))).all())
        return [PackageSummary(p.id, p.unit_code, names.get(p.unit_code, p.source_organization), p.form, p.status,
                               p.verified, p.started_at, dict(p.counts or {})) for p in packages]


def units_with_packages(archive: Archive) -> list[tuple[str, str, int]]:
    with archive.db.session() as session:
        rows = session.execute(
            select(Package.unit_code, func.count(Package.id)).where(Package.unit_code != "")
            .group_by(Package.unit_code).order_by(Package.unit_code)).all()
        names = dict(session.execute(select(OldUnit.code, OldUnit.name)
                                     .where(OldUnit.code.in_({code for code, _ in rows}))).all())
        return [(code, names.get(code, code), count) for code, count in rows]


def package_report(archive: Archive, package_id: int) -> dict | None:
    with archive.db.session() as session:
        if session.get(Package, package_id) is None:
            return None
    return build_report(archive, package_id)


def handover_record(archive: Archive, *, package_id: int | None = None, unit_code: str | None = None):
    if package_id is not None:
        return handover.package_handover(archive, package_id)
    return handover.unit_handover(archive, unit_code or "")
