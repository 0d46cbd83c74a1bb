"""Fuzz the HTTP API from its own OpenAPI schema: no input makes a server error.

Schemathesis generates requests for every route (valid and invalid bodies, odd path and query
values) and sends them to a real server as an administrator, who may reach every route. Any
500 fails the test: bad input must be answered 4xx with a message, never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.api.day import auth, small_request, today_vn
from tests.support.server import RunningServer, create_tokens, serve, sqlite_url


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, str]]:
    """A server with the small day planned and an admin token; solves capped at 1 s."""
    url = sqlite_url(tmp_path_factory.mktemp("fuzz"))
    env = {"BUUTA_SOLVE_TIME_LIMIT_CAP_S": "1", "BUUTA_TRACK_LOOKUPS_PER_MINUTE": "100000"}
    with serve(url, env=env) as server:
        tokens = create_tokens(url, {"fuzz-admin": "admin", "fuzz-disp": "dispatcher"})
        planned = httpx.post(
            f"{server.base_url}/v1/plans",
            json=small_request(today_vn()),
            headers=auth(tokens["fuzz-disp"]),
            timeout=120,
        )
        assert planned.status_code == 201, planned.text
        yield server, tokens["fuzz-admin"]


@pytest.fixture(scope="module")
def api_schema(fuzz_server: tuple[RunningServer, str]) -> Any:
    """buuta's OpenAPI schema, as the running server publishes it."""
    server, _token = fuzz_server
    return schemathesis.openapi.from_url(f"{server.base_url}/openapi.json")


def test_no_generated_request_makes_a_server_error(
    api_schema: Any, fuzz_server: tuple[RunningServer, str]
) -> None:
    """For every operation, generated requests are answered without a 5xx (503 from an
    unavailable solver aside, which is a designed answer) and without a traceback."""
    server, token = fuzz_server
    seen: list[str] = []
    statuses: list[int] = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        seen.append(f"{operation.method.upper()} {operation.path}")

        @settings(
            max_examples=12,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def call(case: Any) -> None:
            response = case.call(base_url=server.base_url, headers=auth(token), timeout=60)
            statuses.append(response.status_code)
            assert response.status_code < 500 or response.status_code == 503, (
                case.method,
                case.path,
                response.status_code,
                response.text[:500],
            )
            assert "Traceback" not in response.text
            case.validate_response(response, checks=[not_a_server_error])

        call()
    assert "POST /v1/scans" in seen
    assert "POST /v1/plans" in seen
    # the fuzzing reached the routes: some requests were accepted, many refused with a 4xx
    assert any(200 <= s < 300 for s in statuses), statuses
    assert sum(400 <= s < 500 for s in statuses) > len(seen), statuses
