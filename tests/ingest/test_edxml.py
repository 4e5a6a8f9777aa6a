"""edXML messages: metadata from MessageHeader, files from base64 attachments, alone or beside a manifest."""
import pytest
from sqlalchemy import select

from archive_core.context import Archive
from archive_core.db.models import Document
from archive_core.settings import Settings
from indexes.query import build_query
from ingest.pipeline import IngestOptions, ingest_package
from ingest.report import build_report
from specimens import make_specimens, render_pdf_bytes
from archive_core.store import blob_path

from .edxml_samples import message_bytes
from .packaging import row_for, write_package


@pytest.fixture()
def archive(tmp_path):
    archive = Archive.open(Settings.load(home=tmp_path / "home"))
    yield archive
    archive.close()


@pytest.fixture(scope="module")
def specs():
    return make_specimens(4, seed=31, issuer="UBND xã Lạc Đạo")


def _items(report):
    return {(i["kind"], i["key"]): i for i in report["items"]}


@pytest.mark.parametrize("zipped,legacy", [(False, False), (True, False), (False, True)])
def test_loose_edxml_message_becomes_a_document_with_its_attachment(archive, tmp_path, specs, zipped, legacy):
    spec = specs[0]
    folder = tmp_path / "loose"
    folder.mkdir()
    pdf = render_pdf_bytes(spec)
    (folder / "thu-dien-tu.edxml").write_bytes(
        message_bytes(spec, [("Cong van 12.pdf", pdf)], document_id="DOC-777", zipped=zipped, legacy=legacy))
    report = build_report(archive, ingest_package(archive, folder, IngestOptions(workers=1, unit_code="11989")))
    items = _items(report)
    assert items[("document", "edxml:DOC-777")]["outcome"] == "indexed"
    assert items[("file", "thu-dien-tu.edxml")]["outcome"] == "indexed"
    (attachment,) = [i for (kind, _), i in items.items() if kind == "attachment"]
    assert attachment["outcome"] == "indexed" and attachment["key"].endswith("Cong van 12.pdf")
    with archive.db.session() as session:
        document = session.scalar(select(Document).where(Document.ma_van_ban == "edxml:DOC-777"))
        assert document.origin == "edxml"
        assert document.number == spec.number and document.field_sources["number"] == "edxml"
        assert document.issued_date == spec.issued and document.subject == spec.subject
        assert document.issuer == spec.issuer and document.signer == spec.signer
        assert [f.media_type for f in document.files] == ["application/edxml+xml", "application/pdf"]
        pdf_file = document.files[1]
        assert pdf_file.status == "extracted" and blob_path(archive.settings.store_dir, pdf_file.blob_sha256).read_bytes() == pdf
    hits = archive.engine.search(build_query(spec.number, scope=None)).hits
    assert hits and hits[0].id == document.id


def test_edxml_beside_a_manifest_fills_only_the_empty_fields(archive, tmp_path, specs):
    spec = specs[1]
    root = tmp_path / "bag"
    (root / "files").mkdir(parents=True)
    (root / "files" / "msg.xml").write_bytes(
        message_bytes(spec, [("a.pdf", render_pdf_bytes(spec))], document_id="X-1"))
    row = row_for(spec, "VB-EDXML", "files/msg.xml", trich_yeu="Trích yếu theo bảng kê", so_ky_hieu="")
    package = write_package(root, [row], unit_code="11989")
    report = build_report(archive, ingest_package(archive, package, IngestOptions(workers=1)))
    assert _items(report)[("row", "VB-EDXML")]["outcome"] == "indexed"
    with archive.db.session() as session:
        document = session.scalar(select(Document).where(Document.ma_van_ban == "VB-EDXML"))
        assert document.subject == "Trích yếu theo bảng kê" and document.field_sources["subject"] == "manifest"
        assert document.number == spec.number and document.field_sources["number"] == "edxml"
        assert len(document.files) == 2


def test_broken_messages_and_attachments_are_refused_with_reasons(archive, tmp_path, specs):
    folder = tmp_path / "loose"
    folder.mkdir()
    good = message_bytes(specs[2], [("ok.pdf", render_pdf_bytes(specs[2]))], document_id="G-1")
    (folder / "good.edxml").write_bytes(good)
    bad_base64 = message_bytes(specs[3], [("x.pdf", b"data")], document_id="B-1").replace(b"ZGF0YQ==", b"!!not base64!!")
    (folder / "bad-attachment.edxml").write_bytes(bad_base64)
    (folder / "truncated.edxml").write_bytes(good[: len(good) // 2])
    bomb = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
            b'<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"><x>&b;</x></edXML>')
    (folder / "entities.edxml").write_bytes(bomb)
    report = build_report(archive, ingest_package(archive, folder, IngestOptions(workers=1, unit_code="11989")))
    items = _items(report)
    assert items[("document", "edxml:G-1")]["outcome"] == "indexed"
    assert items[("document", "edxml:B-1")]["outcome"] == "indexed"  # kept from its header, flagged
    assert "base64" in items[("document", "edxml:B-1")]["reason"]
    assert items[("file", "truncated.edxml")]["outcome"] == "refused"
    assert "không đọc được" in items[("file", "truncated.edxml")]["reason"]
    assert items[("file", "entities.edxml")]["outcome"] == "refused"
