"""A redesign of the FTS5 search for large indexes: never touch more than ``cap`` matches.

Same file and schema as ``SqliteFtsEngine`` (it reads an index that engine
wrote); only the search differs.  FTS5 has no block-max top-k: ``ORDER BY
rank`` scores every match, and the design of today materialises every match,
joins it to ``docs`` and counts it five times.  Here the match set is cut
inside FTS5 (``ORDER BY rowid DESC LIMIT cap + 1``: the newest matches, found
without scoring the others), and the total, the facets and the bm25 ranking
of the page all come from that capped set.  When the cap is reached the
result says so (``total_is_lower_bound``: "hơn 10.000"), and the facet
counts and the ranking are those of the newest ``cap`` matches: the price of
bounding the work.
"""

from __future__ import annotations

import time
from typing import Any

from .base import FacetValue, SearchQuery, SearchResult
from .sqlite_fts import _BM25, FACETS, SqliteFtsEngine, match_expression, match_set_selects

CAP = 10_000


class SqliteTopKEngine(SqliteFtsEngine):
    """``SqliteFtsEngine`` with a capped match set (benchmark variant; same index file)."""

    name = "sqlite-topk"

    def __init__(self, *args: Any, cap: int = CAP, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cap = cap

    def search(self, query: SearchQuery) -> SearchResult:
        if query.scope is not None and not query.scope:
            return SearchResult(total=0, hits=[], facets={})
        deadline = time.monotonic() + self.time_limit
        positive, negative = match_expression(query.terms)
        where, params = self._filters(query)
        if negative:
            where.append("d.id NOT IN (SELECT rowid FROM docs_fts WHERE docs_fts MATCH ?)")
            params.append(negative)
        relevance = bool(positive) and query.sort == "relevance"
        if positive:
            source = "docs_fts f CROSS JOIN docs d ON d.id = f.rowid"
            where.insert(0, "f.docs_fts MATCH ?")
            params.insert(0, positive)
            cut = "ORDER BY f.rowid DESC"
        else:
            source = "docs d"
            cut = (
                "ORDER BY d.issued_date DESC NULLS LAST, d.id DESC"
                if query.sort != "date_asc"
                else "ORDER BY d.issued_date ASC NULLS LAST, d.id ASC"
            )
        hit, select_params, parts = match_set_selects(query, relevance)
        sql = (
            f"WITH m AS MATERIALIZED (SELECT d.id AS id, {_BM25 if relevance else '0.0'} AS score, "
            f"{hit} AS hit, d.issued_date AS issued_date, {', '.join('d.' + f for f in FACETS)} "
            f"FROM {source} WHERE {' AND '.join(where) or '1'} {cut} LIMIT {int(self.cap) + 1}) "
            + " UNION ALL ".join(parts)
        )
        rows = self._read(sql, [*select_params, *params, query.per_page, query.offset], deadline=deadline)
        total = 0
        facet_values: dict[str, list[FacetValue]] = {f: [] for f in query.facets if f in FACETS}
        ranked: list[tuple[int, float]] = []
        for kind, name, count, value in rows:
            if kind == 0:
                total = count
            elif kind == 1:
                facet_values[name].append(FacetValue(str(value), count))
            else:
                ranked.append((count, -float(value) if relevance else 0.0))
        for name, values in facet_values.items():
            values.sort(
                key=(lambda v: v.value) if name == "year" else (lambda v: (-v.count, v.value)), reverse=name == "year"
            )
        capped = total > self.cap
        total = min(total, self.cap)
        if total == 0:
            return SearchResult(total=0, hits=[], facets=facet_values)
        return SearchResult(
            total=total, hits=self._hits(ranked, query, deadline), facets=facet_values, total_is_lower_bound=capped
        )
