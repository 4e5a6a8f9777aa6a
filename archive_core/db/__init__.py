"""Relational schema (SQLAlchemy 2, migrated with Alembic) and sessions."""

from .models import (  # noqa: F401
    Account,
    AuditEvent,
    Base,
    Blob,
    Document,
    DocumentFile,
    IngestItem,
    NewUnit,
    OldUnit,
    Package,
    Page,
    Succession,
    UnitMappingVersion,
)
from .session import Database  # noqa: F401
