"""Zipped packages: unpacked only in the scratch directory, hostile members refused one by one."""
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archive_core.context import Archive
from archive_core.db.models import Document
from archive_core.settings import Settings
from ingest.pipeline import IngestOptions, ingest_package
from ingest.report import build_report
from specimens import make_specimens, render_pdf

from .packaging import row_for, write_package


@pytest.fixture()
def archive(tmp_path):
    archive = Archive.open(Settings.load(home=tmp_path / "home"))
    yield archive
    archive.close()


def _bag(root: Path) -> Path:
    specs = make_specimens(2, seed=5, issuer="UBND phường Lam Sơn")
    (root / "files").mkdir(parents=True)
    rows = []
    for index, spec in enumerate(specs, start=1):
        render_pdf(spec, root / "files" / f"{index}.pdf")
        rows.append(row_for(spec, f"Z-{index}", f"files/{index}.pdf"))
    return write_package(root, rows)


def _zip_folder(folder: Path, target: Path, top: str = "goi-11950") -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, f"{top}/{path.relative_to(folder).as_posix()}")
    return target


def test_zip_of_a_bag_is_ingested_like_the_bag(archive, tmp_path):
    package = _zip_folder(_bag(tmp_path / "bag"), tmp_path / "goi.zip")
    report = build_report(archive, ingest_package(archive, package, IngestOptions(workers=1)))
    assert report["package"]["form"] == "zip+bag" and report["package"]["verified"] is True
    assert report["counts"]["row:indexed"] == 2
    assert not any(archive.settings.scratch_dir.iterdir()), "the scratch copy is removed once ingested"
    # the same zip again adds nothing
    again = build_report(archive, ingest_package(archive, package, IngestOptions(workers=1)))
    assert again["documents_added_this_run"] == 0


def test_hostile_members_are_refused_and_nothing_is_written_outside_scratch(archive, tmp_path):
    folder = tmp_path / "plain"
    folder.mkdir()
    spec = make_specimens(1, seed=9)[0]
    render_pdf(spec, folder / "vb.pdf")
    package = tmp_path / "hostile.zip"
    victim = tmp_path / "evil.txt"
    with zipfile.ZipFile(package, "w") as out:
        out.write(folder / "vb.pdf", "vb.pdf")
        out.writestr("../evil.txt", "ghi đè")
        out.writestr("/tmp/absolute-evil.txt", "ghi đè")
        link = zipfile.ZipInfo("link-to-passwd")
        link.external_attr = (0o120777 << 16)
        out.writestr(link, "/etc/passwd")
        bomb = zipfile.ZipInfo("bom.txt")
        out.writestr(bomb, b"0" * (50 * 1024 * 1024), compress_type=zipfile.ZIP_DEFLATED)
    report = build_report(archive, ingest_package(archive, package, IngestOptions(workers=1, unit_code="11950")))
    refused = {i["key"]: i["reason"] for i in report["items"] if i["outcome"] == "refused"}
    assert "'..'" in refused["zip:../evil.txt"]
    assert "tuyệt đối" in refused["zip:/tmp/absolute-evil.txt"]
    assert "Liên kết" in refused["zip:link-to-passwd"]
    assert "bom giải nén" in refused["zip:bom.txt"]
    assert not victim.exists() and not Path("/tmp/absolute-evil.txt").exists()
    with archive.db.session() as session:
        assert session.scalar(select(func.count(Document.id))) == 1  # the one good PDF, metadata from its text
        assert session.scalar(select(Document.number)) == spec.number


def test_a_corrupt_zip_is_refused_with_a_reason(archive, tmp_path):
    package = tmp_path / "hong.zip"
    good = _zip_folder(_bag(tmp_path / "bag"), tmp_path / "good.zip")
    package.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    report = build_report(archive, ingest_package(archive, package, IngestOptions(workers=1)))
    assert report["package"]["status"] == "refused" and "zip hỏng" in report["warnings"][0]
