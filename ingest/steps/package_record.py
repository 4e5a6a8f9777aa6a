"""The ``Package`` record of a run: found again for the same package handed in twice, or created.

Two runs of one package at once share one record (a named lock on PostgreSQL,
``BEGIN IMMEDIATE`` on SQLite).  A package that cannot be opened at all is
recorded as refused, with the reason of each problem.
"""

from __future__ import annotations

import zlib
from itertools import chain, islice
from pathlib import Path

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from archive_core.clock import utcnow
from archive_core.context import Archive
from archive_core.db.models import IngestItem, Package

from ..packages import PackageContents, PackageRefused
from .outcomes import BATCH


def find_or_create_package(archive: Archive, contents: PackageContents) -> int:
    """The id of this package's record (same unit, same fingerprint), marked running."""
    fingerprint = contents.fingerprint()
    with archive.db.write_transaction() as session:
        lock_name(session, f"package:{contents.unit_code}:{fingerprint}")  # two runs of one package: one record
        package = session.scalar(
            select(Package)
            .where(Package.fingerprint == fingerprint, Package.unit_code == contents.unit_code)
            .order_by(Package.id)
            .limit(1)
        )
        if package is None:
            package = Package(
                fingerprint=fingerprint,
                source_path=str(contents.source),
                form=contents.form,
                unit_code=contents.unit_code,
            )
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


def record_refused_package(archive: Archive, path: Path, refusal: PackageRefused, unit_code: str | None) -> int:
    """A package that could not be opened: one refused record with every problem found."""
    with archive.db.transaction() as session:
        bag_info = refusal.facts.get("bag_info", {})
        package = Package(
            fingerprint="",
            source_path=str(path),
            form="refused",
            unit_code=unit_code or bag_info.get("Unit-Code", ""),
            source_organization=bag_info.get("Source-Organization", ""),
            bag_info=bag_info,
            status="refused",
            warnings=[refusal.reason],
            finished_at=utcnow(),
        )
        session.add(package)
        session.flush()
        items = chain(
            [{"kind": "package", "key": str(path), "reason": refusal.reason}],
            (
                {
                    "kind": "file",
                    "key": problem["path"] or str(path),
                    "reason": f"[{problem['problem']}] {problem['reason']}",
                }
                for problem in refusal.problems
            ),
        )
        while chunk := list(islice(items, BATCH)):  # a bag of many mismatched files: a batch at a time
            session.execute(insert(IngestItem), [{"package_id": package.id, "outcome": "refused", **i} for i in chunk])
        return package.id


def lock_name(session: Session, name: str) -> None:
    """Serialise, for the rest of the transaction, the writers that use the same name (PostgreSQL;
    on SQLite the ``BEGIN IMMEDIATE`` of a write transaction already does)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": zlib.crc32(name.encode())})
