"""What only the cluster engine has: pages past the result window (search_after), bulk retries."""
from __future__ import annotations

import http.client
import json
import threading
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from indexes.base import SearchUnavailable
from indexes.opensearch import ClusterEngine
from indexes.query import build_query
from tests.indexes.conftest import ENGINES, ESTIMATE_ABOVE, make_doc, many_docs
from tests.opensearch_node import unique_alias

pytestmark = [pytest.mark.timeout(300),
              pytest.mark.skipif("opensearch" not in ENGINES, reason="ARCHIVE_TEST_ENGINES leaves out opensearch")]


@pytest.fixture
def small_window(opensearch_node):
    """An engine that switches to search_after past 20 hits (10,000 on a real index)."""
    engine = ClusterEngine(opensearch_node.url, alias=unique_alias(), max_window=20, time_limit_ms=30_000)
    yield engine
    engine.drop()
    engine.close()


@pytest.mark.parametrize("sort", ["relevance", "date_desc", "date_asc"])
def test_deep_pages_with_search_after_match_shallow_pages(opensearch_node, small_window, sort):
    docs = [make_doc(i, subject=f"Kế hoạch đê điều số {i}", body="đê điều " * (i % 5 + 1),
                     issued_date=date(2020, 1, 1) + timedelta(days=i // 3) if i % 7 else None)
            for i in range(1, 66)]
    small_window.index(docs)
    shallow = ClusterEngine(opensearch_node.url, alias=small_window.alias, time_limit_ms=30_000)
    try:
        pages = [(small_window.search(build_query("de dieu", scope=None, sort=sort, per_page=7, page=p)),
                  shallow.search(build_query("de dieu", scope=None, sort=sort, per_page=7, page=p)))
                 for p in range(1, 12)]
    finally:
        shallow.close()
    deep_ids = [h.id for deep, _ in pages for h in deep.hits]
    assert deep_ids == [h.id for _, flat in pages for h in flat.hits]
    assert sorted(deep_ids) == list(range(1, 66))  # every hit once, none lost past the window
    assert all(deep.total == 65 for deep, _ in pages)
    assert pages[9][0].hits and pages[9][0].hits[0].snippet.count("<mark>") >= 2



class _Busy(ThreadingHTTPServer):
    """A loopback proxy to the real node that plays a busy cluster on bulk requests.

    ``policy(n)`` decides the n-th bulk request (0-based): "forward" it, answer it whole with
    "429" (a full write queue) or "breaker" (a tripped parent circuit breaker), or "partial":
    forward only its first ``take`` operations and answer the others per item with 429 inside a
    200 response, as a node whose shard-level write queue is full does."""

    def __init__(self, upstream: str, policy, take: int = 1) -> None:
        self.upstream = urlsplit(upstream)
        self.policy = policy
        self.take = take
        self.lock = threading.Lock()
        self.bulks = 0
        self.refused = 0  # whole requests refused
        self.items_refused = 0  # operations refused inside a 200 answer
        self.bulk_sizes: list[int] = []
        super().__init__(("127.0.0.1", 0), _BusyHandler)


_REFUSALS = {
    "429": {"error": {"type": "es_rejected_execution_exception", "reason": "rejected execution"}, "status": 429},
    "breaker": {"error": {"type": "circuit_breaking_exception", "reason": "[parent] Data too large",
                          "bytes_wanted": 4_100_000_000, "durability": "TRANSIENT"}, "status": 429},
}


class _BusyHandler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # quiet
        pass

    def _reply(self, status: int, payload: bytes, headers: list[tuple[str, str]] = ()) -> None:
        self.send_response(status)
        for key, value in headers:
            if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(key, value)
        if not headers:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _upstream(self, body: bytes | None) -> tuple[int, list[tuple[str, str]], bytes]:
        server: _Busy = self.server  # type: ignore[assignment]
        conn = http.client.HTTPConnection(server.upstream.hostname, server.upstream.port, timeout=120)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection", "content-length")}
        conn.request(self.command, self.path, body=body or None, headers=headers)
        answer = conn.getresponse()
        data = answer.read()
        conn.close()
        return answer.status, answer.getheaders(), data

    def _forward(self) -> None:
        server: _Busy = self.server  # type: ignore[assignment]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if "/_bulk" not in self.path:
            self._reply_upstream(body)
            return
        with server.lock:
            n = server.bulks
            server.bulks += 1
            server.bulk_sizes.append(len(body))
            decision = server.policy(n)
        if decision in _REFUSALS:
            with server.lock:
                server.refused += 1
            self._reply(429, json.dumps(_REFUSALS[decision]).encode())
        elif decision == "partial":
            self._partial(body)
        else:
            self._reply_upstream(body)

    def _reply_upstream(self, body: bytes) -> None:
        status, headers, data = self._upstream(body)
        self._reply(status, data, headers)

    def _partial(self, body: bytes) -> None:
        """Forward the first ``take`` index operations; refuse the rest item by item."""
        server: _Busy = self.server  # type: ignore[assignment]
        lines = [line for line in body.split(b"\n") if line.strip()]
        pairs = [lines[i:i + 2] for i in range(0, len(lines), 2)]  # index actions: action + source
        taken, refused = pairs[:server.take], pairs[server.take:]
        status, _, data = self._upstream(b"\n".join(line for pair in taken for line in pair) + b"\n")
        assert status == 200, data
        answer = json.loads(data)
        for action, _ in refused:
            meta = json.loads(action)["index"]
            answer["items"].append({"index": {"_index": meta["_index"], "_id": meta["_id"], "status": 429,
                                              "error": _REFUSALS["429"]["error"]}})
        answer["errors"] = answer["errors"] or bool(refused)
        with server.lock:
            server.items_refused += len(refused)
        self._reply(200, json.dumps(answer).encode())

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward


@pytest.fixture
def busy(opensearch_node):
    def start(policy, take: int = 1) -> _Busy:
        server = _Busy(opensearch_node.url, policy, take)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    servers: list[_Busy] = []
    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _engine(proxy: _Busy, **kwargs) -> ClusterEngine:
    kwargs.setdefault("backoff_seconds", 0.01)
    kwargs.setdefault("max_backoff_seconds", 0.05)
    return ClusterEngine(f"http://127.0.0.1:{proxy.server_port}", alias=unique_alias(), time_limit_ms=30_000,
                         **kwargs)


def _docs(n: int, words: int = 20):
    return [make_doc(i, subject=f"đê điều {i}", body="ủy ban nhân dân xã kế hoạch đê điều " * words)
            for i in range(1, n + 1)]


def test_bulk_indexing_waits_out_429_and_circuit_breakers(opensearch_node, busy):
    refusals = ["429", "breaker", "429", "breaker", "breaker"]
    proxy = busy(lambda n: refusals[n] if n < len(refusals) else "forward")
    engine = _engine(proxy, batch_docs=10, bulk_workers=1)
    try:
        assert engine.index(_docs(35)) == 35
        assert proxy.refused == 5
        assert engine.count() == 35 and engine.indexed_ids() == set(range(1, 36))
    finally:
        engine.drop()
        engine.close()


def test_per_item_429_inside_a_200_answer_are_sent_again(opensearch_node, busy):
    """Every bulk request gets one operation through and 429 for the others, for many rounds in a
    row, with a retry budget far shorter than the whole load: progress restarts the budget, so a
    slow cluster never fails the ingest, and no document is lost."""
    proxy = busy(lambda n: "partial", take=3)
    engine = _engine(proxy, batch_docs=40, bulk_workers=2, retry_budget_seconds=2.0)
    try:
        assert engine.index(_docs(80)) == 80
        assert proxy.items_refused > 80  # each document was refused about ten times on average
        assert engine.count() == 80 and engine.indexed_ids() == set(range(1, 81))
    finally:
        engine.drop()
        engine.close()


def test_batches_are_cut_by_bytes(opensearch_node, busy):
    proxy = busy(lambda n: "forward")
    engine = _engine(proxy, batch_bytes=64 * 1024)
    try:
        docs = _docs(120, words=60)  # ~2.3 KB of JSON each
        assert engine.index(docs) == 120
        assert len(proxy.bulk_sizes) >= 4
        # a batch never passes the byte budget by more than one document
        assert max(proxy.bulk_sizes) <= 64 * 1024 + 4 * 1024
        assert engine.indexed_ids() == set(range(1, 121))
    finally:
        engine.drop()
        engine.close()


def test_bulk_indexing_gives_up_with_a_clear_error(opensearch_node, busy):
    proxy = busy(lambda n: "breaker")
    engine = _engine(proxy, retry_budget_seconds=0.5)
    try:
        with pytest.raises(SearchUnavailable, match=r"kept refusing 1 of 1 documents for 0.5s: .*circuit_breaking"):
            engine.index([make_doc(1, subject="đê điều")])
        assert proxy.refused >= 3  # it waited and tried again before giving up
    finally:
        engine.drop()
        engine.close()


def test_a_new_generation_is_built_with_bulk_settings_then_restored(opensearch_node):
    from opensearchpy import OpenSearch

    engine = ClusterEngine(opensearch_node.url, alias=unique_alias(), time_limit_ms=30_000, replicas=0)
    raw = OpenSearch(hosts=[opensearch_node.url])
    try:
        engine.index(_docs(5))
        generation = engine.new_generation()
        name = generation._target
        building = raw.indices.get_settings(index=name)[name]["settings"]["index"]
        assert building["refresh_interval"] == "-1" and building["translog"]["durability"] == "async"
        assert building["number_of_replicas"] == "0"
        generation.index(_docs(12))
        assert engine.count() == 5  # readers still see the old index
        engine.switch_to(generation)
        serving = raw.indices.get_settings(index=name)[name]["settings"]["index"]
        assert serving["refresh_interval"] == "1s" and serving["translog"]["durability"] == "request"
        assert engine.count() == 12 and engine.indexed_ids() == set(range(1, 13))  # refreshed at the end
    finally:
        raw.close()
        engine.drop()
        engine.close()


# -- more matches than counted: the 1/64 sample (mapping v4) ----------------------------------------


@pytest.fixture
def estimating_alias(opensearch_node):
    """``make(**kwargs)``: engines on one new alias (dropped at the end)."""
    alias = unique_alias()
    made: list[ClusterEngine] = []

    def make(**kwargs) -> ClusterEngine:
        engine = ClusterEngine(opensearch_node.url, alias=alias, time_limit_ms=30_000, **kwargs)
        made.append(engine)
        return engine

    yield make
    made[0].drop()
    for engine in made:
        engine.close()


def _counts(result) -> tuple:
    facets = {name: {v.value: v.count for v in values} for name, values in result.facets.items()}
    return result.total, result.total_is_lower_bound, facets


def test_the_sample_gives_the_totals_and_facets_tantivy_gives(estimating_alias, tmp_path):
    """Both engines store ``indexes.sample.sample_of(id)`` and scale the sample alike: one archive
    says the same "hơn N" and the same estimates whichever engine holds its index."""
    from indexes.tantivy_engine import TantivyEngine

    docs = many_docs()
    cluster = estimating_alias(estimate_above=ESTIMATE_ABOVE)
    cluster.index(docs)
    tantivy = TantivyEngine(tmp_path / "t", estimate_above=ESTIMATE_ABOVE)
    tantivy.index(docs)
    try:
        for text in ("kế hoạch", "ke hoach thien tai", '"phòng chống thiên tai" -báo', "thủy lợi"):
            for scope in (None, frozenset({"H01", "H02"})):
                query = build_query(text, scope=scope)
                assert _counts(cluster.search(query)) == _counts(tantivy.search(query)), (text, scope)
    finally:
        tantivy.close()


def test_a_count_just_above_the_exact_limit_is_exact_and_an_estimate_never_says_less_than_it(estimating_alias):
    """As in Tantivy: matches a little above ``estimate_above`` are counted in full (the sample's lower
    bound would say "hơn 290" of 1,300); a lower bound is shown only above the limit."""
    cluster = estimating_alias(estimate_above=1000)
    cluster.index([make_doc(i, unit="U1", body="đê điều" if i <= 1300 else "thủy lợi") for i in range(1, 11_001)])
    near = cluster.search(build_query("de dieu", scope=None))
    assert (near.total, near.total_is_lower_bound) == (1300, False)
    assert {v.value: v.count for v in near.facets["unit_code"]} == {"U1": 1300}
    broad = cluster.search(build_query("thuy loi", scope=None))
    assert broad.total_is_lower_bound and 1000 < broad.total <= 9700


def test_an_index_of_an_older_mapping_is_counted_exactly(estimating_alias):
    """v3 has no ``sample`` field: an engine made for it writes none, and an engine of today reading
    it (an upgrade before ``archive reindex``) counts every match, as before."""
    from opensearchpy import OpenSearch

    old = estimating_alias(mapping_version=3, estimate_above=ESTIMATE_ABOVE)
    old.index(many_docs())
    upgraded = estimating_alias(estimate_above=ESTIMATE_ABOVE)
    exact = estimating_alias()
    raw = OpenSearch(hosts=[old.url])
    try:
        (name,) = raw.indices.get_alias(name=old.alias)
        assert "-v3-" in name and "sample" not in raw.indices.get_mapping(index=name)[name]["mappings"]["properties"]
    finally:
        raw.close()
    for text in ("kế hoạch", '"phòng chống thiên tai"', ""):
        query = build_query(text, scope=None)
        truth = exact.search(query)
        assert truth.total > ESTIMATE_ABOVE and not truth.total_is_lower_bound
        for engine in (old, upgraded):
            result = engine.search(query)
            assert _counts(result) == _counts(truth) and result.hits == truth.hits, text


def test_deep_pages_and_one_request_beside_the_sample(estimating_alias):
    """Past the result window (``search_after``) a lower bound still walks to the page; one request
    (``split_requests`` False) counts every match anyway, so it stays exact."""
    sampled = estimating_alias(estimate_above=ESTIMATE_ABOVE, max_window=20)
    sampled.index(many_docs())
    exact = estimating_alias()
    one = estimating_alias(estimate_above=ESTIMATE_ABOVE, split_requests=False)
    for sort in ("relevance", "date_asc"):
        for page in (1, 2, 40):
            query = build_query("kế hoạch", scope=None, sort=sort, per_page=15, page=page)
            truth, deep = exact.search(query), sampled.search(query)
            assert deep.total_is_lower_bound and deep.total <= truth.total
            assert [(h.id, h.snippet) for h in deep.hits] == [(h.id, h.snippet) for h in truth.hits], (sort, page)
            assert len(deep.hits) == 15
            assert _counts(one.search(query)) == _counts(truth)
    past = build_query("kế hoạch", scope=None, per_page=15, page=400)  # beyond every match: an empty page
    assert sampled.search(past).hits == [] and sampled.search(past).total_is_lower_bound
