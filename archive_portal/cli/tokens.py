"""API token commands: create (shown once), list, revoke."""

from __future__ import annotations

import click

from . import console, main, open_archive


def _audit(session, action: str, target: str, **details) -> None:
    """Token commands leave the same trail as the portal's token pages (who ran them: the OS user)."""
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


@main.group()
def tokens() -> None:
    """Mã truy cập API (Authorization: Bearer …)."""


@tokens.command("create")
@click.option("--username", required=True, help="Lookup or archivist account the token acts for.")
@click.option(
    "--days", type=int, default=90, show_default=True, help="Lifetime in days (never beyond the account's expiry)."
)
@click.option("--name", "label", default="", help="A label, e.g. the system that will use it.")
def tokens_create(username: str, days: int, label: str) -> None:
    """Create a token; it is printed once and only its SHA-256 is kept."""
    from ..services.tokens import TokenError, create_token, find_account

    archive = open_archive()
    try:
        with archive.db.transaction() as session:
            account = find_account(session, username)
            if account is None:
                raise TokenError(f"Không có tài khoản “{username}”.")
            info, clear = create_token(session, account, days=days, name=label, created_by="cli")
            _audit(
                session,
                "api_token_create",
                f"ma-truy-cap:{info.id}",
                username=info.username,
                name=info.name,
                expires_at=info.expires_at.isoformat(),
            )
    except TokenError as error:
        raise click.ClickException(str(error)) from None
    console.print(
        f"Đã tạo mã truy cập số {info.id} cho {info.username}; hết hạn {info.expires_at:%d/%m/%Y %H:%M} (UTC)."
    )
    console.print("Mã (chỉ hiện một lần, hãy lưu lại ngay):")
    click.echo(clear)


@tokens.command("list")
@click.option("--username", default=None)
def tokens_list(username: str | None) -> None:
    """List tokens, one a line (never the tokens themselves: their first characters only)."""
    from ..services.tokens import list_tokens

    archive = open_archive()
    with archive.db.transaction() as session:
        rows = list_tokens(session, username=username)
        _audit(session, "api_token_list", username or "", count=len(rows))
    states = {"active": "còn hiệu lực", "revoked": "đã thu hồi", "expired": "hết hạn"}
    if not rows:
        console.print("Không có mã truy cập nào.")
    for t in rows:
        used = f"{t.last_used_at:%d/%m/%Y %H:%M}" if t.last_used_at else "chưa dùng"
        click.echo(
            f"{t.id}\t{t.username}\t{t.prefix}…\t{states[t.state]}\ttạo {t.created_at:%d/%m/%Y}"
            f"\thết hạn {t.expires_at:%d/%m/%Y}\tdùng lần cuối {used}\t{t.name}"
        )


@tokens.command("revoke")
@click.argument("token_id", type=int)
def tokens_revoke(token_id: int) -> None:
    """Revoke a token by its number; it stops working at the next request."""
    from ..services.tokens import TokenError, revoke_token

    archive = open_archive()
    try:
        with archive.db.transaction() as session:
            info = revoke_token(session, token_id)
            _audit(session, "api_token_revoke", f"ma-truy-cap:{info.id}", username=info.username)
    except TokenError as error:
        raise click.ClickException(str(error)) from None
    console.print(f"Đã thu hồi mã truy cập số {info.id} của {info.username}.")
