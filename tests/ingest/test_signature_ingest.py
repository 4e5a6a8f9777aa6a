"""Ingest validates the signature of every PDF it receives and keeps the verdict with the original."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from archive_core.context import Archive
from archive_core.db.models import BlobSignatures, Document
from archive_core.settings import Settings
from archive_ops.verify import verify
from indexes.base import SearchQuery
from ingest import signatures as sig
from ingest.pipeline import IngestOptions, ingest_package
from ingest.report import build_report, report_paths
from ingest.signature_checks import document_status, recheck_all
from specimens.signing import TestCA, render_pdf, sign_pdf

from .packaging import write_package


@pytest.fixture(scope="module")
def ca() -> TestCA:
    return TestCA()


def signed_package(root: Path, ca: TestCA) -> Path:
    files = root / "files"
    files.mkdir(parents=True)
    official = ca.issue("Nguyễn Văn Hùng", "UBND xã Tân Hưng")
    good = sign_pdf(render_pdf(), ca, official)
    (files / "da-ky.pdf").write_bytes(good)
    tampered = bytearray(sign_pdf(render_pdf(["QUYẾT ĐỊNH", "Về việc khen thưởng"]), ca, official))
    tampered[tampered.index(b"stream") + 40] ^= 0x01
    (files / "bi-sua.pdf").write_bytes(bytes(tampered))
    (files / "khong-ky.pdf").write_bytes(render_pdf(["KẾ HOẠCH", "Về việc tổ chức hội nghị"]))
    rows = [
        {"ma_van_ban": "VB-1", "so_ky_hieu": "74/QĐ-UBND", "trich_yeu": "Phê duyệt kế hoạch",
         "tep_dinh_kem": "files/da-ky.pdf"},
        {"ma_van_ban": "VB-2", "so_ky_hieu": "75/QĐ-UBND", "trich_yeu": "Khen thưởng", "tep_dinh_kem": "files/bi-sua.pdf"},
        {"ma_van_ban": "VB-3", "so_ky_hieu": "76/KH-UBND", "trich_yeu": "Tổ chức hội nghị",
         "tep_dinh_kem": "files/khong-ky.pdf"},
    ]
    return write_package(root, rows)


@pytest.fixture()
def ingested(tmp_path, ca):
    roots = ca.write_roots(tmp_path / "roots.pem")
    archive = Archive.open(Settings.load(home=tmp_path / "home", trust_roots=str(roots)))
    ingest_package(archive, signed_package(tmp_path / "pkg", ca), IngestOptions(workers=1))
    yield archive
    archive.close()


def with_valid_signature(archive: Archive) -> set[str]:
    """What the search filter "có chữ ký số hợp lệ" finds, by ma_van_ban."""
    ids = [h.id for h in archive.engine.search(SearchQuery(scope=None, signature=sig.VALID)).hits]
    with archive.db.session() as session:
        return {d.ma_van_ban for d in session.scalars(select(Document).where(Document.id.in_(ids)))}


def statuses(archive: Archive) -> dict[str, str]:
    with archive.db.session() as session:
        return {d.ma_van_ban: document_status(session, d) for d in session.scalars(select(Document))}


def test_ingest_keeps_a_verdict_per_pdf(ingested):
    assert statuses(ingested) == {"VB-1": sig.VALID, "VB-2": sig.ALTERED, "VB-3": sig.UNSIGNED}
    with ingested.db.session() as session:
        valid = session.scalar(select(BlobSignatures).where(BlobSignatures.status == sig.VALID))
        [one] = valid.signatures
        assert one["signer"] == "Nguyễn Văn Hùng" and one["intact"] and one["trusted"]
    assert with_valid_signature(ingested) == {"VB-1"}
    # The ingest report tells the archivist which files are signed and what the check found.
    with ingested.db.session() as session:
        package_id = session.scalar(select(Document.package_id).limit(1))
    report = build_report(ingested, package_id)
    assert report["signatures"] == {"bi_sua_doi": 1, "hop_le": 1, "khong_ky": 1}
    assert {(x["ma_van_ban"], x["status"]) for x in report["signed_files"]} == {("VB-1", "hop_le"), ("VB-2", "bi_sua_doi")}
    html = report_paths(ingested, package_id)[1].read_text(encoding="utf-8")
    assert "Chữ ký số" in html and "Tệp đã bị sửa đổi sau khi ký" in html
    assert report["trust_roots_configured"] and "Chưa cấu hình chứng thư gốc" not in html


def test_recheck_follows_the_trust_store(ingested, tmp_path):
    # The operator removes the test root: the signature is no longer proven, and verify says so.
    empty = tmp_path / "empty-roots"
    empty.mkdir()
    ingested.settings = Settings.load(home=ingested.settings.home, trust_roots=str(empty))
    changes = {c.before: c.after for c in recheck_all(ingested)}
    assert changes[sig.VALID] == sig.UNTRUSTED
    assert statuses(ingested)["VB-1"] == sig.UNTRUSTED


def test_verify_rechecks_and_reports_a_signature_no_longer_valid(ingested, tmp_path):
    assert verify(ingested).ok
    empty = tmp_path / "empty-roots"
    empty.mkdir()
    ingested.settings = Settings.load(home=ingested.settings.home, trust_roots=str(empty))
    report = verify(ingested)
    [problem] = [p for p in report.problems if p.kind == "signature_invalid"]
    assert problem.documents == [next(d for d, s in _ids(ingested).items() if s == "VB-1")]
    assert report.counts["signed_files_checked"] == 2 and report.counts["signed_files_valid"] == 0
    # The search filter follows the new verdict.
    assert with_valid_signature(ingested) == set()


def _ids(archive: Archive) -> dict[int, str]:
    with archive.db.session() as session:
        return {d.id: d.ma_van_ban for d in session.scalars(select(Document))}


def test_without_configured_roots_nothing_is_trusted_and_the_report_says_why(tmp_path, ca):
    archive = Archive.open(Settings.load(home=tmp_path / "home"))
    try:
        package_id = ingest_package(archive, signed_package(tmp_path / "pkg", ca), IngestOptions(workers=1))
        assert statuses(archive)["VB-1"] == sig.UNTRUSTED
        report = build_report(archive, package_id)
        assert not report["trust_roots_configured"]
        assert "Chưa cấu hình chứng thư gốc" in report_paths(archive, package_id)[1].read_text(encoding="utf-8")
    finally:
        archive.close()


def test_the_extractor_tells_a_surely_unsigned_pdf_and_its_verdict_is_kept_as_check_pdf_gives_it(tmp_path, ca):
    """The extractor finds, with the PDF open for its text, what ``may_be_signed`` would find; the verdict kept
    when its pages are saved is the one ``check_pdf`` gives (so the check before indexing need not open it)."""
    from ingest.extract import extract

    signed = tmp_path / "da-ky.pdf"
    signed.write_bytes(sign_pdf(render_pdf(), ca, ca.issue("Nguyễn Văn Hùng", "UBND xã Tân Hưng")))
    plain = tmp_path / "khong-ky.pdf"
    plain.write_bytes(render_pdf(["KẾ HOẠCH", "Về việc tổ chức hội nghị"]))
    assert extract(signed).signature_free is False and sig.may_be_signed(signed)
    assert extract(plain).signature_free is True and not sig.may_be_signed(plain)

    roots = ca.write_roots(tmp_path / "roots.pem")
    archive = Archive.open(Settings.load(home=tmp_path / "home", trust_roots=str(roots)))
    try:
        ingest_package(archive, signed_package(tmp_path / "pkg", ca), IngestOptions(workers=2))
        trust = sig.TrustStore.load(str(roots))
        expected = sig.check_pdf(plain, trust)
        with archive.db.session() as session:
            kept = session.scalars(select(BlobSignatures)).all()
        by_status = {row.status: row for row in kept}
        unsigned = by_status[sig.UNSIGNED]
        assert (unsigned.signature_count, unsigned.signatures, unsigned.error, unsigned.trust_store) == (
            0, [], expected.error, expected.trust_store
        )
        assert len(kept) == 3 and sig.VALID in by_status
    finally:
        archive.close()
