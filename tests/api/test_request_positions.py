"""A request's pin set by hand, ``POST /v1/requests/{id}/position``, on a real server with
SQLite and PostgreSQL (DESIGN §8: the dispatcher drags an uncertain pin to the house).

The request is booked by address, so the offline gazetteer places it at its commune's point
(``geocoded.precision`` ``ward``); the tests move it, plan nothing, and read it back through
``GET /v1/requests``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.api_day import CITIZENS, auth, today_vn
from tests.support.server import create_tokens, serve

USERS = {"disp": "dispatcher", "staff": "staff", "c1": "courier"}
ADDRESS = "Ấp 3, xã Khánh Bình Tây, huyện Trần Văn Thời, Cà Mau"
"""Placed by the gazetteer at the point of the commune Khánh Bình Tây (9.21299, 104.89054)."""
HOUSE = {"lat": 9.204512, "lon": 104.873301}
"""Where the citizen lives, about 2 km from the commune's point."""


class Server:
    """A running server and a token per user."""

    def __init__(self, url: str, tokens: dict[str, str], client: httpx.Client) -> None:
        self.url, self.tokens, self.client = url, tokens, client

    def post(self, path: str, user: str = "disp", **kwargs: Any) -> httpx.Response:
        return self.client.post(f"{self.url}{path}", headers=auth(self.tokens[user]), **kwargs)

    def request(self, day: str, rid: str) -> dict[str, Any]:
        answer = self.client.get(
            f"{self.url}/v1/requests", params={"date": day}, headers=auth(self.tokens["staff"])
        )
        assert answer.status_code == 200, answer.text
        return next(r for r in answer.json()["data"] if r["id"] == rid)


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = Path(tmp_path_factory.mktemp("pins-log")) / "server.log"
    with serve(database_url, log_path=log) as running, httpx.Client(timeout=60) as client:
        yield Server(running.base_url, create_tokens(database_url, USERS), client)


def booked_by_address(server: Server, rid: str, days: int) -> tuple[str, dict[str, Any]]:
    """Book a pickup placed by its address only, ``days`` after today; answer (day, item)."""
    day = (date.fromisoformat(today_vn()) + timedelta(days=days)).isoformat()
    item = {
        "id": rid, "kind": "pickup", "dossier": f"H12.22-{rid}", "date": day,
        "window": ["08:00", "10:00"], "address": ADDRESS, "handoff_site": "po-tvt",
        "destination_site": "centre", "citizen": CITIZENS["P1"],
    }  # fmt: skip
    answer = server.post("/v1/requests", json=[item])
    assert answer.json()["results"][0]["status"] == "created", answer.text
    return day, item


def test_a_dragged_pin_is_stored_as_set_by_hand(server: Server) -> None:
    """The new point is stored, marked manual with the gazetteer's guess kept beside it."""
    day, _item = booked_by_address(server, "PIN-1", 1)
    before = server.request(day, "PIN-1")
    assert before["geocoded"] == {"precision": "ward", "name": "Khánh Bình Tây"}
    assert (before["lat"], before["lon"]) == (9.21299, 104.89054)

    answer = server.post("/v1/requests/PIN-1/position", json=HOUSE)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "open"
    stored = server.request(day, "PIN-1")
    assert (stored["lat"], stored["lon"]) == (HOUSE["lat"], HOUSE["lon"])
    assert stored["geocoded"] == {
        "precision": "manual", "name": "Khánh Bình Tây", "was": "ward", "set_by": "disp",
    }  # fmt: skip
    assert stored["citizen"]["name"] == CITIZENS["P1"]["name"]  # nothing else changed

    # Moved again: still manual, and the gazetteer's guess is still the one kept.
    again = server.post("/v1/requests/PIN-1/position", json={"lat": 9.2, "lon": 104.87})
    assert again.status_code == 200, again.text
    assert again.json()["geocoded"]["was"] == "ward"
    assert (again.json()["lat"], again.json()["lon"]) == (9.2, 104.87)


def test_booking_the_same_request_again_keeps_the_pin(server: Server) -> None:
    """The hotline resending the same request (``unchanged``) does not undo the fix."""
    day, item = booked_by_address(server, "PIN-2", 2)
    assert server.post("/v1/requests/PIN-2/position", json=HOUSE).status_code == 200
    resent = server.post("/v1/requests", json=[item]).json()["results"][0]
    assert resent["status"] == "unchanged"
    stored = server.request(day, "PIN-2")
    assert (stored["lat"], stored["lon"], stored["geocoded"]["precision"]) == (
        HOUSE["lat"], HOUSE["lon"], "manual",
    )  # fmt: skip


def test_a_request_no_longer_open_keeps_its_point(server: Server) -> None:
    """A cancelled request's pin cannot be moved (422); an unknown request answers 404."""
    day, _item = booked_by_address(server, "PIN-3", 3)
    assert server.post("/v1/requests/PIN-3/cancel").status_code == 200
    refused = server.post("/v1/requests/PIN-3/position", json=HOUSE)
    assert refused.status_code == 422
    assert refused.json()["error"] == "invalid_request"
    assert "only an open request" in refused.json()["message"]
    assert server.request(day, "PIN-3")["geocoded"]["precision"] == "ward"
    missing = server.post("/v1/requests/NO-SUCH/position", json=HOUSE)
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lat": 91, "lon": 104.9}, "lat"),
        ({"lat": 9.2, "lon": -181}, "lon"),
        ({"lat": 9.2}, "lon"),
        ({"lat": "north", "lon": 104.9}, "lat"),
        ({"lat": 9.2, "lon": 104.9, "note": "x"}, "note"),
        ([9.2, 104.9], "body"),
    ],
)
def test_a_point_that_is_not_one_is_refused_by_name(server: Server, body: Any, field: str) -> None:
    """Bad points answer 422 naming the field, and the stored point stays."""
    rid = f"PIN-BAD-{field}-{len(str(body))}"
    day, _item = booked_by_address(server, rid, 4)
    answer = server.post(f"/v1/requests/{rid}/position", json=body)
    assert answer.status_code == 422, answer.text
    assert any(f["field"].startswith(field) for f in answer.json()["fields"]), answer.text
    assert server.request(day, rid)["geocoded"]["precision"] == "ward"


def test_only_dispatchers_and_administrators_move_pins(server: Server) -> None:
    """Staff and couriers are refused (403); without a token, 401."""
    day, _item = booked_by_address(server, "PIN-4", 5)
    assert server.post("/v1/requests/PIN-4/position", "staff", json=HOUSE).status_code == 403
    assert server.post("/v1/requests/PIN-4/position", "c1", json=HOUSE).status_code == 403
    anonymous = server.client.post(f"{server.url}/v1/requests/PIN-4/position", json=HOUSE)
    assert anonymous.status_code == 401
    assert server.request(day, "PIN-4")["geocoded"]["precision"] == "ward"


def test_the_endpoint_is_in_openapi(server: Server) -> None:
    """The position endpoint is documented with its body."""
    spec = server.client.get(f"{server.url}/openapi.json").json()
    operation = spec["paths"]["/v1/requests/{request_id}/position"]["post"]
    assert "requests" in operation["tags"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = spec["components"]["schemas"][body.rsplit("/", 1)[1]]
    assert set(schema["required"]) == {"lat", "lon"}
