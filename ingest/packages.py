"""Open an export package (contract sections 1-2) and say what is in it.

Forms handled here: a BagIt bag (validated with ``bagit``), the same layout
without the BagIt files (checksums computed on arrival, flagged unverified),
and a loose folder with no manifest (each file becomes a document).
"""

from __future__ import annotations

import hashlib
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import bagit

from . import unzip
from .dossier_list import find_dossier_list
from .manifests import Manifest, find_manifest, read_manifest

BAG_INFO_UNIT_TAGS = ("Unit-Code",)
# administrative-unit codes (12523) and agency e-ID codes (000.00.23.H31): nothing that could reach a header or a path
UNIT_CODE = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,31}")
IGNORED_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini", ".unpacked"}
IGNORED_DIRS = {"__MACOSX"}
# A payload smaller than this is checked in this process: bagit's pool of processes costs more to start
# (~40 ms and their imports) than it saves on hashing a few tens of MB.
BAG_POOL_BYTES = 64 * 1024 * 1024


class PackageRefused(Exception):
    """The whole package cannot be ingested; ``problems`` lists why, file by file if relevant."""

    def __init__(self, reason: str, problems: list[dict] | None = None, facts: dict | None = None):
        super().__init__(reason)
        self.reason = reason
        self.problems = problems or []
        self.facts = facts or {}


@dataclass
class PackageContents:
    source: Path
    payload: Path
    form: str  # bag | folder | loose
    verified: bool
    unit_code: str
    bag_info: dict[str, str]
    manifest: Manifest | None
    files: list[str]  # payload-relative POSIX paths of every file except the manifest
    warnings: list[str] = field(default_factory=list)
    refused_members: list[tuple[str, str]] = field(default_factory=list)  # zip members refused, with reasons
    scratch: Path | None = None  # where a zip was unpacked; removed when the ingest is complete
    dossier_list: Path | None = None  # ho_so.* (contract 3a), read by ``ingest.dossiers``

    @property
    def source_organization(self) -> str:
        return self.bag_info.get("Source-Organization", "")

    @property
    def unit_level(self) -> str:
        return self.bag_info.get("Unit-Level", "")

    @property
    def parent_unit_code(self) -> str:
        return self.bag_info.get("Parent-Unit-Code", "")

    def fingerprint(self) -> str:
        """Identifies the same package handed in again (same unit, same payload listing)."""
        digest = hashlib.sha256(self.unit_code.encode())
        for rel in sorted(self.files):
            digest.update(rel.encode("utf-8", "surrogateescape"))
            digest.update(str((self.payload / rel).stat().st_size).encode())
        if self.manifest is not None:
            digest.update(self.manifest.path.read_bytes())
        return digest.hexdigest()


def _read_bag_info(path: Path) -> dict[str, str]:
    info_file = path / "bag-info.txt"
    if not info_file.is_file():
        return {}
    info: dict[str, str] = {}
    last = None
    for line in info_file.read_text(encoding="utf-8-sig", errors="replace").splitlines():
        if line[:1] in (" ", "\t") and last:
            info[last] += " " + line.strip()
        elif ":" in line:
            key, value = line.split(":", 1)
            last = key.strip()
            info[last] = value.strip()
    return info


def _bag_problems(error: bagit.BagValidationError) -> list[dict]:
    problems = []
    for detail in getattr(error, "details", None) or []:
        if isinstance(detail, bagit.ChecksumMismatch):
            problems.append(
                {
                    "path": detail.path,
                    "problem": "mismatch",
                    "reason": f"Sai mã kiểm tra {detail.algorithm}: mong đợi {detail.expected}, thực tế {detail.found}",
                }
            )
        elif isinstance(detail, bagit.FileMissing):
            problems.append(
                {"path": detail.path, "problem": "missing", "reason": "Tệp có trong manifest nhưng thiếu trong gói"}
            )
        elif isinstance(detail, bagit.UnexpectedFile):
            problems.append(
                {"path": detail.path, "problem": "extra", "reason": "Tệp có trong gói nhưng không có trong manifest"}
            )
        else:
            problems.append({"path": "", "problem": "other", "reason": str(detail)})
    if not problems:
        problems.append({"path": "", "problem": "other", "reason": str(error)})
    # a missing file also fails its checksum: report each path once, missing first
    order = {"missing": 0, "extra": 1, "mismatch": 2, "other": 3}
    unique: dict[str, dict] = {}
    for problem in sorted(problems, key=lambda p: order[p["problem"]]):
        unique.setdefault(problem["path"] or problem["reason"], problem)
    return list(unique.values())


def _detailed_errors(bag: bagit.Bag, error: bagit.BagValidationError, workers: int) -> bagit.BagValidationError:
    """bagit stops at a Payload-Oxum mismatch without naming files: ask for every file's problem."""
    if getattr(error, "details", None):
        return error
    details: list = []
    for check in (bag._validate_completeness, lambda: bag._validate_entries(max(1, workers))):
        try:
            check()
        except bagit.BagValidationError as detailed:
            details.extend(detailed.details or [])
    return bagit.BagValidationError(str(error), details) if details else error


def _hashing_processes(bag_info: dict[str, str], workers: int) -> int:
    """Processes to check the bag's checksums with: one for a small payload (``Payload-Oxum``: bytes.files)."""
    octets = (bag_info.get("Payload-Oxum") or "").partition(".")[0].strip()
    if octets.isdigit() and int(octets) < BAG_POOL_BYTES:
        return 1
    return max(1, workers)


def _payload_files(payload: Path, *lists: Path | None) -> list[str]:
    """Every payload file but the lists (documents.*, ho_so.*) and BagIt's own."""
    files = []
    for dirpath, dirnames, filenames in os.walk(payload, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in IGNORED_DIRS)
        for name in sorted(filenames):
            full = Path(dirpath) / name
            if name in IGNORED_NAMES or full in lists:
                continue
            files.append(full.relative_to(payload).as_posix())
    return files


LINK_REASON = "Liên kết tượng trưng (symlink) trong gói: bị từ chối, tệp có thể nằm ngoài gói"


def _links(root: Path) -> list[str]:
    """Every symbolic link in the package, the root itself included (walked without following any)."""
    if root.is_symlink():
        return ["."]
    found = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in (*dirnames, *filenames):
            full = Path(dirpath) / name
            if full.is_symlink():
                found.append(full.relative_to(root).as_posix())
    return sorted(found)


def _refuse_links(root: Path) -> None:
    """A link anywhere (root, data/, the manifest, any folder or file) could publish files from outside."""
    links = _links(root)
    if links:
        raise PackageRefused(
            f"{LINK_REASON} ({len(links)}: {', '.join(links[:5])}{' ...' if len(links) > 5 else ''})",
            problems=[{"path": link, "problem": "symlink", "reason": LINK_REASON} for link in links],
        )


def open_package(
    path: Path,
    *,
    unit_code: str | None = None,
    accept_invalid_bag: bool = False,
    workers: int = 1,
    scratch_dir: Path | None = None,
) -> PackageContents:
    """Recognise the form of ``path`` and validate it; raise PackageRefused if it must not go in."""
    path = Path(path)
    if path.is_symlink():
        raise PackageRefused(
            f"{LINK_REASON} (chính đường dẫn gói là liên kết)",
            problems=[{"path": str(path), "problem": "symlink", "reason": LINK_REASON}],
        )
    if path.is_file() and zipfile.is_zipfile(path):
        return _open_zip(
            path, unit_code=unit_code, accept_invalid_bag=accept_invalid_bag, workers=workers, scratch_dir=scratch_dir
        )
    if path.is_file():
        with open(path, "rb") as handle:
            if handle.read(4) == b"PK\x03\x04":
                raise PackageRefused("Tệp zip hỏng (thiếu danh mục trung tâm, có thể bị cắt cụt)")
        raise PackageRefused("Gói phải là một thư mục hoặc một tệp zip")
    if not path.is_dir():
        raise PackageRefused(f"Không tìm thấy thư mục gói: {path}")
    _refuse_links(path)
    warnings: list[str] = []
    is_bag = (path / "bagit.txt").is_file()
    bag_info = _read_bag_info(path)
    facts = {"bag_info": bag_info}
    unit = (bag_info.get("Unit-Code") or "").strip()
    if unit_code:
        if unit and unit != unit_code:
            raise PackageRefused(f"Mã đơn vị --unit {unit_code} khác Unit-Code {unit} trong bag-info.txt", facts=facts)
        unit = unit_code
    if not unit:
        raise PackageRefused(
            "Gói không có Unit-Code (bag-info.txt) và không có --unit: không được đoán nguồn gốc", facts=facts
        )
    if not UNIT_CODE.fullmatch(unit):
        raise PackageRefused(
            f"Unit-Code {unit!r} không hợp lệ: chỉ gồm chữ số, chữ cái không dấu, '.', '-' hoặc '_' (tối đa 32 ký tự)",
            facts=facts,
        )

    if is_bag:
        try:
            bag = bagit.Bag(str(path))
            bag.validate(processes=_hashing_processes(bag_info, workers))
            verified = True
        except bagit.BagValidationError as error:
            problems = _bag_problems(_detailed_errors(bag, error, workers))
            if not accept_invalid_bag:
                raise PackageRefused(
                    "Nội dung gói không khớp manifest BagIt: chưa nhập, chờ lưu trữ viên quyết định "
                    "(chạy lại với --accept-invalid-bag)",
                    problems=problems,
                    facts=facts,
                ) from None
            verified = False
            warnings.append(f"Gói BagIt không hợp lệ ({len(problems)} lỗi) nhưng lưu trữ viên đã cho phép nhập")
        except bagit.BagError as error:
            raise PackageRefused(f"Gói BagIt hỏng: {error}", facts=facts) from None
        payload = path / "data"
    else:
        verified = False
        payload = path / "data" if (path / "data").is_dir() else path
        warnings.append("Gói không có tệp BagIt: mã kiểm tra được tính khi nhận, việc chuyển giao chưa được xác minh")

    manifest_path = find_manifest(payload)
    manifest = read_manifest(manifest_path) if manifest_path else None
    if manifest is None:
        form = "loose" if not is_bag else "bag"
        warnings.append("Không có bảng kê documents.*: mỗi tệp là một văn bản, siêu dữ liệu đọc từ nội dung")
    else:
        form = "bag" if is_bag else "folder"
        warnings.extend(manifest.warnings)
    dossier_list = find_dossier_list(payload)
    files = _payload_files(payload, manifest_path, dossier_list)
    if is_bag:
        files = [f for f in files if not f.startswith(("bagit.txt", "bag-info.txt"))]
    return PackageContents(
        source=path,
        payload=payload,
        form=form,
        verified=verified,
        unit_code=unit,
        bag_info=bag_info,
        manifest=manifest,
        files=files,
        warnings=warnings,
        dossier_list=dossier_list,
    )


def _open_zip(
    path: Path, *, unit_code: str | None, accept_invalid_bag: bool, workers: int, scratch_dir: Path | None
) -> PackageContents:
    if scratch_dir is None:
        raise PackageRefused("Không có thư mục tạm để giải nén gói zip")
    try:
        unpacked = unzip.unpack(path, scratch_dir)
    except (zipfile.BadZipFile, OSError) as error:
        raise PackageRefused(f"Tệp zip hỏng hoặc không đọc được: {error}") from None
    try:
        contents = open_package(
            unzip.package_root(unpacked.root),
            unit_code=unit_code,
            accept_invalid_bag=accept_invalid_bag,
            workers=workers,
        )
    except PackageRefused:
        unzip.remove(unpacked.root)
        raise
    contents.source = path
    contents.form = f"zip+{contents.form}"
    contents.scratch = unpacked.root
    contents.refused_members = unpacked.refused
    contents.files = [f for f in contents.files if f != unzip.COMPLETE_MARKER]
    contents.warnings.insert(0, "Gói dạng zip: đã giải nén vào thư mục tạm")
    if unpacked.refused:
        contents.warnings.append(f"{len(unpacked.refused)} tệp trong zip bị từ chối (xem chi tiết)")
    return contents
