"""Web forms (Flask-WTF, CSRF-protected)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    username = StringField(
        "Tên đăng nhập", validators=[DataRequired("Nhập tên đăng nhập."), Length(max=150)]
    )
    password = PasswordField(
        "Mật khẩu", validators=[DataRequired("Nhập mật khẩu."), Length(max=1024)]
    )


class LogoutForm(FlaskForm):
    """Only the CSRF token: signing out is a POST."""
