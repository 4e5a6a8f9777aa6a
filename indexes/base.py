"""The search-engine interface: everything above ``indexes/`` talks to this only.

Engines index ``IndexDocument`` records and answer ``SearchQuery`` requests
built by ``indexes.query``.  The scope (the old units an account may see) is
part of every query; an engine must apply it to hits, counts and facets alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol


@dataclass(frozen=True)
class IndexDocument:
    """One searchable document, as the engines see it (no secret documents ever)."""

    id: int
    unit_code: str
    ma_van_ban: str = ""
    number: str = ""
    issued_date: date | None = None
    doc_type: str = ""
    direction: str = ""
    subject: str = ""
    issuer: str = ""
    signer: str = ""
    body: str = ""
    dossier: str = ""  # ma_ho_so: the file (hồ sơ) it was filed in
    signature: str = ""  # ingest.signatures verdict over its signed PDFs: "hop_le" = valid
    restricted: bool = False  # chế độ sử dụng "Hạn chế": only for accounts allowed restricted material


@dataclass(frozen=True)
class Term:
    """One word or quoted phrase of the user's query, already split into words."""

    words: tuple[str, ...]
    phrase: bool = False
    negated: bool = False


@dataclass(frozen=True)
class SearchQuery:
    """An engine-neutral request.  ``scope`` None means every unit (admins)."""

    terms: tuple[Term, ...] = ()
    numbers: tuple[str, ...] = ()  # normalised numbers/symbols found in the query text
    scope: frozenset[str] | None = frozenset()
    unit_codes: tuple[str, ...] = ()
    doc_types: tuple[str, ...] = ()
    directions: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    number_filter: str = ""  # normalised; matches the number itself and every number it begins (number_prefixes)
    number_prefixes: tuple[str, ...] = ()  # made by query.build_query: "191/KH" -> "191/KH-", "191/KH/"
    dossiers: tuple[str, ...] = ()
    signature: str = ""  # only documents with this signature verdict ("hop_le": "có chữ ký số hợp lệ")
    restricted_ok: bool = False  # restricted documents are left out unless the caller may see them (fails closed)
    sort: str = "relevance"  # relevance | date_desc | date_asc
    page: int = 1
    per_page: int = 20
    facets: tuple[str, ...] = ("unit_code", "doc_type", "direction", "year", "dossier")
    with_snippets: bool = True

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def has_text(self) -> bool:
        return any(not t.negated for t in self.terms) or bool(self.numbers)


@dataclass(frozen=True)
class Hit:
    id: int
    score: float
    snippet: str = ""  # HTML-safe: original text escaped, matches in <mark>


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int


@dataclass
class SearchResult:
    total: int
    hits: list[Hit]
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    # True when an engine counted a sample: ``total`` is then a lower bound ("hơn 780.000") and the
    # facet counts are estimates.  Engines that count every match leave it False.
    total_is_lower_bound: bool = False


class SearchEngine(Protocol):
    """What every engine does.  Implementations: ``sqlite_fts.SqliteFtsEngine``,
    ``opensearch.ClusterEngine`` (OpenSearch 2.x or Elasticsearch 8/9)."""

    name: str

    def index(self, documents: Iterable[IndexDocument]) -> int: ...

    def delete(self, ids: Sequence[int]) -> None: ...

    def search(self, query: SearchQuery) -> SearchResult: ...

    def indexed_ids(self) -> set[int]: ...

    def count(self, scope: frozenset[str] | None = None) -> int: ...

    def clear(self) -> None: ...

    def close(self) -> None: ...


class RebuildableEngine(SearchEngine, Protocol):
    """An engine that can be rebuilt while it keeps answering (``archive reindex``).

    ``new_generation()`` gives an engine on a new, empty index that nobody reads;
    once it is filled, ``switch_to(generation)`` makes it the one every reader
    and writer uses, in one atomic step (an alias update, a symlink rename).
    ``generation.discard()`` throws an unfinished one away.
    """

    def new_generation(self) -> RebuildableEngine: ...

    def switch_to(self, generation: RebuildableEngine) -> None: ...

    def discard(self) -> None: ...


class SearchUnavailable(RuntimeError):
    """The engine cannot answer now (cluster down, index missing)."""


class SearchTimeout(SearchUnavailable):
    """The query ran past the engine's time limit; the message is Vietnamese, for users."""
