"""Media type from the content of a file, never from its name.

The first bytes decide; containers are then looked into: a zip is DOCX, XLSX or
ODT by its ``[Content_Types].xml`` or ``mimetype`` member, an OLE2 compound file
is DOC or XLS by its streams (or an encrypted OOXML by its ``EncryptedPackage``).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["sniff", "sniff_bytes", "DOCX", "XLSX", "ODT", "DOC", "XLS", "OFFICE_ENCRYPTED"]

OCTET = "application/octet-stream"
ZIP = "application/zip"
OLE = "application/x-ole-storage"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODT = "application/vnd.oasis.opendocument.text"
DOC = "application/msword"
XLS = "application/vnd.ms-excel"
OFFICE_ENCRYPTED = "application/x-office-encrypted"  # password-protected DOCX/XLSX (OLE2 wrapper)
BROKEN_ZIP = "application/x-broken-zip"  # a zip container (DOCX/XLSX/ODT...) that cannot be opened

_OOXML_MAIN = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    "application/vnd.ms-word.document.macroEnabled.main+xml": DOCX,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml": DOCX,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml": XLSX,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml": XLSX,
}

# (prefix, media type), checked in order at offset 0.
_MAGIC: list[tuple[bytes, str]] = [
    (b"%PDF-", "application/pdf"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"II+\x00", "image/tiff"),  # BigTIFF
    (b"MM\x00+", "image/tiff"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"BM", "image/bmp"),
    (b"PK\x03\x04", "application/zip"),  # also DOCX/XLSX/ODT; told apart by a later extractor
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),  # DOC/XLS
    (b"{\\rtf", "application/rtf"),
    (b"<?xml", "application/xml"),
]

_HEAD = 8192


def _looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 4:  # a multi-byte character cut by the 8 KiB window
            return True
    # Single-byte text (cp1258, TCVN3...): few control characters besides whitespace.
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return controls / len(head) < 0.01


def _is_bmp(head: bytes) -> bool:
    """'BM' alone is too weak (a text file may start with it): check the DIB header size."""
    return len(head) >= 18 and int.from_bytes(head[14:18], "little") in (12, 40, 52, 56, 64, 108, 124)


def sniff_bytes(head: bytes) -> str:
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    for magic, media_type in _MAGIC:
        if head.startswith(magic):
            if media_type == "image/bmp" and not _is_bmp(head):
                continue
            return media_type
    if b"%PDF-" in head[:1024]:  # the PDF header may follow some junk
        return "application/pdf"
    low = stripped[:512].lower()
    if low.startswith((b"<!doctype html", b"<html")) or b"<html" in low[:256]:
        return "text/html"
    if low.startswith(b"<?xml"):
        return "application/xml"
    if _looks_like_text(head):
        return "text/plain"
    return OCTET


def _zip_kind(path: Path) -> str:
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "mimetype" in names:
                mimetype = zf.read("mimetype")[:200].decode("ascii", "replace").strip()
                if mimetype == ODT:
                    return ODT
                return mimetype or ZIP
            if "[Content_Types].xml" in names:
                types = zf.read("[Content_Types].xml")[:1_000_000].decode("utf-8", "replace")
                for marker, media_type in _OOXML_MAIN.items():
                    if marker in types:
                        return media_type
    except (zipfile.BadZipFile, OSError, KeyError, NotImplementedError, RuntimeError):
        return BROKEN_ZIP
    return ZIP


def _ole_kind(path: Path) -> str:
    import olefile

    try:
        with olefile.OleFileIO(str(path)) as ole:
            if ole.exists("EncryptedPackage"):
                return OFFICE_ENCRYPTED
            if ole.exists("WordDocument"):
                return DOC
            if ole.exists("Workbook") or ole.exists("Book"):
                return XLS
    except (OSError, ValueError, IndexError, TypeError):  # olefile's errors on a damaged file
        return OLE
    return OLE


def sniff(path: Path) -> str:
    """Media type of `path` from its content (unknown -> application/octet-stream)."""
    with open(path, "rb") as fh:
        media_type = sniff_bytes(fh.read(_HEAD))
    if media_type == ZIP:
        return _zip_kind(path)
    if media_type == OLE:
        return _ole_kind(path)
    return media_type
