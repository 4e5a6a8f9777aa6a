"""The one runner of external programs: a time limit, a clear message when one is missing, its error output kept.

Every external program the archive uses (Tesseract, antiword, catdoc,
pg_dump, pg_restore) is started through ``run``, or, for Tesseract through
pytesseract, with the path ``find`` gives and the same time limit.  ``check``
lists what the configuration needs and what is missing, for ``archive
verify`` and ``/healthz``.

A program that runs past its time limit is killed with its whole process
group (a program that starts helpers leaves none behind).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .errors import Fault
from .settings import Settings

#: The Debian package that installs each program (what the operator types after ``apt-get install``).
DEBIAN_PACKAGES = {
    "tesseract": "tesseract-ocr",
    "antiword": "antiword",
    "catdoc": "catdoc",
    "pg_dump": "postgresql-client",
    "pg_restore": "postgresql-client",
}
STDERR_KEPT = 2000  # characters of a failed program's error output carried in the exception
LIST_LANGS_TIMEOUT = 30


class ProgramError(Fault):
    """An external program could not do its job; ``program`` names it."""

    def __init__(self, program: str, message: str):
        super().__init__(message)
        self.program = program
        self._made_with: tuple = (program, message)

    def __reduce__(self):  # survive the trip back from a worker process
        return (type(self), self._made_with)


class ProgramMissing(ProgramError):
    """The program is not installed (not on PATH)."""

    def __init__(self, program: str):
        package = DEBIAN_PACKAGES.get(program, program)
        super().__init__(
            program,
            f"Không tìm thấy chương trình {program} trên máy chủ "
            f"({program} is not installed: apt-get install {package})",
        )
        self.package = package
        self._made_with = (program,)


class ProgramTimedOut(ProgramError):
    """The program ran longer than its time limit and was killed."""

    def __init__(self, program: str, timeout: float):
        super().__init__(
            program, f"{program} chạy quá thời gian cho phép và đã bị dừng (timed out after {timeout:g} s, killed)"
        )
        self.timeout = timeout
        self._made_with = (program, timeout)


class ProgramFailed(ProgramError):
    """The program ended with a non-zero exit status; ``stderr`` is what it said."""

    def __init__(self, program: str, returncode: int, stderr: str):
        said = stderr.strip()[-STDERR_KEPT:]
        super().__init__(program, f"{program} thất bại (exit {returncode})" + (f": {said}" if said else ""))
        self.returncode = returncode
        self.stderr = said
        self._made_with = (program, returncode, stderr)


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: bytes
    stderr: bytes


def find(program: str, env: Mapping[str, str] | None = None) -> str | None:
    """The full path of ``program`` on the PATH (of ``env`` if given), or None."""
    path = (env or os.environ).get("PATH", os.defpath)
    return shutil.which(program, path=path)


def require(program: str, env: Mapping[str, str] | None = None) -> str:
    """The full path of ``program``; ProgramMissing if it is not installed."""
    found = find(program, env)
    if found is None:
        raise ProgramMissing(program)
    return found


def run(
    program: str,
    args: Sequence[str],
    *,
    timeout: float,
    input: bytes | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> Completed:
    """Run ``program args…`` and wait at most ``timeout`` seconds; stdout and stderr are captured.

    ``env`` adds to (or overrides) this process's environment.  Raises
    ProgramMissing, ProgramTimedOut, and (with ``check``) ProgramFailed."""
    environment = {**os.environ, **(env or {})}
    executable = require(program, environment)
    process = subprocess.Popen(
        [executable, *args],
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise ProgramTimedOut(program, timeout) from None
    except BaseException:
        _kill_group(process)
        raise
    if check and process.returncode != 0:
        raise ProgramFailed(program, process.returncode, stderr.decode("utf-8", errors="replace"))
    return Completed(process.returncode, stdout, stderr)


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.communicate()


# -- what the configuration needs ----------------------------------------------------------------
@dataclass(frozen=True)
class ProgramStatus:
    program: str
    ok: bool
    message: str  # what is missing and how to install it; "" when ok


def tesseract_languages() -> frozenset[str]:
    """The OCR languages installed for Tesseract (``tesseract --list-langs``)."""
    listing = run("tesseract", ["--list-langs"], timeout=LIST_LANGS_TIMEOUT).stdout.decode("utf-8", "replace")
    return frozenset(line.strip() for line in listing.splitlines()[1:] if line.strip())


def needed_programs(settings: Settings) -> list[str]:
    """The programs this configuration uses: OCR and old Word files always, pg_dump/pg_restore on PostgreSQL."""
    needed = ["tesseract", "antiword", "catdoc"]
    if settings.database_url.startswith("postgresql"):
        needed += ["pg_dump", "pg_restore"]
    return needed


def check(settings: Settings) -> list[ProgramStatus]:
    """Each program the configuration needs, and whether it (and, for Tesseract, each OCR language) is installed."""
    statuses = []
    for program in needed_programs(settings):
        if find(program) is None:
            statuses.append(ProgramStatus(program, False, str(ProgramMissing(program))))
            continue
        message = ""
        if program == "tesseract":
            message = _missing_languages(settings.ocr_languages)
        statuses.append(ProgramStatus(program, not message, message))
    return statuses


def _missing_languages(languages: str) -> str:
    try:
        installed = tesseract_languages()
    except ProgramError as error:
        return str(error)
    missing = [lang for lang in languages.split("+") if lang and lang not in installed]
    if not missing:
        return ""
    return (
        f"Thiếu dữ liệu ngôn ngữ Tesseract: {', '.join(missing)} "
        f"(apt-get install {' '.join(f'tesseract-ocr-{lang}' for lang in missing)})"
    )
