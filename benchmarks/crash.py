"""Pull the plug on buuta while couriers' phones sync: no acknowledged scan may be lost.

Usage::

    python benchmarks/crash.py --kills 20 [--database sqlite|postgres|both] [--seed 0]

A real server (``buuta serve``) runs on a SQLite file or a database on a throw-away PostgreSQL
server. Phones of a simulated fleet (``tests/resilience/fleet.py``) send their offline scans in
batches from several threads, keeping whatever was not acknowledged and sending it again, as
phones do. Meanwhile the server is killed with SIGKILL (no shutdown, no flush) ``--kills``
times, each time after it has acknowledged more scans since its restart, and started again on
the same database. After each restart the script checks:

- the server answered ``/healthz`` within 5 s of being started again;
- every event acknowledged so far (``stored``, ``duplicate`` or ``flagged``) has its row.

After every kill it checks the database's own consistency with the server down
(SQLite: ``PRAGMA integrity_check`` and ``foreign_key_check``; PostgreSQL: ``amcheck`` on every
index with ``heapallindexed`` and ``verify_heapam`` on every table), lets the phones finish,
and compares every dossier's status and events with the simulation. It prints, per database:
kills, acknowledged events, lost acknowledged events, slowest and median restart-to-healthz
time, the integrity verdict, and lost / duplicated / wrong statuses. Exit status 1 if any
promise fails.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import socket
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
import sqlalchemy as sa

from harness.fleet import (
    Fleet,
    Outbox,
    SendStats,
    Verdict,
    make_fleet,
    make_outboxes,
    register_fleet,
    send_all,
    verify,
    verify_api,
)
from harness.postgres import fresh_database, run_postgres_server
from harness.server import RunningServer, sqlite_url
from tracking.db import make_engine

HEALTHZ_LIMIT_S = 5.0
"""The server must answer /healthz within this many seconds of being started again."""

SERVER_ENV = {
    # A production install has its modules compiled (pip and uv do it on install); a cold
    # interpreter compiling the whole web stack at every start would measure the machine.
    "PYTHONDONTWRITEBYTECODE": "",
}


@dataclass
class CrashReport:
    """What one crash run measured.

    Attributes
    ----------
    backend
        ``sqlite`` or ``postgres``.
    kills
        SIGKILLs delivered while phones were sending.
    acked
        Distinct events acknowledged by the server over the whole run.
    lost_acked
        Acknowledged events without a row (after any restart, or at the end).
    restart_s
        Seconds from starting the process again to its first 200 on ``/healthz``, per kill.
    clean_restart_s
        The same after a clean stop (SIGTERM) before the first kill: what a start costs on
        this machine at this moment, without any crash to recover from.
    listen_s
        Seconds from starting the process again until its port accepted connections, per kill
        (the rest of ``restart_s`` is the first answers, while phones resend their backlog).
    integrity
        Problems the database's own checks reported after the last kill (empty: consistent).
    verdict
        The final comparison of every dossier with the simulation.
    """

    backend: str
    kills: int = 0
    acked: int = 0
    lost_acked: set[str] = field(default_factory=set)
    restart_s: list[float] = field(default_factory=list)
    clean_restart_s: float = 0.0
    listen_s: list[float] = field(default_factory=list)
    integrity: list[str] = field(default_factory=list)
    verdict: Verdict | None = None
    failures: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether every promise held."""
        return (
            not self.lost_acked
            and not self.integrity
            and self.verdict is not None
            and self.verdict.ok
            and all(s <= HEALTHZ_LIMIT_S for s in self.restart_s)
        )

    def lines(self) -> list[str]:
        """The figures, one per line."""
        ordered = sorted(self.restart_s) or [0.0]
        return [
            f"[{self.backend}] kills {self.kills}, acknowledged events {self.acked}, "
            f"acknowledged events lost {len(self.lost_acked)}",
            f"[{self.backend}] restart to /healthz: median {ordered[len(ordered) // 2]:.2f} s, "
            f"slowest {ordered[-1]:.2f} s (limit {HEALTHZ_LIMIT_S:g} s; after a clean stop "
            f"{self.clean_restart_s:.2f} s; port open after median "
            f"{sorted(self.listen_s or [0.0])[len(self.listen_s) // 2]:.2f} s)",
            f"[{self.backend}] integrity: {'ok' if not self.integrity else self.integrity}",
            f"[{self.backend}] final check: "
            + (self.verdict.summary() if self.verdict else "not reached"),
        ]


def stored_event_ids(database_url: str) -> set[str]:
    """Return every ``event_id`` with a row in ``database_url``."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return {str(r[0]) for r in conn.execute(sa.text("SELECT event_id FROM scan_events"))}
    finally:
        engine.dispose()


def integrity_problems(database_url: str) -> list[str]:
    """Run the database's own consistency checks; return what they report (empty: fine).

    SQLite: ``PRAGMA integrity_check`` and ``PRAGMA foreign_key_check``. PostgreSQL: the
    ``amcheck`` extension, ``bt_index_check(index, heapallindexed => true)`` on every B-tree
    index of the schema and ``verify_heapam`` on every table, plus a count of ``scan_events``
    by sequential scan against its unique ``event_id`` index.
    """
    if database_url.startswith("sqlite"):
        path = database_url.split("///", 1)[1]
        conn = sqlite3.connect(path)
        try:
            rows = [str(r[0]) for r in conn.execute("PRAGMA integrity_check")]
            problems = [r for r in rows if r != "ok"]
            problems += [f"foreign key: {r}" for r in conn.execute("PRAGMA foreign_key_check")]
            return problems
        finally:
            conn.close()
    conninfo = database_url.replace("postgresql+psycopg://", "postgresql://")
    problems: list[str] = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS amcheck")
        indexes = conn.execute(
            "SELECT c.oid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE a.amname = 'btree' AND n.nspname = 'public'"
        ).fetchall()
        for (index,) in indexes:
            try:
                conn.execute("SELECT bt_index_check(%s::regclass, true)", (index,))
            except psycopg.Error as exc:
                problems.append(f"index {index}: {exc}")
        tables = conn.execute(
            "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = 'public'"
        ).fetchall()
        for (table,) in tables:
            for row in conn.execute("SELECT * FROM verify_heapam(%s::regclass)", (table,)):
                problems.append(f"table {table}: {row}")
        conn.execute("SET enable_indexscan = off")
        conn.execute("SET enable_bitmapscan = off")
        conn.execute("SET enable_indexonlyscan = off")
        row = conn.execute("SELECT count(*) FROM scan_events").fetchone()
        seq = row[0] if row else -1
        conn.execute("SET enable_seqscan = off")
        conn.execute("SET enable_indexonlyscan = on")
        row = conn.execute("SELECT count(DISTINCT event_id) FROM scan_events").fetchone()
        by_index = row[0] if row else -2
        if seq != by_index:
            problems.append(f"scan_events: {seq} rows by sequential scan, {by_index} by index")
    return problems


def run_crash(
    database_url: str,
    *,
    kills: int,
    backend: str,
    log_path: Path,
    fleet: Fleet | None = None,
    seed: int = 0,
    clients: int = 6,
    batch: int = 10,
    progress_events: int = 30,
    jitter_s: float = 0.3,
) -> CrashReport:
    """Kill the server ``kills`` times while phones sync, then check everything (module doc).

    Parameters
    ----------
    database_url
        An empty database.
    kills
        How many SIGKILLs.
    backend
        A label for the report.
    log_path
        Where the server writes its output.
    fleet
        The simulated day (default: 20 couriers with 40 dossiers each).
    seed
        Seed of the kill timing and the phones' order.
    clients, batch
        Sending threads, and events per request.
    progress_events
        Events the server must acknowledge after a restart before it is killed again.
    jitter_s
        Up to this many seconds more (random) before each kill.
    """
    rng = random.Random(seed)
    fleet = fleet or make_fleet(couriers=20, dossiers_per_courier=40, seed=seed)
    report = CrashReport(backend)
    server = RunningServer(database_url, env=SERVER_ENV, log_path=log_path)
    server.start()
    try:
        tokens = register_fleet(database_url, fleet)
        server.stop()
        started = time.monotonic()
        server.start()
        report.clean_restart_s = time.monotonic() - started
        boxes, _sends = make_outboxes(fleet, tokens, seed=seed)
        stats = SendStats()
        stop = threading.Event()
        sender = threading.Thread(
            target=send_all,
            args=(server.base_url, boxes),
            kwargs={"batch": batch, "clients": clients, "stop": stop, "stats": stats,
                    "retry_pause_s": 0.1},
            daemon=True,
        )  # fmt: skip
        sender.start()
        for _ in range(kills):
            _wait_for_progress(stats, boxes, progress_events)
            time.sleep(rng.uniform(0.0, jitter_s))
            if not any(b.pending for b in boxes):
                break  # the phones have nothing left to send: no kill "during ingest"
            server.kill()
            report.kills += 1
            with stats.lock:
                acked = set(stats.acked)
            # The database's own checks, with the server down, after every kill.
            report.integrity += [f"after kill {report.kills}: {p}" for p in
                                 integrity_problems(database_url)]  # fmt: skip
            started = time.monotonic()
            listening = _first_listen(server.port, started)
            server.start()
            report.restart_s.append(time.monotonic() - started)
            report.listen_s.append(listening())
            report.lost_acked |= acked - stored_event_ids(database_url)
        sender.join(timeout=600)
        stop.set()
        report.failures = dict(stats.failures)
        report.acked = len(stats.acked)
        report.lost_acked |= stats.acked - stored_event_ids(database_url)
        verdict = verify(database_url, fleet)
        verify_api(server.base_url, tokens[fleet.counters[0]], fleet, verdict, sample=50)
        report.verdict = verdict
    finally:
        server.stop()
    return report


def _first_listen(port: int, started: float) -> Callable[[], float]:
    """Poll ``port`` from a thread; return a function giving when it first accepted (s)."""
    seen: list[float] = []

    def poll() -> None:
        deadline = started + 120
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                sock.settimeout(0.2)
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    seen.append(time.monotonic() - started)
                    return
            time.sleep(0.02)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()

    def result() -> float:
        thread.join(timeout=5)
        return seen[0] if seen else float("nan")

    return result


def _wait_for_progress(stats: SendStats, boxes: list[Outbox], events: int) -> None:
    with stats.lock:
        start = len(stats.acked)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(b.pending for b in boxes):
        with stats.lock:
            if len(stats.acked) - start >= events:
                return
        time.sleep(0.02)


@contextlib.contextmanager
def database(backend: str, name: str) -> Iterator[str]:
    """Yield the URL of a new empty database: a SQLite file, or one on a throw-away server."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="buuta-crash-") as tmp:
            yield sqlite_url(Path(tmp))
        return
    with run_postgres_server() as server:
        yield fresh_database(server, name)


def main(argv: list[str] | None = None) -> int:
    """Run the crash benchmark and print its figures; exit 1 if a promise failed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--couriers", type=int, default=30)
    parser.add_argument("--dossiers-per-courier", type=int, default=100)
    args = parser.parse_args(argv)
    backends = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    ok = True
    for backend in backends:
        fleet = make_fleet(
            couriers=args.couriers, dossiers_per_courier=args.dossiers_per_courier, seed=args.seed
        )
        started = time.monotonic()
        with (
            database(backend, "crash_bench") as url,
            tempfile.NamedTemporaryFile(prefix="buuta-crash-", suffix=".log") as log,
        ):
            report = run_crash(
                url, kills=args.kills, backend=backend, log_path=Path(log.name), fleet=fleet,
                seed=args.seed,
            )  # fmt: skip
        for line in report.lines():
            print(line)
        print(f"[{backend}] failed requests seen by phones (then resent): {report.failures}")
        verdict = "OK" if report.ok else "FAIL"
        print(f"[{backend}] took {time.monotonic() - started:.1f} s: {verdict}")
        ok = ok and report.ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
