"""The web surfaces, one blueprint each, and the Vietnamese error pages."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..services.search import SearchUnavailable
from ..web import rollback
from .auditing import audit_event

log = logging.getLogger(__name__)

ERROR_MESSAGES = {
    400: ("Yêu cầu không hợp lệ", "Yêu cầu gửi lên không hợp lệ."),
    401: ("Cần đăng nhập", "Vui lòng đăng nhập để tiếp tục."),
    403: ("Không có quyền truy cập", "Tài khoản của bạn không được phép xem trang này."),
    404: ("Không tìm thấy", "Không tìm thấy trang hoặc văn bản bạn yêu cầu."),
    405: ("Thao tác không được phép", "Thao tác này không được phép trên trang này."),
    413: ("Yêu cầu quá lớn", "Dữ liệu gửi lên quá lớn."),
    429: ("Quá nhiều yêu cầu", "Bạn đã gửi quá nhiều yêu cầu. Vui lòng thử lại sau ít phút."),
    500: ("Lỗi hệ thống", "Đã xảy ra lỗi. Vui lòng thử lại sau; nếu lỗi lặp lại, hãy báo cho quản trị viên."),
    503: ("Tạm thời không phục vụ", "Hệ thống tạm thời không sẵn sàng. Vui lòng thử lại sau."),
}


SEARCH_UNAVAILABLE = "Dịch vụ tìm kiếm tạm thời không sẵn sàng. Vui lòng thử lại sau."


def register_blueprints(app: Flask) -> None:
    from . import (
        admin,
        admin_accounts,
        api,
        archivist,
        audit_log,
        auth,
        dashboard,
        documents,
        dossiers,
        fonds,
        health,
        oai,
        printing,
        saved_searches,
        search,
        tokens,
        units_admin,
        withholding,
    )
    from .converters import BoundedIntConverter

    app.url_map.converters["int"] = BoundedIntConverter  # before any rule: ids beyond BIGINT are 404s
    for module in (
        auth,
        search,
        documents,
        dossiers,
        api,
        admin,
        archivist,
        fonds,
        audit_log,
        units_admin,
        admin_accounts,
        tokens,
        oai,
        health,
        withholding,
        printing,
        dashboard,
        saved_searches,
    ):
        app.register_blueprint(module.bp)


def error_response(code: int, message: str | None = None):
    title, default = ERROR_MESSAGES.get(code, ERROR_MESSAGES[500])
    text = message or default
    if request.path.startswith("/api/"):
        return jsonify(error=text), code
    return render_template("error.html", code=code, title=title, message=text), code


def register_error_handlers(app: Flask) -> None:
    """Every error answers with a Vietnamese page (JSON under /api/) and drops the request's uncommitted changes."""

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        rollback()
        if request.endpoint == "auth.login":  # a refused sign-in form is audited like a failed one
            audit_event(
                "login_csrf_failed",
                username=(request.form.get("username") or "").strip().lower()[:150],
                new_unit_code="",
                details={"reason": str(exc.description)[:200]},
            )
        return error_response(
            400, "Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ. Vui lòng tải lại trang và thử lại."
        )

    @app.errorhandler(SearchUnavailable)
    def _search_down(exc: SearchUnavailable):
        # The cluster (or the index file) cannot answer: a 503 page, never a stack trace.
        rollback()
        log.error("search engine unavailable on %s: %s", request.path, exc)
        return error_response(503, SEARCH_UNAVAILABLE)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if exc.code is None or exc.code < 400:
            return exc
        rollback()
        return error_response(exc.code if exc.code in ERROR_MESSAGES else 500 if exc.code >= 500 else 400)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        rollback()
        log.exception("unhandled error on %s", request.path)
        return error_response(500)
