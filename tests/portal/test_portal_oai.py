"""OAI-PMH 2.0: the six verbs, paging with resumption tokens, from/until, sets, the protocol's errors, access."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from lxml import etree

from archive_portal import create_app
from archive_core.context import Archive
from archive_core.clock import utcnow
from fake_clock import faked_now  # noqa: F401  (ARCHIVE_TEST_FAKE_NOW: a faked 23:30 UTC)
from token_helpers import bearer, ensure_account, new_token

OAI = "http://www.openarchives.org/OAI/2.0/"
DC = "http://purl.org/dc/elements/1.1/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
NS = {"o": OAI, "dc": DC, "oai_dc": OAI_DC}
UTC_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
SETSPEC_RE = re.compile(r"^[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*$")
VERBS = {"Identify", "ListMetadataFormats", "ListSets", "GetRecord", "ListIdentifiers", "ListRecords"}
ERRORS = {"badArgument", "badResumptionToken", "badVerb", "cannotDisseminateFormat", "idDoesNotExist",
          "noMetadataFormats", "noRecordsMatch", "noSetHierarchy"}


@pytest.fixture(scope="module")
def oai_app(world):
    """The same archive with harvesting enabled and one record per page (so paging shows)."""
    archive = Archive.open(replace(world.archive.settings, oai_enabled=True, oai_page_size=1))
    yield create_app(archive=archive)
    archive.close()


@pytest.fixture(scope="module")
def archivist(world):
    ensure_account(world, "luutru-oai", "archivist")
    return new_token(world, "luutru-oai", name="harvester")


@pytest.fixture(scope="module")
def harvest(oai_app, archivist):
    client = oai_app.test_client()

    def get(token=archivist, method="get", **params):
        call = client.post if method == "post" else client.get
        kwargs = {"data": params} if method == "post" else {"query_string": params}
        response = call("/oai", headers=bearer(token), **kwargs)
        assert response.status_code == 200, response.data
        assert response.mimetype == "text/xml"
        return check_structure(etree.fromstring(response.data))

    return get


def check_structure(root):
    """The constraints of OAI-PMH.xsd that matter here, checked with lxml."""
    assert root.tag == f"{{{OAI}}}OAI-PMH"
    children = list(root)
    assert [c.tag for c in children[:2]] == [f"{{{OAI}}}responseDate", f"{{{OAI}}}request"]
    assert UTC_RE.match(children[0].text)
    request = children[1]
    assert request.text.endswith("/oai")
    body = children[2:]
    assert body, "no answer element"
    if body[0].tag == f"{{{OAI}}}error":
        assert all(e.tag == f"{{{OAI}}}error" and e.get("code") in ERRORS for e in body)
        if {e.get("code") for e in body} & {"badVerb", "badArgument"}:
            assert dict(request.attrib) == {}
    else:
        assert len(body) == 1 and body[0].tag.split("}")[1] in VERBS
        assert request.get("verb") == body[0].tag.split("}")[1]
    for header in root.iter(f"{{{OAI}}}header"):
        tags = [c.tag.split("}")[1] for c in header]
        assert tags[:2] == ["identifier", "datestamp"] and set(tags[2:]) <= {"setSpec"}
        assert UTC_RE.match(header.find("o:datestamp", NS).text)
        assert all(SETSPEC_RE.match(s.text) for s in header.findall("o:setSpec", NS))
    for metadata in root.iter(f"{{{OAI}}}metadata"):
        (dc,) = list(metadata)
        assert dc.tag == f"{{{OAI_DC}}}dc"
        assert all(el.tag.startswith(f"{{{DC}}}") for el in dc)
    for token in root.iter(f"{{{OAI}}}resumptionToken"):
        assert int(token.get("cursor")) >= 0 and int(token.get("completeListSize")) >= 1
    return root


def error_code(root) -> str | None:
    err = root.find("o:error", NS)
    return err.get("code") if err is not None else None


def identifiers(root) -> list[str]:
    return [el.text for el in root.iterfind(".//o:header/o:identifier", NS)]


def doc_ids(world, keys) -> set[str]:
    return {f"oai:archive.localhost:{world.docs[k]}" for k in keys}


def harvest_all(harvest, verb, **params):
    """Follow resumption tokens to the end; returns every page."""
    pages = [harvest(verb=verb, **params)]
    while True:
        token = pages[-1].find(f".//o:{verb}/o:resumptionToken", NS)
        if token is None or not token.text:
            return pages
        pages.append(harvest(verb=verb, resumptionToken=token.text))


def test_off_by_default_and_needs_a_token(app, oai_app, world):
    assert app.test_client().get("/oai?verb=Identify", headers=bearer(new_token(world, "sonnam"))).status_code == 404
    client = oai_app.test_client()
    assert client.get("/oai?verb=Identify").status_code == 401
    assert client.get("/oai?verb=Identify", headers=bearer("hya_forged")).status_code == 401


def test_identify(harvest):
    root = harvest(verb="Identify")
    ident = root.find("o:Identify", NS)
    assert ident.find("o:protocolVersion", NS).text == "2.0"
    assert ident.find("o:granularity", NS).text == "YYYY-MM-DDThh:mm:ssZ"
    assert ident.find("o:deletedRecord", NS).text == "no"
    assert UTC_RE.match(ident.find("o:earliestDatestamp", NS).text)
    assert re.match(r"\S+@(\S+\.)+\S+", ident.find("o:adminEmail", NS).text)
    assert error_code(harvest(verb="Identify", extra="1")) == "badArgument"


def test_list_records_pages_through_every_visible_document(harvest, world):
    pages = harvest_all(harvest, "ListRecords", metadataPrefix="oai_dc")
    assert len(pages) == 3  # one record per page
    seen = [i for page in pages for i in identifiers(page)]
    assert set(seen) == doc_ids(world, ("lam_son", "an_tao", "district")) and len(seen) == 3
    cursors = [int(p.find(".//o:resumptionToken", NS).get("cursor")) for p in pages]
    assert cursors == [0, 1, 2]
    assert pages[-1].find(".//o:resumptionToken", NS).text is None  # the last page ends the list
    text = b"".join(etree.tostring(p) for p in pages).decode()
    assert "Văn bản mật" not in text  # never a withheld document
    assert "Báo cáo kết quả thực hiện" not in text  # never the text, metadata only


def test_dublin_core_of_a_record(harvest, world):
    root = harvest(verb="GetRecord", metadataPrefix="oai_dc", identifier=f"oai:archive.localhost:{world.docs['lam_son']}")
    dc = root.find(".//oai_dc:dc", NS)
    values = {}
    for el in dc:
        values.setdefault(el.tag.split("}")[1], []).append(el.text)
    assert values["title"] == [world.subjects["lam_son"]]
    assert values["creator"] == ["UBND phường Lam Sơn"]
    assert values["publisher"] == ["Phường Lam Sơn"]
    assert values["date"] == ["2024-04-10"]
    assert "Kế hoạch" in values["type"] and "74/KH-UBND" in values["identifier"]
    assert root.find(".//o:header/o:setSpec", NS).text == "unit:11950"


def test_sets_and_set_filter(harvest, world):
    sets = {s.find("o:setSpec", NS).text: s.find("o:setName", NS).text
            for s in harvest(verb="ListSets").iterfind(".//o:set", NS)}
    assert sets == {"unit:11950": "Phường Lam Sơn", "unit:11956": "Phường An Tảo", "unit:323": "Thành phố Hưng Yên"}
    root = harvest(verb="ListIdentifiers", metadataPrefix="oai_dc", set="unit:323")
    assert set(identifiers(root)) == doc_ids(world, ("district",))
    assert error_code(harvest(verb="ListIdentifiers", metadataPrefix="oai_dc", set="unit:99999")) == "noRecordsMatch"


def test_from_until(harvest, world):
    today = utcnow().date()  # OAI-PMH datestamps are UTC days, as the code reads them (archive_core.clock)
    everything = doc_ids(world, ("lam_son", "an_tao", "district"))
    pages = harvest_all(harvest, "ListIdentifiers", metadataPrefix="oai_dc", **{"from": today.isoformat()})
    assert {i for p in pages for i in identifiers(p)} == everything
    yesterday = (today - timedelta(days=1)).isoformat()
    assert error_code(harvest(verb="ListIdentifiers", metadataPrefix="oai_dc", until=yesterday)) == "noRecordsMatch"
    stamp = harvest(verb="GetRecord", metadataPrefix="oai_dc",
                    identifier=f"oai:archive.localhost:{world.docs['lam_son']}").find(".//o:datestamp", NS).text
    exact = harvest_all(harvest, "ListIdentifiers", metadataPrefix="oai_dc", **{"from": stamp, "until": stamp})
    assert doc_ids(world, ("lam_son",)) <= {i for p in exact for i in identifiers(p)}
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert error_code(harvest(verb="ListRecords", metadataPrefix="oai_dc", **{"from": tomorrow})) == "noRecordsMatch"


def test_a_lookup_token_harvests_only_its_scope(harvest, world):
    token = new_token(world, "sonnam")
    pages = harvest_all(lambda **p: harvest(token=token, **p), "ListIdentifiers", metadataPrefix="oai_dc")
    assert {i for p in pages for i in identifiers(p)} == doc_ids(world, ("lam_son", "district"))
    sets = {s.text for s in harvest(token=token, verb="ListSets").iterfind(".//o:setSpec", NS)}
    assert sets == {"unit:11950", "unit:323"}
    outside = f"oai:archive.localhost:{world.docs['an_tao']}"
    assert error_code(harvest(token=token, verb="GetRecord", metadataPrefix="oai_dc", identifier=outside)) == "idDoesNotExist"


@pytest.mark.parametrize("params, code", [
    ({}, "badVerb"),
    ({"verb": "Harvest"}, "badVerb"),
    ({"verb": ["Identify", "Identify"]}, "badVerb"),
    ({"verb": "ListRecords"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "colour": "red"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": ["oai_dc", "oai_dc"]}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "01/02/2025"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2025-01-01", "until": "2025-02-01T00:00:00Z"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2025-02-01", "until": "2025-01-01"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "resumptionToken": "x"}, "badArgument"),
    ({"verb": "GetRecord", "metadataPrefix": "oai_dc"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "marc21"}, "cannotDisseminateFormat"),
    ({"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:archive.localhost:999999"}, "idDoesNotExist"),
    ({"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "urn:other:1"}, "idDoesNotExist"),
    ({"verb": "ListMetadataFormats", "identifier": "oai:archive.localhost:999999"}, "idDoesNotExist"),
    ({"verb": "ListIdentifiers", "resumptionToken": "not-a-token"}, "badResumptionToken"),
    ({"verb": "ListSets", "resumptionToken": "not-a-token"}, "badResumptionToken"),
])
def test_protocol_errors(harvest, params, code):
    assert error_code(harvest(**params)) == code


def test_withheld_record_does_not_exist(harvest, world):
    withheld = f"oai:archive.localhost:{world.docs['withheld']}"
    assert error_code(harvest(verb="GetRecord", metadataPrefix="oai_dc", identifier=withheld)) == "idDoesNotExist"
    getrecord = harvest(verb="GetRecord", metadataPrefix="marc21",
                        identifier=f"oai:archive.localhost:{world.docs['lam_son']}")
    assert error_code(getrecord) == "cannotDisseminateFormat"


def test_resumption_tokens_are_tamper_proof_and_bound_to_their_verb(harvest):
    first = harvest(verb="ListRecords", metadataPrefix="oai_dc")
    token = first.find(".//o:resumptionToken", NS).text
    assert error_code(harvest(verb="ListRecords", resumptionToken=token[:-2] + "xx")) == "badResumptionToken"
    assert error_code(harvest(verb="ListIdentifiers", resumptionToken=token)) == "badResumptionToken"
    assert error_code(harvest(verb="ListRecords", resumptionToken=token)) is None


def test_list_metadata_formats_and_post(harvest, world):
    formats = harvest(verb="ListMetadataFormats", method="post")
    assert [p.text for p in formats.iterfind(".//o:metadataPrefix", NS)] == ["oai_dc"]
    one = harvest(verb="ListMetadataFormats", identifier=f"oai:archive.localhost:{world.docs['district']}")
    assert error_code(one) is None
    records = harvest(verb="ListRecords", metadataPrefix="oai_dc", method="post")
    assert len(identifiers(records)) == 1
