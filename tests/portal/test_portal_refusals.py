"""Every read and every refusal audited, no 500 on hostile input, no reflected Host
(issue 10, finding 8 and the Low/Info list)."""
from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import build_world
from portal_helpers import login
from sqlalchemy import select
from token_helpers import bearer, new_token

from archive_core.db.models import AuditEvent, DocumentFile
from archive_portal import create_app


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    w = build_world(tmp_path_factory.mktemp("refusals") / "home")
    w.archive.settings = replace(w.archive.settings, oai_enabled=True, metrics_token="giam-sat",
                                 public_url="https://luutru.hungyen.example")
    w.app = create_app(archive=w.archive)
    yield w
    w.archive.close()


def signed_in(world, username: str):
    client = world.app.test_client()
    assert login(client, username).status_code == 302
    return client


def trail(world, action: str) -> list[AuditEvent]:
    with world.archive.db.session() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_ids_beyond_the_database_range_are_404_not_500(world):
    admin = signed_in(world, "admin")
    for url in ("/van-ban/99999999999999999999999", "/van-ban/9223372036854775808/tep/1/tai-ve",
                "/van-ban/1/tep/9223372036854775808/trang/1.png", "/luu-tru/goi/9223372036854775808",
                "/quan-tri/tai-khoan/9223372036854775808"):
        assert admin.get(url).status_code == 404, url
    token = new_token(world, "phohien")
    assert world.app.test_client().get("/api/v1/documents/99999999999999999999",
                                       headers=bearer(token)).status_code == 404


def test_oai_refuses_control_characters_without_echoing_them(world):
    harvester = world.app.test_client()
    token = bearer(new_token(world, "phohien"))
    for query in ({"verb": "Identify\x01"}, {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "\x00\x1b"},
                  {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2025\x0b"}, {"verb": "Identify", "\x02": "x"}):
        response = harvester.get("/oai", query_string=query, headers=token)
        assert response.status_code == 200, query
        assert b'code="badArgument"' in response.data or b'code="badVerb"' in response.data


def test_oai_names_the_configured_address_never_the_host_header(world):
    token = bearer(new_token(world, "phohien"))
    response = world.app.test_client().get("/oai?verb=Identify", headers={**token, "Host": "evil.example"})
    assert response.status_code == 200
    assert b"evil.example" not in response.data
    assert b"<baseURL>https://luutru.hungyen.example/oai</baseURL>" in response.data


def test_a_file_name_with_cr_lf_and_quotes_downloads_with_a_safe_header_and_is_audited(world):
    with world.archive.db.transaction() as session:
        f = session.get(DocumentFile, world.files["district"])
        f.filename = 'báo "cáo"\r\nX-Evil: 1;.pdf'
    lookup = signed_in(world, "phohien")
    response = lookup.get(f"/van-ban/{world.docs['district']}/tep/{world.files['district']}/tai-ve")
    assert response.status_code == 200
    header = response.headers["Content-Disposition"]
    assert "\r" not in header and "\n" not in header and "X-Evil: 1" not in response.headers
    assert header.startswith("attachment; filename=\"") and "filename*=UTF-8''" in header
    assert header.count('"') == 2  # only the pair around the ASCII fallback
    downloads = trail(world, "file_download")
    assert downloads and downloads[-1].details.get("stamped") is True


def test_archivists_reads_of_reports_handovers_and_units_are_audited(world):
    admin = signed_in(world, "admin")
    admin.get("/luu-tru/goi/1")
    admin.get("/luu-tru/goi/1/bien-ban")
    admin.get("/luu-tru/goi/1/bien-ban.csv")
    admin.get("/luu-tru/don-vi/11950/bien-ban")
    admin.get("/quan-tri/don-vi/")
    for action in ("package_report_view", "handover_view", "handover_download", "units_view"):
        assert trail(world, action), action
    assert {e.target for e in trail(world, "handover_view")} >= {"goi:1", "don-vi:11950"}


def test_throttled_and_csrf_refused_sign_ins_are_audited(world):
    client = world.app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.9.9.9"
    statuses = [login(client, "sonnam", "sai-mat-khau-roi").status_code for _ in range(7)]
    assert statuses[-1] == 429
    throttled = trail(world, "login_throttled")
    assert throttled and throttled[-1].username == "sonnam" and throttled[-1].client_address == "10.9.9.9"
    refused = world.app.test_client().post("/dang-nhap", data={"username": "phohien", "password": "x"})
    assert refused.status_code == 400
    assert [e.username for e in trail(world, "login_csrf_failed")][-1:] == ["phohien"]


def test_search_records_keep_the_ids_shown(world):
    lookup = signed_in(world, "sonnam")
    assert lookup.get("/?q=báo+cáo").status_code == 200
    record = trail(world, "search")[-1]
    assert set(record.details["ids"]) == {world.docs["lam_son"], world.docs["district"]}
    token = bearer(new_token(world, "sonnam"))
    assert world.app.test_client().get("/api/v1/search?q=báo+cáo", headers=token).status_code == 200
    assert set(trail(world, "api_search")[-1].details["ids"]) == {world.docs["lam_son"], world.docs["district"]}


def test_a_configured_metrics_token_is_required_from_loopback_too(world):
    client = world.app.test_client()  # REMOTE_ADDR 127.0.0.1, no proxy header
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers=bearer("giam-sat")).status_code == 200
