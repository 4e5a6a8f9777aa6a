"""``make bench-load``: the portal under load, officials against gunicorn on a province-size archive.

    LOAD_DOCS=1000000 .venv/bin/python -m bench.load_bench

1. A data home of ``LOAD_DOCS`` documents (default 1,000,000) under ``BENCH_DATA``
   (default ``../bench-data``, outside git), built by ``bench.load.home`` without the OCR
   pipeline, or reused when it is already there.
2. gunicorn as ``make run`` starts it (``wsgi:app`` with ``gunicorn.conf.py``: gthread workers, one per
   core, 4 threads, keep-alive 75 s; ``LOAD_WORKERS`` / ``LOAD_THREADS`` override) on 127.0.0.1.
3. The locust scenario ``bench/load/locustfile.py`` headless: ``LOAD_USERS`` officials
   (default 100: with 0.5-2 s between clicks and three requests in four searches, 60 could not
   ask for more than ~35 searches/s) spawned at ``LOAD_SPAWN_RATE``/s for ``LOAD_SECONDS`` (default 120);
   prints searches/s, p50/p95 per kind of request and the errors, of the steady part: locust's
   statistics start again 15 s after the last user spawned (every sign-in done; ``LOAD_STEADY_STATS=0``
   keeps the whole run).
4. A soak: the same scenario for ``LOAD_SOAK_SECONDS`` (default 600) while the RSS of the
   gunicorn processes is read from /proc every ``LOAD_SAMPLE_SECONDS`` (default 5); prints
   the memory at start, end and its maximum, and the errors.

Targets (issue 11): >= 50 searches/s on 2 cores with p95 <= 300 ms, flat memory, 0 errors.
The load average is printed beside every figure (the machine may be shared), and so is the
CPU the locust client itself took (it runs on the same cores as the portal).  The search
rate limit per account is raised for the run (``ARCHIVE_SEARCH_RATE_LIMIT``): this measures
the portal's capacity, not its throttling.  Everything is bounded (users, time, request
count by time) and on loopback; gunicorn and locust are stopped whatever happens.
"""
from __future__ import annotations

import csv
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from .load.home import ACCOUNTS, HomeSpec, ensure_home

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
LOCUSTFILE = Path(__file__).with_name("load") / "locustfile.py"
MAX_USERS = 400
MAX_SECONDS = 3600
TICKS = os.sysconf("SC_CLK_TCK")


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value else default


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} on {os.cpu_count()} cores"


def reference_cpu_ms(rounds: int = 5) -> float:
    """CPU milliseconds of a fixed piece of pure Python (small dicts, formatted Vietnamese strings),
    the best of ``rounds``: how fast this machine runs Python code at the moment.

    The same portal code took 35.0, 20.8 and 14.6 ms of CPU a request in runs an hour apart on the
    reference VM (2026-12-03): its cores' speed moves with what shares their host, which neither the
    load average nor the steal time shows.  Printed before and after each run, so that figures of
    different runs are compared at the speed they had."""
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        out = []
        for i in range(200_000):
            row = {"id": i, "name": f"văn bản số {i}"}
            out.append(row["name"].upper())
        "".join(out)
        best = min(best, time.process_time() - start)
    return best * 1000


# -- the gunicorn processes, read from /proc ------------------------------------------------
def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                out += [int(c) for c in fh.read().split()]
    except OSError:
        pass
    return out


def _rss(pid: int) -> tuple[int, int]:
    """(anonymous, file-backed) resident bytes: the heap, and the mapped index pages the kernel may drop."""
    anon = filed = 0
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(("RssAnon:", "RssFile:", "RssShmem:")):
                    kb = int(line.split()[1]) * 1024
                    if line.startswith("RssAnon:"):
                        anon += kb
                    else:
                        filed += kb
    except OSError:
        pass
    return anon, filed


def _cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime
    except OSError:
        return 0.0


@dataclass
class Sampler:
    """RSS of the gunicorn master and workers every ``every`` seconds, in a thread."""

    master: int
    every: float
    # (wall time, total RSS, anonymous RSS, worker count) over the master and its workers
    samples: list[tuple[float, int, int, int]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def sample(self) -> None:
        pids = [self.master, *_children(self.master)]
        rss = [_rss(p) for p in pids]
        anon = sum(a for a, _ in rss)
        self.samples.append((time.time(), anon + sum(f for _, f in rss), anon, len(pids) - 1))

    def run(self) -> None:
        while not self._stop.wait(self.every):
            self.sample()

    def __enter__(self) -> Sampler:
        self.sample()
        self._thread = threading.Thread(target=self.run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def _workers_cpu(master: int) -> float:
    return sum(_cpu_seconds(p) for p in [master, *_children(master)])


# -- gunicorn and locust -----------------------------------------------------------------------
def start_gunicorn(home: Path, engine: str, port: int, log: Path) -> subprocess.Popen:
    env = dict(os.environ, ARCHIVE_HOME=str(home), ARCHIVE_INDEX_ENGINE=engine,
               ARCHIVE_SEARCH_RATE_LIMIT="1000000 per minute", PROMETHEUS_MULTIPROC_DIR=str(home / "prometheus"))
    env.pop("ARCHIVE_DATABASE_URL", None)
    for name in ("WORKERS", "THREADS"):  # gunicorn.conf.py reads GUNICORN_WORKERS / GUNICORN_THREADS
        if os.environ.get(f"LOAD_{name}"):
            env[f"GUNICORN_{name}"] = os.environ[f"LOAD_{name}"]
    proc = subprocess.Popen(
        [str(BIN / "gunicorn"), "--config", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited ({proc.returncode}); see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/dang-nhap", timeout=5) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.5)
    stop(proc)
    raise SystemExit(f"gunicorn did not answer in 180 s; see {log}")


def stop(proc: subprocess.Popen | None, grace: float = 30) -> None:
    """SIGTERM to the process group started for ``proc``, then SIGKILL after ``grace`` seconds."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


@dataclass
class Steady:
    """The gunicorn CPU and locust's request count once every user has signed in (``LOAD_MARK``)."""

    master: int
    mark: Path
    cpu: float | None = None
    requests: int = 0
    reset: bool = False  # locust's statistics started again at the mark: they cover the steady part alone
    _stop: threading.Event = field(default_factory=threading.Event)

    def watch(self) -> None:
        while not self._stop.wait(0.2):
            if self.mark.is_file() and self.mark.stat().st_size:
                self.cpu = _workers_cpu(self.master)
                mark = json.loads(self.mark.read_text(encoding="utf-8"))
                self.requests = 0 if mark.get("reset") else mark["requests"]  # counted again from 0 there
                self.reset = bool(mark.get("reset"))
                return

    def per_request(self, total_requests: int) -> float | None:
        """gunicorn CPU seconds per request after the mark (None when no mark came)."""
        if self.cpu is None or total_requests <= self.requests:
            return None
        return (_workers_cpu(self.master) - self.cpu) / (total_requests - self.requests)


def run_locust(url: str, accounts: Path, users: int, rate: int, seconds: int, prefix: Path,
               master: int) -> tuple[dict, float, float | None]:
    """One headless locust run: the stats rows by name (of the steady part, after every sign-in, unless
    ``LOAD_STEADY_STATS=0``), the CPU seconds locust took, and gunicorn's CPU seconds per request
    once all users had signed in."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    steady = Steady(master, Path(f"{prefix}_mark.json"))
    steady.mark.unlink(missing_ok=True)
    watcher = threading.Thread(target=steady.watch, daemon=True)
    watcher.start()
    cmd = [str(BIN / "locust"), "-f", str(LOCUSTFILE), "--headless", "-u", str(users), "-r", str(rate),
           "--run-time", f"{seconds}s", "--stop-timeout", "10", "--csv", str(prefix), "--host", url,
           "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=dict(os.environ, LOAD_ACCOUNTS=str(accounts), LOAD_MARK=str(steady.mark)),
                            stdout=subprocess.DEVNULL, stderr=prefix.with_suffix(".log").open("wb"),
                            start_new_session=True)
    try:
        proc.wait(timeout=seconds + 120)
    except subprocess.TimeoutExpired:
        print("  locust overran its time; stopped", flush=True)
    finally:
        stop(proc, grace=15)
        steady._stop.set()
        watcher.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    with open(f"{prefix}_stats.csv", encoding="utf-8") as fh:
        rows = {row["Name"]: row for row in csv.DictReader(fh)}
    return rows, cpu, steady.per_request(int(rows.get("Aggregated", {}).get("Request Count", 0) or 0))


def _ms(row: dict, column: str) -> str:
    value = row.get(column, "")
    return "-" if value in ("", "N/A") else f"{float(value):.0f}"


def report(rows: dict, seconds: float, failures_csv: Path) -> dict:
    """Print searches/s, p50/p95 per request kind and the errors; return the figures."""
    total = rows.get("Aggregated", {})
    searches = [r for n, r in rows.items() if n.startswith("search")]
    search_count = sum(int(r["Request Count"]) for r in searches)
    # locust's own rate of each kind: over the window its statistics cover (the steady part, see run_locust)
    search_rate = sum(float(r["Requests/s"]) for r in searches)
    window = search_count / search_rate if search_rate else float(seconds)
    print(f"  {'request':38} {'count':>7} {'errors':>6} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}")
    for name, row in sorted(rows.items(), key=lambda kv: (kv[0] == "Aggregated", kv[0])):
        print(f"  {name:38} {row['Request Count']:>7} {row['Failure Count']:>6} {float(row['Requests/s']):>7.1f} "
              f"{_ms(row, '50%'):>7} {_ms(row, '95%'):>7} {_ms(row, '99%'):>7}")
    # p95 over all searches, from the merged response-time percentiles is not exact: report the worst kind's.
    worst_p95 = max((float(r["95%"]) for r in searches if r.get("95%") not in ("", "N/A")), default=0.0)
    errors = int(total.get("Failure Count", 0) or 0)
    print(f"  searches: {search_count} in {window:.0f} s = {search_rate:.1f}/s; worst search p95 {worst_p95:.0f} ms;"
          f" errors {errors} of {total.get('Request Count', 0)} requests")
    if errors and failures_csv.is_file():
        with failures_csv.open(encoding="utf-8") as fh:
            for row in list(csv.DictReader(fh))[:10]:
                print(f"    error: {row.get('Name')}: {row.get('Error')} x{row.get('Occurrences')}")
    return {"searches_per_second": round(search_rate, 1), "worst_search_p95_ms": worst_p95, "errors": errors,
            "requests": int(total.get("Request Count", 0) or 0),
            "kinds": {n: {"count": int(r["Request Count"]), "errors": int(r["Failure Count"]),
                          "p50_ms": _ms(r, "50%"), "p95_ms": _ms(r, "95%")} for n, r in rows.items()}}


def _mb(value: int) -> str:
    return f"{value / 1e6:.0f} MB"


def memory_report(sampler: Sampler, steady_from: float | None = None) -> dict:
    """Start, end and maximum of the RSS, and of its anonymous part (the heap: what a leak grows).

    ``steady_from`` (wall time: every user signed in): the anonymous maximum is also given apart for
    the sign-ins and for the steady part.  Each password check (argon2id, argon2-cffi's defaults) holds
    64 MB while it runs, so the sign-ins of a run's start lift the heap by up to 64 MB per request
    thread (8 on the reference machine: ~0.5 GB) for the seconds they last; that memory is given back
    at once, and the steady part is where a leak would show."""
    samples = sampler.samples
    t0 = samples[0][0]
    figures: dict = {"samples": len(samples), "seconds": round(samples[-1][0] - t0),
                     "workers_seen": sorted({s[3] for s in samples})}
    for label, column in (("RSS", 1), ("anonymous RSS", 2)):
        values = [s[column] for s in samples]
        half = values[len(values) // 2:]
        key = "rss" if column == 1 else "anon"
        figures.update({f"{key}_start_bytes": values[0], f"{key}_end_bytes": values[-1],
                        f"{key}_max_bytes": max(values), f"{key}_second_half_change_bytes": half[-1] - half[0]})
        print(f"  gunicorn {label} (master + workers): start {_mb(values[0])}, end {_mb(values[-1])},"
              f" max {_mb(max(values))}; second half {_mb(half[-1] - half[0])} change")
    signing_in = [s[2] for s in samples if steady_from is not None and s[0] < steady_from]
    steady = [s[2] for s in samples if steady_from is not None and s[0] >= steady_from]
    if signing_in and steady:
        figures.update(anon_signing_in_max_bytes=max(signing_in), anon_steady_max_bytes=max(steady),
                       anon_steady_start_bytes=steady[0])
        print(f"  anonymous RSS while signing in (argon2: 64 MB per password check at once): max {_mb(max(signing_in))};"
              f" once all had signed in: {_mb(steady[0])} -> {_mb(steady[-1])}, max {_mb(max(steady))}")
    print(f"  {len(samples)} samples over {figures['seconds']} s; worker count seen {figures['workers_seen']};"
          " RSS minus anonymous = mapped index and database pages")
    step = max(1, len(samples) // 10)
    print("  RSS/anon: " + ", ".join(f"{s[0] - t0:.0f}s {s[1] / 1e6:.0f}/{s[2] / 1e6:.0f}" for s in samples[::step]))
    return figures


def _mark_time(mark: Path) -> float | None:
    """When every user had signed in (the wall time ``LOAD_MARK`` holds), or None."""
    try:
        return float(json.loads(mark.read_text(encoding="utf-8"))["time"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _print_steady(figures: dict, per_request: float | None) -> None:
    """gunicorn CPU per request after every sign-in, and the requests/s two idle cores would serve at that cost."""
    if per_request:
        figures["server_cpu_ms_per_request"] = round(per_request * 1000, 1)
        figures["idle_two_core_requests_per_second"] = round(2 / per_request)
        print(f"  gunicorn CPU per request once all had signed in: {per_request * 1000:.1f} ms, i.e. about"
              f" {2 / per_request:.0f} requests/s on 2 idle cores", flush=True)


def _gunicorn_trouble(log: Path) -> dict:
    text = log.read_text(encoding="utf-8", errors="replace") if log.is_file() else ""
    return {"worker_timeouts": text.count("WORKER TIMEOUT"), "tracebacks": text.count("Traceback")}


def main() -> None:
    root = Path(os.environ.get("BENCH_DATA") or ROOT.parent / "bench-data").resolve()
    spec = HomeSpec(root=root, docs=_env_int("LOAD_DOCS", 1_000_000), seed=_env_int("LOAD_SEED", 11),
                    engine=os.environ.get("LOAD_ENGINE", "tantivy"))
    users = min(MAX_USERS, _env_int("LOAD_USERS", 100))
    rate = max(1, min(users, _env_int("LOAD_SPAWN_RATE", 10)))
    seconds = min(MAX_SECONDS, _env_int("LOAD_SECONDS", 120))
    soak = min(MAX_SECONDS, _env_int("LOAD_SOAK_SECONDS", 600))
    soak_users = min(MAX_USERS, _env_int("LOAD_SOAK_USERS", users))
    every = max(1, _env_int("LOAD_SAMPLE_SECONDS", 5))
    print(f"== the portal under load: {spec.docs} documents, engine {spec.engine}; {_load()}", flush=True)
    info = ensure_home(spec, log=lambda m: print(m, flush=True))
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    out = root / "logs" / f"load-{spec.docs}-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    accounts = spec.home / ACCOUNTS
    gunicorn_log = out / "gunicorn.log"
    results: dict = {"home": info, "users": users, "spawn_rate": rate, "seconds": seconds}
    gunicorn = None
    try:
        gunicorn = start_gunicorn(spec.home, spec.engine, port, gunicorn_log)
        workers = len(_children(gunicorn.pid))
        print(f"gunicorn ({workers} workers x {os.environ.get('LOAD_THREADS') or 4} threads, gunicorn.conf.py)"
              f" on {url}, pid {gunicorn.pid}", flush=True)
        results["gunicorn_workers"] = workers

        speed_before = reference_cpu_ms()
        print(f"\n== load: {users} officials, {rate}/s spawned, {seconds} s; before: {_load()};"
              f" reference Python {speed_before:.0f} ms of CPU (lower: faster cores)", flush=True)
        cpu0, t0 = _workers_cpu(gunicorn.pid), time.monotonic()
        with Sampler(gunicorn.pid, every) as load_mem:
            rows, locust_cpu, steady_cpu = run_locust(url, accounts, users, rate, seconds, out / "load", gunicorn.pid)
        elapsed = time.monotonic() - t0
        server_cpu = _workers_cpu(gunicorn.pid) - cpu0
        results["load"] = report(rows, seconds, out / "load_failures.csv")
        results["load"].update(server_cpu_seconds=round(server_cpu, 1), locust_cpu_seconds=round(locust_cpu, 1),
                               rss_max_bytes=max(s[1] for s in load_mem.samples), load_average=os.getloadavg())
        print(f"  CPU: gunicorn {server_cpu:.0f} s, locust {locust_cpu:.0f} s over {elapsed:.0f} s wall"
              f" ({(server_cpu + locust_cpu) / elapsed:.2f} cores); after: {_load()}", flush=True)
        _print_steady(results["load"], steady_cpu)
        speed_after = reference_cpu_ms()
        results["load"]["reference_python_cpu_ms"] = [round(speed_before), round(speed_after)]
        print(f"  reference Python before / after: {speed_before:.0f} / {speed_after:.0f} ms of CPU", flush=True)

        if soak > 0:
            print(f"\n== soak: {soak_users} officials for {soak} s, RSS every {every} s; before: {_load()}", flush=True)
            with Sampler(gunicorn.pid, every) as soak_mem:
                rows, locust_cpu, steady_cpu = run_locust(url, accounts, soak_users, rate, soak, out / "soak",
                                                          gunicorn.pid)
            results["soak"] = report(rows, soak, out / "soak_failures.csv")
            _print_steady(results["soak"], steady_cpu)
            results["soak"]["memory"] = memory_report(soak_mem, _mark_time(out / "soak_mark.json"))
            results["soak"].update(locust_cpu_seconds=round(locust_cpu, 1), load_average=os.getloadavg())
            print(f"  after: {_load()}", flush=True)
    finally:
        stop(gunicorn)
        results["gunicorn"] = _gunicorn_trouble(gunicorn_log)
        print(f"\ngunicorn stopped; its log: {results['gunicorn']} ({gunicorn_log})")
        (out / "results.json").write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
        print(f"figures kept in {out / 'results.json'}")


if __name__ == "__main__":
    main()
