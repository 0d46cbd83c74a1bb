"""Planning glue: settings → travel model and time limits, placing jobs by address, summaries."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from api.planning import geocode_jobs, geocoder, summary_lines, time_limit_s, travel_model
from api.settings import Settings
from geo.travel import OsrmTravel
from routing.plan import plan_from_json


def test_settings_choose_the_travel_model() -> None:
    """great-circle (the optimizer's default, None here) unless OSRM is configured; OSRM
    without its URL is refused by name."""
    assert travel_model(Settings()) is None
    osrm = travel_model(Settings(travel="osrm", osrm_url="http://127.0.0.1:5000"))
    assert isinstance(osrm, OsrmTravel)
    assert osrm.base_url == "http://127.0.0.1:5000"
    with pytest.raises(ValidationError, match="BUUTA_OSRM_URL"):
        Settings(travel="osrm")
    with pytest.raises(ValidationError, match="BUUTA_DATABASE_URL"):
        Settings(database_url="mysql://x/y")


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """BUUTA_* variables set the fields."""
    monkeypatch.setenv("BUUTA_MAX_BATCH", "7")
    monkeypatch.setenv("BUUTA_DATABASE_URL", "sqlite:////tmp/x.sqlite")
    settings = Settings()
    assert settings.max_batch == 7
    assert settings.resolved_database_url() == "sqlite:////tmp/x.sqlite"


def test_time_limit_is_asked_or_default_and_capped() -> None:
    """The override wins over the request's option, which wins over the default; all capped."""
    settings = Settings(solve_time_limit_s=30, solve_time_limit_cap_s=60)
    assert time_limit_s({}, settings) == 30
    assert time_limit_s({"options": {"time_limit_s": 5}}, settings) == 5
    assert time_limit_s({"options": {"time_limit_s": 5}}, settings, 2.5) == 2.5
    assert time_limit_s({"options": {"time_limit_s": 900}}, settings) == 60


def test_jobs_given_by_address_are_placed_at_their_ward() -> None:
    """A job with an address and no coordinates gets the point of the ward it names (here
    Khánh Bình, an old commune of Trần Văn Thời) and says so; a job with coordinates keeps
    them."""
    coder = geocoder(Settings())
    expected = coder.geocode("xã Khánh Bình, huyện Trần Văn Thời")
    request: dict[str, Any] = {
        "jobs": [
            {"id": "A", "address": "ấp 3, xã Khánh Bình, huyện Trần Văn Thời, Cà Mau"},
            {"id": "B", "address": "anywhere", "lat": 9.1, "lon": 105.1},
        ]
    }
    assert geocode_jobs(request, coder) == 1
    a, b = request["jobs"]
    assert (a["lat"], a["lon"]) == (round(expected.latitude, 6), round(expected.longitude, 6))
    assert a["geocoded"] == {"precision": "ward", "name": "Khánh Bình"}
    assert (b["lat"], b["lon"]) == (9.1, 105.1)
    assert "geocoded" not in b


def test_unknown_address_names_the_field_not_the_address() -> None:
    """An address naming no known place is refused as jobs[i].address, without repeating the
    address (personal data)."""
    request = {"jobs": [{"id": "A", "address": "221B Baker Street, London"}]}
    with pytest.raises(ValueError, match=r"jobs\[0\]\.address") as refused:
        geocode_jobs(request, geocoder(Settings()))
    assert "Baker" not in str(refused.value)


def test_summary_counts_served_unassigned_and_runs() -> None:
    """The summary of a hand-made plan: 2 served of 3, one unassigned by reason, km, runs."""
    plan = {
        "plan_id": "p", "date": "2026-11-23", "status": "partial",
        "routes": [{"courier": "c1", "distance_km": 12.5, "stops": [
            {"type": "start"},
            {"type": "pickup", "job": "J1"},
            {"type": "handoff", "jobs": ["J1"], "shuttle": "run-1000"},
            {"type": "collect", "jobs": ["J2"]},
            {"type": "delivery", "job": "J2"},
            {"type": "end"}]}],
        "unassigned": [{"job": "J3", "reason": "window_unreachable", "detail": "..."}],
        "kpis": {"distance_km": 12.5, "runs_missed": 0},
    }  # fmt: skip
    lines = summary_lines(plan_from_json(plan))
    assert "served 2 of 3 jobs with 1 courier(s), 12.5 km" in lines
    assert "unassigned 1: window_unreachable 1" in lines
    assert lines[-1].startswith("shuttle runs: 1 dossier(s) catch a run today, 0 wait")
    assert not any("between stops" in line for line in lines)  # a plan that does not say
    plan["kpis"] |= {
        "idle_min": 95.0,
        "idle_while_unserved": [{"courier": "c2", "free_min": 270.0, "unserved": 2}],
    }
    lines = summary_lines(plan_from_json(plan))
    assert "couriers wait 95 min between stops in all" in lines
    assert "free while jobs of their district wait (the search fell short): c2 (4.5 h)" in lines


def test_summary_says_how_many_dossiers_reach_their_destination_today() -> None:
    """A plan with ``kpis.reaching_today`` (journeys through the timetable) says it last."""
    plan = {
        "plan_id": "p", "date": "2026-11-23", "status": "complete",
        "routes": [{"courier": "c1", "distance_km": 3.0, "stops": [
            {"type": "start"},
            {"type": "pickup", "job": "J1"},
            {"type": "handoff", "jobs": ["J1"], "shuttle": "run-1000", "journeys": {
                "J1": {"runs": ["run-1000", "dept-1500"], "reaches": "2026-11-23T15:20:00+07:00"}}},
            {"type": "end"}]}],
        "unassigned": [],
        "kpis": {"distance_km": 3.0, "runs_missed": 0, "reaching_today": 1},
    }  # fmt: skip
    lines = summary_lines(plan_from_json(plan))
    assert lines[-1].endswith("(runs missed: 0); 1 reach their destination today")
