"""``/v1/couriers``: a courier's ordered stop list, and the positions its phone reports."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from api.batch import list_body_openapi, read_list_body
from api.deps import COURIER, CurrentUser, SessionDep, SettingsDep, role_of
from api.schemas import PositionIn, PositionsOut
from tracking.errors import Forbidden, InvalidInput
from tracking.models import User
from tracking.plans import courier_stops as stops_of
from tracking.positions import PositionInput
from tracking.positions import record_positions as store_positions

router = APIRouter(prefix="/v1/couriers", tags=["couriers"])


def _own_courier_only(user: User, courier_id: str, what: str) -> None:
    if role_of(user) == COURIER and user.name != courier_id:
        msg = f"a courier may {what} only its own (you are courier {user.name})"
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


@router.post(
    "/{courier_id}/positions",
    status_code=201,
    response_model=PositionsOut,
    openapi_extra=list_body_openapi(PositionIn, "Positions (at most BUUTA_MAX_BATCH)."),
)
async def record_positions(
    courier_id: str,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
) -> PositionsOut:
    """Record positions reported by a courier's phone (that courier only)."""
    if role_of(user) != COURIER or user.name != courier_id:
        msg = "only the courier itself may report its positions"
        raise Forbidden(msg)
    positions = await read_list_body(
        request, PositionIn, max_items=settings.max_batch, what="positions"
    )
    rows = [_position(i, p) for i, p in enumerate(positions)]
    n = await run_in_threadpool(
        store_positions, session=session, courier_id=courier_id, positions=rows
    )
    return PositionsOut(recorded=n)


def _position(index: int, position: PositionIn) -> PositionInput:
    try:
        return PositionInput(
            at=position.at, lat=position.lat, lon=position.lon, accuracy_m=position.accuracy_m
        )
    except InvalidInput as exc:
        msg = f"positions[{index}].{exc}"
        raise InvalidInput(msg) from None
