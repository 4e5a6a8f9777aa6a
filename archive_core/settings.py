"""All configuration, read from ``ARCHIVE_*`` environment variables in one place.

Everything the archive keeps lives under one data home (``ARCHIVE_HOME``):
the relational database, the store of originals, the search index and the
ingest reports.  Tests build a ``Settings`` of their own with ``Settings.load(home=...)``.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

# The zone times are shown in (default Asia/Ho_Chi_Minh); read by ``archive_core.clock`` itself, which every
# floor uses to show a time with or without a ``Settings`` at hand.
TIMEZONE_VARIABLE = "ARCHIVE_TIMEZONE"


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _env_json_or_file(name: str) -> dict:
    """A JSON object given inline, or the path of a .json / .toml file holding it."""
    import json

    value = (os.environ.get(name) or "").strip()
    if not value:
        return {}
    if value.startswith("{"):
        return json.loads(value)
    path = Path(value)
    if path.suffix.lower() == ".toml":
        import tomllib

        return tomllib.loads(path.read_text(encoding="utf-8"))
    return json.loads(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class LdapSettings:
    """The provincial directory (``ARCHIVE_LDAP_*``); LDAP login is off without a URL.

    ``group_map`` maps a directory group (its DN, or the value of its first RDN
    such as ``cn=…``) to ``{"role": …, "unit": …}`` (either may be missing).
    """

    url: str = ""
    starttls: bool = False
    ca_file: str = ""
    bind_dn: str = ""
    bind_password: str = field(default="", repr=False)
    user_base: str = ""
    user_filter: str = "(uid={username})"
    group_base: str = ""
    group_filter: str = "(|(member={dn})(uniqueMember={dn})(memberUid={username}))"
    group_map: dict = field(default_factory=dict)
    timeout: float = 5.0
    name_attr: str = "cn"
    email_attr: str = "mail"

    @property
    def enabled(self) -> bool:
        return bool(self.url)

    @classmethod
    def from_env(cls) -> LdapSettings:
        return cls(
            url=os.environ.get("ARCHIVE_LDAP_URL", ""),
            starttls=_env_bool("ARCHIVE_LDAP_STARTTLS", False),
            ca_file=os.environ.get("ARCHIVE_LDAP_CA_FILE", ""),
            bind_dn=os.environ.get("ARCHIVE_LDAP_BIND_DN", ""),
            bind_password=os.environ.get("ARCHIVE_LDAP_BIND_PASSWORD", ""),
            user_base=os.environ.get("ARCHIVE_LDAP_USER_BASE", ""),
            user_filter=os.environ.get("ARCHIVE_LDAP_USER_FILTER", "") or cls.user_filter,
            group_base=os.environ.get("ARCHIVE_LDAP_GROUP_BASE", ""),
            group_filter=os.environ.get("ARCHIVE_LDAP_GROUP_FILTER", "") or cls.group_filter,
            group_map=_env_json_or_file("ARCHIVE_LDAP_GROUP_MAP"),
            timeout=float(os.environ.get("ARCHIVE_LDAP_TIMEOUT", "") or 5),
            name_attr=os.environ.get("ARCHIVE_LDAP_NAME_ATTR", "") or "cn",
            email_attr=os.environ.get("ARCHIVE_LDAP_EMAIL_ATTR", "") or "mail",
        )


def default_engine(home: Path) -> str:
    """``tantivy``, except in a data home made while FTS5 was the default: one with an FTS5 index and no
    Tantivy index keeps ``sqlite`` (its searches keep answering after an upgrade) until
    ``archive reindex --engine tantivy`` builds the Tantivy index, which every later start then uses."""
    index = home / "index"
    if (index / "fts.sqlite").exists() and not (index / "tantivy").exists():
        return "sqlite"
    return "tantivy"


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    # tantivy | sqlite | opensearch | elasticsearch.  Tantivy by default: at 1,000,000 documents its CPU p95 is
    # ~120 ms for the broadest queries where FTS5 takes seconds, in an index smaller than the text (issue 11).
    index_engine: str = "tantivy"
    search_url: str = "http://127.0.0.1:9200"  # the cluster, for opensearch/elasticsearch
    search_index: str = "archive-documents"  # the alias the cluster engine reads and writes through
    search_timeout_ms: int = 5000
    # Tantivy counts every match up to this many; above it, the total and facets come from a 1/64 sample and
    # the total is a lower bound ("hơn 450.000"), as Elasticsearch's track_total_hits. 0: always exact.
    search_exact_total_up_to: int = 10_000
    secret_key: str = field(default="", repr=False)
    ocr_languages: str = "vie"  # measured best on the real corpus (bench.metadata_real_bench)
    ocr_dpi: int = 300
    ocr_min_confidence: float = 60.0
    workers: int = 0  # 0 = one per core
    worker_name: str = ""  # names this machine in extraction claims (default: the host name)
    max_file_bytes: int = 512 * 1024 * 1024
    max_image_pixels: int = 120_000_000
    max_pdf_pages: int = 5000
    # PEM/DER root certificates (a file, or a folder of them) that PDF signatures must chain to.
    trust_roots: str = ""
    session_cookie_secure: bool = False
    session_idle_minutes: int = 30
    ratelimit_storage_uri: str = "memory://"
    search_rate_limit: str = "60 per minute;1000 per hour"  # searches per account (pages and API together)
    login_max_failures: int = 10  # then the account is locked for login_lockout_minutes
    login_lockout_minutes: int = 15
    ldap: LdapSettings = field(default_factory=LdapSettings)
    search_page_size: int = 20
    max_query_length: int = 500
    trusted_proxies: int = 0  # reverse proxies in front of the portal whose X-Forwarded-For is believed
    # Harvesting (OAI-PMH at /oai): off unless enabled; always behind an API token, with its scope.
    oai_enabled: bool = False
    oai_repository_name: str = "Kho lưu trữ văn bản các đơn vị hành chính cũ"
    oai_repository_id: str = "archive.localhost"  # the domain part of oai:<id>:<document>
    oai_admin_email: str = "archive@localhost.localdomain"
    oai_page_size: int = 100
    public_url: str = ""  # how users and harvesters reach the portal, e.g. https://luutru.hungyen.gov.vn
    # /metrics: loopback without proxy headers, or this bearer token when set.
    metrics_token: str = field(default="", repr=False)
    # The audit trail's HMAC key and signed checkpoints: files outside the database, never in a backup.
    audit_key_path: str = ""  # default $ARCHIVE_HOME/audit.key
    audit_checkpoint_path: str = ""  # default $ARCHIVE_HOME/audit-checkpoints.jsonl

    @property
    def store_dir(self) -> Path:
        return self.home / "store"

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def scratch_dir(self) -> Path:
        return self.home / "scratch"

    @property
    def audit_key_file(self) -> Path:
        return Path(self.audit_key_path) if self.audit_key_path else self.home / "audit.key"

    @property
    def audit_checkpoint_file(self) -> Path:
        return Path(self.audit_checkpoint_path) if self.audit_checkpoint_path else self.home / "audit-checkpoints.jsonl"

    @classmethod
    def load(cls, **overrides) -> Settings:
        home = Path(overrides.pop("home", None) or os.environ.get("ARCHIVE_HOME", "./var")).resolve()
        database_url = overrides.pop("database_url", None) or os.environ.get(
            "ARCHIVE_DATABASE_URL", f"sqlite:///{home / 'archive.sqlite'}"
        )
        settings = cls(
            home=home,
            database_url=database_url,
            index_engine=os.environ.get("ARCHIVE_INDEX_ENGINE", "") or default_engine(home),
            search_url=os.environ.get("ARCHIVE_SEARCH_URL", "http://127.0.0.1:9200"),
            search_index=os.environ.get("ARCHIVE_SEARCH_INDEX", "archive-documents"),
            search_timeout_ms=_env_int("ARCHIVE_SEARCH_TIMEOUT_MS", 5000),
            search_exact_total_up_to=_env_int("ARCHIVE_SEARCH_EXACT_TOTAL_UP_TO", 10_000),
            secret_key=os.environ.get("ARCHIVE_SECRET_KEY", ""),
            ocr_languages=os.environ.get("ARCHIVE_OCR_LANGUAGES", "vie"),
            ocr_dpi=_env_int("ARCHIVE_OCR_DPI", 300),
            ocr_min_confidence=float(os.environ.get("ARCHIVE_OCR_MIN_CONFIDENCE", "60")),
            workers=_env_int("ARCHIVE_WORKERS", 0),
            worker_name=os.environ.get("ARCHIVE_WORKER_NAME", ""),
            max_file_bytes=_env_int("ARCHIVE_MAX_FILE_BYTES", 512 * 1024 * 1024),
            max_image_pixels=_env_int("ARCHIVE_MAX_IMAGE_PIXELS", 120_000_000),
            max_pdf_pages=_env_int("ARCHIVE_MAX_PDF_PAGES", 5000),
            trust_roots=os.environ.get("ARCHIVE_TRUST_ROOTS", ""),
            session_cookie_secure=_env_bool("ARCHIVE_SESSION_COOKIE_SECURE", False),
            session_idle_minutes=_env_int("ARCHIVE_SESSION_IDLE_MINUTES", 30),
            ratelimit_storage_uri=os.environ.get("ARCHIVE_RATELIMIT_STORAGE_URI", "") or "memory://",
            search_rate_limit=os.environ.get("ARCHIVE_SEARCH_RATE_LIMIT", "") or cls.search_rate_limit,
            login_max_failures=_env_int("ARCHIVE_LOGIN_MAX_FAILURES", 10),
            login_lockout_minutes=_env_int("ARCHIVE_LOGIN_LOCKOUT_MINUTES", 15),
            ldap=LdapSettings.from_env(),
            trusted_proxies=_env_int("ARCHIVE_TRUSTED_PROXIES", 0),
            oai_enabled=_env_bool("ARCHIVE_OAI_ENABLED", False),
            oai_repository_name=os.environ.get("ARCHIVE_OAI_REPOSITORY_NAME", "") or cls.oai_repository_name,
            oai_repository_id=os.environ.get("ARCHIVE_OAI_REPOSITORY_ID", "") or cls.oai_repository_id,
            oai_admin_email=os.environ.get("ARCHIVE_OAI_ADMIN_EMAIL", "") or cls.oai_admin_email,
            oai_page_size=_env_int("ARCHIVE_OAI_PAGE_SIZE", 100),
            public_url=os.environ.get("ARCHIVE_PUBLIC_URL", ""),
            metrics_token=os.environ.get("ARCHIVE_METRICS_TOKEN", ""),
            audit_key_path=os.environ.get("ARCHIVE_AUDIT_KEY_FILE", ""),
            audit_checkpoint_path=os.environ.get("ARCHIVE_AUDIT_CHECKPOINT_FILE", ""),
        )
        if overrides:
            settings = replace(settings, **overrides)
        return settings

    def ensure_dirs(self) -> None:
        for path in (self.home, self.store_dir, self.index_dir, self.reports_dir, self.scratch_dir):
            path.mkdir(parents=True, exist_ok=True)

    def effective_secret_key(self) -> str:
        """The configured key, or one kept in the data home so sessions survive restarts."""
        if self.secret_key:
            return self.secret_key
        key_file = self.home / "secret_key"
        if not key_file.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            key_file.write_text(secrets.token_hex(32))
            key_file.chmod(0o600)
        return key_file.read_text().strip()

    def effective_workers(self) -> int:
        return self.workers if self.workers > 0 else (os.cpu_count() or 1)
