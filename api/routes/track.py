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
from sqlmodel import Session

from api.deps import SessionDep
from api.ratelimit import check_lookup, count_failed_lookup
from tracking.errors import NotFound
from tracking.views import public_track

router = APIRouter(prefix="/v1/track", tags=["track"])


def count_lookup(request: Request, session: Session, code: str) -> None:
    """Count one public lookup of ``code`` against the lookup limits.

    The one place both public lookups go through: this route and the citizen's page
    ``/tra-cuu`` (:mod:`api.citizen_pages`), so they share the limits per client address and
    per dossier code (``api/ratelimit.py``, counted in the database).

    Raises
    ------
    api.errors.RateLimited
        When the client has used up its lookups for now, or the code had too many lookups with
        wrong digits (answered 429 with Retry-After).
    """
    check_lookup(request=request, session=session, settings=request.app.state.settings, code=code)


def count_wrong_lookup(request: Request, session: Session, code: str) -> None:
    """Count a lookup of ``code`` that found nothing (wrong digits or no such dossier)."""
    count_failed_lookup(session=session, settings=request.app.state.settings, code=code)


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
    count_lookup(request, session, code)
    view = public_track(session=session, code=code, phone_last4=phone_last4)
    if view is None:
        count_wrong_lookup(request, session, code)
        # Same answer for an unknown code and wrong digits: a lookup reveals nothing.
        msg = "no dossier with this code and these phone digits"
        raise NotFound(msg)
    return view
