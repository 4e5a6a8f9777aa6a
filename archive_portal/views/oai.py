"""OAI-PMH 2.0 endpoint (``/oai``) for national and provincial archive systems.

Access, decided for the contract's rule that no account ever sees beyond its
scope: the endpoint is off unless ``ARCHIVE_OAI_ENABLED`` is set (404), and
every request needs an API token (``Authorization: Bearer …``, 401 without).
The records are those the token's account may see: an archivist's token
harvests the whole catalogue, a lookup token its own unit's predecessors.
Only metadata of documents that are not withheld is ever served.  GET and
POST (form-encoded) as the protocol requires; every request is audited.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request

from ..services.oai import Provider, Repository, base_url
from ..web import current_archive, db_session
from .auditing import audit_event
from .bearer import identify, unauthorized

bp = Blueprint("oai", __name__)
# Harvesters POST without a CSRF token; the endpoint changes nothing but the audit trail.
bp.record_once(lambda state: state.app.extensions["csrf"].exempt(bp))


@bp.route("/oai", methods=["GET", "POST"])
def endpoint():
    settings = current_archive().settings
    if not settings.oai_enabled:
        abort(404)
    caller = identify(allow_session=False)
    if caller is None:
        return unauthorized()
    repo = Repository(
        base_url=base_url(settings.public_url, settings.oai_repository_id),
        name=settings.oai_repository_name,
        repository_id=settings.oai_repository_id,
        admin_email=settings.oai_admin_email,
        page_size=settings.oai_page_size,
        secret=current_app.config["SECRET_KEY"],
    )
    source = request.form if request.method == "POST" else request.args
    args = {key: source.getlist(key) for key in source}
    body, verb, count = Provider(db_session(), repo, caller.scope).respond(args)
    audit_event(
        "oai_harvest",
        account=caller.user,
        target=verb or "badVerb",
        details={
            "via": caller.via,
            "arguments": {k: v[:1] for k, v in args.items() if k != "resumptionToken"},
            "items": count,
        },
    )
    return Response(body, status=200, content_type="text/xml; charset=utf-8")
