"""The figures ``benchmarks/province_days.py`` compares, read from hand-made plans."""

from __future__ import annotations

from typing import Any

from benchmarks.province_days import median_of, reaching_today, wait_min

REQUEST: dict[str, Any] = {
    "jobs": [
        {"id": "A", "destination_site": "centre"},
        {"id": "B", "destination_site": "centre"},
        {"id": "C", "destination_site": None},
    ]
}


def _handoff(**extra: Any) -> dict[str, Any]:
    return {"type": "handoff", "site": "po", "jobs": ["A", "B", "C"]} | extra


def test_reaching_today_counts_runs_caught_or_journeys_that_arrive() -> None:
    """Without journeys, a caught run carries A and B (2) and C needs none (1): 3; a stop that
    catches no run: only C. With journeys, A arrives and B does not: A and C."""
    plan = {"routes": [{"stops": [_handoff(shuttle="run-1000")]}]}
    assert reaching_today(REQUEST, plan) == 3
    plan = {"routes": [{"stops": [_handoff(shuttle=None)]}]}
    assert reaching_today(REQUEST, plan) == 1
    journeys = {
        "A": {"runs": ["r1", "r2"], "reaches": "2026-11-23T14:20:00+07:00"},
        "B": {"runs": [], "reaches": None},
    }
    plan = {"routes": [{"stops": [_handoff(shuttle="r1", journeys=journeys)]}]}
    assert reaching_today(REQUEST, plan) == 2


def test_wait_minutes_are_start_less_arrive_over_stops_not_breaks() -> None:
    """Arrive 08:20, start 10:00: 100 min; a break's times are not waiting."""
    stops = [
        {
            "type": "pickup",
            "arrive": "2026-11-23T08:20:00+07:00",
            "start": "2026-11-23T10:00:00+07:00",
        },
        {
            "type": "break",
            "arrive": "2026-11-23T11:00:00+07:00",
            "start": "2026-11-23T11:30:00+07:00",
        },
        {"type": "end", "arrive": "2026-11-23T12:00:00+07:00"},
    ]
    assert wait_min({"routes": [{"stops": stops}]}) == 100.0


def test_medians_of_runs() -> None:
    """The median of each figure; a figure one run lacks is None."""
    runs = [
        {"served": 1, "idle_min": None},
        {"served": 3, "idle_min": 5},
        {"served": 2, "idle_min": 6},
    ]
    assert median_of(runs) == {"served": 2, "idle_min": None}
