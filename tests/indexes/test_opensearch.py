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
from tests.indexes.conftest import ENGINES, make_doc
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
    """A loopback proxy to the real node that answers the first ``reject`` bulk requests with 429,
    as a cluster whose write queue is full does."""

    def __init__(self, upstream: str, reject: int) -> None:
        self.upstream = urlsplit(upstream)
        self.reject = reject
        self.rejected = 0
        super().__init__(("127.0.0.1", 0), _BusyHandler)


class _BusyHandler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # quiet
        pass

    def _forward(self) -> None:
        server: _Busy = self.server  # type: ignore[assignment]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if "/_bulk" in self.path and server.rejected < server.reject:
            server.rejected += 1
            payload = json.dumps({"error": {"type": "es_rejected_execution_exception"}, "status": 429}).encode()
            self.send_response(429)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        conn = http.client.HTTPConnection(server.upstream.hostname, server.upstream.port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        conn.request(self.command, self.path, body=body or None, headers=headers)
        answer = conn.getresponse()
        data = answer.read()
        self.send_response(answer.status)
        for key, value in answer.getheaders():
            if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        conn.close()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward


@pytest.fixture
def busy(opensearch_node):
    def start(reject: int) -> _Busy:
        server = _Busy(opensearch_node.url, reject)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    servers: list[_Busy] = []
    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_bulk_indexing_retries_when_the_cluster_is_busy(opensearch_node, busy):
    proxy = busy(reject=3)
    engine = ClusterEngine(f"http://127.0.0.1:{proxy.server_port}", alias=unique_alias(), batch_docs=10,
                           backoff_seconds=0.01, max_retries=5, time_limit_ms=30_000)
    try:
        assert engine.index([make_doc(i, subject=f"đê điều {i}") for i in range(1, 36)]) == 35
        assert proxy.rejected == 3
        assert engine.count() == 35 and engine.indexed_ids() == set(range(1, 36))
    finally:
        engine.drop()
        engine.close()


def test_bulk_indexing_gives_up_with_a_clear_error(opensearch_node, busy):
    proxy = busy(reject=100)
    engine = ClusterEngine(f"http://127.0.0.1:{proxy.server_port}", alias=unique_alias(),
                           backoff_seconds=0.01, max_retries=2, time_limit_ms=30_000)
    try:
        with pytest.raises(SearchUnavailable, match="kept refusing"):
            engine.index([make_doc(1, subject="đê điều")])
        assert proxy.rejected == 3  # the first try and two retries
    finally:
        engine.drop()
        engine.close()
