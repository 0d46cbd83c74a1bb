"""Breaks are written where the courier rests, with every leg running from place to place.

The day is on the straight road of :mod:`tests.routing.helpers` (travel in minutes is the
distance along it). One courier, 07:00–17:00, owes a lunch of exactly 11:00–12:00 (60 min in
an 11:00–12:00 window), so the solver has no say over when it rests, only where:

- R1, a result collected at ``po`` (ready 07:00), is delivered at its home 40 min out, in a
  window that opens and closes at once; service 5 min.
- P2 is picked up 20 min further out (60 min from ``po``), handed over at ``po`` (no run).
"""

from __future__ import annotations

import itertools
from typing import Any

from routing.checker import check_plan
from routing.plan import plan_from_json
from tests.routing.helpers import clock, courier, request, ret, solve_checked, stops

LUNCH = {"earliest": "11:00", "latest": "12:00", "duration_min": 60}


def _day(r1_at: str, p2_window: list[str]) -> dict[str, Any]:
    jobs = [
        ret("R1", [r1_at, r1_at], "07:00", lat=9.11, lon=105.11),
        {
            "id": "P2",
            "kind": "pickup",
            "dossier": "H12.22-P2",
            "lat": 9.12,
            "lon": 105.12,
            "window": p2_window,
            "service_min": 10,
            "handoff_site": "po",
        },
    ]
    return request(jobs, {"R1": 40.0, "P2": 60.0}, couriers=[courier(breaks=[LUNCH])])


def _around_break(plan: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    route = stops(plan)
    i = next(i for i, s in enumerate(route) if s["type"] == "break")
    return route[i - 1], route[i], route[i + 1]


def test_a_break_with_no_time_to_ride_first_is_taken_at_the_stop_before_it() -> None:
    """R1 at 10:45 (leaves 10:50); P2 opens 12:20. Riding on first (20 min) would reach P2 at
    11:10, after the lunch must begin: the courier rests at R1's home 11:00–12:00, then rides
    12:00 → 12:20 and serves P2 at 12:20, as it opens. The solver's timeline had it ride 10 min,
    rest by the road, ride 10 min more; the plan says where the courier really is."""
    plan = solve_checked(_day("10:45", ["12:20", "12:40"]))
    before, lunch, after = _around_break(plan)
    assert (before["type"], before["job"]) == ("delivery", "R1")
    assert (lunch["lat"], lunch["lon"]) == (9.11, 105.11)  # R1's home
    assert "site" not in lunch
    assert [clock(lunch[k]) for k in ("arrive", "start", "depart")] == [
        "10:50:00",  # R1's depart: no ride
        "11:00:00",
        "12:00:00",
    ]
    assert (after["job"], clock(after["arrive"]), clock(after["start"])) == (
        "P2",
        "12:20:00",  # 12:00 + 20 min of ride
        "12:20:00",
    )


def test_a_break_after_riding_on_is_taken_at_the_next_stop_then_it_waits() -> None:
    """R1 at 10:25 (leaves 10:30); P2 closes 12:10. Resting first would reach P2 at 12:20, too
    late, so the courier rides on (10:30 → 10:50), rests at P2's home 11:00–12:00 and serves P2
    at 12:00: "break 11:00–12:00 at P2, arrive at P2 12:00" with the ride before the break."""
    plan = solve_checked(_day("10:25", ["11:50", "12:10"]))
    before, lunch, after = _around_break(plan)
    assert (before["job"], clock(before["depart"])) == ("R1", "10:30:00")
    assert (lunch["lat"], lunch["lon"]) == (9.12, 105.12)  # P2's home
    assert [clock(lunch[k]) for k in ("arrive", "start", "depart")] == [
        "10:50:00",  # 10:30 + 20 min of ride
        "11:00:00",
        "12:00:00",
    ]
    assert (after["job"], clock(after["arrive"]), clock(after["start"])) == (
        "P2",
        "12:00:00",  # already there: no ride after the break
        "12:00:00",
    )


def test_every_placed_break_runs_in_order_from_place_to_place() -> None:
    """On both days, each stop is reached after the one before departs plus the ride between
    their places (the break's place included), and each stop's times run forwards."""
    for r1_at, p2_window in (("10:45", ["12:20", "12:40"]), ("10:25", ["11:50", "12:10"])):
        req = _day(r1_at, p2_window)
        plan = solve_checked(req)
        route = stops(plan)
        for stop in route:
            times = [stop[k] for k in ("arrive", "start", "depart") if k in stop]
            assert times == sorted(times), stop
        for prev, nxt in itertools.pairwise(route):
            assert nxt["arrive"] >= prev["depart"], (prev, nxt)
        assert check_plan(req, plan) == []


def test_a_plan_whose_breaks_have_no_place_still_reads_and_checks() -> None:
    """Plans stored before breaks had a place (a break with only ``start`` and ``depart``)
    still read into the typed plan, write back unchanged and pass the checker."""
    req = _day("10:25", ["11:50", "12:10"])
    plan = solve_checked(req)
    for stop in stops(plan):
        if stop["type"] == "break":
            for key in ("arrive", "site", "lat", "lon"):
                stop.pop(key, None)
    assert plan_from_json(plan).to_json() == plan
    assert check_plan(req, plan) == []


def test_a_break_across_a_long_ride_is_taken_by_the_way() -> None:
    """R1 at 10:25 (leaves 10:30), then a 120-min ride out to P2 (window 12:30–13:10), with
    30 min of rest owed within 11:00–12:00. Riding first reaches P2 at 12:30, too late to rest
    by 12:00; resting at R1 first reaches P2 at 13:30, after its window. So the courier rides
    30 min, rests by the road 11:00–11:30, a quarter of the way, and rides on to P2 at 13:00."""
    lunch = {"earliest": "11:00", "latest": "12:00", "duration_min": 30}
    jobs = [
        ret("R1", ["10:25", "10:25"], "07:00", lat=9.11, lon=105.11),
        {
            "id": "P2", "kind": "pickup", "dossier": "H12.22-P2", "lat": 9.15, "lon": 105.15,
            "window": ["12:30", "13:10"], "service_min": 10, "handoff_site": "po",
        },
    ]  # fmt: skip
    req = request(jobs, {"R1": 10.0, "P2": 130.0}, couriers=[courier(breaks=[lunch])])
    plan = solve_checked(req)
    before, rest, after = _around_break(plan)
    assert (before["job"], clock(before["depart"])) == ("R1", "10:30:00")
    assert "site" not in rest
    assert (rest["lat"], rest["lon"]) == (9.12, 105.12)  # 30 of the 120 min from R1 to P2
    assert [clock(rest[k]) for k in ("arrive", "start", "depart")] == [
        "11:00:00",
        "11:00:00",
        "11:30:00",
    ]
    assert (after["job"], clock(after["arrive"])) == ("P2", "13:00:00")  # 90 min more
