"""A generated 300-job Cà Mau day is planned and passes the checker.

How long the answer takes against its time limit is measured by ``benchmarks/scale.py``
(``--jobs 300 --time-limits 3``, field ``overrun_s``), not here: a test must not depend on how
busy the machine is. This search stops after a number of solutions, so its plan is the same on
any machine.
"""

from __future__ import annotations

from routing import plan_request
from routing.checker import check_plan
from routing.sample_day import camau_day


def test_a_300_job_day_is_planned_and_keeps_every_promise() -> None:
    """300 jobs, 26 couriers, 10 districts of 5 solutions each: no violation, every job once,
    and most of them served (about 275 at this limit and 280 after a 10 s search; half is a
    floor that a broken search would miss, not a target)."""
    request = camau_day(jobs=300, seed=0)
    request["options"] = {"time_limit_s": 300, "solution_limit": 5}
    plan = plan_request(request)
    assert check_plan(request, plan) == []
    assert plan["kpis"]["solver"]["districts"] == 10
    routed = {
        s["job"] for r in plan["routes"] for s in r["stops"] if s["type"] in ("pickup", "delivery")
    }
    unassigned = {u["job"] for u in plan["unassigned"]}
    assert routed | unassigned == {j["id"] for j in request["jobs"]}
    assert not routed & unassigned
    assert plan["kpis"]["served"] >= 150
