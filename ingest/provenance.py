"""Whose package is this: its ``Unit-Code`` must be an old unit of the loaded units mapping.

A code the mapping does not know is refused with the reason (a typing slip
would file the documents under nobody, or under the wrong unit), unless the
archivist passes ``--allow-unknown-unit``: then it goes in with a warning.  An
archive with no mapping loaded at all cannot check: the package goes in with a
warning (no lookup account can exist before the mapping, so nothing is shown).
"""

from __future__ import annotations

from sqlalchemy import func, select

from archive_core.context import Archive
from archive_core.db.models import OldUnit

from .packages import PackageContents, PackageRefused

NO_MAPPING = "Chưa nạp danh mục đơn vị (archive units import): chưa kiểm tra được Unit-Code"


def check_unit(archive: Archive, contents: PackageContents, *, allow_unknown: bool = False) -> None:
    """Raise PackageRefused for an unknown Unit-Code (or add a warning, if allowed or not checkable)."""
    code = contents.unit_code
    with archive.db.session() as session:
        if not session.scalar(select(func.count()).select_from(OldUnit)):
            contents.warnings.append(NO_MAPPING)
            return
        if session.get(OldUnit, code) is not None:
            return
    if allow_unknown:
        contents.warnings.append(
            f"Unit-Code {code} không có trong danh mục đơn vị: lưu trữ viên đã cho phép nhập "
            "(--allow-unknown-unit); tài khoản tra cứu chưa thấy văn bản của gói này"
        )
        return
    raise PackageRefused(
        f"Unit-Code {code} không có trong danh mục đơn vị đã nạp: kiểm tra lại bag-info.txt (hoặc --unit), nạp "
        "danh mục mới (archive units import), hoặc chạy lại với --allow-unknown-unit",
        facts={"bag_info": contents.bag_info},
    )
