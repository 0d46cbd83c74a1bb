"""Shuttle manifests for centre and post-office staff: ``/manifests`` and ``/manifests/{run}``.

``/manifests?date=`` lists the runs of a day's timetable with how many dossiers each should
carry, has been scanned onto and has delivered. ``/manifests/{run}?date=`` is the hand-over
list of one run, laid out to be printed and signed by the one who hands over, the driver and
the one who receives, with two check-off forms: *put on the shuttle* (records the ``on_shuttle``
scans of the ticked dossiers in one go) and *received* at the other end. Re-submitting a form
records nothing twice (:func:`tracking.manifests.check_off`). The differences (expected but not
scanned, scanned but not expected, not yet received) are listed above the table.
"""

from __future__ import annotations

from datetime import date as date_cls
from datetime import timedelta
from typing import Annotated
from urllib.parse import parse_qs, quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool

from api.deps import ADMIN, STAFF, role_of
from api.i18n import format_day
from api.i18n import gettext as _
from api.page_render import render
from api.pages import PageError
from api.staff_pages import staff_user
from routing.clock import LOCAL_TZ
from tracking.errors import InvalidInput, NotFound
from tracking.lifecycle import EventType
from tracking.manifests import CheckOff, check_off, day_manifests, manifest
from tracking.models import Site, utcnow

__all__ = ["router"]

router = APIRouter(include_in_schema=False, tags=["pages"])

_DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
_CHECKERS = frozenset({STAFF, ADMIN})
"""Roles that may tick a manifest (the roles that may scan ``on_shuttle`` and ``received``)."""


def _today() -> str:
    return utcnow().astimezone(LOCAL_TZ).date().isoformat()


def _site_names(session: Session) -> dict[str, str]:
    return {s.id: s.name or s.id for s in session.exec(select(Site))}


@router.get("/manifests", response_class=HTMLResponse)
def manifests_page(
    request: Request, date: Annotated[str | None, Query(pattern=_DATE_PATTERN)] = None
) -> HTMLResponse:
    """The runs of a day with their counts, each linking to its manifest."""
    day = date or _today()
    with Session(request.app.state.engine) as session:
        user = staff_user(request, session)
        try:
            sheets = day_manifests(session=session, date=day, now=utcnow())
        except NotFound:
            sheets = []
        sites = _site_names(session)
    return render(
        "manifests.html",
        title=_("Shuttle manifests %(day)s", day=format_day(day)),
        date=day,
        day_before=(date_cls.fromisoformat(day) - timedelta(days=1)).isoformat(),
        day_after=(date_cls.fromisoformat(day) + timedelta(days=1)).isoformat(),
        sheets=sheets,
        sites=sites,
        user={"name": user.name},
        role=role_of(user),
    )


@router.get("/manifests/{run}", response_class=HTMLResponse)
def manifest_page(
    run: str,
    request: Request,
    *,
    date: Annotated[str | None, Query(pattern=_DATE_PATTERN)] = None,
    recorded: int | None = None,
    already: int | None = None,
    flagged: int | None = None,
) -> HTMLResponse:
    """One run's hand-over list: print it, tick it off, see the differences."""
    day = date or _today()
    with Session(request.app.state.engine) as session:
        user = staff_user(request, session)
        try:
            sheet = manifest(session=session, date=day, run=run, now=utcnow())
        except NotFound:
            msg = _("The timetable of %(day)s has no run %(run)s.", day=format_day(day), run=run)
            raise PageError(404, _("No such run"), msg) from None
        sites = _site_names(session)
    return render(
        "manifest.html",
        title=_("Manifest of run %(run)s", run=run),
        m=sheet,
        sites=sites,
        can_check=role_of(user) in _CHECKERS,
        done=None
        if recorded is None
        else {"recorded": recorded, "already": already or 0, "flagged": flagged or 0},
        user={"name": user.name},
        role=role_of(user),
    )


@router.post("/manifests/{run}")
async def manifest_check_off(run: str, request: Request) -> Response:
    """Record the ticked dossiers' ``on_shuttle`` or ``received`` scans, then show the list."""
    day = request.query_params.get("date") or _today()
    form = parse_qs((await request.body()).decode("utf-8", errors="replace"))
    action = (form.get("event") or [""])[0]
    codes = [c.strip() for c in form.get("dossier", []) if c.strip()]
    if action not in (EventType.ON_SHUTTLE.value, EventType.RECEIVED.value):
        msg = _("event: choose 'put on the shuttle' or 'received'.")
        raise PageError(422, _("Bad request"), msg)
    # The scans are written off the event loop, so a long list holds no other request.
    result = await run_in_threadpool(_check_off, request, day, run, codes, EventType(action))
    summary = {
        "date": day,
        "recorded": result.recorded,
        "already": len(result.already),
        "flagged": sum(1 for r in result.results if r.status == "flagged"),
    }
    return RedirectResponse(f"/manifests/{quote(run, safe='')}?{urlencode(summary)}", 303)


def _check_off(
    request: Request, day: str, run: str, codes: list[str], event_type: EventType
) -> CheckOff:
    with Session(request.app.state.engine) as session:
        user = staff_user(request, session)
        if role_of(user) not in _CHECKERS:
            msg = _("Only centre staff and administrators tick a manifest.")
            raise PageError(403, _("Not allowed"), msg)
        try:
            result = check_off(
                session=session,
                date=day,
                run=run,
                codes=codes,
                event_type=event_type,
                actor=user,
                now=utcnow(),
            )
        except NotFound:
            msg = _("The timetable of %(day)s has no run %(run)s.", day=format_day(day), run=run)
            raise PageError(404, _("No such run"), msg) from None
        except InvalidInput as exc:
            raise PageError(422, _("Bad request"), str(exc)) from None
    return result
