"""Units administration: versions with who and when, predecessors with their clause, preview before apply."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from archive_portal import create_app
from archive_core.db.models import AuditEvent, UnitMappingVersion
from archive_portal.services.scope import predecessors
from conftest import UNITS_CSV, build_world
from portal_helpers import csrf_token, login

LINE_CHI_DAO = "11992,Xã Chỉ Đạo,xa,325,Huyện Văn Lâm,Tỉnh Hưng Yên,11992,"
CORRECTION_BASIS = "Nghị quyết đính chính số 99/NQ-HĐND (thử nghiệm)"


@pytest.fixture
def world(tmp_path):
    w = build_world(tmp_path / "home")
    yield w
    w.archive.close()


@pytest.fixture
def app(world):
    return create_app(archive=world.archive)


def corrected_mapping(tmp_path: Path) -> Path:
    """The real mapping with one correction: Xã Chỉ Đạo goes to 11995 Xã Đại Đồng instead of 11992."""
    lines = UNITS_CSV.read_text(encoding="utf-8").splitlines()
    out = []
    for line in lines:
        if line.startswith(LINE_CHI_DAO):
            line = (f"11992,Xã Chỉ Đạo,xa,325,Huyện Văn Lâm,Tỉnh Hưng Yên,11995,Xã Đại Đồng,2025-07-01,"
                    f"\"{CORRECTION_BASIS}\",high")
        out.append(line)
    path = tmp_path / "units-corrected.csv"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


def admin_client(app):
    client = app.test_client()
    assert login(client, "admin").status_code == 302
    return client


def test_admin_page_lists_versions_and_predecessors_with_their_clause(app):
    client = admin_client(app)
    html = client.get("/quan-tri/don-vi/").get_data(as_text=True)
    assert "units-hung-yen-2025.csv" in html and "Đang áp dụng" in html and "01/07/2025" in html
    section = html[html.index('id="dv-11992"'):]
    section = section[:section.index("</section>")]
    assert "Xã Lạc Đạo" in section and "Xã Chỉ Đạo" in section and "Xã Minh Hải" in section
    assert "1666/NQ-UBTVQH15 — 28." in section  # the clause behind the pairs
    assert "Huyện Văn Lâm" in section  # the old district, seen through its communes


def test_preview_shows_the_change_and_applies_only_after_confirmation(app, world, tmp_path):
    client = admin_client(app)
    page = client.get("/quan-tri/don-vi/").get_data(as_text=True)
    path = corrected_mapping(tmp_path)
    with path.open("rb") as fh:
        preview = client.post("/quan-tri/don-vi/xem-truoc", data={
            "csrf_token": csrf_token(page), "mapping": (fh, "units-corrected.csv"),
        }, content_type="multipart/form-data")
    assert preview.status_code == 200, preview.get_data(as_text=True)[:500]
    html = preview.get_data(as_text=True)
    assert "11992 Xã Chỉ Đạo → 11995 Xã Đại Đồng" in html  # pair added
    assert "11992 Xã Chỉ Đạo → 11992 Xã Lạc Đạo" in html  # pair removed
    assert "Phạm vi tra cứu thay đổi" in html
    # nothing applied yet
    with world.archive.db.session() as session:
        assert session.scalar(select(UnitMappingVersion.id).order_by(UnitMappingVersion.id.desc())) == 1
        assert "11992" in predecessors(session, "11992")
    digest = re.search(r'name="sha256"[^>]*value="([0-9a-f]{64})"', html).group(1)
    assert (world.archive.settings.home / "pending" / "units" / f"{digest}.csv").is_file()

    # confirming without the CSRF token is refused
    assert client.post("/quan-tri/don-vi/ap-dung", data={"sha256": digest}).status_code == 400
    applied = client.post("/quan-tri/don-vi/ap-dung", data={"sha256": digest, "csrf_token": csrf_token(html)})
    assert applied.status_code == 302
    with world.archive.db.session() as session:
        version = session.scalars(select(UnitMappingVersion).order_by(UnitMappingVersion.id.desc())).first()
        assert version.id == 2 and version.loaded_by == "admin" and version.source_name == "units-corrected.csv"
        assert "11992" not in predecessors(session, "11992")
        assert "11992" in predecessors(session, "11995")
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "units_import")).one()
        assert event.username == "admin" and event.target == "phien-ban:2"
    html = client.get("/quan-tri/don-vi/").get_data(as_text=True)
    assert "units-corrected.csv" in html and CORRECTION_BASIS in html
    assert "units-hung-yen-2025.csv" in html  # the earlier version is kept


def test_upload_without_csrf_or_by_non_admin_is_refused(app, world, tmp_path):
    path = corrected_mapping(tmp_path)
    client = admin_client(app)
    with path.open("rb") as fh:
        no_token = client.post("/quan-tri/don-vi/xem-truoc", data={"mapping": (fh, "u.csv")},
                               content_type="multipart/form-data")
    assert no_token.status_code == 400
    lookup = app.test_client()
    login(lookup, "phohien")
    assert lookup.get("/quan-tri/don-vi/").status_code == 403
    with path.open("rb") as fh:
        assert lookup.post("/quan-tri/don-vi/xem-truoc", data={"mapping": (fh, "u.csv")},
                           content_type="multipart/form-data").status_code in (400, 403)
    assert not (world.archive.settings.home / "pending" / "units").exists() or \
        not list((world.archive.settings.home / "pending" / "units").iterdir())


def test_a_broken_file_is_explained_not_applied(app, tmp_path):
    client = admin_client(app)
    page = client.get("/quan-tri/don-vi/").get_data(as_text=True)
    bad = tmp_path / "bad.csv"
    bad.write_text("old_code,old_name\n1,x\n", encoding="utf-8")
    with bad.open("rb") as fh:
        response = client.post("/quan-tri/don-vi/xem-truoc", data={"csrf_token": csrf_token(page), "mapping": (fh, "bad.csv")},
                               content_type="multipart/form-data")
    assert response.status_code == 400
    assert "thiếu cột" in response.get_data(as_text=True)


def test_cli_diff_prints_the_same_preview_and_import_records_who(world, tmp_path, monkeypatch):
    from archive_portal.cli import main

    monkeypatch.setenv("ARCHIVE_HOME", str(world.archive.settings.home))
    monkeypatch.setenv("ARCHIVE_DATABASE_URL", world.archive.settings.database_url)
    path = corrected_mapping(tmp_path)
    runner = CliRunner()
    diff = runner.invoke(main, ["units", "diff", str(path)])
    assert diff.exit_code == 0, diff.output
    assert "+ 11992 Xã Chỉ Đạo → 11995 Xã Đại Đồng" in diff.output
    assert "- 11992 Xã Chỉ Đạo → 11992 Xã Lạc Đạo" in diff.output
    assert "11995 Xã Đại Đồng: thêm 11992 Xã Chỉ Đạo" in diff.output
    loaded = runner.invoke(main, ["units", "import", str(path), "--by", "nguyenvana"])
    assert loaded.exit_code == 0, loaded.output
    versions = runner.invoke(main, ["units", "versions"])
    assert "nguyenvana" in versions.output
    with world.archive.db.session() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "units_import")).one()
        assert event.username == "nguyenvana"
