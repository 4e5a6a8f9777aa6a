"""A manifest row (or an edXML header read as one) as a ``Document``: fields normalised, sources noted."""

from __future__ import annotations

from archive_core.db.models import Document
from indexes.fold import normalize_number

from .. import secrecy
from ..fields import COLUMN_TO_ATTRIBUTE, normalize_direction, parse_date
from ..manifests import Row
from ..metadata import normalize_doc_type


def document_from_row(row: Row, *, package_id: int, unit_code: str, source: str = "bảng kê") -> Document:
    """The document a row describes; what cannot be read is kept as given and flagged."""
    values = row.values
    document = Document(
        package_id=package_id,
        unit_code=unit_code,
        ma_van_ban=row.key,
        origin="manifest",
        flags=[],
        extra=dict(row.extra),
        field_sources={},
    )
    sources: dict[str, str] = {}
    for column, attribute in COLUMN_TO_ATTRIBUTE.items():
        value = values.get(column, "")
        if not value or attribute == "ma_van_ban":
            continue
        if attribute == "page_count":
            if value.isdigit():
                document.page_count = int(value)
            else:
                document.flags.append(f"so_trang không phải số: {value}")
                document.extra["so_trang"] = value
            continue
        setattr(document, attribute, value)
        sources[attribute] = "manifest"
    for column in ("so_den", "ngay_den"):
        if values.get(column):
            document.extra[column] = values[column]
    if document.direction:
        raw = document.direction
        document.direction = normalize_direction(raw)
        if not document.direction:
            document.flags.append(f"Hướng văn bản không rõ: {raw}")
            document.extra["huong"] = raw
    if document.doc_type:
        document.doc_type = normalize_doc_type(document.doc_type)
    if document.number:
        document.number_norm = normalize_number(document.number)
    if document.issued_date_raw:
        document.issued_date = parse_date(document.issued_date_raw)
        if document.issued_date is None:
            document.flags.append(f"Ngày ban hành không đọc được, giữ nguyên: {document.issued_date_raw}")
        else:
            sources["issued_date"] = "manifest"
    secret = secrecy.from_manifest(document.confidentiality, source)  # fails closed: anything but empty/Thường
    if secret is not None:
        secrecy.mark_withheld(document, secret.reason, secret.level)
    document.field_sources = sources
    return document
