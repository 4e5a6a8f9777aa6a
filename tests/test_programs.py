"""The runner of external programs, with the real programs: a missing one is named with its Debian package,
a slow one is killed with its children, a failing one's error output is kept; `archive verify` names what is missing."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image, ImageDraw

from archive_core import programs
from archive_core.context import Archive
from archive_core.settings import Settings
from archive_ops.verify import verify
from archive_portal.cli import main
from ingest.extract import ExtractionRefused, extract
from ingest.ocr import OcrUnavailable, _installed_languages, ocr_image

from .ingest.office_files import soffice_convert, write_docx


def _path_without(tmp_path: Path, *dropped: str) -> str:
    """A PATH holding the programs the archive uses (and a shell) except ``dropped``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for program in ("sh", "sleep", *programs.DEBIAN_PACKAGES):
        found = programs.find(program)
        if found and program not in dropped:
            (bin_dir / program).symlink_to(found)
    return str(bin_dir)


def _dead(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return True
    return state == "Z"  # killed, waiting to be reaped


def _wait_until(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_a_missing_program_is_named_with_the_package_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", _path_without(tmp_path, "antiword", "tesseract"))
    with pytest.raises(programs.ProgramMissing) as missing:
        programs.run("antiword", ["-h"], timeout=10)
    assert missing.value.program == "antiword" and "apt-get install antiword" in str(missing.value)
    _installed_languages.cache_clear()
    try:
        with pytest.raises(OcrUnavailable, match="apt-get install tesseract-ocr"):
            ocr_image(Image.new("L", (200, 100), 255), "vie")
    finally:
        _installed_languages.cache_clear()


def test_a_program_past_its_time_limit_is_killed_with_its_children(tmp_path):
    pid_file = tmp_path / "child.pid"
    started = time.monotonic()
    with pytest.raises(programs.ProgramTimedOut, match="timed out after 0.5 s"):
        programs.run("sh", ["-c", f"sleep 120 & echo $! > {pid_file}; wait"], timeout=0.5)
    assert time.monotonic() - started < 60, "the runner did not wait for the program to finish on its own"
    assert _wait_until(lambda: pid_file.exists() and _dead(int(pid_file.read_text()))), "the child is gone too"


def test_tesseract_past_its_time_limit_is_stopped(tmp_path):
    page = Image.new("L", (2400, 3400), 255)
    draw = ImageDraw.Draw(page)
    for line in range(60):
        draw.text((100, 50 + line * 55), "Ủy ban nhân dân xã Phố Hiến " * 6, fill=0)
    page.save(tmp_path / "page.png")
    with pytest.raises(programs.ProgramTimedOut) as slow:
        programs.run("tesseract", [str(tmp_path / "page.png"), "stdout", "-l", "vie"], timeout=0.2,
                     env={"OMP_THREAD_LIMIT": "1"})
    assert slow.value.program == "tesseract"


def test_a_failing_program_reports_what_it_said(tmp_path):
    with pytest.raises(programs.ProgramFailed) as failed:
        programs.run("tesseract", [str(tmp_path / "no-such-image.png"), "stdout"], timeout=30)
    assert failed.value.returncode != 0 and "no-such-image.png" in failed.value.stderr
    assert "no-such-image.png" in str(failed.value)


def test_check_lists_what_the_configuration_needs(tmp_path, monkeypatch):
    sqlite = Settings.load(home=tmp_path / "a", secret_key="k")
    assert [s.program for s in programs.check(sqlite)] == ["tesseract", "antiword", "catdoc"]
    assert all(s.ok for s in programs.check(sqlite))
    postgresql = Settings.load(home=tmp_path / "b", secret_key="k", database_url="postgresql+psycopg://u@h/db")
    assert [s.program for s in programs.check(postgresql)][-2:] == ["pg_dump", "pg_restore"]
    no_language = Settings.load(home=tmp_path / "c", secret_key="k", ocr_languages="vie+xyz")
    tesseract = programs.check(no_language)[0]
    assert not tesseract.ok and "tesseract-ocr-xyz" in tesseract.message
    monkeypatch.setenv("PATH", _path_without(tmp_path, "catdoc", "pg_restore"))
    missing = [s for s in programs.check(postgresql) if not s.ok]
    assert [s.program for s in missing] == ["catdoc", "pg_restore"]
    assert "apt-get install postgresql-client" in missing[1].message


def test_verify_names_the_missing_program(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("ARCHIVE_HOME", str(home))
    archive = Archive.open(Settings.load(home=home, secret_key="k"))
    assert verify(archive, record=False).ok
    monkeypatch.setenv("PATH", _path_without(tmp_path, "antiword"))
    report = verify(archive, record=False)
    archive.close()
    assert [(p.kind, p.target) for p in report.problems] == [("program_missing", "antiword")]
    result = CliRunner().invoke(main, ["verify", "--json"], catch_exceptions=False)
    assert result.exit_code == 1
    problems = json.loads(result.output)["problems"]
    assert problems[0]["target"] == "antiword" and "apt-get install antiword" in problems[0]["message"]
    printed = CliRunner().invoke(main, ["verify", "--quiet"], catch_exceptions=False)
    assert "Thiếu chương trình / program missing: antiword" in printed.output


def test_a_doc_without_antiword_or_catdoc_is_refused_with_the_reason(tmp_path, monkeypatch):
    docx = write_docx(tmp_path / "cu.docx", ["Ủy ban nhân dân xã Phố Hiến báo cáo tình hình đê điều năm 2003. " * 20])
    (doc,) = soffice_convert([docx], "doc", tmp_path / "doc")
    assert "Phố Hiến" in extract(doc).text, "read with the programs installed"
    monkeypatch.setenv("PATH", _path_without(tmp_path, "antiword", "catdoc"))
    with pytest.raises(ExtractionRefused, match="apt-get install antiword catdoc"):
        extract(doc)
