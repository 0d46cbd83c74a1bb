"""``/v1/couriers``: a courier's ordered stop list, and the positions its phone reports."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import COURIER, CurrentUser, SessionDep, SettingsDep, role_of
from api.errors import PayloadTooLarge
from api.schemas import PositionIn, PositionsOut
from tracking.errors import Forbidden, InvalidInput
from tracking.models import User
from tracking.plans import courier_stops as stops_of
from tracking.positions import PositionInput
from tracking.positions import record_positions as store_positions

router = APIRouter(prefix="/v1/couriers", tags=["couriers"])


def _own_courier_only(user: User, courier_id: str, what: str) -> None:
    if role_of(user) == COURIER and user.name != courier_id:
        msg = f"a courier may {what} only its own (you are {user.name!r}, not {courier_id!r})"
        raise Forbidden(msg)


@router.get("/{courier_id}/stops")
def courier_stops(
    courier_id: str,
    session: SessionDep,
    user: CurrentUser,
    date: Annotated[str, Query(pattern=r"^\d{4}-\d{2}-\d{2}$", examples=["2026-11-23"])],
) -> dict[str, Any]:
    """A courier's ordered stops of a day, with planned and expected times.

    Each stop says what to collect or hand over and, at a home, the citizen's name and phone
    (never the ID number). A courier may read only its own list; staff, dispatchers and
    admins any courier's.
    """
    _own_courier_only(user, courier_id, "read the stop list")
    stops = stops_of(session=session, courier_id=courier_id, date=date)
    return {"courier": courier_id, "date": date, "stops": stops}


@router.post("/{courier_id}/positions", status_code=201, response_model=PositionsOut)
def record_positions(
    courier_id: str,
    positions: list[PositionIn],
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
) -> PositionsOut:
    """Record positions reported by a courier's phone (that courier only)."""
    if role_of(user) != COURIER or user.name != courier_id:
        msg = f"only courier {courier_id!r} may report its positions"
        raise Forbidden(msg)
    if len(positions) > settings.max_batch:
        msg = f"at most {settings.max_batch} positions per request; this one has {len(positions)}"
        raise PayloadTooLarge(msg)
    rows = [_position(i, p) for i, p in enumerate(positions)]
    n = store_positions(session=session, courier_id=courier_id, positions=rows)
    return PositionsOut(recorded=n)


def _position(index: int, position: PositionIn) -> PositionInput:
    try:
        return PositionInput(
            at=position.at, lat=position.lat, lon=position.lon, accuracy_m=position.accuracy_m
        )
    except InvalidInput as exc:
        msg = f"positions[{index}].{exc}"
        raise InvalidInput(msg) from None
