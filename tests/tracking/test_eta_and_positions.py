"""Expected times (tracking/eta.py) and courier positions (tracking/positions.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.coords import LatLon
from routing.plan import plan_from_json
from tests.tracking import helpers
from tests.tracking.conftest import World
from tests.tracking.helpers import at, scan
from tracking import (
    InvalidInput,
    NotFound,
    PositionInput,
    courier_stops,
    courier_track,
    ingest_scans,
    record_positions,
)
from tracking.eta import great_circle_m, route_etas

C1_STOPS = plan_from_json(helpers.plan()).routes[0].stops
"""c1's route: start 07:30, pickup J1 08:00, hand-off 08:30, collect 08:35, delivery J2 13:00
(arrives 09:10 and waits for the window), end 13:40."""


def _starts(etas: list, indexes: range) -> list[str | None]:
    return [
        None if etas[i].expected_start is None else etas[i].expected_start.strftime("%H:%M")
        for i in indexes
    ]


def test_nothing_done_means_planned_times() -> None:
    """Before the day starts, every stop is expected at its planned time."""
    etas = route_etas(C1_STOPS, done={}, now=at("07:00"))
    assert _starts(etas, range(6)) == ["07:30", "08:00", "08:30", "08:35", "13:00", "13:40"]
    assert all(e.state == "pending" and e.delay_s == 0 for e in etas)


def test_delay_shifts_later_stops_and_a_wait_absorbs_it() -> None:
    """Pickup scanned 25 min late: hand-off 08:55, collect 09:00; the 13:00 delivery still waits."""
    etas = route_etas(C1_STOPS, done={0: at("07:30"), 1: at("08:25")}, now=at("08:26"))
    assert [e.state for e in etas] == ["done", "done", "pending", "pending", "pending", "pending"]
    # hand-off planned 08:30 + 25 min; collect 08:35 + 25; delivery arrives 09:10 + 25 = 09:35,
    # before its 13:00 start, so the delay is absorbed and the end stays at 13:40.
    assert _starts(etas, range(2, 6)) == ["08:55", "09:00", "13:00", "13:40"]
    assert etas[2].delay_s == 25 * 60 and etas[4].delay_s == 0


def test_a_pending_stop_is_never_expected_in_the_past() -> None:
    """At 09:20 with the hand-off still pending, it is expected now; the rest shift by 50 min."""
    etas = route_etas(C1_STOPS, done={1: at("08:25")}, now=at("09:20"))
    assert _starts(etas, range(2, 6)) == ["09:20", "09:25", "13:00", "13:40"]
    assert etas[0].state == "behind"  # start not scanned, but the courier is past it


def test_last_position_bounds_the_next_arrival() -> None:
    """A courier seen 29 km away at 08:40 cannot reach the post office before the ride takes."""
    far = LatLon(9.30, 105.10)
    post_office = LatLon(9.0769, 104.9783)
    etas = route_etas(
        C1_STOPS,
        done={1: at("08:25")},
        now=at("08:41"),
        last_position=(far, at("08:40")),
        stop_points={2: post_office},
        speed_kmh=30.0,
    )
    ride_s = great_circle_m(far, post_office) / (30 / 3.6)
    assert 27_000 < great_circle_m(far, post_office) < 30_000
    assert etas[2].expected_arrive == at("08:40") + timedelta(seconds=ride_s)
    assert etas[2].expected_arrive is not None and etas[2].expected_arrive > at("08:55")


def test_failed_delivery_stop() -> None:
    """A failed delivery is reported as failed, and the end follows from its scan time."""
    etas = route_etas(
        C1_STOPS,
        done={1: at("08:00"), 2: at("08:30"), 3: at("08:35")},
        failed={4: at("13:30")},
        now=at("13:31"),
    )
    assert etas[4].state == "failed" and etas[4].actual == at("13:30")
    # delivery planned to start 13:00, failed at 13:30: 30 min late, end 13:40 + 30 = 14:10.
    assert _starts(etas, range(5, 6)) == ["14:10"]


@settings(max_examples=200, deadline=None)
@given(
    done=st.dictionaries(st.integers(0, 5), st.integers(0, 600), max_size=4),
    now_min=st.integers(0, 800),
)
def test_expected_never_earlier_than_planned(done: dict[int, int], now_min: int) -> None:
    """For any progress and clock, every pending stop is expected no earlier than planned."""
    base = at("07:00")
    etas = route_etas(
        C1_STOPS,
        done={i: base + timedelta(minutes=m) for i, m in done.items()},
        now=base + timedelta(minutes=now_min),
    )
    pending = [e for e in etas if e.state == "pending"]
    for eta in pending:
        assert eta.expected_start is not None and eta.planned_start is not None
        assert eta.expected_start >= eta.planned_start
    if pending:
        first = pending[0].expected_arrive
        assert first is not None and first >= base + timedelta(minutes=now_min)


def test_courier_stops_follow_scans(world: World) -> None:
    """c1's stop list marks stops done as scans arrive and shifts the rest by the delay."""
    with world.session() as session:
        c1 = world.user("c1", session)
        ingest_scans(
            session=session,
            events=[scan("D1", "collected", "08:25", lat=9.05, lon=104.98)],
            actor=c1,
            now=at("08:26"),
        )
        stops = courier_stops(session=session, courier_id="c1", date=helpers.DATE, now=at("08:26"))
        assert [s["state"] for s in stops] == [
            "done",
            "done",
            "pending",
            "pending",
            "pending",
            "pending",
        ]
        assert stops[1]["actual"] == helpers.iso("08:25")
        assert stops[2]["expected_start"] == helpers.iso("08:55")
        assert stops[2]["delay_min"] == 25.0
        ingest_scans(
            session=session,
            events=[scan("D1", "at_hub", "08:50", site="po-tvt")],
            actor=c1,
            now=at("08:51"),
        )
        stops = courier_stops(session=session, courier_id="c1", date=helpers.DATE, now=at("08:51"))
        assert stops[2]["state"] == "done"
        assert stops[3]["expected_start"] == helpers.iso("08:55")  # 08:35 + 20 min


def test_positions_are_stored_and_traced_in_time_order(world: World) -> None:
    """Positions sent out of order come back in device-time order with the courier's scans."""
    positions = [
        PositionInput(at=at("08:10"), lat=9.06, lon=104.99),
        PositionInput(at=at("07:40"), lat=9.07, lon=104.98, accuracy_m=12.0),
    ]
    with world.session() as session:
        assert (
            record_positions(session=session, courier_id="c1", positions=positions, now=at("08:11"))
            == 2
        )
        ingest_scans(
            session=session,
            events=[scan("D1", "collected", "08:05", lat=9.05, lon=104.98)],
            actor=world.user("c1", session),
            now=at("08:11"),
        )
        track = courier_track(session=session, courier_id="c1", date=helpers.DATE)
        other_day = courier_track(session=session, courier_id="c1", date="2026-11-24")
    assert [p["at"] for p in track["positions"]] == [helpers.iso("07:40"), helpers.iso("08:10")]
    assert track["positions"][0]["accuracy_m"] == 12.0
    assert [(s["dossier"], s["type"]) for s in track["scans"]] == [("D1", "collected")]
    assert other_day["positions"] == [] and other_day["scans"] == []


def test_position_input_is_checked(world: World) -> None:
    """Bad positions name the field; future ones and unknown couriers are refused."""
    with pytest.raises(InvalidInput, match=r"positions\[0\]\.lat, lon: lat must be within"):
        PositionInput.from_json(
            {"at": helpers.iso("08:00"), "lat": 91, "lon": 105}, where="positions[0]"
        )
    with pytest.raises(InvalidInput, match=r"positions\[1\]\.at: .* has no UTC offset"):
        PositionInput.from_json(
            {"at": "2026-11-23T08:00:00", "lat": 9, "lon": 105}, where="positions[1]"
        )
    with pytest.raises(InvalidInput, match=r"positions\[2\]\.lon: missing"):
        PositionInput.from_json({"at": helpers.iso("08:00"), "lat": 9}, where="positions[2]")
    with world.session() as session:
        future = [PositionInput(at=at("12:00"), lat=9.0, lon=105.0)]
        with pytest.raises(InvalidInput, match=r"positions\[0\]\.at: .* in the server's future"):
            record_positions(session=session, courier_id="c1", positions=future, now=at("09:00"))
        with pytest.raises(NotFound, match="courier_id: this courier is in no stored plan"):
            record_positions(
                session=session,
                courier_id="c9",
                positions=[PositionInput(at=at("08:00"), lat=9.0, lon=105.0)],
                now=at("09:00"),
            )


def test_position_feeds_the_stop_list(world: World) -> None:
    """A position far from the next stop pushes its expected time beyond the plan's."""
    with world.session() as session:
        record_positions(
            session=session,
            courier_id="c1",
            positions=[PositionInput(at=at("07:55"), lat=9.30, lon=105.10)],
            now=at("07:56"),
        )
        stops = courier_stops(session=session, courier_id="c1", date=helpers.DATE, now=at("07:56"))
    expected = datetime.fromisoformat(stops[0]["expected_start"])
    ride = great_circle_m(LatLon(9.30, 105.10), LatLon(9.0769, 104.9783)) / (30 / 3.6)
    assert expected == at("07:55") + timedelta(seconds=ride)
