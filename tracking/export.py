"""A dossier's history in the postal world's formats: UPU-style events and GS1 EPCIS 2.0.

Only events that count for the status are exported (flagged and void scans stay in buuta's own
history), in device-time order. Nothing personal is exported: no names, phones, ID digits or
coordinates of homes (a home scan's place is left out; sites are named by id).

UPU-style postal events (UPU EMSEVT V3 event codes)
---------------------------------------------------

Each event carries an EMSEVT V3 item event code and UPU's name for it as ``description``
(:data:`UPU_EVENTS`); buuta uses seven codes and invents none. Every buuta scan type has one
(the shuttle and the post office are told as a sorting centre's in and out, the agency as the
addressee of an application and the sender of a result):

================== ====== ===============================================================
buuta event        code   UPU name (what it stands for in buuta)
================== ====== ===============================================================
collected          EMA    Posting/collection (the courier collects at the home)
result_ready       EMA    Posting/collection (the agency posts the result)
at_hub (pickup)    EDD    Item into sorting centre (the post office hub)
at_hub (return)    EMG    Arrival at delivery office
on_shuttle         EDE    Item out of sorting centre (leaves on the shuttle run)
received           EMI    Final delivery (to the agency, the addressee of an application)
out_for_delivery   EDG    Item out for physical delivery
delivered          EMI    Final delivery (to the citizen, identity checked)
delivery_failed    EMH    Unsuccessful (physical) delivery; ``reason``: the courier's
returned           EMH    Unsuccessful (physical) delivery; ``reason``: returned to sender
================== ====== ===============================================================

GS1 EPCIS 2.0 (JSON-LD ``ObjectEvent``, action ``OBSERVE``; CBV 2.0 vocabulary)
---------------------------------------------------------------------------------

EPCIS 2.0 writes the standard (CBV) vocabulary as bare words (``"accepting"``, not the EPCIS
1.x URN ``urn:epcglobal:cbv:bizstep:accepting``, which GS1's EPCIS 2.0 JSON Schema refuses)
and any other vocabulary as a URI outside GS1's namespaces. :data:`EPCIS_STEPS` is the one
table of the mapping:

================== ====================================== ===========
buuta event        bizStep                                disposition
================== ====================================== ===========
collected          accepting                              in_transit
at_hub             arriving                               in_progress
on_shuttle         departing                              in_transit
received           receiving                              in_progress
result_ready       commissioning                          active
out_for_delivery   departing                              in_transit
delivered          accepting                              inactive
delivery_failed    ``urn:buuta:bizstep:delivery_failed``  in_transit
returned           receiving                              returned
================== ====================================== ===========

CBV 2.0 has no business step for a delivery attempt that failed, so ``delivery_failed`` uses
buuta's own step (the courier still carries the result: ``in_transit``).

The dossier is the object (``epcList: ["urn:buuta:dossier:<code>"]``, a private URN since
dossier codes are not GS1 keys); a site is ``urn:buuta:site:<id>`` as ``readPoint`` and
``bizLocation``; the event's id becomes ``urn:uuid:<id>`` when it is a UUID, otherwise
``urn:buuta:event:<id>``. Every ``urn:buuta:`` URI is percent-encoded (RFC 3986).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlmodel import Session, select

from routing.clock import local_iso
from tracking.errors import NotFound
from tracking.lifecycle import EventType
from tracking.models import Dossier, ScanEvent, utcnow
from tracking.progress import load_tracks

UPU_EVENTS: Mapping[tuple[EventType, str | None], tuple[str, str]] = {
    (EventType.COLLECTED, None): ("EMA", "Posting/collection"),
    (EventType.RESULT_READY, None): ("EMA", "Posting/collection"),
    (EventType.AT_HUB, "pickup"): ("EDD", "Item into sorting centre"),
    (EventType.AT_HUB, "return"): ("EMG", "Arrival at delivery office"),
    (EventType.ON_SHUTTLE, None): ("EDE", "Item out of sorting centre"),
    (EventType.RECEIVED, None): ("EMI", "Final delivery"),
    (EventType.OUT_FOR_DELIVERY, None): ("EDG", "Item out for physical delivery"),
    (EventType.DELIVERED, None): ("EMI", "Final delivery"),
    (EventType.DELIVERY_FAILED, None): ("EMH", "Unsuccessful (physical) delivery"),
    (EventType.RETURNED, None): ("EMH", "Unsuccessful (physical) delivery"),
}
"""``(event type, direction or None for both) → (EMSEVT code, description)``."""

BUUTA_BIZSTEP = "urn:buuta:bizstep:"
"""Prefix of buuta's own business steps, for steps CBV 2.0 does not have."""

EPCIS_STEPS: Mapping[EventType, tuple[str, str]] = {
    EventType.COLLECTED: ("accepting", "in_transit"),
    EventType.AT_HUB: ("arriving", "in_progress"),
    EventType.ON_SHUTTLE: ("departing", "in_transit"),
    EventType.RECEIVED: ("receiving", "in_progress"),
    EventType.RESULT_READY: ("commissioning", "active"),
    EventType.OUT_FOR_DELIVERY: ("departing", "in_transit"),
    EventType.DELIVERED: ("accepting", "inactive"),
    EventType.DELIVERY_FAILED: (f"{BUUTA_BIZSTEP}delivery_failed", "in_transit"),
    EventType.RETURNED: ("receiving", "returned"),
}
"""Event type → (bizStep, disposition) as EPCIS 2.0 writes them: a CBV 2.0 word, bare, or a
URI of buuta's own vocabulary (outside GS1's namespaces) where CBV has no word for the step."""

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"


def _applied(session: Session, code: str) -> tuple[Dossier, list[ScanEvent]]:
    dossier = session.exec(select(Dossier).where(Dossier.code == code)).first()
    if dossier is None or dossier.id is None:
        msg = "code: no dossier with this code"
        raise NotFound(msg)
    track = load_tracks(session, [dossier])[dossier.id]
    by_id = {r.event_id: r for r in track.rows}
    rows = [by_id[k] for k in track.fold.order if track.fold.outcomes.get(k) is None]
    return dossier, rows


def upu_code(event_type: EventType, direction: str) -> tuple[str, str]:
    """Return the EMSEVT code and description of an event (see the module's table)."""
    return UPU_EVENTS.get((event_type, direction)) or UPU_EVENTS[(event_type, None)]


def export_upu(*, session: Session, code: str) -> dict[str, Any]:
    """Return a dossier's history as UPU-style postal events.

    Returns
    -------
    dict
        ``{"item": code, "direction": …, "events": [{"code": "EMA", "description": …,
        "buuta_event": "collected", "at": iso +07:00, "office": site id or None,
        "reason": for EMH}]}``.

    Raises
    ------
    NotFound
        If there is no such dossier.
    """
    dossier, rows = _applied(session, code)
    events = []
    for row in rows:
        event_type = EventType(row.type)
        upu, description = upu_code(event_type, dossier.direction)
        item: dict[str, Any] = {
            "code": upu,
            "description": description,
            "buuta_event": event_type.value,
            "at": local_iso(row.device_at),
            "office": row.site,
        }
        if upu == "EMH":
            reason = (row.proof_json or {}).get("reason")
            item["reason"] = "returned to sender" if event_type is EventType.RETURNED else reason
        events.append(item)
    return {"item": dossier.code, "direction": dossier.direction, "events": events}


def _event_uri(event_id: str) -> str:
    try:
        return f"urn:uuid:{uuid.UUID(event_id)}"
    except ValueError:
        return f"urn:buuta:event:{quote(event_id, safe='')}"


def export_epcis(*, session: Session, code: str, now: datetime | None = None) -> dict[str, Any]:
    """Return a dossier's history as a GS1 EPCIS 2.0 JSON-LD document of ObjectEvents.

    Parameters
    ----------
    session
        The database session.
    code
        The dossier code.
    now
        The document's creation date; defaults to the clock.

    Returns
    -------
    dict
        An ``EPCISDocument`` (schemaVersion 2.0) whose ``epcisBody.eventList`` holds one
        ``ObjectEvent`` per applied scan (mapping in the module docstring).

    Raises
    ------
    NotFound
        If there is no such dossier.
    """
    dossier, rows = _applied(session, code)
    epc = f"urn:buuta:dossier:{quote(dossier.code, safe='.-_')}"
    events = []
    for row in rows:
        step, disposition = EPCIS_STEPS[EventType(row.type)]
        event: dict[str, Any] = {
            "type": "ObjectEvent",
            "eventID": _event_uri(row.event_id),
            "eventTime": local_iso(row.device_at),
            "eventTimeZoneOffset": "+07:00",
            "recordTime": local_iso(row.recorded_at),
            "epcList": [epc],
            "action": "OBSERVE",
            "bizStep": step,
            "disposition": disposition,
        }
        if row.site:
            site = f"urn:buuta:site:{quote(row.site, safe='.-_')}"
            event["readPoint"] = {"id": site}
            event["bizLocation"] = {"id": site}
        events.append(event)
    return {
        "@context": [EPCIS_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": local_iso(utcnow() if now is None else now),
        "epcisBody": {"eventList": events},
    }
