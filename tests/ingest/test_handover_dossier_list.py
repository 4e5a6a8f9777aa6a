"""The biên bản of a bag that carries a dossier list (ho_so.csv) reconciles: the list is a declared file too."""
from __future__ import annotations

from ingest.handover import package_handover, to_csv

from .test_dossiers import archive  # noqa: F401  (the fixture: a bag with ho_so.csv, ingested)


def test_the_handover_record_of_a_bag_with_a_dossier_list_reconciles(archive):  # noqa: F811
    record = package_handover(archive, 1)
    assert record.reconciled, [(c.label, c.expected, c.actual) for c in record.checks]
    [listed] = [f for f in record.files if f["kind"] == "dossier_list"]
    assert listed["path"] == "ho_so.csv" and len(listed["sha256"]) == 64
    assert "Danh mục hồ sơ,ho_so.csv" in to_csv(record)  # Vietnamese values in the CSV too
