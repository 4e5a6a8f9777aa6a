"""One search request end to end, profiled: ``python -m bench.load.profile_search`` on a load-bench home.

    LOAD_DOCS=100000 .venv/bin/python -m bench.load.profile_search

Opens the home ``bench.load.home`` built (``BENCH_DATA``/load-tantivy-<docs>-<seed>) in this process
with the portal's own ``create_app`` (the engine of the home, ``tantivy`` unless ``LOAD_ENGINE``
says otherwise), signs in one lookup account and one archivist, warms up, then times
``PROFILE_REQUESTS`` (default 60) requests of each kind of the locust scenario (search with and
without diacritics, filters, a document) under pyinstrument, and prints per kind the p50/p95
wall time and the CPU time per request (the figure to compare when
the machine is shared) and the profile's heaviest frames (``PROFILE_HTML``: also an HTML profile per kind;
``PROFILE=0``: no profiler, the true CPU per request, since the profiler inflates small Python calls).
The flask test client stands in for gunicorn: what it measures is the portal's own work.
"""
from __future__ import annotations

import json
import os
import random
import re
import statistics
import time
from pathlib import Path

from pyinstrument import Profiler

from .home import ACCOUNTS, HomeSpec

ROOT = Path(__file__).resolve().parents[2]
_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_DOC_RE = re.compile(r'href="/van-ban/(\d+)\?')
QUERIES = ("kế hoạch", "ke hoach", "ủy ban nhân dân", "giai phong mat bang", "thủy lợi", "bo nhiem")


def _sign_in(client, account: dict) -> None:
    page = client.get("/dang-nhap").get_data(as_text=True)
    token = _CSRF_RE.search(page).group(1)
    r = client.post("/dang-nhap", data={"csrf_token": token, "username": account["username"],
                                        "password": account["password"]})
    assert r.status_code == 302 and "dang-nhap" not in r.headers.get("Location", ""), r.status_code


def _requests(account: dict, rng: random.Random) -> dict[str, list[dict]]:
    units = account["old_units"] or []
    out: dict[str, list[dict]] = {"search": [], "search + type": [], "search + unit": []}
    for _ in range(200):
        out["search"].append({"q": rng.choice(QUERIES)})
        out["search + type"].append({"q": rng.choice(QUERIES), "type": "Công văn"})
        if units:
            out["search + unit"].append({"q": rng.choice(QUERIES), "unit": rng.choice(units)})
    return {k: v for k, v in out.items() if v}


def main() -> None:
    root = Path(os.environ.get("BENCH_DATA") or ROOT.parent / "bench-data").resolve()
    spec = HomeSpec(root=root, docs=int(os.environ.get("LOAD_DOCS", 100_000)),
                    seed=int(os.environ.get("LOAD_SEED", 11)), engine=os.environ.get("LOAD_ENGINE", "tantivy"))
    count = int(os.environ.get("PROFILE_REQUESTS", 60))
    html_dir = os.environ.get("PROFILE_HTML", "")
    profiling = os.environ.get("PROFILE", "1") != "0"
    os.environ.update(ARCHIVE_HOME=str(spec.home), ARCHIVE_INDEX_ENGINE=spec.engine,
                      ARCHIVE_DATABASE_URL=f"sqlite:///{spec.home / 'archive.sqlite'}",
                      ARCHIVE_SEARCH_RATE_LIMIT="1000000 per minute",
                      PROMETHEUS_MULTIPROC_DIR=str(spec.home / "prometheus"))
    (spec.home / "prometheus").mkdir(exist_ok=True)
    from archive_portal import create_app

    app = create_app()
    accounts = json.loads((spec.home / ACCOUNTS).read_text(encoding="utf-8"))
    chosen = [next(a for a in accounts if a["role"] == "lookup"), next(a for a in accounts if a["role"] != "lookup")]
    print(f"== one search end to end: {spec.docs} documents, engine {spec.engine}, {count} requests a kind;"
          f" load average {os.getloadavg()[0]:.1f}")
    for account in chosen:
        client = app.test_client()
        _sign_in(client, account)
        rng = random.Random(7)
        kinds = _requests(account, rng)
        doc_ids: list[int] = []
        for params in kinds["search"][:10]:  # warm-up: caches, index pages, first document ids
            doc_ids += [int(i) for i in _DOC_RE.findall(client.get("/", query_string=params).get_data(as_text=True))]
        kinds["document"] = [{"doc": rng.choice(doc_ids)} for _ in range(count)] if doc_ids else []
        for kind, items in kinds.items():
            if not items:
                continue
            times = []
            cpu0 = time.process_time()
            profiler = Profiler(interval=0.0005) if profiling else None
            if profiler:
                profiler.start()
            for params in items[:count]:
                t0 = time.perf_counter()
                if kind == "document":
                    r = client.get(f"/van-ban/{params['doc']}")
                else:
                    r = client.get("/", query_string=params)
                times.append(time.perf_counter() - t0)
                assert r.status_code == 200, (kind, params, r.status_code)
            if profiler:
                profiler.stop()
            cpu_ms = (time.process_time() - cpu0) * 1000 / len(times)
            times.sort()
            p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
            print(f"\n-- {account['role']} {account['username']}: {kind}: p50 {statistics.median(times) * 1000:.1f} ms,"
                  f" p95 {p95 * 1000:.1f} ms, mean {statistics.fmean(times) * 1000:.1f} ms; CPU {cpu_ms:.1f} ms a request"
                  f"{' (profiler included)' if profiler else ''}; load average {os.getloadavg()[0]:.1f}")
            if not profiler:
                continue
            print(profiler.output_text(unicode=False, color=False, show_all=False, short_mode=False)[:6000])
            if html_dir:
                Path(html_dir).mkdir(parents=True, exist_ok=True)
                name = re.sub(r"\W+", "-", f"{account['role']}-{kind}")
                Path(html_dir, f"{name}.html").write_text(profiler.output_html(), encoding="utf-8")


if __name__ == "__main__":
    main()
