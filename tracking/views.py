"""What staff and citizens see of a dossier.

:func:`dossier_view` is for centre staff, dispatchers and administrators: status, custodian,
place, the full history of scans (each with its ``event_id``, device and record times, whether
it counted and why not), planned and expected times, and the citizen's contact.

:func:`public_track` is for the citizen, and shows nothing personal: the status, the last place
at site level (a site's name, or "with the courier" / "on the shuttle" / "delivered"; never
coordinates or an address), and the expected time of the next step. It needs a second factor
the citizen has (the last 4 digits of the phone number given at booking); a wrong factor and an
unknown code get the same ``None``, so the answer does not tell which codes exist.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from routing.clock import local_iso
from tracking.delivery import ID_MAX_TRIES
from tracking.expected import held_next_step
from tracking.hashing import digits_of, secret_matches
from tracking.models import CitizenContact, Dossier, Promise, Site, StoredPlan, utcnow
from tracking.progress import load_tracks

STATUS_LABELS: dict[str, str] = {
    "requested": "Pickup booked",
    "collected": "Collected from your home",
    "at_hub": "At the post office",
    "on_shuttle": "On the inter-agency shuttle",
    "received": "Received by the agency",
    "processing": "Being processed by the agency",
    "result_ready": "Result ready",
    "out_for_delivery": "Out for delivery",
    "delivered": "Delivered",
    "delivery_failed": "Delivery attempt failed",
    "returned": "Returned to the agency",
}
"""Plain-language status for citizens."""


def _site_names(session: Session, ids: set[str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for site_id in ids:
        site = session.get(Site, site_id)
        out[site_id] = site.name if site is not None else None
    return out


def dossier_view(
    *, session: Session, code: str, now: datetime | None = None
) -> dict[str, Any] | None:
    """Return everything staff need to know about one dossier, or ``None`` if unknown.

    Parameters
    ----------
    session
        The database session.
    code
        The dossier code.
    now
        The current time for expected times; defaults to the clock.

    Returns
    -------
    dict or None
        ``code``, ``direction``, ``procedure``, ``status``, ``custodian``, ``place``
        ({site, site_name, lat, lon}), ``status_at``, ``due_date``, ``failed_attempts``,
        ``plan`` ({plan_id, job, courier}), ``next`` (see
        :func:`tracking.progress.next_step`), ``citizen`` ({name, phone, address}) and
        ``history``: every scan in device-time order with ``event_id``, ``type``, ``at``,
        ``recorded_at``, ``actor``, ``role``, ``site``, ``lat``, ``lon``, ``custodian_after``,
        ``applied`` (whether it counts for the status), ``note`` (why not), ``flagged`` and
        ``flag_reason`` (the answer given when it arrived), ``proof`` (method and recipient,
        never a secret).
    """
    now = utcnow() if now is None else now
    dossier = session.exec(select(Dossier).where(Dossier.code == code)).first()
    if dossier is None or dossier.id is None:
        return None
    track = load_tracks(session, [dossier])[dossier.id]
    by_id = {r.event_id: r for r in track.rows}
    ordered = [by_id[k] for k in track.fold.order]
    void = [r for r in track.rows if r.void_reason is not None]
    ordered.extend(sorted(void, key=lambda r: (r.device_at, r.id or 0)))
    sites = {r.site for r in ordered if r.site} | ({dossier.place_site} - {None})
    names = _site_names(session, {s for s in sites if s is not None})
    history = []
    for row in ordered:
        note = row.void_reason or track.fold.outcomes.get(row.event_id)
        history.append(
            {
                "event_id": row.event_id,
                "type": row.type,
                "at": local_iso(row.device_at),
                "recorded_at": local_iso(row.recorded_at),
                "actor": row.actor_name,
                "role": row.actor_role,
                "site": row.site,
                "site_name": names.get(row.site) if row.site else None,
                "lat": row.lat,
                "lon": row.lon,
                "job": row.job,
                "custodian_after": row.custodian_after,
                "applied": note is None,
                "note": note,
                "flagged": row.flagged,
                "flag_reason": row.flag_reason,
                "proof": row.proof_json,
            }
        )
    contact = session.exec(
        select(CitizenContact).where(CitizenContact.dossier_id == dossier.id)
    ).first()
    plan = session.get(StoredPlan, dossier.plan_id) if dossier.plan_id else None
    return {
        "code": dossier.code,
        "direction": dossier.direction,
        "procedure": dossier.procedure,
        "status": dossier.status,
        "status_label": STATUS_LABELS.get(dossier.status, dossier.status),
        "custodian": dossier.custodian,
        "place": {
            "site": dossier.place_site,
            "site_name": names.get(dossier.place_site) if dossier.place_site else None,
            "lat": dossier.place_lat,
            "lon": dossier.place_lon,
        },
        "status_at": local_iso(dossier.status_at),
        "due_date": dossier.due_date,
        "promised_date": _promised_date(session, dossier),
        "failed_attempts": dossier.failed_attempts,
        "plan": {
            "plan_id": dossier.plan_id,
            "date": plan.date if plan else None,
            "job": dossier.job_id,
            "courier": dossier.courier_id,
        },
        "next": held_next_step(session=session, dossier=dossier, now=now),
        "citizen": (
            {"name": contact.name, "phone": contact.phone, "address": contact.address}
            if contact
            else None
        ),
        "history": history,
        "identity_check": _identity_check(contact),
    }


def _identity_check(contact: CitizenContact | None) -> dict[str, Any] | None:
    """What staff need to decide about the ID digits at delivery (no digits, no hashes)."""
    if contact is None or contact.id_last4_hash is None:
        return None
    return {
        "id_wrong_tries": contact.id_wrong_tries,
        "id_digits_blocked": contact.id_wrong_tries >= ID_MAX_TRIES,
        "cleared_by": contact.id_cleared_by,
        "cleared_at": local_iso(contact.id_cleared_at),
    }


def _public_place(dossier: Dossier, site_name: str | None) -> dict[str, Any]:
    custodian = dossier.custodian or ""
    kind = custodian.split(":", 1)[0] if custodian else None
    if kind == "site" and dossier.place_site:
        return {"kind": "site", "site": dossier.place_site, "name": site_name}
    if kind == "shuttle":
        return {"kind": "shuttle", "site": dossier.place_site, "name": site_name}
    if kind == "courier":
        return {"kind": "courier", "site": None, "name": "With the courier"}
    if kind == "citizen":
        return {"kind": "citizen", "site": None, "name": "Handed to the recipient"}
    return {"kind": None, "site": None, "name": None}


def public_track(
    *,
    session: Session,
    code: str,
    phone_last4: str,
    now: datetime | None = None,
) -> dict[str, Any] | None:
    """Return a citizen's view of their dossier, or ``None`` if the code or digits are wrong.

    Parameters
    ----------
    session
        The database session.
    code
        The dossier code printed on the receipt.
    phone_last4
        The last 4 digits of the phone number given for the dossier (the second factor).
    now
        The current time for the expected time; defaults to the clock.

    Returns
    -------
    dict or None
        ``code``, ``status``, ``status_label``, ``updated_at``, ``place`` (site level only:
        {kind, site, name}), ``next_step`` and ``expected`` (ISO time, ``+07:00``; never in
        the past: ``None`` with ``late`` true when the step is overdue), ``due_date``,
        ``promised_date`` (from the procedure's processing time, if given).
        Never a name, phone, ID number, address or coordinates.
    """
    digits = digits_of(phone_last4 or "")
    if len(digits) != 4 or len(phone_last4) > 12:
        return None
    # The dossier, its citizen's hashes and its site's name in one query (a lookup's hot path).
    stmt = (
        select(Dossier, CitizenContact, Site.name)
        .join(CitizenContact, col(CitizenContact.dossier_id) == col(Dossier.id), isouter=True)
        .join(Site, col(Site.id) == col(Dossier.place_site), isouter=True)
        .where(Dossier.code == code)
    )
    found = session.exec(stmt).first()
    dossier, contact, site_name = found if found is not None else (None, None, None)
    if contact is None:
        # Spend the same hashing time as a real check, so timing does not tell codes apart.
        secret_matches(digits, "0" * 32, "0" * 64, purpose="phone_last4")
        return None
    if dossier is None or not secret_matches(
        digits, contact.salt, contact.phone_last4_hash, purpose="phone_last4"
    ):
        return None
    now = utcnow() if now is None else now
    step = held_next_step(session=session, dossier=dossier, now=now)
    return {
        "code": dossier.code,
        "status": dossier.status,
        "status_label": STATUS_LABELS.get(dossier.status, dossier.status),
        "updated_at": local_iso(dossier.status_at),
        "place": _public_place(dossier, site_name),
        "next_step": step["next_step"] if step else None,
        "expected": step["expected"] if step else None,
        "late": bool(step and step["late"]),
        "due_date": dossier.due_date,
        "promised_date": _promised_date(session, dossier),
    }


def _promised_date(session: Session, dossier: Dossier) -> str | None:
    promise = session.get(Promise, dossier.id) if dossier.id is not None else None
    return promise.promised_date if promise is not None else None
