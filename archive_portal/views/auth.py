"""Signing in and out."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..auth import user_from_account
from ..auth.limits import limit_login_per_account, limit_login_per_address
from ..forms import LoginForm, LogoutForm
from ..services.accounts import authenticate
from .auditing import audit_event

bp = Blueprint("auth", __name__)

LOGIN_FAILED = "Tên đăng nhập hoặc mật khẩu không đúng, hoặc tài khoản đã bị khóa/hết hạn."


def safe_next(target: str | None) -> str:
    """A local path to go to after signing in; anything else goes to the search page."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("search.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return url_for("search.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
@bp.route("/dang-nhap", methods=["GET", "POST"])  # registered first: url_for builds this one
@limit_login_per_address
@limit_login_per_account
def login():
    if current_user.is_authenticated:
        return redirect(url_for("search.index"))
    form = LoginForm()
    error = ""
    status = 200
    if form.validate_on_submit():
        archive = current_app.extensions["archive"]
        with archive.db.transaction() as db:
            account = authenticate(db, form.username.data, form.password.data)
            user = user_from_account(db, account) if account is not None else None
        if user is not None:
            session.clear()  # no session fixation: a fresh session for the signed-in user
            session.permanent = True
            login_user(user)
            audit_event("login", account=user)
            return redirect(safe_next(request.args.get("next")))
        error = LOGIN_FAILED
        status = 401
        audit_event("login_failed", username=(form.username.data or "").strip().lower()[:150], new_unit_code="")
    elif request.method == "POST":
        status = 400
    return render_template("login.html", form=form, error=error), status


@bp.route("/logout", methods=["POST"])
@bp.route("/dang-xuat", methods=["POST"])
@login_required
def logout():
    form = LogoutForm()
    if form.validate_on_submit():
        audit_event("logout")
        logout_user()
        session.clear()
        flash("Bạn đã đăng xuất.", "info")
    return redirect(url_for("auth.login"))
