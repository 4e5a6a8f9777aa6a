"""Step: the package's dossiers (contract 3a), after its rows are registered and before indexing."""

from __future__ import annotations

from archive_core.db.models import Package

from ..dossiers import DossierOutcome, register_dossiers
from .run import IngestRun
from .store_originals import store_path


def register_package_dossiers(run: IngestRun) -> DossierOutcome:
    """The ingest step: keep the ``ho_so.*`` original, record the dossiers, note problems on the package."""
    contents = run.contents
    listed = contents.dossier_list
    sha = store_path(run, listed).sha256 if listed is not None else ""
    outcome = register_dossiers(
        run.archive,
        package_id=run.package_id,
        unit_code=contents.unit_code,
        dossier_list=listed,
        list_sha256=sha,
        rows=contents.manifest.rows if contents.manifest else [],
    )
    notes = [*outcome.warnings, *(f"Danh mục hồ sơ, dòng {line}: {reason}" for line, reason in outcome.refused)]
    if notes:
        with run.archive.db.write_transaction() as session:
            package = session.get_one(Package, run.package_id)
            package.warnings = [*(package.warnings or []), *[n for n in notes if n not in (package.warnings or [])]]
    return outcome
