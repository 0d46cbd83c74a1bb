"""A dossier's history in the postal world's formats: UPU-style events and GS1 EPCIS 2.0.

Only events that count for the status are exported (flagged and void scans stay in buuta's own
history), in device-time order. Nothing personal is exported: no names, phones, ID digits or
coordinates of homes (a home scan's place is left out; sites are named by id).

UPU-style postal events (codes of the UPU EMSEVT v3 tracking events)
----------------------------------------------------------------------

================== ====== ===============================================================
buuta event        code   meaning in EMSEVT terms
================== ====== ===============================================================
collected          EMA    posting / collection (the courier collects at the home)
result_ready       EMA    posting / collection (the agency posts the result)
at_hub (pickup)    EDD    item into sorting centre (the post office hub)
at_hub (return)    EMG    arrival at delivery office
on_shuttle         EDE    item out of sorting centre (leaves on the shuttle run)
received           EMI    final delivery (to the agency, the addressee of an application)
out_for_delivery   EDG    item out for delivery
delivered          EMI    final delivery (to the citizen, identity checked)
delivery_failed    EMH    attempted / unsuccessful delivery, with the reason
returned           EMH    unsuccessful delivery, action: returned to sender (the agency)
================== ====== ===============================================================

GS1 EPCIS 2.0 (JSON-LD ``ObjectEvent``, action ``OBSERVE``; CBV 2.0 vocabulary)
---------------------------------------------------------------------------------

================== ============================== =================================
buuta event        bizStep (urn:epcglobal:cbv:    disposition (urn:epcglobal:cbv:
                   bizstep:…)                     disp:…)
================== ============================== =================================
collected          accepting                      in_transit
at_hub             arriving                       in_progress
on_shuttle         departing                      in_transit
received           receiving                      in_progress
result_ready       commissioning                  active
out_for_delivery   departing                      in_transit
delivered          accepting                      inactive
delivery_failed    holding                        in_progress
returned           receiving                      returned
================== ============================== =================================

The dossier is the object (``epcList: ["urn:buuta:dossier:<code>"]``, a private URN since
dossier codes are not GS1 keys); a site is ``urn:buuta:site:<id>`` as ``readPoint`` and
``bizLocation``; the event's id becomes ``urn:uuid:<id>`` when it is a UUID, otherwise
``urn:buuta:event:<id>``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlmodel import Session, select

from tracking.errors import NotFound
from tracking.lifecycle import EventType
from tracking.models import Dossier, ScanEvent, utcnow
from tracking.progress import load_tracks, local_iso

UPU_EVENTS: Mapping[tuple[EventType, str | None], tuple[str, str]] = {
    (EventType.COLLECTED, None): ("EMA", "Posting/collection"),
    (EventType.RESULT_READY, None): ("EMA", "Posting/collection"),
    (EventType.AT_HUB, "pickup"): ("EDD", "Item into sorting centre"),
    (EventType.AT_HUB, "return"): ("EMG", "Arrival at delivery office"),
    (EventType.ON_SHUTTLE, None): ("EDE", "Item out of sorting centre"),
    (EventType.RECEIVED, None): ("EMI", "Final delivery"),
    (EventType.OUT_FOR_DELIVERY, None): ("EDG", "Item out for delivery"),
    (EventType.DELIVERED, None): ("EMI", "Final delivery"),
    (EventType.DELIVERY_FAILED, None): ("EMH", "Attempted/unsuccessful delivery"),
    (EventType.RETURNED, None): ("EMH", "Unsuccessful delivery: returned to sender"),
}
"""``(event type, direction or None for both) → (EMSEVT code, description)``."""

EPCIS_STEPS: Mapping[EventType, tuple[str, str]] = {
    EventType.COLLECTED: ("accepting", "in_transit"),
    EventType.AT_HUB: ("arriving", "in_progress"),
    EventType.ON_SHUTTLE: ("departing", "in_transit"),
    EventType.RECEIVED: ("receiving", "in_progress"),
    EventType.RESULT_READY: ("commissioning", "active"),
    EventType.OUT_FOR_DELIVERY: ("departing", "in_transit"),
    EventType.DELIVERED: ("accepting", "inactive"),
    EventType.DELIVERY_FAILED: ("holding", "in_progress"),
    EventType.RETURNED: ("receiving", "returned"),
}
"""Event type → (CBV bizStep, CBV disposition), bare words of the URNs."""

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
            "bizStep": f"urn:epcglobal:cbv:bizstep:{step}",
            "disposition": f"urn:epcglobal:cbv:disp:{disposition}",
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
