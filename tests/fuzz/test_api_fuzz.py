"""Fuzz the HTTP API from its own OpenAPI schema, as every role (a small seeded run).

Runs :func:`benchmarks.fuzz_api.fuzz` (read its module docstring; the benchmark runs 10,000
cases) against a real server on a SQLite file with a planned sample day. The benchmark makes
its users with ``buuta user add``; this test with the same library call, in-process, to save
time.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.fuzz_api import SERVER_ENV, fuzz, prepare
from tests.support.server import RunningServer, sqlite_url


@pytest.mark.slow
def test_generated_requests_get_no_5xx_and_match_the_schema(tmp_path: Path) -> None:
    """About 250 generated requests, valid and invalid, over every operation and role: no
    answer is a 5xx, every answer's body matches what the schema documents for its status, and
    the server logs no traceback."""
    server = RunningServer(sqlite_url(tmp_path), env=SERVER_ENV, log_path=tmp_path / "server.log")
    server.start()
    try:
        target = prepare(server, users_by_cli=False)
        report = fuzz(target, cases=250, seed=1)
    finally:
        server.stop()
    print("\n".join(report.lines()))
    assert report.cases >= 150
    # Every role reached the operations: some answers were allowed, some refused.
    assert report.statuses[200] > 0
    assert report.statuses[401] > 0
    assert report.statuses[403] > 0
    assert report.statuses[422] > 0
    assert report.server_errors == []
    assert report.violations == []
    assert report.transport_errors == []
    assert "Traceback" not in server.log_tail(1_000_000)
