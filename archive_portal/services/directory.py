"""Login against the provincial directory (python-ldap).

The classic two steps: a service bind searches the user's entry (its DN), then
a second connection binds as that DN with the password typed.  Every value
placed in a filter goes through ``escape_filter_chars``; DNs are parsed and
compared with ``ldap.dn``.  The user's groups (``memberOf`` on the entry and/or
a group search) are mapped by configuration (``LdapSettings.group_map``) to a
role and, for lookup accounts, to one new unit; no mapped group, no login.

Any failure (wrong password, unknown user, ambiguous entry, directory down)
is one answer, ``None``; the reason is only logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import ldap
import ldap.dn
import ldap.filter

from archive_core.settings import LdapSettings

from .roles import LOOKUP, ROLE_PRECEDENCE, ROLES

log = logging.getLogger(__name__)

MEMBER_OF = "memberOf"


@dataclass(frozen=True)
class DirectoryUser:
    """Who the directory says the user is, and what the group map makes of it."""

    dn: str
    display_name: str
    email: str
    groups: tuple[str, ...]
    role: str
    new_unit_code: str | None = None


@dataclass(frozen=True)
class GroupGrant:
    role: str | None = None
    unit: str | None = None


@dataclass
class GroupMap:
    """``group_map`` of the settings, keyed by normalised DN or by bare group name."""

    by_dn: dict[str, GroupGrant] = field(default_factory=dict)
    by_name: dict[str, GroupGrant] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: dict) -> GroupMap:
        mapping = cls()
        for key, value in (raw or {}).items():
            if isinstance(value, str):  # "group": "role"
                value = {"role": value}
            role = (value.get("role") or "").strip() or None
            unit = str(value.get("unit") or value.get("new_unit") or "").strip() or None
            if role is not None and role not in ROLES:
                raise ValueError(f"ARCHIVE_LDAP_GROUP_MAP: vai trò “{role}” không hợp lệ cho nhóm {key}")
            grant = GroupGrant(role=role, unit=unit)
            if "=" in key:
                mapping.by_dn[normalize_dn(key)] = grant
            else:
                mapping.by_name[key.strip().lower()] = grant
        return mapping

    def grants(self, group_dns: list[str]) -> list[GroupGrant]:
        found = []
        for dn in group_dns:
            grant = self.by_dn.get(normalize_dn(dn))
            if grant is None:
                grant = self.by_name.get(first_rdn_value(dn).lower())
            if grant is not None:
                found.append(grant)
        return found


def normalize_dn(dn: str) -> str:
    """A DN in one canonical spelling (attribute types and values lower-cased, spaces dropped)."""
    try:
        parts = ldap.dn.str2dn(dn.strip())
    except ldap.DECODING_ERROR:
        return dn.strip().lower()
    return ldap.dn.dn2str([[(t.lower(), v.lower(), f) for t, v, f in rdn] for rdn in parts])


def first_rdn_value(dn: str) -> str:
    try:
        parts = ldap.dn.str2dn(dn)
    except ldap.DECODING_ERROR:
        return ""
    return parts[0][0][1] if parts and parts[0] else ""


def resolve_grants(grants: list[GroupGrant]) -> tuple[str, str | None] | None:
    """(role, new unit) from the mapped groups; None when they give no role or no single unit.

    The highest role wins; a group that only names a unit makes a lookup account
    of that unit; a lookup account needs exactly one unit.
    """
    roles = {g.role for g in grants if g.role}
    units = {g.unit for g in grants if g.unit}
    if not roles and units:
        roles = {LOOKUP}
    role = next((r for r in ROLE_PRECEDENCE if r in roles), None)
    if role is None:
        return None
    if role != LOOKUP:
        return role, None
    if len(units) != 1:
        return None
    return role, units.pop()


def fill_filter(template: str, **values: str) -> str:
    """The filter template with each ``{name}`` replaced by the escaped value."""
    result = template
    for name, value in values.items():
        result = result.replace("{" + name + "}", ldap.filter.escape_filter_chars(value))
    return result


def _connect(config: LdapSettings):
    conn = ldap.initialize(config.url)
    conn.set_option(ldap.OPT_PROTOCOL_VERSION, 3)
    conn.set_option(ldap.OPT_REFERRALS, 0)
    conn.set_option(ldap.OPT_NETWORK_TIMEOUT, config.timeout)
    conn.set_option(ldap.OPT_TIMEOUT, config.timeout)
    ldaps = config.url.lower().startswith("ldaps://")
    if ldaps or config.starttls:
        if config.ca_file:
            conn.set_option(ldap.OPT_X_TLS_CACERTFILE, config.ca_file)
        conn.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
        conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)  # apply the TLS options to this connection
    if config.starttls and not ldaps:
        conn.start_tls_s()
    return conn


def _text(entry: dict, attr: str) -> str:
    for key, values in entry.items():
        if key.lower() == attr.lower() and values:
            return values[0].decode("utf-8", "replace")
    return ""


def _texts(entry: dict, attr: str) -> list[str]:
    for key, values in entry.items():
        if key.lower() == attr.lower():
            return [v.decode("utf-8", "replace") for v in values]
    return []


def _find_user(conn, config: LdapSettings, username: str) -> tuple[str, dict] | None:
    query = fill_filter(config.user_filter, username=username)
    results = conn.search_ext_s(
        config.user_base,
        ldap.SCOPE_SUBTREE,
        query,
        attrlist=[config.name_attr, config.email_attr, MEMBER_OF],
        timeout=config.timeout,
        sizelimit=2,
    )
    entries = [(dn, attrs) for dn, attrs in results if dn]  # drop search references
    if len(entries) != 1:
        return None
    return entries[0]


def _group_dns(conn, config: LdapSettings, user_dn: str, username: str, entry: dict) -> list[str]:
    groups = _texts(entry, MEMBER_OF)
    if config.group_base:
        query = fill_filter(config.group_filter, dn=user_dn, username=username)
        results = conn.search_ext_s(
            config.group_base, ldap.SCOPE_SUBTREE, query, attrlist=["1.1"], timeout=config.timeout
        )
        groups.extend(dn for dn, _ in results if dn)
    return groups


def directory_login(config: LdapSettings, username: str, password: str) -> DirectoryUser | None:
    """The directory user if ``password`` binds as ``username`` and a mapped group gives a role."""
    if not config.enabled or not username or not password or "\x00" in password:
        return None  # an empty password would be an anonymous bind, which always "succeeds"
    group_map = GroupMap.parse(config.group_map)
    service = None
    user_conn = None
    try:
        service = _connect(config)
        service.simple_bind_s(config.bind_dn, config.bind_password)
        found = _find_user(service, config, username)
        if found is None:
            log.info("ldap: no single entry for a login name")
            return None
        user_dn, entry = found
        user_conn = _connect(config)
        user_conn.simple_bind_s(user_dn, password)
        groups = _group_dns(service, config, user_dn, username, entry)
    except ldap.INVALID_CREDENTIALS:
        log.info("ldap: wrong password for a directory user")
        return None
    except ldap.LDAPError as error:
        log.warning("ldap: directory error during login: %s", error)
        return None
    finally:
        for conn in (user_conn, service):
            if conn is not None:
                try:
                    conn.unbind_s()
                except ldap.LDAPError:
                    pass
    resolved = resolve_grants(group_map.grants(groups))
    if resolved is None:
        log.info("ldap: directory user %s has no mapped group", user_dn)
        return None
    role, unit = resolved
    return DirectoryUser(
        dn=user_dn,
        display_name=_text(entry, config.name_attr),
        email=_text(entry, config.email_attr),
        groups=tuple(groups),
        role=role,
        new_unit_code=unit,
    )
