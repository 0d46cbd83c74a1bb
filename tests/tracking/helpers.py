"""A tiny hand-checkable day in Cà Mau for the tracking tests.

Two couriers from the Trần Văn Thời post office (``po-tvt``): ``c1`` collects dossier ``D1``
(job J1) from a home at 08:00 and hands it over at the post office for the 10:00 shuttle to the
centre, then collects result ``D2`` (job J2) at the post office and delivers it at 13:00.
``c2`` delivers result ``D3`` (job J3). Times are local (+07:00) on 2026-11-23.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from tracking import ScanInput

VN = timezone(timedelta(hours=7))
DATE = "2026-11-23"

CITIZEN_1 = {"name": "Nguyễn Văn An", "phone": "0912 345 678", "id_number": "096123456789"}
CITIZEN_2 = {"name": "Trần Thị Bình", "phone": "0987654321", "id_number": "096000001111"}
CITIZEN_3 = {"name": "Lê Văn Cường", "phone": "0900111222", "id_number": "096555552222"}
ADDRESS_1 = "Ấp 3, xã Khánh Bình Tây Bắc, Trần Văn Thời"


def at(hm: str) -> datetime:
    """Return ``HH:MM`` on the test day as an aware datetime (+07:00)."""
    hour, minute = (int(x) for x in hm.split(":"))
    return datetime(2026, 11, 23, hour, minute, tzinfo=VN)


def iso(hm: str) -> str:
    """Return ``HH:MM`` on the test day as ISO 8601 with offset."""
    return at(hm).isoformat()


def request() -> dict[str, Any]:
    """Return the plan request of the test day (with citizen data, as a dispatcher sends it)."""
    return {
        "date": DATE,
        "sites": [
            {
                "id": "po-tvt",
                "kind": "post_office",
                "name": "Bưu điện Trần Văn Thời",
                "lat": 9.0769,
                "lon": 104.9783,
            },
            {
                "id": "centre",
                "kind": "centre",
                "name": "Trung tâm Phục vụ hành chính công",
                "lat": 9.1769,
                "lon": 105.1524,
            },
        ],
        "shuttles": [
            {
                "id": "run-1000",
                "from_site": "po-tvt",
                "to_site": "centre",
                "departs": "10:00",
                "arrives": "10:40",
                "handoff_min": 10,
            },
            {
                "id": "run-1400",
                "from_site": "po-tvt",
                "to_site": "centre",
                "departs": "14:00",
                "arrives": "14:40",
                "handoff_min": 10,
            },
        ],
        "couriers": [
            {"id": "c1", "start_site": "po-tvt", "end_site": "po-tvt", "mode": "motorbike"},
            {"id": "c2", "start_site": "po-tvt", "end_site": "po-tvt", "mode": "boat"},
        ],
        "jobs": [
            {
                "id": "J1",
                "kind": "pickup",
                "dossier": "D1",
                "lat": 9.05,
                "lon": 104.98,
                "window": ["08:00", "11:00"],
                "service_min": 10,
                "handoff_site": "po-tvt",
                "destination_site": "centre",
                "procedure": "Cấp đổi giấy phép lái xe",
                "address": ADDRESS_1,
                "citizen": dict(CITIZEN_1),
            },
            {
                "id": "J2",
                "kind": "return",
                "dossier": "D2",
                "lat": 9.02,
                "lon": 105.01,
                "window": ["13:00", "17:00"],
                "service_min": 8,
                "origin_site": "po-tvt",
                "ready_at": "08:30",
                "due": "2026-11-24",
                "citizen": dict(CITIZEN_2),
            },
            {
                "id": "J3",
                "kind": "return",
                "dossier": "D3",
                "lat": 9.03,
                "lon": 105.02,
                "window": ["09:00", "12:00"],
                "service_min": 8,
                "origin_site": "po-tvt",
                "ready_at": "08:00",
                "citizen": dict(CITIZEN_3),
            },
        ],
    }


def plan(plan_id: str = "plan-1") -> dict[str, Any]:
    """Return a plan answering :func:`request` (as the optimizer would, hand-written)."""
    return {
        "plan_id": plan_id,
        "date": DATE,
        "status": "complete",
        "routes": [
            {
                "courier": "c1",
                "distance_km": 30.0,
                "duration_min": 400,
                "stops": [
                    {
                        "type": "start",
                        "site": "po-tvt",
                        "arrive": iso("07:30"),
                        "depart": iso("07:30"),
                        "load": 0,
                    },
                    {
                        "type": "pickup",
                        "job": "J1",
                        "lat": 9.05,
                        "lon": 104.98,
                        "arrive": iso("07:50"),
                        "start": iso("08:00"),
                        "depart": iso("08:10"),
                        "load": 1,
                    },
                    {
                        "type": "handoff",
                        "site": "po-tvt",
                        "jobs": ["J1"],
                        "shuttle": "run-1000",
                        "arrive": iso("08:30"),
                        "depart": iso("08:35"),
                        "load": 0,
                    },
                    {
                        "type": "collect",
                        "site": "po-tvt",
                        "jobs": ["J2"],
                        "arrive": iso("08:35"),
                        "depart": iso("08:40"),
                        "load": 1,
                    },
                    {
                        "type": "delivery",
                        "job": "J2",
                        "lat": 9.02,
                        "lon": 105.01,
                        "arrive": iso("09:10"),
                        "start": iso("13:00"),
                        "depart": iso("13:08"),
                        "load": 0,
                    },
                    {"type": "end", "site": "po-tvt", "arrive": iso("13:40")},
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
                        "arrive": iso("08:30"),
                        "depart": iso("08:30"),
                        "load": 0,
                    },
                    {
                        "type": "collect",
                        "site": "po-tvt",
                        "jobs": ["J3"],
                        "arrive": iso("08:30"),
                        "depart": iso("08:35"),
                        "load": 1,
                    },
                    {
                        "type": "delivery",
                        "job": "J3",
                        "lat": 9.03,
                        "lon": 105.02,
                        "arrive": iso("09:00"),
                        "start": iso("09:00"),
                        "depart": iso("09:08"),
                        "load": 0,
                    },
                    {"type": "end", "site": "po-tvt", "arrive": iso("09:40")},
                ],
            },
        ],
        "unassigned": [],
        "kpis": {"jobs": 3, "served": 3, "distance_km": 42.0, "runs_missed": 0},
    }


def scan(dossier: str, type_: str, hm: str, **extra: Any) -> ScanInput:
    """Return a scan with a fresh event id at ``HH:MM`` on the test day."""
    return ScanInput(event_id=str(uuid.uuid4()), dossier=dossier, type=type_, at=at(hm), **extra)
