"""The search form's menus (document types, old units) are kept per scope between requests: they list what
a new ingest, a withhold or a release changed on the very next page, and never a value outside the scope.

Documents come in through ``ingest.pipeline.ingest_package`` (real bags); a Core bulk insert, as a batched
writer does it, counts too."""
from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
import sqlalchemy as sa
from portal_helpers import PASSWORD, login

from archive_core.context import Archive
from archive_core.db.models import Document
from archive_core.settings import Settings
from archive_portal import create_app
from archive_portal.services import withholding
from archive_portal.services.accounts import create_account
from archive_portal.services.units import import_mapping
from ingest.pipeline import IngestOptions, ingest_package
from specimens import make_specimens, render_pdf

UNITS_CSV = Path(__file__).resolve().parents[2] / "archive_core" / "data" / "units-hung-yen-2025.csv"
# username -> (role, new unit); sonnam's scope is old {11950, 323}, phohien's {11956, 323}
ACCOUNTS = {"admin": ("admin", None), "sonnam": ("lookup", "11983"), "phohien": ("lookup", "11953")}
LEVELS = {"11950": ("UBND phường Lam Sơn", "xa", "323"), "11956": ("UBND phường An Tảo", "xa", "323")}


def _bag(root: Path, code: str, doc_type: str, key: str) -> Path:
    from tests.ingest.packaging import row_for, write_package

    issuer, level, parent = LEVELS[code]
    spec = make_specimens(1, seed=hash(key) % 1000, issuer=issuer, year=2024)[0]
    files = root / "files"
    files.mkdir(parents=True)
    render_pdf(spec, files / "vb.pdf", pages=1)
    row = row_for(spec, key, "files/vb.pdf", loai_van_ban=doc_type, trich_yeu=f"Văn bản {key} về kiểm tra thực đơn")
    return write_package(root, [row], unit_code=code, unit_level=level, parent=parent)


def _menus(client) -> tuple[set[str], set[str]]:
    """(document types, old unit codes) the search form offers this client."""
    html = client.get("/").get_data(as_text=True)
    types = re.search(r'<select name="type">(.*?)</select>', html, re.S).group(1)
    units = re.search(r'<select name="unit" id="unit">(.*?)</select>', html, re.S).group(1)
    type_values = {unescape(v) for v in re.findall(r'<option value="([^"]*)"', types)} - {""}
    unit_values = {unescape(v) for v in re.findall(r'<option value="([^"]*)"', units)} - {""}
    return type_values, unit_values


class Menus:
    def __init__(self, tmp: Path):
        home = tmp / "home"
        self.archive = Archive.open(Settings.load(home=home, secret_key="menus-secret",
                                                  database_url=f"sqlite:///{home / 'archive.sqlite'}",
                                                  search_rate_limit="100000 per minute"))
        self.bags = tmp / "bags"
        with self.archive.db.transaction() as session:
            import_mapping(session, UNITS_CSV, loaded_by="test")
            for username, (role, unit) in ACCOUNTS.items():
                create_account(session, username=username, role=role, new_unit_code=unit, password=PASSWORD)
        self.app = create_app(archive=self.archive)
        self.clients = {}
        for username in ACCOUNTS:
            self.clients[username] = self.app.test_client()
            assert login(self.clients[username], username).status_code == 302

    def ingest(self, code: str, doc_type: str, key: str) -> int:
        ingest_package(self.archive, _bag(self.bags / key, code, doc_type, key), IngestOptions(workers=1))
        with self.archive.db.session() as session:
            return session.scalar(sa.select(Document.id).where(Document.ma_van_ban == key))

    def menus(self, username: str) -> tuple[set[str], set[str]]:
        return _menus(self.clients[username])


@pytest.fixture
def menus(tmp_path) -> Menus:
    """A fresh world for each test (the tests change documents and the mapping)."""
    world = Menus(tmp_path)
    yield world
    world.archive.close()


def test_menus_follow_ingest_withhold_and_release_within_the_scope(menus):
    menus.ingest("11956", "Quyết định", "VB-an-tao-1")
    assert menus.menus("phohien") == ({"Quyết định"}, {"11956"})
    assert menus.menus("sonnam") == (set(), set())  # nothing of its own yet: nothing offered
    assert menus.menus("sonnam") == (set(), set())  # asked again: the kept menus, still nothing
    admin_types, admin_units = menus.menus("admin")
    assert admin_types == {"Quyết định"} and {"11950", "11956", "323"} <= admin_units

    lam_son = menus.ingest("11950", "Tờ trình", "VB-lam-son-1")  # a new ingest: the next page shows it
    assert menus.menus("sonnam") == ({"Tờ trình"}, {"11950"})
    assert menus.menus("phohien") == ({"Quyết định"}, {"11956"})  # never the other scope's type or unit
    assert menus.menus("admin")[0] == {"Quyết định", "Tờ trình"}

    withholding.withhold(menus.archive, lam_son, "Kiểm tra thực đơn", role="admin", by="admin")
    assert menus.menus("sonnam") == (set(), set())
    assert menus.menus("admin")[0] == {"Quyết định"}
    withholding.release(menus.archive, lam_son, "Kiểm tra xong", role="admin", by="admin")
    assert menus.menus("sonnam") == ({"Tờ trình"}, {"11950"})
    assert menus.menus("phohien") == ({"Quyết định"}, {"11956"})


def test_a_bulk_insert_outside_the_orm_shows_too(menus):
    menus.ingest("11956", "Quyết định", "VB-an-tao-1")
    menus.ingest("11950", "Tờ trình", "VB-lam-son-1")
    menus.menus("sonnam"), menus.menus("phohien")  # kept before the insert
    with menus.archive.db.session() as session:
        package_id = session.scalar(sa.select(Document.package_id).where(Document.unit_code == "11950"))
    with menus.archive.db.engine.begin() as connection:
        connection.execute(sa.insert(Document.__table__), [
            {"package_id": package_id, "unit_code": "323", "ma_van_ban": "VB-district-bulk", "doc_type": "Công điện",
             "subject": "Công điện khẩn"}])
    sonnam_types, sonnam_units = menus.menus("sonnam")
    phohien_types, phohien_units = menus.menus("phohien")
    assert "Công điện" in sonnam_types and "323" in sonnam_units  # the district is in both scopes
    assert "Công điện" in phohien_types and "323" in phohien_units
    assert "Tờ trình" not in phohien_types and "11950" not in phohien_units
    assert "Quyết định" not in sonnam_types and "11956" not in sonnam_units


@pytest.mark.parametrize("args", [
    {},
    {"q": "kế hoạch"},
    {"q": '"ủy ban nhân dân" & <b>x</b>', "unit": ["11950", "323"], "type": ["Tờ trình"], "page": 2},
    {"q": "a+b c/d?e=f#g;h@i!j$k'l(m)n*o,p:q", "from": "01/01/2024", "to": "31/12/2024", "ho_so": ["HS 1", "HS%2"]},
])
def test_facet_and_page_links_are_the_urls_flask_builds(args):
    from flask import Flask, url_for

    from archive_portal.views.search import _url_with, bp

    app = Flask(__name__)
    app.register_blueprint(bp)
    with app.test_request_context("/"):
        assert _url_with(url_for("search.index"), args) == url_for("search.index", **args)


@pytest.mark.parametrize("args", [
    {},
    {"q": "kế hoạch"},
    {"q": '"ủy ban nhân dân" & <b>x</b>', "unit": ["11950", "323"], "type": ["Tờ trình"], "page": "2"},
    {"q": "unit=\x00facet\x00 a+b c/d?e=f#g;h@i!j$k'l(m)n*o,p:q", "from": "01/01/2024", "to": "31/12/2024",
     "ho_so": ["HS 1", "HS%2", "\x00facet\x00"], "direction": ["den"], "number": "191/KH", "sort": "date_desc"},
])
def test_every_facet_link_is_the_url_flask_builds_for_that_click(args):
    """Each facet value links to the search the click means (the value toggled, a year's dates set, page 1)."""
    from flask import Flask, url_for
    from werkzeug.datastructures import MultiDict

    from archive_portal.services.search import facet_click, parse_params
    from archive_portal.views.search import FacetLinks, bp

    app = Flask(__name__)
    app.register_blueprint(bp)
    params = parse_params(MultiDict([(k, v) for k, vs in args.items() for v in ([vs] if isinstance(vs, str) else vs)]))
    values = ["11950", "323", "999", "Tờ trình", "Công văn", "den", "di", "HS 1", "HS%2", "x&y=z", "2019", "2024"]
    with app.test_request_context("/"):
        links = FacetLinks(url_for("search.index"), params)
        for facet in ("unit_code", "doc_type", "direction", "dossier", "year"):
            for value in values:
                if facet == "year" and not value.isdigit():
                    continue
                clicked = params.to_args(**facet_click(params, facet, value), page="")
                assert links.url(facet, value) == url_for("search.index", **clicked)


def test_a_corrected_mapping_moves_a_unit_to_another_scope_on_the_next_page(menus, tmp_path):
    """The old units an account sees are kept per process too: a mapping correction reaches them at once."""
    menus.ingest("11950", "Tờ trình", "VB-lam-son-1")
    lam_son = menus.archive.db.session().scalar(sa.select(Document.id).where(Document.ma_van_ban == "VB-lam-son-1"))
    assert menus.menus("sonnam") == ({"Tờ trình"}, {"11950"})
    assert menus.menus("phohien") == (set(), set())
    assert menus.clients["phohien"].get(f"/van-ban/{lam_son}").status_code == 404
    corrected = tmp_path / "corrected.csv"
    lines = UNITS_CSV.read_text(encoding="utf-8").splitlines()
    moved = [line.replace(",11983,Phường Sơn Nam", ",11953,Phường Phố Hiến") if line.startswith("11950,") else line
             for line in lines]
    assert moved != lines
    corrected.write_text("\n".join(moved) + "\n", encoding="utf-8")
    with menus.archive.db.transaction() as session:
        import_mapping(session, corrected, loaded_by="admin")
    assert menus.menus("sonnam") == (set(), set())
    assert menus.menus("phohien") == ({"Tờ trình"}, {"11950"})
    assert menus.clients["sonnam"].get(f"/van-ban/{lam_son}").status_code == 404
    assert menus.clients["phohien"].get(f"/van-ban/{lam_son}").status_code == 200


@pytest.mark.parametrize("how", ["orm", "statement"])
def test_a_session_sees_the_menus_of_its_own_writes_at_once(menus, how):
    """The change counter is read once per transaction (a search asks several times); a write of the same
    session, flushed or run as a statement, moves it, so what that session computes next is fresh."""
    from archive_portal.services.search import search_menus

    lam_son = menus.ingest("11950", "Tờ trình", "VB-lam-son-1")
    with menus.archive.db.session() as session:
        assert {u.code for g in search_menus(session, frozenset({"11950"})).units for u in g.options} == {"11950"}
        if how == "orm":
            session.get(Document, lam_son).doc_type = "Công điện"
            session.flush()
        else:
            session.execute(sa.update(Document).where(Document.id == lam_son).values(doc_type="Công điện"))
        assert search_menus(session, frozenset({"11950"})).doc_types == ["Công điện"]
        session.rollback()
        assert search_menus(session, frozenset({"11950"})).doc_types == ["Tờ trình"]


def test_the_chosen_unit_stays_chosen_in_the_menu_and_nothing_else_does(menus):
    menus.ingest("11956", "Quyết định", "VB-an-tao-1")
    menus.ingest("11950", "Tờ trình", "VB-lam-son-1")
    client = menus.clients["admin"]

    def chosen(query: str) -> list[str]:
        html = client.get(f"/?{query}").get_data(as_text=True)
        select = re.search(r'<select name="unit" id="unit">(.*?)</select>', html, re.S).group(1)
        return [unescape(v) for v in re.findall(r'<option value="([^"]*)" selected', select)]

    assert chosen("q=thực+đơn") == []
    assert chosen("q=thực+đơn&unit=11950") == ["11950"]
    assert chosen("unit=11956&unit=11950") == ["11956"]  # the menu shows the first; the rest ride along hidden
    assert chosen("q=x") == []  # kept menus: the last choice is not carried over
    hostile = client.get('/?unit=11950" selected data-x="&q=a').get_data(as_text=True)
    assert 'data-x=""' not in hostile and chosen('unit=11950" selected data-x="') == []
