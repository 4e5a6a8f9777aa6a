"""Archive portal: read-only search of the documents of abolished local-government units.

``create_app`` builds the web application; nothing is configured at import
time (and importing this package does not import Flask, so the CLI and the
ingest workers stay light).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from flask import Flask

    from archive_core.context import Archive
    from archive_core.settings import Settings

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; frame-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
CSP_FRAMEABLE = "default-src 'self'; frame-ancestors 'self'"


def create_app(settings: Settings | None = None, archive: Archive | None = None) -> Flask:
    """The web application over one archive (opened from ``settings`` when not given)."""
    from datetime import timedelta

    from flask import Flask, g

    from archive_core.context import Archive
    from archive_core.settings import Settings

    from . import auth, web
    from .services.formatting import (
        ROLE_LABELS,
        direction_label,
        format_count,
        format_date,
        format_day,
        format_time_zoned,
        zone_name,
    )
    from .services.roles import AUDIT_READERS, PACKAGE_READERS, TOKEN_HOLDERS
    from .views import register_blueprints, register_error_handlers

    if archive is None:
        archive = Archive.open(settings or Settings.load())
    settings = archive.settings

    app = Flask(__name__)
    web.init_app(app, archive)  # first: its commit hook runs after every other hook
    if settings.trusted_proxies > 0:  # client addresses (audit, throttling) from X-Forwarded-For
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies)  # type: ignore[method-assign]
    app.config.update(
        SECRET_KEY=settings.effective_secret_key(),
        SESSION_COOKIE_NAME="archive_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=settings.session_cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        MAX_CONTENT_LENGTH=64 * 1024,  # the portal takes no uploads
        WTF_CSRF_TIME_LIMIT=8 * 3600,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # DefaultJSONProvider's settings
    app.json.sort_keys = False  # type: ignore[attr-defined]

    from flask_wtf.csrf import CSRFProtect

    CSRFProtect(app)
    auth.init_app(app)

    app.jinja_env.filters["vn_date"] = format_date  # datetimes: Hà Nội time
    app.jinja_env.filters["vn_day"] = format_day  # the local day of a stored time (expiry dates)
    app.jinja_env.filters["vn_time"] = format_time_zoned  # a time that is evidence, the zone named
    app.jinja_env.filters["local_time"] = format_time_zoned
    app.jinja_env.filters["direction_label"] = direction_label
    app.jinja_env.filters["vn_count"] = format_count  # 10000 -> "10.000"
    app.jinja_env.globals["ROLE_LABELS"] = ROLE_LABELS
    app.jinja_env.globals["zone_name"] = zone_name
    app.jinja_env.globals.update(
        AUDIT_READERS=AUDIT_READERS, PACKAGE_READERS=PACKAGE_READERS, TOKEN_HOLDERS=TOKEN_HOLDERS
    )

    register_blueprints(app)
    register_error_handlers(app)

    @app.after_request
    def _security_headers(response):
        frameable = getattr(g, "frameable", False)
        response.headers["Content-Security-Policy"] = CSP_FRAMEABLE if frameable else CSP
        response.headers["X-Frame-Options"] = "SAMEORIGIN" if frameable else "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response

    return app
