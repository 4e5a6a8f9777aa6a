"""LDAP login against a real slapd (Debian's), started and filled by the test.

The directory holds officials in groups that the group map turns into roles and
new units; the tests sign in through ``directory_login`` and through the
portal's login form.
"""
from __future__ import annotations

import base64
from dataclasses import replace
from pathlib import Path

import pytest
from slapdtest import SlapdObject

from archive_portal import create_app
from archive_portal.services.directory import directory_login, fill_filter, normalize_dn
from archive_core.context import Archive
from archive_core.db.models import Account
from archive_core.settings import LdapSettings
from portal_helpers import PASSWORD, csrf_token, login

SUFFIX = "dc=hungyen,dc=gov,dc=vn"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
SERVICE_DN = f"cn=cong-tra-cuu,ou=service,{SUFFIX}"
SERVICE_PW = "Dich-vu-tra-cuu-2025"
DIR_PW = "Danh-ba-Tinh-2025"  # every directory user's password
FAILED = "Tên đăng nhập hoặc mật khẩu không đúng"

GROUP_MAP = {
    f"cn=tracuu-phohien,{GROUPS}": {"role": "lookup", "unit": "11953"},
    "tracuu-sonnam": {"unit": "11983"},  # by bare name: a unit-only group makes a lookup account
    f"cn=quantri-kho,{GROUPS}": {"role": "admin"},
    f"cn=luutru,{GROUPS}": "archivist",
}


class Directory(SlapdObject):
    suffix = SUFFIX
    root_cn = "admin"
    root_pw = "Root-Password-2025"
    openldap_schema_files = ("core.ldif", "cosine.ldif", "inetorgperson.ldif", "nis.ldif")
    slapd_loglevel = "0"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _person(uid: str, name: str, mail: str = "") -> str:
    entry = (f"dn: uid={uid},{PEOPLE}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn:: {_b64(name)}\n"
             f"sn:: {_b64(name.split()[-1])}\nuserPassword: {DIR_PW}\n")
    return entry + (f"mail: {mail}\n" if mail else "")


def _group(cn: str, *uids: str) -> str:
    members = "".join(f"member: uid={u},{PEOPLE}\n" for u in uids)
    return f"dn: cn={cn},{GROUPS}\nobjectClass: groupOfNames\ncn: {cn}\n{members}"


LDIF = "\n".join([
    f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: hungyen\no: So Noi vu Hung Yen\n",
    f"dn: ou=people,{SUFFIX}\nobjectClass: organizationalUnit\nou: people\n",
    f"dn: ou=groups,{SUFFIX}\nobjectClass: organizationalUnit\nou: groups\n",
    f"dn: ou=service,{SUFFIX}\nobjectClass: organizationalUnit\nou: service\n",
    f"dn: {SERVICE_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
    f"cn: cong-tra-cuu\nuserPassword: {SERVICE_PW}\n",
    _person("cb.phohien", "Nguyễn Thị Hiền", "hien@phohien.hungyen.gov.vn"),
    _person("cb.sonnam", "Trần Văn Nam"),
    _person("qt.tinh", "Lê Quản Trị"),
    _person("lt.tinh", "Phạm Lưu Trữ"),
    _person("khong.nhom", "Người Không Nhóm"),
    _person("chuyen.donvi", "Đỗ Văn Chuyển"),
    _person("nv(a)*", "Tên Có Ký Tự Lạ"),
    _group("tracuu-phohien", "cb.phohien", "chuyen.donvi", "nv(a)*"),
    _group("tracuu-sonnam", "cb.sonnam"),
    _group("quantri-kho", "qt.tinh"),
    _group("luutru", "lt.tinh"),
    _group("cau-lac-bo", "khong.nhom", "cb.phohien"),
])


@pytest.fixture(scope="module")
def directory(tmp_path_factory):
    Directory.TMPDIR = str(tmp_path_factory.mktemp("slapd"))
    server = Directory()
    server.start()
    server.ldapadd(LDIF)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def ldap_config(directory) -> LdapSettings:
    return LdapSettings(
        url=directory.ldap_uri, bind_dn=SERVICE_DN, bind_password=SERVICE_PW,
        user_base=PEOPLE, group_base=GROUPS, group_map=GROUP_MAP, timeout=5,
    )


@pytest.fixture(scope="module")
def ldap_archive(world, ldap_config):
    """The test world's archive, opened with LDAP configured."""
    archive = Archive.open(replace(world.archive.settings, ldap=ldap_config))
    yield archive
    archive.close()


@pytest.fixture(scope="module")
def ldap_app(ldap_archive):
    return create_app(archive=ldap_archive)


_addresses = iter(range(1, 250))


def _client(app):
    """A client from an address of its own, so the per-address login throttle of other tests never interferes."""
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = f"10.44.0.{next(_addresses)}"
    return c


def _account(archive, username: str) -> Account | None:
    with archive.db.session() as s:
        return s.query(Account).filter_by(username=username).one_or_none()


# -- the directory itself -----------------------------------------------------------------------

def test_directory_user_with_mapped_group_gets_role_and_unit(ldap_config):
    user = directory_login(ldap_config, "cb.phohien", DIR_PW)
    assert user is not None
    assert normalize_dn(user.dn) == normalize_dn(f"uid=cb.phohien,{PEOPLE}")
    assert (user.role, user.new_unit_code) == ("lookup", "11953")
    assert user.display_name == "Nguyễn Thị Hiền" and user.email == "hien@phohien.hungyen.gov.vn"
    assert directory_login(ldap_config, "qt.tinh", DIR_PW).role == "admin"
    assert directory_login(ldap_config, "lt.tinh", DIR_PW).role == "archivist"
    sonnam = directory_login(ldap_config, "CB.SONNAM", DIR_PW)  # uid matching is case-insensitive
    assert (sonnam.role, sonnam.new_unit_code) == ("lookup", "11983")


def test_wrong_password_unknown_user_and_empty_password_fail(ldap_config):
    assert directory_login(ldap_config, "cb.phohien", DIR_PW + "x") is None
    assert directory_login(ldap_config, "khong.ton.tai", DIR_PW) is None
    assert directory_login(ldap_config, "cb.phohien", "") is None  # not an anonymous bind


def test_user_without_mapped_group_fails(ldap_config):
    assert directory_login(ldap_config, "khong.nhom", DIR_PW) is None


def test_filter_values_are_escaped():
    assert fill_filter("(uid={username})", username="*)(uid=*") == r"(uid=\2a\29\28uid=\2a)"
    assert fill_filter("(member={dn})", dn="cn=a\\,b") == r"(member=cn=a\5c,b)"
    assert fill_filter("(uid={username})", username="a\x00b") == r"(uid=a\00b)"


@pytest.mark.parametrize("username", [
    "*", "cb.pho*", "*hien", "cb.phohien)(uid=*", "*)(|(uid=*", "cb.phohien)(objectClass=*",
    "cb.phohien\\", "cb.phohien\x00", "cb.phohien\x00*", "(uid=cb.phohien)", "nv(a)", "nv*",
])
def test_usernames_carrying_filter_characters_match_nothing(ldap_config, username):
    """Unescaped, ``cb.pho*`` would find cb.phohien and sign in with her password."""
    assert directory_login(ldap_config, username, DIR_PW) is None


def test_a_directory_name_with_filter_characters_is_found_exactly(ldap_config):
    user = directory_login(ldap_config, "nv(a)*", DIR_PW)
    assert user is not None and normalize_dn(user.dn) == normalize_dn(f"uid=nv(a)*,{PEOPLE}")


def test_service_bind_failure_is_a_plain_failure(ldap_config):
    assert directory_login(replace(ldap_config, bind_password="sai"), "cb.phohien", DIR_PW) is None
    assert directory_login(replace(ldap_config, url="ldap://127.0.0.1:9"), "cb.phohien", DIR_PW) is None


def test_starttls_with_the_directory_ca(directory, ldap_config, tmp_path):
    tls = replace(ldap_config, url=directory.ldap_uri, starttls=True, ca_file=directory.cafile)
    assert directory_login(tls, "cb.phohien", DIR_PW).new_unit_code == "11953"
    other_ca = tmp_path / "other-ca.pem"
    other_ca.write_text(Path(directory.clientcert).read_text())  # a certificate that did not sign the server's
    assert directory_login(replace(tls, ca_file=str(other_ca)), "cb.phohien", DIR_PW) is None


# -- through the portal's login form ------------------------------------------------------------

def test_portal_login_creates_an_ldap_account_scoped_to_its_unit(ldap_app, ldap_archive, world):
    c = _client(ldap_app)
    r = login(c, "cb.phohien", DIR_PW)
    assert r.status_code == 302 and r.headers["Location"] == "/"
    account = _account(ldap_archive, "cb.phohien")
    assert account.source == "ldap" and account.password_hash is None
    assert (account.role, account.new_unit_code) == ("lookup", "11953")
    assert account.ldap_dn and account.expires_at is not None
    page = c.get("/").get_data(as_text=True)
    assert "Nguyễn Thị Hiền" in page and "Phường Phố Hiến" in page
    ids = {h["id"] for h in c.get("/api/v1/search", query_string={"q": "bao cao"}).get_json()["hits"]}
    assert world.docs["an_tao"] in ids and world.docs["lam_son"] not in ids
    assert c.get(f"/van-ban/{world.docs['lam_son']}").status_code == 404


def test_portal_login_of_directory_admin(ldap_app, ldap_archive):
    c = _client(ldap_app)
    assert login(c, "qt.tinh", DIR_PW).status_code == 302
    assert c.get("/quan-tri/").status_code == 200
    assert _account(ldap_archive, "qt.tinh").new_unit_code is None


def test_portal_failures_give_the_one_answer(ldap_app, ldap_archive):
    c = _client(ldap_app)
    bodies = set()
    for username, password in [("cb.sonnam", "sai-mat-khau-1A"), ("khong.ton.tai", DIR_PW),
                               ("khong.nhom", DIR_PW), ("cb.pho*", DIR_PW), ("*", DIR_PW)]:
        r = login(c, username, password)
        assert r.status_code == 401, username
        html = r.get_data(as_text=True)
        assert FAILED in html
        bodies.add(html.split("<form")[0])
    assert len(bodies) == 1
    assert _account(ldap_archive, "khong.nhom") is None
    assert c.get("/").status_code == 302


def test_local_accounts_keep_working_beside_ldap(ldap_app):
    c = _client(ldap_app)
    assert login(c, "sonnam", PASSWORD).status_code == 302  # the world's local account
    assert login(_client(ldap_app), "sonnam", DIR_PW).status_code == 401


def test_role_and_unit_follow_the_groups_at_each_login(ldap_app, ldap_archive, directory, world):
    c = _client(ldap_app)
    assert login(c, "chuyen.donvi", DIR_PW).status_code == 302
    assert _account(ldap_archive, "chuyen.donvi").new_unit_code == "11953"
    directory.ldapmodify(
        f"dn: cn=tracuu-phohien,{GROUPS}\nchangetype: modify\ndelete: member\nmember: uid=chuyen.donvi,{PEOPLE}\n\n"
        f"dn: cn=tracuu-sonnam,{GROUPS}\nchangetype: modify\nadd: member\nmember: uid=chuyen.donvi,{PEOPLE}\n"
    )
    # The open session's scope follows the row at the next login (the old session ends).
    c2 = _client(ldap_app)
    assert login(c2, "chuyen.donvi", DIR_PW).status_code == 302
    assert _account(ldap_archive, "chuyen.donvi").new_unit_code == "11983"
    assert c.get("/").status_code == 302
    ids = {h["id"] for h in c2.get("/api/v1/search", query_string={"q": "bao cao"}).get_json()["hits"]}
    assert world.docs["lam_son"] in ids and world.docs["an_tao"] not in ids
    # Taken out of every mapped group: no more login.
    directory.ldapmodify(
        f"dn: cn=tracuu-sonnam,{GROUPS}\nchangetype: modify\ndelete: member\nmember: uid=chuyen.donvi,{PEOPLE}\n"
    )
    assert login(_client(ldap_app), "chuyen.donvi", DIR_PW).status_code == 401


def test_a_disabled_ldap_account_stays_out_whatever_the_directory_says(ldap_app, ldap_archive):
    from archive_portal.services.accounts import disable_account, find_account

    assert login(_client(ldap_app), "lt.tinh", DIR_PW).status_code == 302
    with ldap_archive.db.transaction() as s:
        disable_account(s, find_account(s, "lt.tinh"))
    assert login(_client(ldap_app), "lt.tinh", DIR_PW).status_code == 401


def test_ldap_account_has_no_password_to_change_here(ldap_app):
    c = _client(ldap_app)
    assert login(c, "cb.sonnam", DIR_PW).status_code == 302
    html = c.get("/doi-mat-khau").get_data(as_text=True)
    assert "do danh bạ của tỉnh (LDAP) quản lý" in html
    r = c.post("/doi-mat-khau", data={"csrf_token": csrf_token(c.get("/").get_data(as_text=True)),
                                      "current": DIR_PW, "new": "Mot-Mat-Khau-Moi-9", "confirm": "Mot-Mat-Khau-Moi-9"})
    assert "do danh bạ của tỉnh (LDAP) quản lý" in r.get_data(as_text=True)
