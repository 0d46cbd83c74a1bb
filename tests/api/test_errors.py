"""The error mapping of api/errors.py on a real app: unexpected errors, unknown routes."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.settings import Settings
from tests.support.loop import run_alone


def test_unexpected_error_is_a_500_json_without_details(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug in a route answers 500 JSON with a plain message; the log has the error's type,
    route and stack but not its text (which may hold personal data), and the answer has
    neither. Unknown routes and methods answer JSON too."""
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'e.sqlite'}"))

    @app.get("/boom")
    def boom() -> None:
        msg = "citizen phone 0912345678 broke something"
        raise RuntimeError(msg)

    caplog.set_level(logging.ERROR, logger="buuta.api")

    async def calls() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://buuta") as client,
        ):
            return [
                await client.get("/boom"),
                await client.get("/v1/nothing-here"),
                await client.delete("/v1/scans"),
            ]

    answer, unknown, wrong = run_alone(calls())
    assert answer.status_code == 500
    assert answer.json() == {
        "error": "internal",
        "message": "buuta could not answer this request; the error was logged",
    }
    assert "0912345678" not in answer.text
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "not_found"
    assert wrong.status_code == 405
    assert wrong.json()["error"] == "method_not_allowed"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "RuntimeError on GET /boom" in logged
    assert "in boom" in logged  # the stack, for the operator
    assert "0912345678" not in logged
