"""Adjusting a plan by hand over HTTP: moves, locks and re-optimising around them (issue 11).

Every test runs against a real buuta server, on a SQLite file and on the test PostgreSQL
server (``database_url`` of ``tests/api/conftest.py``). The day is tiny and hand-checkable: one
post office ``po``, two couriers ``c1`` and ``c2`` (07:00–17:00, no break) and a travel matrix
of whole minutes, km being half the minutes:

=====  ====  ====  ====  ====
from    po    P1    P2    R1
=====  ====  ====  ====  ====
po       0    20    30    15
P1      20     0    10    25
P2      30    10     0    12
R1      15    25    12     0
=====  ====  ====  ====  ====

P1 (pickup, window 08:00–09:00, 10 min), P2 (pickup, 08:00–12:00, 10 min) are handed over at
``po``; R1 (return, 09:00–11:00, 5 min) is collected at ``po``, ready from 07:00. The site
service is 2 minutes. Each test books its own dossier codes (``tag``), as the server's
database lives for the module.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.api_day import USERS, auth, today_vn
from routing.checker import check_plan
from tests.support.server import RunningServer, create_tokens, serve

IDS = ["po", "P1", "P2", "R1"]
MINUTES = [[0, 20, 30, 15], [20, 0, 10, 25], [30, 10, 0, 12], [15, 25, 12, 0]]


def tiny_day(tag: str, locks: dict[str, str] | None = None) -> dict[str, Any]:
    """The module docstring's day, its dossier codes ending in ``tag``, jobs locked as given."""
    locks = locks or {}
    jobs: list[dict[str, Any]] = [
        {"id": "P1", "kind": "pickup", "lat": 9.01, "lon": 105.01,
         "window": ["08:00", "09:00"], "service_min": 10, "handoff_site": "po"},
        {"id": "P2", "kind": "pickup", "lat": 9.02, "lon": 105.02,
         "window": ["08:00", "12:00"], "service_min": 10, "handoff_site": "po"},
        {"id": "R1", "kind": "return", "lat": 9.03, "lon": 105.03,
         "window": ["09:00", "11:00"], "service_min": 5, "origin_site": "po",
         "ready_at": "07:00"},
    ]  # fmt: skip
    for job in jobs:
        job["dossier"] = f"H12.22-{job['id']}-{tag}"
        if job["id"] in locks:
            job["courier"] = locks[job["id"]]
    return {
        "date": today_vn(),
        "sites": [
            {"id": "po", "kind": "post_office", "name": "Bưu điện", "lat": 9.0, "lon": 105.0}
        ],
        "couriers": [
            {"id": c, "start_site": "po", "capacity": 10, "shift": ["07:00", "17:00"]}
            for c in ("c1", "c2")
        ],
        "jobs": jobs,
        "travel": {"ids": IDS, "minutes": MINUTES, "km": [[m / 2 for m in r] for r in MINUTES]},
        "options": {"time_limit_s": 60, "solution_limit": 50},
    }


class Api:
    """The running server and a dispatcher's calls."""

    def __init__(self, server: RunningServer, tokens: dict[str, str], client: httpx.Client):
        self.url, self.tokens, self.client = server.base_url, tokens, client

    def post(self, path: str, body: Any, user: str = "disp1") -> httpx.Response:
        return self.client.post(f"{self.url}{path}", json=body, headers=auth(self.tokens[user]))

    def plan(self, request: dict[str, Any]) -> dict[str, Any]:
        answer = self.post("/v1/plans", request)
        assert answer.status_code == 201, answer.text
        plan: dict[str, Any] = answer.json()
        return plan


@pytest.fixture(scope="module")
def api(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """A buuta server on ``database_url`` with the users of ``harness.api_day``."""
    log = Path(tmp_path_factory.mktemp("adjust-log")) / "server.log"
    with serve(database_url, log_path=log) as server, httpx.Client(timeout=120) as client:
        yield Api(server, create_tokens(database_url, USERS), client)


def route_of(plan: dict[str, Any], courier: str) -> list[dict[str, Any]]:
    """The stops of ``courier``'s route (empty when it has none)."""
    return next((r["stops"] for r in plan["routes"] if r["courier"] == courier), [])


def jobs_of(plan: dict[str, Any], courier: str) -> set[str]:
    """Every job served on ``courier``'s route."""
    return {j for s in route_of(plan, courier) for j in [s.get("job"), *(s.get("jobs") or [])] if j}


def clock(stamp: str) -> str:
    """``HH:MM`` of a plan time."""
    return stamp[11:16]


def test_lock_is_honoured_by_the_optimizer(api: Api) -> None:
    """A job locked to c2 is on c2's route, though c1 could take all three on one ride."""
    request = tiny_day("lock", {"P2": "c2"})
    plan = api.plan(request)
    assert "P2" in jobs_of(plan, "c2")
    assert "P2" not in jobs_of(plan, "c1")
    assert check_plan(request, plan) == []


def test_a_lock_the_courier_cannot_keep_is_unassigned_in_words(api: Api) -> None:
    """P1 (08:00–09:00) locked to a courier who starts at 13:00 is unassigned, naming the lock."""
    request = tiny_day("late", {"P1": "c2"})
    request["couriers"][1]["shift"] = ["13:00", "17:00"]
    plan = api.plan(request)
    (left,) = plan["unassigned"]
    assert left["job"] == "P1"
    assert left["reason"] == "window_outside_shifts"
    assert "locked to courier c2" in left["detail"]
    assert check_plan(request, plan) == []


def test_a_lock_to_an_unknown_courier_is_refused(api: Api) -> None:
    """A lock naming no courier of the request is a 422 naming the job's field."""
    answer = api.post("/v1/plans", tiny_day("nobody", {"P1": "c9"}))
    assert answer.status_code == 422
    assert "jobs[0].courier" in answer.json()["message"]


def test_the_checker_refuses_a_hand_edited_plan_that_breaks_a_lock(api: Api) -> None:
    """A plan that keeps P2 on c2 breaks the lock once the request locks P2 to c1."""
    request = tiny_day("edited", {"P2": "c2"})
    plan = api.plan(request)
    request["jobs"][1]["courier"] = "c1"
    found = check_plan(request, plan)
    assert [(v.code, v.job, v.courier) for v in found] == [("lock", "P2", "c2")]


def test_a_move_to_another_courier_is_retimed_by_hand_checked_numbers(api: Api) -> None:
    """P2 moved from c1 to c2 (with no other job) is ridden as the matrix says.

    c2 leaves po at 07:30 (30 min before P2's window opens), is at P2 at 08:00, serves it
    until 08:10, is back at po at 08:40 for a 2-minute hand-off, 08:42, and ends there:
    30 + 30 min = 15 + 15 km = 30 km, 72 minutes. Nothing is broken.
    """
    request = tiny_day("move", {"P1": "c1", "P2": "c1", "R1": "c1"})
    plan = api.plan(request)
    assert jobs_of(plan, "c1") == {"P1", "P2", "R1"}
    answer = api.post(f"/v1/plans/{plan['plan_id']}/moves", {"job": "P2", "courier": "c2"})
    assert answer.status_code == 201, answer.text
    moved = answer.json()
    assert answer.headers["location"] == f"/v1/plans/{moved['plan_id']}"
    assert moved["plan_id"] != plan["plan_id"]
    assert moved["previous_plan_id"] == plan["plan_id"]
    assert moved["broken"] == []
    stops = route_of(moved, "c2")
    assert [(s["type"], s.get("job") or s.get("jobs")) for s in stops] == [
        ("start", None), ("pickup", "P2"), ("handoff", ["P2"]), ("end", None)
    ]  # fmt: skip
    times = [
        (clock(s["arrive"]), clock(s.get("start") or s["arrive"]), s.get("load")) for s in stops
    ]
    assert times == [("07:30", "07:30", 0), ("08:00", "08:00", 1), ("08:40", "08:40", 0),
                     ("08:42", "08:42", None)]  # fmt: skip
    route = next(r for r in moved["routes"] if r["courier"] == "c2")
    assert (route["distance_km"], route["duration_min"]) == (30.0, 72.0)
    assert jobs_of(moved, "c1") == {"P1", "R1"}
    assert moved["changes"] == [{"job": "P2", "from": "c1", "to": "c2", "change": "moved"}]
    stored = api.client.get(
        f"{api.url}/v1/plans/{moved['plan_id']}", headers=auth(api.tokens["disp1"])
    )
    assert stored.json()["routes"] == moved["routes"]


def test_a_move_that_breaks_a_window_answers_that_promise(api: Api) -> None:
    """P1 (window to 09:00) moved after R1's delivery (09:00 at the earliest) is late: broken."""
    request = tiny_day("window", {"P1": "c1", "P2": "c1", "R1": "c1"})
    plan = api.plan(request)
    answer = api.post(
        f"/v1/plans/{plan['plan_id']}/moves", {"job": "P1", "courier": "c1", "position": 2}
    )
    assert answer.status_code == 201, answer.text
    moved = answer.json()
    homes = [s["job"] for s in route_of(moved, "c1") if s["type"] in ("pickup", "delivery")]
    assert homes[-1] == "P1"
    broken = {(b["job"], b["rule"]) for b in moved["broken"]}
    assert ("P1", "window") in broken
    assert all(b["words"] for b in moved["broken"])


def test_a_job_under_way_cannot_move(api: Api) -> None:
    """Once c1 has scanned P1 collected, moving P1 answers 409 in words; re-optimising keeps it
    done."""
    request = tiny_day("done", {"P1": "c1", "P2": "c1", "R1": "c1"})
    plan = api.plan(request)
    event = {
        "event_id": str(uuid.uuid4()),
        "dossier": request["jobs"][0]["dossier"],
        "type": "collected",
        "at": datetime.now(UTC).isoformat(),  # a scan from the future would be flagged
        "lat": 9.01,
        "lon": 105.01,
        "job": "P1",
    }
    scanned = api.post("/v1/scans", [event], user="c1")
    assert scanned.json()["results"][0]["status"] == "stored", scanned.text
    answer = api.post(f"/v1/plans/{plan['plan_id']}/moves", {"job": "P1", "courier": "c2"})
    assert answer.status_code == 409
    assert "P1" in answer.json()["message"]
    # The day has begun: re-optimising keeps P1's pickup done, on c1, as a re-plan does.
    again = api.post(f"/v1/plans/{plan['plan_id']}/reoptimise", {"time_limit_s": 2})
    assert again.status_code == 201, again.text
    c1 = next(r for r in again.json()["routes"] if r["courier"] == "c1")
    assert any(s.get("job") == "P1" and s["type"] == "pickup" for s in c1["done"])


def test_bad_moves_are_refused_in_words(api: Api) -> None:
    """An unknown plan or job is a 404, an unknown courier or position a 422, each field named."""
    plan = api.plan(tiny_day("bad", {"P1": "c1", "P2": "c1", "R1": "c1"}))
    path = f"/v1/plans/{plan['plan_id']}/moves"
    unknown_job = api.post(path, {"job": "J9", "courier": "c2"})
    assert unknown_job.status_code == 404
    assert unknown_job.json()["message"].startswith("job:")  # the field, never the value sent
    unknown_courier = api.post(path, {"job": "P1", "courier": "c9"})
    assert unknown_courier.status_code == 422
    assert "courier" in unknown_courier.json()["message"]
    far = api.post(path, {"job": "P1", "courier": "c2", "position": 5})
    assert far.status_code == 422
    assert "position" in far.json()["message"]
    assert api.post("/v1/plans/nope/moves", {"job": "P1", "courier": "c2"}).status_code == 404
    assert api.post(path, {"job": "P1"}).status_code == 422
    assert api.post(path, {"job": "P1", "courier": "c2"}, user="staff1").status_code == 403


def test_locks_then_reoptimise_keep_locked_jobs_on_their_courier(api: Api) -> None:
    """Lock P1 and R1 to c2 (c1 has them: two broken locks); re-optimised, both are on c2."""
    request = tiny_day("reopt", {"P1": "c1", "P2": "c1", "R1": "c1"})
    plan = api.plan(request)
    locked = api.post(f"/v1/plans/{plan['plan_id']}/locks", {"jobs": ["P1", "R1"], "courier": "c2"})
    assert locked.status_code == 201, locked.text
    assert {(b["job"], b["rule"]) for b in locked.json()["broken"]} == {
        ("P1", "lock"),
        ("R1", "lock"),
    }
    assert locked.json()["routes"] == plan["routes"]
    again = api.post(f"/v1/plans/{locked.json()['plan_id']}/reoptimise", {"time_limit_s": 60})
    assert again.status_code == 201, again.text
    new = again.json()
    assert {"P1", "R1"} <= jobs_of(new, "c2")
    assert new["broken"] == []
    assert new["previous_plan_id"] == locked.json()["plan_id"]
    locks = {"P1": "c2", "P2": "c1", "R1": "c2"}
    assert check_plan(tiny_day("reopt", locks), new) == []


def test_unlock_and_lock_to_the_current_courier(api: Api) -> None:
    """Locks without a courier lock each job where it is; ``unlock`` removes them."""
    plan = api.plan(tiny_day("here", {"P2": "c2"}))
    path = f"/v1/plans/{plan['plan_id']}/locks"
    here = api.post(path, {"jobs": ["P1", "P2"]})
    assert here.status_code == 201, here.text
    assert here.json()["broken"] == []
    freed = api.post(f"/v1/plans/{here.json()['plan_id']}/locks", {"jobs": ["P2"], "unlock": True})
    assert freed.status_code == 201
    assert api.post(path, {"jobs": ["Z1"]}).status_code == 404
    assert api.post(path, {"jobs": ["P1"], "courier": "c9"}).status_code == 422


def test_an_unassigned_job_moved_onto_a_route_is_assigned(api: Api) -> None:
    """P1, unassigned (locked to c2 who starts at 13:00), moved to c1: served, plan complete."""
    request = tiny_day("assign", {"P1": "c2"})
    request["couriers"][1]["shift"] = ["13:00", "17:00"]
    plan = api.plan(request)
    assert [u["job"] for u in plan["unassigned"]] == ["P1"]
    answer = api.post(f"/v1/plans/{plan['plan_id']}/moves", {"job": "P1", "courier": "c1"})
    assert answer.status_code == 201, answer.text
    moved = answer.json()
    assert "P1" in jobs_of(moved, "c1")
    assert (moved["unassigned"], moved["status"]) == ([], "complete")
    assert moved["changes"] == [{"job": "P1", "from": None, "to": "c1", "change": "assigned"}]
    assert moved["kpis"]["served"] == 3


def test_the_adjust_page_is_for_dispatchers(api: Api) -> None:
    """The page of a stored plan opens for a dispatcher; an unknown plan is a 404 page, and
    staff get a 403 page."""
    plan = api.plan(tiny_day("page-roles"))
    url = f"{api.url}/plans/{plan['plan_id']}/adjust"
    page = api.client.get(url, headers=auth(api.tokens["disp1"]) | {"Accept": "text/html"})
    assert page.status_code == 200
    assert '<html lang="vi">' in page.text
    assert "Tối ưu lại phần còn lại" in page.text
    missing = api.client.get(
        f"{api.url}/plans/nope/adjust", headers=auth(api.tokens["disp1"]) | {"Accept": "text/html"}
    )
    assert missing.status_code == 404
    staff = api.client.get(url, headers=auth(api.tokens["staff1"]) | {"Accept": "text/html"})
    assert staff.status_code == 403
