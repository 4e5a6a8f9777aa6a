"""Secrecy fails closed (issue 10, items 1 and 6), through ``archive ingest`` on hostile packages.

Every package here is built the way a careless or hostile export would be: real PDFs rendered
with reportlab, real scans read by real Tesseract, real bags.  Each secret document carries a
word of its own (``mật-...``); the test searches for it as a lookup account of the successor
unit (``archive search --new-unit``), and as the admin, and looks into the engine: never found.
Ordinary documents that merely say "bí mật" or "bảo mật" in their body are still found.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from archive_core.context import Archive
from archive_core.db.models import AuditEvent, Document
from archive_core.settings import Settings
from archive_portal.cli import main
from ingest.secrecy import from_text
from specimens import make_specimens, render_pdf, render_scan

from .edxml_samples import message_bytes
from .packaging import row_for, write_package

UNITS_CSV = Path(__file__).resolve().parents[2] / "archive_core" / "data" / "units-hung-yen-2025.csv"
OLD, NEW = "11950", "11983"  # phường Lam Sơn -> its successor
ORDINARY_BODY = "Cán bộ phải giữ bí mật nhà nước và bảo mật thông tin theo quy định"


@pytest.fixture()
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHIVE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OMP_THREAD_LIMIT", "1")
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True):
        result = runner.invoke(main, list(args), catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    invoke("units", "import", str(UNITS_CSV))
    invoke("accounts", "create", "--username", "luutru", "--role", "archivist", "--password", "mat-khau-rat-dai-2025")
    invoke("accounts", "create", "--username", "quantri", "--role", "admin", "--password", "mat-khau-rat-dai-2025")
    return invoke


@pytest.fixture(scope="module")
def specs():
    return make_specimens(12, seed=23, issuer="UBND phường Lam Sơn", year=2024)


def marked(spec, word: str, *, secrecy: str = "", body: str = ""):
    """The specimen with a word of its own in its first paragraph (and a stamp, if asked)."""
    first = f"Mã tra soát {word}. {body}".strip()
    return replace(spec, secrecy=secrecy, body_paragraphs=[first, *spec.body_paragraphs])


def ingest(run, path: Path, *extra: str, ok: bool = True) -> dict:
    result = run("ingest", "--json", "--workers", "1", *extra, str(path), ok=ok)
    return json.loads(result.output)


def found(run, word: str) -> tuple[list[str], list[str]]:
    """Keys of the documents found for ``word`` by a lookup account of NEW, and by the admin."""
    lookup = json.loads(run("search", word, "--json", "--new-unit", NEW).output)["hits"]
    admin = json.loads(run("search", word, "--json").output)["hits"]
    return [h["ma_van_ban"] for h in lookup], [h["ma_van_ban"] for h in admin]


def nowhere(run, word: str) -> bool:
    return found(run, word) == ([], [])


def outcomes(report: dict) -> dict[tuple[str, str], tuple[str, str]]:
    return {(i["kind"], i["key"]): (i["outcome"], i["reason"]) for i in report["items"]}


@contextmanager
def archive() -> Iterator[Archive]:
    opened = Archive.open(Settings.load())
    try:
        yield opened
    finally:
        opened.close()


def indexed_keys() -> set[str]:
    with archive() as opened, opened.db.session() as session:
        ids = opened.engine.indexed_ids()
        return set(session.scalars(select(Document.ma_van_ban).where(Document.id.in_(ids))))


# -- do_mat values ------------------------------------------------------------------------------
SECRET_VALUES = {
    "VB-A": "Tối mật (A)",
    "VB-B": "Mật - Khẩn",
    "VB-C": "TUYỆT MẬT",
    "VB-D": "mat",
    "VB-E": unicodedata.normalize("NFD", "Mật"),
    "VB-F": "  tối-mật ",
    "VB-G": "Không rõ",  # an unknown word: withheld, the archivist reads it in the report
    "VB-H": "Tối mật theo Quyết định số 123/QĐ-UBND ngày 02/01/2024",  # longer than the column: named in full
}
ORDINARY_VALUES = {"VB-T": "Thường", "VB-U": "", "VB-V": " THƯỜNG. "}


def test_any_do_mat_but_empty_or_thuong_withholds_and_the_report_names_it(run, tmp_path, specs):
    files = tmp_path / "pkg" / "files"
    files.mkdir(parents=True)
    rows = []
    for index, (key, value) in enumerate({**SECRET_VALUES, **ORDINARY_VALUES}.items()):
        body = ORDINARY_BODY if key in ORDINARY_VALUES else ""
        render_pdf(marked(specs[index], f"tra{key[-1].lower()}soat", body=body), files / f"{key}.pdf")
        rows.append(row_for(specs[index], key, f"files/{key}.pdf", do_mat=value))
    report = ingest(run, write_package(tmp_path / "pkg", rows))
    items = outcomes(report)
    for key, value in SECRET_VALUES.items():
        outcome, reason = items[("row", key)]
        assert outcome == "withheld", (key, reason)
        assert " ".join(unicodedata.normalize("NFC", value).split()) in reason, (key, reason)
        assert items[("file", f"files/{key}.pdf")][0] == "withheld"
        assert nowhere(run, f"tra{key[-1].lower()}soat"), key
    for key in ORDINARY_VALUES:
        assert items[("row", key)][0] == "indexed", key
        assert found(run, f"tra{key[-1].lower()}soat") == ([key], [key])
    # the ordinary documents that talk about secrecy are found by those very words
    lookup, _ = found(run, "bí mật nhà nước bảo mật thông tin")
    assert set(lookup) == set(ORDINARY_VALUES)
    assert indexed_keys() == set(ORDINARY_VALUES)
    with archive() as opened, opened.db.session() as session:
        levels = dict(session.execute(select(Document.ma_van_ban, Document.confidentiality)).all())
    assert levels["VB-C"] == "Tuyệt mật" and levels["VB-A"] == "Tối mật (A)"
    assert all(len(level) <= 32 for level in levels.values())  # the column's width (PostgreSQL enforces it)


# -- the stamp in the text ----------------------------------------------------------------------
def test_a_stamp_in_the_header_withholds_born_digital_and_scanned_and_bi_mat_in_the_body_does_not(run, tmp_path, specs):
    # a bag whose row says nothing of secrecy, but the PDF carries the MẬT stamp under its number
    files = tmp_path / "bag" / "files"
    files.mkdir(parents=True)
    render_pdf(marked(specs[0], "dautrongbag", secrecy="MẬT"), files / "a.pdf")
    render_pdf(marked(specs[1], "thuongtrongbag", body=ORDINARY_BODY), files / "b.pdf")
    report = ingest(run, write_package(tmp_path / "bag", [row_for(specs[0], "VB-1", "files/a.pdf"),
                                                          row_for(specs[1], "VB-2", "files/b.pdf")]))
    items = outcomes(report)
    assert items[("row", "VB-1")][0] == "withheld" and "MẬT" in items[("row", "VB-1")][1]
    assert items[("row", "VB-2")][0] == "indexed"
    # a loose folder of scans (the old file share): one stamped TỐI MẬT, one ordinary, read by Tesseract
    loose = tmp_path / "loose"
    loose.mkdir()
    render_scan(marked(specs[2], "dautrongscan", secrecy="TỐI MẬT"), loose / "scan-1.png", fmt="png")
    render_scan(marked(specs[3], "thuongtrongscan", body=ORDINARY_BODY), loose / "scan-2.png", fmt="png")
    report = ingest(run, loose, "--unit", OLD)
    items = outcomes(report)
    assert items[("file", "scan-1.png")][0] == "withheld", items
    assert "TỐI MẬT" in items[("document", "tep:scan-1.png")][1]
    assert items[("file", "scan-2.png")][0] == "indexed"
    assert nowhere(run, "dautrongbag") and nowhere(run, "dautrongscan")
    assert found(run, "thuongtrongbag") == (["VB-2"], ["VB-2"])
    assert found(run, "thuongtrongscan") == (["tep:scan-2.png"], ["tep:scan-2.png"])
    assert set(found(run, "bí mật nhà nước")[0]) == {"VB-2", "tep:scan-2.png"}


def test_a_stamp_read_by_tesseract_without_its_tones_still_withholds(tmp_path, specs):
    """OCR with the English model drops the tones (TUYET MAT): still a stamp; the body's words are not."""
    if shutil.which("tesseract") is None:
        pytest.skip("tesseract not installed")
    scan = render_scan(marked(specs[4], "khongdau", secrecy="TUYỆT MẬT", body=ORDINARY_BODY),
                       tmp_path / "scan.png", fmt="png")
    text = subprocess.run(["tesseract", str(scan), "-", "-l", "eng"], capture_output=True, text=True, check=True,
                          env={**os.environ, "OMP_THREAD_LIMIT": "1"}).stdout
    assert "MẬT" not in text  # the tones are really gone
    secrecy = from_text(text)
    assert secrecy is not None and secrecy.level == "Tuyệt mật"
    plain = render_scan(marked(specs[5], "khongdau", body=ORDINARY_BODY), tmp_path / "plain.png", fmt="png")
    text = subprocess.run(["tesseract", str(plain), "-", "-l", "eng"], capture_output=True, text=True, check=True,
                          env={**os.environ, "OMP_THREAD_LIMIT": "1"}).stdout
    assert from_text(text) is None


# -- edXML --------------------------------------------------------------------------------------
def _with_confidentiality(message: bytes, element: str, value: str) -> bytes:
    anchor = b"<edXML:Priority>0</edXML:Priority>"
    assert anchor in message
    return message.replace(anchor, anchor + f"<edXML:{element}>{value}</edXML:{element}>".encode())


def test_edxml_confidentiality_is_read(run, tmp_path, specs):
    folder = tmp_path / "edxml"
    folder.mkdir()
    cases = {"secret": ("SecurityLevel", "Mật"), "secret2": ("SphereOfPromulgation", "TỐI MẬT"),
             "ordinary": ("SecurityLevel", "0"), "ordinary2": ("SphereOfPromulgation", "Lưu hành nội bộ")}
    for index, (name, (element, value)) in enumerate(cases.items()):
        spec = marked(specs[index], f"edxml{name}")
        pdf = tmp_path / f"{name}.pdf"
        render_pdf(spec, pdf)
        message = message_bytes(spec, [(f"{name}.pdf", pdf.read_bytes())], document_id=f"ID-{name}",
                                content=f"Nội dung edxml{name}")
        (folder / f"{name}.edxml").write_bytes(_with_confidentiality(message, element, value))
    report = ingest(run, folder, "--unit", OLD)
    items = outcomes(report)
    assert items[("document", "edxml:ID-secret")][0] == "withheld"
    assert "edXML" in items[("document", "edxml:ID-secret")][1] and "Mật" in items[("document", "edxml:ID-secret")][1]
    assert items[("document", "edxml:ID-secret2")][0] == "withheld"
    assert items[("document", "edxml:ID-ordinary")][0] == "indexed"
    assert items[("document", "edxml:ID-ordinary2")][0] == "indexed"
    assert nowhere(run, "edxmlsecret") and nowhere(run, "edxmlsecret2")
    assert found(run, "edxmlordinary")[0] == ["edxml:ID-ordinary"]


# -- attachment paths ---------------------------------------------------------------------------
def test_attachment_paths_match_after_nfc_then_without_case(run, tmp_path, specs):
    files = tmp_path / "pkg" / "files"
    files.mkdir(parents=True)
    nfd_name = unicodedata.normalize("NFD", "Báo cáo tối mật.pdf")  # as macOS and many zip tools write
    render_pdf(marked(specs[0], "duongdannfd"), files / nfd_name)
    render_pdf(marked(specs[1], "duongdanhoa"), files / "kh-mat.pdf")
    render_pdf(marked(specs[2], "duongdanthuong"), files / "Thuong.PDF")
    rows = [row_for(specs[0], "VB-NFD", "files/Báo cáo tối mật.pdf", do_mat="Tối mật"),
            row_for(specs[1], "VB-HOA", "FILES/KH-MAT.PDF", do_mat="Mật"),
            row_for(specs[2], "VB-THUONG", "files/thuong.pdf")]
    report = ingest(run, write_package(tmp_path / "pkg", rows, bag=False), "--unit", OLD)
    items = outcomes(report)
    assert items[("row", "VB-NFD")][0] == "withheld" and items[("row", "VB-HOA")][0] == "withheld"
    assert items[("file", f"files/{nfd_name}")][0] == "withheld"
    assert items[("file", "files/kh-mat.pdf")][0] == "withheld"
    assert items[("row", "VB-THUONG")][0] == "indexed" and items[("file", "files/Thuong.PDF")][0] == "indexed"
    assert not [key for kind, key in items if kind == "document"]  # no file taken as "unreferenced"
    assert nowhere(run, "duongdannfd") and nowhere(run, "duongdanhoa")
    assert found(run, "duongdanthuong")[0] == ["VB-THUONG"]


def test_a_secret_row_whose_file_is_missing_holds_every_unreferenced_file(run, tmp_path, specs):
    files = tmp_path / "pkg" / "files"
    files.mkdir(parents=True)
    render_pdf(marked(specs[0], "tepkhongten"), files / "scan0001.pdf")  # the secret row's file, renamed
    render_pdf(marked(specs[1], "teplaccho"), files / "khac.pdf")
    render_pdf(marked(specs[2], "tepcoten"), files / "vb3.pdf")
    rows = [row_for(specs[0], "VB-MAT", "files/bao-cao-mat.pdf", do_mat="Mật"),
            row_for(specs[2], "VB-3", "files/vb3.pdf")]
    report = ingest(run, write_package(tmp_path / "pkg", rows))
    items = outcomes(report)
    assert items[("row", "VB-MAT")][0] == "withheld"
    for name in ("scan0001.pdf", "khac.pdf"):
        outcome, reason = items[("document", f"tep:files/{name}")]
        assert outcome == "withheld" and "VB-MAT" in reason, reason
        assert items[("file", f"files/{name}")][0] == "withheld"
    assert nowhere(run, "tepkhongten") and nowhere(run, "teplaccho")
    assert found(run, "tepcoten")[0] == ["VB-3"]


def test_a_secret_row_naming_no_file_holds_the_unnamed_files_too(run, tmp_path, specs):
    files = tmp_path / "pkg" / "files"
    files.mkdir(parents=True)
    render_pdf(marked(specs[0], "khongghitep"), files / "scan0002.pdf")
    rows = [row_for(specs[0], "VB-MAT", "", do_mat="Tối mật")]
    report = ingest(run, write_package(tmp_path / "pkg", rows))
    outcome, reason = outcomes(report)[("document", "tep:files/scan0002.pdf")]
    assert outcome == "withheld" and "VB-MAT" in reason
    assert nowhere(run, "khongghitep")


# -- after ingest -------------------------------------------------------------------------------
def _audits(action: str) -> list[AuditEvent]:
    with archive() as opened, opened.db.session() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _document_id(key: str) -> int:
    with archive() as opened, opened.db.session() as session:
        return session.scalar(select(Document.id).where(Document.ma_van_ban == key))


def test_a_re_export_that_raises_secrecy_withholds_the_document_at_once(run, tmp_path, specs):
    files = tmp_path / "first" / "files"
    files.mkdir(parents=True)
    render_pdf(marked(specs[0], "xuatlai"), files / "a.pdf")
    ingest(run, write_package(tmp_path / "first", [row_for(specs[0], "VB-1", "files/a.pdf")]))
    assert found(run, "xuatlai") == (["VB-1"], ["VB-1"])
    again = tmp_path / "again" / "files"
    again.mkdir(parents=True)
    render_pdf(marked(specs[0], "xuatlai"), again / "a.pdf")
    report = ingest(run, write_package(tmp_path / "again", [row_for(specs[0], "VB-1", "files/a.pdf",
                                                                     do_mat="Mật (A)")]))
    outcome, reason = outcomes(report)[("row", "VB-1")]
    assert outcome == "withheld" and "Mật (A)" in reason, reason
    assert nowhere(run, "xuatlai") and "VB-1" not in indexed_keys()
    assert [e.target for e in _audits("document_withhold")] == [f"van-ban:{_document_id('VB-1')}"]


def test_archive_withhold_and_release(run, tmp_path, specs):
    files = tmp_path / "pkg" / "files"
    files.mkdir(parents=True)
    render_pdf(marked(specs[0], "rutlai"), files / "a.pdf")
    render_pdf(marked(specs[1], "giaitoa"), files / "b.pdf")
    ingest(run, write_package(tmp_path / "pkg", [row_for(specs[0], "VB-1", "files/a.pdf"),
                                                 row_for(specs[1], "VB-2", "files/b.pdf", do_mat="Mật")]))
    first, second = _document_id("VB-1"), _document_id("VB-2")
    assert found(run, "rutlai")[0] == ["VB-1"] and nowhere(run, "giaitoa")

    refused = run("withhold", str(first), "--reason", "x", "--by", "khongco", ok=False)
    assert refused.exit_code != 0 and found(run, "rutlai")[0] == ["VB-1"]
    for missing in ("999999", str(2**64)):  # no such document: a refusal with the reason, never a crash
        refused = run("withhold", missing, "--reason", "x", "--by", "luutru", ok=False)
        assert refused.exit_code == 1 and "Không có văn bản" in refused.output
    run("withhold", str(first), "--reason", "Có thông tin mật sau khi rà soát", "--by", "luutru")
    assert nowhere(run, "rutlai") and "VB-1" not in indexed_keys()
    # an archivist cannot release; an admin can, and it is searchable again at once
    refused = run("release", str(first), "--reason", "nhầm", "--by", "luutru", ok=False)
    assert refused.exit_code != 0 and "quản trị viên" in refused.output and nowhere(run, "rutlai")
    run("release", str(first), "--reason", "Rà soát lại: không mật", "--by", "quantri")
    assert found(run, "rutlai") == (["VB-1"], ["VB-1"])
    # a document withheld at ingest was never read: release reads and indexes it
    run("release", str(second), "--reason", "Đã giải mật theo quyết định", "--by", "quantri")
    assert found(run, "giaitoa") == (["VB-2"], ["VB-2"])
    assert [(e.username, e.target) for e in _audits("document_withhold")] == [("luutru", f"van-ban:{first}")]
    assert [(e.username, e.target) for e in _audits("document_release")] == [
        ("quantri", f"van-ban:{first}"), ("quantri", f"van-ban:{second}")]
    assert [e.username for e in _audits("document_release_refused")] == ["luutru"]
    assert len(_audits("document_withhold_refused")) == 3


# -- item 6: packages ---------------------------------------------------------------------------
def _outside(tmp_path: Path, specs) -> Path:
    """Files outside any package that a link would publish."""
    outside = tmp_path / "outside"
    (outside / "files").mkdir(parents=True)
    render_pdf(marked(specs[6], "ngoaigoi"), outside / "files" / "a.pdf")
    (outside / "documents.csv").write_text("ma_van_ban,tep_dinh_kem\nVB-NGOAI,files/a.pdf\n", encoding="utf-8")
    return outside


def _plain_package(root: Path, specs) -> Path:
    (root / "files").mkdir(parents=True)
    render_pdf(marked(specs[7], "tronggoi"), root / "files" / "b.pdf")
    (root / "documents.csv").write_text("ma_van_ban,tep_dinh_kem\nVB-TRONG,files/b.pdf\n", encoding="utf-8")
    (root / "bag-info.txt").write_text(f"Unit-Code: {OLD}\n", encoding="utf-8")
    return root


LINKS = {
    "data": lambda pkg, out: (pkg / "data").symlink_to(out, target_is_directory=True),
    "file": lambda pkg, out: (pkg / "files" / "a.pdf").symlink_to(out / "files" / "a.pdf"),
    "folder": lambda pkg, out: (pkg / "files" / "sub").symlink_to(out / "files", target_is_directory=True),
    "manifest": lambda pkg, out: ((pkg / "documents.csv").unlink(), (pkg / "documents.csv").symlink_to(
        out / "documents.csv")),
}


@pytest.mark.parametrize("where", sorted(LINKS))
def test_a_symbolic_link_anywhere_refuses_the_package(run, tmp_path, specs, where):
    outside = _outside(tmp_path, specs)
    package = _plain_package(tmp_path / "pkg", specs)
    LINKS[where](package, outside)
    report = ingest(run, package, ok=False)
    assert report["package"]["status"] == "refused"
    assert "symlink" in " ".join(report["warnings"]) or any("symlink" in i["reason"] for i in report["items"])
    assert nowhere(run, "ngoaigoi") and nowhere(run, "tronggoi")
    with archive() as opened, opened.db.session() as session:
        assert session.scalar(select(Document.id)) is None


def test_a_package_path_that_is_itself_a_link_is_refused(run, tmp_path, specs):
    package = _plain_package(tmp_path / "pkg", specs)
    link = tmp_path / "link-to-pkg"
    link.symlink_to(package, target_is_directory=True)
    report = ingest(run, link, ok=False)
    assert report["package"]["status"] == "refused" and nowhere(run, "tronggoi")


def test_unit_code_must_be_a_loaded_unit(run, tmp_path, specs):
    package = _plain_package(tmp_path / "pkg", specs)
    (package / "bag-info.txt").write_text("Unit-Code: 99999\n", encoding="utf-8")
    report = ingest(run, package, ok=False)
    assert report["package"]["status"] == "refused"
    assert any("99999" in w and "danh mục đơn vị" in w for w in report["warnings"]), report["warnings"]
    report = ingest(run, package, "--allow-unknown-unit")
    assert report["package"]["status"] == "done"
    assert any("--allow-unknown-unit" in w for w in report["warnings"])
    (package / "bag-info.txt").write_text('Unit-Code: 11950"; filename="x\n', encoding="utf-8")
    report = ingest(run, package, "--allow-unknown-unit", ok=False)
    assert report["package"]["status"] == "refused" and any("không hợp lệ" in w for w in report["warnings"])
