"""The cluster engine: OpenSearch 2.x (``opensearch-py``) or Elasticsearch 8/9 (``elasticsearch``).

Same behaviour as ``sqlite_fts``; only the storage differs.  The index
definition is ``mappings/documents-v<N>.json``.  Readers and writers use an
alias (``ARCHIVE_SEARCH_INDEX``, default ``archive-documents``) that points at
one concrete index ``<alias>-v<N>-<timestamp>``; ``archive reindex`` builds a
new one and moves the alias when it is complete.

* Each query term is a phrase over the folded fields (number 10, subject 5,
  issuer 3, body 1, summed like bm25's columns) OR, when the user typed tones,
  over the exact fields, which then add to the score: exact tones rank first.
  A term of two or more words is searched on the folded syllable pairs (``.pairs``):
  "kế hoạch" is then one term, not a phrase of two syllables found in most documents.
* A document whose normalised number is in the query gets a constant boost far
  above any text score, so it sorts first (``sqlite_fts`` sorts it first too).
* The scope is a ``terms`` filter in every request; an empty scope is answered
  without asking the cluster.
* Snippets come from ``highlight.snippet`` on the stored text, so both engines
  return the same HTML.
* Pages past ``max_result_window`` are reached with ``search_after``.
* With ``estimate_above`` (the portal's ``search_exact_total_up_to``) a search that matches more
  documents than that is counted on the 1/64 sample (``indexes.sample``, mapping v4): the total is a
  lower bound ("hơn 780.000") and the facet counts estimates, exactly as the Tantivy engine gives them.
  An index of an older mapping (before ``archive reindex``) is counted exactly, as before.
* A search answers from every shard or fails (``allow_partial_search_results``
  off): a node lost with the only copy of a shard never yields silently short results.
* Writes live with back-pressure: batches cut by bytes, two in flight, and what the
  cluster refuses for now (429, circuit breaker, a primary moving) is sent again after an
  exponential back-off; only a cluster that takes nothing for ``retry_budget_seconds``
  (default ten minutes) fails the write, with ``SearchUnavailable``.
* ``url`` may list several nodes (comma-separated): a refused connection moves to the next.
* A new generation (``archive reindex``) is filled with no refreshes, no replicas and an
  async translog; ``switch_to`` restores the serving settings before the alias moves.

Only the calls that differ between the two clients live in ``_OpenSearchClient``
and ``_ElasticsearchClient``; everything else is shared.  The Elasticsearch
half is exercised only through its client library here (no server can be
installed on this machine); the tests run against a real OpenSearch node.

One module, over 400 lines on purpose: it is the whole of one engine behind ``SearchEngine``
(client adapters for the two flavours, bulk back-pressure, generations, queries); the parts
share the client, the alias and the retry budget, and ``sqlite_fts``/``tantivy_engine`` are
read side by side with it.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from functools import cache, partial
from importlib import resources
from typing import Any

from .base import FacetValue, Hit, IndexDocument, SearchQuery, SearchResult, SearchTimeout, SearchUnavailable, Term
from .fold import exact, nfc, normalize_number
from .highlight import fast_fold, snippet
from .sample import counted_exactly, lower_bound, sample_of, scaled

log = logging.getLogger(__name__)

MAPPING_VERSION = 4
FOLDED_FIELDS = ("number_text^10", "subject^5", "issuer_text^3", "body")
EXACT_FIELDS = ("subject.exact^5", "issuer_text.exact^3", "body.exact")
# Syllable pairs (shingles of two, folded): a phrase of n >= 2 words is n-1 pair terms there.
PAIR_FIELDS = ("number_text.pairs^10", "subject.pairs^5", "issuer_text.pairs^3", "body.pairs")
PAIRS_SINCE = 3  # the first mapping version with .pairs subfields
SAMPLE_SINCE = 4  # the first with the ``sample`` field (``indexes.sample``): broad searches counted on 1/64
FACETS = ("unit_code", "doc_type", "direction", "year", "dossier")
FACET_SIZE = 1000
NUMBER_BOOST = 100_000.0  # far above any text score: the exact number sorts first
MAX_WINDOW = 10_000  # index.max_result_window in the mapping file
WALK_BATCH = 5_000
POOL_SIZE = 8  # connections kept per node: bulk workers plus a portal process's threads
RETRYABLE_STATUS = {429, 502, 503, 504}
# Per-item bulk failures that mean "not now" rather than "never": a full write queue, a parent
# circuit breaker counting heap not yet collected, a shard whose primary is moving to another node.
TRANSIENT_ERRORS = {
    "es_rejected_execution_exception",
    "opensearch_rejected_execution_exception",
    "circuit_breaking_exception",
    "unavailable_shards_exception",
    "no_shard_available_action_exception",
    "node_closed_exception",
    "node_not_connected_exception",
    "node_disconnected_exception",
    "connect_transport_exception",
    "send_request_transport_exception",
    "receive_timeout_transport_exception",
    "primary_missing_action_exception",
    "shard_not_in_primary_mode_exception",
    "retry_on_primary_exception",
    "not_master_exception",
    "cluster_manager_not_discovered_exception",
    "master_not_discovered_exception",
    "process_cluster_event_timeout_exception",
}
TIMEOUT_MESSAGE = "Tìm kiếm mất quá nhiều thời gian; hãy thêm từ hoặc bộ lọc để thu hẹp."
_WORD_RE = re.compile(r"[^\W_]+")
# A token in every searched field of every document (see the mapping file): a private-use
# character, which the query builder never produces, so no query can match it.
PRESENT = "\ue000"


@cache
def index_definition(version: int = MAPPING_VERSION) -> dict[str, Any]:
    """The settings and mappings of ``mappings/documents-v<version>.json`` (comments dropped)."""
    text = resources.files("indexes").joinpath(f"mappings/documents-v{version}.json").read_text("utf-8")
    data = json.loads(text)
    return {"settings": data["settings"], "mappings": data["mappings"]}


def hosts_of(url: str) -> list[str]:
    """``ARCHIVE_SEARCH_URL`` may name several nodes of one cluster, separated by commas."""
    hosts = [part.strip() for part in url.split(",") if part.strip()]
    if not hosts:
        raise ValueError("no search cluster URL given")
    return hosts


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")


def index_name(alias: str, version: int = MAPPING_VERSION) -> str:
    """A new concrete index name: ``<alias>-v<version>-<UTC timestamp>``."""
    return f"{alias}-v{version}-{_stamp()}"


def version_of(index: str, alias: str) -> int | None:
    match = re.fullmatch(re.escape(alias) + r"-v(\d+)-\w+", index)
    return int(match.group(1)) if match else None


# -- documents and queries (shared by both clients) --------------------------------------


def to_source(doc: IndexDocument, *, sample: bool = True) -> dict[str, Any]:
    """The JSON stored for one document (text in NFC so the tokenizer sees whole letters);
    ``sample`` False for a mapping older than ``SAMPLE_SINCE`` (strict: an unknown field is refused)."""
    text = {f: nfc(getattr(doc, f) or "") for f in ("ma_van_ban", "number", "subject", "issuer", "signer", "body")}
    return {
        **({"sample": sample_of(doc.id)} if sample else {}),
        "id": int(doc.id),
        "unit_code": doc.unit_code,
        "doc_type": doc.doc_type or "",
        "direction": doc.direction or "",
        "issued_date": doc.issued_date.isoformat() if doc.issued_date else None,
        "year": doc.issued_date.year if doc.issued_date else None,
        "number_norm": normalize_number(doc.number),
        "dossier": doc.dossier or "",
        "signature": doc.signature or "",
        "restricted": bool(doc.restricted),
        **text,
        "number_text": [f"{text['number']} {text['ma_van_ban']}", PRESENT],
        "subject": [text["subject"], PRESENT],
        "issuer_text": [f"{text['issuer']} {text['signer']}", PRESENT],
        "body": [text["body"], PRESENT],
    }


def _first(value: Any) -> str:
    """The text of a searched field as stored (its first value; the second is ``PRESENT``)."""
    if isinstance(value, list):
        return str(value[0]) if value else ""
    return str(value or "")


def _safe_words(term: Term) -> list[str]:
    """Letters and digits only, even if a caller built the Term by hand (defence in depth)."""
    return [w for word in term.words for w in _WORD_RE.findall(str(word))]


def _phrase(text: str, fields: Sequence[str]) -> dict[str, Any]:
    return {"multi_match": {"query": text, "type": "phrase", "fields": list(fields), "tie_breaker": 1.0}}


def term_clause(words: list[str], *, negated: bool, scored: bool = True, pairs: bool = True) -> dict[str, Any]:
    """One user term: a folded phrase, OR (tones typed) the exact phrase, which adds to the score.
    Unscored (counting), the folded phrase alone: every exact match is also a folded match."""
    folded_words = [fast_fold(w) for w in words]
    folded = _phrase(" ".join(folded_words), PAIR_FIELDS if pairs and len(folded_words) > 1 else FOLDED_FIELDS)
    exact_words = [exact(w) for w in words]
    if negated or not scored or exact_words == folded_words:
        return folded
    return {"bool": {"should": [folded, _phrase(" ".join(exact_words), EXACT_FIELDS)], "minimum_should_match": 1}}


def filter_clauses(query: SearchQuery) -> list[dict[str, Any]]:
    """The scope first (mandatory), then the user's filters (restricted documents: ``exclusions``)."""
    clauses: list[dict[str, Any]] = []
    if query.scope is not None:
        clauses.append({"terms": {"unit_code": sorted(query.scope)}})
    for field_name, values in (
        ("unit_code", query.unit_codes),
        ("doc_type", query.doc_types),
        ("direction", query.directions),
        ("dossier", query.dossiers),
    ):
        if values:
            clauses.append({"terms": {field_name: list(values)}})
    if query.signature:
        clauses.append({"term": {"signature": query.signature}})
    if query.date_from or query.date_to:
        bounds = {}
        if query.date_from:
            bounds["gte"] = query.date_from.isoformat()
        if query.date_to:
            bounds["lte"] = query.date_to.isoformat()
        clauses.append({"range": {"issued_date": bounds}})
    if query.number_filter:
        number = normalize_number(query.number_filter)
        clauses.append(
            {
                "bool": {
                    "minimum_should_match": 1,
                    "should": [
                        {"term": {"number_norm": number}},
                        *({"prefix": {"number_norm": prefix}} for prefix in query.number_prefixes if prefix),
                    ],
                }
            }
        )
    return clauses


def exclusions(query: SearchQuery) -> list[dict[str, Any]]:
    """What no search shows unless allowed: restricted documents.  They go in the ``must_not`` of the
    query's own ``bool``, beside its terms, so only its matches are looked up there; as a filter of
    their own (a ``bool`` of only ``must_not``) every document of the index was walked to find the
    others, which doubled the ranked page of broad searches at 1M (``ủy ban`` 160 -> 88 ms)."""
    return [] if query.restricted_ok else [{"term": {"restricted": True}}]


def scope_query(scope: frozenset[str] | None) -> dict[str, Any]:
    if scope is None:
        return {"match_all": {}}
    return {"bool": {"filter": [{"terms": {"unit_code": sorted(scope)}}]}}


def count_request(query: SearchQuery, *, pairs: bool = True, sample: bool = False) -> dict[str, Any]:
    """The query that counts the total and the facets: the same documents as ``build_request``,
    unscored (a filter), without the exact-tone alternatives and the number boost, which only rank.
    ``sample``: only those of the 1/64 sample (``sample`` 0), whose short posting list then leads the
    conjunction, so the long lists of common words are only skipped through."""
    must: list[dict[str, Any]] = [{"term": {"sample": "0"}}] if sample else []
    must_not: list[dict[str, Any]] = []
    for term in query.terms:
        words = _safe_words(term)
        if words:
            (must_not if term.negated else must).append(
                term_clause(words, negated=term.negated, scored=False, pairs=pairs)
            )
    boolean: dict[str, Any] = {"filter": filter_clauses(query) + must}
    must_not += exclusions(query)
    if must_not:
        boolean["must_not"] = must_not
    return {"bool": boolean}


def build_request(query: SearchQuery, *, pairs: bool = True) -> tuple[dict[str, Any], bool]:
    """(request body without paging, whether it is ranked by relevance)."""
    must: list[dict[str, Any]] = []
    must_not: list[dict[str, Any]] = []
    for term in query.terms:
        words = _safe_words(term)
        if words:
            (must_not if term.negated else must).append(term_clause(words, negated=term.negated, pairs=pairs))
    relevance = bool(must) and query.sort == "relevance"
    boolean: dict[str, Any] = {"filter": filter_clauses(query)}
    if must:
        boolean["must"] = must
    must_not += exclusions(query)
    if must_not:
        boolean["must_not"] = must_not
    if relevance and query.numbers:
        boolean["should"] = [
            {"constant_score": {"filter": {"terms": {"number_norm": list(query.numbers)}}, "boost": NUMBER_BOOST}}
        ]
    if relevance:
        sort: list[Any] = [{"_score": {"order": "desc"}}, {"id": {"order": "desc"}}]
    elif query.sort == "date_asc":
        sort = [{"issued_date": {"order": "asc", "missing": "_last"}}, {"id": {"order": "asc"}}]
    else:
        sort = [{"issued_date": {"order": "desc", "missing": "_last"}}, {"id": {"order": "desc"}}]
    body: dict[str, Any] = {"query": {"bool": boolean}, "sort": sort}
    return body, relevance


def facet_aggs(names: Iterable[str]) -> dict[str, Any]:
    return {name: {"terms": {"field": name, "size": FACET_SIZE}} for name in names if name in FACETS}


def read_facets(aggs: dict[str, Any], names: Iterable[str]) -> dict[str, list[FacetValue]]:
    out: dict[str, list[FacetValue]] = {}
    for name in names:
        if name not in FACETS:
            continue
        buckets = (aggs.get(name) or {}).get("buckets", [])
        values = [
            FacetValue(str(b["key"]), int(b["doc_count"]))
            for b in buckets
            if str(b["key"]) != "" and b["doc_count"] > 0
        ]
        # Years newest first; the others most frequent first (as sqlite_fts).
        values.sort(
            key=(lambda v: v.value) if name == "year" else (lambda v: (-v.count, v.value)), reverse=name == "year"
        )
        out[name] = values
    return out


# -- the two clients ------------------------------------------------------------------------


class _Unavailable(Exception):
    """Raised by an adapter; ``kind`` is 'timeout', 'unavailable', 'missing' or 'retry'."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class _OpenSearchClient:
    """opensearch-py: bodies go in ``body=``."""

    def __init__(self, url: str, timeout: float) -> None:
        from opensearchpy import OpenSearch
        from opensearchpy import exceptions as errors

        self.errors = errors
        hosts = hosts_of(url)
        # With several nodes, a refused connection is tried once on each other node; status codes
        # (429, 503) are left to the engine, which backs off instead of hammering a busy cluster.
        self.client = OpenSearch(
            hosts=hosts,
            timeout=timeout,
            max_retries=len(hosts) - 1,
            retry_on_status=(),
            retry_on_timeout=False,
            pool_maxsize=POOL_SIZE,
        )

    def translate(self, exc: Exception) -> _Unavailable | None:
        errors = self.errors
        if isinstance(exc, errors.ConnectionTimeout):
            return _Unavailable("timeout", str(exc))
        if isinstance(exc, errors.ConnectionError):
            return _Unavailable("unavailable", f"search cluster unreachable: {exc}")
        if isinstance(exc, errors.NotFoundError):
            return _Unavailable("missing", str(exc))
        if isinstance(exc, errors.TransportError):
            status = exc.status_code if isinstance(exc.status_code, int) else 0
            return _Unavailable(
                "retry" if status in RETRYABLE_STATUS else "unavailable",
                f"search cluster error {exc.status_code}: {exc.error} {exc.info}",
            )
        return None

    def search(self, index: str, body: dict, timeout: float) -> dict:
        return self.client.search(index=index, body=body, request_timeout=timeout, allow_partial_search_results=False)

    def msearch(self, index: str, bodies: list[dict], timeout: float) -> dict:
        lines: list[dict] = []
        for body in bodies:
            lines += [{"index": index, "allow_partial_search_results": False}, body]
        return self.client.msearch(body=lines, request_timeout=timeout)

    def count(self, index: str, query: dict) -> int:
        return int(self.client.count(index=index, body={"query": query})["count"])

    def bulk(self, operations: list[dict], timeout: float) -> dict:
        return self.client.bulk(body=operations, request_timeout=timeout)

    def refresh(self, index: str) -> None:
        self.client.indices.refresh(index=index)

    def create_index(self, name: str, body: dict) -> None:
        self.client.indices.create(index=name, body=body)

    def delete_index(self, name: str) -> None:
        self.client.indices.delete(index=name, ignore_unavailable=True)

    def alias_targets(self, alias: str) -> list[str]:
        if not self.client.indices.exists_alias(name=alias):
            return []
        return sorted(self.client.indices.get_alias(name=alias))

    def update_aliases(self, actions: list[dict]) -> None:
        self.client.indices.update_aliases(body={"actions": actions})

    def put_settings(self, index: str, settings: dict) -> None:
        self.client.indices.put_settings(index=index, body=settings)

    def health(self, timeout: float) -> dict:
        return self.client.cluster.health(request_timeout=timeout)

    def wait_for(self, index: str, status: str, timeout: float) -> dict:
        return self.client.cluster.health(
            index=index, wait_for_status=status, timeout=f"{int(timeout)}s", request_timeout=timeout + 10
        )

    def close(self) -> None:
        self.client.close()


class _ElasticsearchClient:
    """elasticsearch-py 8/9: bodies are keyword arguments; timeouts go through ``options()``."""

    def __init__(self, url: str, timeout: float) -> None:
        import elastic_transport
        import elasticsearch

        self.transport_errors = elastic_transport
        self.errors = elasticsearch
        hosts = hosts_of(url)
        self.client = elasticsearch.Elasticsearch(
            hosts,
            request_timeout=timeout,
            max_retries=len(hosts) - 1,
            retry_on_status=(),
            retry_on_timeout=False,
            connections_per_node=POOL_SIZE,
        )

    def translate(self, exc: Exception) -> _Unavailable | None:
        if isinstance(exc, self.transport_errors.ConnectionTimeout):
            return _Unavailable("timeout", str(exc))
        if isinstance(exc, self.transport_errors.ConnectionError):
            return _Unavailable("unavailable", f"search cluster unreachable: {exc}")
        if isinstance(exc, self.errors.NotFoundError):
            return _Unavailable("missing", str(exc))
        if isinstance(exc, self.errors.ApiError):
            status = exc.meta.status if exc.meta else 0
            return _Unavailable(
                "retry" if status in RETRYABLE_STATUS else "unavailable", f"search cluster error {status}: {exc.body}"
            )
        if isinstance(exc, self.transport_errors.TransportError):
            return _Unavailable("unavailable", f"search cluster error: {exc}")
        return None

    def search(self, index: str, body: dict, timeout: float) -> dict:
        return (
            self.client.options(request_timeout=timeout)
            .search(index=index, allow_partial_search_results=False, **body)
            .body
        )

    def msearch(self, index: str, bodies: list[dict], timeout: float) -> dict:
        lines: list[dict] = []
        for body in bodies:
            lines += [{"index": index, "allow_partial_search_results": False}, body]
        return self.client.options(request_timeout=timeout).msearch(searches=lines).body

    def count(self, index: str, query: dict) -> int:
        return int(self.client.count(index=index, query=query)["count"])

    def bulk(self, operations: list[dict], timeout: float) -> dict:
        return self.client.options(request_timeout=timeout).bulk(operations=operations).body

    def refresh(self, index: str) -> None:
        self.client.indices.refresh(index=index)

    def create_index(self, name: str, body: dict) -> None:
        self.client.indices.create(index=name, settings=body["settings"], mappings=body["mappings"])

    def delete_index(self, name: str) -> None:
        self.client.indices.delete(index=name, ignore_unavailable=True)

    def alias_targets(self, alias: str) -> list[str]:
        if not self.client.indices.exists_alias(name=alias):
            return []
        return sorted(self.client.indices.get_alias(name=alias).body)

    def update_aliases(self, actions: list[dict]) -> None:
        self.client.indices.update_aliases(actions=actions)

    def put_settings(self, index: str, settings: dict) -> None:
        self.client.indices.put_settings(index=index, settings=settings)

    def health(self, timeout: float) -> dict:
        return self.client.options(request_timeout=timeout).cluster.health().body

    def wait_for(self, index: str, status: str, timeout: float) -> dict:
        return (
            self.client.options(request_timeout=timeout + 10)
            .cluster.health(index=index, wait_for_status=status, timeout=f"{int(timeout)}s")
            .body
        )

    def close(self) -> None:
        self.client.close()


CLIENTS: dict[str, Callable[[str, float], Any]] = {
    "opensearch": _OpenSearchClient,
    "elasticsearch": _ElasticsearchClient,
}


# -- the engine -------------------------------------------------------------------------------


class ClusterEngine:
    """The ``SearchEngine`` on an OpenSearch or Elasticsearch cluster.

    ``index_target`` None means "the alias" (normal use); a concrete index name
    is used while a rebuild fills a new index before the alias moves to it.
    Nothing is contacted before the first call, so a portal starts while the
    cluster is down and shows the 503 page until it is back.
    """

    def __init__(
        self,
        url: str,
        *,
        flavour: str = "opensearch",
        alias: str = "archive-documents",
        time_limit_ms: int = 5000,
        snippet_chars: int = 240,
        batch_docs: int = 5000,
        batch_bytes: int = 8 * 1024 * 1024,
        retry_budget_seconds: float = 600.0,
        backoff_seconds: float = 0.5,
        max_backoff_seconds: float = 30.0,
        bulk_workers: int = 2,
        refresh: bool = True,
        index_target: str | None = None,
        replicas: int | None = None,
        max_window: int = MAX_WINDOW,
        split_requests: bool = True,
        mapping_version: int = MAPPING_VERSION,
        estimate_above: int | None = None,
    ) -> None:
        if flavour not in CLIENTS:
            raise ValueError(f"unknown cluster flavour: {flavour!r}")
        self.name = flavour
        self.flavour = flavour
        self.url = url
        self.alias = alias
        self.time_limit = time_limit_ms / 1000.0
        self.snippet_chars = snippet_chars
        # Batches are cut by bytes first (a few MB is what a node digests best); the count is a ceiling.
        self.batch_docs = batch_docs
        self.batch_bytes = batch_bytes
        # A busy cluster (429, circuit breaker, a primary moving) is waited for with exponential
        # back-off; only when no bulk request has gone through for this long is the write refused.
        self.retry_budget = retry_budget_seconds
        self.backoff_seconds = backoff_seconds
        self.max_backoff = max_backoff_seconds
        self.bulk_workers = max(1, bulk_workers)
        self.refresh_after_write = refresh
        self.replicas = replicas
        self.max_window = min(max_window, MAX_WINDOW)  # past it, pages are reached with search_after
        self.split_requests = split_requests
        self.mapping_version = mapping_version  # older ones only to measure against (bench)
        # More matches than this: the total is a lower bound and the facets estimates, counted on the
        # 1/64 sample (``indexes.sample``), as the Tantivy engine does; None counts every match.
        self.estimate_above = estimate_above
        self._served_version: int | None = None  # the mapping of the index behind the alias, when known
        self._target = index_target
        self._client: Any = None
        self._pid = os.getpid()
        self._ready = index_target is not None
        self._lock = threading.RLock()
        self._closed = False

    # -- plumbing --------------------------------------------------------
    @property
    def client(self) -> Any:
        if self._closed:
            raise SearchUnavailable("search engine is closed")
        if self._pid != os.getpid():  # after a fork: never share the parent's sockets
            self._pid, self._client = os.getpid(), None
        if self._client is None:
            with self._lock:
                if self._client is None:
                    # Bulk requests may take longer than a search: the client's default is generous,
                    # searches pass their own limit.
                    self._client = CLIENTS[self.flavour](self.url, max(30.0, self.time_limit))
        return self._client

    def _call(self, fn: Callable[[], Any], *, retryable: bool = False) -> Any:
        """Run one client call; cluster trouble becomes ``SearchUnavailable``/``SearchTimeout``,
        or ``_RetryLater`` for the bulk loop when ``retryable``."""
        client = self.client
        try:
            return fn()
        except Exception as exc:
            problem = client.translate(exc)
            if problem is None:
                raise
            if retryable and problem.kind in ("retry", "unavailable", "timeout"):
                raise _RetryLater(str(problem)) from exc
            error = SearchTimeout(TIMEOUT_MESSAGE) if problem.kind == "timeout" else SearchUnavailable(str(problem))
            error.transient = problem.kind in ("retry", "unavailable", "timeout")  # type: ignore[attr-defined]
            raise error from exc

    def _backoff(self) -> _Backoff:
        return _Backoff(self.retry_budget, self.backoff_seconds, self.max_backoff)

    def _patient(self, fn: Callable[[], Any], what: str) -> Any:
        """``fn()`` for a write, waiting out a busy or unreachable cluster like ``_bulk`` does."""
        backoff = self._backoff()
        while True:
            try:
                return fn()
            except SearchUnavailable as exc:
                if not getattr(exc, "transient", False):
                    raise
                backoff.wait(what, str(exc))

    @property
    def target(self) -> str:
        """Where reads and writes go: the alias (created with its first index if missing)."""
        if not self._ready:
            with self._lock:
                if not self._ready:
                    self._ensure_alias()
                    self._ready = True
        return self._target or self.alias

    def _ensure_alias(self) -> None:
        targets = self._call(lambda: self.client.alias_targets(self.alias))
        versions = [v for v in (version_of(name, self.alias) for name in targets) if v is not None]
        self._served_version = min(versions) if versions else None
        if targets:
            return
        # A fixed first name: two processes starting together create the same index once.
        first = f"{self.alias}-v{self.mapping_version}-0"
        try:
            self._call(lambda: self.client.create_index(first, self._definition()))
        except SearchUnavailable as exc:
            if "resource_already_exists" not in str(exc):
                raise
        self._call(lambda: self.client.update_aliases([{"add": {"index": first, "alias": self.alias}}]))

    def _definition(self, *, loading: bool = False) -> dict[str, Any]:
        body = json.loads(json.dumps(index_definition(self.mapping_version)))
        body["settings"]["index"].update(self._load_settings() if loading else self._serving_settings())
        return body

    @staticmethod
    def _load_settings() -> dict[str, Any]:
        """While a new generation is filled nobody reads it: no refreshes (each makes a segment to
        merge later), no replicas (built once, copied at the end instead of indexed twice), and the
        translog synced every few seconds instead of per request (a crash loses only the build)."""
        return {"refresh_interval": "-1", "number_of_replicas": 0, "translog.durability": "async"}

    def _serving_settings(self) -> dict[str, Any]:
        """The settings of an index people search (those of the mapping file, replicas as configured)."""
        index = index_definition(self.mapping_version)["settings"]["index"]
        replicas = self.replicas if self.replicas is not None else index["number_of_replicas"]
        return {
            "refresh_interval": index["refresh_interval"],
            "number_of_replicas": replicas,
            "translog.durability": "request",
        }

    def _check_version(self) -> None:
        """Writes into an index built from another mapping version would be half-searchable."""
        if self._target is not None:
            return
        for name in self._call(lambda: self.client.alias_targets(self.alias)):
            if version_of(name, self.alias) not in (None, self.mapping_version):
                raise SearchUnavailable("search index was built by another version; run `archive reindex`")

    def _refresh(self) -> None:
        if self.refresh_after_write:
            self._call(lambda: self.client.refresh(self.target))

    # -- writing ---------------------------------------------------------
    def _batches(self, documents: Iterable[IndexDocument]) -> Iterator[list[tuple[int, dict, int]]]:
        batch: list[tuple[int, dict, int]] = []
        size = 0
        for doc in documents:
            source = to_source(doc, sample=self.mapping_version >= SAMPLE_SINCE)
            weight = len(json.dumps(source, ensure_ascii=False).encode("utf-8")) + 64
            if batch and (len(batch) >= self.batch_docs or size + weight > self.batch_bytes):
                yield batch
                batch, size = [], 0
            batch.append((int(doc.id), source, weight))
            size += weight
        if batch:
            yield batch

    def _bulk(self, actions: list[tuple[dict, dict | None]]) -> None:
        """Send (action, source) pairs until every one is taken; what the cluster refuses for now
        (429, circuit breaker, shard moving, node unreachable) is sent again after an exponential,
        jittered back-off.  The budget restarts whenever an operation gets through, so a slow but
        working cluster never fails a write; one that takes nothing for ``retry_budget`` seconds does."""
        pending = actions
        backoff = self._backoff()
        while pending:
            operations: list[dict] = []
            for action, source in pending:
                operations.append(action)
                if source is not None:
                    operations.append(source)
            retry: list[tuple[dict, dict | None]] = []
            try:
                response = self._call(partial(self._send_bulk, operations), retryable=True)
            except _RetryLater as exc:
                retry, reason = pending, str(exc)
            else:
                reason = ""
                if response.get("errors"):
                    for (action, source), item in zip(pending, response["items"], strict=False):
                        result = next(iter(item.values()))
                        status = int(result.get("status", 200))
                        if status < 300 or ("delete" in action and status == 404):
                            continue
                        error = result.get("error") or {}
                        kind = error.get("type", "") if isinstance(error, dict) else ""
                        if status in RETRYABLE_STATUS or kind in TRANSIENT_ERRORS:
                            retry.append((action, source))
                            reason = f"{status} {kind or error}"
                        else:
                            raise SearchUnavailable(f"search cluster refused document {result.get('_id')}: {error}")
            if not retry:
                return
            if len(retry) < len(pending):  # progress: the cluster is working, only slowly
                backoff.progress()
            backoff.wait(f"{len(retry)} of {len(pending)} documents", reason)
            pending = retry

    def _send_bulk(self, operations: list[dict]) -> dict:
        return self.client.bulk(operations, max(60.0, self.time_limit))

    def index(self, documents: Iterable[IndexDocument]) -> int:
        """Upsert documents in batches (same id again replaces it); returns the count.

        ``bulk_workers`` batches are in flight at once (one per core of a small node); a document
        id is never in two batches in flight together, so the last version sent wins."""
        target = self._patient(lambda: self.target, "the index")
        self._patient(self._check_version, "the index")
        count = 0
        in_flight: list[tuple[Future[None], set[int]]] = []
        with ThreadPoolExecutor(max_workers=self.bulk_workers, thread_name_prefix="bulk") as pool:
            try:
                for batch in self._batches(documents):
                    ids = {doc_id for doc_id, _, _ in batch}
                    while in_flight and (
                        len(in_flight) >= self.bulk_workers or any(ids & sent for _, sent in in_flight)
                    ):
                        future, _ = in_flight.pop(0)
                        future.result()
                    actions: list[tuple[dict, dict | None]] = [
                        ({"index": {"_index": target, "_id": str(doc_id)}}, source) for doc_id, source, _ in batch
                    ]
                    in_flight.append((pool.submit(self._bulk, actions), ids))
                    count += len(batch)
                for future, _ in in_flight:
                    future.result()
            finally:
                for future, _ in in_flight:
                    future.cancel()
        if count:
            self._patient(self._refresh, "a refresh")
        return count

    def delete(self, ids: Sequence[int]) -> None:
        target = self._patient(lambda: self.target, "the index")
        self._patient(self._check_version, "the index")
        ids = [int(i) for i in ids]
        for start in range(0, len(ids), self.batch_docs):
            self._bulk(
                [({"delete": {"_index": target, "_id": str(i)}}, None) for i in ids[start : start + self.batch_docs]]
            )
        if ids:
            self._patient(self._refresh, "a refresh")

    def clear(self) -> None:
        """Start an empty index (also after a mapping change): a new index, then the alias moves."""
        fresh = self.new_generation()
        self.switch_to(fresh)
        fresh.close()

    # -- rebuild: a new index behind the alias ---------------------------
    def new_generation(self) -> ClusterEngine:
        """An engine on a new, empty concrete index (not yet searchable through the alias)."""
        name = index_name(self.alias, self.mapping_version)
        self._call(lambda: self.client.create_index(name, self._definition(loading=True)))
        return ClusterEngine(
            self.url,
            flavour=self.flavour,
            alias=self.alias,
            time_limit_ms=int(self.time_limit * 1000),
            snippet_chars=self.snippet_chars,
            batch_docs=self.batch_docs,
            batch_bytes=self.batch_bytes,
            retry_budget_seconds=self.retry_budget,
            backoff_seconds=self.backoff_seconds,
            max_backoff_seconds=self.max_backoff,
            bulk_workers=self.bulk_workers,
            refresh=False,
            index_target=name,
            replicas=self.replicas,
            split_requests=self.split_requests,
            mapping_version=self.mapping_version,
            estimate_above=self.estimate_above,
        )

    def switch_to(self, generation: ClusterEngine) -> None:
        """Make ``generation`` the one the alias names (one atomic alias update); drop the old ones."""
        name = generation._target
        assert name is not None
        # Undo the bulk-load settings, make everything searchable, and wait until every primary is
        # active before readers are moved (replicas are copied in the background).
        self._call(lambda: self.client.put_settings(name, {"index": self._serving_settings()}))
        self._call(lambda: self.client.refresh(name))
        health = self._call(lambda: self.client.wait_for(name, "yellow", 120.0))
        if health.get("timed_out"):
            raise SearchUnavailable(f"search index {name} is not ready (status {health.get('status')})")
        old = [n for n in self._call(lambda: self.client.alias_targets(self.alias)) if n != name]
        actions = [{"remove": {"index": n, "alias": self.alias}} for n in old]
        actions.append({"add": {"index": name, "alias": self.alias}})
        self._call(lambda: self.client.update_aliases(actions))
        for n in old:
            self._call(partial(self.client.delete_index, n))
        self._ready = False  # re-check the alias on next use

    def discard(self) -> None:
        """Delete this (unfinished) generation's index; never the ones behind the alias."""
        if self._target is None:
            raise ValueError("discard() is for a generation made by new_generation()")
        self._call(lambda: self.client.delete_index(self._target))
        self.close()

    def drop(self) -> None:
        """Delete the alias and every index behind it (tests, benchmarks)."""
        if self._target is not None:
            return self.discard()
        for name in self._call(lambda: self.client.alias_targets(self.alias)):
            self._call(partial(self.client.delete_index, name))
        self._ready = False

    # -- reading ---------------------------------------------------------
    def _search(self, body: dict) -> dict:
        target = self.target
        try:
            return self._call(lambda: self.client.search(target, body, self.time_limit))
        except SearchUnavailable as exc:
            if "index_not_found" in str(exc):
                self._ready = False
            raise

    def _msearch(self, bodies: list[dict]) -> list[dict]:
        target = self.target
        answers = self._call(lambda: self.client.msearch(target, bodies, self.time_limit))["responses"]
        for answer in answers:
            if "error" in answer:  # one failed search inside a 200 answer
                error, status = answer["error"], answer.get("status")
                if isinstance(error, dict) and "index_not_found" in str(error.get("type", "")):
                    self._ready = False
                raise SearchUnavailable(f"search cluster error {status}: {error}")
        return answers

    def indexed_ids(self) -> set[int]:
        ids: set[int] = set()
        body: dict[str, Any] = {
            "query": {"match_all": {}},
            "sort": [{"id": {"order": "asc"}}],
            "_source": False,
            "size": MAX_WINDOW,
            "track_total_hits": False,
        }
        while True:
            hits = self._search(body)["hits"]["hits"]
            ids.update(int(h["sort"][0]) for h in hits)
            if len(hits) < MAX_WINDOW:
                return ids
            body["search_after"] = hits[-1]["sort"]

    def count(self, scope: frozenset[str] | None = None) -> int:
        if scope is not None and not scope:
            return 0
        target = self.target
        return self._call(lambda: self.client.count(target, scope_query(scope)))

    def _index_version(self) -> int:
        """The mapping the searches are written for: that of the index behind the alias when it is older
        (one built before an upgrade is searched as it was built until ``archive reindex``), else ours."""
        _ = self.target  # finds the alias, and the index it names, once
        return min(self._served_version or self.mapping_version, self.mapping_version)

    def search(self, query: SearchQuery) -> SearchResult:
        """The page and the counts (total, facets) as two requests side by side in one ``_msearch``:
        the page ranked with block-max WAND and no total, the counts with the query as an unscored
        filter (``split_requests`` False: one request does both, counting every match exactly).

        With ``estimate_above`` (and a mapping that has the sample) the counts request is limited to
        the 1/64 sample; when the lower bound it gives is more than ``estimate_above``, the total is
        that bound and the facets estimates (``indexes.sample``, as Tantivy reports them), otherwise
        the matches are few and a second counts request counts them exactly (``counted_exactly``)."""
        if query.scope is not None and not query.scope:
            return SearchResult(total=0, hits=[], facets={})
        version = self._index_version()
        pairs = version >= PAIRS_SINCE
        body, relevance = build_request(query, pairs=pairs)
        facets = [f for f in query.facets if f in FACETS]
        source: Any = ["subject", "body"] if query.with_snippets else False
        deep = query.offset + query.per_page > self.max_window
        estimated = False
        if self.split_requests:
            sample = self.estimate_above is not None and version >= SAMPLE_SINCE
            counts = self._counts_body(query, facets, pairs=pairs, sample=sample)
            if deep:  # the page is walked to below, once the total is known
                counted, raw = self._search(counts), []
            else:
                page = dict(body, track_total_hits=False, _source=source, size=query.per_page, **{"from": query.offset})
                response, counted = self._msearch([page, counts])
                raw = response["hits"]["hits"]
            total = int(counted["hits"]["total"]["value"])
            facet_values = read_facets(counted.get("aggregations") or {}, facets)
            if sample and self.estimate_above is not None:
                if counted_exactly(total, self.estimate_above):  # few matches: counting them all is cheap
                    counted = self._search(self._counts_body(query, facets, pairs=pairs, sample=False))
                    total = int(counted["hits"]["total"]["value"])
                    facet_values = read_facets(counted.get("aggregations") or {}, facets)
                else:
                    total, facet_values, estimated = lower_bound(total), scaled(facet_values), True
        else:
            one = dict(
                body,
                track_total_hits=True,
                aggs=facet_aggs(facets),
                _source=source,
                size=0 if deep else query.per_page,
                **({} if deep else {"from": query.offset}),
            )
            response = self._search(one)
            raw = response["hits"]["hits"]
            total = int(response["hits"]["total"]["value"])
            facet_values = read_facets(response.get("aggregations") or {}, facets)
        if total == 0:
            return SearchResult(total=0, hits=[], facets=facet_values)
        if deep:  # past a lower bound the page may still exist: walked to, it says
            raw = (
                self._deep_page(body, query.offset, query.per_page, source) if query.offset < total or estimated else []
            )
        hits = self._hits(raw, query, relevance)
        return SearchResult(total=total, hits=hits, facets=facet_values, total_is_lower_bound=estimated)

    @staticmethod
    def _counts_body(query: SearchQuery, facets: list[str], *, pairs: bool, sample: bool) -> dict[str, Any]:
        return {
            "query": count_request(query, pairs=pairs, sample=sample),
            "size": 0,
            "track_total_hits": True,
            "aggs": facet_aggs(facets),
        }

    def _deep_page(self, body: dict, offset: int, size: int, source: Any) -> list[dict]:
        """Skip ``offset`` hits with ``search_after`` (sort values only), then read one page."""
        after = None
        remaining = offset
        walk = dict(body, _source=False, track_total_hits=False)
        while remaining > 0:
            step = min(WALK_BATCH, self.max_window, remaining)
            request = dict(walk, size=step, **({"search_after": after} if after else {}))
            hits = self._search(request)["hits"]["hits"]
            if len(hits) < step:
                return []
            remaining -= step
            after = hits[-1]["sort"]
        return self._search(dict(body, _source=source, track_total_hits=False, size=size, search_after=after))["hits"][
            "hits"
        ]

    def _hits(self, raw: list[dict], query: SearchQuery, relevance: bool) -> list[Hit]:
        hits = []
        for item in raw:
            score = float(item.get("_score") or 0.0) if relevance else 0.0
            text = ""
            if query.with_snippets:
                stored = item.get("_source") or {}
                text = snippet(
                    _first(stored.get("body")), query.terms, self.snippet_chars, fallback=_first(stored.get("subject"))
                )
            hits.append(Hit(id=int(item["_id"]), score=score, snippet=text))
        return hits

    def health(self) -> dict:
        return self._call(lambda: self.client.health(self.time_limit))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._client is not None:
                self._client.close()
                self._client = None


class _RetryLater(Exception):
    """A bulk request the cluster could not take now (connection trouble, 429, 503)."""


class _Backoff:
    """Exponential, jittered waits between tries of a write; ``wait`` raises ``SearchUnavailable``
    once ``budget`` seconds have gone by without ``progress()``."""

    def __init__(self, budget: float, first: float, ceiling: float) -> None:
        self.budget, self.first, self.ceiling = budget, first, ceiling
        self.progress()

    def progress(self) -> None:
        self.attempt = 0
        self.deadline = time.monotonic() + self.budget

    def wait(self, what: str, reason: str) -> None:
        now = time.monotonic()
        if now >= self.deadline:
            raise SearchUnavailable(f"search cluster kept refusing {what} for {self.budget:g}s: {reason}")
        delay = min(self.ceiling, self.first * (2**self.attempt)) * random.uniform(0.5, 1.0)
        delay = min(delay, self.deadline - now)
        self.attempt += 1
        log.warning("search cluster refused %s (%s); try %d in %.1fs", what, reason, self.attempt + 1, delay)
        time.sleep(delay)
