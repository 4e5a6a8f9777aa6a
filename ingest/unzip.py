"""Unpack a zipped export package into a scratch directory, member by member, safely.

Nothing is ever written outside the scratch directory: members whose names
hold ``..``, absolute paths or drive letters, symbolic links, and members that
would blow up (a size or compression ratio beyond the limits) are refused one
by one with a reason, and the rest is unpacked.
"""

from __future__ import annotations

import hashlib
import shutil
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

COMPLETE_MARKER = ".unpacked"
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class UnzipLimits:
    max_member_bytes: int = 512 * 1024 * 1024
    max_total_bytes: int = 64 * 1024 * 1024 * 1024
    max_members: int = 200_000
    max_ratio: int = 200  # uncompressed/compressed, for members over 1 MiB


@dataclass
class Unpacked:
    root: Path
    refused: list[tuple[str, str]] = field(default_factory=list)  # (member name, reason)


def _member_problem(info: zipfile.ZipInfo, limits: UnzipLimits) -> str:
    name = info.filename
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "Liên kết tượng trưng trong tệp zip: bị từ chối"
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "Đường dẫn tuyệt đối trong tệp zip: bị từ chối"
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if ".." in parts:
        return "Đường dẫn có '..' trong tệp zip: bị từ chối"
    if "\x00" in name:
        return "Tên tệp chứa ký tự NUL: bị từ chối"
    if info.file_size > limits.max_member_bytes:
        return f"Tệp trong zip quá lớn ({info.file_size} byte)"
    if info.file_size > CHUNK and info.compress_size and info.file_size / info.compress_size > limits.max_ratio:
        return f"Tỷ lệ nén bất thường ({info.file_size // max(info.compress_size, 1)}:1): nghi là bom giải nén"
    if info.flag_bits & 0x1:
        return "Tệp trong zip được mã hóa (có mật khẩu)"
    return ""


def _zip_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def unpack(zip_path: Path, scratch_dir: Path, limits: UnzipLimits = UnzipLimits()) -> Unpacked:
    """Unpack into ``scratch_dir/<sha256 of the zip>``; a finished unpack is reused, a partial one redone."""
    target = Path(scratch_dir) / f"zip-{_zip_digest(zip_path)}"
    refused: list[tuple[str, str]] = []
    if (target / COMPLETE_MARKER).exists():
        refused = [
            (line.partition("\t")[0], line.partition("\t")[2])
            for line in (target / COMPLETE_MARKER).read_text("utf-8").splitlines()
            if line
        ]
        return Unpacked(root=target, refused=refused)
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    base = target.resolve()
    total = 0
    with zipfile.ZipFile(zip_path) as archive:
        members = archive.infolist()
        if len(members) > limits.max_members:
            raise zipfile.BadZipFile(f"quá nhiều tệp trong zip ({len(members)})")
        for info in members:
            if info.is_dir():
                continue
            problem = _member_problem(info, limits)
            if not problem and total + info.file_size > limits.max_total_bytes:
                problem = "Tổng dung lượng giải nén vượt giới hạn"
            destination = (base / info.filename.replace("\\", "/")).resolve()
            if not problem and base not in destination.parents:
                problem = "Đường dẫn ra ngoài thư mục tạm: bị từ chối"
            if problem:
                refused.append((info.filename, problem))
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            written = 0
            try:
                with archive.open(info) as source, open(destination, "wb") as out:
                    while chunk := source.read(CHUNK):
                        written += len(chunk)
                        if written > info.file_size or written > limits.max_member_bytes:
                            raise ValueError("kích thước thực lớn hơn khai báo")
                        out.write(chunk)
            except (zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
                destination.unlink(missing_ok=True)
                refused.append((info.filename, f"Không giải nén được: {error}"))
                continue
            total += written
    (target / COMPLETE_MARKER).write_text("".join(f"{n}\t{r}\n" for n, r in refused), encoding="utf-8")
    return Unpacked(root=target, refused=refused)


def package_root(unpacked_root: Path) -> Path:
    """A zip often holds one top folder: the package is inside it."""
    entries = [p for p in unpacked_root.iterdir() if p.name != COMPLETE_MARKER and p.name != "__MACOSX"]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return unpacked_root


def remove(unpacked_root: Path) -> None:
    shutil.rmtree(unpacked_root, ignore_errors=True)
