"""Fixtures of the HTTP tests: a real buuta server on SQLite and on PostgreSQL, with a small day.

The day is :func:`harness.api_day.small_request` (read its module docstring); the fixture checks
that the solver put each job on the courier of its own post office.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.api_day import USERS, auth, small_request, today_vn
from tests.support.server import RunningServer, create_tokens, serve, sqlite_url


@dataclass
class Day:
    """A running server with users and a planned day.

    Attributes
    ----------
    server
        The running buuta server.
    tokens
        ``{user name: API token}`` for :data:`USERS`.
    request, plan
        The small day's request and the plan the server answered.
    date
        The plan's date.
    """

    server: RunningServer
    tokens: dict[str, str]
    request: dict[str, Any]
    plan: dict[str, Any]
    date: str
    client: httpx.Client = field(repr=False)

    @property
    def url(self) -> str:
        """The server's base URL."""
        return self.server.base_url

    def as_user(self, name: str) -> dict[str, str]:
        """Headers that authenticate as user ``name``."""
        return auth(self.tokens[name])

    def courier_of(self, job: str) -> str:
        """The courier whose route holds ``job``."""
        for route in self.plan["routes"]:
            for stop in route["stops"]:
                if stop.get("job") == job:
                    return str(route["courier"])
        msg = f"job {job} is on no route"
        raise AssertionError(msg)

    def scan(self, user: str, *events: dict[str, Any]) -> httpx.Response:
        """POST ``events`` to /v1/scans as ``user``."""
        return self.client.post(
            f"{self.url}/v1/scans", json=list(events), headers=self.as_user(user)
        )


def _backends() -> list[Any]:
    return ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="module", params=_backends())
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A new empty database: a SQLite file, or a database on the test PostgreSQL server."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path_factory.mktemp("api-sqlite"))
    from tests.support.postgres import fresh_database

    server = request.getfixturevalue("postgres_server")
    return fresh_database(server, f"api_{request.module.__name__.rsplit('.', 1)[-1]}")


@pytest.fixture(scope="module")
def day(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Day]:
    """A buuta server on ``database_url`` with :data:`USERS` and the small day planned."""
    log = Path(tmp_path_factory.mktemp("api-log")) / "server.log"
    env = {"BUUTA_TRACK_LOOKUPS_PER_MINUTE": "1000"}
    with serve(database_url, env=env, log_path=log) as server, httpx.Client(timeout=60) as client:
        tokens = create_tokens(database_url, USERS)
        date = today_vn()
        request = small_request(date)
        answer = client.post(
            f"{server.base_url}/v1/plans", json=request, headers=auth(tokens["disp1"])
        )
        assert answer.status_code == 201, answer.text
        plan = answer.json()
        d = Day(server, tokens, request, plan, date, client)
        # The hand-made geography puts each job on its own office's courier.
        assert plan["unassigned"] == [], plan["unassigned"]
        assert [d.courier_of(j) for j in ("P1", "R1", "P2", "P3")] == ["c1", "c1", "c2", "c2"]
        yield d
