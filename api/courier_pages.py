"""The courier's phone page: ``/couriers/{id}/stops`` (DESIGN §9).

The stop list of a day, numbered as on the plan map, with the actions that fit each stop
(collected, handed over, out for delivery, delivered with proof, failed with a reason). The
page hands ``/static/courier.js`` the words and addresses it needs; the script records every
scan offline first (IndexedDB) and sends it to ``POST /v1/scans`` with the session cookie. The
rows come from :func:`stop_rows`, which the tests read too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session, col, select

import tracking
from api import words
from api.deps import (
    COURIER,
    role_of,
)
from api.i18n import N_, current_locale, format_day, ngettext
from api.i18n import gettext as _
from routing.clock import LOCAL_TZ
from tracking.models import Dossier, ScanEvent

if TYPE_CHECKING:
    pass
from api.pages import (
    DATE_PATTERN,
    STAFF_ROLES,
    PageError,
    day_step,
    hhmm_of,
    page_day,
    page_session,
    page_user,
    render_page,
    today_local,
)

router = APIRouter(include_in_schema=False, tags=["pages"])


def _hhmm_after(value: Any, planned: Any) -> str:
    """``HH:MM`` of an expected time, with ``(+Nd)`` when it falls on a later day than planned."""
    text = hhmm_of(value)
    try:
        later = datetime.fromisoformat(str(value)).astimezone(LOCAL_TZ).date()
        base = datetime.fromisoformat(str(planned)).astimezone(LOCAL_TZ).date()
    except ValueError:
        return text
    days = (later - base).days
    return _("%(time)s (+%(days)s d)", time=text, days=days) if days > 0 else text


_HEADINGS = {
    "pickup": N_("Pick up at home"),
    "delivery": N_("Deliver to home"),
    "handoff": N_("Hand over at %(place)s"),
    "collect": N_("Collect results at %(place)s"),
    "start": N_("Start at %(place)s"),
    "end": N_("Finish at %(place)s"),
    "break": N_("Break at %(place)s"),
}
"""What the courier does at each kind of stop (``%(place)s``: the site's name)."""

_NO_PLACE_HEADINGS = {
    "handoff": N_("Hand over at the post office"),
    "collect": N_("Collect results at the post office"),
    "start": N_("Start from where you are now"),
    "end": N_("Finish"),
    "break": N_("Break"),
}
"""Headings of site stops whose place is unknown (a re-planned start is a position, no site)."""

FAILURE_REASONS = {
    "not_home": N_("No one at home"),
    "refused": N_("The citizen refused the result"),
    "wrong_address": N_("Wrong or unknown address"),
    "no_proof": N_("No one-time code or ID to check"),
    "unreachable": N_("Cannot reach the house (road, water)"),
    "other": N_("Another reason"),
}
"""Why a delivery failed: the choices the phone offers (sent as ``reason``, see below)."""

NEXT_STEPS = {
    "retry_today": N_("Try again later today"),
    "retry_next_day": N_("Try again on the next working day"),
    "citizen_calls": N_("Wait for the citizen to book a new time"),
    "return_to_agency": N_("Take it back to the agency"),
}
"""What happens after a failed delivery. The phone sends ``reason`` as ``"<reason>; next=<step>"``
(e.g. ``"not_home; next=retry_next_day"``), which fits the API's free-text reason."""

_STATE_LABELS = {
    "done": N_("Done"),
    "failed": N_("Failed"),
    "behind": N_("To do · behind plan"),
    "pending": N_("To do"),
}
_PLACED = {"pickup", "delivery", "handoff", "collect", "break"}


def failure_words(reason: str | None) -> str:
    """A failed delivery's stored reason in words: ``"refused; next=return_to_agency"`` becomes
    the reason and the next step; free text typed elsewhere is shown as it is."""
    if not reason:
        return ""
    code, _sep, rest = reason.partition(";")
    words = _(FAILURE_REASONS[code.strip()]) if code.strip() in FAILURE_REASONS else reason
    step = rest.strip().removeprefix("next=").strip()
    if step in NEXT_STEPS:
        return f"{words} → {_(NEXT_STEPS[step])}"
    return words


def _heading(kind: str, site_name: Any) -> str:
    if kind in _NO_PLACE_HEADINGS:
        if site_name:
            return _(_HEADINGS[kind], place=site_name)
        return _(_NO_PLACE_HEADINGS[kind])
    return _(_HEADINGS[kind]) if kind in _HEADINGS else kind


def _task(kind: str, stop: Mapping[str, Any], n: int, shuttles: Mapping[str, Any]) -> str:
    if kind == "handoff":
        task = ngettext("Hand over %(num)s dossier.", "Hand over %(num)s dossiers.", n)
        run = stop.get("shuttle")
        if run:
            departs = hhmm_of(shuttles.get(str(run), {}).get("departs"))
            task += " " + _("Run %(run)s departs %(time)s.", run=run, time=departs or "?")
        return task
    if kind == "collect":
        return ngettext("Collect %(num)s result to deliver.", "Collect %(num)s results.", n)
    if kind == "pickup":
        return _("Take the dossier from the citizen, then tap “Collected”.")
    if kind == "delivery":
        return _("Check the one-time code or the ID digits, then hand over the result.")
    if kind == "break" and stop.get("start") and stop.get("depart"):
        return _(
            "Rest %(start)s–%(end)s.", start=hhmm_of(stop["start"]), end=hhmm_of(stop["depart"])
        )
    return ""


def _name_break_places(rows: list[dict[str, Any]]) -> None:
    """Say where each break is taken: at a site by its name, at a home by the stop there.

    A break is taken where the courier is: the place of the stop before it (it rests, then
    rides on) or of the stop after it (it rides on, rests there, then waits for the window).
    """
    for i, row in enumerate(rows):
        if row["type"] != "break" or row["site"]:
            continue
        here = (row["lat"], row["lon"])
        before = [r for r in reversed(rows[:i]) if r["type"] != "break"][:1]
        after = [r for r in rows[i + 1 :] if r["type"] != "break"][:1]
        same = [r for r in (*before, *after) if (r["lat"], r["lon"]) == here and r["number"]]
        row["heading"] = (
            _("Break at the place of stop %(number)s", number=same[0]["number"])
            if same
            else _("Break on the way")
        )


def _stop_items(stop: Mapping[str, Any]) -> list[dict[str, str]]:
    """The dossiers of a stop: ``job``, ``dossier`` and its current ``status`` code."""
    listed = stop.get("hand_over") or stop.get("collect") or []
    items = [
        {
            "job": str(d.get("job") or ""),
            "dossier": str(d.get("dossier") or d.get("job")),
            "status": str(d.get("status") or ""),
        }
        for d in listed
        if isinstance(d, Mapping)
    ]
    if not items and stop.get("dossier"):
        items = [
            {
                "job": str(stop.get("job") or ""),
                "dossier": str(stop["dossier"]),
                "status": str(stop.get("status") or ""),
            }
        ]
    return items


def _nav_links(lat: Any, lon: Any, name: str) -> tuple[str, str]:
    if not (isinstance(lat, int | float) and isinstance(lon, int | float)):
        return "", ""
    where = quote(name)
    return (
        f"geo:{lat:.6f},{lon:.6f}?q={lat:.6f},{lon:.6f}({where})",
        f"https://www.google.com/maps/dir/?api=1&destination={lat:.6f}%2C{lon:.6f}",
    )


def stop_rows(
    stops: Sequence[Mapping[str, Any]],
    *,
    sites: Mapping[str, Mapping[str, Any]] | None = None,
    shuttles: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Turn a courier's stop list (``tracking.courier_stops``) into the rows of its page.

    Stops are numbered as the plan map numbers them (:func:`api.maps.plan_map`): every stop
    with a place except the start and the end, in visiting order; a break without a place is
    left out, so the phone's stop 4 is the map's stop 4.

    Parameters
    ----------
    stops
        The ordered stops of one courier and day, as ``GET /v1/couriers/{id}/stops`` returns
        them (plan stops plus ``state``, expected times, job details and citizen contact).
    sites
        The plan request's sites by id, to place site stops and name them.
    shuttles
        The plan request's shuttle runs by id, to say when a hand-off's run departs.

    Returns
    -------
    list of dict
        Per stop: ``key`` (index in the route), ``number`` (None for start and end), ``type``,
        ``heading``, ``status`` (``done``/``failed``/``pending``), ``status_label``,
        ``planned``, ``expected``, ``window``, ``place``, ``task``, ``dossier_rows`` (``job``,
        ``dossier``, ``status``), ``dossiers``, ``contact``, ``phone`` (for a ``tel:`` link),
        ``site``, ``lat``, ``lon``, ``geo`` and ``maps`` (navigation links).
    """
    sites = sites or {}
    shuttles = shuttles or {}
    rows = []
    number = 0
    for key, stop in enumerate(stops):
        kind = str(stop.get("type", ""))
        site = sites.get(str(stop.get("site")), {}) if stop.get("site") else {}
        site_name = stop.get("site_name") or site.get("name") or stop.get("site")
        lat, lon = stop.get("lat", site.get("lat")), stop.get("lon", site.get("lon"))
        placed = stop.get("site") is not None or lat is not None or stop.get("job") is not None
        if kind == "break" and not placed:
            continue
        if kind in _PLACED and placed:
            number += 1
        state = str(stop.get("state") or ("done" if stop.get("done") else "pending"))
        items = _stop_items(stop)
        task = _task(kind, stop, len(items), shuttles)
        if stop.get("procedure"):
            task = f"{task} ({stop['procedure']})"
        citizen = stop.get("citizen") if isinstance(stop.get("citizen"), Mapping) else {}
        assert isinstance(citizen, Mapping)
        phone = "".join(ch for ch in str(citizen.get("phone") or "") if ch.isdigit() or ch == "+")
        geo_link, maps_link = _nav_links(lat, lon, str(site_name or f"{number}"))
        window = stop.get("window")
        rows.append(
            {
                "key": key,
                "number": number if kind in _PLACED and placed else None,
                "type": kind,
                "heading": _heading(kind, site_name),
                "status": state if state in {"done", "failed"} else "pending",
                "status_label": _(_STATE_LABELS.get(state, _STATE_LABELS["pending"])),
                "planned": hhmm_of(stop.get("start") or stop.get("arrive")),
                "expected": _hhmm_after(
                    stop.get("expected_start") or stop.get("expected_arrive"),
                    stop.get("start") or stop.get("arrive"),
                ),
                "window": (
                    f"{hhmm_of(window[0])}–{hhmm_of(window[1])}"
                    if isinstance(window, list | tuple) and len(window) == 2
                    else ""
                ),
                "place": stop.get("address") or "",
                "task": task,
                "dossier_rows": items,
                "dossiers": [i["dossier"] for i in items],
                "contact": str(citizen.get("name") or ""),
                "phone": phone,
                "site": str(stop["site"]) if stop.get("site") else "",
                "lat": lat if isinstance(lat, int | float) else None,
                "lon": lon if isinstance(lon, int | float) else None,
                "geo": geo_link,
                "maps": maps_link,
                "note": "",
            }
        )
    _name_break_places(rows)
    return rows


def _delivery_notes(session: Session, codes: Sequence[str]) -> dict[str, dict[str, str]]:
    """For each dossier of ``codes``: the words of its last failed delivery (``failed``) and
    whether its last hand-over was refused for lack of proof (``refused``)."""
    if not codes:
        return {}
    ids = {
        d.id: d.code
        for d in session.exec(select(Dossier).where(col(Dossier.code).in_(list(codes))))
        if d.id is not None
    }
    if not ids:
        return {}
    events = session.exec(
        select(ScanEvent)
        .where(col(ScanEvent.dossier_id).in_(list(ids)))
        .where(col(ScanEvent.type).in_(["delivered", "delivery_failed"]))
        .order_by(col(ScanEvent.device_at), col(ScanEvent.id))
    )
    notes: dict[str, dict[str, str]] = {}
    for event in events:
        note = notes.setdefault(ids[event.dossier_id], {})
        if event.type == "delivery_failed":
            proof = event.proof_json or {}
            note["failed"] = failure_words(str(proof.get("reason") or "")) or _("Failed")
            note.pop("refused", None)
        elif event.flagged or event.void_reason:
            note["refused"] = _("The last hand-over was refused: the proof did not match.")
        else:
            note.clear()
    return notes


def _courier_words() -> dict[str, str]:
    """The sentences ``courier.js`` shows, in the request's language (handed over as JSON)."""
    return {
        "pending": _("waiting to be sent"),
        "done": _(_STATE_LABELS["done"]),
        "online": _("Online"),
        "offline": _("Offline: scans are kept on this phone"),
        "ready_offline": _("Ready to work without signal"),
        "login_again": _("Your session has ended: log in again to send the waiting scans."),
        "not_this_stop": _("Code %(code)s is not a dossier of this stop."),
        "code_empty": _("Type or scan a dossier code."),
        "need_code": _("The one-time code has 6 digits."),
        "need_id": _("Type the last 4 digits of the citizen ID."),
        "need_name": _("Type the name of the person receiving the result."),
        "need_reason": _("Choose why the delivery failed and what happens next."),
        "wrong_code": _(
            "Dossier %(dossier)s: the one-time code is wrong; the result is still yours to deliver."
        ),
        "refused": _(
            "Dossier %(dossier)s: the hand-over was not accepted (the proof did not "
            "match); the result is still yours to deliver."
        ),
        "flag": _(
            "Dossier %(dossier)s: the scan “%(event)s” does not fit its status "
            "(%(status)s). Check the dossier with the post office."
        ),
        "conflict": _(
            "Dossier %(dossier)s: a scan was sent twice with different content; "
            "the first one counts."
        ),
        "rejected": _("Dossier %(dossier)s: the server refused the scan “%(event)s”."),
        "camera_off": _("The camera cannot be opened; type the code instead."),
        "queued": _("Saved; it will be sent when there is signal."),
        "already": _("This dossier was already recorded at this stop."),
    }


def _scan_names() -> dict[str, str]:
    return {code: words.scan_words(code) for code in words.SCANS}


def _status_names() -> dict[str, str]:
    return {code: words.status_words(code) for code in words.STATUSES}


def _day_links(day: str) -> tuple[str, str]:
    return day_step(day, -1), day_step(day, +1)


@router.get("/couriers/{courier_id}/stops", response_class=HTMLResponse)
def stops_page(
    courier_id: str,
    request: Request,
    date: Annotated[str | None, Query(pattern=DATE_PATTERN)] = None,
) -> HTMLResponse:
    """A courier's stop list of a day, for a phone: next stop on top, an action for each
    hand-over (recorded offline first by ``/static/courier.js``), call and navigate."""
    day = page_day(date or today_local())
    with page_session(request) as session:
        user = page_user(request, session, STAFF_ROLES | {COURIER})
        if role_of(user) == COURIER and user.name != courier_id:
            msg = _("A courier sees only their own stop list (you are %(name)s).", name=user.name)
            raise PageError(403, _("Not allowed"), msg)
        raw = tracking.courier_stops(session=session, courier_id=courier_id, date=day)
        stored = tracking.plan_for_courier(session=session, courier_id=courier_id, date=day)
        sites = stored.request_items("sites") if stored is not None else {}
        runs = stored.request_items("shuttles") if stored is not None else {}
        rows = stop_rows(raw, sites=sites, shuttles=runs)
        deliveries = [d for r in rows if r["type"] == "delivery" for d in r["dossiers"]]
        notes = _delivery_notes(session, deliveries)
        name, role = user.name, role_of(user)
    for row in rows:
        for code in row["dossiers"] if row["type"] == "delivery" else []:
            note = notes.get(code, {})
            row["note"] = (
                note.get("failed", "") if row["status"] == "failed" else note.get("refused", "")
            )
    work = [r for r in rows if r["number"] is not None and r["type"] != "break"]
    next_stop = next((r for r in work if r["status"] == "pending"), None)
    can_record = role == COURIER and name == courier_id
    day_before, day_after = _day_links(day)
    return render_page(
        "stops.html",
        title=_("Stops of %(courier)s · %(day)s", courier=courier_id, day=format_day(day)),
        home=f"/couriers/{quote(courier_id)}/stops?date={day}" if role == COURIER else "/dispatch",
        body_class="stops-page",
        courier=courier_id,
        date=day,
        day_label=format_day(day),
        day_before=day_before,
        day_after=day_after,
        stops=rows,
        next_stop=next_stop,
        done=sum(1 for r in work if r["status"] != "pending"),
        total=len(work),
        loaded_at=datetime.now(LOCAL_TZ).strftime("%H:%M"),
        can_record=can_record,
        reasons=[(code, _(text)) for code, text in FAILURE_REASONS.items()],
        next_steps=[(code, _(text)) for code, text in NEXT_STEPS.items()],
        config={
            "courier": courier_id,
            "date": day,
            "can_record": can_record,
            "stops_api": f"/v1/couriers/{quote(courier_id)}/stops?date={day}",
            "positions_api": f"/v1/couriers/{quote(courier_id)}/positions",
            "position_every_s": COURIER_POSITION_EVERY_S,
            "words": _courier_words(),
            "scans": _scan_names(),
            "statuses": _status_names(),
            "lang": current_locale(),
        },
        user={"name": name},
        role=role,
    )


COURIER_POSITION_EVERY_S = 180
"""How often the open stop list of a courier records the phone's position, in seconds."""
