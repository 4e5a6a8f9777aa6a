"""The archive's own checks as the administration page shows them (``archive verify`` records each run)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_core.db.models import VerificationRun


def last_verification(session: Session) -> VerificationRun | None:
    """The newest recorded run of ``archive verify``, or None before the first."""
    return session.scalars(
        select(VerificationRun).order_by(VerificationRun.started_at.desc(), VerificationRun.id.desc()).limit(1)
    ).first()
