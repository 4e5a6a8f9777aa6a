"""One error hierarchy for every floor above ``indexes``: the user's mistake, or a part that failed.

* ``UserError``: the input cannot be used (a bad date, a query that cannot be
  searched, a file that is not a units list).  Its message is Vietnamese and is
  shown to the user as is; the page answers 400, or shows the message in place.
  It is also a ``ValueError``, so code that validated with ``ValueError`` keeps working.
* ``Fault``: a part of the system failed (the search cluster, the database, an
  external program).  The user sees a generic message; the log has the details.

Catch the kind you mean, never a bare ``ValueError`` or ``Exception``: a programming
error must not be turned into a message to the user.  The query parser's
``indexes.query.QueryError`` lives on the floor below and is a user error too
(``USER_ERRORS`` names both).
"""

from __future__ import annotations

from indexes.query import QueryError


class ArchiveError(Exception):
    """Every error this archive raises on purpose."""


class UserError(ArchiveError, ValueError):
    """Bad input; the message (Vietnamese) is for the user."""


class Fault(ArchiveError):
    """A part of the system failed; the message is for the log, not for the user."""


#: Every error whose message is meant for the user, including the query parser's.
USER_ERRORS: tuple[type[Exception], ...] = (UserError, QueryError)
