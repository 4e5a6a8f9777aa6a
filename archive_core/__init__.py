"""The core of the archive: what every floor above the search layer needs.

Settings, the archive context (database + engine of one data home), the schema and its
Alembic migrations, the store of originals, errors, time helpers, the engine factory and
the runner of external programs.  It imports ``indexes`` and nothing above it.
"""

from pathlib import Path

#: The real old-to-new units mapping of Hưng Yên (1 July 2025), the product's own copy.
UNITS_MAPPING_CSV = Path(__file__).resolve().parent / "data" / "units-hung-yen-2025.csv"
