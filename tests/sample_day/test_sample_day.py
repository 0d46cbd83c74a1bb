"""The sample day of Cà Mau: a valid, deterministic, servable plan request on the real geography."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from geo.areas import WardIndex, district_service_areas, locate
from geo.coords import LatLon
from geo.gazetteer import Gazetteer
from routing.sample_day import (
    BOAT_OFFICES,
    HOME_RETURNS_PER_DAY,
    JOBS_PER_COURIER_CANAL,
    JOBS_PER_COURIER_RURAL,
    TYPICAL_DAY_JOBS,
    camau_day,
)

HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _min(hhmm: str) -> int:
    assert HHMM.match(hhmm), hhmm
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


@pytest.fixture(scope="module")
def day() -> dict[str, Any]:
    """A 60-job day with seed 7: big enough to reach every office, small enough to read."""
    return camau_day(jobs=60, seed=7)


def test_shape_follows_the_plan_request_contract(day: dict[str, Any]) -> None:
    """Top-level keys, JSON-only types, and the fields DESIGN §4 requires of each part."""
    assert set(day) == {"date", "sites", "shuttles", "couriers", "jobs", "options"}
    assert json.loads(json.dumps(day)) == day
    assert day["date"] == "2026-11-23"
    for site in day["sites"]:
        assert {"id", "kind", "name", "lat", "lon"} <= set(site)
        assert [_min(t) for t in site["opening"]] == [7 * 60, 17 * 60]
    for run in day["shuttles"]:
        assert set(run) == {"id", "from_site", "to_site", "departs", "arrives", "handoff_min"}
        assert _min(run["departs"]) < _min(run["arrives"])
        assert run["handoff_min"] > 0
    for courier in day["couriers"]:
        assert courier["mode"] == "motorbike"
        assert courier["start_site"] == courier["end_site"]
        assert courier["capacity"] >= 1
        assert [_min(t) for t in courier["shift"]] == [7 * 60, 17 * 60]
        (lunch,) = courier["breaks"]
        assert (lunch["earliest"], lunch["latest"], lunch["duration_min"]) == ("11:00", "13:30", 60)
    assert day["options"] == {"time_limit_s": 10, "seed": 7}


def test_jobs_are_plausible(day: dict[str, Any]) -> None:
    """Windows of 2-4 h inside the shift, 5-12 min service, fake but well-formed citizen data."""
    assert len(day["jobs"]) == 60
    for job in day["jobs"]:
        start, end = (_min(t) for t in job["window"])
        assert start >= 7 * 60 and end <= 17 * 60
        assert 120 <= end - start <= 240, job["id"]
        assert 5 <= job["service_min"] <= 12
        assert job["size"] >= 1
        assert re.fullmatch(r"H12\.22-\d{6}-\d{4}", job["dossier"])
        citizen = job["citizen"]
        assert re.fullmatch(r"09\d{8}", citizen["phone"])
        assert re.fullmatch(r"096[0-3]\d{8}", citizen["id_number"])
        assert len(citizen["name"].split()) >= 3
        assert job["procedure"]
        assert job["address"].endswith("Cà Mau")
        if job["kind"] == "pickup":
            assert job["destination_site"] == "centre"
            assert job["handoff_site"].startswith("po-")
        else:
            assert job["kind"] == "return"
            assert job["origin_site"].startswith("po-")
            assert date.fromisoformat(job["due"]) >= date(2026, 11, 23)
    kinds = [j["kind"] for j in day["jobs"]]
    assert 20 <= kinds.count("return") <= 40  # about half, per RETURN_SHARE
    dues = {j["due"] for j in day["jobs"] if j["kind"] == "return"}
    assert "2026-11-23" in dues and len(dues) > 1  # some due today, some later


def test_all_referenced_sites_exist_and_ids_are_unique(day: dict[str, Any]) -> None:
    """Every site a run, courier or job names exists; ids are unique in each list."""
    site_ids = {s["id"] for s in day["sites"]}
    for key in ("sites", "shuttles", "couriers", "jobs"):
        ids = [x["id"] for x in day[key]]
        assert len(ids) == len(set(ids)), key
    assert {"centre", "dept-justice", "dept-construction", "dept-natural-resources"} <= site_ids
    assert {"po-tvt", "po-um", "po-nh", "po-nc", "po-cm"} <= site_ids
    for run in day["shuttles"]:
        assert {run["from_site"], run["to_site"]} <= site_ids
    for courier in day["couriers"]:
        assert courier["start_site"] in site_ids
    for job in day["jobs"]:
        for key in ("handoff_site", "destination_site", "origin_site"):
            if key in job:
                assert job[key] in site_ids, (job["id"], key)


def test_fixed_runs_match_the_published_timetable(day: dict[str, Any]) -> None:
    """Centre → each department at 08:00, 10:00, 14:00, 16:00 and back; offices ↔ centre."""
    runs = day["shuttles"]
    to_justice = sorted(r["departs"] for r in runs if r["to_site"] == "dept-justice")
    assert to_justice == ["08:00", "10:00", "14:00", "16:00"]
    back = [r for r in runs if r["from_site"] == "dept-justice"]
    assert len(back) == 4 and all(r["to_site"] == "centre" for r in back)
    from_tvt = sorted(r["departs"] for r in runs if r["from_site"] == "po-tvt")
    assert from_tvt == ["07:30", "09:30", "13:30", "15:30"]
    # A farther office's run takes longer: Ngọc Hiển (cape) vs the city office.
    drive = {
        r["from_site"]: _min(r["arrives"]) - _min(r["departs"])
        for r in runs
        if r["to_site"] == "centre" and r["departs"] == "07:30"
    }
    assert drive["po-nh"] > drive["po-tvt"] > drive["po-cm"]


def test_returns_are_ready_when_a_run_brings_them(day: dict[str, Any]) -> None:
    """A return's ready_at is the arrival of a centre → office run, and its window opens later."""
    for job in day["jobs"]:
        if job["kind"] != "return":
            continue
        arrivals = {
            r["arrives"]
            for r in day["shuttles"]
            if r["from_site"] == "centre" and r["to_site"] == job["origin_site"]
        }
        assert job["ready_at"] in arrivals, job["id"]
        assert _min(job["window"][0]) >= _min(job["ready_at"])


def test_homes_are_inside_the_wards_of_their_office(day: dict[str, Any]) -> None:
    """Each home lies strictly inside a 2025 ward, and that ward is served by the job's office."""
    strict = WardIndex(tolerance_m=0.0)
    areas = district_service_areas()
    homes = [LatLon(j["lat"], j["lon"]) for j in day["jobs"]]
    wards = strict.wards_at(homes)
    for job, home, ward in zip(day["jobs"], homes, wards, strict=True):
        assert ward is not None, job["id"]
        office = job.get("handoff_site") or job["origin_site"]
        assert areas.office_for(home) == office, job["id"]
    for site in day["sites"]:
        locate(LatLon(site["lat"], site["lon"]))  # raises if a site is outside the province


def test_addresses_geocode_to_the_home_ward(day: dict[str, Any]) -> None:
    """The written address (2025 or old 2024 style) resolves to a unit covering the home."""
    gazetteer = Gazetteer()
    eras = set()
    for job in day["jobs"]:
        loc = gazetteer.geocode(job["address"])
        assert loc is not None and not isinstance(loc, list), job["address"]
        home_ward = locate(LatLon(job["lat"], job["lon"])).ward.code
        assert home_ward in loc.raw["wards_2025"], (job["id"], job["address"])
        eras.add(loc.raw["era"])
    assert eras == {"2024", "2025"}


def test_boat_jobs_have_a_boat_courier_at_their_office() -> None:
    """Canal districts get jobs needing a boat, and their office has a courier with that skill."""
    big = camau_day(jobs=400, seed=3)
    boat_jobs = [j for j in big["jobs"] if "boat" in j.get("skills", [])]
    assert boat_jobs
    offices = {j.get("handoff_site") or j.get("origin_site") for j in boat_jobs}
    assert offices <= {"po-um", "po-nc", "po-nh"}
    for office in offices:
        assert any(
            c["start_site"] == office and "boat" in c.get("skills", []) for c in big["couriers"]
        ), office


def test_same_seed_same_json_other_seed_other_day() -> None:
    """Seeded: identical JSON for the same arguments, a different day for another seed."""
    a = json.dumps(camau_day(jobs=25, seed=11), ensure_ascii=False)
    b = json.dumps(camau_day(jobs=25, seed=11), ensure_ascii=False)
    c = json.dumps(camau_day(jobs=25, seed=12), ensure_ascii=False)
    assert a == b
    assert a != c
    other_date = camau_day(jobs=25, seed=11, date="2026-12-01")
    assert other_date["date"] == "2026-12-01"


@pytest.mark.parametrize("jobs", [1, 7, 42, 250])
def test_size_and_couriers_scale_with_jobs(jobs: int) -> None:
    """Exactly ``jobs`` jobs; each office with work has enough couriers for it."""
    request = camau_day(jobs=jobs, seed=0)
    assert len(request["jobs"]) == jobs
    per_office: dict[str, int] = {}
    for job in request["jobs"]:
        office = job.get("handoff_site") or job["origin_site"]
        per_office[office] = per_office.get(office, 0) + 1
    for office, n in per_office.items():
        n_couriers = sum(c["start_site"] == office for c in request["couriers"])
        assert n_couriers >= math.ceil(n / 20), office
        if office in BOAT_OFFICES:  # canal districts: the longest legs
            assert n_couriers == math.ceil(n / JOBS_PER_COURIER_CANAL), office
        elif office != "po-cm":
            assert n_couriers == math.ceil(n / JOBS_PER_COURIER_RURAL), office
    assert TYPICAL_DAY_JOBS == 2 * HOME_RETURNS_PER_DAY == 42


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"jobs": 0}, "jobs must be a positive whole number, got 0"),
        ({"jobs": "12"}, "got '12'"),
        ({"jobs": 5, "seed": 1.5}, "seed must be a whole number, got 1.5"),
        ({"jobs": 5, "date": "23/11/2026"}, "date must be an ISO date.*'23/11/2026'"),
        ({"jobs": 5, "couriers": 0}, "couriers must be a positive whole number, got 0"),
        ({"jobs": 200, "couriers": 2}, r"couriers must be at least \d+ \(one for each office"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict[str, Any], needle: str) -> None:
    """Bad arguments raise ValueError naming the argument and the value."""
    with pytest.raises(ValueError, match=needle):
        camau_day(**kwargs)


def test_a_fixed_fleet_is_shared_out_by_jobs() -> None:
    """``couriers=12`` for 200 jobs (20 by default): 12 in all, one at least at each office
    with jobs, more where there are more jobs; the jobs are the same as with the default fleet.
    """
    fixed = camau_day(jobs=200, seed=4, couriers=12)
    default = camau_day(jobs=200, seed=4)
    assert fixed["jobs"] == default["jobs"]
    assert len(fixed["couriers"]) == 12 < len(default["couriers"])
    jobs_at: dict[str, int] = {}
    for job in fixed["jobs"]:
        office = job.get("handoff_site") or job["origin_site"]
        jobs_at[office] = jobs_at.get(office, 0) + 1
    crew_at: dict[str, int] = {}
    for courier in fixed["couriers"]:
        crew_at[courier["start_site"]] = crew_at.get(courier["start_site"], 0) + 1
    assert set(crew_at) == set(jobs_at)
    busiest = max(jobs_at, key=lambda o: jobs_at[o])
    quietest = min(jobs_at, key=lambda o: jobs_at[o])
    assert crew_at[busiest] > crew_at[quietest] >= 1


def test_command_line_writes_the_same_day(tmp_path: Path) -> None:
    """``python -m routing.sample_day`` writes exactly camau_day's JSON; bad input exits 2."""
    out = tmp_path / "day.json"
    done = subprocess.run(
        [sys.executable, "-m", "routing.sample_day", "--jobs", "12", "--seed", "3", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "12 jobs" in done.stderr
    assert json.loads(out.read_text(encoding="utf-8")) == camau_day(jobs=12, seed=3)
    bad = subprocess.run(
        [sys.executable, "-m", "routing.sample_day", "--jobs", "0"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 2
    assert "jobs must be a positive whole number, got 0" in bad.stderr


def test_a_small_day_is_servable() -> None:
    """The optimizer serves every job of a 20-job day in 10 solutions (couriers suffice)."""
    import routing

    request = camau_day(jobs=20, seed=5)
    request["options"] = {"time_limit_s": 120, "solution_limit": 10}  # the same on any machine
    plan = routing.plan_request(request)
    assert plan["unassigned"] == []
    assert plan["kpis"]["served"] == 20


def test_pickups_bound_for_departments_ride_two_runs_the_same_day() -> None:
    """``department_share=0.5``: about half the pickups go to a department (a run to the centre,
    then one to the department); the day keeps its job ids, and the plan names
    two-run journeys that reach their department today, checked independently."""
    import routing
    from routing.checker import check_plan

    plain = camau_day(jobs=30, seed=2)
    mixed = camau_day(jobs=30, seed=2, department_share=0.5)
    bound = [j for j in mixed["jobs"] if str(j.get("destination_site", "")).startswith("dept-")]
    pickups = [j for j in mixed["jobs"] if j["kind"] == "pickup"]
    assert 0 < len(bound) < len(pickups)
    assert [j["id"] for j in mixed["jobs"]] == [j["id"] for j in plain["jobs"]]
    mixed["options"] = {"time_limit_s": 120, "solution_limit": 20}
    plan = routing.plan_request(mixed)
    assert check_plan(mixed, plan) == []
    journeys = [
        journey
        for route in plan["routes"]
        for stop in route["stops"]
        if stop["type"] == "handoff"
        for job, journey in (stop.get("journeys") or {}).items()
        if job in {j["id"] for j in bound}
    ]
    two_runs = [j for j in journeys if len(j["runs"]) == 2 and j["reaches"] is not None]
    assert two_runs, journeys
    assert plan["kpis"]["reaching_today"] >= len(two_runs)
    with pytest.raises(ValueError, match="department_share must be between 0 and 1"):
        camau_day(jobs=5, department_share=1.5)
