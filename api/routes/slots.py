"""``GET /v1/slots``: the windows the hotline can still promise a citizen on a day.

The day's published plan is asked, window by window, whether one more home visit fits
(:func:`routing.insertion.check_windows`: a fast insertion check, no solve). A day with no plan
yet is answered from the stored roster (:func:`routing.insertion.check_windows_roster`), and
the answer says so (``"basis": "roster"``).
"""

from __future__ import annotations

from datetime import date as calendar_date
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from api.dates import SaneDatetime, check_plan_date
from api.deps import SessionDep, SettingsDep, StaffUser
from api.planning import travel_model
from api.settings import Settings
from geo.coords import LatLon
from routing.clock import DAY_S, at_seconds, hhmm, local_midnight, local_now
from routing.insertion import (
    Candidate,
    SlotAnswer,
    check_windows,
    check_windows_roster,
    open_windows,
    parse_windows,
)
from routing.request import PlanRequest, RequestError, parse_request, parse_time
from tracking.errors import InvalidInput
from tracking.plans import published_plan
from tracking.requests import get_roster

router = APIRouter(tags=["slots"])

DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
SERVICE_MIN = 10
"""Minutes at the home a visit is checked with when none is given."""

EXAMPLE_SLOTS: dict[str, Any] = {
    "date": "2026-11-23", "kind": "pickup", "basis": "plan", "plan_id": "3f1c0e…",
    "now": "2026-11-23T09:12:00+07:00",
    "windows": [
        {"window": ["10:00", "12:00"], "available": True, "courier": "c1", "extra_min": 14.5,
         "arrive": "2026-11-23T10:41:00+07:00", "run": "run-1400", "reason": None,
         "detail": None},
        {"window": ["13:00", "15:00"], "available": False, "courier": None, "extra_min": None,
         "arrive": None, "run": None, "reason": "later_stop_late",
         "detail": "delivery R7 would begin after 15:00"},
    ],
}  # fmt: skip


class WindowOut(BaseModel):
    """One bookable window: can it be promised, by which courier, at what extra cost, or why not.

    ``reason`` codes: ``window_unreachable`` (no courier can reach the home in the window),
    ``later_stop_late`` (the visit would make a later stop miss its window, run or break),
    ``shift_end`` (the courier would be back after its shift), ``capacity`` (the bag is
    full), ``no_collect`` (a return's result is not picked up at its site before the window),
    ``handoff_closed`` (the hand-off site would be closed), ``no_route`` (no courier works).
    """

    window: list[str] = Field(examples=[["10:00", "12:00"]])
    available: bool
    courier: str | None = None
    extra_min: float | None = Field(
        default=None, description="The courier's extra minutes (travel and service)."
    )
    arrive: str | None = Field(default=None, description="When service at the home begins.")
    run: str | None = Field(default=None, description="The shuttle run a pickup would catch.")
    reason: str | None = None
    detail: str | None = None


class SlotsOut(BaseModel):
    """The windows of a day still open to book, answered one by one."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_SLOTS]})

    date: str
    kind: Literal["pickup", "return"]
    basis: Literal["plan", "roster"] = Field(
        description="`plan`: checked against the day's published plan; `roster`: the day has "
        "no plan yet, so each window is answered from the couriers' shifts alone."
    )
    plan_id: str | None
    now: str
    windows: list[WindowOut]


def _now_s(day: calendar_date, now: datetime) -> int | None:
    """Seconds since the day's midnight at ``now``; ``None`` for a day not begun yet."""
    seconds = int((now - local_midnight(day)).total_seconds())
    if seconds < 0:
        return None
    return min(seconds, 2 * DAY_S)


def _site(request: PlanRequest, name: str, value: str | None, needed: bool) -> str | None:
    if value is None:
        if needed:
            msg = f"{name}: missing; give the site where the dossier is handed over or collected"
            raise InvalidInput(msg)
        return None
    if value not in request.sites:
        msg = f"{name}: unknown site; it is not a site of the day's plan or roster"
        raise InvalidInput(msg)
    return value


def _window_json(day: calendar_date, answer: SlotAnswer) -> dict[str, Any]:
    return {
        "window": [hhmm(answer.window_s[0]), hhmm(answer.window_s[1])],
        "available": answer.available,
        "courier": answer.courier,
        "extra_min": None if answer.extra_s is None else round(answer.extra_s / 60, 1),
        "arrive": None if answer.arrive_s is None else at_seconds(day, answer.arrive_s).isoformat(),
        "run": answer.run,
        "reason": answer.reason,
        "detail": answer.detail,
    }


def _day_request(session: Session, date: str) -> tuple[PlanRequest, Any, str | None]:
    """The day's request and typed plan (published), or the roster's request and no plan."""
    stored = published_plan(session=session, date=date)
    if stored is not None:
        return parse_request(stored.request_json), stored.plan(), stored.id
    roster = get_roster(session=session)
    if roster is None or not roster["couriers"]:
        msg = f"date: {date} has no plan and no roster is stored; send one with PUT /v1/roster"
        raise InvalidInput(msg)
    parts = {k: roster[k] for k in ("sites", "shuttles", "couriers")}
    return parse_request({"date": date, **parts, "jobs": []}), None, None


def slots_of_day(
    session: Session, settings: Settings, date: str, visit: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """Answer ``GET /v1/slots`` (see :func:`get_slots`)."""
    day = calendar_date.fromisoformat(date)
    home = LatLon(visit["lat"], visit["lon"])
    if not home.in_vietnam():  # swapped or mistyped coordinates, most likely
        msg = "lat: the home (lat, lon) lies outside Vietnam"
        raise InvalidInput(msg)
    request, plan, plan_id = _day_request(session, date)
    kind = visit["kind"]
    try:
        ready_s = parse_time(visit["ready_at"], day, "ready_at") if visit["ready_at"] else 0
    except RequestError as exc:
        raise InvalidInput(str(exc)) from None
    candidate = Candidate(
        kind,
        home,
        round(visit["service_min"] * 60),
        visit["size"],
        handoff_site=_site(request, "handoff_site", visit["handoff_site"], kind == "pickup"),
        origin_site=_site(request, "origin_site", visit["origin_site"], kind == "return"),
        ready_s=ready_s,
    )
    _site(request, "destination_site", visit["destination_site"], needed=False)
    now_s = _now_s(day, now)
    windows = open_windows(parse_windows(settings.slot_windows), now_s)
    travel = travel_model(settings)
    if plan is not None:
        answers = check_windows(plan, request, candidate, windows, now_s=now_s, travel=travel)
    else:
        answers = check_windows_roster(request, candidate, windows, now_s=now_s, travel=travel)
    return {
        "date": date,
        "kind": kind,
        "basis": "plan" if plan is not None else "roster",
        "plan_id": plan_id,
        "now": now.isoformat(),
        "windows": [_window_json(day, a) for a in answers],
    }


@router.get(
    "/v1/slots",
    response_model=SlotsOut,
    responses={422: {"description": "A bad or missing field (named), or no plan nor roster."}},
)
def get_slots(
    *,
    session: SessionDep,
    settings: SettingsDep,
    _user: StaffUser,
    date: Annotated[str, Query(pattern=DATE_PATTERN, examples=["2026-11-23"])],
    lat: Annotated[float, Query(ge=-90, le=90, examples=[9.17])],
    lon: Annotated[float, Query(ge=-180, le=180, examples=[105.16])],
    kind: Annotated[Literal["pickup", "return"], Query(examples=["pickup"])],
    service_min: Annotated[
        float, Query(ge=0, le=240, description="Minutes at the home.")
    ] = SERVICE_MIN,
    size: Annotated[int, Query(ge=1, le=1000, description="Dossiers (or bags).")] = 1,
    handoff_site: Annotated[
        str | None, Query(max_length=100, description="A pickup's hand-off site (required).")
    ] = None,
    destination_site: Annotated[str | None, Query(max_length=100)] = None,
    origin_site: Annotated[
        str | None, Query(max_length=100, description="A return's origin site (required).")
    ] = None,
    ready_at: Annotated[
        str | None,
        Query(max_length=40, description="When a return's result is ready there (HH:MM)."),
    ] = None,
    now: Annotated[
        SaneDatetime | None,
        Query(description="Answer as at this time (default: now); earlier windows are left out."),
    ] = None,
) -> dict[str, Any]:
    """The day's windows that can still be promised to a citizen for a pickup or a return.

    Each window of ``BUUTA_SLOT_WINDOWS`` not yet begun is checked against the day's published
    plan: could one more visit at (``lat``, ``lon``) go into a gap of some courier's route,
    arriving inside the window while every later stop keeps its window, run, break and shift
    end, with room in the bag, and (a pickup) a hand-off at ``handoff_site`` after it, or (a
    return) a stop at ``origin_site`` before it once ``ready_at`` has passed? The cheapest such
    insertion names the courier and its extra minutes; a window that fits nowhere says why.
    A day with no plan is answered from the stored roster (``basis: roster``).
    """
    check_plan_date(date)
    visit = {
        "kind": kind, "lat": lat, "lon": lon, "service_min": service_min, "size": size,
        "handoff_site": handoff_site, "destination_site": destination_site,
        "origin_site": origin_site, "ready_at": ready_at,
    }  # fmt: skip
    return slots_of_day(session, settings, date, visit, now or local_now())
