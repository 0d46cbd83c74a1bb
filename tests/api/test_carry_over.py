"""Carry-over of the request book (DESIGN §8) on a real server, with SQLite and PostgreSQL.

Requests not done by the end of their day continue on the next working day, keeping their due
dates: by ``buuta carry-over`` (run as a user runs it) and before a day is planned from the
book. The days are found from the calendar (the ``holidays`` package), so the tests keep
working as time passes: the latest Friday that has ended, and the latest working day followed
by a public holiday on a weekday (in late 2026: Monday 23 November, before Vietnam Cultural Day
on Tuesday 24 November).

Each test has its own database: planning a day closes every earlier day, so tests sharing a
book would close each other's days.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.api_day import auth, new_id, small_request, today_vn
from tests.support.server import ROOT, create_tokens, serve, sqlite_url
from tracking.carry_over import carried_id
from tracking.expected import is_working_day, next_working_day

USERS = {"disp": "dispatcher", "staff": "staff", "c1": "courier"}


def last_friday() -> date:
    """The latest working Friday before today whose next working day is the Monday after."""
    day = date.fromisoformat(today_vn()) - timedelta(days=1)
    while not (
        day.weekday() == 4 and is_working_day(day) and next_working_day(day) == day + timedelta(3)
    ):
        day -= timedelta(days=1)
    return day


def before_a_holiday() -> date:
    """The latest working day before today followed by a public holiday on a weekday."""
    day = date.fromisoformat(today_vn()) - timedelta(days=1)
    for _ in range(366):
        following = day + timedelta(days=1)
        if is_working_day(day) and following.weekday() < 5 and not is_working_day(following):
            return day
        day -= timedelta(days=1)
    msg = "no public holiday on a weekday in the past year"
    raise AssertionError(msg)


class Book:
    """A running server on its own database, with a dispatcher, staff and courier c1."""

    def __init__(self, url: str, database_url: str, tokens: dict[str, str]) -> None:
        self.url, self.database_url, self.tokens = url, database_url, tokens
        self.client = httpx.Client(timeout=120)

    def call(self, method: str, path: str, user: str = "disp", **kw: Any) -> httpx.Response:
        return self.client.request(
            method, f"{self.url}{path}", headers=auth(self.tokens[user]), **kw
        )

    def requests_of(self, day: date) -> dict[str, dict[str, Any]]:
        answer = self.call("GET", "/v1/requests", "staff", params={"date": day.isoformat()})
        assert answer.status_code == 200, answer.text
        return {r["id"]: r for r in answer.json()["data"]}

    def plan_day(self, day: date, options: dict[str, Any] | None = None) -> httpx.Response:
        """Plan the day from the book and publish the draft, as a dispatcher does."""
        planned = self.call("POST", f"/v1/days/{day}/plan", json=options)
        if planned.status_code == 201:
            published = self.call("POST", f"/v1/plans/{planned.json()['plan_id']}/publish")
            assert published.status_code == 200, published.text
        return planned

    def book(self, items: list[dict[str, Any]]) -> None:
        answer = self.call("POST", "/v1/requests", json=items)
        assert answer.status_code == 200, answer.text
        assert {r["status"] for r in answer.json()["results"]} == {"created"}, answer.text

    def carry_over(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``buuta carry-over ARGS`` on this database."""
        return subprocess.run(
            [sys.executable, "-m", "api", "carry-over", *args],
            cwd=ROOT,
            env={**os.environ, "BUUTA_DATABASE_URL": self.database_url},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def book(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Book]:
    """A new empty book (SQLite file or PostgreSQL database) served by buuta."""
    if request.param == "sqlite":
        url = sqlite_url(tmp_path)
    else:
        from tests.support.postgres import fresh_database

        url = fresh_database(request.getfixturevalue("postgres_server"), request.node.name)
    with serve(url, log_path=tmp_path / "server.log") as server:
        b = Book(server.base_url, url, create_tokens(url, USERS))
        try:
            yield b
        finally:
            b.client.close()


def _roster(**courier: Any) -> dict[str, Any]:
    day = small_request(today_vn())
    roster = {k: day[k] for k in ("sites", "shuttles", "couriers")}
    roster["couriers"] = [{**roster["couriers"][0], **courier}]
    return roster


def _request(
    rid: str,
    day: date,
    *,
    lat: float,
    lon: float,
    due: date,
    window: tuple[str, str] = ("09:00", "09:10"),
) -> dict[str, Any]:
    return {
        "id": rid, "kind": "pickup", "dossier": f"H12.22-{rid}", "date": day.isoformat(),
        "lat": lat, "lon": lon, "window": list(window), "service_min": 10,
        "handoff_site": "po-cm", "due": due.isoformat(),
        "citizen": {"name": "Nguyễn Văn An", "phone": "0912345678"},
    }  # fmt: skip


def test_carry_over_across_a_weekend_keeps_due_dates_and_runs_once(book: Book) -> None:
    """Friday's undone requests continue on Monday: one never planned, one planned and not
    collected; one collected on Friday is done. Running the command again changes nothing."""
    friday = last_friday()
    monday = friday + timedelta(days=3)
    due = friday + timedelta(days=10)
    assert book.call("PUT", "/v1/roster", json=_roster()).status_code == 200
    book.book([
        _request("RQ-A", friday, lat=9.1702, lon=105.1610, due=due),
        _request("RQ-B", friday, lat=9.1850, lon=105.1390, due=due, window=("13:00", "16:00")),
    ])  # fmt: skip
    planned = book.plan_day(friday, {"options": {"solution_limit": 20}})
    assert planned.status_code == 201, planned.text
    book.book([_request("RQ-C", friday, lat=9.1750, lon=105.1500, due=due)])  # booked too late
    # RQ-A's dossier is collected on Friday; RQ-B's never is.
    served = {s.get("job") for r in planned.json()["routes"] for s in r["stops"]}
    assert {"RQ-A", "RQ-B"} <= served, planned.json()["unassigned"]
    collected = {
        "event_id": new_id(), "dossier": "H12.22-RQ-A", "type": "collected",
        "at": f"{friday}T09:05:00+07:00", "lat": 9.1702, "lon": 105.1610, "job": "RQ-A",
    }  # fmt: skip
    scan = book.call("POST", "/v1/scans", "c1", json=[collected])
    assert scan.json()["results"][0]["status"] == "stored", scan.text

    first = book.carry_over("--date", friday.isoformat())
    assert first.returncode == 0, first.stderr
    closed = book.requests_of(friday)
    assert closed["RQ-A"]["status"] == "done"
    assert {rid for rid, r in closed.items() if r["status"] == "carried"} == {"RQ-B", "RQ-C"}
    assert closed["RQ-B"]["carried_to"] == f"RQ-B@{monday}"
    assert book.requests_of(friday + timedelta(days=1)) == {}  # not on Saturday
    after = book.requests_of(monday)
    assert set(after) == {f"RQ-B@{monday}", f"RQ-C@{monday}"}
    for rid in ("RQ-B", "RQ-C"):
        moved = after[f"{rid}@{monday}"]
        assert (moved["status"], moved["due"], moved["carried_from"]) == ("open", str(due), rid)
        assert moved["citizen"]["name"] == "Nguyễn Văn An"
        assert moved["window"] == book.requests_of(friday)[rid]["window"]
    assert f"closed {friday}: 2 carried, 1 done, 0 failed" in first.stdout

    again = book.carry_over("--date", friday.isoformat())
    assert again.returncode == 0, again.stderr
    assert f"closed {friday}: 0 carried, 0 done, 0 failed" in again.stdout
    assert book.requests_of(monday) == after
    assert book.requests_of(friday) == closed


def test_planning_the_day_after_a_holiday_carries_over_first(book: Book) -> None:
    """The day before a public holiday is closed when the next working day is planned: its
    open request is planned there, keeping its due date, and planning again carries nothing."""
    before = before_a_holiday()
    target = next_working_day(before)
    assert (target - before).days >= 2  # the holiday is skipped
    assert book.call("PUT", "/v1/roster", json=_roster()).status_code == 200
    due = target + timedelta(days=5)
    book.book([_request("RQ-H", before, lat=9.1702, lon=105.1610, due=due)])

    plan = book.plan_day(target, {"options": {"solution_limit": 20}})
    assert plan.status_code == 201, plan.text
    moved_id = f"RQ-H@{target}"
    assert {s.get("job") for r in plan.json()["routes"] for s in r["stops"]} >= {moved_id}
    assert book.requests_of(before)["RQ-H"]["status"] == "carried"
    for day in range(1, (target - before).days):
        assert book.requests_of(before + timedelta(days=day)) == {}
    moved = book.requests_of(target)[moved_id]
    assert (moved["status"], moved["due"], moved["carried_from"]) == ("planned", str(due), "RQ-H")

    again = book.call("POST", f"/v1/days/{target}/plan")
    assert again.status_code == 422  # nothing open any more; nothing carried twice
    assert list(book.requests_of(target)) == [moved_id]


def test_a_carried_request_due_soon_is_planned_first(book: Book) -> None:
    """Two carried pickups both booked 09:00–09:10, too far apart for one courier to do both:
    the one due by the next working day is served, the one due in a month is not, although the
    latter lies nearer the post office (planned as plain requests, it is the one served)."""
    before = last_friday()
    target = next_working_day(before)
    assert book.call("PUT", "/v1/roster", json=_roster(shift=["08:00", "12:00"])).status_code == 200
    near_office = {"lat": 9.1702, "lon": 105.1610}  # about 2 km from po-cm
    far_away = {"lat": 9.2300, "lon": 105.2000}  # about 8 km from po-cm, 8 km from the other
    book.book([
        _request("RQ-SOON", before, **far_away, due=next_working_day(target)),
        _request("RQ-LATER", before, **near_office, due=target + timedelta(days=30)),
    ])  # fmt: skip
    control_day = target + timedelta(days=7)
    book.book([
        _request("CTRL-SOON", control_day, **far_away, due=next_working_day(target)),
        _request("CTRL-LATER", control_day, **near_office, due=target + timedelta(days=30)),
    ])  # fmt: skip
    options = {"options": {"solution_limit": 50}}

    plan = book.call("POST", f"/v1/days/{target}/plan", json=options)
    assert plan.status_code == 201, plan.text
    served = {s.get("job") for r in plan.json()["routes"] for s in r["stops"]}
    unassigned = {u["job"] for u in plan.json()["unassigned"]}
    assert (f"RQ-SOON@{target}" in served, f"RQ-LATER@{target}" in unassigned) == (True, True)

    control = book.call("POST", f"/v1/days/{control_day}/plan", json=options)
    assert control.status_code == 201, control.text
    served = {s.get("job") for r in control.json()["routes"] for s in r["stops"]}
    assert ("CTRL-LATER" in served, "CTRL-SOON" in served) == (True, False)


def test_a_day_not_ended_cannot_be_closed(book: Book) -> None:
    """``--date`` in the future, or not a date, is refused with exit code 2 and a message."""
    future = book.carry_over("--date", (date.fromisoformat(today_vn()) + timedelta(1)).isoformat())
    assert (future.returncode, "has not ended" in future.stderr) == (2, True)
    bad = book.carry_over("--date", "30/11/2026")
    assert (bad.returncode, "--date" in bad.stderr) == (2, True)


def test_two_carry_overs_at_once_carry_each_request_once(book: Book) -> None:
    """Two ``buuta carry-over`` processes closing the same Friday at the same moment carry
    each of its 20 requests exactly once between them."""
    friday = last_friday()
    monday = next_working_day(friday)
    due = monday + timedelta(days=5)
    book.book([
        _request(f"RQ-{n:02d}", friday, lat=9.17 + n / 1000, lon=105.16, due=due)
        for n in range(20)
    ])  # fmt: skip
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(lambda _: book.carry_over("--date", friday.isoformat()), range(2)))
    assert [run.returncode for run in runs] == [0, 0], [run.stderr for run in runs]
    carried = sum(int(run.stdout.rsplit(": ", 1)[1].split()[0]) for run in runs)
    assert carried == 20
    moved = book.requests_of(monday)
    assert sorted(moved) == [f"RQ-{n:02d}@{monday}" for n in range(20)]
    assert {r["status"] for r in book.requests_of(friday).values()} == {"carried"}


def test_a_continuation_s_id_fits_the_book() -> None:
    """The new day is appended to the first request's id; a long id keeps its start and a hash
    of the rest, the same on every run and different for different ids."""
    assert carried_id("RQ-1", None, "2026-11-30") == "RQ-1@2026-11-30"
    assert carried_id("RQ-1@2026-11-30", "RQ-1", "2026-12-01") == "RQ-1@2026-12-01"
    long_a, long_b = "A" * 99 + "a", "A" * 99 + "b"
    ids = {carried_id(x, None, "2026-11-30") for x in (long_a, long_b)}
    assert len(ids) == 2 and all(len(i) <= 100 for i in ids)
    assert carried_id(long_a, None, "2026-11-30") in ids
