"""The main text of a Word 97-2003 file straight from its piece table ([MS-DOC] 2.4.1).

Used only for text typed in the TCVN3 fonts: TCVN3 writes "ư" as byte 0xAD, which
Word keeps as its optional-hyphen character (0x1F) and which antiword and catdoc
drop. Reading the pieces ourselves keeps it. Field instructions are left out.
"""

from __future__ import annotations

import struct
from pathlib import Path

_CCP_TEXT = 0x004C
_FC_CLX = 0x01A2
_FLAGS = 0x000A
_F_WHICH_TABLE = 0x0200


def _pieces(clx: bytes) -> list[tuple[int, int, int, bool]]:
    """(cp start, cp end, byte offset, compressed) of every piece."""
    i = 0
    while i < len(clx) and clx[i] == 0x01:  # Prc: property modifiers, skipped
        (cb,) = struct.unpack_from("<H", clx, i + 1)
        i += 3 + cb
    if i >= len(clx) or clx[i] != 0x02:
        raise ValueError("no piece table")
    (lcb,) = struct.unpack_from("<I", clx, i + 1)
    plc = clx[i + 5 : i + 5 + lcb]
    n = (lcb - 4) // 12
    cps = struct.unpack_from(f"<{n + 1}I", plc, 0)
    out = []
    for k in range(n):
        (fc,) = struct.unpack_from("<I", plc, 4 * (n + 1) + 8 * k + 2)
        compressed = bool(fc & 0x40000000)
        offset = (fc & 0x3FFFFFFF) // 2 if compressed else fc & 0x3FFFFFFF
        out.append((cps[k], cps[k + 1], offset, compressed))
    return out


def _clean(raw: str) -> str:
    out: list[str] = []
    depth = 0  # inside a field instruction (0x13 ... 0x14)
    for ch in raw:
        code = ord(ch)
        if code == 0x13:
            depth += 1
        elif code == 0x14:
            depth = max(0, depth - 1)
        elif code == 0x15:
            depth = 0
        elif depth:
            continue
        elif ch in "\r\x0b":
            out.append("\n")
        elif code == 0x07:
            out.append("\t")
        elif code == 0x0C:
            out.append("\f")
        elif code == 0x1F:
            out.append("\u00ad")  # optional hyphen: TCVN3's "ư"
        elif code == 0x1E:
            out.append("-")
        elif code >= 0x20 or ch in "\t\n":
            out.append(ch)
    return "".join(out)


def read_doc_text(path: Path) -> str:
    """Main-document text; ValueError/OSError if the structure cannot be followed."""
    import olefile

    with olefile.OleFileIO(str(path)) as ole:
        word = ole.openstream("WordDocument").read()
        (flags,) = struct.unpack_from("<H", word, _FLAGS)
        table = ole.openstream("1Table" if flags & _F_WHICH_TABLE else "0Table").read()
    (ccp_text,) = struct.unpack_from("<I", word, _CCP_TEXT)
    fc_clx, lcb_clx = struct.unpack_from("<II", word, _FC_CLX)
    parts: list[str] = []
    for start, end, offset, compressed in _pieces(table[fc_clx : fc_clx + lcb_clx]):
        if start >= ccp_text:
            break
        count = min(end, ccp_text) - start
        if compressed:
            parts.append(word[offset : offset + count].decode("cp1252", errors="replace"))
        else:
            parts.append(word[offset : offset + 2 * count].decode("utf-16-le", errors="replace"))
    return _clean("".join(parts))
