"""A demo export of a few real Hưng Yên old units, ingested, with demo accounts.

Used by ``make run`` (``python -m specimens.demo``): the mapping is the real one shipped in
``archive_core/data``; the documents are specimens rendered in the NĐ30
layout, as born-digital PDFs and as scans, in BagIt bags as the contract says.
"""
from __future__ import annotations

import csv
import random
from dataclasses import dataclass, replace
from pathlib import Path

import bagit
import click
from rich.console import Console
from sqlalchemy import select

from archive_core import UNITS_MAPPING_CSV
from archive_core.context import Archive
from archive_core.db.models import Account
from archive_core.settings import Settings
from archive_portal.services.accounts import create_account
from archive_portal.services.units import import_mapping
from ingest.pipeline import IngestOptions, ingest_package
from ingest.report import build_report

from .generated import make_specimens, render_pdf, render_scan
from .signing import Identity, TestCA, sign_pdf

UNITS_CSV = UNITS_MAPPING_CSV


@dataclass(frozen=True)
class DemoUnit:
    code: str
    name: str
    level: str
    parent_code: str
    issuer: str


DEMO_UNITS = (
    # eight old units of the real mapping, over three new ones and two old districts
    DemoUnit("11950", "Phường Lam Sơn", "xa", "323", "UBND phường Lam Sơn"),
    DemoUnit("11956", "Phường An Tảo", "xa", "323", "UBND phường An Tảo"),
    DemoUnit("11953", "Phường Hiến Nam", "xa", "323", "UBND phường Hiến Nam"),
    DemoUnit("11989", "Xã Lạc Đạo", "xa", "325", "UBND xã Lạc Đạo"),
    DemoUnit("11995", "Xã Đại Đồng", "xa", "325", "UBND xã Đại Đồng"),
    DemoUnit("11998", "Xã Việt Hưng", "xa", "325", "UBND xã Việt Hưng"),
    DemoUnit("323", "Thành phố Hưng Yên", "huyen", "", "UBND thành phố Hưng Yên"),
    DemoUnit("325", "Huyện Văn Lâm", "huyen", "", "UBND huyện Văn Lâm"),
)
DEMO_YEARS = (2019, 2020, 2021, 2022, 2023, 2024, 2025)
SCAN_EVERY = 12  # one document in twelve is a scan: a few dozen OCR pages keep `make run` short
BORN_DIGITAL_PAGES = (1, 1, 1, 2, 2, 3, 4)
DEMO_ACCOUNTS = (
    # username, role, new unit, password (demo only: printed on the console)
    ("quantri", "admin", None, "HungYen-2025-qt1"),
    ("luutru", "archivist", None, "HungYen-2025-lt2"),
    ("sonnam", "lookup", "11983", "HungYen-2025-sn3"),
    ("phohien", "lookup", "11953", "HungYen-2025-ph4"),
    ("daidong", "lookup", "11995", "HungYen-2025-dd5"),
)
SCAN_FORMATS = ("pdf", "png", "tiff")


DEMO_ROOTS = "chung-thu-goc-trinh-dien.pem"  # the demo CA's root, beside the bags


@dataclass(frozen=True)
class DemoSigning:
    ca: TestCA
    official: Identity
    tsa: Identity


def _dossier_list(package: Path, unit: DemoUnit, year: int) -> None:
    """Two dossiers (hồ sơ) per unit: one kept permanently and open, one restricted (chế độ sử dụng Hạn chế)."""
    rows = [
        {"ma_ho_so": f"{unit.code}.{year}.01", "tieu_de": f"Hồ sơ sắp xếp đơn vị hành chính năm {year}",
         "thoi_han_bao_quan": "Vĩnh viễn", "che_do_su_dung": "Không hạn chế", "muc_do_tin_cay": "Bản chính",
         "nguoi_lap": "Nguyễn Văn A", "ngay_bat_dau": f"02/01/{year}", "ngay_ket_thuc": f"30/12/{year}",
         "tu_khoa": "sắp xếp; đơn vị hành chính"},
        {"ma_ho_so": f"{unit.code}.{year}.02", "tieu_de": f"Hồ sơ nhân sự cán bộ dôi dư năm {year}",
         "thoi_han_bao_quan": "20 năm", "che_do_su_dung": "Hạn chế", "muc_do_tin_cay": "Bản chính",
         "nguoi_lap": "Trần Thị B", "ngay_bat_dau": f"02/01/{year}", "ngay_ket_thuc": f"30/12/{year}",
         "tu_khoa": "nhân sự"},
    ]
    with open(package / "ho_so.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def build_demo_package(dest: Path, unit: DemoUnit, *, count: int, seed: int,
                       signing: DemoSigning | None = None) -> Path:
    """Write one BagIt bag for ``unit``: a manifest, a dossier list, born-digital PDFs (the first two
    digitally signed), scans and one secret document."""
    package = dest / f"goi-{unit.code}"
    if (package / "bagit.txt").exists():
        return package
    files_dir = package / "files"
    files_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    years = DEMO_YEARS[-max(1, min(len(DEMO_YEARS), count // 8 or 1)):]  # several years once there are enough
    specimens = []
    for n, year in enumerate(years):
        share = count // len(years) + (1 if n < count % len(years) else 0)
        specimens += make_specimens(share, seed=seed * 100 + year, issuer=unit.issuer, place="Hưng Yên", year=year)
    dossier_year = specimens[-1].issued.year
    rows = []
    for index, spec in enumerate(specimens, start=1):
        is_scan = index % SCAN_EVERY == 0 or (count < SCAN_EVERY and index == 3)
        if is_scan:
            fmt = SCAN_FORMATS[(index // SCAN_EVERY) % len(SCAN_FORMATS)]
            name = f"files/vb-{index:03d}-scan.{'tif' if fmt == 'tiff' else fmt}"
            render_scan(spec, package / name, fmt=fmt, dpi=200, pages=1 if fmt == "png" else rng.choice((1, 2)))
        else:
            name = f"files/vb-{index:03d}.pdf"
            render_pdf(spec, package / name, pages=rng.choice(BORN_DIGITAL_PAGES))
            if signing is not None and index <= 2:  # issued through eOffice: the issuing body's signature
                target = package / name
                target.write_bytes(sign_pdf(target.read_bytes(), signing.ca, signing.official, tsa=signing.tsa))
        secret = index == len(specimens)  # the last one of each unit is marked secret: withheld
        in_dossier = spec.issued.year == dossier_year
        rows.append({
            "ma_van_ban": f"{unit.code}-{spec.issued.year}-{index:05d}",
            "huong": rng.choice(["di", "den", "di"]),
            # scans keep an empty number and subject: the archive reads them from the text
            "so_ky_hieu": "" if is_scan else spec.number,
            "ngay_ban_hanh": "" if is_scan else spec.issued.strftime("%d/%m/%Y"),
            "loai_van_ban": spec.doc_type,
            "trich_yeu": "" if is_scan else spec.subject,
            "co_quan_ban_hanh": spec.issuer,
            "nguoi_ky": spec.signer,
            "chuc_vu_nguoi_ky": spec.signer_title,
            "do_mat": "Mật" if secret else "",
            "ma_ho_so": f"{unit.code}.{dossier_year}.{'02' if index % 4 == 0 else '01'}" if in_dossier else "",
            "so_thu_tu": str(index) if in_dossier else "",
            "tep_dinh_kem": name,
        })
    with open(package / "documents.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    _dossier_list(package, unit, dossier_year)
    bagit.make_bag(str(package), bag_info={
        "Source-Organization": f"{unit.issuer}",
        "Unit-Code": unit.code,
        "Unit-Level": unit.level,
        "Parent-Unit-Code": unit.parent_code,
        "Source-System": "eOffice (bản trình diễn)",
        "Export-Date": "2025-06-28",
        "Contact-Name": "Nguyễn Văn A",
    }, checksums=["sha256"])
    return package


def build_demo_export(dest: Path, *, per_unit: int = 50, seed: int = 2025) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    signing = None
    if not (dest / DEMO_ROOTS).exists():  # a demo CA of our own; its root is written for ARCHIVE_TRUST_ROOTS
        ca = TestCA("Root CA trình diễn")
        signing = DemoSigning(ca, ca.issue("Nguyễn Văn Hùng", "UBND tỉnh Hưng Yên"),
                              ca.issue("Dịch vụ cấp dấu thời gian trình diễn", timestamping=True))
        ca.write_roots(dest / DEMO_ROOTS)
    return [build_demo_package(dest, unit, count=per_unit, seed=seed + i, signing=signing)
            for i, unit in enumerate(DEMO_UNITS)]


def setup_demo(archive: Archive, dest: Path, *, per_unit: int = 50, console: Console | None = None) -> None:
    console = console or Console()
    with archive.db.transaction() as session:
        result = import_mapping(session, UNITS_CSV, loaded_by="demo")
    console.print(f"Đơn vị: {result.old_units} đơn vị cũ → {result.new_units} đơn vị mới (phiên bản #{result.version_id})")
    packages = build_demo_export(dest, per_unit=per_unit)
    if not archive.settings.trust_roots:  # the demo's signatures check against the demo CA
        archive.settings = replace(archive.settings, trust_roots=str(dest / DEMO_ROOTS))
        console.print(f"Chứng thư gốc trình diễn: {dest / DEMO_ROOTS} (đặt ARCHIVE_TRUST_ROOTS như vậy để "
                      "archive verify giữ kết quả kiểm tra chữ ký số)")
    for package in packages:
        package_id = ingest_package(archive, package, IngestOptions())
        report = build_report(archive, package_id)
        counts = ", ".join(f"{k}={v}" for k, v in report["counts"].items())
        console.print(f"Đã nhập {package.name}: {counts}")
    create_demo_accounts(archive, console)


def create_demo_accounts(archive: Archive, console: Console) -> None:
    """Create the demo accounts that do not exist yet; any other refusal is an error, not hidden."""
    console.print("Tài khoản trình diễn (chỉ dùng thử trên máy này):")
    for username, role, unit, password in DEMO_ACCOUNTS:
        with archive.db.transaction() as session:
            exists = session.scalar(select(Account.id).where(Account.username == username)) is not None
            if not exists:
                account, _ = create_account(session, username=username, role=role, new_unit_code=unit, password=password)
                account.must_change_password = False  # demo passwords are printed for trying the portal at once
        scope = f"đơn vị mới {unit}" if unit else "xem tất cả"
        console.print(f"  {username:10s} / {password:20s} {role:9s} {scope} ({'đã có' if exists else 'mới tạo'})")


@click.command()
@click.option("--dest", type=click.Path(path_type=Path), default=None, help="Where to write the demo export.")
@click.option("--documents", "per_unit", type=int, default=50, help="Documents per old unit (8 units).")
def main(dest: Path | None, per_unit: int) -> None:
    """Load the real Hưng Yên units, build a demo export, ingest it and create demo accounts."""
    archive = Archive.open(Settings.load())
    try:
        setup_demo(archive, dest or archive.settings.home / "demo-export", per_unit=per_unit)
    finally:
        archive.close()


if __name__ == "__main__":
    main()
