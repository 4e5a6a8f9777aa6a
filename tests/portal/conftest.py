"""A small real archive for the portal tests: units mapping, documents, originals, index.

World (units from archive_core/data/units-hung-yen-2025.csv):
  * old 11950 Phường Lam Sơn  → new 11983 Phường Sơn Nam   (doc "lam_son", a PDF)
  * old 11956 Phường An Tảo   → new 11953 Phường Phố Hiến  (doc "an_tao", a 2-page TIFF)
  * old district 323 Thành phố Hưng Yên: visible to both     (doc "district", a PDF)
  * a withheld document of 11950 (never indexed, never shown)
Every indexed document contains "báo cáo" so one search reaches them all.

Backends (the matrix shows in the test ids, tests/backends.py): ``sqlite-tantivy`` (SQLite + the embedded
Tantivy engine, the default data home) for every module; ``sqlite-fts`` (SQLite + FTS5) and
``postgresql-opensearch`` (the run's PostgreSQL cluster and OpenSearch node, tests/conftest.py) too for
the modules in ``MATRIX_MODULES`` — search, documents, API and tokens, OAI, scope, isolation, audit trail,
withheld and restricted documents — so that the full portal suite is not run twice (CI time).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from portal_helpers import PASSWORD, login

from archive_core.context import Archive
from archive_core.db.models import Blob, Document, DocumentFile, Package, Page
from archive_core.settings import Settings
from archive_portal import create_app
from archive_portal.services.accounts import create_account
from archive_portal.services.units import import_mapping
from indexes.base import IndexDocument
from indexes.fold import normalize_number
from tests.backends import backend_overrides, close_archive, parametrize_backend

UNITS_CSV = Path(__file__).resolve().parents[2] / "archive_core" / "data" / "units-hung-yen-2025.csv"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


MATRIX_MODULES = {"test_portal_search", "test_portal_documents", "test_portal_tokens", "test_portal_oai",
                  "test_portal_scope", "test_portal_isolation", "test_portal_export", "test_portal_viewer",
                  "test_portal_audit", "test_portal_audit_tamper", "test_portal_withhold", "test_portal_restricted"}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that reaches a world takes the ``backend`` parameter: every backend in MATRIX_MODULES."""
    parametrize_backend(metafunc, metafunc.module.__name__.rsplit(".", 1)[-1] in MATRIX_MODULES)


@pytest.fixture(scope="session")
def backend(request) -> str:
    return request.param


@dataclass
class World:
    archive: Archive
    docs: dict[str, int] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)
    subjects: dict[str, str] = field(default_factory=dict)


def make_pdf(path: Path, pages: list[str]) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    if "DejaVuSans" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVuSans", FONT))
    c = canvas.Canvas(str(path), pagesize=A4)
    for text in pages:
        c.setFont("DejaVuSans", 12)
        y = 800
        for line in text.splitlines():
            c.drawString(60, y, line)
            y -= 18
        c.showPage()
    c.save()


def make_tiff(path: Path, frames: int) -> None:
    from PIL import Image, ImageDraw

    images = []
    for i in range(frames):
        img = Image.new("RGB", (600, 800), "white")
        ImageDraw.Draw(img).text((40, 40), f"Trang {i + 1}", fill="black")
        images.append(img)
    images[0].save(path, save_all=True, append_images=images[1:], compression="tiff_deflate")


def store(archive: Archive, session, path: Path, media_type: str) -> str:
    try:
        from archive_core.store import BlobStore

        stored = BlobStore(archive.settings.store_dir).put(path)
        sha, size = stored.sha256, stored.size
    except ImportError:  # pragma: no cover - the store lands with the ingest pipeline
        import hashlib
        import shutil

        from archive_core.store import blob_path

        data = path.read_bytes()
        sha, size = hashlib.sha256(data).hexdigest(), len(data)
        target = blob_path(archive.settings.store_dir, sha)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    if session.get(Blob, sha) is None:
        session.add(Blob(sha256=sha, size=size, media_type=media_type))
        session.flush()
    return sha


DOCS = [
    dict(key="lam_son", unit_code="11950", number="74/KH-UBND", issued_date=date(2024, 4, 10), doc_type="Kế hoạch",
         direction="di", subject="Kế hoạch sắp xếp đơn vị hành chính phường Lam Sơn",
         issuer="UBND phường Lam Sơn", signer="Nguyễn Văn An",
         pages=["UBND PHƯỜNG LAM SƠN\nSố: 74/KH-UBND\nKẾ HOẠCH sắp xếp đơn vị hành chính",
                "Báo cáo kết quả thực hiện gửi UBND thành phố Hưng Yên."],
         file=("pdf", "Kế hoạch 74-KH.pdf")),
    dict(key="an_tao", unit_code="11956", number="12/QĐ-UBND", issued_date=date(2023, 12, 1), doc_type="Quyết định",
         direction="den", subject="Quyết định về đường giao thông nông thôn An Tảo",
         issuer="UBND phường An Tảo", signer="Trần Thị Bình",
         pages=["QUYẾT ĐỊNH về đường giao thông nông thôn", "Báo cáo tiến độ thi công đường làng."],
         file=("tiff", "Quyết định 12.tif")),
    dict(key="district", unit_code="323", number="305/CV-UBND", issued_date=date(2025, 1, 15), doc_type="Công văn",
         direction="noi_bo", subject="Công văn về phòng chống dịch bệnh trên địa bàn thành phố",
         issuer="UBND thành phố Hưng Yên", signer="Lê Văn Cường",
         pages=["Công văn về phòng chống dịch bệnh. Yêu cầu các phường báo cáo hằng tuần."],
         file=("pdf", "cong-van-305.pdf")),
]


def build_world(home: Path, **overrides) -> World:
    overrides.setdefault("database_url", f"sqlite:///{home / 'archive.sqlite'}")
    settings = Settings.load(home=home, secret_key="test-secret-key",
                             search_rate_limit="100000 per minute", **overrides)  # many tests share these accounts
    archive = Archive.open(settings)
    world = World(archive=archive)
    scratch = home / "fixtures"
    scratch.mkdir()
    to_index: list[IndexDocument] = []
    with archive.db.transaction() as session:
        import_mapping(session, UNITS_CSV)
        package = Package(fingerprint="f" * 64, source_path=str(scratch), form="folder", unit_code="11950")
        session.add(package)
        session.flush()
        for spec in DOCS:
            doc = Document(
                package_id=package.id, unit_code=spec["unit_code"], ma_van_ban=f"VB-{spec['key']}",
                direction=spec["direction"], number=spec["number"], number_norm=normalize_number(spec["number"]),
                issued_date=spec["issued_date"], issued_date_raw=spec["issued_date"].strftime("%d/%m/%Y"),
                doc_type=spec["doc_type"], subject=spec["subject"], issuer=spec["issuer"], signer=spec["signer"],
                page_count=len(spec["pages"]), text_ready=True,
                field_sources={"subject": "manifest", "number": "manifest", "issued_date": "manifest",
                               "doc_type": "manifest", "issuer": "text", "signer": "text"},
                flags=["thieu_chu_ky"] if spec["key"] == "an_tao" else [],
            )
            session.add(doc)
            session.flush()
            kind, filename = spec["file"]
            source = scratch / f"{spec['key']}.{kind}"
            if kind == "pdf":
                make_pdf(source, spec["pages"])
                media = "application/pdf"
            else:
                make_tiff(source, len(spec["pages"]))
                media = "image/tiff"
            sha = store(archive, session, source, media)
            dfile = DocumentFile(document_id=doc.id, position=0, path_in_package=f"files/{filename}",
                                 filename=filename, blob_sha256=sha, media_type=media, status="extracted",
                                 page_count=len(spec["pages"]))
            session.add(dfile)
            session.flush()
            for n, text in enumerate(spec["pages"], start=1):
                session.add(Page(file_id=dfile.id, number=n, text=text, method="text" if kind == "pdf" else "ocr",
                                 ocr_confidence=None if kind == "pdf" else 91.5))
            world.docs[spec["key"]] = doc.id
            world.files[spec["key"]] = dfile.id
            world.subjects[spec["key"]] = spec["subject"]
            to_index.append(IndexDocument(
                id=doc.id, unit_code=doc.unit_code, ma_van_ban=doc.ma_van_ban, number=doc.number,
                issued_date=doc.issued_date, doc_type=doc.doc_type, direction=doc.direction,
                subject=doc.subject, issuer=doc.issuer, signer=doc.signer, body="\n".join(spec["pages"]),
            ))
        secret = Document(package_id=package.id, unit_code="11950", ma_van_ban="VB-secret", number="1/MẬT",
                          subject="Văn bản mật về báo cáo nhân sự", confidentiality="Mật", withheld=True)
        session.add(secret)
        session.flush()
        world.docs["withheld"] = secret.id
        world.subjects["withheld"] = secret.subject

        create_account(session, username="admin", role="admin", password=PASSWORD, display_name="Quản trị viên")
        create_account(session, username="sonnam", role="lookup", new_unit_code="11983", password=PASSWORD,
                       display_name="Cán bộ Sơn Nam")
        create_account(session, username="phohien", role="lookup", new_unit_code="11953", password=PASSWORD,
                       display_name="Cán bộ Phố Hiến")
        # Tests that sign out use these: a sign-out ends every session of its account (issue 10).
        create_account(session, username="sonnam.ra", role="lookup", new_unit_code="11983", password=PASSWORD)
        create_account(session, username="phohien.ra", role="lookup", new_unit_code="11953", password=PASSWORD)
        create_account(session, username="hethan", role="lookup", new_unit_code="11983", password=PASSWORD,
                       expires_at=datetime.now() - timedelta(days=1))
        off, _ = create_account(session, username="khoa", role="lookup", new_unit_code="11983", password=PASSWORD)
        off.active = False
    archive.engine.index(to_index)
    return world


@pytest.fixture(scope="session")
def world(request, tmp_path_factory, backend) -> World:
    w = build_world(tmp_path_factory.mktemp("archive-home"), **backend_overrides(request, backend))
    yield w
    close_archive(w.archive)


@pytest.fixture(scope="session")
def app(world):
    return create_app(archive=world.archive)


@pytest.fixture
def client(app):
    return app.test_client()


def _signed_in(app, username: str):
    c = app.test_client()
    assert login(c, username).status_code == 302
    return c


# Signed-in clients are shared (session scope): tests must not sign them out.
@pytest.fixture(scope="session")
def as_admin(app):
    return _signed_in(app, "admin")


@pytest.fixture(scope="session")
def as_sonnam(app):
    return _signed_in(app, "sonnam")


@pytest.fixture(scope="session")
def as_phohien(app):
    return _signed_in(app, "phohien")
