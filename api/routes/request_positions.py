"""Set a request's point by hand: ``POST /v1/requests/{id}/position`` (DESIGN §8).

The dispatcher drags an uncertain pin (an address the gazetteer could place only at its ward's
or district's point) to the citizen's house on the request book's page; the page posts here.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.deps import DispatcherUser, SessionDep
from tracking.request_positions import set_position
from tracking.requests import request_json

__all__ = ["PinIn", "router"]

router = APIRouter(tags=["requests"])


class PinIn(BaseModel):
    """A point in decimal degrees (WGS 84) where the citizen is."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"lat": 9.0944, "lon": 104.8863}]}
    )
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)


@router.post(
    "/v1/requests/{request_id}/position",
    response_model=None,
    responses={
        200: {"description": "The request, its point set by hand (`geocoded.precision`: "
              "`manual`, with the gazetteer's `was` and the user in `set_by`)."},
        404: {"description": "No such request."},
        422: {"description": "Not a point, or the request is no longer open."},
    },
)  # fmt: skip
async def post_position(
    request_id: str, body: PinIn, session: SessionDep, user: DispatcherUser
) -> dict[str, Any]:
    """Move an open request's point to where the citizen is (a pin dragged on the map).

    The request keeps the gazetteer's name and precision in ``geocoded`` (``was``) and is marked
    ``"precision": "manual"``; its day's next plan goes to the new point. A request no longer
    open is refused (422): its plan already sends a courier to the old point.
    """
    row = await run_in_threadpool(
        set_position,
        session=session,
        request_id=request_id,
        lat=body.lat,
        lon=body.lon,
        actor=user.name,
    )
    return request_json(row, personal=True)
