"""/healthz says whether database, store and index answer and the programs are installed; /metrics serves Prometheus figures to monitoring only."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

from archive_portal import create_app
from archive_core.context import Archive
from archive_core.db.session import Database
from archive_core.settings import Settings
from portal_helpers import login
from token_helpers import bearer, new_token

ROOT = Path(__file__).resolve().parents[2]


def _value(text: str, name: str, labels: str = "") -> float:
    match = re.search(rf"^{re.escape(name)}{re.escape(labels)} ([0-9.e+-]+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


def test_healthz_ok(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    body = r.get_json()
    assert body["status"] == "ok"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {"database": True, "store": True, "index": True,
                                                                        "programs": True}


def test_healthz_names_a_missing_program(client, tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for program in ("tesseract", "antiword"):  # catdoc is not installed here
        (bin_dir / program).symlink_to(shutil.which(program))
    monkeypatch.setenv("PATH", str(bin_dir))
    r = client.get("/healthz")
    assert r.status_code == 503
    assert r.get_json()["checks"]["programs"] == {"ok": False, "ms": r.get_json()["checks"]["programs"]["ms"],
                                                  "error": "missing: catdoc"}
    assert str(tmp_path) not in r.get_data(as_text=True)


def test_healthz_reports_a_missing_store_and_an_unreachable_database(tmp_path):
    archive = Archive.open(Settings.load(home=tmp_path / "home", secret_key="k"))
    app = create_app(archive=archive)
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    archive.settings.store_dir.rename(tmp_path / "store-gone")
    r = client.get("/healthz")
    assert r.status_code == 503
    body = r.get_json()
    assert body["status"] == "fail" and body["checks"]["store"] == {"ok": False, "ms": body["checks"]["store"]["ms"],
                                                                    "error": "FileNotFoundError"}
    assert body["checks"]["database"]["ok"] and str(tmp_path) not in r.get_data(as_text=True)
    (tmp_path / "store-gone").rename(archive.settings.store_dir)
    working = archive.db
    archive.db = Database(f"sqlite:///{tmp_path / 'no-such-dir' / 'archive.sqlite'}")
    try:
        r = client.get("/healthz")
        assert r.status_code == 503 and r.get_json()["checks"]["database"]["ok"] is False
    finally:
        archive.db.dispose()
        archive.db = working
    archive.close()


def test_metrics_only_for_monitoring(app, world):
    client = app.test_client()
    assert client.get("/metrics").status_code == 200  # loopback, no proxy in between
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 404
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 404
    archive = Archive.open(replace(world.archive.settings, metrics_token="bi-mat-giam-sat"))
    guarded = create_app(archive=archive).test_client()
    outside = {"REMOTE_ADDR": "10.1.2.3"}
    assert guarded.get("/metrics", headers=bearer("bi-mat-giam-sat"), environ_base=outside).status_code == 200
    assert guarded.get("/metrics", headers=bearer("sai"), environ_base=outside).status_code == 404
    archive.close()


def test_metrics_count_logins_searches_and_ingest(app, world):
    client = app.test_client()
    before = client.get("/metrics").get_data(as_text=True)
    assert login(app.test_client(), "khong-ton-tai", "sai-mat-khau-1234").status_code == 401
    assert login(app.test_client(), "phohien").status_code == 302
    token = new_token(world, "phohien")
    assert client.get("/api/v1/search", query_string={"q": "báo cáo"}, headers=bearer(token)).status_code == 200
    after = client.get("/metrics").get_data(as_text=True)
    assert _value(after, "archive_logins_total", '{outcome="failure"}') == _value(before, "archive_logins_total", '{outcome="failure"}') + 1
    assert _value(after, "archive_logins_total", '{outcome="success"}') == _value(before, "archive_logins_total", '{outcome="success"}') + 1
    assert _value(after, "archive_search_seconds_count", '{route="api"}') == _value(before, "archive_search_seconds_count", '{route="api"}') + 1
    assert _value(after, "archive_ocr_pages_total") == 2  # the two OCR pages of the TIFF
    assert _value(after, "archive_documents", '{state="visible"}') == 3
    assert _value(after, "archive_documents", '{state="withheld"}') == 1
    assert _value(after, "archive_originals") == 3


SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from archive_portal import create_app
    from archive_core.context import Archive
    from archive_core.settings import Settings
    from portal_helpers import login
    archive = Archive.open(Settings.load(home={home!r}, secret_key="test-secret-key", database_url={url!r}))
    app = create_app(archive=archive)
    if sys.argv[1] == "fail":
        for _ in range(2):
            assert login(app.test_client(), "khong-co-ai", "sai-mat-khau-1234").status_code == 401
    else:
        print(app.test_client().get("/metrics").get_data(as_text=True))
""")


def test_metrics_are_summed_over_worker_processes(world, tmp_path):
    """PROMETHEUS_MULTIPROC_DIR (what gunicorn.conf.py sets): counts of every process reach the scrape."""
    settings = world.archive.settings
    script = tmp_path / "worker.py"
    script.write_text(SCRIPT.format(tests=str(Path(__file__).parent), home=str(settings.home), url=settings.database_url))
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom"), "PYTHONPATH": str(ROOT)}
    (tmp_path / "prom").mkdir()
    for _ in range(2):
        subprocess.run([sys.executable, str(script), "fail"], env=env, check=True, timeout=300)
    scraped = subprocess.run([sys.executable, str(script), "scrape"], env=env, check=True, timeout=300,
                             capture_output=True, text=True).stdout
    assert _value(scraped, "archive_logins_total", '{outcome="failure"}') == 4
    assert _value(scraped, "archive_documents", '{state="visible"}') == 3


def test_healthz_reports_a_search_cluster_that_is_down(tmp_path):
    """The index part of /healthz on the cluster engine whose node does not answer (a closed port)."""
    import socket

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings = Settings.load(home=tmp_path / "home", secret_key="k", index_engine="opensearch",
                             search_url=f"http://127.0.0.1:{closed_port}", search_timeout_ms=2000)
    archive = Archive.open(settings)
    try:
        r = create_app(archive=archive).test_client().get("/healthz")
        assert r.status_code == 503
        checks = r.get_json()["checks"]
        assert checks["index"]["ok"] is False and checks["database"]["ok"] and checks["store"]["ok"]
        assert str(closed_port) not in r.get_data(as_text=True), "no address of the cluster on a public page"
    finally:
        archive.close()
