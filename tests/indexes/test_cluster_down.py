"""Both cluster clients turn a cluster that is not there into ``SearchUnavailable``, never a client error."""
from __future__ import annotations

import socket
import time

import pytest

from indexes.base import SearchUnavailable
from indexes.opensearch import ClusterEngine
from indexes.query import build_query
from tests.indexes.conftest import make_doc


@pytest.fixture
def closed_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.mark.parametrize("flavour", ["opensearch", "elasticsearch"])
def test_cluster_down_is_search_unavailable(closed_url, flavour):
    engine = ClusterEngine(closed_url, flavour=flavour, time_limit_ms=2000, retry_budget_seconds=0.3,
                           backoff_seconds=0.01)
    try:
        with pytest.raises(SearchUnavailable):
            engine.search(build_query("đê điều", scope=None))
        with pytest.raises(SearchUnavailable):
            engine.count(None)
        with pytest.raises(SearchUnavailable):
            engine.index([make_doc(1, subject="đê điều")])
        # an empty scope is answered without asking the cluster
        assert engine.search(build_query("đê điều", scope=frozenset())).total == 0
    finally:
        engine.close()


def test_a_write_waits_for_a_cluster_that_stays_down_then_says_so(closed_url):
    """Connection refused is waited out like a busy node, for the retry budget, then reported
    clearly: a write never fails on a blip, and never hangs for ever on a dead cluster."""
    engine = ClusterEngine(f"{closed_url},{closed_url}", time_limit_ms=2000, retry_budget_seconds=1.5,
                           backoff_seconds=0.05, max_backoff_seconds=0.2)
    try:
        started = time.monotonic()
        with pytest.raises(SearchUnavailable,
                           match=r"kept refusing (the index|2 of 2 documents) for 1.5s: .*unreachable"):
            engine.index([make_doc(1, subject="đê điều"), make_doc(2, subject="kế hoạch")])
        assert time.monotonic() - started >= 1.5
    finally:
        engine.close()
