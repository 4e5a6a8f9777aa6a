"""Legacy Vietnamese font encodings (TCVN3/ABC and VNI) detected in text and converted to Unicode.

Before Unicode, Vietnamese offices typed with font-encoded text: the ``.VnTime``
family (TCVN 5712:1993, "TCVN3" or "ABC") and the ``VNI-Times`` family (VNI
Windows). The bytes are ordinary single-byte text, so a DOC, PDF text layer,
RTF or CSV written that way reaches us as Latin-1-looking characters:
``Uû ban nh©n d©n`` (TCVN3) or ``UÛy ban nhaân daân`` (VNI).

* TCVN3: one byte per letter in 0xA1-0xFF. The table follows TCVN 5712:1993
  (the same table glibc ships as ``TCVN5712-1``; a test checks ours against it).
  The ABC fonts have no precomposed capitals with tone marks besides Ă Â Ê Ô Ơ Ư
  Đ: capitals came from the ``.VnTimeH`` font, whose bytes are the lower-case
  ones, so such text converts to lower case (search folds case anyway).
* VNI: a base letter followed by one mark character (``a`` + ``ù`` = á,
  ``a`` + ``á`` = ấ), plus a few single characters (``ñ`` = đ, ``ö`` = ư...).
  The table is composed from VNI's marks below; tests check it against
  independently published pairs.

Detection looks for characters that only appear inside words of font-encoded
text and never in Unicode Vietnamese or English, and converts only when the
result is clearly better; it never fires on text that already holds Unicode
Vietnamese letters.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = [
    "TCVN3",
    "VNI",
    "detect_legacy",
    "decode_tcvn3",
    "decode_vni",
    "encode_tcvn3",
    "encode_vni",
    "fix_legacy",
    "fix_legacy_texts",
    "conversion_note",
]

TCVN3 = "TCVN3"
VNI = "VNI"

# --------------------------------------------------------------------------- TCVN3 (ABC)

# Unicode for bytes 0xA1..0xFF, in order (TCVN 5712:1993). 0xB0-0xB4 are combining
# tone marks (grave, hook, tilde, acute, dot below); NFC composes them.
_TCVN3_HIGH = (
    "ĂÂÊÔƠƯĐăâêôơưđẰ"  # A1-AF
    "\u0300\u0309\u0303\u0301\u0323àảãáạẲằẳẵắẴ"  # B0-BF
    "ẮẦẨẪẤỀặầẩẫấậèỂẻẽ"  # C0-CF
    "éẹềểễếệìỉỄẾỒĩíịò"  # D0-DF
    "Ổỏõóọồổỗốộờởỡớợù"  # E0-EF
    "ỖủũúụừửữứựỳỷỹýỵỐ"  # F0-FF
)
assert len(_TCVN3_HIGH) == 95
_TCVN3_DECODE = {chr(0xA1 + i): u for i, u in enumerate(_TCVN3_HIGH)}
_TCVN3_ENCODE = {u: b for b, u in _TCVN3_DECODE.items() if not unicodedata.combining(u)}

# --------------------------------------------------------------------------------- VNI

# VNI Windows: tone/shape marks that follow a base vowel (lower-case form; the
# upper-case forms are the upper-case Latin-1 letters).
_VNI_MARKS = {
    "\u0301": "ù",  # acute
    "\u0300": "ø",  # grave
    "\u0309": "û",  # hook above
    "\u0303": "õ",  # tilde
    "\u0323": "ï",  # dot below
}
_VNI_CIRCUMFLEX = {"": "â", "\u0301": "á", "\u0300": "à", "\u0309": "å", "\u0303": "ã", "\u0323": "ä"}
_VNI_BREVE = {"": "ê", "\u0301": "é", "\u0300": "è", "\u0309": "ú", "\u0303": "ü", "\u0323": "ë"}
# Letters VNI writes as one character (bases ơ ư đ, and i/y with some tones).
_VNI_SINGLE = {
    "đ": "ñ",
    "ơ": "ô",
    "ư": "ö",
    "í": "í",
    "ì": "ì",
    "ỉ": "æ",
    "ĩ": "ó",
    "ị": "ò",
    "ỵ": "î",
}


def _vni_table() -> dict[str, str]:
    """Unicode letter -> VNI string, for every Vietnamese letter with a diacritic."""
    table: dict[str, str] = {}
    tones = ["", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323"]
    for lower in (True, False):

        def case(s: str, lower: bool = lower) -> str:
            return s if lower else s.upper()

        for base in "aeiouy":
            for tone in tones[1:]:
                table[case(unicodedata.normalize("NFC", base + tone))] = case(base + _VNI_MARKS[tone])
        for base in "aeo":  # â ê ô with every tone
            for tone in tones:
                table[case(unicodedata.normalize("NFC", base + "\u0302" + tone))] = case(base + _VNI_CIRCUMFLEX[tone])
        for tone in tones:  # ă with every tone
            table[case(unicodedata.normalize("NFC", "a\u0306" + tone))] = case("a" + _VNI_BREVE[tone])
        for base, horn_code in (("o", "ô"), ("u", "ö")):  # ơ ư with every tone
            for tone in tones[1:]:
                table[case(unicodedata.normalize("NFC", base + "\u031b" + tone))] = case(horn_code + _VNI_MARKS[tone])
        for letter, code in _VNI_SINGLE.items():
            table[case(letter)] = case(code)
    return table


_VNI_ENCODE = _vni_table()
_VNI_DECODE = {v: k for k, v in _VNI_ENCODE.items()}
_VNI_PATTERN = re.compile("|".join(sorted(map(re.escape, _VNI_DECODE), key=len, reverse=True)))

# ----------------------------------------------------------------------------- coding


# PDF text extraction turns the soft hyphen (0xAD, TCVN3's "ư") into "-": "H-ng" is "Hưng".
_PDF_SOFT_HYPHEN = re.compile(r"(?<=[A-Za-z\u00a1-\u00ff])-(?=[a-z\u00a1-\u00ff]|[\s.,;:!?)\]\"']|$)")


def restore_soft_hyphens(text: str) -> str:
    """Undo a PDF text layer's soft-hyphen-as-dash inside TCVN3 words (only for TCVN3 PDF text)."""
    return _PDF_SOFT_HYPHEN.sub("\u00ad", text)


def decode_tcvn3(text: str) -> str:
    """TCVN3 text (as read through Latin-1/cp1252) -> Unicode NFC."""
    return unicodedata.normalize("NFC", "".join(_TCVN3_DECODE.get(c, c) for c in text))


def encode_tcvn3(text: str) -> str:
    """Unicode -> TCVN3 (as Latin-1 characters). Capitals with tone marks become lower case, as in .VnTimeH."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        code = _TCVN3_ENCODE.get(ch)
        if code is None and ch.lower() != ch:
            code = _TCVN3_ENCODE.get(ch.lower())
        out.append(code if code is not None else ch)
    return "".join(out)


def decode_vni(text: str) -> str:
    """VNI Windows text (as read through Latin-1/cp1252) -> Unicode NFC."""
    return unicodedata.normalize("NFC", _VNI_PATTERN.sub(lambda m: _VNI_DECODE[m.group(0)], text))


def encode_vni(text: str) -> str:
    return "".join(_VNI_ENCODE.get(ch, ch) for ch in unicodedata.normalize("NFC", text))


# --------------------------------------------------------------------------- detection

_TONES = "\u0300\u0301\u0303\u0309\u0323"
_ONSET = "(?:ngh|ng|gh|gi|kh|nh|ph|th|tr|ch|qu|[bcdđghklmnprstvx])?"
# Vowel clusters of Vietnamese syllables (tone marks removed), longest first.
_CLUSTERS = sorted(
    [
        "a",
        "ă",
        "â",
        "e",
        "ê",
        "i",
        "o",
        "ô",
        "ơ",
        "u",
        "ư",
        "y",
        "ai",
        "ao",
        "au",
        "ay",
        "âu",
        "ây",
        "eo",
        "êu",
        "ia",
        "iê",
        "iu",
        "oa",
        "oă",
        "oe",
        "oi",
        "ôi",
        "ơi",
        "oo",
        "ua",
        "uâ",
        "uê",
        "ui",
        "uô",
        "uơ",
        "uy",
        "ưa",
        "ưi",
        "ươ",
        "ưu",
        "yê",
        "iêu",
        "yêu",
        "oai",
        "oay",
        "oao",
        "oeo",
        "uây",
        "uôi",
        "uya",
        "uyê",
        "uyu",
        "ươi",
        "ươu",
    ],
    key=len,
    reverse=True,
)
_SYLLABLE = re.compile(f"{_ONSET}(?:{'|'.join(_CLUSTERS)})(?:ch|ng|nh|[cmnpt])?")
# Words are split at spaces and ASCII punctuation (neither table uses any), e.g. CSV commas.
_WORD_SPLIT = re.compile(r"[\s,;:/|()\[\]{}<>\"'.!?=+*&%#@~`^_\\\-–—…“”‘’]+")
_SAMPLE_CHARS = 50_000  # enough words to decide; keeps detection in milliseconds


@lru_cache(maxsize=20_000)
def _is_syllable(word: str) -> bool:
    """`word` (lower case, NFC) is a Vietnamese syllable with at most one tone mark."""
    decomposed = unicodedata.normalize("NFD", word)
    if sum(decomposed.count(t) for t in _TONES) > 1:
        return False
    bare = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES))
    return _SYLLABLE.fullmatch(bare) is not None


def _bad_words(text: str) -> int:
    """Words with non-ASCII characters that are not Vietnamese syllables."""
    return _word_counts(text)[0]


def _word_counts(text: str) -> tuple[int, int]:
    """(words that are no Vietnamese syllable, words with non-ASCII characters)."""
    bad = foreign = 0
    for raw in _WORD_SPLIT.split(text):
        if raw.isascii():
            continue
        foreign += 1
        if not _is_syllable(raw.lower()):
            bad += 1
    return bad, foreign


def detect_legacy(text: str) -> str | None:
    """TCVN3, VNI or None for `text` already decoded as Latin-1/cp1252/UTF-8.

    Font-encoded text is full of "words" that are no Vietnamese syllable
    (``nh©n``, ``nhaân``); the right table turns nearly all of them into real
    syllables. Unicode Vietnamese and English have few such words to start with,
    so no table can improve them much and nothing is converted.
    """
    sample = text[:_SAMPLE_CHARS]
    if not any(0xA0 <= ord(c) <= 0xFF for c in sample):
        return None
    before, foreign = _word_counts(sample)
    if before < 2 or before < 0.1 * foreign:  # mostly real syllables already: Unicode text
        return None
    scored = sorted((_bad_words(decode(sample)), name) for name, decode in ((TCVN3, decode_tcvn3), (VNI, decode_vni)))
    after, best = scored[0]
    if after <= 0.25 * before and before - after >= 2:
        return best
    return None


def fix_legacy(text: str) -> tuple[str, str | None]:
    """(Unicode NFC text, the legacy encoding found or None)."""
    found = detect_legacy(text)
    if found == TCVN3:
        return decode_tcvn3(text), found
    if found == VNI:
        return decode_vni(text), found
    return text, None


def _convert_piece(piece: str, decode) -> str:
    """Convert one piece only if it reads better afterwards: Unicode cells/pages beside legacy ones stay."""
    if not any(0xA0 <= ord(c) <= 0xFF for c in piece):
        return piece
    converted = decode(piece)
    return converted if _bad_words(converted) < _bad_words(piece) else piece


def fix_legacy_texts(texts: list[str], *, pdf: bool = False) -> tuple[list[str], str | None]:
    """Decide once for several pieces of one source (pages, manifest cells), convert those that need it.

    `pdf`: the texts come from a PDF text layer, where TCVN3's "ư" (a soft hyphen) reads as "-".
    """
    found = detect_legacy("\n".join(texts))
    if found is None:
        return list(texts), None
    if found == TCVN3 and pdf:
        texts = [restore_soft_hyphens(t) for t in texts]
    decode = decode_tcvn3 if found == TCVN3 else decode_vni
    return [_convert_piece(t, decode) for t in texts], found


def conversion_note(encoding: str) -> str:
    """The warning shown in the report when text was converted."""
    return f"Đã chuyển mã {encoding} → Unicode"


def decode_single_byte(data: bytes) -> tuple[str, str]:
    """Text of non-UTF-8 bytes: Windows-1258, TCVN3 or VNI, whichever reads as Vietnamese.

    Returns (Unicode NFC text, "cp1258" | "TCVN3" | "VNI"). Legacy font-encoded bytes
    are read through Latin-1 (where their tables are defined), never through cp1258,
    which would fold some of their bytes into combining marks.
    """
    as_cp1258 = unicodedata.normalize("NFC", data.decode("cp1258", errors="replace"))
    as_latin1 = data.decode("latin-1")
    found = detect_legacy(as_latin1)
    if found is not None:
        converted = decode_tcvn3(as_latin1) if found == TCVN3 else decode_vni(as_latin1)
        sample = _SAMPLE_CHARS
        if _bad_words(converted[:sample]) < _bad_words(as_cp1258[:sample]):
            return converted, found
    return as_cp1258, "cp1258"


def fix_legacy_rows(rows: list[dict[str, str]]) -> tuple[list[dict[str, str]], str | None]:
    """Headers and values of manifest rows, converted cell by cell if the sheet is TCVN3/VNI."""
    texts = [str(part) for row in rows[:2000] for kv in row.items() for part in kv if part]
    found = detect_legacy("\n".join(texts))
    if found is None:
        return rows, None
    decode = decode_tcvn3 if found == TCVN3 else decode_vni

    def conv(value):
        return _convert_piece(value, decode) if isinstance(value, str) else value

    return [{conv(k): conv(v) for k, v in row.items()} for row in rows], found
