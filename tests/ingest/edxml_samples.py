"""Write edXML messages (QCVN 102:2016 and the older eDoc envelope) the way exchanging systems do."""
from __future__ import annotations

import base64
import io
import uuid
import zipfile
from xml.etree import ElementTree as ET

QCVN = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
EDOC = "http://www.go.vn/eDoc"


def _sub(parent: ET.Element, ns: str, name: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ns}}}{name}")
    if text is not None:
        element.text = text
    return element


def _zipped(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as wrapper:
        wrapper.writestr(f"{uuid.uuid4()}{name[name.rfind('.'):] if '.' in name else ''}", data)
    return buffer.getvalue()


def message_bytes(spec, attachments: list[tuple[str, bytes]], *, document_id: str, zipped: bool = False,
                  legacy: bool = False, content: str | None = None) -> bytes:
    """A message for a ``Specimen``: header from its fields, attachments base64 (zip-wrapped if asked)."""
    ns = EDOC if legacy else QCVN
    ET.register_namespace("edXML", ns)
    root = ET.Element(f"{{{ns}}}{'EdXMLEnvelope' if legacy else 'edXML'}")
    envelope = root if legacy else _sub(root, ns, "edXMLEnvelope")
    header = _sub(_sub(envelope, ns, "edXMLHeader"), ns, "MessageHeader")
    sender = _sub(header, ns, "From")
    _sub(sender, ns, "OrganId", "000.00.33.H31")
    _sub(sender, ns, "OrganName", spec.issuer)
    for recipient in spec.recipients[:2]:
        _sub(_sub(header, ns, "To"), ns, "OrganName", recipient)
    _sub(header, ns, "DocumentId", document_id)
    code = _sub(header, ns, "Code")
    number, _, notation = spec.number.partition("/")
    _sub(code, ns, "CodeNumber", number)
    _sub(code, ns, "CodeNotation", notation)
    promulgation = _sub(header, ns, "PromulgationInfo")
    _sub(promulgation, ns, "Place", spec.place)
    _sub(promulgation, ns, "PromulgationDate", spec.issued.strftime("%Y/%m/%d"))
    kind = _sub(header, ns, "DocumentType")
    _sub(kind, ns, "Type", "1")
    _sub(kind, ns, "TypeName", spec.doc_type)
    _sub(header, ns, "Subject", spec.subject)
    _sub(header, ns, "Content", content if content is not None else "\n".join(spec.body_paragraphs[:1]))
    signer = _sub(header, ns, "SignerInfo")
    _sub(signer, ns, "Competence", spec.authority or "")
    _sub(signer, ns, "Position", spec.signer_title)
    _sub(signer, ns, "FullName", spec.signer)
    other = _sub(header, ns, "OtherInfo")
    _sub(other, ns, "Priority", "0")
    _sub(other, ns, "PageAmount", "1")
    body = _sub(envelope, ns, "edXMLBody")
    manifest = _sub(body, ns, "edXMLManifest")
    encoded = ET.SubElement(root, "AttachmentEncoded")  # outside the namespace, as often in the field
    for name, data in attachments:
        content_id = f"cid:{uuid.uuid4()}"
        reference = _sub(manifest, ns, "Reference")
        _sub(reference, ns, "ContentId", content_id)
        _sub(reference, ns, "ContentType", "application/pdf")
        _sub(reference, ns, "AttachmentName", name)
        item = ET.SubElement(encoded, "Attachment")
        ET.SubElement(item, "ContentId").text = content_id
        payload = _zipped(name, data) if zipped else data
        _sub(item, ns, "ContentTransferEncoded", base64.b64encode(payload).decode())
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
