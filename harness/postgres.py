"""A real, throw-away PostgreSQL server for tests and benchmarks.

:func:`run_postgres_server` runs ``initdb`` into a temporary directory and starts the server
with ``pg_ctl`` on a free 127.0.0.1 port, its Unix socket kept inside the same directory, so the
tests never touch a system cluster. As root, the server binaries run as the ``postgres`` user
(PostgreSQL refuses to run as root). The binaries are looked up in ``/usr/lib/postgresql/*/bin``
(Debian's ``postgresql`` package; CI installs it) or on ``PATH``.

Use :func:`fresh_database` to get the URL of a new, empty database::

    with run_postgres_server() as server:
        url = fresh_database(server, "scans")
        engine = make_engine(url)

The tests get one server for the session from the ``postgres_server`` fixture of
``tests/support/postgres.py``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from harness.server import free_port

SUPERUSER = "postgres"


@dataclass(frozen=True)
class PostgresServer:
    """A running PostgreSQL server started by :func:`run_postgres_server`.

    Attributes
    ----------
    host, port
        Where it listens (TCP, loopback only).
    user
        The superuser name; authentication is ``trust`` on loopback.
    root
        The temporary directory holding the data directory, the socket and the log.
    """

    host: str
    port: int
    user: str
    root: Path

    def url(self, database: str) -> str:
        """Return the SQLAlchemy URL (psycopg 3 driver) of ``database`` on this server."""
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"

    def conninfo(self, database: str = "postgres") -> str:
        """Return a libpq connection string for plain psycopg."""
        return f"host={self.host} port={self.port} user={self.user} dbname={database}"


def _bin_dir() -> Path:
    """Find the directory holding initdb and pg_ctl, or fail with a clear message."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if candidates:
        return Path(candidates[0]).parent
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    msg = (
        "PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/*/bin "
        "or on PATH: install Debian's 'postgresql' package (.ci/run does so) to run the "
        "PostgreSQL tests."
    )
    raise RuntimeError(msg)


PORT_ATTEMPTS = 5
"""Ports a start tries: each was free a moment before, but another process may bind it first."""


def _start(bin_dir: Path, data: Path, log: Path, root: Path) -> int:
    """Start the server on a free port (another one if that is taken); return the port."""
    for attempt in range(PORT_ATTEMPTS):
        port = free_port()
        options = (
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=200 "
            "-c fsync=off -c full_page_writes=off -c shared_buffers=32MB"
        )
        argv = [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options]
        try:
            _run([*argv, "-w", "-t", "60", "start"], what="pg_ctl start")
        except RuntimeError as exc:
            text = log.read_text(errors="replace") if log.exists() else "(no log)"
            if "already in use" in text and attempt < PORT_ATTEMPTS - 1:
                log.unlink(missing_ok=True)
                continue
            msg = f"{exc}\nserver log:\n{text[-4000:]}"
            raise RuntimeError(msg) from None
        return port
    msg = "unreachable: the last attempt returns or raises"
    raise AssertionError(msg)


def _as_server_user(argv: list[str]) -> list[str]:
    """Prefix ``argv`` so that it runs as the postgres user when we are root."""
    if os.geteuid() == 0:
        return ["runuser", "-u", SUPERUSER, "--", *argv]
    return argv


def _run(argv: list[str], *, what: str, timeout_s: float = 120) -> None:
    done = subprocess.run(
        _as_server_user(argv), capture_output=True, text=True, timeout=timeout_s, check=False
    )
    if done.returncode != 0:
        msg = f"{what} failed (exit {done.returncode}): {done.stderr.strip() or done.stdout}"
        raise RuntimeError(msg)


@contextlib.contextmanager
def run_postgres_server() -> Iterator[PostgresServer]:
    """Start a throw-away PostgreSQL server, yield it, then stop it and delete its files.

    Raises
    ------
    RuntimeError
        If the binaries are missing or the server does not start; the message includes the log.
    """
    bin_dir = _bin_dir()
    root = Path(tempfile.mkdtemp(prefix="buuta-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, user=SUPERUSER, group=None)
    os.chmod(root, 0o700)
    data = root / "data"
    log = root / "server.log"
    started = False
    try:
        _run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            what="initdb",
        )
        port = _start(bin_dir, data, log, root)
        started = True
        server = PostgresServer(host="127.0.0.1", port=port, user=SUPERUSER, root=root)
        _wait_ready(server)
        yield server
    finally:
        if started:
            with contextlib.suppress(Exception):
                _run(
                    [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                    what="pg_ctl stop",
                )
        shutil.rmtree(root, ignore_errors=True)


def _wait_ready(server: PostgresServer, timeout_s: float = 30) -> None:
    import psycopg

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with psycopg.connect(server.conninfo(), connect_timeout=2):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


_NAME = re.compile(r"[^a-z0-9_]+")


def fresh_database(server: PostgresServer, name: str) -> str:
    """Create a new, empty database on ``server`` and return its ``postgresql+psycopg://`` URL.

    Parameters
    ----------
    server
        The server of the ``postgres_server`` fixture.
    name
        A readable name; it is lower-cased and reduced to ``[a-z0-9_]``. A database of the same
        name left over from an earlier test is dropped first, so the result is always empty.
    """
    import psycopg

    db = _NAME.sub("_", name.lower()).strip("_")[:60] or "buuta"
    if db[0].isdigit():
        db = f"db_{db}"
    with psycopg.connect(server.conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db}"')
    return server.url(db)
