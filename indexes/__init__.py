"""The search layer: one interface (``base``), one query builder (``query``), engines.

The ground floor: it imports nothing of the archive above it.  Which engine a data home
uses is decided by ``archive_core.engines.open_engine``.
"""
