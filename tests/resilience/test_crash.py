"""Power cuts during offline sync: SIGKILL the server again and again while phones send scans.

Runs :func:`benchmarks.crash.run_crash` (read its module docstring) with fewer kills than the
benchmark's 20, on a SQLite file and on the test PostgreSQL server. ``BUUTA_CRASH_KILLS`` sets
the number of kills (``benchmarks/crash.py --kills 20`` prints the full figures).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmarks.crash import run_crash
from tests.resilience.fleet import make_fleet
from tests.support.server import sqlite_url

KILLS = int(os.environ.get("BUUTA_CRASH_KILLS", "5"))

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_sigkills_during_sync_lose_nothing(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Each kill is followed by a restart that answers /healthz and keeps every acknowledged
    scan; after every kill the database passes its own integrity checks, and
    once the phones have resent what was not acknowledged every dossier's status and events
    match the simulation."""
    if backend == "sqlite":
        url = sqlite_url(tmp_path)
    else:
        from tests.support.postgres import fresh_database

        url = fresh_database(request.getfixturevalue("postgres_server"), "resilience_crash")
    # About 2,200 scans: enough for every kill even on a fast machine (a kill comes at most
    # 30 acknowledged scans and 0.1 s after the server is back).
    fleet = make_fleet(couriers=16, dossiers_per_courier=38, seed=3)
    report = run_crash(
        url,
        kills=KILLS,
        backend=backend,
        log_path=tmp_path / "server.log",
        fleet=fleet,
        seed=3,
        jitter_s=0.1,
    )
    print("\n".join(report.lines()))
    assert report.kills == KILLS, "the phones ran out of scans before the last kill"
    assert report.acked == len(fleet.scans()), report.failures
    assert report.lost_acked == set()
    assert report.integrity == []
    assert report.verdict is not None
    assert report.verdict.ok, report.verdict.summary()
    # Every restart answered /healthz (the harness gives up after its start-up limit). How fast
    # depends on how busy the machine is (3 to 17 s with PostgreSQL under a load of 10 on two
    # cores): benchmarks/crash.py prints those figures against the 5 s target instead.
    assert len(report.restart_s) == KILLS
