"""The ingest pipeline end to end: real bags, rendered PDFs, real scans through real Tesseract."""
from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archive_core.context import Archive
from archive_core.db.models import Blob, Document, DocumentFile, Package, Page
from archive_core.settings import Settings
from archive_portal.services.units import import_mapping
from indexes.fold import fold
from indexes.query import build_query
from ingest.pipeline import IngestOptions, ingest_package
from ingest.report import build_report, report_paths
from specimens import make_specimens, render_pdf, render_scan

from .packaging import row_for, write_package

UNITS_CSV = Path(__file__).resolve().parents[2] / "archive_core" / "data" / "units-hung-yen-2025.csv"


@pytest.fixture()
def archive(tmp_path):
    archive = Archive.open(Settings.load(home=tmp_path / "home"))
    with archive.db.transaction() as session:
        import_mapping(session, UNITS_CSV)
    yield archive
    archive.close()


@pytest.fixture(scope="module")
def specimens():
    return make_specimens(8, seed=7, issuer="UBND phường Lam Sơn", year=2024)


def search_ids(archive: Archive, text: str, scope=None) -> list[int]:
    result = archive.engine.search(build_query(text, scope=scope, per_page=50))
    return [hit.id for hit in result.hits]


def outcomes(report: dict) -> dict[tuple[str, str], tuple[str, str]]:
    return {(i["kind"], i["key"]): (i["outcome"], i["reason"]) for i in report["items"]}


def born_digital_bag(root: Path, specs, *, corrupt: bool = False, secret: bool = False) -> Path:
    files = root / "files"
    files.mkdir(parents=True)
    rows = []
    for index, spec in enumerate(specs[:3], start=1):
        render_pdf(spec, files / f"vb{index}.pdf")
        rows.append(row_for(spec, f"VB-{index}", f"files/vb{index}.pdf", do_mat="Mật" if secret and index == 3 else ""))
    if corrupt:
        (files / "hong.pdf").write_bytes(b"%PDF-1.7\n1 0 obj <<>> endobj\n% truncated here")
        rows.append(row_for(specs[3], "VB-HONG", "files/hong.pdf"))
    return write_package(root, rows)


def test_bag_is_ingested_verified_and_searchable_without_diacritics(archive, tmp_path, specimens):
    package = born_digital_bag(tmp_path / "pkg", specimens)
    package_id = ingest_package(archive, package, IngestOptions(workers=1))
    report = build_report(archive, package_id)
    assert report["package"]["verified"] is True
    assert report["counts"]["row:indexed"] == 3 and report["counts"]["file:indexed"] == 3
    subject_words = fold(specimens[0].subject).split()[2:5]
    assert subject_words
    ids = search_ids(archive, " ".join(subject_words))
    with archive.db.session() as session:
        wanted = session.scalar(select(Document.id).where(Document.ma_van_ban == "VB-1"))
        document = session.get(Document, wanted)
        assert document.number == specimens[0].number and document.field_sources["number"] == "manifest"
    assert wanted in ids
    json_path, html_path = report_paths(archive, package_id)
    assert json.loads(json_path.read_text(encoding="utf-8"))["package"]["id"] == package_id
    assert "Báo cáo nhập gói" in html_path.read_text(encoding="utf-8")


def _state(archive: Archive) -> tuple:
    with archive.db.session() as session:
        return (
            session.scalar(select(func.count(Document.id))),
            session.scalar(select(func.count(DocumentFile.id))),
            session.scalar(select(func.count(Page.id))),
            session.scalar(select(func.count()).select_from(Blob)),
            session.scalar(select(func.count(Package.id))),
            sorted(p.name for p in archive.settings.store_dir.rglob("*") if p.is_file()),
            archive.engine.count(None),
        )


def test_running_the_same_package_twice_adds_nothing(archive, tmp_path, specimens):
    package = born_digital_bag(tmp_path / "pkg", specimens)
    first = ingest_package(archive, package, IngestOptions(workers=1))
    before = _state(archive)
    second = ingest_package(archive, package, IngestOptions(workers=1))
    assert second == first
    assert _state(archive) == before
    assert build_report(archive, second)["documents_added_this_run"] == 0


def test_a_copy_of_the_package_elsewhere_is_recognised_as_duplicates(archive, tmp_path, specimens):
    package = born_digital_bag(tmp_path / "pkg", specimens)
    ingest_package(archive, package, IngestOptions(workers=1))
    before = _state(archive)[:4]
    # same rows re-exported with one extra row: the known ones are duplicates, the new one is added
    copy = tmp_path / "again"
    shutil.copytree(package / "data", copy)
    render_pdf(specimens[5], copy / "files" / "vb6.pdf")
    with open(copy / "documents.csv", "a", encoding="utf-8") as handle:
        handle.write(f"VB-6,di,{specimens[5].number},,,,,,,files/vb6.pdf\n")
    package_id = ingest_package(archive, copy, IngestOptions(workers=1, unit_code="11950"))
    report = build_report(archive, package_id)
    assert report["counts"]["row:duplicate"] == 3 and report["counts"]["row:indexed"] == 1
    assert report["counts"]["file:duplicate"] == 3
    assert _state(archive)[0] == before[0] + 1
    assert any("chưa được xác minh" in w for w in report["warnings"])


def test_corrupt_pdf_is_reported_and_the_rest_ingested(archive, tmp_path, specimens):
    package = born_digital_bag(tmp_path / "pkg", specimens, corrupt=True)
    report = build_report(archive, ingest_package(archive, package, IngestOptions(workers=2)))
    items = outcomes(report)
    outcome, reason = items[("file", "files/hong.pdf")]
    assert outcome == "refused" and reason
    assert report["counts"]["file:indexed"] == 3
    # the row of the corrupt file is still indexed from its metadata, flagged
    row_outcome, row_reason = items[("row", "VB-HONG")]
    assert row_outcome == "indexed" and "hong.pdf" in row_reason


@pytest.mark.parametrize("workers", [1, 2])  # 2: the pool reads the stored files before they are registered
def test_secret_documents_are_withheld_and_never_indexed(archive, tmp_path, specimens, workers):
    package = born_digital_bag(tmp_path / "pkg", specimens, secret=True)
    report = build_report(archive, ingest_package(archive, package, IngestOptions(workers=workers)))
    items = outcomes(report)
    assert items[("row", "VB-3")][0] == "withheld"
    assert items[("file", "files/vb3.pdf")][0] == "withheld"
    assert report["counts"]["row:indexed"] == 2  # the two others
    with archive.db.session() as session:
        secret_id = session.scalar(select(Document.id).where(Document.ma_van_ban == "VB-3"))
        secret_pages = session.scalar(
            select(func.count(Page.id)).join(DocumentFile).where(DocumentFile.document_id == secret_id)
        )
    assert secret_pages == 0  # its text was never stored, even if read ahead
    assert secret_id not in archive.engine.indexed_ids()
    assert secret_id not in search_ids(archive, " ".join(fold(specimens[2].subject).split()[:4]))


def test_missing_unreferenced_hostile_and_duplicate_files(archive, tmp_path, specimens):
    root = tmp_path / "pkg"
    files = root / "files"
    files.mkdir(parents=True)
    render_pdf(specimens[0], files / "a.pdf")
    shutil.copy(files / "a.pdf", files / "a-copy.pdf")  # the same bytes twice in one unit
    render_pdf(specimens[1], files / "le.pdf")  # referenced by no row
    (files / "rong.pdf").write_bytes(b"")  # empty
    rows = [
        row_for(specimens[0], "VB-A", "files/a.pdf"),
        row_for(specimens[2], "VB-THIEU", "files/khong-co.pdf"),
        row_for(specimens[3], "VB-HIEM", "../../etc/passwd"),
        row_for(specimens[4], "", "files/rong.pdf"),
    ]
    package = write_package(root, rows)
    report = build_report(archive, ingest_package(archive, package, IngestOptions(workers=1)))
    items = outcomes(report)
    assert items[("row", "VB-A")][0] == "indexed"
    assert items[("row", "VB-THIEU")][0] == "indexed" and "Thiếu tệp" in items[("row", "VB-THIEU")][1]
    assert items[("row", "VB-HIEM")][0] == "indexed" and "không an toàn" in items[("row", "VB-HIEM")][1]
    assert items[("row", "dòng 4")][0] == "refused"
    assert items[("file", "files/rong.pdf")] == ("refused", "Tệp rỗng (0 byte)")
    assert items[("file", "files/a-copy.pdf")][0] == "duplicate"
    assert items[("document", "tep:files/le.pdf")][0] == "indexed"
    assert items[("file", "files/le.pdf")][0] == "indexed"
    with archive.db.session() as session:
        loose = session.scalar(select(Document).where(Document.ma_van_ban == "tep:files/le.pdf"))
        # its metadata was read from its text
        assert loose.number == specimens[1].number and loose.field_sources["number"] == "text"
    # every payload file has exactly one outcome
    payload = sorted(p.relative_to(package / "data").as_posix() for p in (package / "data" / "files").iterdir())
    assert sorted(k for kind, k in items if kind == "file") == payload


def test_bag_whose_payload_does_not_match_is_not_ingested_until_the_archivist_says(archive, tmp_path, specimens):
    package = born_digital_bag(tmp_path / "pkg", specimens)
    (package / "data" / "files" / "vb1.pdf").write_bytes(b"%PDF-1.4 changed")
    (package / "data" / "files" / "vb2.pdf").unlink()
    (package / "data" / "files" / "them.txt").write_text("tệp lạ", encoding="utf-8")
    report = build_report(archive, ingest_package(archive, package, IngestOptions(workers=1)))
    assert report["package"]["status"] == "refused"
    problems = {i["key"]: i["reason"] for i in report["items"] if i["kind"] == "file"}
    assert any(k.endswith("vb1.pdf") and "[mismatch]" in r for k, r in problems.items())
    assert any(k.endswith("vb2.pdf") and "[missing]" in r for k, r in problems.items())
    assert any(k.endswith("them.txt") and "[extra]" in r for k, r in problems.items())
    assert _state(archive)[0] == 0
    accepted = build_report(archive, ingest_package(archive, package, IngestOptions(workers=1, accept_invalid_bag=True)))
    assert accepted["package"]["status"] == "done" and accepted["package"]["verified"] is False


def test_a_package_without_unit_code_is_refused(archive, tmp_path, specimens):
    root = tmp_path / "pkg"
    (root / "files").mkdir(parents=True)
    render_pdf(specimens[0], root / "files" / "a.pdf")
    package = write_package(root, [row_for(specimens[0], "VB-1", "files/a.pdf")], bag=False)
    report = build_report(archive, ingest_package(archive, package, IngestOptions(workers=1)))
    assert report["package"]["status"] == "refused" and "Unit-Code" in report["warnings"][0]


@pytest.mark.ocr
def test_scanned_page_is_found_by_a_word_only_in_its_body(archive, tmp_path, specimens):
    """A loose folder (no manifest) with one scan: OCR'd by Tesseract, metadata read from the text."""
    spec = specimens[6]
    folder = tmp_path / "loose"
    folder.mkdir()
    render_scan(spec, folder / "scan.png", fmt="png", dpi=300)
    body_words = {w for p in spec.body_paragraphs for w in fold(p).split() if len(w) >= 5 and w.isalpha()}
    header_words = set(fold(" ".join([spec.subject, spec.issuer, spec.signer, spec.doc_type])).split())
    only_in_body = sorted(body_words - header_words)
    assert only_in_body
    package_id = ingest_package(archive, folder, IngestOptions(workers=1, unit_code="11950"))
    report = build_report(archive, package_id)
    assert report["pages"]["ocr"] == 1
    with archive.db.session() as session:
        document = session.scalar(select(Document).where(Document.package_id == package_id))
        page = document.files[0].pages[0]
        assert page.method == "ocr" and page.ocr_confidence > 50
    found = [w for w in only_in_body if document.id in search_ids(archive, w)]
    assert len(found) >= len(only_in_body) * 0.7, (only_in_body, found)


@pytest.mark.parametrize("workers", [1, 2])
def test_text_fills_only_what_the_manifest_left_empty(archive, tmp_path, specimens, workers):
    """A row that gives every field keeps them all (its file's metadata is not read); a row without the
    signer's title gets it from the text, whether the file was read ahead of its registration or not."""
    root = tmp_path / "pkg"
    (root / "files").mkdir(parents=True)
    rows = []
    for index, spec in enumerate(specimens[:2], start=1):
        render_pdf(spec, root / "files" / f"vb{index}.pdf")
        row = row_for(spec, f"VB-{index}", f"files/vb{index}.pdf")
        row["chuc_vu_nguoi_ky"] = "Phó Chủ tịch phụ trách" if index == 1 else ""
        rows.append(row)
    with open(root / "documents.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    ingest_package(archive, root, IngestOptions(workers=workers, unit_code="11950"))
    with archive.db.session() as session:
        full, lacking = (session.scalar(select(Document).where(Document.ma_van_ban == f"VB-{i}")) for i in (1, 2))
        assert full.signer_title == "Phó Chủ tịch phụ trách"
        assert set(full.field_sources.values()) == {"manifest"}
        assert lacking.signer_title == specimens[1].signer_title and lacking.field_sources["signer_title"] == "text"
        assert lacking.number == specimens[1].number and lacking.field_sources["number"] == "manifest"
        assert full.text_ready and lacking.text_ready and full.indexed_at and lacking.indexed_at


def test_a_pool_process_dying_while_files_are_read_ahead_refuses_none_of_them(archive, tmp_path, specimens, monkeypatch):
    """A process of the pool killed while the package is being stored (as the OOM killer would): the files it
    was reading ahead, and the ones queued behind them, are read again, none is refused for it."""
    from ingest import ahead

    start = ahead.ExtractAhead.start
    killed: list[int] = []

    def start_then_kill(self, sha256, path, metadata=True):
        start(self, sha256, path, metadata)
        processes = getattr(self.executor, "_processes", None) or {}
        if not killed and len(self._futures) >= 3 and processes:
            killed.append(next(iter(processes)))
            os.kill(killed[0], signal.SIGKILL)
            deadline = time.monotonic() + 30
            while not self.executor._broken and time.monotonic() < deadline:  # the pool has seen it
                time.sleep(0.01)

    monkeypatch.setattr(ahead.ExtractAhead, "start", start_then_kill)
    root = tmp_path / "pkg"
    (root / "files").mkdir(parents=True)
    rows = []
    for index, spec in enumerate(specimens, start=1):
        render_pdf(spec, root / "files" / f"vb{index}.pdf")
        rows.append(row_for(spec, f"VB-{index}", f"files/vb{index}.pdf"))
    report = build_report(archive, ingest_package(archive, write_package(root, rows), IngestOptions(workers=2)))
    assert killed
    assert report["counts"]["row:indexed"] == len(specimens) and report["counts"]["file:indexed"] == len(specimens)
    assert "file:refused" not in report["counts"]
