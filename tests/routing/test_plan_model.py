"""The typed plan (routing/plan.py): read once from the plan JSON of DESIGN §4, written back."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from routing.clock import LOCAL_TZ
from routing.plan import Plan, PlanError, Stop, plan_from_json, plan_to_json


def _plan(**extra: Any) -> dict[str, Any]:
    """A small plan: c1 picks J1 up and hands it over at po for run-1000; J9 is unassigned."""
    t = "2026-11-23T{}:00+07:00"
    return {
        "plan_id": "p1",
        "date": "2026-11-23",
        "status": "partial",
        "routes": [
            {
                "courier": "c1",
                "mode": "motorbike",
                "distance_km": 12.5,
                "duration_min": 90,
                "stops": [
                    {"type": "start", "arrive": t.format("07:30"), "depart": t.format("07:30"),
                     "load": 0, "site": "po"},
                    {"type": "pickup", "job": "J1", "dossier": "D1", "lat": 9.05, "lon": 104.98,
                     "arrive": t.format("07:50"), "start": t.format("08:00"),
                     "depart": t.format("08:10"), "load": 1},
                    {"type": "break", "start": t.format("08:10"), "depart": t.format("08:20")},
                    {"type": "handoff", "site": "po", "jobs": ["J1"], "shuttle": "run-1000",
                     "arrive": t.format("08:40"), "start": t.format("08:40"),
                     "depart": t.format("08:42"), "load": 0},
                    {"type": "end", "site": "po", "arrive": t.format("09:00")},
                ],
            }
        ],
        "unassigned": [{"job": "J9", "reason": "window_unreachable", "detail": "closes 07:15"}],
        "kpis": {"jobs": 2, "served": 1, "distance_km": 12.5, "runs_missed": 0},
    } | extra  # fmt: skip


def test_a_plan_reads_into_typed_stops_and_writes_back_the_same_json() -> None:
    """Stops get their kind, times become aware datetimes, and the JSON comes back unchanged
    (the KPI block keeps only the figures it had)."""
    raw = _plan()
    plan = plan_from_json(raw)
    start, pickup, pause, handoff, end = plan.routes[0].stops
    assert [s.kind for s in plan.routes[0].stops] == ["start", "pickup", "break", "handoff", "end"]
    assert pickup.start == datetime(2026, 11, 23, 8, 0, tzinfo=LOCAL_TZ)
    assert (pickup.job_ids, handoff.job_ids, start.job_ids) == (("J1",), ("J1",), ())
    assert handoff.shuttle == "run-1000" and pause.load is None and end.begins is not None
    assert plan.job_couriers() == {"J1": "c1"}
    assert plan.route_of("c1") is plan.routes[0] and plan.route_of("c2") is None
    assert json.dumps(plan_to_json(plan)) == json.dumps(raw)


def test_unknown_keys_and_a_route_with_only_done_stops_are_kept() -> None:
    """Keys the model does not know (a hand-off's journeys, a plan's note) survive a read and a
    write, and a re-plan's route of done stops only (no mode, no duration) keeps its shape."""
    raw = _plan(note="hand-made", replanned_at="10:00", previous_plan_id=None, changes=[])
    raw["routes"][0]["stops"][3]["journeys"] = {"J1": {"runs": ["run-1000"], "reaches": None}}
    raw["routes"].append({"courier": "c2", "distance_km": 0.0, "stops": [], "done": []})
    written = plan_to_json(plan_from_json(raw))
    assert written["routes"][0]["stops"][3]["journeys"] == {
        "J1": {"runs": ["run-1000"], "reaches": None}
    }
    assert written["routes"][1] == {"courier": "c2", "distance_km": 0.0, "stops": [], "done": []}
    assert written["note"] == "hand-made" and written["replanned_at"] == "10:00"


def test_times_as_hh_mm_are_read_on_the_plan_date() -> None:
    """A hand-written plan may give ``"08:00"``: it is 08:00 in Vietnam on the plan's date."""
    raw = _plan()
    raw["routes"][0]["stops"][1]["start"] = "08:00"
    stop = plan_from_json(raw).routes[0].stops[1]
    assert stop.start == datetime(2026, 11, 23, 8, 0, tzinfo=LOCAL_TZ)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("routes", 0, "stops", 1, "type"), "visit", r"plan\.routes\[0\]\.stops\[1\]\.type"),
        (("routes", 0, "stops", 1, "start"), "8h", r"stops\[1\]\.start: '8h' is not an ISO"),
        (("routes", 0, "stops", 1, "start"), "2026-11-23T08:00:00", r"has no UTC offset"),
        (("routes", 0, "stops", 1, "lat"), "nine", r"plan\.routes\[0\]\.stops\[1\]: lat and lon"),
        (("routes", 0, "stops", 3, "jobs"), [7], r"stops\[3\]\.jobs\[0\]"),
        (("routes", 0, "distance_km"), "far", r"plan\.routes\[0\]\.distance_km"),
        (("routes",), {"c1": []}, r"plan\.routes: expected a list"),
        (("kpis", "served"), 1.5, r"plan\.kpis\.served: expected a whole number"),
        (("date",), "23/11/2026", r"plan\.date: '23/11/2026' is not a date"),
    ],
)
def test_a_malformed_plan_is_refused_naming_the_field(
    path: tuple[Any, ...], value: Any, message: str
) -> None:
    """Bad plan JSON raises PlanError (a ValueError) whose message names the field at fault."""
    raw = _plan()
    target: Any = raw
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(PlanError, match=message):
        Plan.from_json(raw)


def test_a_stop_is_frozen() -> None:
    """Readers cannot change a plan behind the writer's back."""
    stop = Stop(kind="end", site="po")
    with pytest.raises(AttributeError):
        stop.site = "centre"  # type: ignore[misc]
