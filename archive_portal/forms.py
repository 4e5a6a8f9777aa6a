"""Web forms (Flask-WTF, CSRF-protected)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    username = StringField(
        "Tên đăng nhập", validators=[DataRequired("Nhập tên đăng nhập."), Length(max=150)]
    )
    password = PasswordField(
        "Mật khẩu", validators=[DataRequired("Nhập mật khẩu."), Length(max=1024)]
    )


class ChangePasswordForm(FlaskForm):
    current = PasswordField(
        "Mật khẩu hiện tại", validators=[DataRequired("Nhập mật khẩu hiện tại."), Length(max=1024)]
    )
    new = PasswordField("Mật khẩu mới", validators=[DataRequired("Nhập mật khẩu mới."), Length(max=1024)])
    confirm = PasswordField(
        "Nhập lại mật khẩu mới",
        validators=[DataRequired("Nhập lại mật khẩu mới."), EqualTo("new", "Hai lần nhập mật khẩu mới không khớp.")],
    )


class LogoutForm(FlaskForm):
    """Only the CSRF token: signing out is a POST."""
