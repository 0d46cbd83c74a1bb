"""``/v1/track``: the public lookup a citizen makes, with no token.

The citizen gives the dossier code and the last 4 digits of the phone number registered with
it; the answer holds the status, the last place at site level and the expected time, nothing
personal. Lookups are limited per client address, and lookups with wrong digits per dossier
code, both counted in the database (``api/ratelimit.py``), so that codes and digits cannot be
guessed, from one address or from many.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from api.deps import SessionDep, SettingsDep
from api.ratelimit import check_lookup, count_failed_lookup
from tracking.errors import NotFound
from tracking.views import public_track

router = APIRouter(prefix="/v1/track", tags=["track"])


@router.get(
    "/{code}",
    responses={
        404: {"description": "No dossier with this code and these phone digits."},
        429: {
            "description": "Too many lookups from this address, or with wrong digits for this "
            "code; see Retry-After."
        },
    },
)
def track(
    code: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
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
    check_lookup(request=request, session=session, settings=settings, code=code)
    view = public_track(session=session, code=code, phone_last4=phone_last4)
    if view is None:
        count_failed_lookup(session=session, settings=settings, code=code)
        # Same answer for an unknown code and wrong digits: a lookup reveals nothing.
        msg = "no dossier with this code and these phone digits"
        raise NotFound(msg)
    return view
