"""The dispatch page says how long couriers wait between stops, and warns of couriers left free
while requests of their district wait (``kpis.idle_min``, ``kpis.idle_while_unserved``).

The server is buuta's real service on a real SQLite file; the plan is the tiny hand-made one
of ``tests/maps/conftest.py`` with the idle figures added, stored through ``tracking``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session

import tracking
from api.pages import plan_summary
from tests.maps.conftest import PLAN, REQUEST
from tests.support.server import serve, sqlite_url


def _idle_plan() -> dict[str, Any]:
    """The tiny plan, its c1 waiting 35 min and c2 10 min, c2 free 5 h while 3 wait, and one
    job served by a lent courier."""
    plan = copy.deepcopy(PLAN)
    plan["routes"][0]["idle_min"] = 35.0
    plan["routes"][1]["idle_min"] = 10.0
    plan["kpis"]["solver"] = {"status": "solved", "cost": 1, "seconds": 1.0, "solutions": 1}
    plan["kpis"]["solver"] |= {"districts": 2, "workers": 2, "lent": 1}
    plan["kpis"] |= {
        "idle_min": 45.0,
        "idle_while_unserved": [{"courier": "c2", "free_min": 300.0, "unserved": 3}],
    }
    return plan


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, str]]:
    """The server on a fresh SQLite file with the idle plan stored, and a dispatcher's token."""
    directory: Path = tmp_path_factory.mktemp("idle-db")
    url = sqlite_url(directory)
    with serve(url) as server, httpx.Client(base_url=server.base_url, timeout=30) as client:
        engine = tracking.make_engine(url)
        with Session(engine) as session:
            _, token = tracking.create_user(session=session, name="d1", role="dispatcher")
            tracking.store_plan(
                session=session,
                request=copy.deepcopy(REQUEST),
                plan=_idle_plan(),
                created_by="d1",
            )
            session.commit()
        engine.dispose()
        yield client, token


def test_summary_reads_the_idle_figures() -> None:
    """45 minutes of waiting in all; c2 free for 300 min = 5.0 h while 3 requests wait."""
    s = plan_summary(_idle_plan(), REQUEST)
    assert s["idle_min"] == 45
    assert [r["idle_min"] for r in s["routes"]] == [35, 10]
    assert s["idle_while_unserved"] == [{"courier": "c2", "free_h": 5.0, "unserved": 3}]
    assert s["lent"] == 1


def test_dispatch_page_shows_waiting_and_warns_of_free_couriers(site: Any) -> None:
    """In Vietnamese first, then in English with ``?lang=en``."""
    client, token = site
    client.cookies.set("buuta_token", token)
    page = client.get("/dispatch?date=2026-11-23").text
    assert "Thời gian chờ giữa các điểm" in page and "45 phút" in page
    assert 'data-idle-while-unserved="1"' in page
    assert "Do bưu tá địa bàn khác phục vụ" in page and 'data-lent="1"' in page
    assert (
        "Bưu tá c2 còn rảnh 5,0 giờ trong ca trong khi 3 yêu cầu của địa bàn chưa xếp được "
        "vì không đủ thời gian." in page
    )
    english = client.get("/dispatch?date=2026-11-23&lang=en").text
    assert "Waiting between stops" in english and "45 minutes" in english
    assert "Courier c2 has 5.0 free hours in the shift while 3 requests" in english
