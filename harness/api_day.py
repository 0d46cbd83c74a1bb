"""The small hand-made day of the HTTP and CLI tests, and helpers to build scans.

Two post offices 22 km apart, each with one courier starting there; courier ``c1`` (Cà Mau
city) has a pickup ``P1`` (to the centre via the 10:00 run) and a return ``R1`` (result arriving
at 10:50); courier ``c2`` (Trần Văn Thời) has two pickups ``P2`` and ``P3``. Each job is close
to its own courier's office and far from the other's, so the solver gives it to that courier.
Every citizen has a name, a phone and an ID number: personal data the public answers must never
show.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

VN = timezone(timedelta(hours=7))

USERS = {
    "admin1": "admin",
    "disp1": "dispatcher",
    "staff1": "staff",
    "c1": "courier",
    "c2": "courier",
}

CITIZENS = {
    "P1": {"name": "Nguyễn Văn An", "phone": "0912345678", "id_number": "096080001234"},
    "R1": {"name": "Trần Thị Bích", "phone": "0987654321", "id_number": "096180005678"},
    "P2": {"name": "Lê Văn Cường", "phone": "0901112233", "id_number": "096070009999"},
    "P3": {"name": "Phạm Thị Dung", "phone": "0933444555", "id_number": "096190004444"},
}
"""Personal data of the day's citizens; none of it may appear in a public answer."""


def today_vn() -> str:
    """Today's date in Vietnam (plans are for a local day)."""
    return datetime.now(VN).date().isoformat()


def small_request(
    day: str, *, time_limit_s: float = 30.0, solution_limit: int | None = 20
) -> dict[str, Any]:
    """The small hand-made day described in the module docstring, for ``day``.

    The search stops after ``solution_limit`` solutions (well under a second here), so the plan
    is the same however busy the machine is; ``None`` lets it search for ``time_limit_s``.
    """
    options: dict[str, Any] = {"time_limit_s": time_limit_s}
    if solution_limit is not None:
        options["solution_limit"] = solution_limit
    return {
        "date": day,
        "sites": [
            {"id": "centre", "kind": "centre", "name": "Trung tâm PVHCC Cà Mau",
             "lat": 9.1769, "lon": 105.1524},
            {"id": "po-cm", "kind": "post_office", "name": "Bưu điện Cà Mau",
             "lat": 9.1795, "lon": 105.1445},
            {"id": "po-tvt", "kind": "post_office", "name": "Bưu điện Trần Văn Thời",
             "lat": 9.0809, "lon": 104.9716},
        ],
        "shuttles": [
            {"id": "run-1000", "from_site": "po-cm", "to_site": "centre", "departs": "10:00",
             "arrives": "10:20", "handoff_min": 10},
            {"id": "run-1400", "from_site": "po-cm", "to_site": "centre", "departs": "14:00",
             "arrives": "14:20", "handoff_min": 10},
            {"id": "tvt-1000", "from_site": "po-tvt", "to_site": "centre", "departs": "10:00",
             "arrives": "11:00", "handoff_min": 10},
            {"id": "back-1030", "from_site": "centre", "to_site": "po-cm", "departs": "10:30",
             "arrives": "10:50", "handoff_min": 10},
        ],
        "couriers": [
            {"id": "c1", "start_site": "po-cm", "end_site": "po-cm", "mode": "motorbike",
             "capacity": 20, "shift": ["07:00", "17:00"],
             "breaks": [{"earliest": "11:00", "latest": "13:30", "duration_min": 45}]},
            {"id": "c2", "start_site": "po-tvt", "end_site": "po-tvt", "mode": "motorbike",
             "capacity": 20, "shift": ["07:00", "17:00"]},
        ],
        "jobs": [
            {"id": "P1", "kind": "pickup", "dossier": "H12.22-261123-0001", "lat": 9.1702,
             "lon": 105.1610, "window": ["08:00", "09:30"], "service_min": 10,
             "handoff_site": "po-cm", "destination_site": "centre",
             "procedure": "Cấp đổi giấy phép lái xe", "address": "12 Lý Thường Kiệt, phường 6",
             "citizen": CITIZENS["P1"]},
            {"id": "R1", "kind": "return", "dossier": "H12.22-261101-0107", "lat": 9.1850,
             "lon": 105.1390, "window": ["13:00", "16:00"], "service_min": 8,
             "origin_site": "po-cm", "ready_at": "10:50", "due": day,
             "address": "45 Phan Ngọc Hiển, phường 5", "citizen": CITIZENS["R1"]},
            {"id": "P2", "kind": "pickup", "dossier": "H12.22-261123-0002", "lat": 9.0700,
             "lon": 104.9900, "window": ["07:30", "09:30"], "service_min": 10,
             "handoff_site": "po-tvt", "destination_site": "centre",
             "address": "ấp 3, xã Khánh Bình", "citizen": CITIZENS["P2"]},
            {"id": "P3", "kind": "pickup", "dossier": "H12.22-261123-0003", "lat": 9.0950,
             "lon": 104.9500, "window": ["08:00", "11:00"], "service_min": 10,
             "handoff_site": "po-tvt", "destination_site": "centre",
             "citizen": CITIZENS["P3"]},
        ],
        "options": options,
    }  # fmt: skip


def auth(token: str) -> dict[str, str]:
    """The Authorization header of ``token``."""
    return {"Authorization": f"Bearer {token}"}


def ago(minutes: float) -> str:
    """An ISO time ``minutes`` before now, with the Vietnam offset (a phone's device time)."""
    return (datetime.now(UTC) - timedelta(minutes=minutes)).astimezone(VN).isoformat()


def new_id() -> str:
    """A fresh event id, as a phone makes one."""
    return str(uuid.uuid4())
