"""edXML messages (QCVN 102:2016/BTTTT and the older eDoc ``EdXMLEnvelope``): one document each.

Messages in the field differ in prefixes and nesting (``AttachmentEncoded`` is
sometimes outside the namespace, sometimes beside the envelope), so elements
are matched by local name.  Parsing goes through ``defusedxml``: no DTDs, no
entity expansion.  Attachments are base64, sometimes of a zip that wraps the
real file; such wrappers are opened (with the same safety rules as zipped
packages) and their members become the attachments.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeTree
from defusedxml.common import DefusedXmlException

from . import secrecy

NAMESPACES = ("http://www.mic.gov.vn/TBT/QCVN_102_2016", "http://www.go.vn/eDoc")
ROOT_NAMES = {"edXML", "edXMLEnvelope", "EdXMLEnvelope"}
_SAFE_NAME = re.compile(r"[^\w.\-() ]+", re.UNICODE)
OFFICE_ZIP_MARKERS = ("[Content_Types].xml", "mimetype")
# elements of the header that carry the độ mật, matched by lower-cased local name at any depth
# (QCVN 102:2016 systems differ: SecurityLevel, SecretLevel, Confidentiality, DoMat ...)
CONFIDENTIALITY_ELEMENTS = {
    "securitylevel",
    "secretlevel",
    "secret",
    "security",
    "confidentiality",
    "confidentiallevel",
    "classification",
    "domat",
    "mucdomat",
    "dobaomat",
}


class EdxmlError(ValueError):
    """The file claims to be an edXML message but cannot be read as one."""


@dataclass
class EdxmlAttachment:
    name: str
    content_type: str
    data: bytes = b""
    problem: str = ""


@dataclass
class EdxmlMessage:
    fields: dict[str, str] = field(default_factory=dict)  # contract column names (section 3)
    content: str = ""
    attachments: list[EdxmlAttachment] = field(default_factory=list)


def looks_like_edxml(head: bytes) -> bool:
    """Cheap test on the first bytes, before any parsing."""
    return any(ns.encode() in head for ns in NAMESPACES) and (b"edXML" in head or b"EdXML" in head)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(element: Element | None, name: str) -> list[Element]:
    return [c for c in (element if element is not None else []) if _local(c.tag) == name]


def _child(element: Element | None, name: str) -> Element | None:
    found = _children(element, name)
    return found[0] if found else None


def _find(root: Element, name: str) -> Element | None:
    for element in root.iter():
        if _local(element.tag) == name:
            return element
    return None


def _text(element: Element | None, *path: str) -> str:
    for name in path:
        element = _child(element, name)
    return " ".join((element.text or "").split()) if element is not None and element.text else ""


def _header_fields(header: Element) -> tuple[dict[str, str], str]:
    fields: dict[str, str] = {}

    def put(column: str, value: str) -> None:
        if value:
            fields[column] = value

    put("co_quan_ban_hanh", _text(header, "From", "OrganName"))
    put(
        "noi_nhan",
        "; ".join(filter(None, (_text(to, "OrganName") or _text(to, "OrganId") for to in _children(header, "To")))),
    )
    put("ma_van_ban", _text(header, "DocumentId"))
    code = _child(header, "Code")
    number = "/".join(filter(None, (_text(code, "CodeNumber"), _text(code, "CodeNotation"))))
    put("so_ky_hieu", number)
    put("ngay_ban_hanh", _text(header, "PromulgationInfo", "PromulgationDate"))
    put("loai_van_ban", _text(header, "DocumentType", "TypeName"))
    put("trich_yeu", _text(header, "Subject"))
    signer = _child(header, "SignerInfo")
    put("nguoi_ky", _text(signer, "FullName"))
    put("chuc_vu_nguoi_ky", _text(signer, "Position"))
    put(
        "do_khan",
        {"0": "", "1": "Khẩn", "2": "Thượng khẩn", "3": "Hỏa tốc"}.get(
            _text(header, "OtherInfo", "Priority"), _text(header, "OtherInfo", "Priority")
        ),
    )
    put("so_trang", _text(header, "OtherInfo", "PageAmount"))
    put("do_mat", _confidentiality(header))
    content = _child(header, "Content")
    body = "\n".join(line.strip() for line in (content.text or "").splitlines()) if content is not None else ""
    return fields, body.strip()


def _confidentiality(header: Element) -> str:
    """The header's độ mật: a confidentiality element (``0`` is the ordinary level), or a secrecy
    mark written as the SphereOfPromulgation (phạm vi lưu hành); fails closed on any other value."""
    for element in header.iter():
        name, value = _local(element.tag), " ".join(" ".join(element.itertext()).split())
        if name.lower() in CONFIDENTIALITY_ELEMENTS and secrecy.compact(value) not in secrecy.EDXML_NOT_SECRET:
            return value
        if name == "SphereOfPromulgation" and secrecy.mark_in_line(value):
            return value
    return ""


def _decode(encoded: str, max_bytes: int) -> bytes:
    compact = re.sub(r"\s+", "", encoded or "")
    if len(compact) * 3 // 4 > max_bytes:
        raise EdxmlError(f"tệp đính kèm quá lớn (> {max_bytes} byte)")
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as error:
        raise EdxmlError(f"base64 hỏng: {error}") from None


def _unwrap(attachment: EdxmlAttachment, max_bytes: int) -> list[EdxmlAttachment]:
    """A zip that is not itself an office file is a wrapper: its members are the attachments."""
    data = attachment.data
    if not data.startswith(b"PK\x03\x04"):
        return [attachment]
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as wrapper:
            names = wrapper.namelist()
            if any(marker in names for marker in OFFICE_ZIP_MARKERS):
                return [attachment]
            members = [i for i in wrapper.infolist() if not i.is_dir()]
            out = []
            for info in members:
                if ".." in Path(info.filename).parts or info.filename.startswith("/") or info.file_size > max_bytes:
                    out.append(EdxmlAttachment(info.filename, "", problem="Tệp trong gói nén của đính kèm bị từ chối"))
                    continue
                name = attachment.name if len(members) == 1 else f"{attachment.name}/{Path(info.filename).name}"
                if len(members) == 1 and Path(info.filename).suffix and not Path(name).suffix:
                    name += Path(info.filename).suffix
                out.append(EdxmlAttachment(name, attachment.content_type, wrapper.read(info)))
            return out or [EdxmlAttachment(attachment.name, attachment.content_type, problem="Gói nén đính kèm rỗng")]
    except zipfile.BadZipFile:
        return [attachment]


def safe_filename(name: str, fallback: str) -> str:
    name = Path((name or "").replace("\\", "/")).name
    name = _SAFE_NAME.sub("_", name).strip(" .")
    return name[:150] or fallback


def parse(path: Path, *, max_attachment_bytes: int = 512 * 1024 * 1024) -> EdxmlMessage:
    try:
        root = SafeTree.parse(str(path), forbid_dtd=True).getroot()
    except (SafeTree.ParseError, DefusedXmlException) as error:
        raise EdxmlError(f"XML không hợp lệ hoặc không an toàn: {error}") from None
    if _local(root.tag) not in ROOT_NAMES:
        raise EdxmlError(f"phần tử gốc {_local(root.tag)!r} không phải edXML")
    header = _find(root, "MessageHeader")
    if header is None:
        raise EdxmlError("thiếu MessageHeader")
    fields, content = _header_fields(header)
    message = EdxmlMessage(fields=fields, content=content)

    references = {}
    manifest = _find(root, "edXMLManifest")
    if manifest is None:
        manifest = _find(root, "Manifest")
    for reference in _children(manifest, "Reference"):
        references[_text(reference, "ContentId")] = (
            _text(reference, "AttachmentName"),
            _text(reference, "ContentType"),
        )
    encoded = _find(root, "AttachmentEncoded")
    seen: set[str] = set()
    for index, item in enumerate(_children(encoded, "Attachment"), start=1):
        content_id = _text(item, "ContentId")
        name, content_type = references.get(content_id, ("", ""))
        name = safe_filename(name or _text(item, "AttachmentName"), f"dinh-kem-{index}")
        content_type = content_type or _text(item, "ContentType")
        payload = _child(item, "ContentTransferEncoded")
        seen.add(content_id)
        try:
            data = _decode((payload.text or "") if payload is not None else "", max_attachment_bytes)
            if not data:
                raise EdxmlError("đính kèm rỗng")
            message.attachments.extend(_unwrap(EdxmlAttachment(name, content_type, data), max_attachment_bytes))
        except EdxmlError as error:
            message.attachments.append(EdxmlAttachment(name, content_type, problem=f"Đính kèm edXML hỏng: {error}"))
    for content_id, (name, content_type) in references.items():
        if content_id not in seen:
            message.attachments.append(
                EdxmlAttachment(
                    safe_filename(name, content_id or "dinh-kem"),
                    content_type,
                    problem="Đính kèm có trong edXMLManifest nhưng thiếu dữ liệu",
                )
            )
    return message
