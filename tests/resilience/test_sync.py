"""Offline sync, small: 20 couriers' phones send about 2,000 scans late, shuffled, some twice.

Runs :func:`benchmarks.sync.run_sync` (read its module docstring; the benchmark's default is
200 couriers and 60,000 events) against a real server on a SQLite file and on PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.sync import run_sync
from tests.support.server import sqlite_url

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_offline_sync_loses_duplicates_and_misorders_nothing(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Every scan is stored once, every dossier ends in the status its journey reached despite
    shuffled order, ±5 min phone clocks and 10 % resends, and the simulated mistakes are kept
    but not applied; no request fails."""
    if backend == "sqlite":
        url = sqlite_url(tmp_path)
    else:
        from tests.support.postgres import fresh_database

        url = fresh_database(request.getfixturevalue("postgres_server"), "resilience_sync")
    report = run_sync(
        url, couriers=20, events=2_000, seed=7, api_sample=100, log_path=tmp_path / "server.log"
    )
    print("\n".join(report.lines()))
    assert 1_800 <= report.events <= 2_200
    assert report.sends > report.events  # some were resent
    assert report.stats.failures == {}
    assert report.stats.answers["conflict"] == 0
    assert report.stats.answers["duplicate"] >= report.sends - report.events
    assert report.stats.answers["stored"] + report.stats.answers["flagged"] == report.events
    assert report.verdict.lost == []
    assert report.verdict.duplicated == 0
    assert report.verdict.wrong_status == {}
    assert report.verdict.unexpected == []
    assert report.verdict.wrong_applied == []
