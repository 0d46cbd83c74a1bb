"""Run the real buuta HTTP service (uvicorn, in a subprocess) for tests and benchmarks.

The server is started exactly as an operator starts it, ``buuta serve`` (``python -m api``),
on a free loopback port, with ``BUUTA_DATABASE_URL`` naming the test's database. It upgrades an
empty database itself. Use :func:`serve` as a context manager::

    with serve(sqlite_url(tmp_path)) as server:
        token = add_user(server.database_url, "d1", "dispatcher")
        httpx.get(f"{server.base_url}/healthz")
        server.kill()      # SIGKILL, as in a power cut
        server.restart()   # same port and database

:func:`add_user` creates a user in the same database and returns its API token.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def sqlite_url(directory: Path, name: str = "buuta.sqlite") -> str:
    """Return the SQLAlchemy URL of a SQLite file ``name`` in ``directory``."""
    return f"sqlite:///{Path(directory) / name}"


class ServerError(RuntimeError):
    """The server did not start; the message holds the end of its log."""


class _PortTakenError(ServerError):
    """Another process bound the port first."""


PORT_ATTEMPTS = 5
"""Ports a first start tries before it gives up (each picked free a moment before)."""
_ADDRESS_IN_USE = "address already in use"


class RunningServer:
    """A buuta server process started by :func:`serve`.

    Attributes
    ----------
    base_url
        ``http://127.0.0.1:<port>`` without a trailing slash.
    database_url
        The database it serves.
    log_path
        File receiving the server's stdout and stderr.
    """

    def __init__(
        self,
        database_url: str,
        *,
        port: int | None = None,
        env: Mapping[str, str] | None = None,
        log_path: Path | None = None,
        startup_s: float = 60.0,
    ) -> None:
        self.database_url = database_url
        # A port picked here was free a moment ago; another process may take it before the
        # server binds it (other test runs, outgoing connections): the first start then moves
        # to a new one. A port the caller gave, or a restart, keeps its port.
        self._may_move = port is None
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.extra_env = dict(env or {})
        self.startup_s = startup_s
        if log_path is None:
            fd, name = tempfile.mkstemp(prefix="buuta-server-", suffix=".log")
            os.close(fd)
            log_path = Path(name)
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the process and wait until ``/healthz`` answers 200.

        Raises
        ------
        ServerError
            If the process exits or does not answer in ``startup_s`` seconds.
        """
        for _ in range(PORT_ATTEMPTS - 1):
            try:
                self._start_once()
            except _PortTakenError:
                if not self._may_move:
                    raise
                self.port = free_port()
                self.base_url = f"http://127.0.0.1:{self.port}"
            else:
                self._may_move = False
                return
        self._start_once()
        self._may_move = False

    def _start_once(self) -> None:
        log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
        env = {
            **os.environ,
            "BUUTA_DATABASE_URL": self.database_url,
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }
        argv = [sys.executable, "-m", "api", "serve", "--host", "127.0.0.1", "--port"]
        argv.append(str(self.port))
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + self.startup_s
        while True:
            if self.process.poll() is not None:
                msg = f"buuta serve exited with {self.process.returncode}:\n{self.log_tail()}"
                if _ADDRESS_IN_USE in self._log_since(log_start):
                    raise _PortTakenError(msg)
                raise ServerError(msg)
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                msg = f"buuta serve did not answer /healthz in {self.startup_s:g} s:\n"
                raise ServerError(msg + self.log_tail())
            time.sleep(0.1)

    def _log_since(self, offset: int) -> str:
        try:
            with self.log_path.open("rb") as log:
                log.seek(offset)
                return log.read().decode(errors="replace").lower()
        except OSError:
            return ""

    def log_tail(self, chars: int = 4000) -> str:
        """Return the end of the server's log."""
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def kill(self) -> None:
        """SIGKILL the server process, as in a power cut (its solver processes exit on their own
        once their pipe to the server closes)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        """Ask the server to shut down (SIGTERM), then SIGKILL it after 20 s."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()

    def restart(self) -> None:
        """Start the server again on the same port and database after :meth:`kill`/:meth:`stop`."""
        self.stop()
        self.start()


@contextlib.contextmanager
def serve(
    database_url: str,
    *,
    env: Mapping[str, str] | None = None,
    log_path: Path | None = None,
) -> Iterator[RunningServer]:
    """Run buuta's HTTP service on ``database_url`` for the duration of the ``with`` block.

    Parameters
    ----------
    database_url
        SQLAlchemy URL (a SQLite file, or a database from :mod:`harness.postgres`).
    env
        Extra ``BUUTA_*`` settings for the server process.
    log_path
        Where to write the server's output (a temporary file by default).
    """
    server = RunningServer(database_url, env=env, log_path=log_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def add_user(database_url: str, name: str, role: str) -> str:
    """Create a user in ``database_url`` with ``buuta user add`` and return its API token.

    Runs the real command (a subprocess), whose last printed word is the token.
    """
    done = subprocess.run(
        [sys.executable, "-m", "api", "user", "add", name, "--role", role],
        cwd=ROOT,
        env={**os.environ, "BUUTA_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        msg = f"buuta user add {name} failed ({done.returncode}): {done.stderr or done.stdout}"
        raise RuntimeError(msg)
    return done.stdout.split()[-1]


def create_tokens(database_url: str, users: Mapping[str, str]) -> dict[str, str]:
    """Create users in-process (faster than :func:`add_user`) and return ``{name: token}``.

    Parameters
    ----------
    database_url
        The database (upgraded to the current schema first, as ``buuta serve`` does).
    users
        ``{name: role}``; a courier's name is its courier id.
    """
    from sqlmodel import Session

    from tracking.db import make_engine, upgrade, write_lock
    from tracking.users import create_user

    engine = make_engine(database_url)
    try:
        upgrade(engine)
        tokens: dict[str, str] = {}
        with write_lock(engine), Session(engine) as session:
            for name, role in users.items():
                _user, tokens[name] = create_user(session=session, name=name, role=role)
            session.commit()
        return tokens
    finally:
        engine.dispose()
