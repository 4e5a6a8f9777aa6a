"""archive verify on a real home: a clean one passes; a flipped bit, a lost file, a stray file, a dropped index entry are found.

On every backend (tests/ops/conftest.py); the command configured through its environment as an admin would."""
from __future__ import annotations

import json
import shutil

from click.testing import CliRunner
from sqlalchemy import func, select

from archive_core.db.models import Blob, Document, DocumentFile, Package, VerificationRun
from archive_core.store import blob_path
from archive_ops.verify import verify
from archive_portal import create_app
from archive_portal.cli import main
from archive_portal.services.accounts import create_account
from tests.backends import archive_environment

from ..portal.portal_helpers import PASSWORD, login


def _file_of(archive, ma_van_ban: str) -> tuple[int, str]:
    with archive.db.session() as session:
        return session.execute(
            select(Document.id, DocumentFile.blob_sha256).join(DocumentFile)
            .where(Document.ma_van_ban == ma_van_ban)
        ).one()


def _kinds(report) -> dict[str, list]:
    found: dict[str, list] = {}
    for problem in report.problems:
        found.setdefault(problem.kind, []).append(problem)
    return found


def test_clean_home_verifies_ok_from_the_command_line(home):
    env = archive_environment(home.settings)
    result = CliRunner().invoke(main, ["verify", "--quiet"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "tốt / OK" in result.output
    as_json = CliRunner().invoke(main, ["verify", "--json"], env=env, catch_exceptions=False)
    report = json.loads(as_json.output)
    with home.db.session() as session:
        stored = session.scalar(select(func.count()).select_from(Blob))
    assert report["ok"] is True and report["counts"]["originals"] == stored
    assert report["counts"]["files_checked_against_manifest"] == 8  # both bags still where they were ingested from
    assert report["counts"]["documents_indexed_engine"] == 7 and report["counts"]["units_checked"] == 2


def test_each_kind_of_damage_is_found(home):
    flipped_doc, flipped_sha = _file_of(home, "LS-1")
    lost_doc, lost_sha = _file_of(home, "AT-2")
    dropped_doc, _ = _file_of(home, "AT-3")

    path = blob_path(home.settings.store_dir, flipped_sha)
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[100] ^= 0x04
    path.write_bytes(bytes(data))
    blob_path(home.settings.store_dir, lost_sha).unlink()
    stray = home.settings.store_dir / "ab" / "cd" / ("abcd" + "0" * 60)
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"a file nobody ingested")
    (home.settings.store_dir / ".incoming").mkdir(exist_ok=True)
    (home.settings.store_dir / ".incoming" / "tmp123").write_bytes(b"half-written, ignored")
    home.engine.delete([dropped_doc])

    report = verify(home)
    kinds = _kinds(report)
    assert not report.ok
    assert [p.target for p in kinds["hash_mismatch"]] == [flipped_sha] and kinds["hash_mismatch"][0].documents == [flipped_doc]
    assert lost_sha in {p.target for p in kinds["missing_file"]}
    assert all(lost_doc in p.documents for p in kinds["missing_file"] if p.target == lost_sha)
    assert [p.target for p in kinds["stray_file"]] == [f"ab/cd/{stray.name}"]
    assert [p.documents for p in kinds["index_missing"]] == [[dropped_doc]]
    assert [p.target for p in kinds["unit_count"]] == ["11956"]
    assert set(kinds) == {"hash_mismatch", "missing_file", "stray_file", "index_missing", "unit_count"}

    # the command exits 1 and names every problem; each run is recorded
    result = CliRunner().invoke(main, ["verify", "--quiet"], env=archive_environment(home.settings),
                                catch_exceptions=False)
    assert result.exit_code == 1
    for text in (flipped_sha, lost_sha, stray.name, f"#{dropped_doc}"):
        assert text in result.output
    with home.db.session() as session:
        runs = session.scalars(select(VerificationRun).order_by(VerificationRun.id)).all()
    assert [r.ok for r in runs] == [False, False] and runs[-1].counts["problems"] == len(report.problems)


def test_quick_check_finds_lost_files_and_withheld_document_in_the_index(home):
    _, lost_sha = _file_of(home, "LS-2")
    blob_path(home.settings.store_dir, lost_sha).unlink()
    with home.db.session() as session:
        secret = session.scalar(select(Document).where(Document.withheld.is_(True)))
        from ingest.indexing import index_document

        home.engine.index([index_document(session, secret)])
    report = verify(home, quick=True)
    kinds = _kinds(report)
    assert report.counts["bytes_hashed"] == 0
    assert lost_sha in {p.target for p in kinds["missing_file"]}
    assert [p.documents for p in kinds["index_extra"]] == [[secret.id]]


def test_bag_manifests_are_checked_from_the_kept_copy_or_else_said_to_be_gone(home, tmp_path):
    shutil.rmtree(tmp_path / "bag-LS")
    report = verify(home)
    assert report.ok
    assert report.counts["packages_manifest_from_store"] == 2 and report.counts["files_checked_against_manifest"] == 8
    # a package ingested before manifests were kept, whose bag has gone: checked against the ingest records
    with home.db.transaction() as session:
        session.get(Package, 1).bag_manifest_sha256 = ""
    report = verify(home)
    assert report.ok and report.counts["packages_bag_gone"] == 1 and report.counts["files_checked_against_manifest"] == 4
    assert any("bag gone" in note for note in report.notes)


def test_admin_page_shows_the_last_verification(home):
    with home.db.transaction() as session:
        create_account(session, username="quantri", role="admin", password=PASSWORD, display_name="Quản trị")
    app = create_app(archive=home)
    client = app.test_client()
    login(client, "quantri")
    page = client.get("/quan-tri/").get_data(as_text=True)
    assert "Chưa từng kiểm tra toàn vẹn" in page
    verify(home)
    blob_path(home.settings.store_dir, _file_of(home, "AT-1")[1]).unlink()
    verify(home)
    page = client.get("/quan-tri/").get_data(as_text=True)
    assert "Kiểm tra toàn vẹn gần nhất" in page and "1 vấn đề" in page
