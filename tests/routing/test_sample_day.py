"""A generated 300-job Cà Mau day is planned within its time limit and passes the checker."""

from __future__ import annotations

import time

from routing import plan_request
from routing.checker import check_plan
from routing.sample_day import camau_day


def test_a_300_job_day_is_planned_in_time_and_keeps_every_promise() -> None:
    """300 jobs, 26 couriers, 3 s: the answer comes within the limit (plus 2 s of set-up), has
    no violation, accounts for every job once, and serves most of them (at 10 s it serves
    about 280; half is a floor that a broken search would miss, not a target)."""
    request = camau_day(jobs=300, seed=0)
    began = time.monotonic()
    plan = plan_request(request, time_limit_s=3)
    assert time.monotonic() - began <= 3 + 2
    assert check_plan(request, plan) == []
    routed = {
        s["job"] for r in plan["routes"] for s in r["stops"] if s["type"] in ("pickup", "delivery")
    }
    unassigned = {u["job"] for u in plan["unassigned"]}
    assert routed | unassigned == {j["id"] for j in request["jobs"]}
    assert not routed & unassigned
    assert plan["kpis"]["served"] >= 150
