"""``/v1/track``: the public lookup a citizen makes, with no token.

The citizen gives the dossier code and the last 4 digits of the phone number registered with
it; the answer holds the status, the last place at site level and the expected time, nothing
personal. Lookups are limited per client address so that codes cannot be guessed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from api.deps import SessionDep, TrackLimiterDep
from tracking.errors import NotFound
from tracking.views import public_track

router = APIRouter(prefix="/v1/track", tags=["track"])


@router.get(
    "/{code}",
    responses={
        404: {"description": "No dossier with this code and these phone digits."},
        429: {"description": "Too many lookups from this address; see Retry-After."},
    },
)
def track(
    code: str,
    request: Request,
    session: SessionDep,
    limiter: TrackLimiterDep,
    phone_last4: Annotated[
        str,
        Query(
            pattern=r"^\d{4}$",
            description="The last 4 digits of the phone number given with the dossier.",
            examples=["4567"],
        ),
    ],
) -> dict[str, Any]:
    """Status, last place (site level) and expected time of a dossier, for its citizen."""
    limiter.hit(request.client.host if request.client else "unknown")
    view = public_track(session=session, code=code, phone_last4=phone_last4)
    if view is None:
        # Same answer for an unknown code and wrong digits: a lookup reveals nothing.
        msg = "no dossier with this code and these phone digits"
        raise NotFound(msg)
    return view
