"""An edXML message in a document: its header fills empty fields, its content and attachments become files."""

from __future__ import annotations

import posixpath

from archive_core.db.models import Document, DocumentFile, Page

from .. import secrecy
from ..fields import COLUMN_TO_ATTRIBUTE
from ..manifests import Row
from .documents import document_from_row
from .run import IngestRun
from .store_originals import EDXML_MEDIA_TYPE


def edxml_files(run: IngestRun, document: Document, position: int, rel: str) -> list[DocumentFile]:
    """The message itself (its Content as text) and each decoded attachment, in order."""
    message = run.state.edxml[rel]
    info = run.state.files[rel]
    carrier = DocumentFile(
        document=document,
        position=position,
        path_in_package=rel,
        filename=posixpath.basename(rel),
        blob_sha256=info.sha256,
        media_type=EDXML_MEDIA_TYPE,
        status="extracted",
        page_count=1 if message.content else 0,
        reason="Thông điệp edXML: siêu dữ liệu và trích yếu nội dung",
    )
    if message.content:
        carrier.pages.append(Page(number=1, text=message.content, method="text"))
    files = [carrier]
    for offset, (key, name) in enumerate(message.attachments, start=1):
        attachment = run.state.derived[key]
        if attachment.refused:
            document.flags = [*document.flags, f"Đính kèm edXML bị từ chối: {name}: {attachment.refused}"]
            files.append(
                DocumentFile(
                    document=document,
                    position=position + offset,
                    path_in_package=key,
                    filename=name,
                    status="refused",
                    reason=attachment.refused,
                )
            )
        else:
            files.append(
                DocumentFile(
                    document=document,
                    position=position + offset,
                    path_in_package=key,
                    filename=name,
                    blob_sha256=attachment.sha256,
                    media_type=attachment.media_type,
                    status="pending",
                )
            )
    return files


def apply_edxml_fields(run: IngestRun, document: Document, rel: str) -> None:
    """Fill the fields the manifest left empty from the message header (source: edxml)."""
    sources = dict(document.field_sources or {})
    from_message = document_from_row(
        Row(line=0, values=run.state.edxml[rel].fields),
        package_id=run.package_id,
        unit_code=run.contents.unit_code,
        source="thông điệp edXML",
    )
    for attribute in (*COLUMN_TO_ATTRIBUTE.values(), "issued_date", "number_norm"):
        if attribute == "ma_van_ban":
            continue
        value = getattr(from_message, attribute)
        if value not in (None, "") and not getattr(document, attribute):
            setattr(document, attribute, value)
            if attribute in from_message.field_sources:
                sources[attribute] = "edxml"
    document.field_sources = sources
    document.flags = [*document.flags, *(f"edXML: {flag}" for flag in from_message.flags)]
    if from_message.withheld and not document.withheld:
        secrecy.mark_withheld(document, from_message.withheld_reason, from_message.confidentiality)
