"""Fixtures of the map tests: a tiny hand-made plan request and the plan that answers it.

The day is small enough to check by hand: two couriers from the Trần Văn Thời post office,
three pickups and one return, one job left unassigned, one hand-off catching run-1000.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from harness.days import REQUEST as DAY_REQUEST

REQUEST: dict[str, Any] = copy.deepcopy(DAY_REQUEST)

T = "2026-11-23T{}:00+07:00"

PLAN: dict[str, Any] = {
    "plan_id": "p-test-1",
    "date": "2026-11-23",
    "status": "partial",
    "routes": [
        {
            "courier": "c1",
            "distance_km": 20.5,
            "duration_min": 420,
            "stops": [
                {
                    "type": "start",
                    "site": "po-tvt",
                    "arrive": T.format("07:00"),
                    "depart": T.format("07:40"),
                    "load": 0,
                },
                {
                    "type": "pickup",
                    "job": "J1",
                    "lat": 9.05,
                    "lon": 104.98,
                    "arrive": T.format("07:55"),
                    "start": T.format("08:00"),
                    "depart": T.format("08:10"),
                    "load": 1,
                },
                {
                    "type": "handoff",
                    "site": "po-tvt",
                    "jobs": ["J1"],
                    "shuttle": "run-1000",
                    "arrive": T.format("08:25"),
                    "depart": T.format("08:30"),
                    "load": 0,
                },
                {
                    "type": "collect",
                    "site": "po-tvt",
                    "jobs": ["J2"],
                    "arrive": T.format("10:50"),
                    "depart": T.format("10:55"),
                    "load": 1,
                },
                {"type": "break", "start": T.format("11:00"), "depart": T.format("12:00")},
                {
                    "type": "delivery",
                    "job": "J2",
                    "lat": 9.02,
                    "lon": 105.01,
                    "arrive": T.format("12:40"),
                    "start": T.format("13:00"),
                    "depart": T.format("13:08"),
                    "load": 0,
                },
                {"type": "end", "site": "po-tvt", "arrive": T.format("13:30")},
            ],
        },
        {
            "courier": "c2",
            "distance_km": 12.0,
            "duration_min": 120,
            "stops": [
                {
                    "type": "start",
                    "site": "po-tvt",
                    "arrive": T.format("07:00"),
                    "depart": T.format("08:00"),
                    "load": 0,
                },
                {
                    "type": "pickup",
                    "job": "J3",
                    "lat": 9.10,
                    "lon": 104.92,
                    "arrive": T.format("08:20"),
                    "start": T.format("08:20"),
                    "depart": T.format("08:25"),
                    "load": 1,
                },
                {
                    "type": "handoff",
                    "site": "po-tvt",
                    "jobs": ["J3"],
                    "shuttle": "run-1000",
                    "arrive": T.format("08:45"),
                    "depart": T.format("08:50"),
                    "load": 0,
                },
                {"type": "end", "site": "po-tvt", "arrive": T.format("08:50")},
            ],
        },
    ],
    "unassigned": [
        {
            "job": "J9",
            "reason": "window_unreachable",
            "detail": "the window closes at 07:15, the earliest arrival is 07:52",
        },
    ],
    "kpis": {"jobs": 4, "served": 3, "distance_km": 32.5, "runs_missed": 0, "reaching_today": 2},
}


@pytest.fixture
def request_day() -> dict[str, Any]:
    """The tiny request: 2 sites, 1 run, 2 couriers, 4 jobs (one unreachable)."""
    return copy.deepcopy(REQUEST)


@pytest.fixture
def plan_day() -> dict[str, Any]:
    """The plan answering it: c1 serves J1, J2 (5 numbered stops), c2 serves J3 (2); J9 apart."""
    return copy.deepcopy(PLAN)
