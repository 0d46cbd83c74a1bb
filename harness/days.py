"""Small hand-made plan requests shared by the tests and the benchmarks.

- :data:`REQUEST`: a day small enough to check by hand: two couriers from the Trần Văn Thời
  post office, three pickups and one return, one job left unassigned, one hand-off catching
  run-1000 (the map tests' day);
- :func:`phone_request`: one courier's long day of pickups and two returns (the courier's phone
  tests and ``benchmarks/courier_page.py``).
"""

from __future__ import annotations

import copy
import random
from typing import Any

REQUEST: dict[str, Any] = {
    "date": "2026-11-23",
    "sites": [
        {
            "id": "centre",
            "kind": "centre",
            "name": "Trung tâm PVHCC",
            "lat": 9.1769,
            "lon": 105.1524,
        },
        {
            "id": "po-tvt",
            "kind": "post_office",
            "name": "Bưu điện Trần Văn Thời",
            "lat": 9.0806,
            "lon": 104.9744,
            "opening": ["07:00", "17:00"],
        },
    ],
    "shuttles": [
        {
            "id": "run-1000",
            "from_site": "po-tvt",
            "to_site": "centre",
            "departs": "10:00",
            "arrives": "10:50",
            "handoff_min": 10,
        },
    ],
    "couriers": [
        {
            "id": "c1",
            "start_site": "po-tvt",
            "end_site": "po-tvt",
            "mode": "motorbike",
            "capacity": 20,
            "shift": ["07:00", "17:00"],
        },
        {
            "id": "c2",
            "start_site": "po-tvt",
            "end_site": "po-tvt",
            "mode": "motorbike",
            "capacity": 20,
            "shift": ["07:00", "17:00"],
        },
    ],
    "jobs": [
        {
            "id": "J1",
            "kind": "pickup",
            "dossier": "H12.22-261123-0001",
            "lat": 9.05,
            "lon": 104.98,
            "window": ["08:00", "09:00"],
            "service_min": 10,
            "handoff_site": "po-tvt",
            "destination_site": "centre",
            "citizen": {
                "name": "Nguyễn Văn An",
                "phone": "0912345678",
                "id_number": "096123456789",
            },
        },
        {
            "id": "J2",
            "kind": "return",
            "dossier": "H12.22-261101-0107",
            "lat": 9.02,
            "lon": 105.01,
            "window": ["13:00", "17:00"],
            "service_min": 8,
            "origin_site": "po-tvt",
            "ready_at": "10:20",
            "due": "2026-11-23",
        },
        {
            "id": "J3",
            "kind": "pickup",
            "dossier": "H12.22-261123-0003",
            "lat": 9.10,
            "lon": 104.92,
            "window": ["08:00", "09:30"],
            "service_min": 5,
            "handoff_site": "po-tvt",
            "destination_site": "centre",
        },
        {
            "id": "J9",
            "kind": "pickup",
            "dossier": "H12.22-261123-0009",
            "lat": 8.70,
            "lon": 104.80,
            "window": ["07:00", "07:15"],
            "service_min": 5,
            "handoff_site": "po-tvt",
            "destination_site": "centre",
        },
    ],
}

PHONE_RETURNS = ("R1", "R2")
"""The returns of :func:`phone_request`, delivered with the citizen's ID digits."""


def phone_request(day: str, pickups: int = 53) -> dict[str, Any]:
    """``pickups`` pickups within 5 km of the post office, open all day, and two returns."""
    rng = random.Random(12)
    request = copy.deepcopy(REQUEST)
    request["date"] = day
    request["options"] = {"time_limit_s": 3}
    request["couriers"] = [dict(request["couriers"][0], capacity=100)]
    request["shuttles"] = [
        dict(request["shuttles"][0], id=f"run-{h}00", departs=f"{h}:00", arrives=f"{h}:50")
        for h in (10, 14, 16)
    ]
    jobs: list[dict[str, Any]] = [
        {"id": f"P{i:02d}", "kind": "pickup", "dossier": f"H12.22-261123-{i:04d}",
         "lat": round(9.06 + rng.uniform(-0.02, 0.02), 5),
         "lon": round(104.975 + rng.uniform(-0.02, 0.02), 5),
         "window": ["07:00", "16:30"], "service_min": 1, "handoff_site": "po-tvt",
         "destination_site": "centre"}
        for i in range(1, pickups + 1)
    ]  # fmt: skip
    for n, job_id in enumerate(PHONE_RETURNS, start=1):
        jobs.append(
            {"id": job_id, "kind": "return", "dossier": f"H12.22-261101-010{n}",
             "lat": 9.07 + n / 200, "lon": 104.99, "window": ["08:00", "17:00"],
             "service_min": 5, "origin_site": "po-tvt", "ready_at": "07:00", "due": day,
             "citizen": {"name": f"Trần Thị Bích {n}", "phone": f"091000000{n}",
                         "id_number": f"09612345{n}789"}}
        )  # fmt: skip
    request["jobs"] = jobs
    return request
