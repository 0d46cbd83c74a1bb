"""Large days are planned district by district; the merged plan is still one valid plan."""

from __future__ import annotations

import pytest

from routing import planner
from routing.request import parse_request
from tests.routing.helpers import courier, pickup, request, ret, solve_checked

SITES = [
    {"id": "po", "kind": "post_office", "lat": 9.17, "lon": 105.15},
    {"id": "centre", "kind": "centre", "lat": 9.18, "lon": 105.16},
    {"id": "po2", "kind": "post_office", "lat": 8.90, "lon": 105.00},
]


def _day() -> dict:
    jobs = [
        pickup("A", ["08:00", "10:00"]),
        ret("B", ["13:00", "15:00"], "10:00"),
        pickup("C", ["08:00", "10:00"], handoff_site="po2", destination_site=None),
        ret("D", ["13:00", "15:00"], "10:00", origin_site="po2"),
        pickup("E", ["08:00", "10:00"], handoff_site="centre", destination_site=None),
    ]
    couriers = [courier("c1"), courier("c2", start_site="po2", end_site="po2")]
    pos = {"A": 10, "B": 12, "C": 95, "D": 105, "E": 25, "po2": 100}
    return request(jobs, pos, couriers=couriers, sites=SITES)


def test_jobs_go_to_the_couriers_of_their_site_or_the_nearest_base() -> None:
    """A, B (po) and E (centre: no courier there, po is nearest) go to c1; C, D (po2) to c2."""
    req = parse_request(_day())
    parts = planner.districts(req)
    named = [([req.couriers[k].id for k in cs], [req.jobs[j].id for j in js]) for cs, js in parts]
    assert named == [(["c1"], ["A", "B", "E"]), (["c2"], ["C", "D"])]


def test_a_day_planned_by_districts_passes_the_checker(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the district threshold lowered to one job, the five jobs are planned in two parts.

    Every job is served by its district's courier and the merged plan has no violation.
    """
    monkeypatch.setattr(planner, "DISTRICT_JOBS", 1)
    plan = solve_checked(_day())
    assert plan["kpis"]["solver"]["districts"] == 2
    served_by = {
        (s.get("job") or ""): r["courier"]
        for r in plan["routes"]
        for s in r["stops"]
        if s["type"] in ("pickup", "delivery")
    }
    assert served_by == {"A": "c1", "B": "c1", "E": "c1", "C": "c2", "D": "c2"}
    assert plan["kpis"]["served"] == 5


def test_a_busy_district_is_cut_into_sectors_with_their_own_couriers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Four jobs and two couriers at po, sectors of two jobs: two parts, one courier each.

    Homes north-east and south-west of po fall into different sectors by bearing.
    """
    monkeypatch.setattr(planner, "SECTOR_JOBS", 2)
    homes = {"N1": (9.25, 105.20), "N2": (9.26, 105.21), "S1": (9.10, 105.10), "S2": (9.09, 105.09)}
    jobs = [pickup(j, ["08:00", "12:00"]) | {"lat": a, "lon": o} for j, (a, o) in homes.items()]
    raw = request(jobs, dict.fromkeys(homes, 10.0), couriers=[courier("c1"), courier("c2")])
    req = parse_request(raw)
    parts = planner.districts(req)
    named = sorted(
        (sorted(req.couriers[k].id for k in cs), sorted(req.jobs[j].id for j in js))
        for cs, js in parts
    )
    assert [len(cs) for cs, _ in named] == [1, 1]
    assert sorted(js for _, js in named) == [["N1", "N2"], ["S1", "S2"]]


def test_a_large_day_with_no_courier_reports_every_job_unassigned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A day large enough to be split, but with no courier: no district to split into, so the
    whole day goes to one solve that reports each job ``no_courier`` (it used to raise)."""
    monkeypatch.setattr(planner, "DISTRICT_JOBS", 1)
    raw = _day() | {"couriers": []}
    assert planner.districts(parse_request(raw)) == []
    plan = solve_checked(raw)
    assert plan["routes"] == []
    assert {u["job"]: u["reason"] for u in plan["unassigned"]} == dict.fromkeys(
        "ABCDE", "no_courier"
    )
