"""Districts solved at once in worker processes, couriers lent across districts, idle time.

Every search here stops on its solution count (``solution_limit``), so the plans do not depend
on how fast or busy the machine is; time limits only bound a search gone wrong.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import pytest

from routing import parallel, planner
from routing.dossiers import build_problem
from routing.idle import IDLE_WARN_MIN, idle_while_unserved
from routing.plan import Plan, Route, Stop, Unassigned
from routing.request import RequestError, parse_request
from routing.sample_day import camau_day
from tests.routing.helpers import courier, pickup, request, solve_checked

SITES = [
    {"id": "po", "kind": "post_office", "lat": 9.17, "lon": 105.15},
    {"id": "centre", "kind": "centre", "lat": 9.18, "lon": 105.16},
    {"id": "po2", "kind": "post_office", "lat": 8.90, "lon": 105.00},
]


def _routes_by_courier(plan: dict[str, Any]) -> dict[str, list[Any]]:
    return {r["courier"]: r["stops"] for r in plan["routes"]}


def _served(plan: dict[str, Any]) -> set[str]:
    return {
        s["job"] for r in plan["routes"] for s in r["stops"] if s["type"] in ("pickup", "delivery")
    }


def _sample_day(workers: int) -> dict[str, Any]:
    day = camau_day(jobs=50, seed=3, couriers=30)  # couriers to spare: an easy day
    day["options"] = {"time_limit_s": 60, "solution_limit": 30, "workers": workers}
    return day


def test_a_province_day_solved_by_two_workers_is_the_serial_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 50-job sample day cut into its nine post offices' districts (the threshold lowered from
    150 jobs), planned by two worker processes and by one: every job served by both, the same
    routes stop for stop, and both plans pass the checker.

    With ``solution_limit`` each district's search ends on its count of solutions, so which
    process solved it, and when, changes nothing.
    """
    monkeypatch.setattr(planner, "DISTRICT_JOBS", 1)
    serial = solve_checked(_sample_day(1))
    both = solve_checked(_sample_day(2))
    assert serial["kpis"]["solver"]["districts"] > 2
    assert (serial["kpis"]["solver"]["workers"], both["kpis"]["solver"]["workers"]) == (1, 2)
    assert serial["unassigned"] == both["unassigned"] == []
    assert _routes_by_courier(both) == _routes_by_courier(serial)


def test_each_district_search_keeps_within_the_time_limit() -> None:
    """Districts solved in worker processes with only a time limit (no solution limit): the
    search seconds each worker reports stay within the limit, whatever the machine's speed.

    The shares of the districts (the second worker's districts start later) are each cut to
    the time left, so no reported search may exceed the whole limit (plus OR-Tools' own
    stopping, which it checks between moves: a second is allowed, for a machine loaded many
    times over). A district left without time still answers, every job routed or unassigned.
    """
    req = parse_request(camau_day(jobs=170, seed=3), time_limit_s=1.0)
    parts = planner.districts(req)
    tasks = [parallel._Task(parallel._sub(req, cs, js), len(js)) for cs, js in parts]
    pool = parallel._Processes(2, None)
    try:
        plans = pool.run(tasks, time.monotonic() + 1.0, lambda i, p: None)
    finally:
        pool.close()
    assert len(plans) == len(parts)
    for (_, jobs), plan in zip(parts, plans, strict=True):
        assert plan.kpis is not None and plan.kpis.solver is not None
        assert plan.kpis.solver.seconds <= 1.0 + 1.0
        assert {u.job for u in plan.unassigned} | set(plan.job_couriers()) == {
            req.jobs[j].id for j in jobs
        }


def test_a_task_share_never_passes_the_time_left() -> None:
    """Worked shares: 10 s left on 2 workers with nothing running is 20 core-seconds; a
    district of 30 of the 60 jobs still waiting gets 20 × 30 / 60 = 10 s, one of 6 gets 2 s;
    a task never gets more than the 10 s left, nor less than the minimum."""
    assert parallel._share(10.0, 20.0, 30, 60) == pytest.approx(10.0)
    assert parallel._share(10.0, 20.0, 6, 60) == pytest.approx(2.0)
    assert parallel._share(10.0, 20.0, 60, 60) == pytest.approx(10.0)
    assert parallel._share(-1.0, -2.0, 5, 60) == parallel.MIN_SHARE_S


def _lending_day(workers: int) -> dict[str, Any]:
    """Four pickups at ``po`` for c1, whose one-hour shift holds two; c2 at ``po2`` has one job
    of its own and a whole day free.

    Homes A1–A4 sit 10 min from ``po`` and 10 min from ``po2`` (20 min apart). c1 rides 10 min
    out, serves 15 min a home, rides back 10 min: two homes take 50 min, three 65 > 60.
    """
    jobs = [pickup(f"A{i}", ["07:00", "12:00"], service_min=15) for i in range(1, 5)]
    jobs.append(pickup("D", ["08:00", "12:00"], handoff_site="po2", destination_site=None))
    couriers = [
        courier("c1", shift=["07:00", "08:00"]),
        courier("c2", start_site="po2", end_site="po2"),
    ]
    pos = {"A1": 10, "A2": 10, "A3": 10, "A4": 10, "D": 25, "po2": 20}
    day = request(jobs, pos, couriers=couriers, sites=SITES)
    # Starting a worker process takes seconds on a busy machine: a generous time limit, so
    # the search still stops on its solution count.
    day["options"] |= {"workers": workers, "time_limit_s": 60}
    return day


@pytest.mark.parametrize("workers", [1, 2])
def test_a_courier_with_free_time_is_lent_to_the_district_whose_jobs_wait(
    monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """c1's district leaves two pickups for ``no_time``; c2, based at the neighbouring office
    with hours free, is lent: it serves them too, hands them over at ``po`` and goes home.

    Every job is served, two of them by the lent courier, and the plan passes the checker.
    """
    monkeypatch.setattr(planner, "DISTRICT_JOBS", 1)
    plan = solve_checked(_lending_day(workers))
    served_by = {
        s["job"]: r["courier"] for r in plan["routes"] for s in r["stops"] if s["type"] == "pickup"
    }
    assert plan["unassigned"] == []
    assert sorted(served_by) == ["A1", "A2", "A3", "A4", "D"]
    assert sum(1 for j in ("A1", "A2", "A3", "A4") if served_by[j] == "c2") == 2
    assert served_by["D"] == "c2"
    assert plan["kpis"]["solver"]["lent"] == 2
    handed_at_po = [
        s for s in _routes_by_courier(plan)["c2"] if s["type"] == "handoff" and s["site"] == "po"
    ]
    assert sum(len(s["jobs"]) for s in handed_at_po) == 2


def test_an_office_with_no_job_lends_its_courier(monkeypatch: pytest.MonkeyPatch) -> None:
    """c2's office ``po2`` has no job today, so it is in no district; c3's office ``po3`` has
    one but lies over :data:`routing.parallel.LEND_MAX_KM` from ``po``. c2 is lent to c1's
    district and serves the two pickups c1 cannot."""
    monkeypatch.setattr(planner, "DISTRICT_JOBS", 1)
    jobs = [pickup(f"A{i}", ["07:00", "12:00"], service_min=15) for i in range(1, 5)]
    jobs.append(pickup("X", ["08:00", "12:00"], handoff_site="po3", destination_site=None))
    couriers = [
        courier("c1", shift=["07:00", "08:00"]),
        courier("c2", start_site="po2", end_site="po2"),
        courier("c3", start_site="po3", end_site="po3"),
    ]
    far = {"id": "po3", "kind": "post_office", "lat": 8.60, "lon": 104.80}
    pos = {"A1": 10, "A2": 10, "A3": 10, "A4": 10, "X": 65, "po2": 20, "po3": 60}
    day = request(jobs, pos, couriers=couriers, sites=[*SITES, far])
    day["options"] |= {"time_limit_s": 60}  # time enough to lend (LEND_AFTER_S a district)
    named = [
        sorted(day["couriers"][k]["id"] for k in cs)
        for cs, _ in planner.districts(parse_request(day))
    ]
    assert named == [["c1"], ["c3"]]
    plan = solve_checked(day)
    assert plan["unassigned"] == []
    served_by_c2 = [s["job"] for s in _routes_by_courier(plan)["c2"] if s["type"] == "pickup"]
    assert len(served_by_c2) == 2
    assert plan["kpis"]["solver"]["lent"] == 2


def test_idle_minutes_worked_out_by_hand() -> None:
    """One courier, P1 10 min out (window 08:00–08:30), P2 10 min further (10:00–10:30), both
    handed over at ``po`` (no run needed).

    The route leaves at 07:50, serves P1 08:00–08:10, reaches P2 at 08:20 and waits until
    10:00 (100 min idle), serves it until 10:10, rides 20 min back to ``po``: idle 100 min.
    """
    jobs = [
        pickup("P1", ["08:00", "08:30"], destination_site=None),
        pickup("P2", ["10:00", "10:30"], destination_site=None),
    ]
    plan = solve_checked(request(jobs, {"P1": 10, "P2": 20}))
    (route,) = plan["routes"]
    assert [s.get("job") for s in route["stops"] if s["type"] == "pickup"] == ["P1", "P2"]
    assert route["idle_min"] == pytest.approx(100.0)
    assert plan["kpis"]["idle_min"] == pytest.approx(100.0)
    assert plan["kpis"]["idle_while_unserved"] == []


def test_a_courier_free_for_hours_while_its_district_waits_is_reported() -> None:
    """c2 has no route (its 10-hour shift, less a 1-hour break, is free: 540 min) while a job of
    its district waits for ``no_time``; c1's route takes 9 of its 10 hours with 30 min idle
    (free 90 min, under :data:`IDLE_WARN_MIN`). Only c2 is reported."""
    brk = [{"earliest": "11:00", "latest": "13:00", "duration_min": 60}]
    req = parse_request(
        request(
            [pickup("A", ["08:00", "09:00"]), pickup("B", ["08:00", "09:00"])],
            {"A": 10, "B": 10},
            couriers=[courier("c1", breaks=brk), courier("c2", breaks=brk)],
        )
    )
    busy = Route(courier="c1", stops=(), distance_km=1.0, duration_min=540.0, idle_min=30.0)
    waiting = [Unassigned(job="B", reason="no_time")]
    found = idle_while_unserved(req, [busy], waiting, [([0, 1], [0, 1])])
    assert [(w.courier, w.free_min, w.unserved) for w in found] == [("c2", 540.0, 1)]
    assert IDLE_WARN_MIN <= 540.0
    # The same day with the job served, or the job waiting for another reason: nothing.
    assert idle_while_unserved(req, [busy], [], [([0, 1], [0, 1])]) == ()
    late = [Unassigned(job="B", reason="window_unreachable")]
    assert idle_while_unserved(req, [busy], late, [([0, 1], [0, 1])]) == ()


def test_workers_must_be_a_positive_whole_number() -> None:
    """``options.workers`` of 0 or 1,000 is refused, the field named."""
    day = request([pickup("A", ["08:00", "09:00"])], {"A": 10})
    for bad in (0, 1000, "two"):
        day["options"] = {"workers": bad}
        with pytest.raises(RequestError, match=r"options\.workers"):
            parse_request(day)


def test_a_lent_courier_search_starts_from_its_route_before() -> None:
    """A search of one solution from a given route ends on that route (P3, P1, P2), though a
    search of one solution from scratch takes P1 first (its window closes at 08:30)."""
    jobs = [
        pickup("P1", ["08:00", "08:30"], destination_site=None),
        pickup("P2", ["10:00", "10:30"], destination_site=None),
        pickup("P3", ["08:00", "12:00"], destination_site=None),
    ]
    day = request(jobs, {"P1": 10, "P2": 20, "P3": 15})
    day["options"] |= {"solution_limit": 1, "time_limit_s": 30}
    req = parse_request(day)
    hint = Route(
        courier="c1",
        distance_km=0.0,
        stops=(
            Stop(kind="pickup", job="P3"),
            Stop(kind="pickup", job="P1"),
            Stop(kind="handoff", site="po", jobs=("P3", "P1")),
            Stop(kind="pickup", job="P2"),
            Stop(kind="handoff", site="po", jobs=("P2",)),
        ),
    )
    visits = parallel._hint_visits(build_problem(req, None), hint)
    assert visits is not None and len(visits) == 6  # 3 pickups, 3 hand-overs

    def order(plan: Plan) -> list[str]:
        return [s.job or "" for s in plan.routes[0].stops if s.kind == "pickup"]

    scratch = order(parallel.solve_task(parallel._Task(req, 3), None, 30.0, None))
    assert scratch[0] == "P1"
    assert order(parallel.solve_task(parallel._Task(req, 3, (hint,)), None, 30.0, None)) == [
        "P3",
        "P1",
        "P2",
    ]


def test_later_rounds_plan_the_lent_courier_with_the_district_s_couriers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The lending day's first round lends c2 alone (its job D, and the two waiting pickups);
    a later round plans c1 and c2 together with all that c1 and c2 served and the waiting."""
    monkeypatch.setattr(planner, "DISTRICT_JOBS", 1)
    req = parse_request(_lending_day(1))
    parts = planner.districts(req)
    tasks = [parallel._Task(parallel._sub(req, cs, js), len(js)) for cs, js in parts]
    plans = parallel._Serial(None).run(tasks, time.monotonic() + 60, lambda i, p: None)
    waiting = sorted(u.job for u in plans[0].unassigned)
    assert len(waiting) == 2 and set(waiting) < {"A1", "A2", "A3", "A4"}

    def named(loan: Any) -> tuple[list[str], list[str], list[str]]:
        ids = [j.id for j in req.jobs]
        crew = [req.couriers[k].id for k in loan.crew]
        return crew, sorted(ids[j] for j in loan.own), sorted(ids[j] for j in loan.wanted)

    (alone,) = parallel._loans(req, parts, plans, set(), together=False)
    assert named(alone) == (["c2"], ["D"], waiting)
    (both,) = parallel._loans(req, parts, plans, set(), together=True)
    served_by_c1 = sorted({"A1", "A2", "A3", "A4"} - set(waiting))
    assert named(both) == (["c1", "c2"], sorted([*served_by_c1, "D"]), waiting)


def test_a_district_whose_solve_fails_fails_the_plan_and_stops_the_workers() -> None:
    """A worker whose solve raises (here a district naming a site the day does not have) sends
    the error back: the plan fails with it in words, and no worker process is left running."""
    req = parse_request(_lending_day(2))
    broken = replace(req, sites={k: v for k, v in req.sites.items() if k != "po2"})
    tasks = [parallel._Task(req, 5), parallel._Task(broken, 5)]
    pool = parallel._Processes(2, None)
    try:
        with pytest.raises(RuntimeError, match="a district's solve failed: KeyError"):
            pool.run(tasks, time.monotonic() + 60, lambda i, p: None)
    finally:
        pool.close()
    assert all(w.proc.returncode is not None for w in pool.all)


def test_no_courier_is_lent_when_the_districts_are_short_of_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The lending day with a 3 s limit, one process and two districts: each district may
    search 1.5 s, under :data:`routing.parallel.LEND_AFTER_S`, so the districts get the whole
    limit and c1's two waiting pickups stay unassigned (``no_time``)."""
    monkeypatch.setattr(planner, "DISTRICT_JOBS", 1)
    day = _lending_day(1)
    day["options"] |= {"time_limit_s": 3}
    assert parallel.LEND_AFTER_S > 3 * 1 / 2
    plan = solve_checked(day)
    assert plan["kpis"]["solver"]["lent"] == 0
    assert [u["reason"] for u in plan["unassigned"]] == ["no_time", "no_time"]
