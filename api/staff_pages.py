"""Pages of the centre staff: find a dossier, its journey in words, and the board of a day.

==================================  =============================================  ==============
page                                what                                           who
==================================  =============================================  ==============
``/dossiers?q=``                    dossiers whose code contains ``q`` (any        staff roles
                                    case); one exact match opens its journey
``/dossiers/{code}``                the journey in words: plan, expected times,    staff roles
                                    due and promised dates, failures, custody
``/board?date=``                    dossiers by stage and those at risk, with      staff roles
                                    why and what to do
==================================  =============================================  ==============

Every staff page carries the search box (``base.html``, for the staff roles). The shuttle
manifests are in :mod:`api.manifest_pages`. Words come from the catalogue (:mod:`api.i18n`);
the data from :mod:`tracking.board`, :mod:`tracking.search` and :func:`tracking.dossier_view`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date as date_cls
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, select

from api.deps import role_of
from api.i18n import N_, format_day
from api.i18n import gettext as _
from api.page_render import render
from api.pages import DATE_PATTERN, STAFF_ROLES, PageError, page_user
from api.words import reason_words, scan_words, status_words
from routing.clock import LOCAL_TZ
from tracking.board import Board, Risk, day_board
from tracking.models import Dossier, Site, StoredPlan, User, utcnow
from tracking.search import find_dossier, search_dossiers
from tracking.views import dossier_view

__all__ = ["ACTIONS", "RISKS", "custody_words", "router", "staff_user"]

router = APIRouter(include_in_schema=False, tags=["pages"])


RISKS = {
    "due_passed": N_("Legal due date passed on %(deadline)s"),
    "promised_at_risk": N_("Will miss the date promised to the citizen (%(deadline)s)"),
    "due_at_risk": N_("Legal due date today (%(deadline)s) and not on its way in time"),
    "delivery_failed": N_("Delivery attempt failed"),
    "run_missed": N_("Missed run %(run)s (cut-off %(deadline)s)"),
    "run_at_risk": N_(
        "Expected at the office at %(expected)s, after the cut-off %(deadline)s of run %(run)s"
    ),
    "unassigned": N_("On no courier's route today"),
}
"""Why a dossier is at risk (:data:`tracking.board.RISK_ORDER`), in staff's words."""

ACTIONS = {
    "due_passed": N_("Call the citizen, apologise and deliver it first thing."),
    "promised_at_risk": N_("Ask the agency to finish it today, or tell the citizen the new date."),
    "due_at_risk": N_("Ask the courier to deliver it first, or re-plan the day."),
    "delivery_failed": N_("Call the citizen to book a new time for delivery."),
    "run_missed": N_("Put it on run %(next)s at %(departs)s."),
    "run_missed_tomorrow": N_(
        "No run left today: it goes on tomorrow's first run; warn the agency."
    ),
    "run_at_risk": N_(
        "Call the courier to hand it over first, or let it take run %(next)s at %(departs)s."
    ),
    "run_at_risk_tomorrow": N_("Call the courier to hand it over first: no later run today."),
    "unassigned": N_("Re-plan the day, or move it to the next working day."),
}
"""What staff can do about each risk."""


def staff_user(request: Request, session: Session) -> User:
    """The staff user of a page request; redirects to ``/login`` without a valid token."""
    return page_user(request, session, STAFF_ROLES)


def _who(user: User) -> dict[str, Any]:
    return {"user": {"name": user.name}, "role": role_of(user)}


def _day(value: str | None) -> str:
    if not value:
        return datetime.now(LOCAL_TZ).date().isoformat()
    try:
        if "/" in value:
            return datetime.strptime(value.strip(), "%d/%m/%Y").date().isoformat()
        return date_cls.fromisoformat(value).isoformat()
    except ValueError:
        msg = _("date: %(value)s is not a day (dd/mm/yyyy).", value=repr(value))
        raise PageError(422, _("Bad request"), msg) from None


def custody_words(custodian: str | None, site_names: Mapping[str, str | None]) -> str:
    """Who or what holds a dossier (``courier:c1``, ``site:po-cm`` …), as people and places."""
    if not custodian:
        return ""
    kind, _sep, ident = custodian.partition(":")
    place = site_names.get(ident) or ident
    if kind == "courier":
        return _("Courier %(name)s", name=ident)
    if kind == "site":
        return str(place)
    if kind == "shuttle":
        return _("The shuttle from %(place)s", place=place)
    if kind == "citizen":
        return _("The citizen")
    return custodian


@router.get("/dossiers", response_class=HTMLResponse)
def search_page(request: Request, q: Annotated[str, Query(max_length=64)] = "") -> Response:
    """Dossiers whose code contains ``q`` in any case; a whole code opens its journey."""
    with Session(request.app.state.engine) as session:
        user = staff_user(request, session)
        found = search_dossiers(session=session, text=q) if q.strip() else []
        rows = [
            {"code": d.code, "status": d.status, "courier": d.courier_id, "due": d.due_date}
            for d in found
        ]
    exact = [d.code for d in found if d.code.lower() == "".join(q.split()).lower()]
    if len(exact) == 1 and len(rows) == 1:
        return RedirectResponse(f"/dossiers/{quote(exact[0], safe='')}", status_code=303)
    return render(
        "dossier_search.html",
        title=_("Find a dossier"),
        q=q,
        rows=rows,
        **_who(user),
    )


def _site_names(session: Session) -> dict[str, str | None]:
    return {s.id: s.name for s in session.exec(select(Site))}


def _planned_legs(
    stored: StoredPlan | None, job_id: str | None, sites: Mapping[str, str | None]
) -> list[dict[str, Any]]:
    """The stops of the stored plan that concern a job, with courier, place, time and run."""
    if stored is None or job_id is None:
        return []
    runs = stored.request_items("shuttles")
    legs = []
    for route in stored.plan().routes:
        for stop in route.stops:
            if job_id not in stop.job_ids:
                continue
            run = stop.shuttle if stop.kind == "handoff" else None
            journey = (stop.journeys or {}).get(job_id)
            legs.append(
                {
                    "type": stop.kind,
                    "courier": route.courier,
                    "place": sites.get(str(stop.site)) or stop.site or "",
                    "at": stop.start or stop.arrive,
                    "run": run,
                    "departs": (runs.get(str(run)) or {}).get("departs") if run else None,
                    "reaches": journey.reaches if journey is not None else None,
                }
            )
    return legs


def _event_line(event: Mapping[str, Any], sites: Mapping[str, str | None]) -> dict[str, Any]:
    """One scan of the history in words; a refused hand-over reads as refused."""
    kind = event.get("type")
    words = scan_words(kind)
    refused = kind == "delivered" and not event.get("applied")
    if refused:
        words = _("Hand-over refused: the identity check failed")
    elif kind == "delivery_failed":
        reason = (event.get("proof") or {}).get("reason")
        words = _("Delivery failed: %(reason)s", reason=reason) if reason else words
    note = event.get("note") if not event.get("applied") else event.get("flag_reason")
    return {
        "at": event.get("at"),
        "words": words,
        "refused": refused,
        "failed": kind == "delivery_failed",
        "counted": bool(event.get("applied")),
        "who": event.get("actor"),
        "place": sites.get(str(event.get("site"))) or event.get("site") or "",
        "custody": custody_words(event.get("custodian_after"), sites),
        "note": note or "",
    }


@router.get("/dossiers/{code}", response_class=HTMLResponse)
def journey_words_page(code: str, request: Request) -> Response:
    """One dossier's journey in words, for centre staff (any case of the code)."""
    with Session(request.app.state.engine) as session:
        user = staff_user(request, session)
        dossier: Dossier | None = find_dossier(session=session, code=code)
        if dossier is None:
            msg = _("There is no dossier %(code)s.", code=repr(code))
            raise PageError(404, _("No such dossier"), msg)
        if dossier.code != code:
            return RedirectResponse(f"/dossiers/{quote(dossier.code, safe='')}", status_code=303)
        view = dossier_view(session=session, code=dossier.code, now=utcnow())
        assert view is not None
        sites = _site_names(session)
        stored = session.get(StoredPlan, dossier.plan_id) if dossier.plan_id else None
        legs = _planned_legs(stored, dossier.job_id, sites)
    history = [_event_line(e, sites) for e in view["history"]]
    return render(
        "journey.html",
        title=_("Dossier %(code)s", code=view["code"]),
        d=view,
        custody=custody_words(view["custodian"], sites),
        legs=legs,
        history=history,
        failures=[h for h in history if h["refused"] or h["failed"] or not h["counted"]],
        **_who(user),
    )


def _journey_href(code: str) -> str:
    return f"/dossiers/{quote(code, safe='')}"


def _risk_words(risk: Risk) -> dict[str, Any]:
    """A risk of the board as its row: dossier, why, what to do."""
    hhmm = "%H:%M"
    deadline = risk.deadline.astimezone(LOCAL_TZ) if risk.deadline else None
    values = {
        "deadline": (
            format_day(deadline)
            if risk.reason in ("due_passed", "due_at_risk", "promised_at_risk") and deadline
            else deadline.strftime(hhmm)
            if deadline
            else ""
        ),
        "expected": risk.expected.astimezone(LOCAL_TZ).strftime(hhmm) if risk.expected else "",
        "run": risk.run or "",
    }
    action = risk.reason
    if risk.reason in ("run_missed", "run_at_risk") and risk.next_run is None:
        action = f"{risk.reason}_tomorrow"
    departs = (
        risk.next_run_departs.astimezone(LOCAL_TZ).strftime(hhmm) if risk.next_run_departs else ""
    )
    why = _(RISKS[risk.reason], **values)
    if risk.reason == "unassigned" and risk.detail:
        why = f"{why}: {reason_words(risk.detail)}"
    elif risk.reason == "delivery_failed" and risk.detail:
        why = f"{why}: {risk.detail}"
    return {
        "code": risk.dossier.code,
        "href": _journey_href(risk.dossier.code),
        "reason": risk.reason,
        "status": status_words(risk.dossier.status),
        "courier": risk.dossier.courier or "",
        "why": why,
        "todo": _(ACTIONS[action], next=risk.next_run or "", departs=departs),
    }


@router.get("/board", response_class=HTMLResponse)
def board_page(
    request: Request, date: Annotated[str | None, Query(pattern=DATE_PATTERN)] = None
) -> HTMLResponse:
    """The board of a day: dossiers by stage, and those at risk with why and what to do."""
    day = _day(date)
    with Session(request.app.state.engine) as session:
        user = staff_user(request, session)
        board: Board = day_board(session=session, date=day, now=utcnow())
    return render(
        "board.html",
        title=_("Board %(day)s", day=format_day(day)),
        date=day,
        day_before=(date_cls.fromisoformat(day) - timedelta(days=1)).isoformat(),
        day_after=(date_cls.fromisoformat(day) + timedelta(days=1)).isoformat(),
        board=board,
        risks=[_risk_words(r) for r in board.risks],
        stages=[
            (s, [(r.code, _journey_href(r.code)) for r in rows])
            for s, rows in board.stages.items()
            if rows
        ],
        refresh_s=60,
        **_who(user),
    )
