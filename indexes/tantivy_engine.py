"""The embedded Tantivy engine: one directory, no server, a province (millions of documents) in milliseconds.

Why Tantivy: block-max top-k (the page of 20 is found without scoring every
match), columnar fast fields (the four facets and the total are counted from
columns, not by joining rows), one writer with any number of readers, and an
index smaller than the text it holds.

Fields (text is NFC-normalised in Python; Tantivy splits, lower-cases and
folds it in Rust, and its ASCII folding maps every Vietnamese letter exactly
as ``fold`` does, which the highlighter uses: tested):

* ``f_number``, ``f_head`` (subject, issuer, signer), ``f_body`` — folded
  words (no tones, đ→d), frequencies but no positions; one head field rather
  than three, because bm25 judges a field's length against its average and
  short, often empty fields (issuer) would score a hit in them below the body;
* ``x_text`` — the words with their tones (subject, issuer, body), a ranking
  boost only: a query typed with tones ranks the exact spelling first;
* ``p_head``, ``p_body`` — folded *syllable pairs* ("ke_hoach"): a phrase of
  n words is the n-1 consecutive pairs in one field.  Vietnamese words are two
  or more syllables that are each very common, so a pair is far rarer than its
  syllables, and no positions need to be stored or read; a phrase that
  matches every document is an intersection of a few posting lists;
* ``id``, ``year``, ``down``, ``up`` (u64) and ``unit_code``, ``doc_type``,
  ``direction``, ``number_norm`` (raw strings): filters, facets and sort keys,
  as fast (columnar) fields;
* ``stored`` — the subject and body for snippets (compressed doc store).

The directory ``path`` names is a symlink to ``<name>-<stamp>/``, so a rebuild
(``new_generation`` / ``switch_to``) moves every reader and writer, in any
process, to the new index in one rename, as the SQLite engine does.

One module, over 400 lines on purpose: the whole of one engine behind ``SearchEngine``; its
schema, writer turns, query translation and facet counting share the schema's field names.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import tantivy

from .base import FacetValue, Hit, IndexDocument, SearchQuery, SearchResult, SearchTimeout, SearchUnavailable, Term
from .fold import nfc, normalize_number
from .highlight import snippet
from .sample import SAMPLE_FACTOR, counted_exactly, lower_bound, sample_of, scaled

SCHEMA_VERSION = "2"
FACETS = ("unit_code", "doc_type", "direction", "year", "dossier")
_WORD_RE = re.compile(r"[^\W_]+")
_EPOCH = date(1800, 1, 1).toordinal()
_NO_DAY_UP = (1 << 31) - 1
_WRITER_HEAP = 256_000_000  # an ingest's turn at the writer
_BULK_WRITER_HEAP = 1_000_000_000  # a bulk load (``keep_writer``): fewer, larger segments, less merging (+7 % docs/s)
BULK_COMMIT_DOCS = 100_000  # a bulk load (``keep_writer``) commits this often, and at ``optimize``/``close``
_LOCK_WAIT_S = 120.0
NUMBER_BOOST = 100_000.0  # an exact number ranks above any text score
FIELD_BOOSTS = {"f_number": 10.0, "f_head": 4.0, "f_body": 1.0}
PAIR_BOOSTS = {"p_head": 5.0, "p_body": 1.0}
EXACT_BOOST = 2.0
META_FILE = "archive-meta.json"
TOO_SLOW = "Tìm kiếm mất quá nhiều thời gian; hãy thêm từ hoặc bộ lọc để thu hẹp."  # as the SQLite engine says


def _schema() -> tantivy.Schema:
    b = tantivy.SchemaBuilder()
    b.add_unsigned_field("id", stored=True, fast=True)
    b.add_text_field("key", tokenizer_name="raw", index_option="basic")  # str(id): deletes by term
    for name in ("unit_code", "doc_type", "direction", "dossier"):
        b.add_text_field(name, tokenizer_name="raw", index_option="basic", fast=True)
    for name in ("number_norm", "signature", "restricted"):
        b.add_text_field(name, tokenizer_name="raw", index_option="basic")
    b.add_unsigned_field("year", indexed=True, fast=True)
    b.add_unsigned_field("sample", indexed=True, fast=True)  # a hash of the id, 0-63: a 1/64 sample by range
    b.add_unsigned_field("down", fast=True)  # day << 32 | id, undated 0: newest first, undated last
    b.add_unsigned_field("up", indexed=True, fast=True)  # day << 32 | id, undated max: oldest first, undated last
    for name in FIELD_BOOSTS:
        b.add_text_field(name, tokenizer_name="vi_fold", index_option="freq")
    b.add_text_field("x_text", tokenizer_name="vi_exact", index_option="freq")
    for name in PAIR_BOOSTS:
        b.add_text_field(name, tokenizer_name="vi_pairs", index_option="freq")
    b.add_bytes_field("stored", stored=True)
    return b.build()


SCHEMA = _schema()


def _analyzers() -> dict[str, Any]:
    """Folding and lower-casing run in Rust: Tantivy's ASCII folding maps every Vietnamese letter
    as ``fold`` does (``đ`` to ``d``, tones and vowel marks removed; tested)."""
    simple, whitespace, Filter = tantivy.Tokenizer.simple, tantivy.Tokenizer.whitespace, tantivy.Filter
    return {
        "vi_fold": tantivy.TextAnalyzerBuilder(simple())
        .filter(Filter.remove_long(64))
        .filter(Filter.lowercase())
        .filter(Filter.ascii_fold())
        .build(),
        "vi_exact": tantivy.TextAnalyzerBuilder(simple())
        .filter(Filter.remove_long(64))
        .filter(Filter.lowercase())
        .build(),
        # Pairs arrive as "ủy_ban ban_nhân ..." (lower case, made in Python): split on spaces, then fold.
        "vi_pairs": tantivy.TextAnalyzerBuilder(whitespace())
        .filter(Filter.remove_long(128))
        .filter(Filter.ascii_fold())
        .build(),
    }


ANALYZERS = _analyzers()
_FOLD = ANALYZERS["vi_fold"]
_EXACT = ANALYZERS["vi_exact"]
_PROBE = "ĐÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÊỀẾỂỄỆÔỒỐỔỖỘƠỜỚỞỠỢƯỪỨỬỮỰ"
_SIGNATURE = json.dumps({"schema": SCHEMA_VERSION, "fold": " ".join(_FOLD.analyze(" ".join(_PROBE)))})


def _pairs(text: str) -> str:
    """Consecutive word pairs of lower-cased text, "a_b b_c ..." (the cheapest way found in Python)."""
    words = _WORD_RE.findall(text)
    return " ".join(map("_".join, zip(words, words[1:], strict=False)))


def _day(value: date | None) -> int:
    return value.toordinal() - _EPOCH if value else 0


def _document(doc: IndexDocument) -> tantivy.Document:
    """The Tantivy document of one archive document: Python splits pairs, Rust does the rest."""
    number = nfc(f"{doc.number or ''} {doc.ma_van_ban or ''}")
    head = nfc(f"{doc.subject or ''}\n{doc.issuer or ''} {doc.signer or ''}")
    subject, body = nfc(doc.subject or ""), nfc(doc.body or "")
    day = _day(doc.issued_date)
    d = tantivy.Document()
    d.add_unsigned("id", int(doc.id))
    d.add_text("key", str(int(doc.id)))
    d.add_text("unit_code", doc.unit_code)
    if doc.doc_type:
        d.add_text("doc_type", doc.doc_type)
    if doc.direction:
        d.add_text("direction", doc.direction)
    d.add_text("number_norm", normalize_number(doc.number))
    # Fields other parts of the archive may add to IndexDocument; absent means empty.
    dossier, signature = getattr(doc, "dossier", "") or "", getattr(doc, "signature", "") or ""
    if dossier:
        d.add_text("dossier", dossier)
    if signature:
        d.add_text("signature", signature)
    d.add_text("restricted", "1" if getattr(doc, "restricted", False) else "0")
    if doc.issued_date:
        d.add_unsigned("year", doc.issued_date.year)
    d.add_unsigned("sample", sample_of(doc.id))
    d.add_unsigned("down", (day << 32) | int(doc.id))
    d.add_unsigned("up", ((day or _NO_DAY_UP) << 32) | int(doc.id))
    d.add_text("f_number", number)
    d.add_text("f_head", head)
    d.add_text("f_body", body)
    d.add_text("x_text", head)
    d.add_text("x_text", body)
    d.add_text("p_head", _pairs(number.lower()))
    d.add_text("p_head", _pairs(head.lower()))
    d.add_text("p_body", _pairs(body.lower()))
    d.add_bytes("stored", json.dumps([subject, body], ensure_ascii=False).encode("utf-8"))
    return d


# -- queries -------------------------------------------------------------------


def _safe_words(term: Term) -> list[str]:
    return [w for word in term.words for w in _WORD_RE.findall(str(word))]


def _t(field: str, value: str, only: tantivy.Query | None = None) -> tantivy.Query:
    """A term; with ``only`` (a filter scoring 0) the term's documents within it."""
    term = tantivy.Query.term_query(SCHEMA, field, value, index_option="freq")
    return term if only is None else _all([term, only])


def _any(queries: list[tantivy.Query]) -> tantivy.Query:
    return (
        queries[0] if len(queries) == 1 else tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in queries])
    )


def _all(queries: list[tantivy.Query]) -> tantivy.Query:
    return queries[0] if len(queries) == 1 else tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in queries])


def _boost(query: tantivy.Query, boost: float) -> tantivy.Query:
    return query if boost == 1.0 else tantivy.Query.boost_query(query, boost)


def term_query(
    words: list[str], *, negated: bool = False, only: tantivy.Query | None = None, phrases_only: bool = False
) -> tantivy.Query:
    """One word or phrase: folded in any field; exact tones add to the score.  ``only``: see ``build``."""
    folded = [t for w in words for t in _FOLD.analyze(w)]
    if not folded:
        return tantivy.Query.empty_query()
    if phrases_only and len(folded) == 1:
        only = None
    if len(folded) == 1:
        match = _any([_boost(_t(f, folded[0], only), b) for f, b in FIELD_BOOSTS.items()])
    else:
        pairs = [a + "_" + b for a, b in zip(folded, folded[1:], strict=False)]
        match = _any([_boost(_all([_t(f, p, only) for p in pairs]), b) for f, b in PAIR_BOOSTS.items()])
    exact_words = [t for w in words for t in _EXACT.analyze(w)]
    if negated or exact_words == folded:
        return match
    # Any of the exact words adds to the score: a disjunction, because an optional conjunction is
    # seeked for every match (50x slower on a phrase that matches everything).
    boost = _boost(_any([_t("x_text", w, only) for w in exact_words]), EXACT_BOOST)
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, match), (tantivy.Occur.Should, boost)])


def _values(field: str, values: Iterable[str]) -> tantivy.Query:
    return tantivy.Query.term_set_query(SCHEMA, field, sorted({str(v) for v in values}))


def _number_filter(number: str, prefixes: Iterable[str]) -> tantivy.Query:
    """The number itself, or a number beginning with one of ``prefixes`` (a regex on the raw field)."""
    pattern = "|".join([re.escape(number), *(re.escape(p) + ".*" for p in prefixes if p)])
    return tantivy.Query.regex_query(SCHEMA, "number_norm", pattern)


def _filters(query: SearchQuery) -> list[tantivy.Query]:
    """Filters as queries that match or not and add nothing to the score."""
    out: list[tantivy.Query] = []
    for field, values in (
        ("unit_code", query.scope),
        ("unit_code", query.unit_codes or None),
        ("doc_type", query.doc_types or None),
        ("direction", query.directions or None),
        ("dossier", getattr(query, "dossiers", ()) or None),
    ):
        if values is not None:
            out.append(_values(field, values))
    if query.date_from or query.date_to:
        low = (_day(query.date_from) or 1) << 32
        high = ((_day(query.date_to) + 1) << 32) - 1 if query.date_to else (_NO_DAY_UP << 32) - 1
        out.append(tantivy.Query.range_query(SCHEMA, "up", tantivy.FieldType.Unsigned, low, high))
    if query.number_filter:
        out.append(_number_filter(normalize_number(query.number_filter), getattr(query, "number_prefixes", ())))
    signature = getattr(query, "signature", "")
    if signature:
        out.append(tantivy.Query.term_query(SCHEMA, "signature", signature))
    return [tantivy.Query.const_score_query(q, 0.0) for q in out]


def _narrowed(query: SearchQuery) -> bool:
    """Whether a filter other than the restricted one narrows the search (a scope, a facet, dates...)."""
    return bool(
        query.scope is not None
        or query.unit_codes
        or query.doc_types
        or query.directions
        or getattr(query, "dossiers", ())
        or query.date_from
        or query.date_to
        or query.number_filter
        or getattr(query, "signature", "")
    )


def build(
    query: SearchQuery, only: tantivy.Query | None = None, *, phrases_only: bool = False
) -> tuple[tantivy.Query, bool]:
    """(the Tantivy query, whether it has words to rank by).

    ``only`` (a filter scoring 0: the sample) is put beside every term, so that the query matches
    only the documents within it, and no union of long posting lists is walked to find them (Tantivy
    walks a union in windows of 4,096 documents, whatever the other side of an intersection skips).
    ``phrases_only``: beside the syllable pairs of phrases only (a scope's filter costs a little per term)."""
    clauses: list[tuple[Any, tantivy.Query]] = []
    positive = False
    for term in query.terms:
        words = _safe_words(term)
        if not words:
            continue
        clauses.append(
            (
                tantivy.Occur.MustNot if term.negated else tantivy.Occur.Must,
                term_query(words, negated=term.negated, only=only, phrases_only=phrases_only),
            )
        )
        positive = positive or not term.negated
    if not positive:
        clauses.append((tantivy.Occur.Must, only if only is not None else tantivy.Query.all_query()))
    elif query.numbers:
        numbers = _values("number_norm", query.numbers)
        clauses.append((tantivy.Occur.Should, tantivy.Query.const_score_query(numbers, NUMBER_BOOST)))
    clauses += [(tantivy.Occur.Must, f) for f in _filters(query)]
    if not getattr(query, "restricted_ok", False):  # restricted documents only for those allowed: fails closed
        # Every document holds "0" or "1": excluding the few "1"s costs nothing where a segment has none,
        # where requiring "0" walked a posting list as long as the index beside every match.
        clauses.append((tantivy.Occur.MustNot, tantivy.Query.term_query(SCHEMA, "restricted", "1")))
    return tantivy.Query.boolean_query(clauses), positive


def _scoring_terms(words: list[str]) -> list[tantivy.Query]:
    """Every term query ``term_query(words)`` scores with, boosted as there, flat."""
    folded = [t for w in words for t in _FOLD.analyze(w)]
    if not folded:
        return []
    if len(folded) == 1:
        out = [_boost(_t(f, folded[0]), b) for f, b in FIELD_BOOSTS.items()]
    else:
        pairs = [a + "_" + b for a, b in zip(folded, folded[1:], strict=False)]
        out = [_boost(_t(f, p), b) for f, b in PAIR_BOOSTS.items() for p in pairs]
    exact_words = [t for w in words for t in _EXACT.analyze(w)]
    if exact_words != folded:
        out += [_boost(_t("x_text", w), EXACT_BOOST) for w in exact_words]
    return out


def bound_query(query: SearchQuery) -> tantivy.Query | None:
    """A disjunction of every term the query scores with: it matches every document the query matches
    and scores each of them at least as high (scores are sums of non-negative term scores), and, being
    a plain disjunction of terms, Tantivy finds its top hits by block-max WAND without scoring every
    match.  None when the query has numbers (their boost is not a term score), an exclusion (its top
    hits may be excluded ones: measured slower) or too few terms."""
    if query.numbers or any(term.negated for term in query.terms):
        return None
    clauses = [q for term in query.terms if not term.negated for q in _scoring_terms(_safe_words(term))]
    if len(clauses) < 2:
        return None
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in clauses])


def _aggregations(facets: Sequence[str]) -> dict[str, Any]:
    aggs: dict[str, Any] = {"total": {"value_count": {"field": "id"}}}
    for name in facets:
        aggs[name] = {"terms": {"field": name, "size": 10_000}}
    return aggs


TIE_WINDOW = 2000  # hits read past a page to order a tie at its edge by id
# The sample (``indexes.sample``): documents whose ``sample`` is 0, one term, so it can sit beside every term.
EXACT_BESIDE_SAMPLE = 2  # counted exactly when at most this many samples' worth of documents can match


def _at_most(searcher: Any, query: SearchQuery) -> int:
    """A cheap upper bound of a query's matches, from how many documents hold each term (deleted
    ones included): the rarest positive term, or the units it is limited to."""
    bounds = [1 << 62]  # (doc_freq counts deleted documents too: an upper bound still)
    for term in query.terms:
        if term.negated:
            continue
        folded = [t for w in _safe_words(term) for t in _FOLD.analyze(w)]
        if len(folded) == 1:
            bounds.append(sum(int(searcher.doc_freq(f, folded[0])) for f in FIELD_BOOSTS))
        elif folded:
            pairs = [a + "_" + b for a, b in zip(folded, folded[1:], strict=False)]
            bounds.append(min(sum(int(searcher.doc_freq(f, p)) for f in PAIR_BOOSTS) for p in pairs))
    for field, values in (
        ("unit_code", query.scope),
        ("unit_code", query.unit_codes or None),
        ("doc_type", query.doc_types or None),
        ("direction", query.directions or None),
    ):
        if values is not None:
            bounds.append(sum(int(searcher.doc_freq(field, str(v))) for v in set(values)))
    return min(bounds)


def _dense_phrase(searcher: Any, query: SearchQuery) -> bool:
    """Whether a phrase of the query has syllable pairs as frequent as documents (in the subject and in
    the body, like "ủy ban nhân dân"): counting its matches within a filter walks both whole lists."""
    for term in query.terms:
        folded = [t for w in _safe_words(term) for t in _FOLD.analyze(w)] if not term.negated else []
        pairs = [a + "_" + b for a, b in zip(folded, folded[1:], strict=False)]
        if pairs and min(sum(int(searcher.doc_freq(f, p)) for f in PAIR_BOOSTS) for p in pairs) >= searcher.num_docs:
            return True
    return False


def _in_time(deadline: float) -> None:
    """Raise ``SearchTimeout`` once the search's budget is spent (checked between phases)."""
    if time.monotonic() >= deadline:
        raise SearchTimeout(TOO_SLOW)


def _result(total: int, hits: list[Hit], facets: dict[str, list[FacetValue]], estimated: bool) -> SearchResult:
    return SearchResult(total=total, hits=hits, facets=facets, total_is_lower_bound=estimated)


def _commit_files(directory: Path, meta: dict[str, Any]) -> list[str]:
    """The files of the segments one ``meta.json`` names: ``<id>.<part>``, and ``<id>.<opstamp>.del``
    for the deletes it counts (older delete files are not part of that commit)."""
    wanted: dict[str, str] = {}
    for segment in meta.get("segments", []):
        deletes = segment.get("deletes") or {}
        wanted[segment["segment_id"].replace("-", "")] = f"{deletes['opstamp']}.del" if deletes else ""
    names = []
    for name in os.listdir(directory):
        stem, _, rest = name.partition(".")
        if stem in wanted and (rest == wanted[stem] or ("." not in rest and rest != "del")):
            names.append(name)
    for stem, deletes in wanted.items():  # every part of every segment, or the commit is gone: read again
        for part in ("idx", "term", "store", "fast", "fieldnorm", *([deletes] if deletes else [])):
            if f"{stem}.{part}" not in names:
                raise FileNotFoundError(directory / f"{stem}.{part}")
    return names


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except FileNotFoundError:
        raise
    except OSError:  # a file system without hard links: a copy (a merge may still remove the source: retried)
        shutil.copyfile(source, target)


BOUND_FROM = 50_000  # matches from which a page is looked for among a bound query's top hits
BOUND_LIMIT = 4096  # candidates read from the bound query before the page is ranked the slow way
_SLACK = 1e-4  # relative: the bound and the query add the same f32 term scores in other orders


def _page_by_bound(searcher: Any, tquery: Any, bound: Any, offset: int, per_page: int) -> list | None:
    """The page ``_ranked_page`` gives, from the top hits of ``bound`` (``bound_query``), or None.

    The bound's top hits (block-max WAND: most matches are never scored) are the candidates; the
    query itself, limited to the first of them, says which match and scores them exactly as
    ``_ranked_page`` would.  A match not among those scores at most the bound's next candidate, so
    once the page's last hit scores above that, every hit of the page and every hit tied with its
    edges was checked and the page is exact; otherwise more candidates are checked, then read, up to
    ``BOUND_LIMIT``.  Few are checked at first: the query walks its unions of long posting lists in
    windows of 4,096 documents around each one."""
    want = offset + per_page
    limit = 2 * want + 16
    while limit <= BOUND_LIMIT:
        found = searcher.search(bound, limit=limit, count=False).hits
        if not found:
            return []
        exhausted = len(found) < limit
        for checked in dict.fromkeys((min(want + 4, len(found)), len(found))):
            stored = {(address.segment_ord, address.doc): searcher.doc(address) for _, address in found[:checked]}
            keys = sorted({str(int(doc["id"][0])) for doc in stored.values()})
            only = tantivy.Query.const_score_query(tantivy.Query.term_set_query(SCHEMA, "key", keys), 0.0)
            check = tantivy.Query.boolean_query([(tantivy.Occur.Must, tquery), (tantivy.Occur.Must, only)])
            scored = searcher.search(check, limit=checked, count=False).hits
            ranked = [(float(score), stored[(address.segment_ord, address.doc)]) for score, address in scored]
            ranked.sort(key=lambda pair: (-pair[0], -int(pair[1]["id"][0])))
            if checked == len(found) and exhausted:
                return ranked[offset:want]
            floor = float(found[checked][0] if checked < len(found) else found[-1][0])
            if len(ranked) >= want and ranked[want - 1][0] > floor * (1 + _SLACK):
                return ranked[offset:want]
        limit *= 4
    return None


def _ranked_page(searcher: Any, tquery: Any, offset: int, per_page: int, bound: Any = None) -> list[tuple[float, Any]]:
    """(score, stored document) of one page by relevance, equal scores by id, newest id first.

    Tantivy orders equal scores by where documents sit in its segments, which a merge, a rebuild or
    a restore changes: the same search would reorder, and a page edge inside a tie would repeat or
    skip a hit.  So the hits tied with the page's first and last scores are read (up to
    ``TIE_WINDOW`` past the page) and ordered by id, as FTS5 and the cluster engine order them.
    With a ``bound`` (``bound_query``) the page comes from its top hits when they suffice."""
    if bound is not None:
        page = _page_by_bound(searcher, tquery, bound, offset, per_page)
        if page is not None:
            return page
    want = offset + per_page
    limit = want + 16
    while True:
        hits = searcher.search(tquery, limit=limit, count=False).hits
        if len(hits) < limit or len(hits) <= want or hits[-1][0] < hits[want - 1][0] or limit >= want + TIE_WINDOW:
            break
        limit = min(want + TIE_WINDOW, limit * 4)
    if offset >= len(hits):
        return []
    last = min(want, len(hits)) - 1
    first = offset
    while first > 0 and hits[first - 1][0] == hits[offset][0]:
        first -= 1
    end = last + 1
    while end < len(hits) and hits[end][0] == hits[last][0]:
        end += 1
    window = [(float(score), searcher.doc(address)) for score, address in hits[first:end]]
    window.sort(key=lambda pair: (-pair[0], -int(pair[1]["id"][0])))
    return window[offset - first : offset - first + per_page]


# -- the engine ----------------------------------------------------------------


class TantivyEngine:
    """The ``SearchEngine`` on one Tantivy directory.  Thread- and process-safe (one writer at a time).

    ``keep_writer`` holds the writer between ``index`` calls (a rebuild or a
    bulk load, which nobody reads until it is switched to: merges go on in the
    background and commits come every ``BULK_COMMIT_DOCS`` documents and at
    ``optimize``/``close``); otherwise each call takes the writer, commits,
    waits for its merges and lets it go, so that several ingest processes can
    take turns and a document is searchable as soon as ``index`` returns.
    """

    name = "tantivy"

    def __init__(
        self,
        path: str | Path,
        *,
        time_limit_ms: int = 3000,
        snippet_chars: int = 240,
        keep_writer: bool = False,
        estimate_above: int | None = None,
        _generation: bool = False,
    ) -> None:
        self.path = Path(path)
        self.estimate_above = estimate_above
        self._generation = _generation
        self.time_limit = time_limit_ms / 1000.0
        self.snippet_chars = snippet_chars
        self.keep_writer = keep_writer
        self._lock = threading.RLock()
        self._pid = os.getpid()
        self._closed = False
        self._writer: Any = None
        self._pending = 0  # documents added but not yet committed (bulk loads only)
        self._index: Any = None
        self._dir: Path | None = None
        self._open()

    # -- opening -----------------------------------------------------------
    def _open(self) -> None:
        """Open the directory ``path`` names now (making the first generation if there is none)."""
        try:
            if self._generation:
                self.path.mkdir(parents=True, exist_ok=True)
            elif not self.path.exists() and not self.path.is_symlink():
                self.path.parent.mkdir(parents=True, exist_ok=True)
                first = self._stamped_dir()
                first.mkdir()
                self._link(first)
            target = Path(os.path.realpath(self.path))
            target.mkdir(parents=True, exist_ok=True)
            meta = target / META_FILE
            if not meta.exists():
                meta.write_text(_SIGNATURE, encoding="utf-8")
            self._stale = meta.read_text(encoding="utf-8") != _SIGNATURE
            index = tantivy.Index(SCHEMA, path=str(target), reuse=True)
            for name, analyzer in ANALYZERS.items():
                index.register_tokenizer(name, analyzer)
        except (OSError, ValueError) as exc:
            raise SearchUnavailable(f"cannot open search index {self.path}: {exc}") from exc
        self._index, self._dir = index, target
        # A u64 term is made by the query parser (tantivy-py's term_query makes an i64 one).
        self._in_sample = tantivy.Query.const_score_query(index.parse_query("sample:0", []), 0.0)

    def _stamped_dir(self) -> Path:
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime()) + f"{time.time_ns() % 1_000_000_000:09d}"
        return self.path.parent / f"{self.path.name}-{stamp}"

    def _link(self, target: Path) -> None:
        link = self.path.parent / f".{self.path.name}.{os.getpid()}.tmp"
        link.unlink(missing_ok=True)
        os.symlink(target.name, link)
        os.replace(link, self.path)  # atomic: a reader sees the old directory or the new one

    def _current(self) -> Any:
        """The index, reopened after a fork or after ``path`` moved to another generation."""
        if self._closed:
            raise SearchUnavailable("search index is closed")
        moved = Path(os.path.realpath(self.path)) != self._dir
        if os.getpid() != self._pid or moved:
            with self._lock:
                if os.getpid() != self._pid:
                    self._pid, self._writer = os.getpid(), None  # never touch the parent's writer
                    self._open()
                elif Path(os.path.realpath(self.path)) != self._dir:
                    self._release_writer()
                    self._open()
        return self._index

    # -- writing -------------------------------------------------------------
    def _take_writer(self) -> Any:
        if self._writer is None:
            index = self._current()
            deadline = time.monotonic() + _LOCK_WAIT_S
            while True:
                try:
                    heap = _BULK_WRITER_HEAP if self.keep_writer else _WRITER_HEAP
                    self._writer = index.writer(heap_size=heap)
                    break
                except ValueError as exc:  # another process holds the writer lock: wait for our turn
                    if "Lock" not in str(exc) or time.monotonic() > deadline:
                        raise SearchUnavailable(f"search index is busy: {exc}") from exc
                    time.sleep(0.05)
        return self._writer

    def _release_writer(self) -> None:
        """Commit what a bulk load left pending, wait for the merges, let the writer lock go."""
        if self._writer is not None:
            writer, self._writer = self._writer, None
            if self._pending:
                writer.commit()
                self._pending = 0
            writer.wait_merging_threads()

    def _write(self, work) -> Any:
        with self._lock:
            self._current()
            if self._stale:
                raise SearchUnavailable("search index was built by another version; clear and re-index it")
            writer = self._take_writer()
            try:
                result = work(writer)
                self._pending += int(result or 0)
                if not self.keep_writer or self._pending >= BULK_COMMIT_DOCS:
                    writer.commit()
                    self._pending = 0
            except BaseException:
                try:
                    writer.rollback()
                finally:
                    self._writer, self._pending = None, 0
                raise
            finally:
                if not self.keep_writer:
                    self._release_writer()
            self._index.reload()
            return result

    def index(self, documents: Iterable[IndexDocument]) -> int:
        """Upsert documents in one commit (the same id again replaces it); returns the count."""

        def work(writer: Any) -> int:
            count = 0
            for doc in documents:
                writer.delete_documents_by_term("key", str(int(doc.id)))
                writer.add_document(_document(doc))
                count += 1
            return count

        return self._write(work)

    def delete(self, ids: Sequence[int]) -> None:
        def work(writer: Any) -> int:
            for doc_id in ids:
                writer.delete_documents_by_term("key", str(int(doc_id)))
            return len(ids)

        self._write(work)

    def clear(self) -> None:
        """Drop everything and start an empty index (also after a version change)."""
        with self._lock:
            self._current()
            writer = self._take_writer()
            writer.delete_all_documents()
            writer.commit()
            self._release_writer()
            assert self._dir is not None
            (self._dir / META_FILE).write_text(_SIGNATURE, encoding="utf-8")
            self._stale = False
            self._index.reload()

    def optimize(self) -> None:
        """After a bulk load: let the held writer go once its merges are done (the next write takes it again)."""
        with self._lock:
            self._release_writer()
            if self._index is not None:
                self._index.reload()

    # -- rebuild: a new directory, then the symlink moves ---------------------
    def new_generation(self) -> TantivyEngine:
        """An engine on a new, empty directory beside this one that nobody reads yet."""
        return TantivyEngine(
            self._stamped_dir(),
            time_limit_ms=int(self.time_limit * 1000),
            snippet_chars=self.snippet_chars,
            keep_writer=True,
            estimate_above=self.estimate_above,
            _generation=True,
        )

    def switch_to(self, generation: TantivyEngine) -> None:
        """Point ``path`` at ``generation``'s directory in one rename; keep the previous one, drop older ones."""
        generation.close()
        previous = Path(os.path.realpath(self.path)) if self.path.exists() else None
        if self.path.exists() and not self.path.is_symlink():  # an index made before generations: move it aside
            with self._lock:
                self._release_writer()
            legacy = self._stamped_dir()
            os.rename(self.path, legacy)
            previous = legacy
        self._link(Path(os.path.realpath(generation.path)))
        keep = {Path(os.path.realpath(generation.path)).name, previous.name if previous else ""}
        pattern = re.compile(re.escape(self.path.name) + r"-\d+")
        for old in self.path.parent.iterdir():
            if pattern.fullmatch(old.name) and old.name not in keep and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
        self._current()

    def discard(self) -> None:
        """Close and delete this (unfinished) generation's directory."""
        self.close()
        shutil.rmtree(Path(os.path.realpath(self.path)), ignore_errors=True)

    # -- reading ---------------------------------------------------------------
    def _searcher(self) -> Any:
        try:
            return self._current().searcher()
        except (OSError, ValueError) as exc:
            raise SearchUnavailable(f"search index error: {exc}") from exc

    def indexed_ids(self) -> set[int]:
        searcher = self._searcher()
        if searcher.num_docs == 0:
            return set()
        result = searcher.search(tantivy.Query.all_query(), limit=searcher.num_docs, count=False, order_by_field="id")
        return {int(value) for value, _ in result.hits}

    def count(self, scope: frozenset[str] | None = None) -> int:
        searcher = self._searcher()
        if scope is None:
            return int(searcher.num_docs)
        if not scope:
            return 0
        return int(searcher.search(_values("unit_code", scope), limit=1, count=True).count)

    def search(self, query: SearchQuery) -> SearchResult:
        """The page by block-max top-k (or a fast-field sort); the total and facets from the columns.

        One time budget covers the whole search, as in the SQLite engine: Tantivy cannot stop a
        collector half-way, so the deadline is checked between phases (before the counts, between
        the sample and the exact count, before and after the page) and a phase that ends past it
        gives ``SearchTimeout``; snippets past it fall back to the subject, unmarked."""
        deadline = time.monotonic() + self.time_limit
        if query.scope is not None and not query.scope:
            return SearchResult(total=0, hits=[], facets={})
        tquery, positive = build(query)
        searcher = self._searcher()
        facets = [f for f in query.facets if f in FACETS]
        _in_time(deadline)  # a spent budget starts nothing
        total, facet_values, estimated = self._counts(searcher, query, tquery, facets, deadline)
        if total == 0 or (query.offset >= total and not estimated):  # a lower bound: the page may exist
            return _result(total, [], facet_values, estimated)
        _in_time(deadline)
        if positive and query.sort == "relevance":
            # Many matches and no narrowing filter: a disjunction of the terms (block-max WAND); a phrase of
            # pairs in every document within a filter (a scope): the query with the filter beside its pairs.
            bound = None
            if not _narrowed(query):
                bound = bound_query(query) if total >= BOUND_FROM else None
            elif _dense_phrase(searcher, query):
                bound, _ = build(query, only=_all(_filters(query)), phrases_only=True)
            page = _ranked_page(searcher, tquery, query.offset, query.per_page, bound)
        else:  # ``down``/``up`` end in the id: never a tie
            field, order = ("up", tantivy.Order.Asc) if query.sort == "date_asc" else ("down", tantivy.Order.Desc)
            found = searcher.search(
                tquery, limit=query.per_page, count=False, offset=query.offset, order_by_field=field, order=order
            )
            page = [(score, searcher.doc(address)) for score, address in found.hits]
        _in_time(deadline)  # the page came too late: as an SQLite statement interrupted at the deadline
        hits = []
        for score, stored in page:
            doc_id = int(stored["id"][0])
            rank = float(score) if positive and query.sort == "relevance" else 0.0
            if not query.with_snippets:
                hits.append(Hit(id=doc_id, score=rank))
                continue
            subject, body = json.loads(bytes(stored["stored"][0]).decode("utf-8"))
            if time.monotonic() < deadline:
                text = snippet(body, query.terms, self.snippet_chars, fallback=subject)
            else:  # out of budget: the subject, unmarked, costs nothing
                text = snippet(subject or body[: self.snippet_chars], (), self.snippet_chars)
            hits.append(Hit(id=doc_id, score=rank, snippet=text))
        return _result(total, hits, facet_values, estimated)

    def _aggregate(self, searcher: Any, tquery: Any, facets: list[str]) -> tuple[int, dict[str, list[FacetValue]]]:
        try:
            aggs = searcher.aggregate(tquery, _aggregations(facets))
        except ValueError as exc:
            raise SearchUnavailable(f"search index error: {exc}") from exc
        total = int(aggs.get("total", {}).get("value") or 0)
        facet_values: dict[str, list[FacetValue]] = {}
        for name in facets:
            values = [FacetValue(str(b["key"]), int(b["doc_count"])) for b in aggs.get(name, {}).get("buckets", [])]
            values.sort(
                key=(lambda v: int(v.value)) if name == "year" else (lambda v: (-v.count, v.value)),
                reverse=name == "year",
            )
            facet_values[name] = values
        return total, facet_values

    def _counts(
        self, searcher: Any, query: SearchQuery, tquery: Any, facets: list[str], deadline: float
    ) -> tuple[int, dict[str, list[FacetValue]], bool]:
        """(total, facets, estimated).  Exact unless ``estimate_above`` is set and a 1/64 sample of the
        index (by a hash of the id) gives a lower bound (99.9 %) above that: then the total is that
        bound and the facet counts estimates, from the sample's times 64, two significant digits.

        The sample is not asked for when the documents holding the query's rarest term (or in its
        scope) are no more than ``estimate_above``, or no more than ``EXACT_BESIDE_SAMPLE`` samples
        of the index: counting those exactly costs about what the sample does (the rarest list leads
        both walks), and a sample that finds too few for an estimate is followed by the exact count
        anyway (a scope of 10,700 documents at 1M paid both: 113 ms CPU p95 for common words)."""
        counted = tquery
        if _narrowed(query) and _dense_phrase(searcher, query):  # the filter beside its pairs: see build
            counted, _ = build(query, only=_all(_filters(query)), phrases_only=True)
        if self.estimate_above is None or _at_most(searcher, query) <= max(
            self.estimate_above, EXACT_BESIDE_SAMPLE * int(searcher.num_docs) // SAMPLE_FACTOR
        ):
            return (*self._aggregate(searcher, counted, facets), False)
        sampled, _ = build(query, only=self._in_sample)
        total, facet_values = self._aggregate(searcher, sampled, facets)
        if counted_exactly(total, self.estimate_above):
            _in_time(deadline)
            return (*self._aggregate(searcher, counted, facets), False)
        return lower_bound(total), scaled(facet_values), True

    # -- backup: a copy of one commit, while writers and merges go on ---------------
    def copy_to(self, dest: str | Path) -> int:
        """Copy the last commit of the current generation into the new directory ``dest``; returns the
        documents it holds.

        Consistent without stopping ingest: ``meta.json`` (written atomically at each commit) is read
        once and the segment files it names are hard-linked beside the index at once (no lock held,
        milliseconds).  Segment files never change once written, so the links are that commit whatever
        a writer does next; if a merge deleted one of them between the reading and the linking, the
        next commit's ``meta.json`` is read again.  The links are then copied at leisure and dropped.
        """
        dest = Path(dest)
        source = Path(os.path.realpath(self.path))
        staging = self.path.parent / f".{self.path.name}-copy-{os.getpid()}-{time.time_ns()}"
        try:
            for _attempt in range(50):
                shutil.rmtree(staging, ignore_errors=True)
                staging.mkdir(parents=True)
                try:
                    meta = (source / "meta.json").read_bytes()
                    for name in _commit_files(source, json.loads(meta)):
                        _link_or_copy(source / name, staging / name)
                    break
                except FileNotFoundError:  # a merge removed a segment of that commit: read the next one
                    time.sleep(0.05)
            else:
                raise SearchUnavailable(f"search index {self.path} kept changing; no consistent copy made")
            (staging / "meta.json").write_bytes(meta)
            shutil.copyfile(source / META_FILE, staging / META_FILE)
            shutil.copytree(staging, dest)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        segments = json.loads(meta).get("segments", [])
        return sum(int(s["max_doc"]) - int((s.get("deletes") or {}).get("num_deleted_docs", 0)) for s in segments)

    @classmethod
    def install_copy(cls, path: str | Path, copy: str | Path) -> None:
        """Make ``path`` (nothing there yet) name a new generation holding ``copy`` (made by ``copy_to``)."""
        path = Path(path)
        if path.exists() or path.is_symlink():
            raise FileExistsError(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = cls.__new__(cls)  # only for its directory naming: nothing is opened
        engine.path = path
        target = engine._stamped_dir()
        shutil.copytree(copy, target)
        engine._link(target)

    def size_bytes(self) -> int:
        """Bytes on disk of the current generation (for the benchmarks)."""
        target = Path(os.path.realpath(self.path))
        return sum(p.stat().st_size for p in target.rglob("*") if p.is_file())

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            if os.getpid() == self._pid:
                self._release_writer()
            self._closed = True
            self._index = None
