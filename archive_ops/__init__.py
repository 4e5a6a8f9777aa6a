"""Operations on a whole archive: backup and restore, fixity verification, reindexing.

Run by the CLI (and systemd timers), never inside a web request.  A floor above
``ingest`` (reindex and restore rebuild the index with ``ingest.indexing``) and below
``archive_portal``.
"""
