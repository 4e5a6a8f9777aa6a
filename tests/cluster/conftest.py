"""A real three-node OpenSearch cluster on loopback (``scripts/opensearch-node`` per node)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.opensearch_node import SCRIPT, _free_port

HEAP = os.environ.get("ARCHIVE_TEST_CLUSTER_HEAP", "512m")


class ClusterNode:
    def __init__(self, name: str, run_dir: Path, seeds: str, managers: str) -> None:
        self.name, self.run_dir, self.seeds, self.managers = name, run_dir, seeds, managers
        self.port = _free_port()
        self.transport_port = int(seeds.split(",")[int(name[1:]) - 1].split(":")[1])
        self.url = f"http://127.0.0.1:{self.port}"

    def start_command(self, keep_data: bool = False) -> list[str]:
        return [sys.executable, str(SCRIPT), "start", "--dir", str(self.run_dir), "--port", str(self.port),
                "--transport-port", str(self.transport_port), "--heap", HEAP, "--cluster-name", "archive-failover",
                "--node-name", self.name, "--seed-hosts", self.seeds, "--initial-cluster-managers", self.managers,
                "--wait-for", "http", "--parent-pid", str(os.getpid()), *(["--keep-data"] if keep_data else [])]

    def start(self, keep_data: bool = False) -> None:
        done = subprocess.run(self.start_command(keep_data), capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"cluster node {self.name} did not start:\n{done.stdout}\n{done.stderr}")

    def pid(self) -> int:
        return int(json.loads((self.run_dir / "node.json").read_text())["pid"])

    def stop(self, keep_data: bool = False) -> None:
        subprocess.run([sys.executable, str(SCRIPT), "stop", "--dir", str(self.run_dir),
                        *(["--keep-data"] if keep_data else [])], check=False)


class Cluster:
    def __init__(self, base: Path, size: int = 3) -> None:
        transports = [_free_port() for _ in range(size)]
        seeds = ",".join(f"127.0.0.1:{p}" for p in transports)
        names = [f"n{i + 1}" for i in range(size)]
        self.nodes = [ClusterNode(name, base / name, seeds, ",".join(names)) for name in names]

    @property
    def url(self) -> str:
        """Every node, as ARCHIVE_SEARCH_URL lists them."""
        return ",".join(node.url for node in self.nodes)

    def start(self) -> None:
        # All at once: the first node cannot elect a cluster manager alone.
        running = [subprocess.Popen(node.start_command(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for node in self.nodes]
        for node, process in zip(self.nodes, running, strict=True):
            out, err = process.communicate()
            if process.returncode != 0:
                raise RuntimeError(f"cluster node {node.name} did not start:\n{out}\n{err}")

    def health(self, via: ClusterNode, timeout: str = "120s", **wait: str) -> dict:
        """``_cluster/health`` asked of one node, waiting on the server for the given condition
        (``wait_for_status``, ``wait_for_nodes``, ...): no polling, no sleeps."""
        query = "&".join([f"timeout={timeout}", f"cluster_manager_timeout={timeout}",
                          *(f"{k}={v}" for k, v in wait.items())])
        try:
            with urllib.request.urlopen(f"{via.url}/_cluster/health?{query}", timeout=300) as response:
                return json.load(response)
        except urllib.error.HTTPError as exc:  # 408 when the condition was not met in time
            return json.load(exc)

    def get(self, via: ClusterNode, path: str):
        with urllib.request.urlopen(f"{via.url}{path}", timeout=60) as response:
            return json.load(response)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    cluster = Cluster(tmp_path_factory.mktemp("cluster"))
    try:
        cluster.start()
        health = cluster.health(cluster.nodes[0], timeout="180s", wait_for_nodes="3", wait_for_status="green")
        assert not health["timed_out"] and health["number_of_nodes"] == 3, health
        yield cluster
    finally:
        cluster.stop()
