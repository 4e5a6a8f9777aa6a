"""Three real OpenSearch nodes on loopback, replicas 1: one node is killed in the middle of
searches and ingest; searches keep answering, nothing is lost, and the node rejoins.

Slow (three JVMs on a small machine): marked ``cluster``, run by ``make test-cluster``.
Every wait is on a condition (cluster health asked with ``wait_for_*``, events set by the
worker threads), never a sleep.
"""
from __future__ import annotations

import os
import signal
import threading
import time
from datetime import date

import pytest

from indexes.base import IndexDocument
from indexes.opensearch import ClusterEngine
from indexes.query import build_query
from tests.opensearch_node import unique_alias

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(900)]

BATCH = 100
FIRST = 2000  # indexed before the trouble starts
UNITS = [f"X{i:03d}" for i in range(1, 8)]
SENTENCES = ["Ủy ban nhân dân xã triển khai kế hoạch phòng chống thiên tai năm",
             "Báo cáo tình hình giải phóng mặt bằng dự án đê điều",
             "Quyết định bổ nhiệm cán bộ văn thư lưu trữ của huyện",
             "Thông báo lịch tiếp công dân định kỳ của lãnh đạo ủy ban"]


def _doc(i: int) -> IndexDocument:
    return IndexDocument(id=i, unit_code=UNITS[i % len(UNITS)], number=f"{i}/QĐ-UBND", doc_type="QĐ",
                         direction="den" if i % 2 else "di", issued_date=date(2005 + i % 20, 1 + i % 12, 1 + i % 28),
                         subject=f"{SENTENCES[i % 4]} số {i}", body=" ".join(SENTENCES[(i + k) % 4] for k in range(8)))


class Worker(threading.Thread):
    """Runs ``step`` until told to stop; counts what happened, keeps the first error."""

    def __init__(self, step) -> None:
        super().__init__(daemon=True)
        self.step = step
        self.stop_now = threading.Event()
        self.done = 0
        self.errors: list[BaseException] = []
        self.progress = threading.Condition()

    def run(self) -> None:
        while not self.stop_now.is_set():
            try:
                self.step()
            except BaseException as exc:  # the test reports it
                self.errors.append(exc)
                return
            with self.progress:
                self.done += 1
                self.progress.notify_all()

    def wait_for(self, count: int, timeout: float = 300.0) -> None:
        """Block until ``count`` steps are done (or the worker failed)."""
        with self.progress:
            assert self.progress.wait_for(lambda: self.done >= count or self.errors or not self.is_alive(), timeout)
        assert not self.errors, self.errors[0]


def test_a_node_lost_in_the_middle_of_searches_and_ingest(cluster):
    engine = ClusterEngine(cluster.url, alias=unique_alias("failover"), replicas=1, time_limit_ms=30_000,
                           batch_docs=50, backoff_seconds=0.2, max_backoff_seconds=5.0)
    started = time.monotonic()
    try:
        assert engine.index(_doc(i) for i in range(1, FIRST + 1)) == FIRST
        health = cluster.health(cluster.nodes[0], wait_for_status="green", wait_for_no_relocating_shards="true")
        assert health["status"] == "green", health

        # The node holding the primary copy: losing it forces a replica to be promoted.
        shards = cluster.get(cluster.nodes[0], f"/_cat/shards/{engine.alias}?format=json")
        primary_node = next(s["node"] for s in shards if s["prirep"] == "p")
        victim = next(n for n in cluster.nodes if n.name == primary_node)
        survivor = next(n for n in cluster.nodes if n is not victim)

        next_id = iter(range(FIRST + 1, 10**9))
        indexed: list[int] = []

        def ingest() -> None:
            ids = [next(next_id) for _ in range(BATCH)]
            assert engine.index(_doc(i) for i in ids) == BATCH
            indexed.extend(ids)

        totals: list[int] = []

        def search() -> None:
            result = engine.search(build_query("kế hoạch thiên tai", scope=None))
            assert result.hits and len(result.facets["unit_code"]) == len(UNITS)
            totals.append(result.total)

        writer, reader = Worker(ingest), Worker(search)
        writer.start()
        reader.start()
        writer.wait_for(3)
        reader.wait_for(3)

        killed = time.monotonic()
        os.kill(victim.pid(), signal.SIGKILL)  # a crash, not a polite shutdown
        lost = cluster.health(survivor, wait_for_nodes="2", wait_for_status="yellow")
        noticed = time.monotonic()
        assert lost["number_of_nodes"] == 2 and lost["status"] in ("yellow", "green"), lost
        # Both keep working while the node is away.
        writer.wait_for(writer.done + 5)
        reader.wait_for(reader.done + 5)
        searches_while_down = reader.done

        restarted = time.monotonic()
        victim.start(keep_data=True)
        back = cluster.health(survivor, timeout="300s", wait_for_nodes="3", wait_for_status="green",
                              wait_for_no_relocating_shards="true")
        green = time.monotonic()
        assert back["number_of_nodes"] == 3 and back["status"] == "green", back
        writer.wait_for(writer.done + 2)
        for worker in (writer, reader):
            worker.stop_now.set()
            worker.join(timeout=300)
            assert not worker.is_alive()
            assert not worker.errors, worker.errors[0]

        expected = set(range(1, FIRST + 1)) | set(indexed)
        assert searches_while_down >= 5
        assert len(indexed) >= 10 * BATCH
        assert min(totals) >= FIRST  # every search counted every document indexed before it began
        assert engine.indexed_ids() == expected
        # Every copy of the shard (the rejoined node's, if it got one, included) holds every document.
        copies = cluster.get(survivor, f"/_cat/shards/{engine.alias}?format=json&h=node,prirep,state,docs")
        assert len(copies) == 2 and all(c["state"] == "STARTED" for c in copies), copies
        assert [int(c["docs"]) for c in copies] == [len(expected)] * 2, copies
        print(f"\nfailover: {len(expected)} documents, {reader.done} searches ({searches_while_down} "
              f"by the time the node came back), loss noticed in {noticed - killed:.1f}s, "
              f"restart to green {green - restarted:.1f}s, test {time.monotonic() - started:.0f}s")
    finally:
        engine.drop()
        engine.close()
