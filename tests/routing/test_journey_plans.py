"""The optimizer values a hand-off by when its journey through the timetable reaches the
destination, names the journey in the plan, and brings results ready upstream by the runs.

The road of ``tests.routing.helpers``: ``po`` at 0 minutes, ``centre`` at 30, the department
``dept`` at 40, the homes where each test says. The trunk runs ``po → centre`` of the helpers
(08:00, 10:00, 14:00, 16:00; 20 minutes; cut-offs 07:50, 09:50, 13:50, 15:50) plus the
inter-agency runs ``centre → dept`` at 09:00 and 15:00 (20 minutes, 15-minute margin: cut-offs
08:45 and 14:45). Every plan passes the independent checker.
"""

from __future__ import annotations

from typing import Any

import pytest

from routing.plan import plan_from_json
from routing.request import RequestError, parse_request
from tests.routing.helpers import (
    DAY,
    clock,
    pickup,
    reasons,
    request,
    ret,
    runs,
    solve_checked,
    stop_of,
)

SITES = [
    {"id": "po", "kind": "post_office", "lat": 9.17, "lon": 105.15},
    {"id": "centre", "kind": "centre", "lat": 9.18, "lon": 105.16},
    {"id": "dept", "kind": "department", "lat": 9.19, "lon": 105.17},
]


def _run(
    ident: str, frm: str, to: str, departs: str, arrives: str, *, margin: int
) -> dict[str, Any]:
    return {
        "id": ident,
        "from_site": frm,
        "to_site": to,
        "departs": departs,
        "arrives": arrives,
        "handoff_min": margin,
    }


DEPT_RUNS = [
    _run("dept-0900", "centre", "dept", "09:00", "09:20", margin=15),
    _run("dept-1500", "centre", "dept", "15:00", "15:20", margin=15),
]


def _day(jobs: list[dict[str, Any]], positions: dict[str, float], extra_runs: list[Any]) -> Any:
    req = request(jobs, positions | {"dept": 40.0}, sites=SITES)
    req["shuttles"] = runs() + extra_runs
    return req


def test_a_two_leg_journey_is_chosen_over_waiting_for_tomorrow() -> None:
    """P1 (home 10 min from po, window 09:00–09:30) is at po by 09:20 at best, after the 08:00
    trunk: the 10:00 or the 14:00 trunk reaches the centre in time for the 15:00 run to the
    department (cut-off 14:45), which arrives at 15:20. The 14:00 trunk (cut-off 13:50) gives
    the same arrival for a later hand-off, so it is the run offered. No run goes from po to dept
    directly, so before journeys the plan said "no run today"."""
    req = _day([pickup("P1", ["09:00", "09:30"], destination_site="dept")], {"P1": 10}, DEPT_RUNS)
    plan = solve_checked(req)
    handoff = stop_of(plan, "handoff", "P1")
    assert handoff["shuttle"] == "run-1400"
    assert handoff["journeys"] == {
        "P1": {"runs": ["run-1400", "dept-1500"], "reaches": f"{DAY}T15:20:00+07:00"}
    }
    assert (plan["kpis"]["runs_missed"], plan["kpis"]["reaching_today"]) == (0, 1)
    typed = plan_from_json(plan)
    stop = next(s for s in typed.routes[0].stops if s.kind == "handoff")
    assert stop.journeys is not None and stop.journeys["P1"].runs == ("run-1400", "dept-1500")


def test_the_earliest_journey_is_preferred_over_a_later_direct_run() -> None:
    """P1 (home 10 min from po, window 07:00–07:20) can be at po by 07:30, before the 08:00
    trunk's cut-off (07:50): the trunk reaches the centre at 08:20, before the 09:00 run's
    cut-off (08:45), so the dossier reaches dept at 09:20. A direct run po → dept at 11:00
    (cut-off 10:50, arrives 11:40) would let the courier hand over later, but reaches 2 h 20
    later: the solver takes the two legs."""
    direct = _run("direct-1100", "po", "dept", "11:00", "11:40", margin=10)
    req = _day(
        [pickup("P1", ["07:00", "07:20"], destination_site="dept")],
        {"P1": 10},
        [*DEPT_RUNS, direct],
    )
    plan = solve_checked(req)
    handoff = stop_of(plan, "handoff", "P1")
    assert handoff["shuttle"] == "run-0800"
    assert handoff["journeys"]["P1"] == {
        "runs": ["run-0800", "dept-0900"],
        "reaches": f"{DAY}T09:20:00+07:00",
    }
    assert clock(handoff["start"]) <= "07:50:00"


def test_no_journey_today_names_an_empty_journey() -> None:
    """P1 (window 16:00–16:30) reaches po after the last cut-off (15:50): ``shuttle`` null and
    the journey ``{"runs": [], "reaches": null}``; it counts as a missed run."""
    req = _day([pickup("P1", ["16:00", "16:30"], destination_site="dept")], {"P1": 10}, DEPT_RUNS)
    plan = solve_checked(req)
    handoff = stop_of(plan, "handoff", "P1")
    assert handoff["shuttle"] is None
    assert handoff["journeys"] == {"P1": {"runs": [], "reaches": None}}
    assert (plan["kpis"]["runs_missed"], plan["kpis"]["reaching_today"]) == (1, 0)


RESULT_RUNS = [
    _run("back-0830", "centre", "po", "08:30", "09:00", margin=10),
    _run("back-1000", "centre", "po", "10:00", "10:30", margin=10),
]


def test_a_result_ready_upstream_is_collected_when_the_runs_bring_it() -> None:
    """R1's result is ready at the centre at 09:00 (``ready_site``): the 08:30 run back to po
    has gone, the 10:00 one (cut-off 09:50) brings it to po at 10:30. The home is 15 minutes
    from po, window 09:00–12:00: collected at 10:30, delivered at 10:47 (2 minutes at po)."""
    job = ret("R1", ["09:00", "12:00"], "09:00", ready_site="centre")
    plan = solve_checked(_day([job], {"R1": 15}, RESULT_RUNS))
    collect = stop_of(plan, "collect", "R1")
    assert clock(collect["start"]) == "10:30:00"
    assert clock(stop_of(plan, "delivery", "R1")["start"]) == "10:47:00"


def test_a_result_no_run_brings_today_is_unassigned_with_its_reason() -> None:
    """Ready at the centre at 10:30, after the last run back (cut-off 09:50): it cannot reach
    po today, so it is unassigned as ``ready_after_window``, its detail naming the sites. A
    ``ready_site`` the request does not have is ``unknown_site``."""
    late = ret("R1", ["09:00", "17:00"], "10:30", ready_site="centre")
    unknown = ret("R2", ["09:00", "17:00"], "08:00", ready_site="nowhere")
    plan = solve_checked(_day([late, unknown], {"R1": 15, "R2": 15}, RESULT_RUNS))
    assert reasons(plan) == {"R1": "ready_after_window", "R2": "unknown_site"}
    detail = next(u["detail"] for u in plan["unassigned"] if u["job"] == "R1")
    assert "centre" in detail and "po" in detail


def test_a_ready_site_without_its_ready_at_is_refused_naming_the_field() -> None:
    """A result ready "somewhere upstream" with no time cannot be brought by the runs: the
    request is refused, naming ``jobs[0].ready_at``."""
    job = ret("R1", ["09:00", "12:00"], "09:00", ready_site="centre")
    del job["ready_at"]
    with pytest.raises(RequestError, match=r"^jobs\[0\]\.ready_at: is missing"):
        parse_request(_day([job], {"R1": 15}, RESULT_RUNS))
