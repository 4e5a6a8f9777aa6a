"""Units mapping: the real Hưng Yên file loads, scopes follow it, versions are kept."""
from pathlib import Path

import pytest

from archive_core.context import Archive
from archive_core.db.models import Succession, UnitMappingVersion
from archive_portal.services.scope import predecessors, scope_for
from archive_portal.services.units import UnitsFileError, import_mapping
from archive_core.settings import Settings

UNITS_CSV = Path(__file__).resolve().parent.parent / "archive_core" / "data" / "units-hung-yen-2025.csv"


@pytest.fixture()
def archive(tmp_path):
    archive = Archive.open(Settings.load(home=tmp_path / "home"))
    yield archive
    archive.close()


def test_real_mapping_loads_381_old_units_into_104_new(archive):
    with archive.db.transaction() as session:
        result = import_mapping(session, UNITS_CSV, loaded_by="test")
    assert result.old_units == 381
    assert result.new_units == 104
    assert result.districts == 18


def test_loading_the_same_file_twice_adds_no_version(archive):
    with archive.db.transaction() as session:
        first = import_mapping(session, UNITS_CSV)
    with archive.db.transaction() as session:
        second = import_mapping(session, UNITS_CSV)
        versions = session.query(UnitMappingVersion).count()
    assert second.unchanged and second.version_id == first.version_id
    assert versions == 1


def test_scope_of_a_new_unit_holds_its_communes_and_their_old_district(archive):
    with archive.db.transaction() as session:
        import_mapping(session, UNITS_CSV)
    with archive.db.session() as session:
        pho_hien = predecessors(session, "11953")  # Phường Phố Hiến
        son_nam = predecessors(session, "11983")  # Phường Sơn Nam
        lac_dao, dai_dong = predecessors(session, "11992"), predecessors(session, "11995")
    assert {"11953", "11956", "11959", "11962", "11971", "11974"} <= pho_hien
    assert "323" in pho_hien and "323" in son_nam  # the old city's documents go to both
    assert "11950" in son_nam and "11950" not in pho_hien
    assert "11956" not in son_nam
    # Xã Lạc Đạo (11989) was split between two new communes: both see it
    assert "11989" in lac_dao and "11989" in dai_dong


def test_roles_that_see_all_get_no_scope_and_lookup_without_unit_sees_nothing(archive):
    with archive.db.session() as session:
        assert scope_for(session, "admin", None) is None
        assert scope_for(session, "archivist", None) is None
        assert scope_for(session, "lookup", None) == frozenset()
        assert scope_for(session, "lookup", "99999") == frozenset()


def test_a_corrected_mapping_is_a_new_version_and_scopes_follow_it(archive, tmp_path):
    with archive.db.transaction() as session:
        import_mapping(session, UNITS_CSV)
    corrected = tmp_path / "corrected.csv"
    lines = UNITS_CSV.read_text(encoding="utf-8").splitlines()
    # move Phường Lam Sơn (11950) from Sơn Nam (11983) to Phố Hiến (11953)
    fixed = [l.replace("11950,Phường Lam Sơn,xa,323,Thành phố Hưng Yên,Tỉnh Hưng Yên,11983,Phường Sơn Nam",
                       "11950,Phường Lam Sơn,xa,323,Thành phố Hưng Yên,Tỉnh Hưng Yên,11953,Phường Phố Hiến") for l in lines]
    assert fixed != lines
    corrected.write_text("\n".join(fixed) + "\n", encoding="utf-8")
    with archive.db.transaction() as session:
        second = import_mapping(session, corrected, loaded_by="admin")
    with archive.db.session() as session:
        assert session.query(UnitMappingVersion).count() == 2
        assert session.query(Succession).filter_by(version_id=1, old_code="11950", new_code="11983").count() == 1
        assert "11950" in predecessors(session, "11953")
        assert "11950" not in predecessors(session, "11983")
    assert second.version_id == 2


def test_a_malformed_mapping_is_refused_with_the_line(archive, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("old_code,old_name,old_level,new_code,new_name\n1,X,thon,2,Y\n", encoding="utf-8")
    with archive.db.transaction() as session, pytest.raises(UnitsFileError, match="dòng 2"):
        import_mapping(session, bad)
