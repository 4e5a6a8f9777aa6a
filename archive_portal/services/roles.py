"""The four roles and what each may reach; views name these sets, never bare role strings.

* ``admin``: accounts, units, settings (and reads every document);
* ``archivist``: ingest, reports, every document;
* ``auditor``: the audit trail (and reads every document, to check what was read);
* ``lookup``: read-only, bound to exactly one new unit (``services.scope``).
"""

from __future__ import annotations

ADMIN = "admin"
ARCHIVIST = "archivist"
AUDITOR = "auditor"
LOOKUP = "lookup"

ROLES: tuple[str, ...] = (ADMIN, ARCHIVIST, AUDITOR, LOOKUP)
# Highest first: when directory groups give several roles, the first one wins.
ROLE_PRECEDENCE: tuple[str, ...] = (ADMIN, ARCHIVIST, AUDITOR, LOOKUP)

DOCUMENT_READERS: tuple[str, ...] = ROLES
ADMINS: tuple[str, ...] = (ADMIN,)  # the administration pages: overview, units mapping
ACCOUNT_ADMINS: tuple[str, ...] = (ADMIN,)
AUDIT_READERS: tuple[str, ...] = (AUDITOR, ADMIN)
INGESTERS: tuple[str, ...] = (ARCHIVIST,)
PACKAGE_READERS: tuple[str, ...] = (ARCHIVIST, ADMIN)  # packages, ingest reports, handover records
TOKEN_HOLDERS: tuple[str, ...] = (LOOKUP, ARCHIVIST)  # may hold API tokens
# Roles that receive the stored bytes unchanged; every other account gets a stamped copy.
ORIGINAL_RECEIVERS: frozenset[str] = frozenset({ADMIN, ARCHIVIST})
# Roles whose scope is every unit (no new unit of their own).
SEE_EVERY_UNIT: frozenset[str] = frozenset({ADMIN, ARCHIVIST, AUDITOR})

# Roles whose requests may change nothing but the audit trail and their own password.
READ_ONLY_ROLES: frozenset[str] = frozenset({LOOKUP})
