"""deploy/ stays honest: the compose file parses and wires portal, workers, PostgreSQL and OpenSearch
together; the systemd units start what exists; the example environment names every setting."""
from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import yaml
from click.testing import CliRunner

from archive_portal.cli import main
from archive_core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
SETTINGS_VARIABLES = set(re.findall(r'"(ARCHIVE_[A-Z_]+)"', (ROOT / "archive_core" / "settings.py").read_text()))


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read_string((DEPLOY / "systemd" / name).read_text(encoding="utf-8"))
    return parser


def test_compose_runs_portal_workers_postgresql_and_opensearch_on_one_shared_home():
    compose = _compose()
    services = compose["services"]
    assert {"db", "search", "portal", "worker"} <= set(services)
    portal, worker = services["portal"], services["worker"]
    assert "wsgi:app" in portal["command"] and portal["command"][0] == "gunicorn"
    assert worker["command"][:2] == ["archive", "worker"] and worker["deploy"]["replicas"] >= 2
    assert worker.get("stop_signal") == "SIGTERM"
    for service in (portal, worker):
        env = service["environment"]
        assert set(k for k in env if k.startswith("ARCHIVE_")) <= SETTINGS_VARIABLES
        assert env["ARCHIVE_DATABASE_URL"].startswith("postgresql+psycopg://") and "@db:5432/" in env["ARCHIVE_DATABASE_URL"]
        assert env["ARCHIVE_SEARCH_URL"] == "http://search:9200" and env["ARCHIVE_INDEX_ENGINE"] == "opensearch"
        volume, mount = service["volumes"][0].split(":")[:2]
        assert volume in compose["volumes"] and mount == env["ARCHIVE_HOME"], "one data home shared by all"
        assert (ROOT / service["build"]["context"].replace("..", ".") / service["build"]["dockerfile"]).is_file()
    assert services["db"]["environment"]["POSTGRES_DB"] == "archive"
    search = services["search"]
    assert search["environment"]["discovery.type"] == "single-node"
    assert "analysis-icu" in (DEPLOY / search["build"]["context"] / "Dockerfile").read_text()


def test_the_image_installs_what_the_archive_needs():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    makefile = (ROOT / "Makefile").read_text()
    run_debs = re.search(r"^RUN_DEBS := (.+)$", makefile, re.M).group(1).split()
    for package in run_debs:
        if package not in {"python3-dev"}:  # the python image has its own headers
            assert package in dockerfile, package


def test_systemd_units_start_the_portal_and_templated_workers_with_the_environment_file():
    portal = _unit("archive-portal.service")["Service"]
    assert portal["EnvironmentFile"] == "/etc/archive/archive.env"
    assert "wsgi:app" in portal["ExecStart"] and "gunicorn" in portal["ExecStart"]
    worker = _unit("archive-worker@.service")
    service = worker["Service"]
    assert service["EnvironmentFile"] == "/etc/archive/archive.env"
    command = shlex.split(service["ExecStart"])
    assert command[0].endswith("/archive") and command[1] == "worker"
    assert service["KillMode"] == "mixed", "SIGTERM to the worker alone: it finishes its files"
    assert "%i" in worker["Unit"]["Description"]
    for unit in ("archive-portal.service", "archive-worker@.service"):
        assert _unit(unit)["Install"]["WantedBy"] == "multi-user.target"
    # the options the unit passes exist
    help_text = CliRunner().invoke(main, ["worker", "--help"]).output
    assert all(option in help_text for option in command[2:] if option.startswith("--"))


def test_the_example_environment_documents_every_setting():
    text = (DEPLOY / "archive.env.example").read_text(encoding="utf-8")
    named = set(re.findall(r"^#?(ARCHIVE_[A-Z_]+)=", text, re.M))
    assert named == SETTINGS_VARIABLES, f"missing {SETTINGS_VARIABLES - named}, unknown {named - SETTINGS_VARIABLES}"
    values = dict(re.findall(r"^(ARCHIVE_[A-Z_]+)=(.*)$", text, re.M))
    assert values["ARCHIVE_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert Settings.load(home="/tmp/x", database_url=values["ARCHIVE_DATABASE_URL"]).database_url.startswith("postgresql")
