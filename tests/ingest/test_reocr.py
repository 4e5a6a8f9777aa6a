"""`archive reocr`: weak OCR pages are flagged, read again from the stored original and re-indexed."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from archive_portal.cli import main
from archive_core.context import Archive
from archive_core.db.models import Document, DocumentFile, Page
from archive_portal.services.units import import_mapping
from archive_core.settings import Settings
from indexes.query import build_query
from ingest.metadata import fold
from ingest.pipeline import IngestOptions, ingest_package
from ingest.reocr import low_confidence_pages
from ingest.report import build_report, report_paths
from specimens import make_specimens, render_scan

from .packaging import row_for, write_package

UNITS_CSV = Path(__file__).resolve().parents[2] / "archive_core" / "data" / "units-hung-yen-2025.csv"


def body_words(spec, n: int = 8) -> list[str]:
    words = sorted({w.strip(".,;:()") for p in spec.body_paragraphs for w in p.split()}, key=len, reverse=True)
    return words[:n]


def hits(archive: Archive, word: str) -> list[int]:
    return [h.id for h in archive.engine.search(build_query(word, scope=None, per_page=10)).hits]


@pytest.mark.ocr
def test_a_page_read_at_too_low_a_resolution_is_flagged_and_read_again(tmp_path, monkeypatch):
    home = tmp_path / "home"
    spec = make_specimens(1, seed=31, issuer="UBND phường Lam Sơn", year=2024)[0]
    root = tmp_path / "bag"
    (root / "files").mkdir(parents=True)
    render_scan(spec, root / "files" / "scan.pdf", "pdf", dpi=150)
    write_package(root, [row_for(spec, "VB-SCAN", "files/scan.pdf", trich_yeu="")])

    # The archive was set up to OCR at 40 dpi: the page reads badly.
    archive = Archive.open(Settings.load(home=home, ocr_dpi=40))
    with archive.db.transaction() as session:
        import_mapping(session, UNITS_CSV)
    package_id = ingest_package(archive, root, IngestOptions(workers=1))
    with archive.db.session() as session:
        flagged = low_confidence_pages(session, package_id, archive.settings.ocr_min_confidence)
        document_id = session.scalar(select(Document.id))
        before_text = " ".join(session.scalars(select(Page.text)))
        first_boxes = session.scalar(select(Page.word_boxes))
    assert first_boxes and first_boxes["words"]  # ingest keeps Tesseract's words and boxes with the page
    assert [(f["ma_van_ban"], f["file"], f["page"]) for f in flagged] == [("VB-SCAN", "files/scan.pdf", 1)]
    assert flagged[0]["confidence"] < 60
    report = build_report(archive, package_id)  # the archivist sees the flagged page in the report
    assert [(p["file"], p["page"]) for p in report["low_confidence_pages"]] == [("files/scan.pdf", 1)]
    assert "archive reocr --package" in report_paths(archive, package_id)[1].read_text(encoding="utf-8")
    missing = [w for w in body_words(spec) if fold(w) not in fold(before_text)]
    assert missing, "the 40-dpi reading should have lost some body words"
    unfound = [w for w in missing if document_id not in hits(archive, w)]
    assert unfound, "some body words should not be searchable after the bad reading"
    archive.close()

    # The archivist raises the resolution and re-reads the flagged pages: nothing is re-ingested.
    monkeypatch.setenv("ARCHIVE_HOME", str(home))
    monkeypatch.setenv("ARCHIVE_OCR_DPI", "150")
    result = CliRunner().invoke(main, ["reocr"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "VB-SCAN" in result.output and "đã thay" in result.output
    assert "1/1 trang đã cập nhật" in result.output

    archive = Archive.open(Settings.load(home=home))
    with archive.db.session() as session:
        (page,) = session.scalars(select(Page)).all()
        assert page.ocr_confidence >= 80
        # The new reading's word boxes replace the old ones: the viewer marks a hit where it is now read.
        boxed = {fold(w[0]).strip(".,;:()") for w in page.word_boxes["words"]}
        assert any(fold(w) in boxed for w in unfound) and page.word_boxes["w"] > 0
        assert len(session.scalars(select(Document)).all()) == len(session.scalars(select(DocumentFile)).all()) == 1
        assert low_confidence_pages(session, package_id, archive.settings.ocr_min_confidence) == []
    for word in unfound:
        assert document_id in hits(archive, word), word  # re-indexed with the new reading
    # Nothing left under the threshold: a second run has nothing to do.
    result = CliRunner().invoke(main, ["reocr"], catch_exceptions=False)
    assert "Không có trang nào" in result.output
    archive.close()
