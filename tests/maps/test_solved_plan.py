"""Maps of a plan the real optimizer made (OR-Tools, 2 s), not just of hand-written JSON."""

from __future__ import annotations

from typing import Any

import routing
from api.maps import plan_map, render_html
from tests.maps.test_maps import lines, markers


def test_map_of_a_solved_plan_has_a_line_per_courier_and_a_marker_per_stop(
    request_day: dict[str, Any],
) -> None:
    """Every route with stops gets one line; every located stop but start/end one marker."""
    request_day["options"] = {"time_limit_s": 60, "solution_limit": 20}  # same on any machine
    plan = routing.plan_request(request_day)
    page = render_html(plan_map(plan, request_day))
    used = [r for r in plan["routes"] if any(s["type"] != "start" for s in r["stops"][1:-1])]
    routes = [ln for ln in lines(page) if "buuta-route" in ln["options"]["className"]]
    assert len(routes) == len(used) >= 1
    expected_stops = sum(
        1
        for r in plan["routes"]
        for s in r["stops"]
        if s["type"] in {"pickup", "delivery", "handoff", "collect"}
    )
    stops = [m for m in markers(page) if m["class"].startswith("buuta-stop ")]
    drawn = [m for m in stops if "buuta-unassigned" not in m["class"]]
    assert len(drawn) == expected_stops
    unassigned = [m for m in stops if "buuta-unassigned" in m["class"]]
    assert len(unassigned) == len(plan["unassigned"])
    served_jobs = {s.get("job") for r in plan["routes"] for s in r["stops"] if s.get("job")}
    for job in request_day["jobs"]:
        if job["id"] in served_jobs:
            assert any(f"<code>{job['id']}</code>" in m["popup"] for m in drawn), job["id"]
