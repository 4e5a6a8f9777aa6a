"""Account commands."""
from __future__ import annotations



import click

from . import console, main, open_archive


# -- accounts -----------------------------------------------------------------------------------
@main.group()
def accounts() -> None:
    """Tài khoản."""


@accounts.command("create")
@click.option("--username", required=True)
@click.option("--new-unit", "new_unit_code", default=None, help="New unit code (lookup accounts).")
@click.option("--role", type=click.Choice(["lookup", "archivist", "admin", "auditor"]), default="lookup")
@click.option("--password", default=None, help="Initial password (default: generated and printed).")
@click.option("--name", "display_name", default="")
@click.option("--email", default="")
def accounts_create(username: str, new_unit_code: str | None, role: str, password: str | None, display_name: str, email: str) -> None:
    """Create a local account; a lookup account is bound to one new unit."""
    from ..services.accounts import AccountError, create_account

    archive = open_archive()
    try:
        with archive.db.transaction() as session:
            account, initial = create_account(session, username=username, role=role, new_unit_code=new_unit_code,
                                              password=password, display_name=display_name, email=email)
            expires = account.expires_at.strftime("%d/%m/%Y") if account.expires_at else "không"
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    console.print(f"Đã tạo tài khoản {username} ({role}{', đơn vị ' + new_unit_code if new_unit_code else ''}); "
                  f"hết hạn: {expires}")
    if password is None:
        console.print(f"Mật khẩu ban đầu: {initial}")
