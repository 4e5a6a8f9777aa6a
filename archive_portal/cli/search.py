"""The search command."""

from __future__ import annotations

import json

import click

from . import console, main, open_archive


# -- search -------------------------------------------------------------------------------------
@main.command()
@click.argument("query", nargs=-1)
@click.option("--new-unit", "new_unit_code", default=None, help="Search as a lookup account of this new unit.")
@click.option("--unit", "units_", multiple=True, help="Filter: old unit code.")
@click.option("--type", "types", multiple=True, help="Filter: document type.")
@click.option("--direction", "directions", multiple=True, type=click.Choice(["den", "di", "noi_bo"]))
@click.option("--from", "date_from", default="", help="From date (dd/mm/yyyy).")
@click.option("--to", "date_to", default="", help="To date (dd/mm/yyyy).")
@click.option("--number", default="", help="Filter: exact number and symbol.")
@click.option("--sort", type=click.Choice(["relevance", "date_desc", "date_asc"]), default="relevance")
@click.option("--page", type=int, default=1)
@click.option("--json", "as_json", is_flag=True)
def search(
    query: tuple[str, ...],
    new_unit_code: str | None,
    units_,
    types,
    directions,
    date_from: str,
    date_to: str,
    number: str,
    sort: str,
    page: int,
    as_json: bool,
) -> None:
    """Search the archive with the portal's search and scoping."""
    from ..services.roles import ADMIN, LOOKUP
    from ..services.scope import scope_for
    from ..services.search import search_documents

    archive = open_archive()
    params = {
        "q": " ".join(query),
        "unit": list(units_),
        "type": list(types),
        "direction": list(directions),
        "from": date_from,
        "to": date_to,
        "number": number,
        "sort": sort,
        "page": str(page),
    }
    with archive.db.session() as session:
        scope = scope_for(session, LOOKUP if new_unit_code else ADMIN, new_unit_code)
        result = search_documents(session, archive, account_scope=scope, params=params)
    if result.error:
        raise click.ClickException(result.error)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "total": result.total,
                    "total_is_lower_bound": result.total_is_lower_bound,
                    "page": result.page,
                    "hits": [
                        {
                            "id": h.id,
                            "ma_van_ban": h.ma_van_ban,
                            "unit_code": h.unit_code,
                            "number": h.number,
                            "issued_date": h.issued_date.isoformat() if h.issued_date else None,
                            "subject": h.subject,
                            "score": round(h.score, 4),
                        }
                        for h in result.hits
                    ],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    console.print(f"{result.total_text} văn bản (trang {result.page}/{result.pages_text})")
    for hit in result.hits:
        console.print(
            f"[bold]#{hit.id}[/bold] {hit.number or '—'}  {hit.issued_date_display}  [{hit.unit_name}] {hit.subject}"
        )
