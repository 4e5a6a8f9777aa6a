"""Account administration (admins only): list, create, disable/enable, expire/extend, reset, bulk import.

Every change is a CSRF-protected POST and goes into the audit trail.  Initial
and reset passwords are shown once, on the page answering the POST (never
stored in clear, never in a URL); the bulk result can also be taken as CSV.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from archive_core.errors import UserError

from ..auth import roles_required
from ..forms import AccountCreateForm, AccountExpiryForm, AccountImportForm, ActionForm, Choice
from ..services.account_import import ImportFileError, create_from_rows, read_officials, results_csv
from ..services.accounts import (
    AccountError,
    account_status,
    create_account,
    disable_account,
    enable_account,
    expire_account,
    get_account,
    list_accounts,
    reset_password,
    set_expiry,
)
from ..services.formatting import parse_user_date
from ..services.roles import ACCOUNT_ADMINS, LOOKUP
from ..services.units import find_new_unit, new_unit_names
from ..web import db_session
from .auditing import audit_event

bp = Blueprint("accounts_admin", __name__, url_prefix="/quan-tri/tai-khoan")

IMPORT_MAX_BYTES = 4 * 1024 * 1024  # the only upload of the portal (the app-wide limit is 64 KiB)


@bp.record_once
def _allow_the_list_upload(state) -> None:
    """Raise the body limit for the import page only, before CSRF protection reads the form."""

    def allow() -> None:
        if request.endpoint == "accounts_admin.import_list":
            request.max_content_length = IMPORT_MAX_BYTES

    state.app.before_request_funcs.setdefault(None, []).insert(0, allow)


def _unit_choices(session) -> list:
    return [Choice("", "— không —")] + [
        Choice(code, f"{name} ({code})") for code, name in new_unit_names(session).items()
    ]


def _shown_once(session, account, password: str) -> dict:
    """One row of the page showing a new password (once)."""
    unit = find_new_unit(session, account.new_unit_code)
    return dict(
        username=account.username,
        display_name=account.display_name,
        role=account.role,
        new_unit_code=account.new_unit_code or "",
        new_unit_name=unit.name if unit else "",
        expires_at=account.expires_at,
        password=password,
        email=account.email,
    )


def _account_or_404(session, account_id: int):
    account = get_account(session, account_id)
    if account is None:
        abort(404)
    return account


@bp.route("/", methods=["GET", "POST"])
@roles_required(*ACCOUNT_ADMINS)
def index():
    """The accounts, and the form creating one (the new account's password shown once)."""
    form = AccountCreateForm()
    errors: list[str] = []
    status = 200
    session = db_session()
    form.new_unit.choices = _unit_choices(session)
    if form.validate_on_submit():
        try:
            expires = parse_user_date(form.expires.data)
        except UserError as error:
            errors.append(str(error))
        else:
            try:
                account, password = create_account(
                    session,
                    username=form.username.data,
                    role=form.role.data,
                    new_unit_code=form.new_unit.data if form.role.data == LOOKUP else None,
                    display_name=form.display_name.data or "",
                    email=form.email.data or "",
                    expires_at=expires,
                )
                created = _shown_once(session, account, password)
            except AccountError as error:
                session.rollback()
                errors.append(str(error))
            else:
                audit_event(
                    "account_create",
                    target=created["username"],
                    details={"role": created["role"], "new_unit_code": created["new_unit_code"]},
                )
                return render_template("admin_account_password.html", title="Đã tạo tài khoản", rows=[created])
        status = 400
    elif request.method == "POST":
        status = 400
    accounts = [(a, account_status(a)) for a in list_accounts(session)]
    return render_template(
        "admin_accounts.html", form=form, errors=errors, accounts=accounts, units=new_unit_names(session)
    ), status


@bp.route("/<int:account_id>")
@roles_required(*ACCOUNT_ADMINS)
def show(account_id: int):
    session = db_session()
    account = _account_or_404(session, account_id)
    unit = find_new_unit(session, account.new_unit_code)
    status = account_status(account)
    return render_template(
        "admin_account.html",
        account=account,
        unit=unit,
        status=status,
        action_form=ActionForm(),
        expiry_form=AccountExpiryForm(),
    )


def _act(account_id: int, audit_action: str, change, done: str, **details):
    """Apply ``change(session, account)`` to one account and come back to its page."""
    if not ActionForm().validate_on_submit():
        abort(400)
    session = db_session()
    account = _account_or_404(session, account_id)
    try:
        change(session, account)
    except AccountError as error:
        session.rollback()
        flash(str(error), "error")
        return redirect(url_for(".show", account_id=account_id))
    audit_event(audit_action, target=account.username, details=details)
    flash(done, "info")
    return redirect(url_for(".show", account_id=account_id))


@bp.route("/<int:account_id>/vo-hieu-hoa", methods=["POST"])
@roles_required(*ACCOUNT_ADMINS)
def disable(account_id: int):
    return _act(
        account_id, "account_disable", disable_account, "Đã vô hiệu hóa tài khoản; các phiên đang mở đã kết thúc."
    )


@bp.route("/<int:account_id>/kich-hoat", methods=["POST"])
@roles_required(*ACCOUNT_ADMINS)
def enable(account_id: int):
    return _act(account_id, "account_enable", enable_account, "Đã kích hoạt lại tài khoản.")


@bp.route("/<int:account_id>/het-han", methods=["POST"])
@roles_required(*ACCOUNT_ADMINS)
def expire(account_id: int):
    return _act(
        account_id,
        "account_expire",
        expire_account,
        "Tài khoản đã hết hạn từ bây giờ; các phiên đang mở đã kết thúc.",
        expires="now",
    )


@bp.route("/<int:account_id>/gia-han", methods=["POST"])
@roles_required(*ACCOUNT_ADMINS)
def extend(account_id: int):
    form = AccountExpiryForm()
    if not form.validate_on_submit():
        flash("Nhập ngày hết hạn theo dạng dd/mm/yyyy.", "error")
        return redirect(url_for(".show", account_id=account_id))
    try:
        day = parse_user_date(form.expires.data)
    except UserError as error:
        flash(str(error), "error")
        return redirect(url_for(".show", account_id=account_id))
    if day is None:
        flash("Hãy nhập ngày hết hạn (dd/mm/yyyy).", "error")
        return redirect(url_for(".show", account_id=account_id))
    return _act(
        account_id,
        "account_expire",
        lambda session, account: set_expiry(session, account, day),
        f"Đã đặt ngày hết hạn {day.strftime('%d/%m/%Y')}.",
        expires=day.isoformat(),
    )


@bp.route("/<int:account_id>/dat-lai-mat-khau", methods=["POST"])
@roles_required(*ACCOUNT_ADMINS)
def reset(account_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    session = db_session()
    account = _account_or_404(session, account_id)
    try:
        row = _shown_once(session, account, reset_password(session, account))
    except AccountError as error:
        session.rollback()
        flash(str(error), "error")
        return redirect(url_for(".show", account_id=account_id))
    audit_event("account_password_reset", target=row["username"])
    return render_template("admin_account_password.html", title="Đã đặt lại mật khẩu", rows=[row])


@bp.route("/nhap", methods=["GET", "POST"])
@roles_required(*ACCOUNT_ADMINS)
def import_list():
    """Bulk creation from a list of officials; the result (with initial passwords) as a page to print or CSV."""
    form = AccountImportForm()
    errors: list[str] = []
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        try:
            rows = read_officials(upload.read(), upload.filename or "")
        except ImportFileError as error:
            errors.append(str(error))
        else:
            results = create_from_rows(db_session(), rows)
            audit_event(
                "account_bulk_create",
                target=(upload.filename or "")[:200],
                details={
                    "created": [r.username for r in results if r.ok],
                    "roles": {r.username: r.role for r in results if r.ok},
                    "refused": sum(not r.ok for r in results),
                },
            )
            if form.output.data == "csv":
                return Response(
                    results_csv(results),
                    mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": "attachment; filename=tai-khoan-moi.csv"},
                )
            return render_template("admin_accounts_imported.html", results=results)
        status = 400
    elif request.method == "POST":
        status = 400
    return render_template("admin_accounts_import.html", form=form, errors=errors), status
