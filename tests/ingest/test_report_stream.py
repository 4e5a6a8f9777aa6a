"""The outcomes and the report of a package are written a batch at a time, and say exactly what the whole
report says: every row and file, with its outcome and reason, whatever the batch size."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from archive_core.context import Archive
from archive_core.settings import Settings
from archive_portal.cli import main
from archive_portal.services.units import import_mapping
from ingest import report as report_module
from ingest.pipeline import IngestOptions, ingest_package
from ingest.report import TEMPLATE_LABELS, build_report, report_paths
from ingest.steps import outcomes
from specimens import make_specimens, render_pdf
from tests.backends import archive_environment

from .packaging import row_for, write_package

UNITS_CSV = Path(__file__).resolve().parents[2] / "archive_core" / "data" / "units-hung-yen-2025.csv"


def open_archive(home: Path) -> Archive:
    archive = Archive.open(Settings.load(home=home))
    with archive.db.transaction() as session:
        import_mapping(session, UNITS_CSV)
    return archive


def mixed_package(root: Path) -> Path:
    """Rows indexed, withheld (Mật), refused (no key), one whose file is missing, one whose file is corrupt;
    a file twice, a file no row names, an empty file."""
    specs = make_specimens(9, seed=11, issuer="UBND phường Lam Sơn", year=2024)
    files = root / "files"
    files.mkdir(parents=True)
    rows = []
    for index, spec in enumerate(specs[:5], start=1):
        render_pdf(spec, files / f"vb{index}.pdf")
        rows.append(row_for(spec, f"VB-{index}", f"files/vb{index}.pdf", do_mat="Mật" if index == 4 else ""))
    shutil.copy(files / "vb1.pdf", files / "vb1-ban-sao.pdf")
    render_pdf(specs[5], files / "le.pdf")
    (files / "rong.pdf").write_bytes(b"")
    (files / "hong.pdf").write_bytes(b"%PDF-1.7\n1 0 obj <<>> endobj\n% truncated here")
    rows += [
        row_for(specs[6], "VB-THIEU", "files/khong-co.pdf"),
        row_for(specs[7], "", "files/rong.pdf"),
        row_for(specs[8], "VB-HONG", "files/hong.pdf"),
    ]
    return write_package(root, rows)


def without_times(report: dict) -> dict:
    return {**report, "package": {k: v for k, v in report["package"].items() if not k.endswith("_at")}}


def test_a_report_written_in_batches_of_two_says_what_the_whole_report_says(tmp_path, monkeypatch):
    package = mixed_package(tmp_path / "pkg")
    whole = open_archive(tmp_path / "whole")
    try:
        reference = build_report(whole, ingest_package(whole, package, IngestOptions(workers=1)))
    finally:
        whole.close()

    monkeypatch.setattr(outcomes, "BATCH", 2)  # every page of documents, files and items is a boundary
    monkeypatch.setattr(report_module, "BATCH", 2)
    archive = open_archive(tmp_path / "batched")
    try:
        package_id = ingest_package(archive, package, IngestOptions(workers=1))
        report = build_report(archive, package_id)
        json_path, html_path = report_paths(archive, package_id)
        assert json_path.read_text(encoding="utf-8") == json.dumps(report, ensure_ascii=False, indent=2)
        html = report_module._env.get_template("report.html").render(report=report, **TEMPLATE_LABELS)
        assert html_path.read_text(encoding="utf-8") == html
        assert not list(json_path.parent.glob(".*partial"))  # written aside, then put in place

        result = CliRunner().invoke(main, ["ingest", "--json", "--workers", "1", str(package)],
                                    env=archive_environment(archive.settings), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert result.output == json_path.read_text(encoding="utf-8") + "\n"  # the same run again, printed
        summary = CliRunner().invoke(main, ["ingest", "--workers", "1", str(package)],
                                     env=archive_environment(archive.settings), catch_exceptions=False).output
        assert "✗ file files/hong.pdf" in summary and "✗ row dòng 7" in summary and "✗ file files/rong.pdf" in summary
    finally:
        archive.close()

    assert without_times(report) == without_times(reference)
    outcome = {(i["kind"], i["key"]): i["outcome"] for i in report["items"]}
    assert len(outcome) == len(report["items"]) == sum(report["counts"].values())
    assert outcome[("row", "VB-4")] == outcome[("file", "files/vb4.pdf")] == "withheld"
    assert outcome[("file", "files/vb1-ban-sao.pdf")] == "duplicate"
    assert outcome[("file", "files/hong.pdf")] == outcome[("file", "files/rong.pdf")] == "refused"
    assert outcome[("row", "dòng 7")] == "refused"
    assert outcome[("document", "tep:files/le.pdf")] == outcome[("row", "VB-THIEU")] == "indexed"
    payload = sorted(p.relative_to(package / "data").as_posix() for p in (package / "data" / "files").iterdir())
    assert sorted(key for kind, key in outcome if kind == "file") == payload
