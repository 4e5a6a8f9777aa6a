"""DOC (Word 97-2003): Debian's antiword, else catdoc, through the runner of programs (with a time limit).

antiword keeps the layout best but gives up on some files (very short ones,
fast-saved ones); catdoc reads almost anything. Text typed in the old TCVN3/VNI
fonts comes out as Latin-1 look-alikes and is converted by `text_extraction`.
"""

from __future__ import annotations

from pathlib import Path

from archive_core import programs

from .base import Extraction, ExtractionRefused, ExtractLimits, Extractor, register, text_extraction
from .sniff import DOC

TIMEOUT_S = 120
_FIB_FLAGS = 0x0A
_F_ENCRYPTED = 0x0100


def _check_word_stream(path: Path) -> None:
    import olefile

    try:
        with olefile.OleFileIO(str(path)) as ole:
            fib = ole.openstream("WordDocument").read(32)
    except Exception as exc:
        raise ExtractionRefused(f"DOC hỏng, không đọc được (corrupt DOC: {exc})") from None
    if len(fib) < 12 or fib[:2] not in (b"\xec\xa5", b"\xdc\xa5"):
        raise ExtractionRefused("DOC hỏng: thiếu phần đầu WordDocument (corrupt DOC)")
    if int.from_bytes(fib[_FIB_FLAGS : _FIB_FLAGS + 2], "little") & _F_ENCRYPTED:
        raise ExtractionRefused("DOC có mật khẩu (password-protected DOC)")


def _run(program: str, args: list[str]) -> str | None:
    """The program's text, or None when it is not installed, fails or gives nothing (the next one tries)."""
    try:
        done = programs.run(program, args, timeout=TIMEOUT_S)
    except programs.ProgramTimedOut:
        raise ExtractionRefused(f"đọc DOC quá thời gian ({program} > {TIMEOUT_S}s)") from None
    except (programs.ProgramMissing, programs.ProgramFailed):
        return None
    text = done.stdout.decode("utf-8", errors="replace")
    return text if text.strip() else None


def _keep_tcvn3_u_horn(path: Path, text: str) -> str:
    """For TCVN3 text, the piece-table reading, which keeps "ư" (see doc_pieces)."""
    from ingest.encodings import TCVN3, detect_legacy

    from .doc_pieces import read_doc_text

    if detect_legacy(text) != TCVN3:
        return text
    try:
        pieces = read_doc_text(path)
    except Exception:
        return text
    return pieces if detect_legacy(pieces) == TCVN3 else text


@register(DOC)
class DocExtractor(Extractor):
    def extract(self, path: Path, media_type: str, limits: ExtractLimits) -> Extraction:
        _check_word_stream(path)
        text = _run("antiword", ["-m", "UTF-8.txt", "-w", "0", str(path)])
        if text is None:
            text = _run("catdoc", ["-d", "utf-8", "-w", str(path)])
        if text is None:
            if not (programs.find("antiword") or programs.find("catdoc")):
                raise ExtractionRefused("máy chủ chưa cài antiword/catdoc để đọc DOC (apt-get install antiword catdoc)")
            raise ExtractionRefused("DOC không đọc được bằng antiword/catdoc (unreadable DOC)")
        text = _keep_tcvn3_u_horn(path, text)
        pages = text.split("\f")
        if len(pages) > 1 and not pages[-1].strip():
            pages.pop()
        return text_extraction(media_type, pages)


@register("application/x-broken-zip")
class BrokenContainerExtractor(Extractor):
    """A truncated or damaged DOCX/XLSX/ODT: its zip directory cannot be read."""

    def extract(self, path: Path, media_type: str, limits: ExtractLimits) -> Extraction:
        raise ExtractionRefused("tệp DOCX/XLSX/ODT (ZIP) hỏng hoặc bị cắt cụt (corrupt or truncated zip container)")


@register("application/x-ole-storage")
class UnknownOleExtractor(Extractor):
    """An OLE2 compound file with no Word or Excel stream, or too damaged to list its streams."""

    def extract(self, path: Path, media_type: str, limits: ExtractLimits) -> Extraction:
        raise ExtractionRefused("tệp Office cũ (DOC/XLS) hỏng hoặc không nhận ra (corrupt or unknown OLE2 file)")


@register("application/x-office-encrypted")
class EncryptedOfficeExtractor(Extractor):
    """A DOCX/XLSX saved with a password is an OLE2 file holding an encrypted package."""

    def extract(self, path: Path, media_type: str, limits: ExtractLimits) -> Extraction:
        raise ExtractionRefused("tài liệu Office có mật khẩu (password-protected DOCX/XLSX)")
