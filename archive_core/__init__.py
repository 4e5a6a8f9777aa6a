"""The core of the archive: what every floor above the search layer needs.

Settings, the archive context (database + engine of one data home), the schema and its
Alembic migrations, the store of originals, errors, time helpers, the engine factory and
the runner of external programs.  It imports ``indexes`` and nothing above it.
"""
