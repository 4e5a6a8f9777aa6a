"""The ``archive`` command as an admin uses it: units, ingest, accounts, scoped search."""
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive_portal.cli import main
from specimens import make_specimens, render_pdf

from .ingest.packaging import row_for, write_package

UNITS_CSV = Path(__file__).resolve().parent.parent / "archive_core" / "data" / "units-hung-yen-2025.csv"


@pytest.fixture()
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHIVE_HOME", str(tmp_path / "home"))
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True):
        result = runner.invoke(main, list(args), catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return invoke


def _bag(root: Path, unit: str, specs, prefix: str) -> Path:
    (root / "files").mkdir(parents=True)
    rows = []
    for index, spec in enumerate(specs, start=1):
        render_pdf(spec, root / "files" / f"{index}.pdf")
        rows.append(row_for(spec, f"{prefix}-{index}", f"files/{index}.pdf"))
    return write_package(root, rows, unit_code=unit)


def test_import_ingest_create_account_and_search_in_scope(run, tmp_path):
    out = run("units", "import", str(UNITS_CSV)).output
    assert "381 đơn vị cũ" in out and "104 đơn vị mới" in out
    lam_son = make_specimens(2, seed=1, issuer="UBND phường Lam Sơn")
    an_tao = make_specimens(2, seed=2, issuer="UBND phường An Tảo")
    run("ingest", "--quiet", "--workers", "1", str(_bag(tmp_path / "a", "11950", lam_son, "LS")))
    report = json.loads(run("ingest", "--json", "--workers", "1", str(_bag(tmp_path / "b", "11956", an_tao, "AT"))).output)
    assert report["counts"]["row:indexed"] == 2

    created = run("accounts", "create", "--new-unit", "11983", "--username", "sonnam").output
    assert "Mật khẩu ban đầu" in created
    refused = run("accounts", "create", "--new-unit", "00000", "--username", "khongco", ok=False)
    assert refused.exit_code != 0

    number = lam_son[0].number
    admin_hits = json.loads(run("search", number, "--json").output)["hits"]
    assert admin_hits[0]["number"] == number and admin_hits[0]["ma_van_ban"] == "LS-1"
    # Sơn Nam (11983) succeeded Lam Sơn (11950), not An Tảo (11956)
    everything = json.loads(run("search", "--json", "--new-unit", "11983").output)
    assert {h["unit_code"] for h in everything["hits"]} == {"11950"} and everything["total"] == 2
    other = json.loads(run("search", an_tao[0].number, "--json", "--new-unit", "11983").output)
    assert all(h["unit_code"] == "11950" for h in other["hits"])
    assert all(h["ma_van_ban"] != "AT-1" for h in other["hits"])


def test_a_refused_package_exits_non_zero_with_the_reason(run, tmp_path):
    folder = tmp_path / "loose"
    folder.mkdir()
    (folder / "a.txt").write_text("Văn bản không rõ nguồn", encoding="utf-8")
    result = run("ingest", "--quiet", str(folder), ok=False)
    assert result.exit_code == 2 and "Unit-Code" in result.output


def test_demo_accounts_are_created_and_can_sign_in(tmp_path):
    """`make run` prints these accounts: they must exist and accept the printed passwords."""
    from rich.console import Console

    from archive_portal import create_app
    from archive_core.context import Archive
    from specimens.demo import DEMO_ACCOUNTS, UNITS_CSV, create_demo_accounts
    from archive_portal.services.units import import_mapping
    from archive_core.settings import Settings

    archive = Archive.open(Settings.load(home=tmp_path / "home", secret_key="k"))
    with archive.db.transaction() as session:
        import_mapping(session, UNITS_CSV)
    create_demo_accounts(archive, Console(file=open(tmp_path / "out.txt", "w")))
    create_demo_accounts(archive, Console(file=open(tmp_path / "again.txt", "w")))  # a second run is harmless
    assert "đã có" in (tmp_path / "again.txt").read_text()
    app = create_app(archive=archive)
    for username, _role, _unit, password in DEMO_ACCOUNTS:
        client = app.test_client()
        page = client.get("/dang-nhap").get_data(as_text=True)
        token = page.split('name="csrf_token"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
        answer = client.post("/dang-nhap", data={"username": username, "password": password, "csrf_token": token})
        assert answer.status_code == 302 and "dang-nhap" not in answer.headers["Location"], username
        assert "doi-mat-khau" not in answer.headers["Location"]
    archive.close()
