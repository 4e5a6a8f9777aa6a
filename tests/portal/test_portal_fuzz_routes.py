"""No input gives a 500 (issue 10, finding 8): every route of the url_map, every path argument and
the query parameters the views read, filled with hostile values, for every kind of caller."""
from __future__ import annotations

from dataclasses import replace
from urllib.parse import quote

import pytest
from conftest import build_world
from portal_helpers import login
from token_helpers import bearer, new_token

from archive_portal import create_app

HOSTILE_PATH = ["99999999999999999999999999", "9223372036854775808", "a\r\nb%00", "x" * 3000, "'\"<>%ff%fe",
                "..%2F..%2Fetc%2Fpasswd", "\u202egpj.exe đ"]
HOSTILE_VALUES = ["\x00", "\x01\x1b[31m", "99999999999999999999999999", "-1", "31/02/2025", "x" * 5000, "%ff",
                  "\r\nSet-Cookie: a=b", "'; DROP TABLE document; --", "1e309", "NaN", "[]", "{}"]
PARAMS = ["q", "page", "w", "per_page", "sort", "from", "until", "verb", "metadataPrefix", "identifier", "set",
          "resumptionToken", "since", "username", "action", "unit", "new_unit", "date_from", "date_to", "number",
          "doc_type", "direction", "next", "code", "version", "kind", "status"]
EXAMPLES = {"doc_id": "1", "file_id": "1", "page_no": "1", "package_id": "1", "account_id": "1", "token_id": "1",
            "unit_code": "11950", "code": "11953", "digest": "a" * 64}


@pytest.fixture(scope="module")
def fuzz_world(tmp_path_factory):
    world = build_world(tmp_path_factory.mktemp("fuzz") / "home")
    world.archive.settings = replace(world.archive.settings, oai_enabled=True, metrics_token="metrics-secret")
    app = create_app(archive=world.archive)
    clients = {}
    for name in ("admin", "phohien"):
        client = app.test_client()
        assert login(client, name).status_code == 302
        clients[name] = (client, {})
    clients["anonymous"] = (app.test_client(), {})
    clients["token"] = (app.test_client(), bearer(new_token(world, "phohien")))
    yield app, clients
    world.archive.close()


def _paths(app) -> list[tuple[str, list[str], list[str]]]:
    """Each rule with every argument example-filled, plus a variant per argument and hostile value."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        args = sorted(rule.arguments)
        base = {a: EXAMPLES.get(a, "1") for a in args}
        urls = [_build(rule.rule, base)]
        for arg in args:
            for value in HOSTILE_PATH:
                urls.append(_build(rule.rule, {**base, arg: quote(value, safe="%")}))
        methods = [m for m in ("GET", "POST") if m in (rule.methods or ())]
        out.append((f"{rule.endpoint} {methods}", urls, methods))
    return out


def _build(pattern: str, values: dict[str, str]) -> str:
    import re

    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: values[m.group(1)], pattern)


def _queries() -> list[dict[str, str]]:
    """Every hostile value in every parameter at once, then each parameter alone with one of them."""
    together = [{p: v for p in PARAMS} for v in HOSTILE_VALUES]
    alone = [{p: HOSTILE_VALUES[(i * 5) % len(HOSTILE_VALUES)]} for i, p in enumerate(PARAMS)]
    return together + alone


def test_no_route_answers_500_to_hostile_paths_and_parameters(fuzz_world):
    app, clients = fuzz_world
    failures = []
    queries = _queries()
    for label, urls, methods in _paths(app):
        for name, (client, headers) in clients.items():
            for url in urls:
                for method in methods:
                    response = client.open(url, method=method, headers=headers)
                    response.get_data()  # a streamed body (CSV export) runs to its end too
                    if response.status_code >= 500:
                        failures.append(f"{label} {name} {method} {url[:100]!r}")
            for query in queries:
                response = client.get(urls[0], query_string=query, headers=headers)
                response.get_data()
                if response.status_code >= 500:
                    failures.append(f"{label} {name} GET {urls[0]} {str(query)[:60]!r}")
    by_route: dict[str, str] = {}
    for failure in failures:
        by_route.setdefault(failure.split(" [")[0], failure)  # one example per route
    assert not by_route, "\n".join(by_route.values())
