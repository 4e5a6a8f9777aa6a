"""The archive's relational schema.

Units and their succession are versioned (a corrected mapping never erases
the earlier one); documents keep their provenance (package, old unit, row or
file) and, for every metadata field, whether it came from the manifest or
was read from the text.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from ..clock import utcnow


class Base(DeclarativeBase):
    pass


class UnitMappingVersion(Base):
    """One load of the old-to-new units mapping; the newest in force wins."""

    __tablename__ = "unit_mapping_version"
    id: Mapped[int] = mapped_column(primary_key=True)
    source_name: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    effective_date: Mapped[date | None] = mapped_column(Date)
    loaded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    loaded_by: Mapped[str] = mapped_column(String(200), default="")
    row_count: Mapped[int] = mapped_column(Integer, default=0)


class OldUnit(Base):
    __tablename__ = "old_unit"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    level: Mapped[str] = mapped_column(String(16))  # tinh | huyen | xa
    parent_code: Mapped[str] = mapped_column(String(32), default="", index=True)
    province: Mapped[str] = mapped_column(String(200), default="")


class NewUnit(Base):
    __tablename__ = "new_unit"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))


class Succession(Base):
    """One (old unit, new unit) pair of one mapping version."""

    __tablename__ = "succession"
    __table_args__ = (UniqueConstraint("version_id", "old_code", "new_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("unit_mapping_version.id"), index=True)
    old_code: Mapped[str] = mapped_column(String(32), index=True)
    new_code: Mapped[str] = mapped_column(String(32), index=True)
    effective_date: Mapped[date | None] = mapped_column(Date)
    basis: Mapped[str] = mapped_column(Text, default="")
    confidence: Mapped[str] = mapped_column(String(32), default="")


class Account(Base):
    __tablename__ = "account"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    display_name: Mapped[str] = mapped_column(String(300), default="")
    email: Mapped[str] = mapped_column(String(300), default="")
    password_hash: Mapped[str | None] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(32))  # admin | archivist | auditor | lookup
    new_unit_code: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16), default="local")  # local | ldap
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Login safety and provisioning (migration 0002).
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_failed_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Bumped to end every open session (disable, expire, reset, role change).
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    ldap_dn: Mapped[str | None] = mapped_column(String(1000))
    # Lookup accounts see "Hạn chế" (restricted) documents only when allowed; other roles always do.
    may_see_restricted: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class ApiToken(Base):
    """A bearer token for the JSON API and the harvesting endpoint (``services.tokens``).

    Only the SHA-256 of the token is kept; the token acts with the scope of its
    account as it stands at each request.
    """

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(150), default="")
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)


class SavedSearch(Base):
    """A search an account keeps under a name (its query string arguments); only its owner sees it.

    Lookup accounts may write this table for themselves (the read-only guard allows exactly this).
    """

    __tablename__ = "saved_search"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    args: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Package(Base):
    """One export package handed to ``archive ingest``."""

    __tablename__ = "package"
    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    source_path: Mapped[str] = mapped_column(Text)
    form: Mapped[str] = mapped_column(String(32))  # bag | folder | zip | loose | edxml
    unit_code: Mapped[str] = mapped_column(String(32), index=True)
    source_organization: Mapped[str] = mapped_column(String(300), default="")
    unit_level: Mapped[str] = mapped_column(String(16), default="")
    parent_unit_code: Mapped[str] = mapped_column(String(32), default="")
    bag_info: Mapped[dict] = mapped_column(JSON, default=dict)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(32), default="running")
    warnings: Mapped[list] = mapped_column(JSON, default=list)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    # the package's own manifests, kept as originals: the handover record reconciles against them
    manifest_name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    manifest_sha256: Mapped[str] = mapped_column(String(64), default="", server_default="")
    bag_manifest_sha256: Mapped[str] = mapped_column(String(64), default="", server_default="")


class Blob(Base):
    """An original file, stored once by its SHA-256 whatever documents refer to it."""

    __tablename__ = "blob"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100), default="application/octet-stream")
    stored_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Document(Base):
    __tablename__ = "document"
    __table_args__ = (
        UniqueConstraint("unit_code", "ma_van_ban", name="uq_document_unit_key"),
        Index("ix_document_unit_date", "unit_code", "issued_date"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("package.id"), index=True)
    unit_code: Mapped[str] = mapped_column(String(32))
    ma_van_ban: Mapped[str] = mapped_column(String(300))
    origin: Mapped[str] = mapped_column(String(32), default="manifest")  # manifest | file | edxml
    direction: Mapped[str] = mapped_column(String(16), default="")
    number: Mapped[str] = mapped_column(String(200), default="")
    number_norm: Mapped[str] = mapped_column(String(200), default="", index=True)
    issued_date: Mapped[date | None] = mapped_column(Date)
    issued_date_raw: Mapped[str] = mapped_column(String(100), default="")
    doc_type: Mapped[str] = mapped_column(String(100), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    issuer: Mapped[str] = mapped_column(String(500), default="")
    signer: Mapped[str] = mapped_column(String(300), default="")
    signer_title: Mapped[str] = mapped_column(String(300), default="")
    recipients: Mapped[str] = mapped_column(Text, default="")
    confidentiality: Mapped[str] = mapped_column(String(32), default="")
    urgency: Mapped[str] = mapped_column(String(32), default="")
    dossier: Mapped[str] = mapped_column(String(200), default="")
    dossier_order: Mapped[int | None] = mapped_column(Integer)  # so_thu_tu: its order within the dossier
    page_count: Mapped[int | None] = mapped_column(Integer)
    remarks: Mapped[str] = mapped_column(Text, default="")
    extra: Mapped[dict] = mapped_column(JSON, default=dict)
    field_sources: Mapped[dict] = mapped_column(JSON, default=dict)
    flags: Mapped[list] = mapped_column(JSON, default=list)
    withheld: Mapped[bool] = mapped_column(Boolean, default=False)
    # Why (``ingest.secrecy``: the value or mark that withheld it, or the archivist's reason)
    withheld_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Inherited from its dossier's chế độ sử dụng "Hạn chế" (``ingest.dossiers.apply_access``).
    restricted: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # The row's own chế độ sử dụng (Phụ lục VI gives documents one too): restricts it whatever its dossier says.
    restricted_own: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    text_ready: Mapped[bool] = mapped_column(Boolean, default=False)
    indexed_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    files: Mapped[list[DocumentFile]] = relationship(
        back_populates="document", order_by="DocumentFile.position", cascade="all, delete-orphan"
    )


class DocumentFile(Base):
    __tablename__ = "document_file"
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    path_in_package: Mapped[str] = mapped_column(Text)
    filename: Mapped[str] = mapped_column(String(500))
    blob_sha256: Mapped[str | None] = mapped_column(ForeignKey("blob.sha256"))
    media_type: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(32), default="pending")  # pending | extracted | missing | refused
    reason: Mapped[str] = mapped_column(Text, default="")
    page_count: Mapped[int] = mapped_column(Integer, default=0)
    # extraction work claimed by an ingest worker (several may share one database)
    claimed_by: Mapped[str] = mapped_column(String(120), default="", server_default="")
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)

    document: Mapped[Document] = relationship(back_populates="files")
    pages: Mapped[list[Page]] = relationship(
        back_populates="file", order_by="Page.number", cascade="all, delete-orphan"
    )


class Page(Base):
    __tablename__ = "page"
    __table_args__ = (UniqueConstraint("file_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("document_file.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text, default="")
    method: Mapped[str] = mapped_column(String(16))  # text | ocr | none
    ocr_confidence: Mapped[float | None] = mapped_column(Float)
    # OCR pages: Tesseract's words and boxes ({"w", "h", "words": [[text, left, top, width, height]]}),
    # so the viewer marks a hit on the scan; None for text pages (their boxes come from the PDF).
    word_boxes: Mapped[dict | None] = mapped_column(JSON, nullable=True, deferred=True)

    file: Mapped[DocumentFile] = relationship(back_populates="pages")


class IngestItem(Base):
    """The outcome of every row and every file of a package: nothing is silently skipped."""

    __tablename__ = "ingest_item"
    __table_args__ = (UniqueConstraint("package_id", "kind", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("package.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # row | file | package
    key: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16))  # indexed | duplicate | withheld | refused | flagged
    reason: Mapped[str] = mapped_column(Text, default="")
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    sha256: Mapped[str] = mapped_column(String(64), default="")
    size: Mapped[int | None] = mapped_column(BigInteger)
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class AuditEvent(Base):
    """Append-only trail of logins, searches, reads and admin actions.

    Hash-chained by ``services.audit``; the database refuses UPDATE and DELETE
    (triggers of migration 0003).
    """

    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    username: Mapped[str] = mapped_column(String(150), default="", index=True)
    new_unit_code: Mapped[str] = mapped_column(String(32), default="", index=True)
    client_address: Mapped[str] = mapped_column(String(64), default="")
    target: Mapped[str] = mapped_column(String(300), default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64), default="")
    hash: Mapped[str] = mapped_column(String(64), default="")


class ChangeGeneration(Base):
    """A counter the database bumps (triggers of migrations 0013-0014) whenever a document is added
    or removed, a document's ``withheld``, ``doc_type`` or ``unit_code`` changes, or the units
    mapping changes (old and new units, successions, versions): what the portal keeps per process
    (search menus, scopes, unit names; ``archive_portal.services.generation``) is valid while it
    stays put.  ``token`` is random per database."""

    __tablename__ = "change_generation"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)
    token: Mapped[str] = mapped_column(String(32))


class VerificationRun(Base):
    """One run of ``archive verify``: fixity of the originals and agreement of database, store and index."""

    __tablename__ = "verification_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    quick: Mapped[bool] = mapped_column(Boolean, default=False)
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    problems: Mapped[list] = mapped_column(JSON, default=list)


class BlobSignatures(Base):
    """pyHanko's verdict on the digital signatures of one PDF original (``ingest.signatures``).

    Keyed by the bytes, so a file received twice is checked once; ``archive verify``
    checks again (a certificate may have been revoked, the trust store changed).
    """

    __tablename__ = "blob_signatures"
    blob_sha256: Mapped[str] = mapped_column(ForeignKey("blob.sha256"), primary_key=True)
    status: Mapped[str] = mapped_column(String(32), index=True)  # ingest.signatures: hop_le | ... | khong_ky | loi
    signature_count: Mapped[int] = mapped_column(Integer, default=0)
    signatures: Mapped[list] = mapped_column(JSON, default=list)  # SignatureCheck.to_dict() each
    error: Mapped[str] = mapped_column(Text, default="")
    trust_store: Mapped[str] = mapped_column(String(64), default="")  # TrustStore.fingerprint
    checked_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Dossier(Base):
    """A file (hồ sơ) of an old unit's fonds, with the fields of NĐ 30/2020 Phụ lục VI and TT 05/2025/TT-BNV.

    Read from the package's ``ho_so.*`` list, or created from ``ma_ho_so`` on document rows
    (code only).  Its documents inherit its retention and access regime.
    """

    __tablename__ = "dossier"
    __table_args__ = (UniqueConstraint("unit_code", "code", name="uq_dossier_unit_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(32), index=True)  # the fonds: the old unit
    code: Mapped[str] = mapped_column(String(200))  # ma_ho_so
    title: Mapped[str] = mapped_column(Text, default="")
    retention_raw: Mapped[str] = mapped_column(String(100), default="")  # thoi_han_bao_quan as written
    permanent: Mapped[bool] = mapped_column(Boolean, default=False)  # Vĩnh viễn
    retention_years: Mapped[int | None] = mapped_column(Integer)
    access: Mapped[str] = mapped_column(String(16), default="")  # han_che | khong_han_che | "" (not given)
    access_raw: Mapped[str] = mapped_column(String(100), default="")
    reliability: Mapped[str] = mapped_column(String(100), default="")  # Bản chính | Bản sao | Số hóa
    creator: Mapped[str] = mapped_column(String(300), default="")
    start_date: Mapped[date | None] = mapped_column(Date)
    start_date_raw: Mapped[str] = mapped_column(String(100), default="")
    end_date: Mapped[date | None] = mapped_column(Date)
    end_date_raw: Mapped[str] = mapped_column(String(100), default="")
    keywords: Mapped[str] = mapped_column(Text, default="")
    registered_documents: Mapped[int | None] = mapped_column(Integer)
    registered_pages: Mapped[int | None] = mapped_column(Integer)
    remarks: Mapped[str] = mapped_column(Text, default="")
    extra: Mapped[dict] = mapped_column(JSON, default=dict)
    origin: Mapped[str] = mapped_column(String(16), default="list")  # list (ho_so.*) | rows (ma_ho_so only)
    package_id: Mapped[int | None] = mapped_column(ForeignKey("package.id"))
    source_sha256: Mapped[str] = mapped_column(String(64), default="")  # the ho_so.* original it was read from
    flags: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
