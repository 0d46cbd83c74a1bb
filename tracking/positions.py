"""Courier positions reported by phones, and a courier's actual trace of a day."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from geo.coords import parse_latlon
from routing.clock import local_day_bounds, local_iso
from tracking.db import session_engine, write_lock
from tracking.errors import InvalidInput, NotFound
from tracking.lifecycle import FUTURE_TOLERANCE
from tracking.models import Courier, CourierPosition, Dossier, ScanEvent, utcnow
from tracking.scans import parse_time


@dataclass(frozen=True, slots=True)
class PositionInput:
    """One position from a courier's phone.

    Attributes
    ----------
    at
        Device time, timezone-aware.
    lat, lon
        Degrees (WGS84).
    accuracy_m
        The phone's accuracy estimate in metres, if given.
    """

    at: datetime
    lat: float
    lon: float
    accuracy_m: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", parse_time(self.at, where="at"))
        try:
            point = parse_latlon(self.lat, self.lon, where="lat, lon")
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        object.__setattr__(self, "lat", point.lat)
        object.__setattr__(self, "lon", point.lon)
        if self.accuracy_m is not None:
            ok = isinstance(self.accuracy_m, int | float) and not isinstance(self.accuracy_m, bool)
            if not ok or not 0 <= float(self.accuracy_m) < 100_000:
                msg = "accuracy_m: expected metres in [0, 100000)"
                raise InvalidInput(msg)

    @classmethod
    def from_json(cls, data: Any, *, where: str = "position") -> PositionInput:
        """Build a position from decoded JSON, naming ``where`` (``positions[2]``) in errors.

        Raises
        ------
        InvalidInput
            If ``data`` is not an object or a field is missing or malformed.
        """
        if not isinstance(data, Mapping):
            msg = f"{where}: expected an object, got {type(data).__name__}"
            raise InvalidInput(msg)
        unknown = sorted(set(data) - {"at", "lat", "lon", "accuracy_m"})
        if unknown:
            msg = f"{where}.{unknown[0]}: unknown field"
            raise InvalidInput(msg)
        for key in ("at", "lat", "lon"):
            if data.get(key) is None:
                msg = f"{where}.{key}: missing"
                raise InvalidInput(msg)
        try:
            return cls(
                at=data["at"], lat=data["lat"], lon=data["lon"], accuracy_m=data.get("accuracy_m")
            )
        except InvalidInput as exc:
            msg = f"{where}.{exc}"
            raise InvalidInput(msg) from None


def record_positions(
    *,
    session: Session,
    courier_id: str,
    positions: Sequence[PositionInput],
    now: datetime | None = None,
) -> int:
    """Store a batch of a courier's positions and return how many were stored.

    Parameters
    ----------
    session
        The database session; the batch is committed before returning.
    courier_id
        The courier (access is checked by the caller: a courier reports only its own).
    positions
        Positions with device times.
    now
        The server's clock; positions more than 10 minutes in its future are refused.

    Raises
    ------
    NotFound
        If no stored plan has ever named this courier.
    InvalidInput
        If a position's time lies in the future (naming ``positions[i].at``).
    """
    now = utcnow() if now is None else now
    if not positions:
        return 0
    for i, position in enumerate(positions):
        if position.at - now > FUTURE_TOLERANCE:
            msg = f"positions[{i}].at: the time is in the server's future"
            raise InvalidInput(msg)
    session.commit()
    with write_lock(session_engine(session)):
        try:
            if session.get(Courier, courier_id) is None:
                msg = "courier_id: this courier is in no stored plan"
                raise NotFound(msg)
            # One executemany, not 500 ORM objects: the unit of work would hold the interpreter
            # lock long enough to delay every other request of the server.
            rows = [
                {"courier_id": courier_id, "at": p.at, "recorded_at": now, "lat": p.lat,
                 "lon": p.lon, "accuracy_m": p.accuracy_m}
                for p in positions
            ]  # fmt: skip
            session.execute(sa.insert(CourierPosition), rows)
            session.commit()
        except BaseException:
            session.rollback()
            raise
    return len(positions)


def courier_track(*, session: Session, courier_id: str, date: str) -> dict[str, Any]:
    """Return what a courier actually did on a day: its positions and its scans, in time order.

    Returns
    -------
    dict
        ``{"courier": id, "date": date, "positions": [{at, lat, lon, accuracy_m}],
        "scans": [{event_id, dossier, type, at, site, lat, lon, flagged}]}``; times ISO
        ``+07:00``. For the live progress map.
    """
    start, end = local_day_bounds(date)
    rows = session.exec(
        select(CourierPosition)
        .where(
            CourierPosition.courier_id == courier_id,
            col(CourierPosition.at) >= start,
            col(CourierPosition.at) < end,
        )
        .order_by(col(CourierPosition.at), col(CourierPosition.id))
    )
    positions = [
        {"at": local_iso(r.at), "lat": r.lat, "lon": r.lon, "accuracy_m": r.accuracy_m}
        for r in rows
    ]
    scans = session.exec(
        select(ScanEvent, Dossier.code)
        .join(Dossier, col(Dossier.id) == col(ScanEvent.dossier_id))
        .where(
            ScanEvent.actor_name == courier_id,
            col(ScanEvent.device_at) >= start,
            col(ScanEvent.device_at) < end,
        )
        .order_by(col(ScanEvent.device_at), col(ScanEvent.id))
    )
    return {
        "courier": courier_id,
        "date": date,
        "positions": positions,
        "scans": [
            {
                "event_id": s.event_id,
                "dossier": code,
                "type": s.type,
                "at": local_iso(s.device_at),
                "site": s.site,
                "lat": s.lat,
                "lon": s.lon,
                "flagged": s.flagged,
            }
            for s, code in scans
        ],
    }
