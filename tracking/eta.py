"""Expected times: a plan's remaining stops shifted by the courier's current delay (pure).

The plan gives each stop a planned ``arrive``, ``start`` (service begins, after any wait for the
window) and ``depart``. While the day runs, buuta knows which stops are done (from scans, with
their device times) and, perhaps, the courier's last position. From these:

1. The **delay** at the last done stop is how much later than its planned start it was
   scanned (never negative: a courier ahead of plan still waits for windows).
2. The **first pending stop** is expected at the latest of: its planned arrival plus that delay;
   ``now`` (it has not happened yet); and, if the courier's last position is newer than the
   last scan, that position's time plus the great-circle distance to the stop at the mode's
   typical speed.
3. Each later stop is shifted by the delay left after the previous one: waiting for a window to
   open absorbs delay (``start = max(planned start, expected arrival)``).

Expected times are therefore never earlier than planned. They are recomputed from the stored
plan, scans and positions every time they are read, so they follow each new scan or position.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from geo.coords import LatLon
from routing.plan import Stop

TYPICAL_SPEED_KMH: Mapping[str, float] = {
    "motorbike": 30.0,
    "car": 40.0,
    "boat": 15.0,
    "walking": 4.5,
}
"""Speeds (km/h, straight line) used to estimate the time from a position to the next stop."""

EARTH_RADIUS_M = 6_371_008.8


def great_circle_m(a: LatLon, b: LatLon) -> float:
    """Return the great-circle distance between two points in metres (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True, slots=True)
class StopEta:
    """Planned, actual and expected times of one stop of a route.

    Attributes
    ----------
    index
        Position of the stop in the route.
    state
        ``done`` (scanned), ``failed`` (a delivery attempt failed), ``pending`` (ahead of the
        courier) or ``behind`` (pending, but the courier has already done a later stop).
    planned_arrive, planned_start
        From the plan.
    actual
        Device time of the scan that marked it done or failed.
    expected_arrive, expected_start
        For ``pending`` stops: when the courier is now expected (never earlier than planned).
    delay_s
        ``expected_start - planned_start`` in seconds, for pending stops.
    """

    index: int
    state: str
    planned_arrive: datetime | None
    planned_start: datetime | None
    actual: datetime | None = None
    expected_arrive: datetime | None = None
    expected_start: datetime | None = None
    delay_s: float | None = None


def _times(stop: Stop) -> tuple[datetime | None, datetime | None, datetime | None]:
    arrive = stop.arrive
    start = stop.start or arrive
    depart = stop.depart or start
    if arrive is None:
        arrive = start
    return arrive, start, depart


def route_etas(
    stops: Sequence[Stop],
    *,
    done: Mapping[int, datetime],
    failed: Mapping[int, datetime] | None = None,
    now: datetime,
    last_position: tuple[LatLon, datetime] | None = None,
    stop_points: Mapping[int, LatLon] | None = None,
    speed_kmh: float = TYPICAL_SPEED_KMH["motorbike"],
) -> list[StopEta]:
    """Return the expected times of every stop of one route.

    Parameters
    ----------
    stops
        The route's stops (:class:`routing.plan.Stop`).
    done
        Index of each stop done → device time of the scan that did it.
    failed
        Index of each delivery stop whose attempt failed → device time of that scan.
    now
        The current time (timezone-aware).
    last_position
        The courier's last reported position and its device time.
    stop_points
        Where each stop is (index → point), for the position-based estimate.
    speed_kmh
        Straight-line speed from the last position to the next stop.

    Returns
    -------
    list of StopEta
        One per stop, in route order.
    """
    failed = failed or {}
    stop_points = stop_points or {}
    finished = {**done, **failed}
    last_done = max(finished) if finished else -1
    delay = timedelta(0)
    if last_done >= 0:
        _, start, _ = _times(stops[last_done])
        if start is not None:
            delay = max(timedelta(0), finished[last_done] - start)
    out: list[StopEta] = []
    first_pending = True
    for index, stop in enumerate(stops):
        arrive, start, _ = _times(stop)
        if index in done:
            out.append(StopEta(index, "done", arrive, start, actual=done[index]))
            continue
        if index in failed:
            out.append(StopEta(index, "failed", arrive, start, actual=failed[index]))
            continue
        if index < last_done:
            out.append(StopEta(index, "behind", arrive, start))
            continue
        if arrive is None or start is None:
            out.append(StopEta(index, "pending", arrive, start))
            continue
        expected_arrive = arrive + delay
        if first_pending:
            expected_arrive = max(expected_arrive, now)
            point = stop_points.get(index)
            last_scan = finished[last_done] if last_done >= 0 else None
            if last_position is not None and point is not None and speed_kmh > 0:
                position, seen_at = last_position
                if last_scan is None or seen_at >= last_scan:
                    travel_s = great_circle_m(position, point) / (speed_kmh / 3.6)
                    expected_arrive = max(expected_arrive, seen_at + timedelta(seconds=travel_s))
            first_pending = False
        expected_start = max(start, expected_arrive)
        delay = expected_start - start
        out.append(
            StopEta(
                index,
                "pending",
                arrive,
                start,
                expected_arrive=expected_arrive,
                expected_start=expected_start,
                delay_s=delay.total_seconds(),
            )
        )
    return out
