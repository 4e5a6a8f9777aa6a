"""Several documents in one zip: stamped copies for accounts that get copies, originals for the others.

All or nothing on scope: one id that is missing, withheld or outside the caller's scope makes
the whole request "not found", exactly like opening that one document. A file that cannot be
stamped is left out (never sent unstamped) and named in the list inside the zip.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from typing import IO

from sqlalchemy.orm import Session

from archive_core.context import Archive
from archive_core.errors import UserError
from archive_core.filenames import download_name

from .documents import deliver_file, get_document
from .stamp import Stamp, StampError

MAX_BULK_DOCUMENTS = 50  # documents in one zip (stamping is CPU work on a shared server)


class BulkRefused(UserError):
    """Too many or no documents chosen; the message is Vietnamese and shown as is."""


@dataclass
class BulkZip:
    stream: IO[bytes]
    documents: list[int] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # sha256 of each file sent
    left_out: list[str] = field(default_factory=list)  # "name: reason"
    stamped: bool = False


def parse_ids(values: list[str]) -> list[int]:
    """Distinct positive ids in the order given; refused when none, not numbers, or more than the cap."""
    if len(values) > 10 * MAX_BULK_DOCUMENTS:
        raise BulkRefused(f"Mỗi lần tải tối đa {MAX_BULK_DOCUMENTS} văn bản; hãy chọn ít hơn.")
    out: list[int] = []
    for value in values:
        text = str(value).strip()[:20]
        if not text.isdigit():
            raise BulkRefused("Mã văn bản không hợp lệ.")
        if int(text) not in out:
            out.append(int(text))
    if not out:
        raise BulkRefused("Chưa chọn văn bản nào để tải về.")
    if len(out) > MAX_BULK_DOCUMENTS:
        raise BulkRefused(f"Mỗi lần tải tối đa {MAX_BULK_DOCUMENTS} văn bản (đã chọn {len(out)}); hãy chọn ít hơn.")
    return out


def _folder(number: str, ma_van_ban: str, doc_id: int) -> str:
    label = download_name((number or ma_van_ban or "van-ban").replace("/", "-"))
    return f"{doc_id:06d}-{label}"[:80]


def build_zip(
    session: Session, archive: Archive, ids: list[int], scope: frozenset[str] | None, stamp: Stamp | None
) -> BulkZip | None:
    """The zip of the documents ``ids`` (None if one of them is not visible to ``scope``)."""
    docs = [get_document(session, archive, doc_id, scope) for doc_id in ids]
    if any(doc is None for doc in docs):
        return None
    out = tempfile.TemporaryFile(dir=archive.settings.scratch_dir, prefix="bulk-")  # noqa: SIM115 (the response closes it)
    result = BulkZip(stream=out, stamped=stamp is not None)
    try:
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive_zip:
            lines = ["Danh sách văn bản trong tệp nén", ""]
            for doc in docs:
                assert doc is not None
                folder = _folder(doc.number, doc.ma_van_ban, doc.id)
                result.documents.append(doc.id)
                lines.append(f"{folder}: {doc.number or doc.ma_van_ban} — {doc.subject}")
                for f in doc.files:
                    if not f.available:
                        result.left_out.append(f"{folder}/{f.filename}: không có bản gốc")
                        continue
                    try:
                        delivery = deliver_file(session, archive, doc.id, f.id, scope, stamp)
                    except StampError as error:
                        result.left_out.append(f"{folder}/{f.filename}: không đóng dấu được ({error})")
                        continue
                    if delivery is None:
                        continue
                    with archive_zip.open(f"{folder}/{delivery.filename}", "w") as target:
                        if delivery.stream is not None:
                            with delivery.stream as source:
                                shutil.copyfileobj(source, target)
                        elif delivery.path is not None:
                            with open(delivery.path, "rb") as source:
                                shutil.copyfileobj(source, target)
                    result.files.append(delivery.sha256)
                    lines.append(f"  {delivery.filename}" + (" (bản sao có đóng dấu)" if delivery.stamped else ""))
            if result.left_out:
                lines += ["", "Không có trong tệp nén:", *(f"  {item}" for item in result.left_out)]
            archive_zip.writestr("DANH-SACH.txt", "\n".join(lines) + "\n")
        out.seek(0)
    except BaseException:
        out.close()
        raise
    return result
