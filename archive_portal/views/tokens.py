"""The signed-in user's own API tokens: list, create (shown once), revoke."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..auth import roles_required
from ..services import audit
from ..services.accounts import get_account
from ..services.tokens import (
    DEFAULT_DAYS,
    MAX_DAYS,
    MAX_NAME,
    TOKEN_ROLES,
    TokenError,
    create_token,
    list_tokens,
    revoke_token,
)
from ..web import db_session

bp = Blueprint("tokens", __name__, url_prefix="/ma-truy-cap")


class CreateTokenForm(FlaskForm):
    name = StringField("Tên (hệ thống sẽ dùng mã)", validators=[Optional(), Length(max=MAX_NAME)])
    days = IntegerField(
        "Hiệu lực (ngày)",
        default=DEFAULT_DAYS,
        validators=[DataRequired("Nhập số ngày."), NumberRange(1, MAX_DAYS, f"Từ 1 đến {MAX_DAYS} ngày.")],
    )


class RevokeTokenForm(FlaskForm):
    """Only the CSRF token: the token's number is in the URL."""


def _page(form: CreateTokenForm, new_token: str = "", status: int = 200):
    tokens = list_tokens(db_session(), account_id=current_user.account_id)
    return render_template(
        "tokens.html", form=form, revoke_form=RevokeTokenForm(), tokens=tokens, new_token=new_token
    ), status


@bp.route("/", methods=["GET"])
@roles_required(*TOKEN_ROLES)
def index():
    return _page(CreateTokenForm())


@bp.route("/", methods=["POST"])
@roles_required(*TOKEN_ROLES)
def create():
    form = CreateTokenForm()
    if not form.validate_on_submit():
        return _page(form, status=400)
    session = db_session()
    try:
        account = get_account(session, current_user.account_id)
        if account is None:  # deleted under a live session: nothing to issue a token to
            abort(401)
        info, clear = create_token(
            session, account, days=form.days.data, name=form.name.data or "", created_by=current_user.username
        )
        audit.record(
            session,
            "api_token_create",
            account=current_user,
            target=f"ma-truy-cap:{info.id}",
            details={"name": info.name, "expires_at": info.expires_at.isoformat()},
        )
    except TokenError as error:
        session.rollback()
        form.days.errors = [*form.days.errors, str(error)]
        return _page(form, status=400)
    # Shown in this response only: never in a redirect, a flash message or the session.
    return _page(CreateTokenForm(formdata=None), new_token=clear, status=201)


@bp.route("/<int:token_id>/thu-hoi", methods=["POST"])
@roles_required(*TOKEN_ROLES)
def revoke(token_id: int):
    if not RevokeTokenForm().validate_on_submit():
        abort(400)
    session = db_session()
    try:
        info = revoke_token(session, token_id, account_id=current_user.account_id)
        audit.record(session, "api_token_revoke", account=current_user, target=f"ma-truy-cap:{info.id}")
    except TokenError:
        abort(404)  # rolled back with the request
    flash(f"Đã thu hồi mã truy cập số {info.id}.", "info")
    return redirect(url_for("tokens.index"))
