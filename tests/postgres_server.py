"""A throwaway PostgreSQL cluster for a test run: Debian's server binaries, loopback only, a temp dir.

``initdb`` refuses to run as root, so as root the cluster belongs to the
``postgres`` user (``runuser``).  The cluster MUST start unless
``ARCHIVE_TEST_POSTGRES=0`` (then the PostgreSQL tests are skipped): a machine
without it fails the run instead of passing quietly.
``ARCHIVE_TEST_POSTGRES_URL`` (``postgresql+psycopg://user@host:port``) reuses a
server that is already running.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg


def postgres_wanted() -> bool:
    return os.environ.get("ARCHIVE_TEST_POSTGRES", "1").strip().lower() not in {"0", "false", "no", "off"}


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if not found:
        raise RuntimeError("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin "
                           "(Debian package 'postgresql', installed by `make test`)")
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """Started on creation; ``database()`` makes a fresh database; ``stop()`` ends the cluster and its files."""

    def __init__(self) -> None:
        self.base = os.environ.get("ARCHIVE_TEST_POSTGRES_URL", "").rstrip("/")
        self.root: Path | None = None
        if self.base:
            return
        bin_dir = _bin_dir()
        self.root = Path(tempfile.mkdtemp(prefix="archive-pg-"))
        self.root.chmod(0o755)
        data = self.root / "data"
        log = self.root / "server.log"
        as_user: list[str] = []
        if os.geteuid() == 0:
            as_user = ["runuser", "-u", "postgres", "--"]
            postgres = pwd.getpwnam("postgres")
            os.chown(self.root, postgres.pw_uid, postgres.pw_gid)
        port = _free_port()
        self._pg_ctl = [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data)]
        try:
            self._run([*as_user, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                       "--encoding", "UTF8", "--locale", "C.UTF-8", "--no-sync"])
            options = (f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' "
                       "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
            self._run([*self._pg_ctl, "-o", options, "-l", str(log), "-w", "-t", "60", "start"])
        except Exception:
            detail = log.read_text(errors="replace") if log.exists() else ""
            self.stop()
            raise RuntimeError(f"the PostgreSQL test cluster did not start\n{detail}") from None
        self.base = f"postgresql+psycopg://postgres@127.0.0.1:{port}"

    @staticmethod
    def _run(command: list[str]) -> None:
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)}: {done.stdout}\n{done.stderr}")

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(self.base.replace("postgresql+psycopg://", "postgresql://") + "/postgres",
                               autocommit=True)

    def database(self) -> str:
        """A new empty database; its SQLAlchemy URL."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        with self._admin() as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return f"{self.base}/{name}"

    def stop(self) -> None:
        if self.root is None:
            return
        if (self.root / "data" / "postmaster.pid").exists():
            subprocess.run([*self._pg_ctl, "-m", "immediate", "-w", "stop"], capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None
