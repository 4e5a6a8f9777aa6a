"""E-ARK style submission package (CSIP/SIP layout) with METS and PREMIS, for a historical archive.

Layout (one package per old unit, the folder named by its OBJID)::

    <OBJID>/
      METS.xml                              root METS: header, metadata, every file with SHA-256, structMap
      metadata/descriptive/dc.xml           the fonds in Dublin Core
      metadata/descriptive/documents.csv    the documents' rows, ho_so.csv the dossiers (this archive's contract)
      metadata/preservation/premis.xml      PREMIS 3.0: objects with fixity, ingestion, fixity check and
                                            digital signature validation events, agents
      representations/rep1/data/...         the originals, byte for byte, at their package paths
      documentation/bien-ban-ban-giao.*     the handover record (counts, SHA-256 of every file)

Built with lxml.  What is simplified against the full CSIP profile: one representation with
no METS of its own (the root METS lists its files), and no CSIP extension attributes
(csip:CONTENTINFORMATIONTYPE ...), so the METS validates against the METS schema alone.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_core.clock import utcnow
from archive_core.context import Archive
from archive_core.db.models import BlobSignatures, Document, OldUnit, Package

from .export import UnitExport, copy_originals, load_documents, write_lists, write_record

METS_NS = "http://www.loc.gov/METS/"
PREMIS_NS = "http://www.loc.gov/premis/v3"
XLINK_NS = "http://www.w3.org/1999/xlink"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
DC_NS = "http://purl.org/dc/elements/1.1/"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
SIP_PROFILE = "https://earksip.dilcis.eu/profile/E-ARK-SIP.xml"
SOFTWARE = "Kho lưu trữ văn bản các đơn vị hành chính cũ"
REPRESENTATION = "representations/rep1/data"


def _m(tag: str) -> str:
    return f"{{{METS_NS}}}{tag}"


def _p(tag: str) -> str:
    return f"{{{PREMIS_NS}}}{tag}"


def _iso(value: datetime | None) -> str:
    value = value or utcnow()
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _write(tree: etree._Element, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _media_type(path: Path, known: dict[str, str]) -> str:
    return known.get(path.name) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


# -- descriptive -------------------------------------------------------------------------------
def fonds_dc(unit: OldUnit | None, unit_code: str, documents: list[Document], label: str) -> etree._Element:
    dated = sorted(d.issued_date for d in documents if d.issued_date)
    root = etree.Element(f"{{{OAI_DC_NS}}}dc", nsmap={"oai_dc": OAI_DC_NS, "dc": DC_NS})
    name = unit.name if unit else unit_code
    for tag, value in (
        ("title", f"Phông {name}"),
        ("creator", name),
        ("identifier", unit_code),
        ("date", f"{dated[0].isoformat()}/{dated[-1].isoformat()}" if dated else ""),
        ("type", "Fonds"),
        ("description", f"{len(documents)} văn bản; phạm vi xuất: {label}"),
        ("language", "vi"),
    ):
        if value:
            etree.SubElement(root, f"{{{DC_NS}}}{tag}").text = value
    return root


# -- preservation (PREMIS 3.0) -------------------------------------------------------------------
@dataclass
class _Event:
    kind: str
    when: datetime | None
    outcome: str
    note: str
    objects: list[str]
    agent: str = "archive"


def _identifier(parent: etree._Element, prefix: str, value: str, kind: str = "local") -> None:
    ident = etree.SubElement(parent, _p(f"{prefix}Identifier"))
    etree.SubElement(ident, _p(f"{prefix}IdentifierType")).text = kind
    etree.SubElement(ident, _p(f"{prefix}IdentifierValue")).text = value


def premis_document(
    files: dict[str, tuple[str, int, str, str]], events: list[_Event], unit_name: str
) -> etree._Element:
    """``files``: package path -> (sha256, size, media type, original name)."""
    root = etree.Element(_p("premis"), nsmap={"premis": PREMIS_NS, "xsi": XSI_NS}, version="3.0")
    for path, (sha, size, media, name) in sorted(files.items()):
        obj = etree.SubElement(root, _p("object"))
        obj.set(f"{{{XSI_NS}}}type", "premis:file")
        _identifier(obj, "object", path)
        chars = etree.SubElement(obj, _p("objectCharacteristics"))
        etree.SubElement(chars, _p("compositionLevel")).text = "0"
        fixity = etree.SubElement(chars, _p("fixity"))
        etree.SubElement(fixity, _p("messageDigestAlgorithm")).text = "SHA-256"
        etree.SubElement(fixity, _p("messageDigest")).text = sha
        etree.SubElement(chars, _p("size")).text = str(size)
        fmt = etree.SubElement(etree.SubElement(chars, _p("format")), _p("formatDesignation"))
        etree.SubElement(fmt, _p("formatName")).text = media
        etree.SubElement(obj, _p("originalName")).text = name
    for n, event in enumerate(events, start=1):
        el = etree.SubElement(root, _p("event"))
        _identifier(el, "event", f"event-{n}")
        etree.SubElement(el, _p("eventType")).text = event.kind
        etree.SubElement(el, _p("eventDateTime")).text = _iso(event.when)
        outcome = etree.SubElement(el, _p("eventOutcomeInformation"))
        etree.SubElement(outcome, _p("eventOutcome")).text = event.outcome
        if event.note:
            detail = etree.SubElement(outcome, _p("eventOutcomeDetail"))
            etree.SubElement(detail, _p("eventOutcomeDetailNote")).text = event.note
        agent = etree.SubElement(el, _p("linkingAgentIdentifier"))
        etree.SubElement(agent, _p("linkingAgentIdentifierType")).text = "local"
        etree.SubElement(agent, _p("linkingAgentIdentifierValue")).text = event.agent
        for path in event.objects:
            link = etree.SubElement(el, _p("linkingObjectIdentifier"))
            etree.SubElement(link, _p("linkingObjectIdentifierType")).text = "local"
            etree.SubElement(link, _p("linkingObjectIdentifierValue")).text = path
    for ident, name, kind in (("archive", SOFTWARE, "software"), ("unit", unit_name, "organization")):
        agent = etree.SubElement(root, _p("agent"))
        _identifier(agent, "agent", ident)
        etree.SubElement(agent, _p("agentName")).text = name
        etree.SubElement(agent, _p("agentType")).text = kind
    return root


def _events(session: Session, documents: list[Document], result: UnitExport, exported_at: datetime) -> list[_Event]:
    by_package: dict[int, list[str]] = {}
    by_blob: dict[str, list[str]] = {}
    for document in documents:
        for f in document.files:
            safe = f.path_in_package
            if safe in result.checksums:
                path = f"{REPRESENTATION}/{safe}"
                by_package.setdefault(document.package_id, []).append(path)
                by_blob.setdefault(f.blob_sha256 or "", []).append(path)
    events = []
    for package_id, paths in sorted(by_package.items()):
        package = session.get(Package, package_id)
        events.append(
            _Event(
                "ingestion",
                package.finished_at or package.started_at if package else None,
                "success",
                f"Nhập gói #{package_id} ({package.form if package else ''}, "
                f"{'đã xác minh BagIt' if package and package.verified else 'chưa xác minh'})",
                sorted(set(paths)),
            )
        )
    for rel, actual in sorted(result.checksums.items()):
        if rel not in result.stored_sha256:
            continue
        ok = actual == result.stored_sha256[rel]
        events.append(
            _Event(
                "fixity check",
                exported_at,
                "success" if ok else "failure",
                f"SHA-256 khi xuất {'khớp' if ok else 'KHÔNG khớp'} mã ghi khi nhận ({result.stored_sha256[rel]})",
                [f"{REPRESENTATION}/{rel}"],
            )
        )
    verdicts = session.scalars(select(BlobSignatures).where(BlobSignatures.blob_sha256.in_(sorted(by_blob))))
    for verdict in verdicts:
        signers = ", ".join(s.get("signer", "") for s in verdict.signatures or [])
        events.append(
            _Event(
                "digital signature validation",
                verdict.checked_at,
                verdict.status,
                f"{verdict.signature_count} chữ ký ({signers}); kho tin cậy {verdict.trust_store[:16]}"
                + (f"; lỗi: {verdict.error}" if verdict.error else ""),
                sorted(set(by_blob[verdict.blob_sha256])),
            )
        )
    return events


# -- METS ----------------------------------------------------------------------------------------
def mets_document(
    objid: str,
    label: str,
    unit_name: str,
    groups: dict[str, list[tuple[str, str, int, str]]],
    metadata: dict[str, tuple[str, str, int, str]],
    created: datetime,
) -> etree._Element:
    """``groups``: fileGrp USE -> [(path, sha256, size, media)]; ``metadata``: id -> (path, MDTYPE, size, sha256)."""
    root = etree.Element(
        _m("mets"),
        nsmap={"mets": METS_NS, "xlink": XLINK_NS, "xsi": XSI_NS},
        OBJID=objid,
        LABEL=label,
        TYPE="Mixed",
        PROFILE=SIP_PROFILE,
    )
    header = etree.SubElement(root, _m("metsHdr"), CREATEDATE=_iso(created), RECORDSTATUS="NEW")
    software = etree.SubElement(header, _m("agent"), ROLE="CREATOR", TYPE="OTHER", OTHERTYPE="SOFTWARE")
    etree.SubElement(software, _m("name")).text = SOFTWARE
    source = etree.SubElement(header, _m("agent"), ROLE="OTHER", OTHERROLE="PRODUCER", TYPE="ORGANIZATION")
    etree.SubElement(source, _m("name")).text = unit_name

    def md_ref(parent: etree._Element, path: str, mdtype: str, size: int, sha: str) -> None:
        attrs = {
            "LOCTYPE": "URL",
            f"{{{XLINK_NS}}}type": "simple",
            f"{{{XLINK_NS}}}href": path,
            "MIMETYPE": "text/csv" if path.endswith(".csv") else "text/xml",
            "SIZE": str(size),
            "CREATED": _iso(created),
            "CHECKSUM": sha,
            "CHECKSUMTYPE": "SHA-256",
        }
        if mdtype.startswith("OTHER:"):
            attrs.update(MDTYPE="OTHER", OTHERMDTYPE=mdtype.split(":", 1)[1])
        else:
            attrs["MDTYPE"] = mdtype
        etree.SubElement(parent, _m("mdRef"), attrs)

    dmd_ids, amd_ids = [], []
    for ident, (path, mdtype, size, sha) in metadata.items():
        if mdtype == "PREMIS":
            continue
        section = etree.SubElement(root, _m("dmdSec"), ID=ident, CREATED=_iso(created), STATUS="CURRENT")
        md_ref(section, path, mdtype, size, sha)
        dmd_ids.append(ident)
    amd = etree.SubElement(root, _m("amdSec"))
    for ident, (path, mdtype, size, sha) in metadata.items():
        if mdtype == "PREMIS":
            digiprov = etree.SubElement(amd, _m("digiprovMD"), ID=ident, STATUS="CURRENT")
            md_ref(digiprov, path, mdtype, size, sha)
            amd_ids.append(ident)
    file_sec = etree.SubElement(root, _m("fileSec"), ID="filesec")
    file_ids: dict[str, list[str]] = {}
    counter = 0
    for use, entries in groups.items():
        group = etree.SubElement(file_sec, _m("fileGrp"), USE=use, ID=f"grp-{len(file_ids) + 1}")
        for path, sha, size, media in entries:
            counter += 1
            ident = f"file-{counter}"
            file_el = etree.SubElement(
                group,
                _m("file"),
                ID=ident,
                MIMETYPE=media,
                SIZE=str(size),
                CREATED=_iso(created),
                CHECKSUM=sha,
                CHECKSUMTYPE="SHA-256",
            )
            etree.SubElement(
                file_el, _m("FLocat"), {"LOCTYPE": "URL", f"{{{XLINK_NS}}}type": "simple", f"{{{XLINK_NS}}}href": path}
            )
            file_ids.setdefault(use, []).append(ident)
    struct = etree.SubElement(root, _m("structMap"), TYPE="PHYSICAL", LABEL="CSIP", ID="structmap")
    top = etree.SubElement(struct, _m("div"), ID="div-root", LABEL=objid)
    etree.SubElement(
        top, _m("div"), ID="div-metadata", LABEL="Metadata", DMDID=" ".join(dmd_ids), ADMID=" ".join(amd_ids)
    )
    for n, (use, ids) in enumerate(file_ids.items(), start=1):
        div = etree.SubElement(top, _m("div"), ID=f"div-{n}", LABEL=use)
        for ident in ids:
            etree.SubElement(div, _m("fptr"), FILEID=ident)
    return root


# -- one package ---------------------------------------------------------------------------------
def export_unit_eark(
    archive: Archive,
    session: Session,
    unit_code: str,
    ids: list[int],
    target: Path,
    *,
    dossier: str = "",
    withheld: int = 0,
    label: str = "",
) -> UnitExport:
    """One E-ARK style SIP of one old unit's documents, in a folder named by its OBJID beside ``target``."""
    created = utcnow()
    objid = f"phong-{unit_code}-{created.strftime('%Y%m%dT%H%M%S')}"
    root = target.parent / objid
    result = UnitExport(unit_code=unit_code, path=root, withheld_left_out=withheld)
    root.mkdir(parents=True)
    unit = session.get(OldUnit, unit_code)
    unit_name = unit.name if unit else unit_code
    documents = load_documents(session, ids)
    data = root / REPRESENTATION
    copy_originals(archive, documents, data, result)
    descriptive = root / "metadata" / "descriptive"
    descriptive.mkdir(parents=True)
    lists = write_lists(session, unit_code, documents, descriptive, result)
    _write(fonds_dc(unit, unit_code, documents, label), descriptive / "dc.xml")
    known_media = {f.filename: f.media_type for d in documents for f in d.files if f.media_type}
    files = {}
    for rel in sorted(result.checksums):
        path = data / rel
        files[f"{REPRESENTATION}/{rel}"] = (
            result.checksums[rel],
            path.stat().st_size,
            _media_type(path, known_media),
            Path(rel).name,
        )
    events = _events(session, documents, result, created)
    _write(premis_document(files, events, unit_name), root / "metadata" / "preservation" / "premis.xml")
    documentation = root / "documentation"
    documentation.mkdir()
    write_record(
        documentation,
        result,
        label or f"don-vi-cu {unit_code}",
        dossier,
        prefix=f"{REPRESENTATION}/",
        more={f"metadata/descriptive/{name}": _sha256(descriptive / name) for name in lists},
    )
    metadata: dict[str, tuple[str, str, int, str]] = {}
    for ident, rel, mdtype in (
        ("dmd-dc", "metadata/descriptive/dc.xml", "DC"),
        ("dmd-documents", "metadata/descriptive/documents.csv", "OTHER:CSV-documents"),
        ("dmd-dossiers", "metadata/descriptive/ho_so.csv", "OTHER:CSV-ho_so"),
        ("premis-1", "metadata/preservation/premis.xml", "PREMIS"),
    ):
        path = root / rel
        if path.is_file():
            metadata[ident] = (rel, mdtype, path.stat().st_size, _sha256(path))
    groups = {
        "Representations/rep1/Data": [(path, sha, size, media) for path, (sha, size, media, _) in files.items()],
        "Documentation": [
            (
                f"documentation/{p.name}",
                _sha256(p),
                p.stat().st_size,
                "application/json" if p.suffix == ".json" else "text/plain",
            )
            for p in sorted(documentation.iterdir())
        ],
    }
    _write(mets_document(objid, f"Phông {unit_name}", unit_name, groups, metadata, created), root / "METS.xml")
    return result
