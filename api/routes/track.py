"""``/v1/track``: the public lookup a citizen makes, with no token.

The citizen gives the dossier code and the last 4 digits of the phone number registered with
it; the answer holds the status, the last place at site level and the expected time, nothing
personal. Lookups are limited per client address so that codes cannot be guessed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from api.deps import SessionDep
from api.limits import RateLimiter
from tracking.errors import NotFound
from tracking.views import public_track

router = APIRouter(prefix="/v1/track", tags=["track"])


def count_lookup(request: Request) -> None:
    """Count one public lookup of the request's client against the lookup limit.

    The one place both public lookups go through: this route and the citizen's page
    ``/tra-cuu`` (:mod:`api.citizen_pages`), so they share one limit per client.

    Raises
    ------
    api.errors.RateLimited
        When the client has used up its lookups for now (answered 429 with Retry-After).
    """
    limiter: RateLimiter = request.app.state.track_limiter
    limiter.hit(request.client.host if request.client else "unknown")


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
    count_lookup(request)
    view = public_track(session=session, code=code, phone_last4=phone_last4)
    if view is None:
        # Same answer for an unknown code and wrong digits: a lookup reveals nothing.
        msg = "no dossier with this code and these phone digits"
        raise NotFound(msg)
    return view
