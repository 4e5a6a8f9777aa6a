"""The digital signatures of a document's files, as the document page and the API show them.

The verdicts are made at ingest and re-made by ``archive verify``
(``ingest.signature_checks``); this module only reads and words them.
Times are shown in Hà Nội time, dd/mm/yyyy HH:MM.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from archive_core.clock import to_local
from archive_core.db.models import BlobSignatures
from ingest import signatures as sig
from ingest.signature_checks import combined_status, verdicts

COVERAGE_LABELS = {
    "entire_file": "Chữ ký bao toàn bộ tệp",
    "entire_revision": "Chữ ký bao phiên bản được ký; tệp có phần bổ sung sau đó",
    "partial": "Chữ ký chỉ bao một phần tệp",
}
FILTER_LABEL = "Có chữ ký số hợp lệ"


def _when(value: datetime | None) -> str:
    return to_local(value).strftime("%d/%m/%Y %H:%M:%S") if value else ""


@dataclass(frozen=True)
class SignatureView:
    check: sig.SignatureCheck

    @property
    def label(self) -> str:
        return sig.STATUS_LABELS[self.check.status]

    @property
    def signing_time(self) -> str:
        return _when(self.check.signing_time)

    @property
    def timestamp(self) -> str:
        return _when(self.check.timestamp)

    @property
    def certificate_validity(self) -> str:
        c = self.check
        if not c.certificate_valid_from or not c.certificate_valid_to:
            return ""
        return f"{_when(c.certificate_valid_from)} – {_when(c.certificate_valid_to)}"

    @property
    def modification_label(self) -> str:
        return sig.MODIFICATION_LABELS.get(self.check.modification, self.check.modification)

    @property
    def coverage_label(self) -> str:
        return COVERAGE_LABELS.get(self.check.coverage, self.check.coverage)


@dataclass(frozen=True)
class FileSignatures:
    status: str
    checked_at: datetime
    error: str
    signatures: list[SignatureView]

    @property
    def label(self) -> str:
        return sig.STATUS_LABELS.get(self.status, self.status)

    @property
    def valid(self) -> bool:
        return self.status == sig.VALID

    @property
    def checked_at_display(self) -> str:
        return _when(self.checked_at)


def _view(row: BlobSignatures) -> FileSignatures:
    return FileSignatures(
        status=row.status,
        checked_at=row.checked_at,
        error=row.error,
        signatures=[SignatureView(sig.SignatureCheck.from_dict(d)) for d in row.signatures or []],
    )


def file_signatures(session: Session, shas: list[str | None]) -> dict[str, FileSignatures]:
    """The verdicts for these originals, by SHA-256 (a file that is no PDF has none)."""
    return {sha: _view(row) for sha, row in verdicts(session, shas).items()}


def document_status(found: dict[str, FileSignatures]) -> str:
    return combined_status(v.status for v in found.values())


def status_label(status: str) -> str:
    return sig.STATUS_LABELS.get(status, "")


def as_json(view: FileSignatures | None) -> dict[str, Any] | None:
    """The API form: codes and labels, times in ISO 8601 UTC."""
    if view is None:
        return None
    return {
        "status": view.status,
        "label": view.label,
        "valid": view.valid,
        "checked_at": view.checked_at.isoformat() + "Z",
        "error": view.error,
        "signatures": [
            {**s.check.to_dict(), "label": s.label, "modification_label": s.modification_label} for s in view.signatures
        ],
    }
