"""Jobs locked to a courier, and routes re-timed after a hand move, on the straight road.

Times below are worked out by hand from ``tests/routing/helpers.py``: travel between two places
takes ``|a - b|`` minutes and ``|a - b| / 2`` km; a site stop serves 2 minutes; the runs leave
``po`` at 08:00, 10:00, 14:00, 16:00 with cut-offs ten minutes before.
"""

from __future__ import annotations

import numpy as np
import pytest

from routing import engine_pyvrp, planner
from routing.model import ProblemBuilder, TimeWindow, Vehicle, Visit, Weights
from routing.plan import plan_from_json
from routing.replan import replan
from routing.retime import move_job
from tests.routing.helpers import clock, courier, pickup, request, ret, solve_checked, stops
from tests.routing.test_districts import _day


def test_a_lock_across_districts_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """A (at po, c1's district) locked to c2 of po2 is planned in c2's district, on c2."""
    monkeypatch.setattr(planner, "DISTRICT_JOBS", 1)
    day = _day()
    day["jobs"][0]["courier"] = "c2"
    plan = solve_checked(day)
    assert "A" in {s.get("job") for s in stops(plan, "c2")}


def test_pyvrp_cannot_express_a_lock() -> None:
    """A plain one-visit problem goes to PyVRP, unless a visit is allowed to one vehicle only."""

    def plain(vehicles: frozenset[int] | None) -> bool:
        b = ProblemBuilder(horizon_s=86_400, weights=Weights(0, 1))
        b.add_profile("p", np.array([[0, 5], [5, 0]]), np.array([[0, 5], [5, 0]]))
        b.add_vehicle(Vehicle(0, 0, "p", 5, TimeWindow(0, 86_400)))
        b.add_vehicle(Vehicle(0, 0, "p", 5, TimeWindow(0, 86_400)))
        b.add_job([[Visit(1, TimeWindow(0, 86_400), demand=1, vehicles=vehicles)]], penalty=None)
        return engine_pyvrp.can_solve(b.build())

    assert plain(None)
    assert not plain(frozenset({1}))


def test_a_moved_pickup_gets_a_hand_off_that_catches_the_next_run() -> None:
    """A (home at 10 min, 08:00–10:00) moved from c1 to the idle c2.

    c2 leaves po at 07:50, is at A at 08:00, leaves 08:10, hands over at po 08:20–08:22 in time
    for run-1000 (cut-off 09:50; run-0800's 07:50 has passed) and ends there: 10 km, 32 min.
    """
    day = request([pickup("A", ["08:00", "10:00"], courier="c1")], {"A": 10},
                  couriers=[courier("c1"), courier("c2")])  # fmt: skip
    plan = solve_checked(day)
    moved = move_job(day, plan_from_json(plan), "A", "c2")
    assert moved.broken == ()
    out = moved.to_json()
    got = [(s["type"], clock(s["arrive"]), clock(s.get("depart") or s["arrive"]))
           for s in stops(out, "c2")]  # fmt: skip
    assert got == [
        ("start", "07:50:00", "07:50:00"),
        ("pickup", "08:00:00", "08:10:00"),
        ("handoff", "08:20:00", "08:22:00"),
        ("end", "08:22:00", "08:22:00"),
    ]
    assert stops(out, "c2")[2]["shuttle"] == "run-1000"
    route = out["routes"][0]
    assert (route["courier"], route["distance_km"], route["duration_min"]) == ("c2", 10.0, 32.0)
    assert [r["courier"] for r in out["routes"]] == ["c2"]  # c1 has nothing left
    assert out["kpis"]["runs_caught"] == 1


def test_a_moved_return_joins_the_collect_before_it() -> None:
    """R (home at 12, 13:00–15:00) moved before R2 (home at 20) on c2 joins c2's collect.

    c2 leaves po at 10:00 when both results are ready, collects 10:00–10:02 (load 2), is at R
    at 10:14, waits to 13:00, leaves 13:05, at R2 13:13–13:18, back at po 13:38: 6 + 4 + 10 km.
    """
    day = request(
        [ret("R", ["13:00", "15:00"], "10:00", courier="c1"),
         ret("R2", ["13:00", "15:00"], "10:00", courier="c2")],
        {"R": 12, "R2": 20}, couriers=[courier("c1"), courier("c2")],
    )  # fmt: skip
    plan = solve_checked(day)
    moved = move_job(day, plan_from_json(plan), "R", "c2", 0)
    assert moved.broken == ()
    got = [(s["type"], s.get("job") or s.get("jobs"), clock(s["arrive"]), s.get("load"))
           for s in stops(moved.to_json(), "c2")]  # fmt: skip
    assert got == [("start", None, "10:00:00", 0), ("collect", ["R2", "R"], "10:00:00", 2),
                   ("delivery", "R", "10:14:00", 1), ("delivery", "R2", "13:13:00", 0),
                   ("end", None, "13:38:00", None)]  # fmt: skip
    routes = [(r["courier"], r["distance_km"]) for r in moved.to_json()["routes"]]
    assert routes == [("c2", 20.0)]  # c1 has nothing left
    assert moved.request["jobs"][0]["courier"] == "c2"  # the lock follows the move


def test_a_move_that_holds_a_hand_off_past_its_cutoff_is_answered_broken() -> None:
    """R put between A's pickup and A's hand-off keeps A's dossier until after run-1000 left."""
    day = request(
        [pickup("A", ["08:00", "10:00"], courier="c1"),
         ret("R", ["13:00", "15:00"], "10:00", courier="c2")],
        {"A": 10, "R": 12}, couriers=[courier("c1"), courier("c2")],
    )  # fmt: skip
    plan = solve_checked(day)
    moved = move_job(day, plan_from_json(plan), "R", "c1", 1)
    assert {(b.rule, b.courier) for b in moved.broken} == {("cutoff", "c1")}
    assert all("run-1000" in b.words for b in moved.broken)


def test_a_re_planned_route_from_a_position_can_take_a_moved_job() -> None:
    """After a re-plan at 08:30 (c1 has collected A and rides from a reported position), moving
    B to c1 re-times c1's route from that position and keeps its done stops as they were."""
    day = request(
        [pickup("A", ["08:00", "10:00"], courier="c1"),
         pickup("B", ["09:00", "12:00"], courier="c2")],
        {"A": 10, "B": 12}, couriers=[courier("c1"), courier("c2")],
    )  # fmt: skip
    del day["travel"]  # positions are timed by the travel model, not the request's matrix
    morning = solve_checked(day)
    replanned = replan(
        day,
        morning,
        now="08:30",
        positions={"c1": {"lat": 9.15, "lon": 105.14}},
        done=[{"job": "A", "type": "pickup"}],
        time_limit_s=3,
    )
    c1 = next(r for r in replanned["routes"] if r["courier"] == "c1")
    assert c1["stops"][0].get("site") is None  # starts where the courier was
    moved = move_job(day, plan_from_json(replanned), "B", "c1")
    route = next(r for r in moved.plan.routes if r.courier == "c1")
    assert "B" in {s.job for s in route.stops}
    assert route.done == plan_from_json(replanned).route_of("c1").done  # type: ignore[union-attr]
    assert route.stops[0].point == plan_from_json(replanned).route_of("c1").stops[0].point  # type: ignore[union-attr]


def test_re_optimising_starts_from_the_adjusted_routes() -> None:
    """A and B, free, on the road: the first solution puts both on one courier. After B is
    moved by hand to c2, a search stopped at its first solutions from that plan (a warm start)
    still has B on c2; a plan the solver refuses (A after B, at 08:42, past its window that
    closes at 08:30) is ignored, not an error."""
    day = request([pickup("A", ["08:00", "08:30"]), pickup("B", ["08:30", "12:00"])],
                  {"A": 10, "B": 12}, couriers=[courier("c1"), courier("c2")])  # fmt: skip
    day["options"] = {"time_limit_s": 30, "solution_limit": 1}
    cold = solve_checked(day)
    (alone,) = cold["routes"]
    other = "c2" if alone["courier"] == "c1" else "c1"
    moved = move_job(day, plan_from_json(cold), "B", other)
    assert moved.broken == ()
    warm = solve_checked(day, initial_plan=moved.plan.to_json())
    assert "B" in {s.get("job") for s in stops(warm, other)}
    late = move_job(day, plan_from_json(cold), "A", alone["courier"], 1)
    assert {b.rule for b in late.broken} >= {"window"}
    solve_checked(day, initial_plan=late.plan.to_json())


def test_a_move_takes_the_break_where_the_courier_is() -> None:
    """A moved onto c2, who owes a 30-minute break 08:00–09:30: the re-timed route takes the
    break at the place c2 has just left, after leaving it, and breaks no promise of time order
    or place (the break's old place and arrival are not carried over)."""
    lunch = {"earliest": "08:00", "latest": "09:30", "duration_min": 30}
    day = request(
        [pickup("A", ["08:00", "10:00"], courier="c1"), pickup("B", ["08:30", "09:30"])],
        {"A": 10, "B": 20},
        couriers=[courier("c1"), courier("c2", breaks=[lunch])],
    )
    day["jobs"][1]["courier"] = "c2"
    plan = solve_checked(day)
    moved = move_job(day, plan_from_json(plan), "A", "c2")
    assert {b.rule for b in moved.broken} <= {"window", "cutoff", "journey"}
    route = stops(moved.to_json(), "c2")
    breaks = [i for i, s in enumerate(route) if s["type"] == "break"]
    assert len(breaks) == 1
    before, rest = route[breaks[0] - 1], route[breaks[0]]
    assert rest.get("site") == before.get("site")
    assert (rest.get("lat"), rest.get("lon")) == (before.get("lat"), before.get("lon"))
    assert clock(before.get("depart") or before["arrive"]) == clock(rest["arrive"])
    assert clock(rest["arrive"]) <= clock(rest["start"]) < clock(rest["depart"])
