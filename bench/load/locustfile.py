"""Officials using the portal: a locust scenario (``bench/load_bench.py`` runs it headless).

Each simulated user signs in with its own account from ``LOAD_ACCOUNTS`` (a JSON list
written by ``bench.load.home``: lookup accounts of several new units, and archivists),
then searches with and without diacritics, narrows by type, year and old unit, opens
documents from its results and downloads their files (a lookup account gets a stamped
copy, an archivist the original).  Request names are the kinds the runner reports.
Users are ``FastHttpUser``s (geventhttpclient): the client runs on the same cores as the portal,
and ``HttpUser`` (requests) took several times the CPU per request.

Loopback only: the host must be 127.0.0.1 / localhost / ::1.
"""
from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
from pathlib import Path
from urllib.parse import urlencode, urlparse

import gevent
from locust import FastHttpUser, between, events, task
from locust.exception import StopUser

ACCENTED = ("kế hoạch", "ủy ban nhân dân", "giải phóng mặt bằng", "nông thôn mới", "thủy lợi", "đất đai",
            "phòng chống thiên tai", "báo cáo kết quả", "dự toán ngân sách", "bổ nhiệm", "thu hồi đất",
            '"xây dựng nông thôn mới"', "tiêm chủng", "quyết toán")
FOLDED = ("ke hoach", "uy ban nhan dan", "giai phong mat bang", "nong thon moi", "thuy loi", "dat dai",
          "phong chong thien tai", "bao cao ket qua", "du toan ngan sach", "bo nhiem", "thu hoi dat",
          '"xay dung nong thon moi"', "tiem chung", "quyet toan")
TYPES = ("Công văn", "Quyết định", "Kế hoạch", "Báo cáo", "Thông báo", "Tờ trình")
STEADY_AFTER_S = 15  # after the last spawn: every sign-in done
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_DOC_RE = re.compile(r'href="/van-ban/(\d+)\?')
_FILE_RE = re.compile(r'href="(/van-ban/\d+/tep/\d+/tai-ve)"')
_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

_accounts = json.loads(Path(os.environ["LOAD_ACCOUNTS"]).read_text(encoding="utf-8"))
_ALL_UNITS = sorted({u for a in _accounts for u in a["old_units"]})
_next_account = itertools.count()
_ENV: dict = {}
_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _interleaved(accounts: list[dict]) -> list[dict]:
    """Lookups with an archivist among them every so often (in the ratio of the accounts), so that any
    number of users has both kinds."""
    lookups = [a for a in accounts if a["role"] == "lookup"]
    others = [a for a in accounts if a["role"] != "lookup"]
    every = max(1, len(lookups) // max(1, len(others)))
    out: list[dict] = []
    for i, account in enumerate(lookups):
        out.append(account)
        if i % every == every - 1 and others:
            out.append(others.pop(0))
    return out + others


_ORDER = _interleaved(_accounts)


@events.test_start.add_listener
def _loopback_only(environment, **_kwargs):
    _ENV["environment"] = environment
    host = urlparse(environment.host or "").hostname
    if host not in LOOPBACK:
        raise SystemExit(f"the load test runs on loopback only, not {environment.host!r}")


@events.spawning_complete.add_listener
def _mark_steady(user_count, **_kwargs):
    """``LOAD_MARK``: (time, requests so far) once every user has spawned and signed in, so the runner
    can take the portal's CPU per request over the steady part alone (sign-in hashes are costly).

    The statistics start again there (``LOAD_STEADY_STATS``, on unless "0"): the rates and percentiles
    reported are those of officials searching and reading, not of a start where a hundred password
    hashes (argon2, slow on purpose) hold the cores."""
    mark = os.environ.get("LOAD_MARK")
    if not mark:
        return
    reset = os.environ.get("LOAD_STEADY_STATS", "1") != "0"

    def write() -> None:
        stats = _ENV["environment"].stats
        requests = stats.total.num_requests
        if reset:
            stats.reset_all()
        Path(mark).write_text(json.dumps({"time": time.time(), "requests": requests, "reset": reset}),
                              encoding="utf-8")

    gevent.spawn_later(STEADY_AFTER_S, write)


class Official(FastHttpUser):
    wait_time = between(float(os.environ.get("LOAD_WAIT_MIN", "0.5")), float(os.environ.get("LOAD_WAIT_MAX", "2")))

    def on_start(self) -> None:
        self.account = _ORDER[next(_next_account) % len(_ORDER)]
        self.rng = random.Random(self.account["username"])
        self.doc_ids: list[int] = []
        page = self.client.get("/dang-nhap", name="sign in (form)")
        token = _CSRF_RE.search(page.text or "")
        form = {"csrf_token": token.group(1) if token else "",
                "username": self.account["username"], "password": self.account["password"]}
        with self.client.post("/dang-nhap", name="sign in", allow_redirects=False, catch_response=True,
                              data=urlencode(form), headers=_FORM) as r:
            if r.status_code != 302 or "dang-nhap" in r.headers.get("Location", ""):
                r.failure(f"sign-in refused ({r.status_code})")
                raise StopUser()
            r.success()

    # -- searches ---------------------------------------------------------------
    def _search(self, name: str, **params) -> None:
        if self.account["role"] != "lookup":  # the whole archive, no scope: reported apart
            name += " [archivist]"
        with self.client.get(f"/?{urlencode(params)}", name=name, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"HTTP {r.status_code} {r.error or ''}".strip())
                return
            ids = [int(i) for i in _DOC_RE.findall(r.text)]
            if ids:
                self.doc_ids = ids
            r.success()

    def _units(self) -> list[str]:
        return self.account["old_units"] or _ALL_UNITS

    @task(6)
    def search_accented(self) -> None:
        self._search("search: diacritics", q=self.rng.choice(ACCENTED))

    @task(4)
    def search_folded(self) -> None:
        self._search("search: no diacritics", q=self.rng.choice(FOLDED))

    @task(2)
    def filter_type(self) -> None:
        self._search("search: filter type", q=self.rng.choice(FOLDED), type=self.rng.choice(TYPES))

    @task(2)
    def filter_year(self) -> None:
        year = self.rng.randint(2005, 2025)
        self._search("search: filter year", q=self.rng.choice(ACCENTED), **{"from": f"01/01/{year}", "to": f"31/12/{year}"})

    @task(2)
    def filter_unit(self) -> None:
        self._search("search: filter old unit", q=self.rng.choice(ACCENTED + FOLDED), unit=self.rng.choice(self._units()))

    # -- documents ---------------------------------------------------------------
    @task(4)
    def open_document(self) -> None:
        if not self.doc_ids:
            return self.search_accented()
        doc_id = self.rng.choice(self.doc_ids)
        with self.client.get(f"/van-ban/{doc_id}", name="document", catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"HTTP {r.status_code} {r.error or ''}".strip())
                return
            files = _FILE_RE.findall(r.text)
            r.success()
        if files and self.rng.random() < 0.3:
            kind = "download (stamped copy)" if self.account["role"] == "lookup" else "download (original)"
            with self.client.get(files[0], name=kind, catch_response=True) as d:
                if d.status_code != 200 or not d.content.startswith(b"%PDF"):
                    d.failure(f"HTTP {d.status_code}, not a PDF {d.error or ''}".strip())
                else:
                    d.success()
