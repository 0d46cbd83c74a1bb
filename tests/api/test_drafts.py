"""Drafts and publishing over HTTP, on a real server with SQLite and with PostgreSQL.

A day planned from the request book is a draft: couriers, staff and the citizen's look-up see
nothing of it until a dispatcher publishes it; publishing supersedes the day's published plan
and marks the book's requests planned. A re-plan made as a draft is compared with the
published plan (what it drops, with the reason, and the day's figures) before it replaces it.
``POST /v1/plans`` still publishes at once. Every search stops after 20 solutions (the same
plan on any machine).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.api_day import auth, small_request, today_vn
from tests.support.server import create_tokens, serve

USERS = {"disp": "dispatcher", "staff": "staff", "c1": "courier", "c2": "courier"}
OPTIONS = {"options": {"solution_limit": 20}}


class Desk:
    """A running server and its users: the dispatcher's desk."""

    def __init__(self, url: str, tokens: dict[str, str], client: httpx.Client) -> None:
        self.url, self.tokens, self.client = url, tokens, client

    def post(self, path: str, user: str = "disp", **kwargs: Any) -> httpx.Response:
        return self.client.post(f"{self.url}{path}", headers=auth(self.tokens[user]), **kwargs)

    def get(self, path: str, user: str = "staff", **kwargs: Any) -> httpx.Response:
        return self.client.get(f"{self.url}{path}", headers=auth(self.tokens[user]), **kwargs)

    def ok(self, answer: httpx.Response, status: int = 200) -> dict[str, Any]:
        assert answer.status_code == status, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def stops(self, courier: str, day: str) -> list[dict[str, Any]]:
        answer = self.get(f"/v1/couriers/{courier}/stops", courier, params={"date": day})
        body = self.ok(answer)
        stops: list[dict[str, Any]] = body["stops"]
        return stops

    def states(self, day: str) -> dict[str, str]:
        plans = self.ok(self.get("/v1/plans", params={"date": day}))["data"]
        return {p["plan_id"]: p["state"] for p in plans}

    def requests_of(self, day: str) -> dict[str, dict[str, Any]]:
        data = self.ok(self.get("/v1/requests", params={"date": day}))["data"]
        return {r["id"]: r for r in data}

    def looked_up(self, code: str, digits: str) -> tuple[int, int]:
        """The public look-up of a dossier: the API's status and the ``/tra-cuu`` page's."""
        api = self.client.get(f"{self.url}/v1/track/{code}", params={"phone_last4": digits})
        page = self.client.post(f"{self.url}/tra-cuu", data={"code": code, "phone_last4": digits})
        return api.status_code, page.status_code


@pytest.fixture(scope="module")
def desk(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    log = Path(tmp_path_factory.mktemp("drafts-log")) / "server.log"
    env = {"BUUTA_TRACK_LOOKUPS_PER_MINUTE": "1000"}
    with serve(database_url, env=env, log_path=log) as server, httpx.Client(timeout=60) as client:
        desk = Desk(server.base_url, create_tokens(database_url, USERS), client)
        day = small_request(today_vn())
        roster = {k: day[k] for k in ("sites", "shuttles", "couriers")}
        desk.ok(client.put(f"{desk.url}/v1/roster", json=roster, headers=auth(desk.tokens["disp"])))
        yield desk


def day_after(days: int) -> str:
    """A day ``days`` after today in Vietnam (each test plans its own day)."""
    return (date.fromisoformat(today_vn()) + timedelta(days=days)).isoformat()


def book_the_small_day(desk: Desk, day: str, prefix: str) -> list[dict[str, Any]]:
    """Book the small day's four jobs as requests of ``day`` (ids and dossiers made unique)."""
    items = []
    for job in small_request(day)["jobs"]:
        items.append({**job, "id": f"{prefix}-{job['id']}", "dossier": f"{prefix}-{job['dossier']}",
                      "date": day})  # fmt: skip
    results = desk.ok(desk.post("/v1/requests", json=items))["results"]
    assert {r["status"] for r in results} == {"created"}, results
    return items


def served(plan: dict[str, Any]) -> set[str]:
    return {s["job"] for r in plan["routes"] for s in r["stops"] if s.get("job")}


def test_a_day_planned_from_the_book_is_seen_only_once_published(desk: Desk) -> None:
    """The book's plan is a draft nobody but dispatchers sees; publishing it shows it to all."""
    day = day_after(10)
    items = book_the_small_day(desk, day, "seen")
    answer = desk.post(f"/v1/days/{day}/plan", json=OPTIONS)
    draft = desk.ok(answer, 201)
    plan_id = draft["plan_id"]
    assert draft["state"] == "draft" and answer.headers["location"] == f"/v1/plans/{plan_id}"
    assert desk.ok(desk.get(f"/v1/plans/{plan_id}"))["state"] == "draft"
    assert desk.states(day) == {plan_id: "draft"}
    assert served(draft) == {item["id"] for item in items}  # the small day is served whole

    # Nothing registered: no courier's list, no dossier for staff, no public answer.
    assert desk.stops("c1", day) == [] and desk.stops("c2", day) == []
    p1 = items[0]
    assert desk.get(f"/v1/dossiers/{p1['dossier']}").status_code == 404
    assert desk.looked_up(p1["dossier"], "5678") == (404, 404)
    assert {r["status"] for r in desk.requests_of(day).values()} == {"open"}

    changes = desk.ok(desk.get(f"/v1/plans/{plan_id}/changes"))
    assert changes["against"] is None
    assert changes["counts"] == {"dropped": 0, "moved": 0, "retimed": 0, "added": 4}
    assert {c["job"]: c["change"] for c in changes["changes"]} == dict.fromkeys(
        served(draft), "added"
    )
    assert changes["kpis"]["served"] == {"published": None, "draft": 4, "delta": None}
    assert changes["violations"] == []

    published = desk.ok(desk.post(f"/v1/plans/{plan_id}/publish"))
    assert published["state"] == "published" and published["routes"] == draft["routes"]
    again = desk.post(f"/v1/plans/{plan_id}/publish")  # a double click
    assert again.status_code == 409 and "not a draft" in again.json()["message"]
    assert desk.states(day) == {plan_id: "published"}

    c1 = [s.get("job") for s in desk.stops("c1", day)]
    assert {"seen-P1", "seen-R1"} <= set(c1)
    assert desk.ok(desk.get(f"/v1/dossiers/{p1['dossier']}"))["identity_check"] is not None
    assert desk.looked_up(p1["dossier"], "5678") == (200, 200)
    book = desk.requests_of(day)
    assert {r["status"] for r in book.values()} == {"planned"}
    assert {r["plan_id"] for r in book.values()} == {plan_id}
    assert desk.get(f"/v1/plans/{plan_id}/changes").status_code == 409


def test_publishing_a_replan_draft_supersedes_the_published_plan(desk: Desk) -> None:
    """A re-plan draft is compared with the published plan, then replaces it when published;
    a draft made against a plan since replaced is refused, and can be discarded."""
    day = day_after(11)
    request = small_request(day)
    for job in request["jobs"]:
        job["dossier"] = f"super-{job['dossier']}"
    first = desk.ok(desk.post("/v1/plans", json=request), 201)
    assert first["state"] == "published"  # POST /v1/plans publishes at once, as before
    assert "P3" in {s.get("job") for s in desk.stops("c2", day)}

    body = {"draft": True, "now": f"{day}T07:00:00+07:00", "cancelled_jobs": ["P3"]}
    cancel = desk.ok(desk.post(f"/v1/plans/{first['plan_id']}/replan", json=body), 201)
    evening = {"draft": True, "now": f"{day}T18:00:00+07:00"}
    late = desk.ok(desk.post(f"/v1/plans/{first['plan_id']}/replan", json=evening), 201)
    assert cancel["state"] == late["state"] == "draft"
    assert "P3" in {s.get("job") for s in desk.stops("c2", day)}  # still the published plan

    changes = desk.ok(desk.get(f"/v1/plans/{cancel['plan_id']}/changes"))
    assert changes["against"] == first["plan_id"]
    dropped = [c for c in changes["changes"] if c["change"] == "dropped"]
    assert [(c["job"], c["from"], c["to"], c["reason"]) for c in dropped] == [
        ("P3", "c2", None, "cancelled")
    ]
    assert changes["kpis"]["served"] == {"published": 4, "draft": 3, "delta": -1}
    assert changes["kpis"]["unassigned"]["delta"] == 1

    # Re-planned in the evening with nothing done, the day loses every job: shown as dropped.
    evening_changes = desk.ok(desk.get(f"/v1/plans/{late['plan_id']}/changes"))
    assert evening_changes["counts"]["dropped"] == 4
    assert evening_changes["kpis"]["served"] == {"published": 4, "draft": 0, "delta": -4}
    assert all(c["reason"] not in (None, "not_in_draft") for c in evening_changes["changes"])

    desk.ok(desk.post(f"/v1/plans/{cancel['plan_id']}/publish"))
    assert desk.states(day) == {
        first["plan_id"]: "superseded",
        cancel["plan_id"]: "published",
        late["plan_id"]: "draft",
    }
    assert "P3" not in {s.get("job") for s in desk.stops("c2", day)}
    stale = desk.post(f"/v1/plans/{late['plan_id']}/publish")
    assert stale.status_code == 409 and "re-plan" in stale.json()["message"]

    assert desk.ok(desk.post(f"/v1/plans/{late['plan_id']}/discard"))["discarded"] is True
    assert desk.get(f"/v1/plans/{late['plan_id']}").status_code == 404
    assert desk.post(f"/v1/plans/{first['plan_id']}/discard").status_code == 409
    assert desk.post("/v1/plans/no-such-plan/publish").status_code == 404

    # A re-plan without "draft" is published at once, as before, and supersedes its plan.
    now = {"now": f"{day}T07:00:00+07:00"}
    direct = desk.ok(desk.post(f"/v1/plans/{cancel['plan_id']}/replan", json=now), 201)
    assert direct["state"] == "published"
    assert desk.states(day)[cancel["plan_id"]] == "superseded"


def test_planning_a_published_day_again_plans_its_requests_with_the_new_ones(desk: Desk) -> None:
    """A request booked after the day was published is planned with the day's planned ones."""
    day = day_after(12)
    items = book_the_small_day(desk, day, "again")
    first = desk.ok(desk.post(f"/v1/days/{day}/plan", json=OPTIONS), 201)
    desk.ok(desk.post(f"/v1/plans/{first['plan_id']}/publish"))
    late = {**items[2], "id": "again-P4", "dossier": "again-P4", "window": ["08:30", "11:00"]}
    desk.ok(desk.post("/v1/requests", json=[late]))

    second = desk.ok(desk.post(f"/v1/days/{day}/plan", json=OPTIONS), 201)
    assert second["kpis"]["jobs"] == 5
    changes = desk.ok(desk.get(f"/v1/plans/{second['plan_id']}/changes"))
    assert [c["job"] for c in changes["changes"] if c["change"] == "added"] == ["again-P4"]
    assert changes["counts"]["dropped"] == 0
    assert desk.requests_of(day)["again-P4"]["status"] == "open"

    desk.ok(desk.post(f"/v1/plans/{second['plan_id']}/publish"))
    book = desk.requests_of(day)
    assert {r["plan_id"] for r in book.values()} == {second["plan_id"]}
    assert {r["status"] for r in book.values()} == {"planned"}
    assert desk.states(day) == {first["plan_id"]: "superseded", second["plan_id"]: "published"}


def test_drafts_are_for_dispatchers_and_keep_no_citizen_data(desk: Desk) -> None:
    """Staff may read a draft's changes but not publish; a draft re-plan refuses citizens' data;
    a draft whose request was cancelled since is not published; two publishes of one draft at
    once publish it once."""
    day = day_after(13)
    book_the_small_day(desk, day, "roles")
    book_the_small_day(desk, day_after(14), "roles-late")
    draft = desk.ok(desk.post(f"/v1/days/{day}/plan", json=OPTIONS), 201)
    plan_id = draft["plan_id"]
    assert desk.post(f"/v1/plans/{plan_id}/publish", "staff").status_code == 403
    assert desk.post(f"/v1/plans/{plan_id}/discard", "c1").status_code == 403
    assert desk.get(f"/v1/plans/{plan_id}/changes").status_code == 200

    # The pages' cookie from another site may not publish (the same-origin check of every POST).
    forged = httpx.post(
        f"{desk.url}/v1/plans/{plan_id}/publish",
        cookies={"buuta_token": desk.tokens["disp"]},
        headers={"Origin": "https://evil.example"},
    )
    assert forged.status_code == 403

    added = {**small_request(day)["jobs"][0], "id": "X1", "dossier": "roles-X1"}
    body = {"draft": True, "added_jobs": [added]}
    refused = desk.post(f"/v1/plans/{plan_id}/replan", json=body)
    assert refused.status_code == 422 and "added_jobs[0]" in refused.json()["message"]

    cancelled = desk.ok(desk.post(f"/v1/days/{day_after(14)}/plan", json=OPTIONS), 201)
    desk.ok(desk.post("/v1/requests/roles-late-P3/cancel"))
    gone = desk.post(f"/v1/plans/{cancelled['plan_id']}/publish")
    assert gone.status_code == 409 and "roles-late-P3" in gone.json()["message"]

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda _: desk.post(f"/v1/plans/{plan_id}/publish"), range(2)))
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    assert desk.states(day) == {plan_id: "published"}
