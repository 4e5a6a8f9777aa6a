"""Account commands: create, list, disable/enable, expire/extend, reset password, unlock, bulk import."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from ..services.roles import ADMIN, ARCHIVIST, AUDITOR, LOOKUP
from . import console, main, open_archive

err_console = Console(stderr=True)


def _fail(error: Exception) -> click.ClickException:
    return click.ClickException(str(error))


def _date(value):
    from ..services.formatting import format_day

    return format_day(value, "không")


def _audit(session, action: str, target: str, **details) -> None:
    """The admin action into the audit trail, with the same transaction, as done from the server's shell."""
    import getpass

    from ..services import audit

    audit.record(
        session,
        action,
        username=f"cli:{getpass.getuser()}"[:150],
        new_unit_code="",
        target=target,
        details=details,
        client="cli",
    )


def _with_account(username: str, action, audit_action: str, **details) -> None:
    """Run ``action(session, account)`` in one transaction, audited; a missing account or refusal is an error."""
    from ..services.accounts import AccountError, find_account

    archive = open_archive()
    try:
        with archive.db.transaction() as session:
            account = find_account(session, username)
            if account is None:
                raise AccountError(f"Không có tài khoản “{username}”.")
            action(session, account)
            _audit(session, audit_action, account.username, **details)
    except AccountError as error:
        raise _fail(error) from None


# -- accounts -----------------------------------------------------------------------------------
@main.group()
def accounts() -> None:
    """Tài khoản."""


@accounts.command("create")
@click.option("--username", required=True)
@click.option("--new-unit", "new_unit_code", default=None, help="New unit code (lookup accounts).")
@click.option("--role", type=click.Choice([LOOKUP, ARCHIVIST, ADMIN, AUDITOR]), default=LOOKUP)
@click.option(
    "--password", default=None, help="Initial password (default: generated, printed, to change at first login)."
)
@click.option("--name", "display_name", default="")
@click.option("--email", default="")
@click.option("--expires", default="", help="Expiry date dd/mm/yyyy (lookup accounts: default one year).")
def accounts_create(
    username: str,
    new_unit_code: str | None,
    role: str,
    password: str | None,
    display_name: str,
    email: str,
    expires: str,
) -> None:
    """Create a local account; a lookup account is bound to one new unit."""
    from ..services.accounts import AccountError, create_account
    from ..services.formatting import parse_user_date

    archive = open_archive()
    try:
        expires_on = parse_user_date(expires)
    except ValueError as error:
        raise _fail(error) from None
    try:
        with archive.db.transaction() as session:
            account, initial = create_account(
                session,
                username=username,
                role=role,
                new_unit_code=new_unit_code,
                password=password,
                display_name=display_name,
                email=email,
                expires_at=expires_on,
            )
            expires_text = _date(account.expires_at)
            _audit(session, "account_create", account.username, role=role, new_unit_code=new_unit_code or "")
    except AccountError as error:
        raise _fail(error) from None
    console.print(
        f"Đã tạo tài khoản {username} ({role}{', đơn vị ' + new_unit_code if new_unit_code else ''}); "
        f"hết hạn: {expires_text}"
    )
    if password is None:
        console.print(f"Mật khẩu ban đầu: {initial} (phải đổi khi đăng nhập lần đầu)")


@accounts.command("list")
def accounts_list() -> None:
    """Every account with its role, unit, expiry and state."""
    from rich.table import Table

    from ..services.accounts import account_status, list_accounts

    archive = open_archive()
    table = Table("Tên đăng nhập", "Họ tên", "Vai trò", "Đơn vị mới", "Nguồn", "Hết hạn", "Trạng thái")
    with archive.db.session() as session:
        for a in list_accounts(session):
            table.add_row(
                a.username,
                a.display_name,
                a.role,
                a.new_unit_code or "",
                a.source,
                _date(a.expires_at),
                account_status(a),
            )
    console.print(table)


@accounts.command("disable")
@click.argument("username")
def accounts_disable(username: str) -> None:
    """Disable an account; its open sessions end at their next request."""
    from ..services.accounts import disable_account

    _with_account(username, disable_account, "account_disable")
    console.print(f"Đã vô hiệu hóa tài khoản {username}.")


@accounts.command("enable")
@click.argument("username")
def accounts_enable(username: str) -> None:
    """Re-enable (and unlock) an account; its expiry date is unchanged."""
    from ..services.accounts import enable_account

    _with_account(username, enable_account, "account_enable")
    console.print(f"Đã kích hoạt lại tài khoản {username}.")


@accounts.command("restricted")
@click.argument("username")
@click.option("--allow/--deny", default=True, help="Allow (default) or stop its access to restricted material.")
def accounts_restricted(username: str, allow: bool) -> None:
    """Let a lookup account see "Hạn chế" (restricted) documents, or stop it; other roles always see them."""

    def set_flag(_session, account) -> None:
        account.may_see_restricted = allow

    _with_account(username, set_flag, "account_restricted_access", allowed=allow)
    state = "được xem" if allow else "không còn được xem"
    console.print(f"Tài khoản {username} {state} tài liệu hạn chế sử dụng.")


@accounts.command("expire")
@click.argument("username")
@click.option("--on", "on", default="", help="New expiry date dd/mm/yyyy; without it the account expires now.")
def accounts_expire(username: str, on: str) -> None:
    """Expire an account now, or set its expiry date (also to extend it)."""
    from ..services.accounts import expire_account, set_expiry
    from ..services.formatting import parse_user_date

    try:
        day = parse_user_date(on)
    except ValueError as error:
        raise _fail(error) from None
    if day is None:
        _with_account(username, expire_account, "account_expire", expires="now")
        console.print(f"Tài khoản {username} đã hết hạn từ bây giờ.")
    else:
        _with_account(
            username,
            lambda session, account: set_expiry(session, account, day),
            "account_expire",
            expires=day.isoformat(),
        )
        console.print(f"Tài khoản {username} hết hạn sau ngày {day.strftime('%d/%m/%Y')}.")


@accounts.command("reset-password")
@click.argument("username")
def accounts_reset_password(username: str) -> None:
    """A new generated password, to change at next login; open sessions end."""
    from ..services.accounts import reset_password

    box: list[str] = []
    _with_account(
        username, lambda session, account: box.append(reset_password(session, account)), "account_password_reset"
    )
    console.print(f"Mật khẩu mới của {username}: {box[0]} (phải đổi khi đăng nhập)")


@accounts.command("unlock")
@click.argument("username")
def accounts_unlock(username: str) -> None:
    """Lift a temporary lockout after repeated failed logins."""

    def unlock(session, account) -> None:
        account.failed_logins = 0
        account.locked_until = None

    _with_account(username, unlock, "account_enable", unlock=True)
    console.print(f"Đã mở khóa đăng nhập cho {username}.")


@accounts.command("import")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the result list with initial passwords (CSV); default: standard output.",
)
@click.option(
    "--with-roles",
    is_flag=True,
    help="Also create the other roles the list's role column names, after showing them for confirmation.",
)
@click.option("--yes", is_flag=True, help="With --with-roles: the roles shown are confirmed without asking.")
def accounts_import(source: Path, output: Path | None, with_roles: bool, yes: bool) -> None:
    """Create lookup accounts from a CSV/XLSX list of officials (name, username, new unit, email, expiry).

    Rows naming another role are refused, unless --with-roles: the roles are then listed
    first and applied only once confirmed."""
    from ..services.account_import import (
        LOOKUP_ONLY,
        ROLE_LABELS,
        ImportFileError,
        create_from_rows,
        read_officials,
        results_csv,
        roles_asked,
    )
    from ..services.roles import ROLES

    archive = open_archive()
    try:
        rows = read_officials(source.read_bytes(), source.name)
    except ImportFileError as error:
        raise _fail(error) from None
    allowed = LOOKUP_ONLY
    if with_roles:
        asked = roles_asked(rows)
        for role, names in sorted(asked.items()):
            err_console.print(f"Vai trò {ROLE_LABELS.get(role, role)} ({role}): {', '.join(names)}", markup=False)
        if asked and not (yes or click.confirm("Tạo các tài khoản với những vai trò trên?", err=True)):
            raise click.ClickException("Chưa tạo tài khoản nào.")
        allowed = frozenset(ROLES)
    with archive.db.transaction() as session:
        results = create_from_rows(session, rows, allowed_roles=allowed)
        _audit(
            session,
            "account_bulk_create",
            source.name,
            created=[r.username for r in results if r.ok],
            roles={r.username: r.role for r in results if r.ok},
            refused=sum(not r.ok for r in results),
        )
    text = results_csv(results)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        output.chmod(0o600)
    created = sum(r.ok for r in results)
    err_console.print(
        f"Đã tạo {created}/{len(results)} tài khoản" + (f"; danh sách mật khẩu ban đầu: {output}" if output else "")
    )
    for r in results:
        if not r.ok:
            err_console.print(f"  dòng {r.line} ({r.username or '—'}): {r.error}")
    if created < len(results):
        sys.exit(1)
