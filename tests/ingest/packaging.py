"""Build export packages for tests: real bags (``bagit``), real PDFs and scans (``specimens``)."""
from __future__ import annotations

import csv
from pathlib import Path

import bagit

COLUMNS = ["ma_van_ban", "huong", "so_ky_hieu", "ngay_ban_hanh", "loai_van_ban", "trich_yeu",
           "co_quan_ban_hanh", "nguoi_ky", "do_mat", "tep_dinh_kem"]


def row_for(spec, key: str, attachment: str = "", **overrides) -> dict:
    row = {
        "ma_van_ban": key, "huong": "di", "so_ky_hieu": spec.number,
        "ngay_ban_hanh": spec.issued.strftime("%d/%m/%Y"), "loai_van_ban": spec.doc_type,
        "trich_yeu": spec.subject, "co_quan_ban_hanh": spec.issuer, "nguoi_ky": spec.signer,
        "do_mat": "", "tep_dinh_kem": attachment,
    }
    row.update(overrides)
    return row


def write_package(root: Path, rows: list[dict], *, unit_code: str = "11950", bag: bool = True,
                  unit_level: str = "xa", parent: str = "323") -> Path:
    """Write ``documents.csv`` into ``root`` (whose ``files/`` the caller filled) and bag it."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "documents.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in COLUMNS})
    if bag:
        bagit.make_bag(str(root), bag_info={
            "Source-Organization": "UBND phường Lam Sơn", "Unit-Code": unit_code, "Unit-Level": unit_level,
            "Parent-Unit-Code": parent, "Export-Date": "2025-06-28",
        }, checksums=["sha256"])
    return root
