"""The handover record (biên bản bàn giao) of a package or of an old unit.

Lists every file with its SHA-256, size, outcome and reason, and reconciles
the totals with what the unit handed over: the bag's checksum list (kept in
the store at ingest) and the number of rows of its manifest.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePath

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import select

from archive_core.cells import csv_writer
from archive_core.clock import to_local, utcnow, zone_label
from archive_core.context import Archive
from archive_core.db.models import Document, Dossier, IngestItem, OldUnit, Package
from archive_core.store import blob_path

from .dossier_list import DOSSIER_STEM
from .report import OUTCOME_LABELS, PACKAGE_FORM_LABELS, PACKAGE_STATUS_LABELS

FILE_KINDS = ("manifest", "file", "attachment")
FILE_KIND_LABELS = {
    "manifest": "Bảng kê",
    "file": "Tệp",
    "attachment": "Đính kèm từ edXML",
    "dossier_list": "Danh mục hồ sơ",
}
CSV_COLUMNS = ("goi", "loai", "duong_dan", "sha256", "kich_thuoc", "ket_qua", "ly_do", "ma_van_ban")
_env = Environment(loader=PackageLoader("ingest", "templates"), autoescape=select_autoescape())


@dataclass
class Check:
    label: str
    expected: int | str
    actual: int | str

    @property
    def ok(self) -> bool:
        return self.expected == self.actual


@dataclass
class HandoverRecord:
    title: str
    unit_code: str
    unit_name: str
    packages: list[dict] = field(default_factory=list)
    files: list[dict] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    made_at: datetime = field(default_factory=utcnow)  # stored UTC; printed in Hà Nội time, zone named

    @property
    def totals(self) -> dict[str, int]:
        totals = {"files": len(self.files), "bytes": sum(f["size"] or 0 for f in self.files)}
        for outcome in OUTCOME_LABELS:
            totals[f"files_{outcome}"] = sum(1 for f in self.files if f["outcome"] == outcome)
            totals[f"rows_{outcome}"] = sum(1 for r in self.rows if r["outcome"] == outcome)
        totals["rows"] = len(self.rows)
        return totals

    @property
    def reconciled(self) -> bool:
        return all(check.ok for check in self.checks)


def _bag_manifest(archive: Archive, sha256: str) -> dict[str, str]:
    """``path -> sha256`` of the payload files the bag declared (paths relative to data/)."""
    if not sha256:
        return {}
    entries = {}
    for line in blob_path(archive.settings.store_dir, sha256).read_text("utf-8").splitlines():
        digest, _, path = line.strip().partition(" ")
        path = path.strip().lstrip("*")
        if digest and path.startswith("data/"):
            entries[path[5:]] = digest.lower()
    return entries


def _package_part(archive: Archive, session, package: Package, record: HandoverRecord) -> None:
    items = list(session.scalars(select(IngestItem).where(IngestItem.package_id == package.id).order_by(IngestItem.id)))
    keys = dict(
        session.execute(select(Document.id, Document.ma_van_ban).where(Document.package_id == package.id)).all()
    )
    counts = package.counts or {}
    record.packages.append(
        {
            "id": package.id,
            "form": package.form,
            "source_path": package.source_path,
            "verified": package.verified,
            # the record is a formal paper: the package by its own name, never the server's path to it
            "source_name": PurePath(package.source_path or "").name,
            "status": package.status,
            "started_at": package.started_at,
            "finished_at": package.finished_at,
            "source_organization": package.source_organization,
            "manifest_name": package.manifest_name,
            "manifest_sha256": package.manifest_sha256,
            "bag_manifest_sha256": package.bag_manifest_sha256,
        }
    )
    files = [i for i in items if i.kind in FILE_KINDS]
    for item in files:
        record.files.append(
            {
                "package": package.id,
                "kind": item.kind,
                "path": item.key,
                "sha256": item.sha256,
                "size": item.size,
                "outcome": item.outcome,
                "reason": item.reason,
                "ma_van_ban": keys.get(item.document_id, ""),
            }
        )
    rows = [i for i in items if i.kind == "row"]
    for item in rows:
        record.rows.append({"package": package.id, "key": item.key, "outcome": item.outcome, "reason": item.reason})

    prefix = f"Gói #{package.id}: "
    payload = [i for i in files if i.kind in ("manifest", "file") and not i.key.startswith("zip:")]
    if package.status == "done":
        record.checks.append(
            Check(
                prefix + "số tệp trong gói = số tệp có kết quả", counts.get("payload_files", len(payload)), len(payload)
            )
        )
        if package.manifest_name:
            record.checks.append(
                Check(
                    prefix + f"số dòng của {package.manifest_name} = số dòng có kết quả",
                    counts.get("manifest_rows", 0),
                    len(rows),
                )
            )
    declared = _bag_manifest(archive, package.bag_manifest_sha256)
    # the dossier list (ho_so.*, contract 3a) is kept as an original and read into dossiers, not into rows
    lists = set(
        session.scalars(
            select(Dossier.source_sha256).where(Dossier.package_id == package.id, Dossier.source_sha256 != "")
        )
    )
    for path, digest in declared.items():
        if PurePath(path).stem == DOSSIER_STEM and digest in lists and path not in {i.key for i in payload}:
            record.files.append(
                {
                    "package": package.id,
                    "kind": "dossier_list",
                    "path": path,
                    "sha256": digest,
                    "size": None,
                    "outcome": "indexed",
                    "reason": "",
                    "ma_van_ban": "",
                }
            )
            payload.append(IngestItem(kind="dossier_list", key=path, sha256=digest))
    if declared:
        by_path = {i.key: i for i in payload}
        record.checks.append(
            Check(
                prefix + "số tệp khai trong manifest-sha256.txt = số tệp có kết quả",
                len(declared),
                sum(1 for p in declared if p in by_path),
            )
        )
        matching = sum(1 for p, digest in declared.items() if p in by_path and by_path[p].sha256 == digest)
        stored = sum(1 for p in declared if p in by_path and by_path[p].sha256)
        record.checks.append(
            Check(prefix + "tệp đã lưu có SHA-256 đúng như khai trong manifest-sha256.txt", stored, matching)
        )


def package_handover(archive: Archive, package_id: int) -> HandoverRecord | None:
    with archive.db.session() as session:
        package = session.get(Package, package_id)
        if package is None:
            return None
        unit = session.get(OldUnit, package.unit_code)
        record = HandoverRecord(
            title=f"Biên bản bàn giao dữ liệu — gói #{package.id}",
            unit_code=package.unit_code,
            unit_name=unit.name if unit else package.source_organization,
        )
        _package_part(archive, session, package, record)
        return record


def unit_handover(archive: Archive, unit_code: str) -> HandoverRecord | None:
    with archive.db.session() as session:
        packages = list(session.scalars(select(Package).where(Package.unit_code == unit_code).order_by(Package.id)))
        if not packages:
            return None
        unit = session.get(OldUnit, unit_code)
        record = HandoverRecord(
            title=f"Biên bản bàn giao dữ liệu — đơn vị {unit.name if unit else unit_code}",
            unit_code=unit_code,
            unit_name=unit.name if unit else packages[0].source_organization,
        )
        for package in packages:
            _package_part(archive, session, package, record)
        return record


def to_csv(record: HandoverRecord) -> str:
    buffer = io.StringIO()
    writer = csv_writer(buffer)  # file names and numbers come from the package: no formulas
    writer.writerow(CSV_COLUMNS)
    for f in record.files:
        writer.writerow(
            [
                f["package"],
                FILE_KIND_LABELS.get(f["kind"], f["kind"]),
                f["path"],
                f["sha256"],
                f["size"] if f["size"] is not None else "",
                OUTCOME_LABELS.get(f["outcome"], f["outcome"]),
                f["reason"],
                f["ma_van_ban"],
            ]
        )
    return "\ufeff" + buffer.getvalue()  # BOM: opens correctly in Excel


def to_html(record: HandoverRecord) -> str:
    """A standalone printable page (styles inline), for download and for the reports folder."""
    return _env.get_template("handover.html").render(record=record, **_labels(record))


def to_html_fragment(record: HandoverRecord) -> str:
    """The same record without page chrome, to embed in the portal's own layout."""
    return _env.get_template("handover_body.html").render(record=record, **_labels(record))


def _labels(record: HandoverRecord) -> dict:
    return {
        "outcome_labels": OUTCOME_LABELS,
        "status_labels": PACKAGE_STATUS_LABELS,
        "form_labels": PACKAGE_FORM_LABELS,
        "made_at": to_local(record.made_at),
        "zone": zone_label(),
    }
