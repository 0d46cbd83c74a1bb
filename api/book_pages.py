"""The request book's pages (DESIGN §8): the day's requests, uncertain pins, the hotline form
and the import of a spreadsheet.

==============================  ===============================================  ===============
page                            what                                             who
==============================  ===============================================  ===============
``/requests?date=&status=``     the day's requests in words (status, window,     staff roles
                                address, how sure the place is, a dossier
                                booked twice); uncertain pins on a map,
                                dragged to the house by dispatchers
``/requests/new`` (GET, POST)   the hotline's form: one request, and the day's   dispatcher, admin
                                free windows for its place ("check" button)
``/requests/import`` (GET,      a CSV or XLSX file: every row previewed with     dispatcher, admin
POST)                           its errors by column, then imported
``/requests/wards.geojson``     the ward boundaries under the pin map            staff roles
==============================  ===============================================  ===============

Nothing here checks a request itself: the form and the import go through
:func:`api.routes.requests.book_items` and :func:`~api.routes.requests.import_rows`, the very
code of ``POST /v1/requests`` and ``POST /v1/requests/import``, and show its errors next to
their field in the page's language (:func:`api.error_words.error_words`). The hotline's free
windows are those of ``GET /v1/slots`` (:func:`bookable_windows` calls its
:func:`~api.routes.slots.slots_of_day`), for the point the booking would give the address. A
pin dropped on the map is saved by ``POST /v1/requests/{id}/position``
(``api/static/pins.js``).
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date as date_cls
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

import geo
from api.deps import ADMIN, DISPATCHER, role_of
from api.error_words import error_words
from api.errors import PayloadTooLarge
from api.i18n import N_, format_day
from api.i18n import gettext as _
from api.page_render import render
from api.pages import DATE_PATTERN, STAFF_ROLES, PageError, hhmm_of, page_day, page_user
from api.request_import import MAX_ROWS, Row, UnreadableFile, read_rows, request_of
from api.routes.requests import Status, book_items, checked_item, import_rows
from api.routes.slots import SERVICE_MIN, slots_of_day
from api.words import slot_words
from routing.clock import LOCAL_TZ, local_now
from tracking.errors import InvalidInput, NotFound
from tracking.models import BookedRequest, User
from tracking.request_positions import MANUAL, is_uncertain, set_position
from tracking.requests import (
    STATUSES,
    cancel_request,
    get_roster,
    list_requests,
    place_address,
)

__all__ = ["EDITORS", "FORM_FIELDS", "WindowCheck", "WindowOffer", "bookable_windows", "router"]

router = APIRouter(include_in_schema=False, tags=["pages"])

EDITORS = frozenset({DISPATCHER, ADMIN})
"""Roles that book, import and move requests (as ``POST /v1/requests``); staff only read."""
PERSONAL_ROLES = STAFF_ROLES
"""Roles that see the citizen's name, phone and address (as ``GET /v1/requests``)."""

WARDS_GEOJSON = Path(geo.__file__).resolve().parent / "data" / "camau_wards_2025.geojson"

REQUEST_STATUSES = {
    "open": N_("Open"),
    "planned": N_("Planned"),
    "done": N_("Done"),
    "failed": N_("Failed"),
    "cancelled": N_("Cancelled"),
    "carried": N_("Carried to a later day"),
}
"""A request's status (DESIGN §8), in a dispatcher's words."""

KINDS = {"pickup": N_("Pickup at home"), "return": N_("Return to home")}

COLUMNS = {
    "row": N_("Row"),
    "id": N_("Request code"),
    "kind": N_("Kind"),
    "dossier": N_("Dossier code"),
    "date": N_("Day"),
    "window_from": N_("From"),
    "window_to": N_("To"),
    "address": N_("Address"),
    "lat": N_("Latitude"),
    "lon": N_("Longitude"),
    "handoff_site": N_("Hand-over office"),
    "destination_site": N_("Receiving agency"),
    "origin_site": N_("Office of the result"),
    "ready_at": N_("Result ready at"),
    "due": N_("Due date"),
    "service_min": N_("Minutes at the home"),
    "size": N_("Parcels"),
    "citizen_name": N_("Citizen's name"),
    "citizen_phone": N_("Phone"),
    "citizen_id": N_("Citizen ID number"),
    "procedure": N_("Procedure"),
    "skills": N_("Skills needed"),
    "processing_days": N_("Processing days"),
    "received_on": N_("Received on"),
    "position": N_("Position"),
}
"""The columns of an import and the fields of the form, in words (DESIGN §8's names)."""

FORM_FIELDS = (
    "id", "kind", "dossier", "date", "window_from", "window_to", "address", "lat", "lon",
    "handoff_site", "destination_site", "origin_site", "ready_at", "due", "service_min",
    "citizen_name", "citizen_phone", "citizen_id", "procedure",
)  # fmt: skip
"""The hotline form's fields, named as the import's columns (so errors land on them)."""

_DAY_FIELDS = ("date", "due")
WINDOW_CHOICE = "window"
"""The form's field of a window chosen among :func:`bookable_windows` (``08:00-09:00``)."""
ACTION, CHECK = "action", "check"
"""The form's submit button that asks for the day's free windows instead of booking."""

IMPORT_RESULTS = {
    "created": N_("Created"),
    "updated": N_("Updated"),
    "unchanged": N_("Already booked, unchanged"),
    "error": N_("Refused"),
}
PREVIEW_RESULTS = {
    "created": N_("Will be created"),
    "updated": N_("Will be updated"),
    "unchanged": N_("Already booked, unchanged"),
    "error": N_("Refused"),
}


def column_words(column: str) -> str:
    """A column or field of a request, in words (an unknown one as it is named)."""
    return _(COLUMNS[column]) if column in COLUMNS else column


def _who(user: User) -> dict[str, Any]:
    return {"user": {"name": user.name}, "role": role_of(user)}


def _today() -> str:
    return datetime.now(LOCAL_TZ).date().isoformat()


def _step(day: str, days: int) -> str:
    return (date_cls.fromisoformat(day) + timedelta(days=days)).isoformat()


def _form_error(errors: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    """Errors by field, in the page's language."""
    by_field: dict[str, list[str]] = defaultdict(list)
    for name, message in errors:
        by_field[name].append(error_words(message))
    return dict(by_field)


# --------------------------------------------------------------------------- the book of a day


def sure_words(geocoded: Mapping[str, Any] | None) -> str:
    """How sure the request's point is, in words."""
    if not geocoded:
        return _("Point given")
    precision = geocoded.get("precision")
    name = geocoded.get("name") or ""
    if precision == MANUAL:
        return _("Set by hand by %(who)s", who=geocoded.get("set_by") or "?")
    if precision == "district":
        return _("Uncertain: district seat of %(name)s", name=name)
    if precision == "ward":
        return _("Uncertain: centre of %(name)s", name=name)
    return _("Uncertain")


def _window(job: Mapping[str, Any]) -> str:
    window = job.get("window")
    if isinstance(window, list) and len(window) == 2:
        return f"{hhmm_of(window[0])}–{hhmm_of(window[1])}"
    return ""


def _twins(rows: Sequence[BookedRequest]) -> dict[str, list[str]]:
    """For each live request, the others of its day booked for the same dossier."""
    by_dossier: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        if row.status != "cancelled":
            by_dossier[row.dossier].append(row.id)
    return {rid: [o for o in ids if o != rid] for ids in by_dossier.values() for rid in ids}


def _row_view(row: BookedRequest, twins: Mapping[str, list[str]], personal: bool) -> dict[str, Any]:
    job = row.job_json
    return {
        "id": row.id,
        "dossier": row.dossier,
        "kind": _(KINDS[row.kind]) if row.kind in KINDS else row.kind,
        "status": row.status,
        "status_words": _(REQUEST_STATUSES.get(row.status, row.status)),
        "window": _window(job),
        "address": row.address if personal else None,
        "citizen": (row.citizen_name or "", row.citizen_phone or "") if personal else None,
        "procedure": row.procedure or "",
        "due": format_day(row.due[:10]) if row.due else "",
        "sure": sure_words(row.geocoded_json),
        "uncertain": is_uncertain(row.geocoded_json),
        "manual": (row.geocoded_json or {}).get("precision") == MANUAL,
        "twins": twins.get(row.id, []),
        "lat": job.get("lat"),
        "lon": job.get("lon"),
    }


def _pin(view: Mapping[str, Any], row: BookedRequest) -> dict[str, Any]:
    """A pin of the map: what its popup says, where it is, whether it may be dragged."""
    return {
        "id": view["id"],
        "dossier": view["dossier"],
        "lat": view["lat"],
        "lon": view["lon"],
        "sure": view["sure"],
        "address": view["address"] or "",
        "open": row.status == "open",
    }


@router.get("/requests", response_class=HTMLResponse)
def book_page(
    request: Request,
    date: Annotated[str | None, Query(pattern=DATE_PATTERN)] = None,
    status: Status | None = None,
    booked: Annotated[str | None, Query(max_length=100)] = None,
) -> HTMLResponse:
    """The requests of a day in words, and its uncertain pins on a map."""
    day = page_day(date or _today())
    with Session(request.app.state.engine) as session:
        user = page_user(request, session, STAFF_ROLES)
        every = list_requests(session=session, date=day)
    personal = role_of(user) in PERSONAL_ROLES
    twins = _twins(every)
    views = {row.id: _row_view(row, twins, personal) for row in every}
    shown = [views[row.id] for row in every if status is None or row.status == status]
    pins = [
        _pin(views[row.id], row)
        for row in every
        if row.status == "open" and views[row.id]["uncertain"] and views[row.id]["lat"] is not None
    ]
    counts = {s: sum(1 for row in every if row.status == s) for s in STATUSES}
    return render(
        "requests.html",
        title=_("Request book %(day)s", day=format_day(day)),
        body_class="wide",
        date=day,
        day_before=_step(day, -1),
        day_after=_step(day, +1),
        rows=shown,
        every=len(every),
        counts=counts,
        chosen=status or "",
        statuses=[(s, _(REQUEST_STATUSES.get(s, s))) for s in STATUSES],
        pins=pins,
        booked=views.get(booked or ""),
        can_edit=role_of(user) in EDITORS,
        personal=personal,
        **_who(user),
    )


@router.post("/requests/{request_id}/cancel")
async def cancel_from_page(request_id: str, request: Request) -> Response:
    """Cancel an open request (as ``POST /v1/requests/{id}/cancel``), back to its day."""
    return await run_in_threadpool(_cancel, request, request_id)


def _cancel(request: Request, request_id: str) -> Response:
    with Session(request.app.state.engine) as session:
        page_user(request, session, EDITORS)
        try:
            row = cancel_request(session=session, request_id=request_id)
        except NotFound:
            msg = _("There is no request %(id)s.", id=request_id)
            raise PageError(404, _("No such request"), msg) from None
        except InvalidInput:
            msg = _("Request %(id)s is no longer open: it cannot be changed.", id=request_id)
            raise PageError(422, _("Bad request"), msg) from None
        day = row.date
    return RedirectResponse(f"/requests?{urlencode({'date': day})}", status_code=303)


@router.post("/requests/{request_id}/position")
async def position_from_page(request_id: str, request: Request) -> Response:
    """Set an open request's point from typed latitude and longitude (a citizen's shared
    location; the map's drag does the same with JavaScript), then back to its day."""
    form = await request.form(max_files=0, max_fields=4)
    point = {k: str(form.get(k) or "").strip().replace(",", ".") for k in ("lat", "lon")}
    return await run_in_threadpool(_position, request, request_id, point)


def _position(request: Request, request_id: str, point: Mapping[str, str]) -> Response:
    not_a_point = N_("Latitude and longitude must be numbers of degrees, e.g. 9.1769 and 105.1524.")
    with Session(request.app.state.engine) as session:
        user = page_user(request, session, EDITORS)
        try:
            lat, lon = float(point["lat"]), float(point["lon"])
        except ValueError:
            raise PageError(422, _("Bad request"), _(not_a_point)) from None
        try:
            row = set_position(
                session=session, request_id=request_id, lat=lat, lon=lon, actor=user.name
            )
        except NotFound:
            msg = _("There is no request %(id)s.", id=request_id)
            raise PageError(404, _("No such request"), msg) from None
        except InvalidInput as exc:
            msg = (
                _("Request %(id)s is no longer open: it cannot be changed.", id=request_id)
                if "only an open request" in str(exc)
                else _(not_a_point)
            )
            raise PageError(422, _("Bad request"), msg) from None
        day = row.date
    return RedirectResponse(f"/requests?{urlencode({'date': day})}", status_code=303)


@router.get("/requests/wards.geojson")
def wards_geojson(request: Request) -> Response:
    """The ward boundaries of Cà Mau (embedded, public data) drawn under the pin map."""
    with Session(request.app.state.engine) as session:
        page_user(request, session, STAFF_ROLES)
    return FileResponse(
        WARDS_GEOJSON,
        media_type="application/geo+json",
        headers={"Cache-Control": "private, max-age=86400"},
    )


# --------------------------------------------------------------------------- the hotline form


@dataclass(frozen=True, slots=True)
class WindowOffer:
    """One window of the day as the hotline reads it (one answer of ``GET /v1/slots``).

    ``value`` is what the form posts (``08:00-10:00``), ``label`` what a person reads,
    ``words`` whether it is free or full and why; ``reason`` keeps the API's code. The
    courier and its extra minutes are left out: they are the dispatcher's business.
    """

    value: str
    label: str
    free: bool
    words: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class WindowCheck:
    """The day's windows for the place and kind of a form, or why they could not be checked.

    ``basis`` is ``plan`` (the published plan was asked) or ``roster`` (the day has no plan
    yet); ``placed`` says how sure the point of a typed address is; ``errors`` are by field.
    """

    offers: tuple[WindowOffer, ...] = ()
    basis: str | None = None
    placed: str | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)

    def free(self, value: str) -> bool:
        """Whether ``value`` (``08:00-10:00``) is one of the free windows."""
        return any(o.free and o.value == value for o in self.offers)


CHECK_FIELDS = (
    "kind", "date", "address", "lat", "lon", "handoff_site", "destination_site", "origin_site",
    "ready_at", "service_min",
)  # fmt: skip
"""The fields a day's free windows depend on (the rest of a request changes none)."""

_WHOLE_DAY = {"id": "check", "dossier": "check", "window_from": "00:00", "window_to": "23:59"}
"""What a request needs that the windows do not depend on, filled in to check the rest."""


def _visit_of(
    request: Request, values: Mapping[str, str]
) -> tuple[dict[str, Any] | None, str | None, dict[str, list[str]]]:
    """The visit a form describes, checked and placed as its booking would be: the visit of
    ``GET /v1/slots``, how sure its point is (a typed address) and the errors by field."""
    typed = {k: values[k] for k in CHECK_FIELDS if k in values}
    item, not_days = _item_of({**typed, **_WHOLE_DAY})
    checked, problems = checked_item(item)
    errors = _form_error(problems)
    for name in not_days:  # typed as dd/mm/yyyy: say so rather than "not ISO"
        errors[name] = [error_words("expected a calendar date as YYYY-MM-DD")]
    if checked is None or errors:
        return None, None, errors
    placed = None
    if checked.get("lat") is None:
        found = place_address(request.app.state.geocoder, str(checked["address"]).strip())
        if found is None:
            words = "no commune, ward or district of the service area matches this address"
            return None, None, {"address": [error_words(words)]}
        checked["lat"], checked["lon"], geocoded = found
        placed = sure_words(geocoded)
    service = checked.get("service_min")
    visit = {
        "kind": checked["kind"], "lat": checked["lat"], "lon": checked["lon"],
        "service_min": SERVICE_MIN if service is None else service,
        "size": checked.get("size") or 1, "handoff_site": checked.get("handoff_site"),
        "destination_site": checked.get("destination_site"),
        "origin_site": checked.get("origin_site"), "ready_at": checked.get("ready_at"),
    }  # fmt: skip
    return {"date": checked["date"], **visit}, placed, {}


def bookable_windows(request: Request, session: Session, values: Mapping[str, str]) -> WindowCheck:
    """The windows of the form's day and place that the hotline may promise a citizen.

    The place and the request are checked as booking them would be (:func:`checked_item`, the
    address placed by :func:`~tracking.requests.place_address`), then the day is asked as
    ``GET /v1/slots`` asks it (:func:`~api.routes.slots.slots_of_day`): the windows the
    published plan can still absorb, or, for a day with no plan yet, the roster's answer.
    Whatever is missing or wrong comes back as errors by field, in the page's language.
    """
    visit, placed, errors = _visit_of(request, values)
    if visit is None:
        return WindowCheck(errors=errors)
    day = visit.pop("date")
    settings = request.app.state.settings
    try:
        answer = slots_of_day(session, settings, day, visit, local_now())
    except InvalidInput as exc:
        name, _sep, message = str(exc).partition(": ")
        if name in ("lat", "lon") and placed is not None:  # a point the address gave
            name = "address"
        return WindowCheck(placed=placed, errors={name: [error_words(message)]})
    offers = tuple(
        WindowOffer(
            value="-".join(w["window"]),
            label="–".join(w["window"]),
            free=w["available"],
            words=slot_words(w["available"], w["reason"]),
            reason=w["reason"],
        )
        for w in answer["windows"]
    )
    return WindowCheck(offers=offers, basis=answer["basis"], placed=placed)


def _site_choices(session: Session) -> list[tuple[str, str]]:
    roster = get_roster(session=session) or {}
    return [
        (str(s.get("id")), str(s.get("name") or s.get("id")))
        for s in roster.get("sites", [])
        if isinstance(s, Mapping) and s.get("id") is not None
    ]


def _new_id() -> str:
    """A request code for a call, made when the form is shown: sending the same form twice
    books it once (the book is idempotent by id)."""
    stamp = datetime.now(LOCAL_TZ).strftime("%y%m%d")
    return f"HL-{stamp}-{secrets.token_hex(3).upper()}"


def _iso_day(text: str) -> str | None:
    """``dd/mm/yyyy`` (or ``YYYY-MM-DD``) as ``YYYY-MM-DD``; ``None`` when it is not a day."""
    try:
        if "/" in text:
            return datetime.strptime(text.strip(), "%d/%m/%Y").date().isoformat()
        return date_cls.fromisoformat(text.strip()).isoformat()
    except ValueError:
        return None


def _item_of(values: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The request a filled form describes, read as an imported row is (``8h30`` is 08:30),
    and the day fields that are not a day (left as typed, for the book to refuse)."""
    cells = {k: v.strip() for k, v in values.items() if k in FORM_FIELDS and v.strip()}
    if values.get(WINDOW_CHOICE):  # a bookable window chosen from the list: "08:00-09:00"
        start, _sep, end = values[WINDOW_CHOICE].partition("-")
        cells["window_from"], cells["window_to"] = start.strip(), end.strip()
    not_days = []
    for name in _DAY_FIELDS:
        if name in cells:
            iso = _iso_day(cells[name])
            if iso is None:
                not_days.append(name)
            else:
                cells[name] = iso
    return request_of(Row(0, cells)), not_days


def _form_page(
    request: Request,
    session: Session,
    user: User,
    values: Mapping[str, str],
    errors: Mapping[str, list[str]],
    *,
    check: WindowCheck | None = None,
    status: int = 200,
) -> HTMLResponse:
    typed_time = any(values.get(k) or errors.get(k) for k in ("window_from", "window_to"))
    return render(
        "request_form.html",
        status=status,
        title=_("New request"),
        v=values,
        errors=errors,
        general=[
            m for f, ms in errors.items() if f not in (*FORM_FIELDS, WINDOW_CHOICE) for m in ms
        ],
        sites=_site_choices(session),
        check=check,
        checking=values.get(ACTION) == CHECK,
        other_time_open=typed_time,
        column_words=column_words,
        **_who(user),
    )


@router.get("/requests/new", response_class=HTMLResponse)
def new_request_page(
    request: Request, date: Annotated[str | None, Query(pattern=DATE_PATTERN)] = None
) -> HTMLResponse:
    """The hotline's form for one request."""
    day = page_day(date or _today())
    with Session(request.app.state.engine) as session:
        user = page_user(request, session, EDITORS)
        values = {"id": _new_id(), "kind": "pickup", "date": format_day(day)}
        return _form_page(request, session, user, values, {})


@router.post("/requests/new", response_class=HTMLResponse)
async def book_from_form(request: Request) -> Response:
    """Check the day's free windows (the "check" button), or book the form's request through
    ``POST /v1/requests``'s code; errors beside their fields either way."""
    form = await request.form(max_files=0, max_fields=len(FORM_FIELDS) + 10)
    wanted = (*FORM_FIELDS, WINDOW_CHOICE, ACTION)
    values = {k: v for k, v in form.items() if isinstance(v, str) and k in wanted}
    if values.get(ACTION) == CHECK:
        return await run_in_threadpool(_check_form, request, values)
    return await run_in_threadpool(_book_form, request, values)


def _check_form(request: Request, values: dict[str, str]) -> Response:
    """The form again, as typed, with the day's windows for its place (or why not)."""
    with Session(request.app.state.engine) as session:
        user = page_user(request, session, EDITORS)
        if not values.get("id", "").strip():
            values["id"] = _new_id()
        check = bookable_windows(request, session, values)
        status = 422 if check.errors else 200
        return _form_page(request, session, user, values, check.errors, check=check, status=status)


def _chosen_window_errors(
    request: Request, session: Session, values: Mapping[str, str]
) -> tuple[WindowCheck | None, dict[str, list[str]]]:
    """A window chosen among the free ones is checked again as it is booked: it may have
    filled up or begun since the list was shown (the check's errors, or the window's)."""
    chosen = values.get(WINDOW_CHOICE, "")
    if not chosen:
        return None, {}
    check = bookable_windows(request, session, values)
    if values.get("window_from") or values.get("window_to"):
        return check, {WINDOW_CHOICE: [_("Choose a free window or type another time, not both.")]}
    if check.errors:
        return check, check.errors
    if not check.free(chosen):
        return check, {WINDOW_CHOICE: [_("This window is no longer free: choose another.")]}
    return check, {}


def _book_form(request: Request, values: dict[str, str]) -> Response:
    with Session(request.app.state.engine) as session:
        user = page_user(request, session, EDITORS)
        if not values.get("id", "").strip():
            values["id"] = _new_id()
        check, refused = _chosen_window_errors(request, session, values)
        item, not_days = _item_of(values)
        coder = request.app.state.geocoder
        # A refused window books nothing, but the rest of the form is still checked.
        (result,) = book_items(session, [item], coder, user.name, dry_run=bool(refused))
        if result.status == "error" or refused:
            errors = _form_error(result.errors) if result.status == "error" else {}
            for name in not_days:  # typed as dd/mm/yyyy: say so rather than "not ISO"
                errors[name] = [error_words("expected a calendar date as YYYY-MM-DD")]
            for name, messages in refused.items():
                errors.setdefault(name, messages)
            if not any(values.get(k) for k in (WINDOW_CHOICE, "window_from", "window_to")):
                errors[WINDOW_CHOICE] = [_("Check the free windows and choose one.")]
            return _form_page(request, session, user, values, errors, check=check, status=422)
    query = urlencode({"date": item["date"], "booked": result.id or ""})
    return RedirectResponse(f"/requests?{query}", status_code=303)


# --------------------------------------------------------------------------- import


def _rows_view(answer: Mapping[str, Any]) -> list[dict[str, Any]]:
    words = PREVIEW_RESULTS if answer["dry_run"] else IMPORT_RESULTS
    return [
        {
            "row": r["row"],
            "id": r["id"] or "",
            "status": r["status"],
            "status_words": _(words.get(r["status"], r["status"])),
            "errors": [(column_words(e["column"]), error_words(e["message"])) for e in r["errors"]],
            "twins": r["duplicate_of"],
        }
        for r in answer["rows"]
    ]


@router.get("/requests/import", response_class=HTMLResponse)
def import_page(request: Request) -> HTMLResponse:
    """Choose a CSV or XLSX file of requests to preview and import."""
    with Session(request.app.state.engine) as session:
        user = page_user(request, session, EDITORS)
    return render(
        "request_import.html",
        title=_("Import requests"),
        answer=None,
        rows=[],
        problem=None,
        carried="",
        filename="",
        columns=[(c, column_words(c)) for c in COLUMNS if c not in ("row", "position")],
        max_rows=MAX_ROWS,
        **_who(user),
    )


async def _upload(form: FormData) -> tuple[bytes, str]:
    """The file of the form: a new upload, or the one a preview carried in the page."""
    file = form.get("file")
    if isinstance(file, UploadFile) and file.filename:
        return await file.read(), file.filename
    carried = form.get("carried")
    if isinstance(carried, str) and carried:
        try:
            name = form.get("filename")
            return base64.b64decode(carried, validate=True), name if isinstance(name, str) else ""
        except (binascii.Error, ValueError):
            pass
    return b"", ""


def _carried(request: Request, data: bytes) -> str:
    """The previewed file, to post again with the import; empty when it would not fit under
    the body limit (the page then asks for the file again)."""
    text = base64.b64encode(data).decode()
    limit = request.app.state.settings.max_body_bytes
    return text if len(text) < limit - 16_384 else ""


@router.post("/requests/import", response_class=HTMLResponse)
async def import_upload(request: Request) -> HTMLResponse:
    """Preview (a dry run) or import a file, and show every row's answer."""
    limit = request.app.state.settings.max_body_bytes
    form = await request.form(max_files=1, max_fields=10, max_part_size=limit * 2)
    data, filename = await _upload(form)
    preview = form.get("action") != "import"
    return await run_in_threadpool(_import_file, request, data, filename, preview=preview)


def _import_file(request: Request, data: bytes, filename: str, *, preview: bool) -> HTMLResponse:
    with Session(request.app.state.engine) as session:
        user = page_user(request, session, EDITORS)
        answer: dict[str, Any] | None = None
        problem = None
        if not data:
            problem = _("Choose a CSV or XLSX file first.")
        else:
            try:
                rows = read_rows(data, filename)
            except (UnreadableFile, PayloadTooLarge) as exc:
                problem = error_words(str(exc))
            else:
                coder = request.app.state.geocoder
                answer = import_rows(session, rows, coder, user.name, dry_run=preview)
    return render(
        "request_import.html",
        status=422 if problem else 200,
        title=_("Import requests"),
        answer=answer,
        rows=_rows_view(answer) if answer else [],
        problem=problem,
        carried=_carried(request, data) if answer and preview else "",
        filename=filename,
        columns=[(c, column_words(c)) for c in COLUMNS if c not in ("row", "position")],
        max_rows=MAX_ROWS,
        **_who(user),
    )
