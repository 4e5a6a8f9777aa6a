"""Signing in and out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..auth import mark_session_fresh, user_from_account
from ..auth.limits import limit_login_per_account, limit_login_per_address, limit_password_change
from ..forms import ChangePasswordForm, LoginForm, LogoutForm
from ..services.accounts import AccountError, get_account, sign_out_everywhere
from ..services.accounts import change_password as change_own_password
from ..services.signin import sign_in
from ..web import current_archive, db_session
from .auditing import audit_event

bp = Blueprint("auth", __name__)

LOGIN_FAILED = "Tên đăng nhập hoặc mật khẩu không đúng, hoặc tài khoản đã bị khóa/hết hạn."
# Shown with every failure alike (no enumeration), so a legitimate user knows why a right password may fail.
LOGIN_HINT = (
    "Sau nhiều lần đăng nhập sai liên tiếp, tài khoản bị tạm khóa {minutes} phút. "
    "Nếu bạn chắc chắn mật khẩu đúng, hãy thử lại sau hoặc liên hệ quản trị viên."
)


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
        db = db_session()
        account = sign_in(db, current_archive().settings, form.username.data, form.password.data)
        user = user_from_account(db, account) if account is not None else None
        if user is not None:
            session.clear()  # no session fixation: a fresh session for the signed-in user
            session.permanent = True
            login_user(user)
            mark_session_fresh()
            audit_event("login", account=user)
            if user.must_change_password:
                return redirect(url_for("auth.change_password"))
            return redirect(safe_next(request.args.get("next")))
        error = LOGIN_FAILED
        status = 401
        audit_event("login_failed", username=(form.username.data or "").strip().lower()[:150], new_unit_code="")
    elif request.method == "POST":
        status = 400
    hint = LOGIN_HINT.format(minutes=current_archive().settings.login_lockout_minutes) if error else ""
    return render_template("login.html", form=form, error=error, hint=hint), status


@bp.route("/logout", methods=["POST"])
@bp.route("/dang-xuat", methods=["POST"])
@login_required
def logout():
    form = LogoutForm()
    if form.validate_on_submit():
        audit_event("logout")
        sign_out_everywhere(db_session(), current_user.account_id)
        logout_user()
        session.clear()
        flash("Bạn đã đăng xuất.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/doi-mat-khau", methods=["GET", "POST"])
@login_required
@limit_password_change
def change_password():
    """The account's own password; the only page an account that must change it can reach."""
    form = ChangePasswordForm()
    if current_user.source != "local":
        return render_template("change_password.html", form=None, errors=[]), 200
    errors: list[str] = []
    status = 200
    if form.validate_on_submit():
        db = db_session()
        try:
            account = get_account(db, current_user.account_id)
            if account is None:
                abort(401)
            change_own_password(db, account, form.current.data, form.new.data)
            user = user_from_account(db, account)
        except AccountError as error:
            db.rollback()
            errors = [str(error)]
            status = 400
        else:
            audit_event("account_password_change", account=user, target=user.username)
            session.clear()  # other sessions ended with the old password; this one starts afresh
            session.permanent = True
            login_user(user)
            mark_session_fresh()
            flash("Đã đổi mật khẩu.", "info")
            return redirect(url_for("search.index"))
    elif request.method == "POST":
        status = 400
    return render_template("change_password.html", form=form, errors=errors), status
