"""Web forms (Flask-WTF, CSRF-protected)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from .services.formatting import ROLE_LABELS
from .services.roles import ADMIN, ARCHIVIST, AUDITOR, LOOKUP


class LoginForm(FlaskForm):
    username = StringField("Tên đăng nhập", validators=[DataRequired("Nhập tên đăng nhập."), Length(max=150)])
    password = PasswordField("Mật khẩu", validators=[DataRequired("Nhập mật khẩu."), Length(max=1024)])


class ChangePasswordForm(FlaskForm):
    current = PasswordField("Mật khẩu hiện tại", validators=[DataRequired("Nhập mật khẩu hiện tại."), Length(max=1024)])
    new = PasswordField("Mật khẩu mới", validators=[DataRequired("Nhập mật khẩu mới."), Length(max=1024)])
    confirm = PasswordField(
        "Nhập lại mật khẩu mới",
        validators=[DataRequired("Nhập lại mật khẩu mới."), EqualTo("new", "Hai lần nhập mật khẩu mới không khớp.")],
    )


class LogoutForm(FlaskForm):
    """Only the CSRF token: signing out is a POST."""


# -- account administration (views/admin_accounts.py) -------------------------------------------

try:  # WTForms >= 3.3 (tuples are deprecated there)
    from wtforms.fields.choices import SelectChoice as Choice
except ImportError:  # pragma: no cover - older WTForms

    def Choice(value: str, label: str):
        return (value, label)


class AccountCreateForm(FlaskForm):
    username = StringField("Tên đăng nhập", validators=[DataRequired("Nhập tên đăng nhập."), Length(max=150)])
    display_name = StringField("Họ và tên", validators=[Length(max=300)])
    email = StringField("Email", validators=[Length(max=300)])
    role = SelectField(
        "Vai trò",
        choices=[Choice(role, ROLE_LABELS[role]) for role in (LOOKUP, ARCHIVIST, AUDITOR, ADMIN)],
        default=LOOKUP,
    )
    new_unit = SelectField("Đơn vị mới (tài khoản tra cứu)", choices=[], validate_choice=False)
    expires = StringField(
        "Ngày hết hạn (dd/mm/yyyy; để trống: một năm với tài khoản tra cứu)", validators=[Length(max=30)]
    )


class AccountExpiryForm(FlaskForm):
    expires = StringField(
        "Ngày hết hạn mới (dd/mm/yyyy)", validators=[DataRequired("Nhập ngày hết hạn."), Length(max=30)]
    )


class ActionForm(FlaskForm):
    """Only the CSRF token: the buttons of an account's page (disable, enable, expire, reset)."""


class AccountImportForm(FlaskForm):
    file = FileField(
        "Danh sách cán bộ (CSV hoặc Excel .xlsx)",
        validators=[
            FileRequired("Chọn tệp danh sách."),
            FileAllowed(["csv", "xlsx", "txt"], "Chỉ nhận tệp CSV hoặc Excel (.xlsx)."),
        ],
    )
    output = SelectField("Kết quả", choices=[Choice("html", "Trang để in"), Choice("csv", "Tệp CSV")], default="html")


class ReasonForm(FlaskForm):
    """Withhold or release a document: the reason goes into the audit trail."""

    reason = StringField("Lý do", validators=[DataRequired("Cần ghi lý do."), Length(max=500)])
