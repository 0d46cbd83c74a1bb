"""HTML pages of buuta: maps, the courier's stop list, the dispatcher's day, and log-in.

The pages sit beside the JSON API (no ``/v1`` prefix) and use the same tokens: a page reads the
token from the ``buuta_token`` cookie (set by ``/login``) or a Bearer header, exactly as the API
does (:func:`api.deps.get_current_user`). A page asked for without a valid token redirects to
``/login``; a role that may not see a page gets an HTML 403.

==================================  =================================  =========================
page                                what                               who
==================================  =================================  =========================
``/``                               start page: sends each role to     anyone
                                    its work; log-in and look-up
``/login`` (GET, POST)              paste a token, get the cookie      anyone
``/logout``                         forget the cookie                  anyone
``/dispatch?date=&plan=``           the day's published plan, re-plan, dispatcher, admin, staff
                                    plan the day; a draft's review
``/plans/{id}/map``                 plan map                           dispatcher, admin, staff
``/progress?date=&plan=&courier=``  progress map, reloads each minute  dispatcher, admin, staff
``/dossiers/{code}/map``            a dossier's journey                dispatcher, admin, staff
``/couriers/{id}/stops?date=``      the courier's stop list (phone)    that courier; staff roles
``/sw.js``                          keeps the stop list offline        anyone
``/offline``                        shown offline for a page never     anyone
                                    loaded (cached by ``/sw.js``)
``/favicon.ico``                    buuta's icon (SVG)                 anyone
==================================  =================================  =========================

:func:`include_pages` adds the pages and the ``/static`` assets to the app. Every word on a page
goes through the message catalogue (:mod:`api.i18n`: how to add a string) and every code shown
to a person through :mod:`api.words`.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date as date_cls
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import parse_qs, quote, urlencode

from branca.element import Element, Figure
from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

import geo
import tracking
from api import words
from api.deps import (
    ADMIN,
    COURIER,
    DISPATCHER,
    STAFF,
    TOKEN_COOKIE,
    get_current_user,
    role_of,
)
from api.draft_console import PLAN_TIME_LIMITS_S, open_requests, review_context, state_words
from api.i18n import format_day, format_money
from api.i18n import gettext as _
from api.page_render import render
from api.planning import travel_model
from api.review import draft_review
from api.words import role_words
from routing.clock import LOCAL_TZ, local_day_bounds
from routing.plan import Kpis, Plan, Unassigned, plan_from_json
from tracking.models import CourierPosition, Dossier, ScanEvent, Site, StoredPlan, User
from tracking.search import find_dossier

if TYPE_CHECKING:
    import folium

# api.maps (folium, and pandas through it) is imported by the map pages only, when first drawn,
# so that the server starts without it.
STATIC_DIR = Path(__file__).resolve().parent / "static"
"""Directory of the assets buuta serves itself under ``/static`` (as ``api.maps.STATIC_DIR``)."""

__all__ = ["PROGRESS_REFRESH_S", "include_pages", "router"]

PROGRESS_REFRESH_S = 60
"""How often the progress page reloads itself, in seconds."""

TARIFF_PICKUP_VND = 13_000
"""Home pickup, per dossier (DESIGN §1: ~13,000 VND at a 50 % discount)."""
TARIFF_RETURN_CITY_VND = 8_000
"""Home return in a ward (phường), per dossier (DESIGN §1)."""
TARIFF_RETURN_RURAL_VND = 10_000
"""Home return in a rural commune (xã), per dossier (DESIGN §1)."""

STAFF_ROLES = frozenset({STAFF, DISPATCHER, ADMIN})
# A day is YYYY-MM-DD (links, the API's form) or dd/mm/yyyy (typed by a person, DESIGN §11).
DATE_PATTERN = r"^(\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4})$"
_TEMPLATES = Path(__file__).resolve().parent / "templates"

router = APIRouter(include_in_schema=False, tags=["pages"])


class LoginRequired(Exception):  # noqa: N818 (an answer, not a failure)
    """The page needs a valid token; answered by a redirect to ``/login``."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class PageError(Exception):
    """A page that cannot be shown; answered with an HTML page saying why."""

    def __init__(self, status: int, heading: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.heading = heading
        self.message = message


def include_pages(app: FastAPI) -> None:
    """Add the HTML pages, their error answers and the ``/static`` assets to ``app``.

    Parameters
    ----------
    app
        buuta's FastAPI application (from :func:`api.app.create_app`).
    """
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_exception_handler(LoginRequired, _login_redirect)
    app.add_exception_handler(PageError, _page_error)


def _login_redirect(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return RedirectResponse(f"/login?{urlencode({'next': exc.next_url})}", status_code=303)


def _page_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageError)
    return render_page(
        "error.html",
        status=exc.status,
        title=exc.heading,
        heading=exc.heading,
        message=exc.message,
        user=None,
        role="",
    )


render_page = render
"""Answer a page (:func:`api.page_render.render`, shared by every page module)."""


def page_session(request: Request) -> Session:
    return Session(request.app.state.engine)


def page_user(request: Request, session: Session, roles: frozenset[str]) -> User:
    """The user of a page request; redirects to /login without a valid token."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    try:  # the API's own dependency: Bearer header or buuta_token cookie
        user = get_current_user(request, session)
    except HTTPException as exc:
        if exc.status_code == 401:
            raise LoginRequired(here) from None
        raise
    if role_of(user) not in roles:
        msg = _("This page is not open to the role %(role)s.", role=role_words(role_of(user)))
        raise PageError(403, _("Not allowed"), msg)
    return user


def today_local() -> str:
    return datetime.now(LOCAL_TZ).date().isoformat()


def page_day(value: str) -> str:
    """The ISO day of ``value``, given as ``YYYY-MM-DD`` or ``dd/mm/yyyy``."""
    try:
        if "/" in value:
            return datetime.strptime(value.strip(), "%d/%m/%Y").date().isoformat()
        return date_cls.fromisoformat(value).isoformat()
    except ValueError:
        msg = _("date: %(value)s is not a day (dd/mm/yyyy).", value=repr(value))
        raise PageError(422, _("Bad request"), msg) from None


def _safe_next(value: str | None) -> str | None:
    """Only local paths may be a login's destination (no open redirect)."""
    if value and value.startswith("/") and not value.startswith(("//", "/\\")):
        return value
    return None


def _tiles(request: Request) -> tuple[str | None, str | None]:
    settings = request.app.state.settings
    return getattr(settings, "tiles_url", None), getattr(settings, "tiles_attribution", None)


def _map_response(fmap: folium.Map, *, back_url: str, refresh_s: int | None = None) -> HTMLResponse:
    from api.maps import render_html  # noqa: PLC0415 (folium only when maps are drawn)

    root = fmap.get_root()
    if isinstance(root, Figure):
        back = html.escape(back_url, quote=True)
        words = html.escape(_("Dispatch"))
        link = f'<a class="buuta-back" href="{back}">← {words}</a>'
        root.html.add_child(Element(link), name="buuta_back")
        root.html.add_child(Element(_search_box()), name="buuta_find")
        icon = '<link rel="icon" href="/favicon.ico" type="image/svg+xml">'
        root.header.add_child(Element(icon), name="buuta_icon")
        if refresh_s:
            meta = f'<meta http-equiv="refresh" content="{int(refresh_s)}">'
            root.header.add_child(Element(meta), name="refresh")
    return HTMLResponse(
        render_html(fmap, static_url="/static"),
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


def _search_box() -> str:
    """The staff search form of the map pages (the other staff pages have it in base.html)."""
    words = html.escape(_("Dossier code"), quote=True)
    find = html.escape(_("Find"))
    return (
        '<form class="buuta-find" method="get" action="/dossiers" role="search" style="position:'
        "fixed;left:10px;bottom:70px;z-index:1000;padding:6px;background:#fff;border-radius:8px;"
        'box-shadow:0 1px 5px rgba(0,0,0,.4)">'
        f'<input name="q" type="search" aria-label="{words}" placeholder="{words}" '
        f'maxlength="64" autocomplete="off"> <button type="submit">{find}</button></form>'
    )


def _load_plan(session: Session, plan_id: str) -> StoredPlan:
    stored = tracking.get_plan(session=session, plan_id=plan_id)
    if stored is None:
        msg = _("There is no plan %(plan)s.", plan=repr(plan_id))
        raise PageError(404, _("No such plan"), msg)
    return stored


def _plan_of_day(
    session: Session, day: str, plan_id: str | None
) -> tuple[StoredPlan | None, list[StoredPlan]]:
    """The plan asked for (any state), else the day's published plan; and all plans of the day."""
    plans = list(tracking.list_plans(session=session, date=day))
    if plan_id:
        chosen = next((p for p in plans if p.id == plan_id), None)
        if chosen is None:
            msg = _(
                "There is no plan %(plan)s on %(day)s.", plan=repr(plan_id), day=format_day(day)
            )
            raise PageError(404, _("No such plan"), msg)
        return chosen, plans
    return next((p for p in plans if p.state == "published"), None), plans


# --------------------------------------------------------------------------- log-in


def _home_of(user: User) -> str:
    """Where a user works: a courier's stop list of today, the dispatch page for the others."""
    if role_of(user) == COURIER:
        return f"/couriers/{quote(user.name)}/stops?date={today_local()}"
    return "/dispatch"


def error_page(status: int, heading: str, message: str) -> HTMLResponse:
    """An HTML error answer in the request's language (for browsers; the API answers JSON)."""
    return render_page(
        "error.html", status=status, title=heading, heading=heading, message=message, user=None
    )


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    """The start page: a logged-in user goes to their work; anyone else sees the log-in form
    and the public look-up of a dossier."""
    with page_session(request) as session:
        try:
            user: User | None = get_current_user(request, session)
        except HTTPException:
            user = None
    if user is not None:
        return RedirectResponse(_home_of(user), status_code=303)
    return render_page("home.html", title=_("Home"), next="", error=None, user=None, role="")


@router.get("/favicon.ico")
def favicon() -> Response:
    """buuta's icon (an SVG, which browsers accept under the usual name)."""
    return FileResponse(
        STATIC_DIR / "favicon.svg",
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@router.get("/offline", response_class=HTMLResponse)
def offline_page() -> HTMLResponse:
    """What a phone shows offline for a page it never loaded (``/sw.js`` keeps a copy)."""
    return render_page("offline.html", title=_("No connection"), user=None, role="")


@router.get("/login", response_class=HTMLResponse)
def login_form(next: str | None = None) -> HTMLResponse:
    """Show the log-in form (a token field)."""
    return render_page(
        "login.html", title=_("Log in"), next=_safe_next(next) or "", error=None, user=None, role=""
    )


def _user_of_token(request: Request, token: str) -> User | None:
    with page_session(request) as session:
        return tracking.user_for_token(session=session, token=token)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    """Check the pasted token; on success set the ``buuta_token`` cookie and go on."""
    form = parse_qs((await request.body()).decode("utf-8", errors="replace"))
    token = (form.get("token") or [""])[0].strip()
    wanted = _safe_next((form.get("next") or [""])[0])
    user = await run_in_threadpool(_user_of_token, request, token) if token else None
    if user is None:
        return render_page(
            "login.html",
            status=401,
            title=_("Log in"),
            next=wanted or "",
            error=_("That access key is not valid (unknown or revoked)."),
            user=None,
            role="",
        )
    if wanted is None:
        wanted = _home_of(user)
    answer = RedirectResponse(wanted, status_code=303)
    answer.set_cookie(
        TOKEN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        max_age=14 * 24 * 3600,
        path="/",
    )
    return answer


@router.get("/logout")
def logout() -> Response:
    """Forget the token cookie and go back to the log-in form."""
    answer = RedirectResponse("/login", status_code=303)
    answer.delete_cookie(TOKEN_COOKIE, path="/")
    return answer


@router.get("/sw.js")
def service_worker() -> Response:
    """The service worker that keeps a loaded stop list usable offline."""
    return FileResponse(
        STATIC_DIR / "sw.js",
        media_type="text/javascript",
        headers={"Service-Worker-Allowed": "/", "Cache-Control": "no-cache"},
    )


# --------------------------------------------------------------------------- maps


@router.get("/plans/{plan_id}/map", response_class=HTMLResponse)
def plan_map_page(plan_id: str, request: Request) -> HTMLResponse:
    """The plan map of a stored plan."""
    with page_session(request) as session:
        page_user(request, session, STAFF_ROLES)
        stored = _load_plan(session, plan_id)
        plan, req = stored.plan(), dict(stored.request_json)
    tiles_url, attribution = _tiles(request)
    from api.maps import MapDataError, plan_map  # noqa: PLC0415 (folium only when drawn)

    try:
        fmap = plan_map(plan, req, tiles_url=tiles_url, tiles_attribution=attribution)
    except MapDataError as exc:
        raise PageError(422, _("Cannot draw this plan"), str(exc)) from None
    back = f"/dispatch?{urlencode({'date': plan.date.isoformat(), 'plan': plan_id})}"
    return _map_response(fmap, back_url=back)


def _day_bounds(day: str) -> tuple[datetime, datetime]:
    date_cls.fromisoformat(day)  # a malformed day raises ValueError here, as before
    return local_day_bounds(day)  # clamped at the ends of the calendar


def day_step(day: str, days: int) -> str:
    """The day ``days`` away from ``day``, or ``day`` itself at the ends of the calendar."""
    try:
        return (date_cls.fromisoformat(day) + timedelta(days=days)).isoformat()
    except OverflowError:
        return day


def _dossier_codes(request_json: Mapping[str, Any]) -> list[str]:
    return [
        str(job["dossier"])
        for job in request_json.get("jobs", [])
        if isinstance(job, Mapping) and job.get("dossier")
    ]


def _positions_of_day(session: Session, day: str) -> list[dict[str, Any]]:
    start, end = _day_bounds(day)
    rows = session.exec(
        select(CourierPosition)
        .where(CourierPosition.at >= start, CourierPosition.at < end)
        .order_by(col(CourierPosition.at))
    ).all()
    return [
        {"courier": r.courier_id, "at": r.at.isoformat(), "lat": r.lat, "lon": r.lon} for r in rows
    ]


def _scans_of(session: Session, codes: Sequence[str]) -> list[dict[str, Any]]:
    scans: list[dict[str, Any]] = []
    chunk = 500
    for i in range(0, len(codes), chunk):
        rows = session.exec(
            select(ScanEvent, Dossier.code)
            .join(Dossier, col(Dossier.id) == col(ScanEvent.dossier_id))
            .where(col(Dossier.code).in_(list(codes[i : i + chunk])))
            .where(col(ScanEvent.void_reason).is_(None))
        ).all()
        scans.extend(
            {"dossier": code, "type": ev.type, "at": ev.device_at.isoformat(), "job": ev.job}
            for ev, code in rows
        )
    return scans


@router.get("/progress", response_class=HTMLResponse)
def progress_page(
    request: Request,
    date: Annotated[str | None, Query(pattern=DATE_PATTERN)] = None,
    plan: str | None = None,
    courier: str | None = None,
) -> HTMLResponse:
    """The progress map of a day (its latest plan, or ``plan``); reloads every minute."""
    day = page_day(date or today_local())
    with page_session(request) as session:
        page_user(request, session, STAFF_ROLES)
        stored, _others = _plan_of_day(session, day, plan)
        if stored is None:
            msg = _(
                "There is no plan for %(day)s, so there is no progress to show.",
                day=format_day(day),
            )
            raise PageError(404, _("No plan"), msg)
        shown, req = stored.plan(), dict(stored.request_json)
        positions = _positions_of_day(session, day)
        scans = _scans_of(session, _dossier_codes(req))
    tiles_url, attribution = _tiles(request)
    from api.maps import MapDataError, progress_map  # noqa: PLC0415 (folium only when drawn)

    try:
        fmap = progress_map(
            shown,
            req,
            positions=positions,
            scans=scans,
            now=datetime.now(LOCAL_TZ),
            courier=courier,
            tiles_url=tiles_url,
            tiles_attribution=attribution,
        )
    except MapDataError as exc:
        raise PageError(422, _("Cannot draw the progress"), str(exc)) from None
    back = f"/dispatch?{urlencode({'date': day, 'plan': stored.id})}"
    return _map_response(fmap, back_url=back, refresh_s=PROGRESS_REFRESH_S)


def _sites_for(session: Session, dossier: Dossier) -> list[dict[str, Any]]:
    sites: dict[str, dict[str, Any]] = {}
    plans = [dossier.plan_id] if dossier.plan_id else []
    for plan_id in plans:
        stored = session.get(StoredPlan, plan_id)
        if stored is not None:
            for site in stored.request_json.get("sites", []):
                if isinstance(site, Mapping) and site.get("id") is not None:
                    sites[str(site["id"])] = dict(site)
    for site_row in session.exec(select(Site)).all():
        data = site_row.model_dump()
        sites.setdefault(str(data.get("id")), data)
    return list(sites.values())


@router.get("/dossiers/{code}/map", response_class=HTMLResponse)
def journey_page(code: str, request: Request) -> HTMLResponse:
    """The journey map of one dossier: each scan in order with custodian and time."""
    with page_session(request) as session:
        page_user(request, session, STAFF_ROLES)
        dossier = find_dossier(session=session, code=code)  # any case, as staff type it
        if dossier is None:
            msg = _("There is no dossier %(code)s.", code=repr(code))
            raise PageError(404, _("No such dossier"), msg)
        code = dossier.code
        events = session.exec(
            select(ScanEvent)
            .where(ScanEvent.dossier_id == dossier.id)
            .order_by(col(ScanEvent.device_at), col(ScanEvent.id))
        ).all()
        rows = [
            {
                "type": ev.type,
                "at": ev.device_at.isoformat(),
                "site": ev.site,
                "lat": ev.lat,
                "lon": ev.lon,
                "custodian": ev.custodian_after,
                "actor": ev.actor_name,
                "flagged": ev.flagged or bool(ev.void_reason),
                "flag_reason": ev.flag_reason or ev.void_reason or "",
            }
            for ev in events
        ]
        sites = _sites_for(session, dossier)
        status = dossier.status
    tiles_url, attribution = _tiles(request)
    from api.maps import MapDataError, journey_map  # noqa: PLC0415 (folium only when drawn)

    try:
        fmap = journey_map(
            code,
            rows,
            sites=[s for s in sites if s.get("lat") is not None and s.get("lon") is not None],
            status=status,
            tiles_url=tiles_url,
            tiles_attribution=attribution,
        )
    except MapDataError as exc:
        raise PageError(422, _("Cannot draw this journey"), str(exc)) from None
    return _map_response(fmap, back_url="/dispatch")


# --------------------------------------------------------------------------- dispatcher page


def _round_km(value: float) -> float:
    return round(value, 1)


def plan_summary(plan: Plan | Mapping[str, Any], request: Mapping[str, Any]) -> dict[str, Any]:
    """Summarise a plan for a dispatcher: service, runs caught, distance, tariff revenue.

    Parameters
    ----------
    plan
        The plan of DESIGN §4 (typed, or its JSON).
    request
        The request it answers (job kinds and places, shuttle departures).

    Returns
    -------
    dict
        ``jobs``, ``served``, ``pickups``, ``returns``, ``unassigned``, ``reasons`` (list of
        ``reason``/``count``/``example`` rows, most frequent first), ``runs`` (each run caught
        with its site, departure and dossiers), ``runs_caught``, ``dossiers_on_runs``,
        ``runs_missed``, ``reaching_today`` (dossiers whose journey reaches their destination
        today), ``distance_km``, ``km_per_dossier``, ``couriers``, ``couriers_used``,
        ``routes`` (per courier: stops, km, hours, idle minutes), ``revenue_vnd`` and
        ``revenue_per_dossier_vnd`` at the published tariffs (13,000 VND per pickup; 8,000 per
        return to a home in a ward (*phường*), 10,000 in a rural commune (*xã*) or outside the
        embedded wards), ``idle_min`` (minutes couriers wait between stops; ``None`` on old
        plans), ``idle_while_unserved`` (couriers free for hours while jobs of their
        district wait: ``courier``, ``free_h``, ``unserved``) and ``lent`` (jobs served by a
        courier lent from another district).
    """
    typed = plan if isinstance(plan, Plan) else plan_from_json(plan)
    jobs = {str(j.get("id")): j for j in request.get("jobs", []) if isinstance(j, Mapping)}
    shuttles = {str(s.get("id")): s for s in request.get("shuttles", []) if isinstance(s, Mapping)}
    served_ids, runs, routes = _route_rows(typed, shuttles)
    distance_km = sum((r.distance_km for r in typed.routes), 0.0)
    pickups = [j for j in served_ids if jobs.get(j, {}).get("kind") == "pickup"]
    returns = [j for j in served_ids if jobs.get(j, {}).get("kind") == "return"]
    city = _returns_in_wards(jobs, returns)
    revenue = (
        TARIFF_PICKUP_VND * len(pickups)
        + TARIFF_RETURN_CITY_VND * city
        + TARIFF_RETURN_RURAL_VND * (len(returns) - city)
    )
    unassigned = typed.unassigned
    served = len(served_ids)
    kpis = typed.kpis or Kpis()
    jobs_asked = kpis.jobs if kpis.jobs is not None else served + len(unassigned)
    return {
        "jobs": len(jobs) if jobs else jobs_asked,
        "served": served,
        "pickups": len(pickups),
        "returns": len(returns),
        "returns_city": city,
        "unassigned": len(unassigned),
        "reasons": _reason_rows(unassigned),
        "runs": sorted(runs.values(), key=lambda r: (r["departs"], r["run"])),
        "runs_caught": len(runs),
        "dossiers_on_runs": sum(r["dossiers"] for r in runs.values()),
        "runs_missed": kpis.runs_missed or 0,
        "reaching_today": kpis.reaching_today,
        "distance_km": _round_km(distance_km),
        "km_per_dossier": round(distance_km / served, 2) if served else 0.0,
        "couriers": len(request.get("couriers", [])),
        "couriers_used": sum(1 for r in routes if r["stops"]),
        "routes": routes,
        "revenue_vnd": revenue,
        "revenue_per_dossier_vnd": round(revenue / served) if served else 0,
        **_idle_summary(typed),
    }


def _idle_summary(plan: Plan) -> dict[str, Any]:
    """Minutes couriers wait between stops, and couriers left free while jobs wait.

    ``idle_min`` is ``None`` for a plan stored before idle time was reported.
    """
    kpis = plan.kpis or Kpis()
    lent = kpis.solver.extra.get("lent") if kpis.solver is not None else None
    idle = kpis.idle_min
    if idle is None and plan.routes and all(r.idle_min is not None for r in plan.routes):
        idle = sum(r.idle_min or 0.0 for r in plan.routes)
    return {
        "lent": lent if isinstance(lent, int) else 0,
        "idle_min": None if idle is None else round(idle),
        "idle_while_unserved": [
            {"courier": w.courier, "free_h": round(w.free_min / 60.0, 1), "unserved": w.unserved}
            for w in kpis.idle_while_unserved or ()
        ],
    }


def _route_rows(
    plan: Plan, shuttles: Mapping[str, Mapping[str, Any]]
) -> tuple[list[str], dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Jobs served, shuttle runs caught (with their dossiers) and one row per courier."""
    served_ids: list[str] = []
    runs: dict[str, dict[str, Any]] = {}
    routes = []
    for route in plan.routes:
        n_stops = 0
        for stop in route.stops:
            if stop.kind in {"pickup", "delivery"}:
                served_ids.append(str(stop.job))
                n_stops += 1
            elif stop.kind in {"handoff", "collect"}:
                n_stops += 1
            if stop.kind == "handoff" and stop.shuttle:
                run = stop.shuttle
                shuttle = shuttles.get(run, {})
                row = runs.setdefault(
                    run,
                    {
                        "run": run,
                        "site": stop.site,
                        "departs": str(shuttle.get("departs", "?"))[-5:],
                        "dossiers": 0,
                    },
                )
                row["dossiers"] += len(stop.jobs)
        routes.append(
            {
                "courier": route.courier,
                "stops": n_stops,
                "distance_km": _round_km(route.distance_km),
                "hours": round((route.duration_min or 0.0) / 60.0, 1),
                "idle_min": None if route.idle_min is None else round(route.idle_min),
            }
        )
    return served_ids, runs, routes


def _returns_in_wards(jobs: Mapping[str, Mapping[str, Any]], returns: list[str]) -> int:
    """Returns delivered to a home in a ward (*phường*), priced at the city tariff."""
    points: list[geo.LatLon | None] = []
    for job_id in returns:
        job = jobs[job_id]
        try:
            points.append(geo.parse_latlon(job.get("lat"), job.get("lon"), where=job_id))
        except ValueError:
            points.append(None)
    index = geo.areas.default_ward_index()
    wards = index.wards_at([p for p in points if p is not None])
    return sum(1 for w in wards if w is not None and w.kind == "phường")


def _reason_rows(unassigned: Sequence[Unassigned]) -> list[dict[str, Any]]:
    reasons = Counter(u.reason or "unknown" for u in unassigned)
    examples: dict[str, str] = {}
    for u in unassigned:
        examples.setdefault(u.reason or "unknown", f"{u.job}: {u.detail}")
    return [{"reason": r, "count": n, "example": examples[r]} for r, n in reasons.most_common()]


def _vnd(value: int) -> str:
    return format_money(value)


def _site_names(request: Mapping[str, Any]) -> dict[str, str]:
    """Each site's name by its id (a site's name reads better than its id)."""
    return {
        str(x.get("id")): str(x.get("name") or x.get("id"))
        for x in request.get("sites", [])
        if isinstance(x, Mapping)
    }


def _reason_examples(plan: Plan, request: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """The first unassigned job of each reason, with its dossier, booked window and the
    optimizer's detail (an English sentence that :func:`api.words.detail_words` translates)."""
    jobs = {str(j.get("id")): j for j in request.get("jobs", []) if isinstance(j, Mapping)}
    names = _site_names(request)
    examples: dict[str, dict[str, str]] = {}
    for item in plan.unassigned:
        job = jobs.get(item.job, {})
        window = job.get("window")
        examples.setdefault(
            item.reason or "unknown",
            {
                "job": item.job,
                "dossier": str(job.get("dossier") or ""),
                "window": (
                    f"{hhmm_of(window[0])}–{hhmm_of(window[1])}"
                    if isinstance(window, list | tuple) and len(window) == 2
                    else ""
                ),
                "detail": words.detail_words(item.detail, names),
            },
        )
    return examples


@router.get("/dispatch", response_class=HTMLResponse)
def dispatch_page(
    request: Request,
    date: Annotated[str | None, Query(pattern=DATE_PATTERN)] = None,
    plan: str | None = None,
) -> HTMLResponse:
    """The dispatcher's page of a day: the published plan's summary, links to its maps,
    re-plan; planning the day from the book; a draft's review, publish and discard."""
    day = page_day(date or today_local())
    with page_session(request) as session:
        user = page_user(request, session, STAFF_ROLES)
        stored, plans = _plan_of_day(session, day, plan)
        context: dict[str, Any] = {"plan": None, "s": None, "others": [], "examples": {}}
        if stored is not None:
            context = _plan_context(session, request, stored, plans)
        name, role = user.name, role_of(user)
        waiting = open_requests(session, day)
    published = _published_id(plans)
    # Planning keeps what is done and starts couriers where they are now: it is for today and
    # later days, not for a day that is over.
    can_plan = role in {DISPATCHER, ADMIN} and day >= today_local()
    return render_page(
        "dispatch.html",
        title=_("Dispatch %(day)s", day=format_day(day)),
        date=day,
        day_before=day_step(day, -1),
        day_after=day_step(day, +1),
        tariffs={
            "pickup": TARIFF_PICKUP_VND,
            "city": TARIFF_RETURN_CITY_VND,
            "rural": TARIFF_RETURN_RURAL_VND,
        },
        user={"name": name},
        role=role,
        can_replan=can_plan,
        can_plan=can_plan,
        open_requests=waiting,
        time_limits=PLAN_TIME_LIMITS_S,
        state_words=state_words,
        drafts=[
            {"id": p.id, "created_by": p.created_by, "created_at": _local_time(p.created_at)}
            for p in plans
            if p.state == "draft"
            and (stored is None or p.id != stored.id)
            and p.base_plan_id == published  # a stale draft can no longer be published
        ],
        **context,
    )


def _published_id(plans: Sequence[StoredPlan]) -> str | None:
    """The day's published plan among ``plans`` (newest first): a draft can be published only
    if it was made against this one (``None``: nothing published yet)."""
    return next((p.id for p in plans if p.state == "published"), None)


def _plan_context(
    session: Session, request: Request, stored: StoredPlan, plans: Sequence[StoredPlan]
) -> dict[str, Any]:
    """The page's view of one plan: summary, reasons, other plans, and a draft's review."""
    typed = stored.plan()
    summary = plan_summary(typed, stored.request_json)
    summary["revenue_vnd"] = _vnd(summary["revenue_vnd"])
    summary["revenue_per_dossier_vnd"] = _vnd(summary["revenue_per_dossier_vnd"])
    names = _site_names(stored.request_json)
    for run in summary["runs"]:  # a site's name reads better than its id
        run["site_name"] = names.get(str(run["site"]), run["site"])
    review = None
    if stored.state == "draft":
        against = tracking.published_plan(session=session, date=stored.date)
        travel = travel_model(request.app.state.settings)
        found = draft_review(stored, against, travel=travel)
        review = review_context(found, lambda text: words.detail_words(text, names))
    return {
        "plan": {
            "plan_id": stored.id,
            "status": stored.status,
            "state": stored.state,
            "created_by": stored.created_by,
            "created_at": _local_time(stored.created_at),
            "published_by": stored.published_by,
            "published_at": _local_time(stored.published_at),
        },
        "s": summary,
        "examples": _reason_examples(typed, stored.request_json),
        "review": review,
        # A draft made before another plan was published cannot be published (409): the
        # console says so instead of offering a Publish that fails.
        "stale": stored.state == "draft" and stored.base_plan_id != _published_id(plans),
        "others": [
            {
                "id": p.id,
                "status": p.status,
                "state": p.state,
                "created_at": _local_time(p.created_at),
            }
            for p in plans
            if p.id != stored.id and p.state != "draft"
        ],
    }


def _local_time(moment: datetime | None) -> str:
    if moment is None:
        return ""
    if moment.tzinfo is None:
        return moment.strftime("%d/%m %H:%M UTC")
    return moment.astimezone(LOCAL_TZ).strftime("%d/%m %H:%M")


def hhmm_of(value: Any) -> str:
    if not value:
        return ""
    text = str(value)
    try:
        return datetime.fromisoformat(text).astimezone(LOCAL_TZ).strftime("%H:%M")
    except ValueError:
        return text[-5:] if len(text) >= 5 else text
