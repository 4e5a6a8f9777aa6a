"""Bulk download of chosen documents: one zip, stamped copies for lookups, originals for archivists,
capped, all-or-nothing on scope, audited."""
from __future__ import annotations

import hashlib
import io
import zipfile

import pypdfium2 as pdfium
from sqlalchemy import select

from archive_core.db.models import AuditEvent, Blob, DocumentFile
from archive_core.store import blob_path
from archive_portal.services.bulk import MAX_BULK_DOCUMENTS


def _first_page_text(data: bytes) -> str:
    pdf = pdfium.PdfDocument(data)
    try:
        page = pdf[0]
        textpage = page.get_textpage()
        try:
            return textpage.get_text_bounded()
        finally:
            textpage.close()
            page.close()
    finally:
        pdf.close()


def _zip(client, *ids):
    r = client.get("/van-ban/tai-nhieu", query_string=[("id", i) for i in ids])
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    assert r.mimetype == "application/zip" and "attachment" in r.headers["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(r.data))


def _stored(world, key: str) -> bytes:
    with world.archive.db.session() as session:
        sha = session.scalar(select(DocumentFile.blob_sha256).where(DocumentFile.id == world.files[key]))
        assert session.get(Blob, sha) is not None
    return blob_path(world.archive.settings.store_dir, sha).read_bytes()


def test_lookup_gets_stamped_copies_in_one_zip(as_sonnam, world):
    bundle = _zip(as_sonnam, world.docs["lam_son"], world.docs["district"])
    pdfs = sorted(n for n in bundle.namelist() if n.endswith(".pdf"))
    assert len(pdfs) == 2 and "DANH-SACH.txt" in bundle.namelist()
    assert any("74-KH-UBND" in n for n in pdfs) and any("305-CV-UBND" in n for n in pdfs)
    for name in pdfs:
        data = bundle.read(name)
        assert data != _stored(world, "lam_son") and data != _stored(world, "district")  # never the original
        assert "sonnam" in _first_page_text(data)  # the stamp names who downloaded it
    listing = bundle.read("DANH-SACH.txt").decode("utf-8")
    assert world.subjects["lam_son"] in listing and "bản sao có đóng dấu" in listing


def test_archivist_gets_originals(as_admin, world):
    bundle = _zip(as_admin, world.docs["lam_son"])
    (name,) = [n for n in bundle.namelist() if n.endswith(".pdf")]
    assert hashlib.sha256(bundle.read(name)).digest() == hashlib.sha256(_stored(world, "lam_son")).digest()


def test_one_foreign_document_makes_the_whole_zip_not_found(as_sonnam, world):
    r = as_sonnam.get("/van-ban/tai-nhieu", query_string=[("id", world.docs["lam_son"]), ("id", world.docs["an_tao"])])
    assert r.status_code == 404 and world.subjects["lam_son"] not in r.get_data(as_text=True)


def test_capped_refused_in_words_and_audited(as_sonnam, world):
    too_many = [("id", i) for i in range(1, MAX_BULK_DOCUMENTS + 2)]
    r = as_sonnam.get("/van-ban/tai-nhieu", query_string=too_many)
    assert r.status_code == 400 and f"tối đa {MAX_BULK_DOCUMENTS} văn bản" in r.get_data(as_text=True)
    assert as_sonnam.get("/van-ban/tai-nhieu").status_code == 400
    _zip(as_sonnam, world.docs["lam_son"])
    with world.archive.db.session() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "bulk_download")
                                 .order_by(AuditEvent.id.desc())).all()
    assert events[0].details["documents"] == [world.docs["lam_son"]] and events[0].details["stamped"] is True
    assert any("refused" in (e.details or {}) for e in events)


def test_results_page_offers_the_choice(as_sonnam, world):
    html = as_sonnam.get("/", query_string={"q": "báo cáo"}).get_data(as_text=True)
    assert f'name="id" value="{world.docs["lam_son"]}" form="bulk"' in html
    assert 'action="/van-ban/tai-nhieu"' in html and "bản sao có đóng dấu tên người tải" in html
