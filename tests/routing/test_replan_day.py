"""Re-planning through a whole day keeps what is done and every dossier in a bag.

Hand-checked on the straight road of :mod:`tests.routing.helpers` (minutes along the road are
the travel times). The dispatcher re-plans as couriers' shifts end and once more at 21:00, each
re-plan from the one before, with what the couriers have done by then: every stop departed by
that time, as the scans would say. Two failures seen in the field are reproduced here: a
re-plan at 11:30 that left a collected dossier off its courier's list, and a re-plan at 21:00
that listed done jobs as ``window_unreachable`` and dropped them from the route.
"""

from __future__ import annotations

import json
from typing import Any

from routing import plan_request, replan
from routing.checker import check_plan
from routing.replan import bags_only, finish_replan, prepare_replan
from routing.solver import solve
from tests.routing.helpers import DAY, courier, pickup, request, ret, stop_of


def _home(job: dict[str, Any], n: int) -> dict[str, Any]:
    return job | {"lat": 9.1 + n / 100, "lon": 105.1 + n / 100}  # each home its own point


def _day() -> dict[str, Any]:
    """c1 works 07:00–12:00 and c2 07:00–17:00, both from ``po``; four jobs through the day."""
    jobs = [
        _home(pickup("A", ["08:00", "09:00"]), 1),
        _home(pickup("B", ["09:00", "10:00"]), 2),
        _home(ret("R", ["13:00", "15:00"], "10:00"), 3),
        _home(pickup("C", ["14:00", "16:00"]), 4),
    ]
    couriers = [courier("c1", shift=["07:00", "12:00"]), courier("c2")]
    return request(jobs, {"A": 10.0, "B": 20.0, "R": 15.0, "C": 25.0}, couriers=couriers)


def _job_stops(plan: dict[str, Any], key: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (route["courier"], stop)
        for route in plan["routes"]
        for stop in route.get(key, [])
        if stop["type"] not in ("start", "end", "break")
    ]


def _done_by(plan: dict[str, Any], now: str) -> list[dict[str, str]]:
    """The job stops departed by ``now`` (HH:MM), done before included: what scans report."""
    moment = f"{DAY}T{now}:00+07:00"
    return [
        {"job": job, "type": stop["type"]}
        for key in ("done", "stops")
        for _, stop in _job_stops(plan, key)
        if stop["depart"] <= moment
        for job in ([stop["job"]] if "job" in stop else stop["jobs"])
    ]


def _undeclared(req: dict[str, Any], plan: dict[str, Any]) -> list[str]:
    return [str(v) for v in check_plan(req, plan) if v.code != "late_declared"]


def test_replans_after_every_shift_keep_the_day_as_it_was() -> None:
    """Re-plans at 12:00 (c1's shift ends), 17:00 (c2's) and 21:00, each from the one before.

    Every done stop stays, byte for byte, on its courier's ``done`` list; no done job is ever
    unassigned or routed again; the plans keep every promise. At 17:00 C's dossier is reported
    picked up but not handed over: it stays in c2's bag, and c2 is routed to hand it over at
    ``po`` after its shift, the route's end marked late, at 17:00 and again at 21:00.
    """
    req = _day()
    plan = plan_request(req)
    assert plan["unassigned"] == []
    holder_c = next(c for c, s in _job_stops(plan, "stops") if s.get("job") == "C")
    for now in ("12:00", "17:00", "21:00"):
        done = _done_by(plan, now)
        if now != "12:00":
            done = [d for d in done if (d["job"], d["type"]) != ("C", "handoff")]
        new = replan(req, plan, now=now, done=done)
        wanted = {(d["job"], d["type"]) for d in done}
        before = {
            (c, json.dumps(s, sort_keys=True))
            for key in ("done", "stops")
            for c, s in _job_stops(plan, key)
            if all((j, s["type"]) in wanted for j in ([s["job"]] if "job" in s else s["jobs"]))
        }
        kept = {(c, json.dumps(s, sort_keys=True)) for c, s in _job_stops(new, "done")}
        assert before <= kept, f"{now}: a done stop was lost"
        finished = {j for j, t in wanted if t in ("handoff", "delivery")}
        assert not {u["job"] for u in new["unassigned"]} & {j for j, _ in wanted}, now
        assert not finished & {s.get("job") for _, s in _job_stops(new, "stops")}, now
        assert _undeclared(req, new) == [], now
        plan = new
    # 21:00: C still in c2's bag, handed over late after the shift; nothing else to do.
    handoff = stop_of(plan, "handoff", "C")
    route = next(r for r in plan["routes"] if r["courier"] == holder_c)
    assert handoff in route["stops"]
    assert route["stops"][0]["load"] == 1
    assert route["stops"][-1].get("late") is True
    assert [s["type"] for s in route["stops"]] == ["start", "handoff", "end"]


def test_a_second_replan_at_1130_keeps_the_dossier_collected_before_the_first() -> None:
    """P1 is picked up at 09:00 and re-planned at 10:30 with its hand-off still to make. At
    11:30 the dispatcher re-plans again: the scans list no new stop (the pickup lives on the
    10:30 plan's ``done`` list, not among its stops). The dossier stays in c1's bag with its
    hand-off on c1's list, never picked up twice nor unassigned."""
    req = request([pickup("P1", ["09:00", "10:00"])], {"P1": 30.0})
    morning = plan_request(req)
    picked = stop_of(morning, "pickup", "P1")
    first = replan(req, morning, now="10:30", done=[{"job": "P1", "type": "pickup"}])
    second = replan(req, first, now="11:30", done=[])
    assert second["unassigned"] == []
    route = second["routes"][0]
    assert route["courier"] == "c1"
    assert picked in route["done"]
    assert [s["type"] for s in route["stops"]] == ["start", "handoff", "end"]
    assert route["stops"][0]["load"] == 1
    assert _undeclared(req, second) == []


def test_a_dossier_in_the_bag_after_its_site_closes_is_handed_over_late_not_dropped() -> None:
    """``po`` closes at 12:00. P1 (40 min out, window 10:00–11:00) was picked up, but at 12:30
    its hand-off is still not done: the courier, behind its plan, is taken to be at P1's home,
    40 min from ``po`` (13:10, after closing). The hand-off stays on c1's list, marked late,
    and the change list says so; the checker reports it as a declared late stop only."""
    sites = [
        {
            "id": "po",
            "kind": "post_office",
            "lat": 9.17,
            "lon": 105.15,
            "opening": ["07:00", "12:00"],
        },
        {"id": "centre", "kind": "centre", "lat": 9.18, "lon": 105.16},
    ]
    job = pickup("P1", ["10:00", "11:00"])
    del job["destination_site"]
    req = request([job], {"P1": 40.0}, sites=sites)
    morning = plan_request(req)
    new = replan(req, morning, now="12:30", done=[{"job": "P1", "type": "pickup"}])
    assert new["unassigned"] == []
    handoff = stop_of(new, "handoff", "P1")
    assert handoff["late"] is True
    assert handoff["start"] == f"{DAY}T13:10:00+07:00"  # 12:30 + 40 min of ride
    assert {"job": "P1", "change": "late", "from": "c1", "to": "c1"} in new["changes"]
    assert {v.code for v in check_plan(req, new)} == {"late_declared"}


def _plain_pickup(jid: str, window: list[str], n: int) -> dict[str, Any]:
    job = _home(pickup(jid, window), n)
    del job["destination_site"]  # handed over at po, no run to catch
    return job


def test_when_the_search_runs_out_of_time_the_bags_are_planned_alone() -> None:
    """A search that stops before it places the dossiers in bags (a large day re-planned in
    seconds) must not strand them: A, picked up, is handed over at po on c1's route; B, not yet
    begun, waits for a longer re-plan (``no_time``, saying why)."""
    req = request(
        [_plain_pickup("A", ["08:00", "09:00"], 1), _plain_pickup("B", ["13:00", "14:00"], 2)],
        {"A": 10.0, "B": 20.0},
    )
    morning = plan_request(req)
    prep = bags_only(
        prepare_replan(req, morning, now="09:00", done=[{"job": "A", "type": "pickup"}]), 0.5
    )
    new = finish_replan(prep, solve(prep.built.problem, prep.params)).to_json()
    assert [s["type"] for s in new["routes"][0]["stops"]] == ["start", "handoff", "end"]
    assert stop_of(new, "handoff", "A")["site"] == "po"
    (left,) = new["unassigned"]
    assert (left["job"], left["reason"]) == ("B", "no_time")
    assert "ran out of time (0.5 s)" in left["detail"]
    assert check_plan(req, new) == []


def test_a_courier_left_with_nothing_to_do_rests_then_rides_home() -> None:
    """c1 has picked up and handed over A by 10:00 and has nothing left, with its lunch (60 min
    within 11:00–13:30) still owed: the re-plan has it rest at po 11:00–12:00, where it is,
    and end there, so the day's route keeps its lunch."""
    lunch = {"earliest": "11:00", "latest": "13:30", "duration_min": 60}
    req = request(
        [_plain_pickup("A", ["08:00", "09:00"], 1)],
        {"A": 10.0},
        couriers=[courier("c1", breaks=[lunch])],
    )
    morning = plan_request(req)
    new = replan(req, morning, now="10:00", done=["A"])
    (route,) = new["routes"]
    assert [s["type"] for s in route["stops"]] == ["start", "break", "end"]
    rest = route["stops"][1]
    assert (rest["site"], rest["start"], rest["depart"]) == (
        "po",
        f"{DAY}T11:00:00+07:00",
        f"{DAY}T12:00:00+07:00",
    )
    assert [s["job"] for s in route["done"] if "job" in s] == ["A"]
    assert check_plan(req, new) == []
