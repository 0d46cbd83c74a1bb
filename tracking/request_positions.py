"""Where a request of the book is, set by hand (DESIGN §8: the dispatcher drags the pin).

The offline gazetteer places an address at the point of the ward or district it names, not at
the house, and keeps how sure it was in the request's ``geocoded`` (``{"precision", "name"}``,
precision ``"ward"`` or ``"district"``). Such a request's pin is *uncertain*: the dispatcher
sees it on a map and drops it where the citizen lives. :func:`set_position` stores that point
and marks it ``"precision": "manual"``, keeping the gazetteer's name and precision beside it.

A request booked again with the same content stays ``unchanged`` and keeps the hand-set point;
one booked again with other content is placed again from its new address or point.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from geo import parse_latlon
from tracking.db import session_engine, write_lock
from tracking.errors import InvalidInput, NotFound
from tracking.models import BookedRequest, utcnow

__all__ = ["MANUAL", "UNCERTAIN_PRECISIONS", "is_uncertain", "set_position"]

MANUAL = "manual"
"""The ``geocoded.precision`` of a point set by hand."""

UNCERTAIN_PRECISIONS = frozenset({"ward", "district"})
"""Gazetteer precisions whose point is an area's centre, not the citizen's house."""


def is_uncertain(geocoded: dict[str, Any] | None) -> bool:
    """Whether a request placed by the gazetteer still waits for its pin to be set by hand.

    Parameters
    ----------
    geocoded
        The request's ``geocoded`` (``None`` when it was given as ``lat``/``lon``).
    """
    return bool(geocoded) and (geocoded or {}).get("precision") in UNCERTAIN_PRECISIONS


def set_position(
    *, session: Session, request_id: str, lat: float, lon: float, actor: str
) -> BookedRequest:
    """Store the point a person set for an open request, marked as set by hand.

    Parameters
    ----------
    session
        A database session (committed here).
    request_id
        The request's id.
    lat, lon
        The point in decimal degrees (WGS 84).
    actor
        The user who set it (kept in ``geocoded.set_by``).

    Returns
    -------
    BookedRequest
        The request as now stored.

    Raises
    ------
    NotFound
        When no request has this id.
    InvalidInput
        When the point is not a place on Earth, or the request is no longer open (its plan
        already holds where the courier goes).
    """
    try:
        point = parse_latlon(lat, lon, where="position")
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    with write_lock(session_engine(session)):
        row = session.get(BookedRequest, request_id)
        if row is None:
            msg = f"request {request_id}: no such request"
            raise NotFound(msg)
        if row.status != "open":
            msg = f"request {request_id} is {row.status}: only an open request can be moved"
            raise InvalidInput(msg)
        was = dict(row.geocoded_json or {})
        if was.get("precision") == MANUAL:
            was = {"precision": was.get("was"), "name": was.get("name")}
        row.job_json = {**row.job_json, "lat": round(point.lat, 6), "lon": round(point.lon, 6)}
        row.geocoded_json = {
            "precision": MANUAL,
            "name": was.get("name"),
            "was": was.get("precision"),
            "set_by": actor,
        }
        row.updated_at = utcnow()
        session.add(row)
        session.commit()
        session.refresh(row)
        return row
