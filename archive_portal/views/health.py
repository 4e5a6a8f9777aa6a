"""Operators' endpoints: ``/healthz`` (for load balancers and monitors) and ``/metrics`` (Prometheus).

``/healthz`` is open and says only whether each part answers (200, or 503
when one does not).  ``/metrics`` is for the monitoring system only: it is
served to a bearer token equal to ``ARCHIVE_METRICS_TOKEN`` when that is set --
then *only* to it, loopback included: on a shared host any local process could
otherwise read the figures -- or, with no token configured, to requests from the
loopback interface that came through no proxy (no ``X-Forwarded-For``/
``Forwarded``/``X-Real-IP``); anyone else gets 404.
This blueprint also installs the hooks that count sign-ins and time searches.
"""

from __future__ import annotations

import hmac
import ipaddress
import time

from flask import Blueprint, Response, abort, current_app, g, jsonify, request

from ..services.health import check_health
from ..services.metrics import LOGINS, SEARCH_SECONDS, DatabaseCollector, exposition
from ..services.tokens import bearer_token
from ..web import current_archive, db_session

bp = Blueprint("health", __name__)

SEARCH_ROUTES = {"search.index": "page", "api.search": "api"}
LOGIN_ENDPOINT = "auth.login"
PROXY_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP", "X-Forwarded-Host")


@bp.route("/healthz")
def healthz():
    checks = check_health(db_session(), current_archive())
    ok = all(c.ok for c in checks)
    body = {
        "status": "ok" if ok else "fail",
        "checks": {c.name: {"ok": c.ok, "ms": c.ms, **({"error": c.error} if c.error else {})} for c in checks},
    }
    return jsonify(body), 200 if ok else 503


def _metrics_allowed() -> bool:
    configured = current_archive().settings.metrics_token
    offered = bearer_token(request.headers.get("Authorization"))
    if configured:  # a configured token is required from everywhere
        return offered is not None and hmac.compare_digest(offered.encode(), configured.encode())
    if any(h in request.headers for h in PROXY_HEADERS):
        return False
    environ = request.environ.get("werkzeug.proxy_fix.orig", {})
    address = environ.get("REMOTE_ADDR") or request.environ.get("REMOTE_ADDR") or ""
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


@bp.route("/metrics")
def metrics():
    if not _metrics_allowed():
        abort(404)
    collector = current_app.extensions.setdefault("archive_metrics", DatabaseCollector(current_archive()))
    return Response(exposition(collector), content_type="text/plain; version=0.0.4; charset=utf-8")


def _start_timer() -> None:
    if request.endpoint in SEARCH_ROUTES and request.args:
        g.search_started = time.perf_counter()


def _observe(response):
    started = g.pop("search_started", None)
    if started is not None and response.status_code < 500:
        SEARCH_SECONDS.labels(SEARCH_ROUTES[request.endpoint or ""]).observe(time.perf_counter() - started)
    if request.endpoint == LOGIN_ENDPOINT and request.method == "POST":
        outcome = {302: "success", 303: "success", 401: "failure", 429: "throttled"}.get(response.status_code)
        if outcome:
            LOGINS.labels(outcome).inc()
    return response


def _install_hooks(state) -> None:
    state.app.before_request(_start_timer)
    state.app.after_request(_observe)


bp.record_once(_install_hooks)
