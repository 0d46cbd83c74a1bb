"""The page ``/plans/{plan_id}/adjust``: a dispatcher moves stops, locks jobs and re-optimises.

The routes stand side by side (courier, stops in order with their times); each pickup and
delivery has a "Move to…" control (courier and place) and a lock toggle, and the page has a
"Re-optimise the rest" button. Each action calls the JSON API of :mod:`api.routes.adjust` with
the page's cookie (``api/static/adjust.js``) and opens the page of the new plan, where the
promises the change broke are listed first, in red.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import ADMIN, DISPATCHER, role_of
from api.i18n import N_
from api.i18n import gettext as _
from api.page_render import render
from api.pages import PageError, hhmm_of, page_session, page_user
from routing.plan import JOB_STOPS, Plan, Route, Stop
from tracking.models import StoredPlan

router = APIRouter(include_in_schema=False, tags=["pages"])

DISPATCH_ROLES = frozenset({DISPATCHER, ADMIN})

RULES = {
    "window": N_("Outside the citizen's booked time"),
    "late_declared": N_("Late delivery of a result already in the bag"),
    "shift": N_("Outside the courier's shift"),
    "break": N_("The courier's break is missed"),
    "capacity": N_("More dossiers than the courier can carry"),
    "load": N_("The dossiers on board do not add up"),
    "precedence": N_("A dossier is handed over before it is collected"),
    "cutoff": N_("Handed over after the shuttle's cut-off"),
    "wrong_run": N_("The wrong shuttle run"),
    "ready": N_("Collected before the result is ready"),
    "opening": N_("The office is closed at that time"),
    "skill": N_("The courier lacks a skill the job needs"),
    "lock": N_("A locked job is on another courier's route"),
}
"""Words for the checker's codes a hand adjustment can break; others show as the code."""


def rule_words(code: str) -> str:
    """The words of a broken promise's code, in the page's language."""
    return _(RULES[code]) if code in RULES else code


def _times(arrive: str, start: str, depart: str, kind: str) -> str:
    """When the courier arrives, starts and leaves, in words (a start stop: when it leaves)."""
    if kind == "start":
        return _("leaves %(time)s", time=depart)
    parts = [_("arrives %(time)s", time=arrive)] if arrive else []
    if start and start != arrive:
        parts.append(_("starts %(time)s", time=start))
    if depart:
        parts.append(_("leaves %(time)s", time=depart))
    return " · ".join(parts)


def _stop(stop: Stop, locks: dict[str, str]) -> dict[str, Any]:
    job = stop.job if stop.kind in JOB_STOPS else None
    arrive, start, depart = (
        hhmm_of(t.isoformat()) if t else "" for t in (stop.arrive, stop.start, stop.depart)
    )
    return {
        "times": _times(arrive, start, depart, stop.kind),
        "type": stop.kind,
        "job": job,
        "jobs": list(stop.jobs),
        "site": stop.site,
        "locked": locks.get(job or ""),
    }


def _columns(plan: Plan, request: dict[str, Any]) -> list[dict[str, Any]]:
    """One column per courier of the request, its route's stops (none when it has no route)."""
    locks = {
        str(j["id"]): str(j["courier"])
        for j in request.get("jobs") or []
        if isinstance(j, dict) and j.get("courier")
    }
    routes: dict[str, Route] = {r.courier: r for r in plan.routes}
    columns = []
    for courier in request.get("couriers") or []:
        cid = str(courier.get("id"))
        route = routes.get(cid)
        stops = [_stop(s, locks) for s in route.stops] if route else []
        position = 0
        for stop in stops:  # the place of each job stop among the courier's job stops
            if stop["job"]:
                stop["position"] = position
                position += 1
        columns.append(
            {
                "courier": cid,
                "stops": stops,
                "jobs": position,
                "distance_km": route.distance_km if route else 0.0,
            }
        )
    return columns


@router.get("/plans/{plan_id}/adjust", response_class=HTMLResponse)
def adjust_page(request: Request, plan_id: str) -> HTMLResponse:
    """The plan's routes side by side, with moves, locks, re-optimising and broken promises."""
    with page_session(request) as session:
        user = page_user(request, session, DISPATCH_ROLES)
        stored = session.get(StoredPlan, plan_id)
        if stored is None:
            raise PageError(404, _("No such plan"), _("There is no plan %(plan)s.", plan=plan_id))
        plan = stored.plan()
        request_json: dict[str, Any] = dict(stored.request_json)
        broken = [
            {**b, "rule_words": rule_words(str(b.get("rule")))}
            for b in plan.extra.get("broken") or []
            if isinstance(b, dict)
        ]
        name, role, day = user.name, role_of(user), plan.date.isoformat()
    return render(
        "adjust.html",
        title=_("Adjust plan %(plan)s", plan=plan_id),
        plan={"plan_id": plan_id, "date": day, "previous": plan.previous_plan_id},
        columns=_columns(plan, request_json),
        unassigned=[{"job": u.job, "reason": u.reason} for u in plan.unassigned],
        couriers=[str(c.get("id")) for c in request_json.get("couriers") or []],
        broken=broken,
        user={"name": name},
        role=role,
    )


__all__ = ["RULES", "router", "rule_words"]
