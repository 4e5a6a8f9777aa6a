"""The OpenAPI document matches the API: schemathesis against the real app, a real token, a real world."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from token_helpers import bearer, ensure_account, new_token

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def lookup_token(world):
    return new_token(world, "sonnam", name="schemathesis")


@pytest.fixture(scope="module")
def archivist_token(world):
    ensure_account(world, "luutru-api", "archivist")
    return new_token(world, "luutru-api", name="schemathesis")


@pytest.fixture(scope="module")
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def operations(api_schema):
    for result in api_schema.get_all_operations():
        yield result.ok()


# Hypothesis drives schemathesis' strategies directly (its pytest plugin's lazy loader does not
# work with pytest 9): every operation, positive data, a modest number of examples each.
def test_generated_requests_conform(api_schema, lookup_token):
    """Generated requests with a lookup token: no 5xx, only documented statuses, types and bodies."""
    tried = []
    for operation in operations(api_schema):

        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            case.call_and_validate(headers=bearer(lookup_token), checks=CHECKS)

        run()
        tried.append(operation.label)
    # Every documented operation but the document itself (schemathesis leaves its own source out).
    assert len(tried) == 6, tried


def _operation(raw_schema, path: str):
    return raw_schema[path]["GET"]


@pytest.mark.parametrize("who", ["lookup", "archivist"])
def test_real_documents_files_and_units_conform(api_schema, world, who, lookup_token, archivist_token):
    """The 200, 404 and 401 answers about real documents, files and units, for both kinds of token."""
    token = lookup_token if who == "lookup" else archivist_token
    cases = []
    for key in ("lam_son", "an_tao", "district", "withheld"):
        doc = world.docs[key]
        cases.append(("/api/v1/documents/{doc_id}", {"doc_id": doc}, {}))
        cases.append(("/api/v1/documents/{doc_id}/text", {"doc_id": doc}, {}))
        if key in world.files:
            cases.append(("/api/v1/documents/{doc_id}/files/{file_id}", {"doc_id": doc, "file_id": world.files[key]}, {}))
    for code in ("11983", "11953", "99999"):
        cases.append(("/api/v1/units/{code}", {"code": code}, {}))
    cases.append(("/api/v1/units", {}, {}))
    for query in ({"q": "báo cáo"}, {"q": "bao cao", "unit": ["11950", "11956"], "sort": "date_asc"},
                  {"from": "31/02/2024"}, {"page": "100000"}, {"direction": ["den", "di"]}):
        cases.append(("/api/v1/search", {}, query))
    statuses = set()
    for path, path_parameters, query in cases:
        case = api_schema.make_case(operation=_operation(api_schema, path), path_parameters=path_parameters, query=query)
        response = case.call_and_validate(headers=bearer(token), checks=CHECKS)
        statuses.add(response.status_code)
        anonymous = api_schema.make_case(operation=_operation(api_schema, path), path_parameters=path_parameters, query=query)
        assert anonymous.call_and_validate(checks=CHECKS).status_code == 401
    assert {200, 400, 404} <= statuses


def test_openapi_document_is_served_and_lists_every_route(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    served = {str(rule) for rule in app.url_map.iter_rules() if str(rule).startswith("/api/v1/")}
    documented = {path.replace("{", "<").replace("}", ">") for path in document["paths"]}
    normalised = {r.replace("<int:", "<") for r in served}
    assert normalised == documented
