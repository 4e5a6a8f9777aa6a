"""The one place user text becomes a ``SearchQuery`` (engine-neutral).

Syntax understood: bare words (all must match), ``"quoted phrases"``,
``-word`` / ``-"phrase"`` exclusion, and numbers-and-symbols such as
``74/KH-UBND`` or ``05/2024/NQ-HĐND``, which become both a phrase term and an
entry of ``SearchQuery.numbers`` (normalised).  Words are runs of letters and
digits only, so no engine syntax character ever reaches an engine.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from .base import SearchQuery, Term
from .fold import NUMBER_RE, nfc, normalize_number

SORTS = ("relevance", "date_desc", "date_asc")
MAX_PER_PAGE = 100
MAX_PAGE = 500  # deeper pages are refused: a search is narrowed instead

# Letters and digits only: the underscore is a separator for FTS5 and for us.
_WORD_RE = re.compile(r"[^\W_]+")
# Anything that is neither a word char, space, quote, '-' nor '/' is noise between words.
_NOISE_RE = re.compile(r"[^\w\s\"/\-]|_")
_TOKEN_RE = re.compile(
    r"(?P<neg>-)?(?:\"(?P<phrase>[^\"]*)\"?|(?P<number>" + NUMBER_RE.pattern + r")|(?P<bare>[^\s\"]+))",
    re.UNICODE,
)


# What may follow a partial number: "191" finds "191/KH-UBND", "191/KH" finds "191/KH-UBND",
# never "1910/KH" (a number is matched at its own separators, not inside a digit run).
NUMBER_SEPARATORS = ("/", "-")


class QueryError(ValueError):
    """The user's request cannot be searched; the message is Vietnamese and shown as is."""


def _words(text: str) -> tuple[str, ...]:
    return tuple(_WORD_RE.findall(text))


def _clean_values(values: Iterable[str] | None) -> tuple[str, ...]:
    out: list[str] = []
    for value in values or ():
        text = str(value).strip()
        if text and text not in out:
            out.append(text)
    return tuple(out)


def parse_text(text: str) -> tuple[tuple[Term, ...], tuple[str, ...]]:
    """Terms and normalised numbers of the user's text (no bounds checked here)."""
    text = _NOISE_RE.sub(" ", nfc(text))
    terms: list[Term] = []
    numbers: list[str] = []
    for match in _TOKEN_RE.finditer(text):
        negated = bool(match.group("neg"))
        number = match.group("number")
        if number is not None:
            words = _words(number)
            if not negated:
                norm = normalize_number(number)
                if norm not in numbers:
                    numbers.append(norm)
            phrase = True
        elif match.group("phrase") is not None:
            words = _words(match.group("phrase"))
            phrase = True
        else:
            words = _words(match.group("bare") or "")
            phrase = len(words) > 1  # "kế-hoạch" is one token of two words
        if not words:
            continue
        term = Term(words=words, phrase=phrase or len(words) > 1, negated=negated)
        if term not in terms:
            terms.append(term)
    return tuple(terms), tuple(numbers)


def number_filter_parts(number: str, max_length: int = 500) -> tuple[str, tuple[str, ...]]:
    """The normalised number field and the prefixes a longer number beginning with it starts with."""
    norm = normalize_number(number.strip()[:max_length]).strip("/-") if number else ""
    if not norm:
        return "", ()
    return norm, tuple(norm + sep for sep in NUMBER_SEPARATORS)


def build_query(
    text: str,
    *,
    scope: frozenset[str] | None,
    unit_codes: Iterable[str] = (),
    doc_types: Iterable[str] = (),
    directions: Iterable[str] = (),
    date_from: date | None = None,
    date_to: date | None = None,
    number: str = "",
    dossiers: Iterable[str] = (),
    signature: str = "",
    restricted_ok: bool = False,
    sort: str = "relevance",
    page: int = 1,
    per_page: int = 20,
    max_length: int = 500,
    max_terms: int = 32,
    max_page: int = MAX_PAGE,
) -> SearchQuery:
    """Parse and bound a user's search; raises ``QueryError`` for what cannot be searched.

    ``scope`` None means every unit; an empty frozenset means none (the engine
    then answers nothing).  Empty text is a browse, sorted newest first.
    """
    text = (text or "").replace("\x00", " ")
    if len(text) > max_length:
        raise QueryError(f"Câu tìm kiếm quá dài (tối đa {max_length} ký tự).")
    terms, numbers = parse_text(text)
    if text.strip() and not terms:
        raise QueryError("Câu tìm kiếm không có chữ hoặc số nào để tìm.")
    if len(terms) > max_terms:
        raise QueryError(f"Câu tìm kiếm có quá nhiều từ (tối đa {max_terms}).")
    if isinstance(page, bool) or not isinstance(page, int):
        page = 1
    page = max(1, page)
    if page > max_page:
        raise QueryError(f"Chỉ xem được tối đa {max_page} trang kết quả; hãy thu hẹp tìm kiếm.")
    per_page = min(MAX_PER_PAGE, max(1, int(per_page)))
    if sort not in SORTS:
        sort = "relevance"
    has_text = any(not t.negated for t in terms)
    if not has_text and sort == "relevance":
        sort = "date_desc"
    if date_from and date_to and date_from > date_to:
        date_from, date_to = date_to, date_from
    if scope is not None:
        scope = frozenset(scope)
    number_filter, number_prefixes = number_filter_parts(number, max_length)
    if number and not number_filter:
        raise QueryError("Số ký hiệu cần có chữ hoặc số (vd. 191, 191/KH hoặc 191/KH-UBND).")
    return SearchQuery(
        terms=terms,
        numbers=numbers,
        scope=scope,
        unit_codes=_clean_values(unit_codes),
        doc_types=_clean_values(doc_types),
        directions=_clean_values(directions),
        date_from=date_from,
        date_to=date_to,
        number_filter=number_filter,
        number_prefixes=number_prefixes,
        dossiers=_clean_values(dossiers),
        signature=signature,
        restricted_ok=restricted_ok,
        sort=sort,
        page=page,
        per_page=per_page,
    )
