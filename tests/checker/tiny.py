"""A tiny hand-checkable request and its valid plan, for the plan checker's tests.

One courier ``c1`` works out of the post office ``po``. Its day, worked out by hand from the
request's own travel matrix (minutes and km over site and job ids):

======  =========  ==========================  ========  ========  ========  ====
stop    type       where                        arrive    start     depart    load
======  =========  ==========================  ========  ========  ========  ====
0       start      po                           07:40:00            07:40:00     0
1       pickup     P1 (20 min, 8 km from po)    08:00:00  08:00:00  08:10:00     1
2       handoff    po (20 min back), run-1000   08:30:00  08:30:00  08:32:00     0
3       collect    po (0 min: same site)        08:32:00  09:30:00  09:32:00     1
4       break      (60 min lunch)                         11:00:00  12:00:00
5       delivery   R1 (15 min, 6 km from po)    13:00:00  13:00:00  13:05:00     0
6       end        po (15 min back)             13:20:00
======  =========  ==========================  ========  ========  ========  ====

- P1's window is 08:00–09:00 and its service 10 min: 08:00 + 10 min = 08:10.
- The hand-off at po serves 2 min (``site_service_min`` default): 08:30 → 08:32. Run-1000
  leaves po at 10:00 with a 10-min margin, so the cut-off is 09:50 ≥ 08:30.
- R1 is ready at po at 09:30, so the collect waits from 08:32 to 09:30 and departs 09:32.
- Lunch: 60 min within 11:00–13:30, taken 11:00–12:00 on the leg from po (depart 09:32) to R1
  (arrive 13:00): 208 min ≥ 15 min of travel + 60 min of break.
- R1's window is 13:00–15:00, service 5 min: 13:00 → 13:05, back at po 13:20 ≤ shift end 17:00.
- Distance: po→P1 8 + P1→po 8 + po→po 0 + po→R1 6 + R1→po 6 = 28 km.
- U1's window (18:00–19:00) is after every shift, so it is unassigned.
- KPIs: 3 jobs, 2 served, 28 km, 0 runs missed; status ``partial`` (one unassigned job).
"""

from __future__ import annotations

import copy
from typing import Any

DAY = "2026-11-23"


def at(clock: str) -> str:
    """Return the plan time of ``HH:MM:SS`` on the tiny day, ISO 8601 with +07:00."""
    return f"{DAY}T{clock}+07:00"


# Travel matrix ids and values: minutes (km) between places.
IDS = ["po", "centre", "P1", "R1", "U1"]
MINUTES = [
    # po  centre  P1   R1   U1
    [0.0, 30.0, 20.0, 15.0, 25.0],  # po
    [30.0, 0.0, 35.0, 40.0, 45.0],  # centre
    [20.0, 35.0, 0.0, 12.0, 30.0],  # P1
    [15.0, 40.0, 12.0, 0.0, 30.0],  # R1
    [25.0, 45.0, 30.0, 30.0, 0.0],  # U1
]
KM = [
    [0.0, 12.0, 8.0, 6.0, 10.0],
    [12.0, 0.0, 14.0, 16.0, 18.0],
    [8.0, 14.0, 0.0, 5.0, 12.0],
    [6.0, 16.0, 5.0, 0.0, 12.0],
    [10.0, 18.0, 12.0, 12.0, 0.0],
]


def request() -> dict[str, Any]:
    """Return a fresh copy of the tiny request (safe to mutate)."""
    return copy.deepcopy(
        {
            "date": DAY,
            "sites": [
                {
                    "id": "po",
                    "kind": "post_office",
                    "name": "Bưu điện Trần Văn Thời",
                    "lat": 9.0,
                    "lon": 105.0,
                    "opening": ["07:00", "17:00"],
                },
                {"id": "centre", "kind": "centre", "name": "Trung tâm", "lat": 9.1, "lon": 105.1},
            ],
            "shuttles": [
                {
                    "id": "run-1000",
                    "from_site": "po",
                    "to_site": "centre",
                    "departs": "10:00",
                    "arrives": "10:40",
                    "handoff_min": 10,
                },
                {
                    "id": "run-1400",
                    "from_site": "po",
                    "to_site": "centre",
                    "departs": "14:00",
                    "arrives": "14:40",
                    "handoff_min": 10,
                },
            ],
            "couriers": [
                {
                    "id": "c1",
                    "start_site": "po",
                    "end_site": "po",
                    "mode": "motorbike",
                    "capacity": 2,
                    "shift": ["07:00", "17:00"],
                    "breaks": [{"earliest": "11:00", "latest": "13:30", "duration_min": 60}],
                    "skills": ["boat"],
                }
            ],
            "jobs": [
                {
                    "id": "P1",
                    "kind": "pickup",
                    "dossier": "H12.22-261123-0001",
                    "lat": 9.01,
                    "lon": 105.01,
                    "window": ["08:00", "09:00"],
                    "service_min": 10,
                    "handoff_site": "po",
                    "destination_site": "centre",
                    "skills": ["boat"],
                },
                {
                    "id": "R1",
                    "kind": "return",
                    "dossier": "H12.22-261101-0107",
                    "lat": 9.02,
                    "lon": 105.02,
                    "window": ["13:00", "15:00"],
                    "service_min": 5,
                    "origin_site": "po",
                    "ready_at": "09:30",
                    "due": DAY,
                },
                {
                    "id": "U1",
                    "kind": "pickup",
                    "dossier": "H12.22-261123-0002",
                    "lat": 9.03,
                    "lon": 105.03,
                    "window": ["18:00", "19:00"],
                    "service_min": 10,
                    "handoff_site": "po",
                },
            ],
            "travel": {"ids": IDS, "minutes": MINUTES, "km": KM},
        }
    )


def plan() -> dict[str, Any]:
    """Return a fresh copy of the tiny request's valid plan (safe to mutate)."""
    return copy.deepcopy(
        {
            "plan_id": "tiny-0001",
            "date": DAY,
            "status": "partial",
            "routes": [
                {
                    "courier": "c1",
                    "distance_km": 28.0,
                    "duration_min": 340,
                    "stops": [
                        {
                            "type": "start",
                            "site": "po",
                            "arrive": at("07:40:00"),
                            "depart": at("07:40:00"),
                            "load": 0,
                        },
                        {
                            "type": "pickup",
                            "job": "P1",
                            "lat": 9.01,
                            "lon": 105.01,
                            "arrive": at("08:00:00"),
                            "start": at("08:00:00"),
                            "depart": at("08:10:00"),
                            "load": 1,
                        },
                        {
                            "type": "handoff",
                            "site": "po",
                            "jobs": ["P1"],
                            "shuttle": "run-1000",
                            "arrive": at("08:30:00"),
                            "start": at("08:30:00"),
                            "depart": at("08:32:00"),
                            "load": 0,
                        },
                        {
                            "type": "collect",
                            "site": "po",
                            "jobs": ["R1"],
                            "arrive": at("08:32:00"),
                            "start": at("09:30:00"),
                            "depart": at("09:32:00"),
                            "load": 1,
                        },
                        {"type": "break", "start": at("11:00:00"), "depart": at("12:00:00")},
                        {
                            "type": "delivery",
                            "job": "R1",
                            "lat": 9.02,
                            "lon": 105.02,
                            "arrive": at("13:00:00"),
                            "start": at("13:00:00"),
                            "depart": at("13:05:00"),
                            "load": 0,
                        },
                        {"type": "end", "site": "po", "arrive": at("13:20:00")},
                    ],
                }
            ],
            "unassigned": [
                {
                    "job": "U1",
                    "reason": "window_outside_shifts",
                    "detail": "U1's window 18:00–19:00 is after every courier's shift "
                    "(c1: 07:00–17:00).",
                }
            ],
            "kpis": {"jobs": 3, "served": 2, "distance_km": 28.0, "runs_missed": 0},
        }
    )


def stop(plan_: dict[str, Any], index: int) -> dict[str, Any]:
    """Return stop ``index`` of the only route of ``plan_`` (for editing in place)."""
    stops: list[dict[str, Any]] = plan_["routes"][0]["stops"]
    return stops[index]
