"""archive export: BagIt in this archive's contract; export -> ingest into a fresh home gives the same archive.

On every backend (tests/ops/conftest.py): the source and the home the export is ingested into alike."""
from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import bagit
import metsrw
import pytest
import xmlschema
from click.testing import CliRunner
from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from archive_core.context import Archive
from archive_core.db.models import Document, Dossier
from archive_core.settings import Settings
from archive_ops.transfer import ExportError, export
from archive_portal.cli import main
from archive_portal.services.units import import_mapping
from indexes.base import SearchQuery
from indexes.query import build_query
from ingest.pipeline import IngestOptions, ingest_package
from ingest.signature_checks import document_status
from specimens import make_specimens, render_pdf
from specimens.signing import TestCA, sign_pdf
from tests.backends import archive_environment, backend_overrides, close_archive

from ..ingest.packaging import row_for

UNITS_CSV = Path(__file__).resolve().parents[2] / "archive_core" / "data" / "units-hung-yen-2025.csv"
COLUMNS = ["ma_van_ban", "huong", "so_ky_hieu", "ngay_ban_hanh", "loai_van_ban", "trich_yeu", "co_quan_ban_hanh",
           "nguoi_ky", "do_mat", "ma_ho_so", "so_thu_tu", "so_trang", "che_do_su_dung", "Kho lưu", "tep_dinh_kem"]
QUERIES = ["kế hoạch", "quyết định", "ủy ban", "sắp xếp", "báo cáo", "74/KH-UBND"]


def source_bag(root: Path, ca: TestCA, roots: Path) -> Path:
    """A bag of old unit 11950 with everything the contract allows that an export must carry back."""
    specs = make_specimens(5, seed=21, issuer="UBND phường Lam Sơn", year=2024)
    files = root / "files"
    files.mkdir(parents=True)
    rows = []
    for n, spec in enumerate(specs[:4], start=1):
        render_pdf(spec, files / f"vb{n}.pdf")
        row = row_for(spec, f"VB-{n}", f"files/vb{n}.pdf", ma_ho_so="HS-01" if n <= 2 else "HS-02",
                      so_thu_tu=str(3 - n) if n <= 2 else "", **{"Kho lưu": f"Kệ {n}"})
        if n == 3:  # a row that gave only its key: the rest is read from the text
            row = {"ma_van_ban": "VB-3", "tep_dinh_kem": "files/vb3.pdf", "ma_ho_so": "HS-02"}
        rows.append(row)
    signed = sign_pdf((files / "vb4.pdf").read_bytes(), ca, ca.issue("Nguyễn Văn An", "UBND phường Lam Sơn"))
    (files / "vb4.pdf").write_bytes(signed)
    render_pdf(specs[0], files / "mat.pdf")
    rows.append({"ma_van_ban": "VB-MAT", "trich_yeu": "Văn bản mật", "do_mat": "Mật", "tep_dinh_kem": "files/mat.pdf"})
    rows.append({"ma_van_ban": "VB-THIEU", "trich_yeu": "Kế hoạch thiếu tệp", "tep_dinh_kem": "files/khong-co.pdf",
                 "so_trang": "2", "che_do_su_dung": "Hạn chế"})  # its own access regime, no dossier
    (files / "le").mkdir()
    render_pdf(specs[4], files / "le" / "khong-trong-bang-ke.pdf")  # an unreferenced file: its own document
    with open(root / "documents.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in COLUMNS})
    (root / "ho_so.csv").write_text(
        "ma_ho_so,tieu_de,thoi_han_bao_quan,che_do_su_dung,ngay_bat_dau,ngay_ket_thuc,Vị trí\n"
        "HS-01,Hồ sơ sắp xếp đơn vị hành chính,Vĩnh viễn,Hạn chế,02/01/2024,30/12/2024,Kho A\n"
        "HS-02,Hồ sơ hội nghị,10 năm,Không hạn chế,05/01/2024,,\n", encoding="utf-8")
    bagit.make_bag(str(root), bag_info={"Source-Organization": "UBND phường Lam Sơn", "Unit-Code": "11950",
                                        "Unit-Level": "xa", "Parent-Unit-Code": "323"}, checksums=["sha256"])
    return root


def new_home(path: Path, roots: Path, **overrides) -> Archive:
    archive = Archive.open(Settings.load(home=path, trust_roots=str(roots), **overrides))
    with archive.db.transaction() as session:
        import_mapping(session, UNITS_CSV)
    return archive


def snapshot(archive: Archive) -> dict:
    """What a user would notice: each document's fields, files, text and signature verdict; dossiers; searches."""
    out: dict = {"documents": {}, "dossiers": {}, "searches": {}}
    with archive.db.session() as session:
        ids = {}
        for d in session.scalars(select(Document).options(selectinload(Document.files))):
            ids[d.id] = d.ma_van_ban
            out["documents"][d.ma_van_ban] = {
                "fields": {k: getattr(d, k) for k in (
                    "unit_code", "origin", "direction", "number", "issued_date", "issued_date_raw", "doc_type",
                    "subject", "issuer", "signer", "signer_title", "recipients", "confidentiality", "dossier",
                    "dossier_order", "page_count", "remarks", "extra", "field_sources", "withheld", "restricted",
                    "restricted_own")},
                "files": [(f.filename, f.blob_sha256, f.status, [p.text for p in f.pages]) for f in d.files],
                "signature": document_status(session, d),
            }
        for dossier in session.scalars(select(Dossier)):
            out["dossiers"][dossier.code] = {k: getattr(dossier, k) for k in (
                "title", "retention_raw", "permanent", "retention_years", "access", "start_date", "end_date",
                "extra", "origin", "registered_documents")}
    for text in QUERIES:
        for restricted_ok in (False, True):
            query = build_query(text, scope=None, restricted_ok=restricted_ok, per_page=50)
            out["searches"][(text, restricted_ok)] = sorted(ids[h.id] for h in archive.engine.search(query).hits)
    out["searches"]["signed"] = sorted(ids[h.id] for h in archive.engine.search(
        SearchQuery(scope=None, signature="hop_le", restricted_ok=True)).hits)
    return out


@pytest.fixture(scope="module")
def ca() -> TestCA:
    return TestCA()


@pytest.fixture()
def source(request, tmp_path, ca, backend):
    roots = ca.write_roots(tmp_path / "roots.pem")
    archive = new_home(tmp_path / "a", roots, **backend_overrides(request, backend))
    ingest_package(archive, source_bag(tmp_path / "bag", ca, roots), IngestOptions(workers=1))
    yield archive, roots
    close_archive(archive)


def test_round_trip_gives_the_same_documents_fields_and_search_results(source, tmp_path, request, backend):
    archive, roots = source
    before = snapshot(archive)
    assert before["documents"]["VB-MAT"]["fields"]["withheld"]
    result = export(archive, tmp_path / "out", unit="11950")
    [unit] = result.units
    bag = bagit.Bag(str(unit.path))
    bag.validate()  # every payload file and the handover record match their manifests
    record = json.loads((unit.path / "bien-ban-ban-giao.json").read_text(encoding="utf-8"))
    assert record["so_luong"]["van_ban"] == 6 and record["so_luong"]["van_ban_mat_khong_xuat"] == 1
    assert record["so_luong"]["van_ban_han_che"] == 3 and record["so_luong"]["ho_so"] == 2
    assert record["ma_kiem_tra_sha256"]["data/files/vb1.pdf"] == bag.entries["data/files/vb1.pdf"]["sha256"]
    assert "bien-ban-ban-giao.json" in {Path(p).name for p in bag.tagfile_entries()}
    copy = new_home(tmp_path / "b", roots, **backend_overrides(request, backend))
    try:
        ingest_package(copy, unit.path, IngestOptions(workers=1))
        after = snapshot(copy)
    finally:
        close_archive(copy)
    expected = {k: v for k, v in before["documents"].items() if k != "VB-MAT"}  # secrets never leave
    assert after["documents"] == expected
    assert after["dossiers"] == before["dossiers"]
    assert after["searches"] == before["searches"]
    assert after["searches"]["signed"] == ["VB-4"]


def test_export_of_one_dossier_and_of_a_new_unit(source, tmp_path):
    archive, _ = source
    [one] = export(archive, tmp_path / "hs", dossier="HS-01").units
    with open(one.path / "data" / "documents.csv", encoding="utf-8") as handle:
        assert sorted(r["ma_van_ban"] for r in csv.DictReader(handle)) == ["VB-1", "VB-2"]
    assert (one.path / "data" / "ho_so.csv").read_text(encoding="utf-8").count("\n") == 2  # header + HS-01
    successor = export(archive, tmp_path / "moi", new_unit="11983")  # Sơn Nam succeeded Lam Sơn
    assert [u.unit_code for u in successor.units] == ["11950"] and successor.documents == 6
    with pytest.raises(ExportError):
        export(archive, tmp_path / "moi", unit="11950")  # never overwrites
    with pytest.raises(ExportError):
        export(archive, tmp_path / "rong", unit="99999")


def test_cli_export(source, tmp_path):
    archive, _ = source
    env = archive_environment(archive.settings)  # as an admin configures the command
    result = CliRunner().invoke(main, ["export", str(tmp_path / "cli"), "--unit", "11950", "--json"], env=env,
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    [package] = json.loads(result.output)["packages"]
    assert package["documents"] == 6 and package["withheld_left_out"] == 1
    assert CliRunner().invoke(main, ["export", str(tmp_path / "x")], env=env).exit_code != 0


# -- E-ARK ----------------------------------------------------------------------------------------
METS_XSD = Path(metsrw.__file__).parent / "resources" / "mets.xsd"  # METS 1.x schema, as metsrw ships it
XLINK_XSD = Path(__file__).parent / "schemas" / "xlink-loc.xsd"  # stand-in: see the file's comment
NS = {"mets": "http://www.loc.gov/METS/", "xlink": "http://www.w3.org/1999/xlink",
      "premis": "http://www.loc.gov/premis/v3"}


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_eark_package_validates_and_carries_fixity_ingest_and_signature_events(source, tmp_path):
    archive, _ = source
    [unit] = export(archive, tmp_path / "eark", unit="11950", form="eark").units
    root = unit.path
    assert root.name.startswith("phong-11950-")
    mets_path = root / "METS.xml"
    schema = xmlschema.XMLSchema(str(METS_XSD), locations={NS["xlink"]: str(XLINK_XSD)})
    schema.validate(str(mets_path))  # raises on any violation of the METS schema
    mets = etree.parse(str(mets_path))
    assert mets.getroot().get("OBJID") == root.name
    assert mets.getroot().get("PROFILE") == "https://earksip.dilcis.eu/profile/E-ARK-SIP.xml"
    # Every file the METS lists is there, with the size and SHA-256 it states; and every payload file is listed.
    listed = set()
    for file_el in mets.iterfind(".//mets:file", NS):
        href = file_el.find("mets:FLocat", NS).get(f"{{{NS['xlink']}}}href")
        path = root / href
        assert path.stat().st_size == int(file_el.get("SIZE")), href
        assert sha256_of(path) == file_el.get("CHECKSUM") and file_el.get("CHECKSUMTYPE") == "SHA-256"
        listed.add(href)
    payload = {p.relative_to(root).as_posix() for p in (root / "representations").rglob("*") if p.is_file()}
    assert payload and payload <= listed
    for ref in mets.iterfind(".//mets:mdRef", NS):
        path = root / ref.get(f"{{{NS['xlink']}}}href")
        assert sha256_of(path) == ref.get("CHECKSUM"), path
    assert {r.get("MDTYPE") for r in mets.iterfind(".//mets:mdRef", NS)} == {"DC", "OTHER", "PREMIS"}
    assert mets.find("mets:structMap", NS).get("TYPE") == "PHYSICAL"  # CSIP's (metsrw reads Archivematica's "physical")

    # PREMIS 3.0: no schema is installable here, so the structure is checked element by element.
    premis = etree.parse(str(root / "metadata" / "preservation" / "premis.xml")).getroot()
    assert premis.tag == f"{{{NS['premis']}}}premis" and premis.get("version") == "3.0"
    objects = {}
    for obj in premis.iterfind("premis:object", NS):
        value = obj.findtext("premis:objectIdentifier/premis:objectIdentifierValue", namespaces=NS)
        digest = obj.findtext("premis:objectCharacteristics/premis:fixity/premis:messageDigest", namespaces=NS)
        assert obj.findtext("premis:objectCharacteristics/premis:fixity/premis:messageDigestAlgorithm",
                            namespaces=NS) == "SHA-256"
        assert digest == sha256_of(root / value), value
        objects[value] = obj
    assert set(objects) == payload
    agents = {a.findtext("premis:agentIdentifier/premis:agentIdentifierValue", namespaces=NS)
              for a in premis.iterfind("premis:agent", NS)}
    events: dict[str, list] = {}
    for event in premis.iterfind("premis:event", NS):
        for child in ("eventIdentifier", "eventType", "eventDateTime", "eventOutcomeInformation"):
            assert event.find(f"premis:{child}", NS) is not None, child
        linked = [e.text for e in event.iterfind(
            "premis:linkingObjectIdentifier/premis:linkingObjectIdentifierValue", NS)]
        assert linked and set(linked) <= set(objects)
        assert event.findtext("premis:linkingAgentIdentifier/premis:linkingAgentIdentifierValue",
                              namespaces=NS) in agents
        outcome = event.findtext("premis:eventOutcomeInformation/premis:eventOutcome", namespaces=NS)
        events.setdefault(event.findtext("premis:eventType", namespaces=NS), []).append((outcome, linked))
    assert {o for o, _ in events["fixity check"]} == {"success"} and len(events["fixity check"]) == len(payload)
    assert [o for o, _ in events["ingestion"]] == ["success"]
    signed = [linked for outcome, linked in events["digital signature validation"] if outcome == "hop_le"]
    assert signed == [["representations/rep1/data/files/vb4.pdf"]]
    record = json.loads((root / "documentation" / "bien-ban-ban-giao.json").read_text(encoding="utf-8"))
    assert record["so_luong"]["van_ban"] == 6 and record["so_luong"]["sai_ma_kiem_tra"] == 0
    assert record["ma_kiem_tra_sha256"]["representations/rep1/data/files/vb1.pdf"] == \
        sha256_of(root / "representations/rep1/data/files/vb1.pdf")
