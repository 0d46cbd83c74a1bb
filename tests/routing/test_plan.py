"""The optimizer on tiny requests whose plans can be worked out by hand.

Every plan here also passes the independent checker (``helpers.solve_checked``).
"""

from __future__ import annotations

from datetime import datetime

from tests.routing.helpers import (
    clock,
    courier,
    pickup,
    reasons,
    request,
    ret,
    solve_checked,
    stop_of,
    stops,
)


def _s(iso_time: str) -> int:
    t = datetime.fromisoformat(iso_time)
    return t.hour * 3600 + t.minute * 60 + t.second


def test_pickup_waits_for_the_booked_window_and_the_route_is_timed_by_the_matrix() -> None:
    """A pickup 10 min from po, window 09:00–10:00, is served at 09:00 and timed by the matrix.

    Worked out: leave po 08:50, arrive 09:00 (10 min), serve 10 min → depart 09:10, back at po
    09:20 (10 min), hand over 2 min → 09:22. Distance 5 km + 5 km = 10 km.
    """
    plan = solve_checked(request([pickup("P1", ["09:00", "10:00"])], {"P1": 10}))
    p = stop_of(plan, "pickup", "P1")
    assert (clock(p["arrive"]), clock(p["start"]), clock(p["depart"])) == (
        "09:00:00",
        "09:00:00",
        "09:10:00",
    )
    h = stop_of(plan, "handoff", "P1")
    assert (clock(h["start"]), clock(h["depart"])) == ("09:20:00", "09:22:00")
    assert plan["routes"][0]["distance_km"] == 10.0
    assert plan["kpis"] == plan["kpis"] | {"jobs": 1, "served": 1, "runs_missed": 0}
    assert plan["status"] == "complete"


def test_earliest_catchable_run_is_chosen() -> None:
    """A pickup done by 08:30 makes the 10:00 run; one booked 10:00–11:00 catches the 14:00 run.

    P1: window 08:00–09:00, 10 min away: at po by 08:30 ≤ cut-off 09:50 → run-1000.
    P2: window 10:00–11:00, 10 min away: at po at 10:20 at best > 09:50, ≤ 13:50 → run-1400.
    (The 08:00 run's cut-off, 07:50, is before either window opens.)
    """
    req = request(
        [pickup("P1", ["08:00", "09:00"]), pickup("P2", ["10:00", "11:00"])],
        {"P1": 10, "P2": 10},
    )
    plan = solve_checked(req)
    assert stop_of(plan, "handoff", "P1")["shuttle"] == "run-1000"
    assert stop_of(plan, "handoff", "P2")["shuttle"] == "run-1400"
    assert plan["kpis"]["runs_missed"] == 0


def test_a_pickup_after_the_last_cutoff_misses_every_run() -> None:
    """A pickup booked 16:00–16:30 cannot reach po before the last cut-off (15:50).

    It is still collected and handed over, with ``shuttle: null``, and counted as a missed run.
    """
    plan = solve_checked(request([pickup("P1", ["16:00", "16:30"])], {"P1": 10}))
    h = stop_of(plan, "handoff", "P1")
    assert h["shuttle"] is None
    assert plan["kpis"]["runs_missed"] == 1


def test_a_return_is_collected_no_earlier_than_it_is_ready() -> None:
    """A result ready at po at 10:20 is collected at 10:20, not when the courier could come.

    The home is 15 min away with window 09:00–12:00: collect 10:20–10:22, deliver 10:37.
    """
    plan = solve_checked(request([ret("R1", ["09:00", "12:00"], "10:20")], {"R1": 15}))
    c = stop_of(plan, "collect", "R1")
    assert clock(c["start"]) == "10:20:00"
    d = stop_of(plan, "delivery", "R1")
    assert clock(d["start"]) == "10:37:00"
    assert [s["load"] for s in stops(plan) if "load" in s] == [0, 1, 0]


def test_capacity_one_makes_the_courier_go_back_to_the_site_between_pickups() -> None:
    """With room for one dossier, three pickups need three separate trips back to po.

    Loads after each stop alternate 1, 0, 1, 0, 1, 0, and po is visited three times (multi-trip).
    """
    jobs = [pickup(f"P{i}", ["08:00", "12:00"]) for i in (1, 2, 3)]
    req = request(jobs, {"P1": 5, "P2": 6, "P3": 7}, couriers=[courier(capacity=1)])
    plan = solve_checked(req)
    route = stops(plan)
    loads = [s["load"] for s in route if s["type"] in ("pickup", "handoff")]
    assert loads == [1, 0, 1, 0, 1, 0]
    assert sum(s["type"] == "handoff" for s in route) == 3


def test_capacity_two_carries_two_dossiers_in_one_trip() -> None:
    """With room for two, two neighbouring pickups share one hand-off stop at po (load 2 → 0)."""
    jobs = [pickup("P1", ["08:00", "09:00"]), pickup("P2", ["08:00", "09:00"])]
    req = request(jobs, {"P1": 10, "P2": 11}, couriers=[courier(capacity=2)])
    plan = solve_checked(req)
    route = stops(plan)
    assert max(s.get("load", 0) for s in route) == 2
    handoffs = [s for s in route if s["type"] == "handoff"]
    assert len(handoffs) == 1
    assert sorted(handoffs[0]["jobs"]) == ["P1", "P2"]


def test_lunch_break_is_taken_inside_its_window_for_its_duration() -> None:
    """A 60-min lunch to take within 11:00–13:30 appears once, lasting 60 min, in that window.

    The only job is at 12:00–12:30, 10 min away, so the break must fit around it.
    """
    c = courier(breaks=[{"earliest": "11:00", "latest": "13:30", "duration_min": 60}])
    plan = solve_checked(request([pickup("P1", ["12:00", "12:30"])], {"P1": 10}, couriers=[c]))
    brk = [s for s in stops(plan) if s["type"] == "break"]
    assert len(brk) == 1
    start, end = _s(brk[0]["start"]), _s(brk[0]["depart"])
    assert end - start == 3600
    assert start >= 11 * 3600 and end <= 13 * 3600 + 1800


def test_skills_send_a_boat_job_to_the_boat_courier() -> None:
    """A job needing ``boat`` is served by the courier with that skill, never the other."""
    jobs = [pickup("P1", ["08:00", "12:00"], skills=["boat"])]
    cs = [courier("road"), courier("boatman", mode="boat", skills=["boat"])]
    plan = solve_checked(request(jobs, {"P1": 10}, couriers=cs))
    assert [r["courier"] for r in plan["routes"]] == ["boatman"]


def test_site_opening_hours_bound_the_handoff() -> None:
    """A hand-off site open only from 09:00: a pickup done at 08:10 is handed over at 09:00."""
    sites = [
        {
            "id": "po",
            "kind": "post_office",
            "lat": 9.17,
            "lon": 105.15,
            "opening": ["09:00", "17:00"],
        },
        {"id": "centre", "kind": "centre", "lat": 9.18, "lon": 105.16},
    ]
    c = courier(shift=["07:30", "17:00"])
    plan = solve_checked(
        request([pickup("P1", ["08:00", "08:30"])], {"P1": 5}, couriers=[c], sites=sites)
    )
    assert clock(stop_of(plan, "handoff", "P1")["start"]) == "09:00:00"


def test_urgent_return_due_today_wins_over_one_due_next_week() -> None:
    """Two returns at opposite ends of the road, both 09:00–09:10; one courier serves one.

    R_far is 60 min one way, R_near 60 min the other: no courier can do both in 10 minutes.
    The one due on the plan date is served; the other is unassigned with ``no_time``.
    """
    jobs = [
        ret("R_week", ["09:00", "09:10"], "07:00", due="2026-11-30"),
        ret("R_today", ["09:00", "09:10"], "07:00", due="2026-11-23", origin_site="po"),
    ]
    plan = solve_checked(request(jobs, {"R_week": 60, "R_today": -60}))
    assert reasons(plan) == {"R_week": "no_time"}
    stop_of(plan, "delivery", "R_today")


def test_two_couriers_share_jobs_that_one_cannot_do_alone() -> None:
    """Two pickups at 09:00–09:10 at opposite ends of the road need both couriers."""
    jobs = [pickup("A", ["09:00", "09:10"]), pickup("B", ["09:00", "09:10"])]
    plan = solve_checked(
        request(jobs, {"A": 40, "B": -40}, couriers=[courier("c1"), courier("c2")])
    )
    assert plan["unassigned"] == []
    assert sorted(r["courier"] for r in plan["routes"]) == ["c1", "c2"]


def test_plan_json_shape() -> None:
    """The plan has the keys of DESIGN §4 and times in ISO 8601 with +07:00."""
    plan = solve_checked(request([pickup("P1", ["09:00", "10:00"])], {"P1": 10}))
    assert {"plan_id", "date", "status", "routes", "unassigned", "kpis"} <= plan.keys()
    first = stops(plan)[0]
    assert first["type"] == "start" and first["site"] == "po"
    assert first["depart"].endswith("+07:00")
    assert stops(plan)[-1]["type"] == "end"


def test_progress_is_reported_while_searching() -> None:
    """``on_progress`` receives improving costs with growing elapsed times."""
    seen = []
    solve_checked(request([pickup("P1", ["09:00", "10:00"])], {"P1": 10}), on_progress=seen.append)
    assert seen, "at least the first solution is reported"
    costs = [p.best_cost for p in seen]
    assert costs == sorted(costs, reverse=True)
    assert all(p.elapsed_s >= 0 and p.solutions >= 1 for p in seen)


def test_a_solution_limit_gives_the_same_plan_each_time() -> None:
    """``options.solution_limit`` stops the search after that many solutions: two plans of one
    request are equal but for their id and run time, and report exactly that many solutions."""
    req = request(
        [pickup("P1", ["09:00", "12:00"]), pickup("P2", ["09:00", "12:00"])],
        {"P1": 10, "P2": 25},
        couriers=[courier("c1"), courier("c2")],
    )
    req["options"] = {"time_limit_s": 60, "solution_limit": 12}
    first, second = solve_checked(req), solve_checked(req)
    assert first["kpis"]["solver"]["solutions"] == second["kpis"]["solver"]["solutions"] == 12
    for plan in (first, second):
        del plan["plan_id"], plan["kpis"]["solver"]["seconds"]
    assert first == second
