"""Re-planning during the day: done stops kept, couriers start where they are, few changes."""

from __future__ import annotations

import pytest

from routing import RequestError, plan_request, replan
from tests.routing.helpers import clock, courier, pickup, request, ret, stop_of

# Re-planning from a reported position needs a travel model (great circle here), not only the
# request's matrix over sites and homes; the homes lie a few km from po (9.17, 105.15).
HOMES = {"A": (9.20, 105.15), "B": (9.25, 105.18), "C": (9.12, 105.10), "R": (9.19, 105.20)}


def _home(job: dict) -> dict:
    lat, lon = HOMES[job["id"]]
    return job | {"lat": lat, "lon": lon}


def _morning() -> tuple[dict, dict]:
    jobs = [
        _home(pickup("A", ["08:00", "09:00"])),
        _home(pickup("B", ["09:00", "11:00"])),
        _home(ret("R", ["13:00", "15:00"], "10:00")),
    ]
    req = request(jobs, dict.fromkeys(HOMES, 0.0), couriers=[courier("c1"), courier("c2")])
    del req["travel"]
    return req, plan_request(req)


def _courier_of(plan: dict, job: str) -> str:
    for route in plan["routes"]:
        for stop in route["stops"]:
            if stop.get("job") == job or job in stop.get("jobs", []):
                return str(route["courier"])
    raise AssertionError(job)


def test_done_stops_are_kept_and_a_dossier_in_hand_stays_with_its_courier() -> None:
    """At 08:30, A is picked up (not yet handed over): A's hand-off stays with the same courier.

    The morning plan's pickup stop of A is kept, as it was, under ``done``.
    """
    req, morning = _morning()
    holder = _courier_of(morning, "A")
    picked = stop_of(morning, "pickup", "A")
    new = replan(req, morning, now="08:30", done=[{"job": "A", "type": "pickup"}])
    route = next(r for r in new["routes"] if r["courier"] == holder)
    assert picked in route["done"]
    assert _courier_of(new, "A") == holder
    handoff = stop_of(new, "handoff", "A")
    assert clock(handoff["start"]) >= "08:30:00"
    assert [s for s in route["stops"] if s.get("job") == "A"] == []  # no second pickup
    assert route["stops"][0]["load"] == 1  # the dossier rides from the start


def test_courier_starts_from_its_reported_position_at_the_replanning_time() -> None:
    """A courier reported at a place at 10:00 starts its remaining day there, not at po."""
    req, morning = _morning()
    new = replan(req, morning, now="10:00", positions={"c1": {"lat": 9.2, "lon": 105.2}})
    for route in new["routes"]:
        first = route["stops"][0]
        assert first["type"] == "start"
        if route["courier"] == "c1":
            assert (first["lat"], first["lon"]) == (9.2, 105.2)
        assert clock(first["depart"]) >= "10:00:00"


def test_added_and_cancelled_jobs_are_reported_and_nothing_else_moves() -> None:
    """Adding C and cancelling B: C is added, B cancelled, A and R stay on their couriers."""
    req, morning = _morning()
    new = replan(
        req,
        morning,
        now="08:00",
        added_jobs=[_home(pickup("C", ["12:00", "13:00"]))],
        cancelled_jobs=["B"],
        positions={},
    )
    kinds = {c["job"]: c["change"] for c in new["changes"]}
    assert kinds == {"C": "added", "B": "cancelled"}
    assert {u["job"]: u["reason"] for u in new["unassigned"]} == {"B": "cancelled"}
    for job in ("A", "R"):
        assert _courier_of(new, job) == _courier_of(morning, job)


def test_fully_done_jobs_leave_the_plan() -> None:
    """A job whose every stop is done is neither routed nor unassigned, and not counted again."""
    req, morning = _morning()
    new = replan(req, morning, now="09:00", done=["A"])
    assert all(u["job"] != "A" for u in new["unassigned"])
    with pytest.raises(AssertionError):
        _courier_of(new, "A")
    assert new["kpis"]["jobs"] == 2


def test_replan_rejects_unknown_jobs_and_times() -> None:
    """A done id that is not a job, or a bad time, is a RequestError naming it."""
    req, morning = _morning()
    with pytest.raises(RequestError, match="ZZ"):
        replan(req, morning, now="09:00", done=["ZZ"])
    with pytest.raises(RequestError, match="now"):
        replan(req, morning, now="nine o'clock")


def test_a_result_in_hand_whose_window_is_lost_stays_on_its_courier_marked_late() -> None:
    """R collected, then re-planned at 14:59 with R's window closing at 15:00, 5+ km away.

    The result stays in the bag: its delivery is planned on the same courier as soon as
    possible, marked ``late``, and reported as a ``late`` change, never dropped.
    """
    req, morning = _morning()
    holder = _courier_of(morning, "R")
    new = replan(req, morning, now="14:59", done=["A", "B", {"job": "R", "type": "collect"}])
    assert all(u["job"] != "R" for u in new["unassigned"])
    delivery = stop_of(new, "delivery", "R")
    assert delivery["late"] is True
    assert _courier_of(new, "R") == holder
    assert {"job": "R", "change": "late", "from": holder, "to": holder} in new["changes"]
