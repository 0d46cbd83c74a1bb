"""``/v1/dossiers``: where a dossier is and its full history, for centre staff; exports;
one-time codes for the hand-over of results."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

import tracking
from api.deps import SessionDep, StaffUser
from api.schemas import DeliveryCodeOut
from tracking.delivery import clear_id_digit_block
from tracking.delivery import issue_delivery_code as new_delivery_code
from tracking.errors import NotFound
from tracking.views import dossier_view

router = APIRouter(prefix="/v1/dossiers", tags=["dossiers"])


def _not_found(code: str) -> NotFound:
    # The code is not repeated: error messages never echo what was sent (api/errors.py).
    return NotFound("dossier: no dossier with this code")


@router.get("/{code}")
def read_dossier(
    code: str,
    session: SessionDep,
    _user: StaffUser,
    format: Annotated[
        Literal["json", "upu", "epcis"],
        Query(description="json (buuta's view), upu (postal events) or epcis (GS1 EPCIS 2.0)"),
    ] = "json",
) -> dict[str, Any]:
    """A dossier's status, custodian, place, planned and expected times and full history.

    Every history entry carries the ``event_id`` the phone made. ``format=upu`` exports the
    history as UPU-style postal events, ``format=epcis`` as a GS1 EPCIS 2.0 JSON-LD document.
    For staff, dispatchers and admins.
    """
    if format == "upu":
        return tracking.export_upu(session=session, code=code)
    if format == "epcis":
        return tracking.export_epcis(session=session, code=code)
    view = dossier_view(session=session, code=code)
    if view is None:
        raise _not_found(code)
    return view


@router.post("/{code}/delivery-code", status_code=201, response_model=DeliveryCodeOut)
def issue_delivery_code(code: str, session: SessionDep, _user: StaffUser) -> DeliveryCodeOut:
    """Issue a one-time code for the hand-over of a result (give it to the citizen).

    Only the code's hash is kept; it expires, may be tried a few times, and is used once, by the
    courier's ``delivered`` scan (``proof.code``).
    """
    otp = new_delivery_code(session=session, code=code)
    return DeliveryCodeOut(dossier=code, code=otp)


@router.post("/{code}/id-check/clear")
def allow_id_digits_again(code: str, session: SessionDep, user: StaffUser) -> dict[str, Any]:
    """Let the citizen ID digits be tried again at delivery: a staff decision, recorded.

    After 5 wrong tries of ``proof.id_last4`` on a dossier (counted across requests and
    servers) the courier's ``delivered`` scans are flagged ``id_digits_blocked``, and the
    hand-over needs a one-time code (``POST /v1/dossiers/{code}/delivery-code``) or this
    decision, taken after checking the citizen's identity another way. The answer says how
    many wrong tries were cleared; who decided and when are kept.
    """
    return clear_id_digit_block(session=session, code=code, by=user.name)
