"""A request book to show in the browser tests: the small day's roster and a few requests.

:func:`seed_book` stores, through the HTTP API as a dispatcher, the roster of
:func:`harness.api_day.small_request` (offices ``centre``, ``po-cm``, ``po-tvt``; couriers
``c1`` and ``c2``) and four requests of tomorrow: two placed by their address only (uncertain
pins), and one dossier booked twice. It can be called again: the book is idempotent by id.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from harness.api_day import CITIZENS, small_request
from tests.browser.conftest import VN, Day

ROSTER_PARTS = ("sites", "shuttles", "couriers")


def book_day() -> str:
    """Tomorrow in Vietnam: a day the book may plan."""
    return (datetime.now(VN) + timedelta(days=1)).date().isoformat()


def roster() -> dict[str, Any]:
    """The small day's sites, shuttles and couriers."""
    day = small_request(book_day())
    return {part: day[part] for part in ROSTER_PARTS}


def seed_book(day: Day) -> str:
    """Store the roster and tomorrow's four requests on ``day``'s server; answer tomorrow."""
    tomorrow = book_day()
    headers = {"Authorization": f"Bearer {day.tokens['d1']}"}
    pickup = {"kind": "pickup", "date": tomorrow, "window": ["08:00", "10:00"],
              "handoff_site": "po-tvt", "destination_site": "centre"}  # fmt: skip
    items = [
        {**pickup, "id": "SB-1", "dossier": "H12.22-SB-0001", "citizen": CITIZENS["P1"],
         "address": "Ấp 3, xã Khánh Bình Tây, huyện Trần Văn Thời, Cà Mau"},
        {**pickup, "id": "SB-2", "dossier": "H12.22-SB-0002", "citizen": CITIZENS["P2"],
         "address": "xã Tân Lộc, huyện Thới Bình"},
        {**pickup, "id": "SB-3", "dossier": "H12.22-SB-0003", "lat": 9.07, "lon": 104.99,
         "procedure": "Đăng ký khai sinh", "citizen": CITIZENS["P3"]},
        {**pickup, "id": "SB-4", "dossier": "H12.22-SB-0003", "lat": 9.08, "lon": 104.98},
    ]  # fmt: skip
    with httpx.Client(base_url=day.base_url, timeout=60, headers=headers) as client:
        answer = client.put("/v1/roster", json=roster())
        assert answer.status_code == 200, answer.text
        answer = client.post("/v1/requests", json=items)
        assert answer.status_code == 200, answer.text
        statuses = {r["status"] for r in answer.json()["results"]}
        assert statuses <= {"created", "unchanged"}, answer.text
    return tomorrow
