"""Expected times that hold (never past, in working hours), promised dates, and the board.

Over the tiny day of ``tests/tracking/helpers.py`` (2026-11-23, a Monday): c1 collects D1 for
the 10:00 run from po-tvt (cut-off 09:50) and returns D2 (due 24/11); c2 returns D3.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session

from tests.tracking import helpers
from tests.tracking.conftest import World, build_world
from tests.tracking.helpers import VN, at, scan
from tracking import dossier_view, ingest_scans, public_track, store_plan
from tracking.board import day_board
from tracking.expected import (
    WORK_END,
    WORK_START,
    add_working_days,
    hold_step,
    into_working_hours,
    is_working_day,
)


def test_working_days_skip_weekends_and_vietnamese_holidays() -> None:
    """Hùng Kings (26/4, observed 27/4), 30/4 and 1/5 are skipped like the weekend."""
    # Fri 24/4 → Mon 27/4 observed holiday, Tue 28 (1), Wed 29 (2), 30/4 and 1/5 holidays,
    # the weekend, Mon 4/5 (3).
    assert add_working_days(date(2026, 4, 24), 3) == date(2026, 5, 4)
    # Tết 2026: 16-20 February off; a dossier received on Fri 13/2 with 1 day is due Mon 23/2.
    assert add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 23)
    assert add_working_days(date(2026, 11, 23), 0) == date(2026, 11, 23)
    assert not is_working_day(date(2026, 9, 2)) and is_working_day(date(2026, 9, 3))


def test_processing_days_out_of_range_are_refused() -> None:
    """A negative or absurd processing time is a ValueError naming the field."""
    with pytest.raises(ValueError, match="processing_days"):
        add_working_days(date(2026, 11, 23), -1)


def test_night_times_move_into_working_hours() -> None:
    """02:06 becomes 07:00 the same morning; 21:05 on a Friday becomes Monday 07:00."""
    night = datetime(2026, 11, 23, 2, 6, tzinfo=VN)
    assert into_working_hours(night) == datetime(2026, 11, 23, 7, 0, tzinfo=VN)
    # 24/11 is Vietnam Culture Day, a public holiday from 2026 in the holidays package.
    assert into_working_hours(datetime(2026, 11, 23, 18, 0, tzinfo=VN)) == datetime(
        2026, 11, 25, 7, 0, tzinfo=VN
    )
    friday = datetime(2026, 11, 27, 21, 5, tzinfo=VN)
    assert into_working_hours(friday) == datetime(2026, 11, 30, 7, 0, tzinfo=VN)
    noon = datetime(2026, 11, 25, 12, 0, tzinfo=VN)
    assert into_working_hours(noon) == noon


def test_a_past_expected_time_reads_late_and_a_missed_run_waits_for_the_next() -> None:
    """At 21:05 a shuttle due at 09:40 is late; a dossier left at the office takes the next run."""
    now = datetime(2026, 11, 23, 21, 5, tzinfo=VN)
    step = {"next_step": "received", "expected": "2026-11-23T09:40:00+07:00", "by": "shuttle"}
    held = hold_step(step, now=now)
    assert held is not None and held["late"] is True and held["expected"] is None
    assert held["was_expected"] == step["expected"]
    runs = [{"from_site": "po", "departs": "08:00", "arrives": "08:40"}]
    waiting = hold_step(step, now=now, shuttles=runs, site="po")
    assert waiting is not None and waiting["late"] is False
    assert waiting["expected"] == "2026-11-25T08:40:00+07:00"  # Wednesday: 24/11 is a holiday


def test_a_courier_stop_pushed_past_its_day_is_late() -> None:
    """A stop planned for Monday and now expected on Tuesday is late, with no time promised."""
    step = {
        "next_step": "collected",
        "planned": "2026-11-23T08:00:00+07:00",
        "expected": "2026-11-24T07:00:00+07:00",
        "by": "courier",
    }
    held = hold_step(step, now=datetime(2026, 11, 23, 23, 0, tzinfo=VN))
    assert held is not None and held["late"] is True and held["expected"] is None


def _day_scans() -> list[tuple[str, str, Any]]:
    """(time, user, scan) of a day where the 10:00 shuttle never reports arriving."""
    return [
        ("08:20", "staff", scan("D2", "result_ready", "08:20", site="po-tvt")),
        ("08:20", "staff", scan("D3", "result_ready", "08:20", site="po-tvt")),
        ("08:25", "c1", scan("D1", "collected", "08:25", lat=9.05, lon=104.98)),
        ("08:40", "c2", scan("D3", "out_for_delivery", "08:40", site="po-tvt")),
        ("08:50", "c1", scan("D1", "at_hub", "08:50", site="po-tvt")),
        ("08:55", "c1", scan("D2", "out_for_delivery", "08:55", site="po-tvt")),
        ("09:10", "c2", scan("D3", "delivery_failed", "09:10", reason="không có nhà")),
        ("10:00", "staff", scan("D1", "on_shuttle", "10:00", site="po-tvt")),
        ("13:20", "c1", scan("D2", "delivered", "13:20", proof={"id_last4": "1111"})),
    ]


def _check_expected(session: Session, now: datetime) -> int:
    """Every pending step's expected time is at or after ``now`` and in working hours."""
    checked = 0
    for code, digits in (("D1", "5678"), ("D2", "4321"), ("D3", "1222")):
        view = dossier_view(session=session, code=code, now=now)
        public = public_track(session=session, code=code, phone_last4=digits, now=now)
        assert view is not None and public is not None
        for expected in (view["next"] or {}).get("expected"), public["expected"]:
            if expected is None:
                continue
            moment = datetime.fromisoformat(expected)
            assert moment >= now, (code, now, expected)
            local = moment.astimezone(VN)
            assert WORK_START <= local.time() <= WORK_END, (code, now, expected)
            checked += 1
    return checked


def test_no_pending_step_is_expected_in_the_past_over_a_simulated_day(world: World) -> None:
    """From 07:00 to 23:45, every quarter-hour, no expected time is in the past or at night;
    at 21:05 the shuttle that never arrived reads late."""
    pending = _day_scans()
    checked = 0
    with world.session() as session:
        now = at("07:00")
        while now <= at("23:45"):
            while pending and at(pending[0][0]) <= now:
                _hm, user, event = pending.pop(0)
                results = ingest_scans(
                    session=session, events=[event], actor=world.user(user, session), now=now
                )
                assert results[0].status == "stored", results
            checked += _check_expected(session, now)
            now += timedelta(minutes=15)
        late = public_track(session=session, code="D1", phone_last4="5678", now=at("21:05"))
    assert checked > 20  # the check saw real expected times, not only empty ones
    assert late is not None and late["status"] == "on_shuttle"
    assert late["late"] is True and late["expected"] is None


def _fail_delivery(world: World, session: Session, code: str, reason: str) -> None:
    """The result is ready at 08:20, out at 09:00, and its delivery fails at 09:30."""
    ready = scan(code, "result_ready", "08:20", site="po-tvt")
    staff = ingest_scans(
        session=session, events=[ready], actor=world.user("staff", session), now=at("08:21")
    )
    events = [
        scan(code, "out_for_delivery", "09:00", site="po-tvt"),
        scan(code, "delivery_failed", "09:30", reason=reason),
    ]
    courier = ingest_scans(
        session=session, events=events, actor=world.user("c2", session), now=at("09:46")
    )
    assert [r.status for r in staff + courier] == ["stored"] * 3


def test_board_after_a_simulated_morning(world: World) -> None:
    """At 09:40 with no scan yet, D1 will reach the office after the 09:50 cut-off: at risk,
    with run-1400 offered; at 09:55 it has missed run-1000; D3's failed attempt is listed."""
    with world.session() as session:
        board = day_board(session=session, date=helpers.DATE, now=at("09:40"))
        assert board.total == 3
        assert [d.code for d in board.stages["requested"]] == ["D1"]
        risk = next(r for r in board.risks if r.dossier.code == "D1")
        assert risk.reason == "run_at_risk" and risk.run == "run-1000"
        assert risk.deadline == at("09:50") and risk.expected is not None
        assert risk.expected > at("09:50") and risk.next_run == "run-1400"
        ingest_scans(
            session=session,
            events=[scan("D1", "collected", "09:45", lat=9.05, lon=104.98)],
            actor=world.user("c1", session),
            now=at("09:46"),
        )
        _fail_delivery(world, session, "D3", "không có nhà")
        board = day_board(session=session, date=helpers.DATE, now=at("09:55"))
    reasons = {(r.dossier.code, r.reason): r for r in board.risks}
    missed = reasons[("D1", "run_missed")]
    assert missed.next_run == "run-1400" and missed.next_run_departs == at("14:00")
    assert reasons[("D3", "delivery_failed")].detail == "không có nhà"
    assert ("D2", "due_passed") not in reasons  # due 24/11: not yet


def test_board_flags_due_and_promised_dates(sqlite_engine: Any) -> None:
    """D2 is overdue on 25/11; D3, promised the same day (0 working days), fails its delivery."""
    world = build_world(sqlite_engine)
    request = helpers.request()
    request["jobs"][2]["processing_days"] = 0
    with world.session() as session:
        store_plan(session=session, request=request, plan=helpers.plan("plan-2"), created_by="d")
        _fail_delivery(world, session, "D3", "vắng nhà")
        today = day_board(session=session, date=helpers.DATE, now=at("10:00"))
        later = day_board(
            session=session, date=helpers.DATE, now=datetime(2026, 11, 25, 9, 0, tzinfo=VN)
        )
        public = public_track(session=session, code="D3", phone_last4="1222", now=at("10:00"))
    assert ("D3", "promised_at_risk") in {(r.dossier.code, r.reason) for r in today.risks}
    assert ("D2", "due_passed") in {(r.dossier.code, r.reason) for r in later.risks}
    assert public is not None and public["promised_date"] == helpers.DATE
