"""Re-planning during the day: keep what is done, start each courier from where it is.

The new plan has the shape of DESIGN §4 with two additions per route and one per plan:

- ``route["done"]``: the stops of the previous plan already done, exactly as they were;
- ``route["stops"]``: the rest of the day, beginning with a ``start`` stop at the courier's
  current place (a site, or ``lat``/``lon``) at the re-planning time;
- ``plan["changes"]``: what changed, one entry per job: ``{"job", "change", "from", "to"}`` with
  ``change`` one of ``moved`` (to another courier), ``added``, ``cancelled``, ``dropped`` (was
  planned, now unassigned), ``assigned`` (was unassigned, now planned) and ``late`` (a result
  in the courier's bag whose window can no longer be met: it stays on the route, delivered as
  soon as possible, its stop marked ``"late": true``).

Dossiers already in a courier's hands (picked up or collected, not yet handed over or delivered)
stay with that courier. Moving any other job to another courier costs :data:`MOVE_COST`
(as much as 30 minutes of dossier delay), so the plan changes only as much as it needs to.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from geo.coords import LatLon, parse_latlon
from geo.travel import TravelModel
from routing.dossiers import (
    MOVE_COST,
    CourierState,
    build_problem,
    plan_from_solution,
)
from routing.model import SolveParams
from routing.request import RequestError, parse_request, parse_time
from routing.solver import solve

__all__ = ["MOVE_COST", "replan"]

# A done entry names a job (all its stops done) or one stop: {"job": "J1", "type": "pickup"}.
_FIRST = {"pickup": "pickup", "return": "collect"}
_SECOND = {"pickup": "handoff", "return": "delivery"}


def _done_stops(done: Iterable[str | Mapping[str, Any]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for i, entry in enumerate(done):
        if isinstance(entry, str):
            out.setdefault(entry, set()).add("*")
        elif isinstance(entry, Mapping) and isinstance(entry.get("job"), str):
            kind = entry.get("type", "*")
            if kind not in ("*", "pickup", "handoff", "collect", "delivery"):
                raise RequestError(f"done[{i}].type: unknown stop type {kind!r}.")
            out.setdefault(entry["job"], set()).add(str(kind))
        else:
            raise RequestError(f"done[{i}]: expected a job id or {{'job': id, 'type': stop}}.")
    return out


def replan(  # noqa: PLR0912, PLR0915 - settles jobs, couriers and changes in one pass
    request: Mapping[str, Any],
    previous_plan: Mapping[str, Any],
    *,
    now: str,
    positions: Mapping[str, Mapping[str, Any]] | None = None,
    done: Iterable[str | Mapping[str, Any]] = (),
    added_jobs: Sequence[Mapping[str, Any]] = (),
    cancelled_jobs: Iterable[str] = (),
    time_limit_s: float | None = None,
    travel: TravelModel | None = None,
) -> dict[str, Any]:
    """Re-plan the rest of a day from the morning's request and plan.

    Parameters
    ----------
    request
        The request the previous plan answered (DESIGN §4).
    previous_plan
        The plan being replaced (DESIGN §4 JSON, as :func:`routing.plan_request` returned it).
    now
        The re-planning time: ``"HH:MM"`` on the plan's date or an ISO datetime.
    positions
        Courier id → ``{"lat", "lon"}`` (optionally ``"at"``, the time of the fix, ignored when
        earlier than ``now``). A courier without a position is where its last done stop was, or
        at its start site when it has done nothing.
    done
        Job ids whose every stop is done, or ``{"job": id, "type": stop}`` for a single stop
        (``pickup``, ``handoff``, ``collect``, ``delivery``).
    added_jobs
        New jobs (DESIGN §4 job objects) to plan in.
    cancelled_jobs
        Ids of jobs no longer wanted; they come back unassigned with reason ``cancelled``.
    time_limit_s
        Search time limit in seconds (default: the request's option, else 10 s).
    travel
        Travel model for requests without a ``travel`` matrix (great circle by default).

    Returns
    -------
    dict
        The new plan with ``done`` stops per route and a ``changes`` list.

    Raises
    ------
    RequestError
        For an invalid request, time, position, or a done/cancelled id that is not a job.
    """
    merged = dict(request)
    merged["jobs"] = [*list(request.get("jobs") or []), *list(added_jobs)]
    req = parse_request(merged, time_limit_s=time_limit_s)
    now_s = parse_time(now, req.day, "now")
    job_index = {j.id: i for i, j in enumerate(req.jobs)}
    done_map = _done_stops(done)
    cancelled = set(cancelled_jobs)
    for jid in [*done_map, *cancelled]:
        if jid not in job_index:
            raise RequestError(f"done/cancelled: {jid!r} is not a job of the request.")

    # Where each job was in the previous plan.
    prev_courier: dict[str, str] = {}
    prev_routes: dict[str, list[Mapping[str, Any]]] = {}
    for route in previous_plan.get("routes") or []:
        cid = str(route.get("courier"))
        prev_routes[cid] = list(route.get("stops") or [])
        for stop in prev_routes[cid]:
            for jid in [stop["job"]] if "job" in stop else list(stop.get("jobs") or []):
                prev_courier[jid] = cid
    prev_unassigned = {u["job"] for u in previous_plan.get("unassigned") or []}

    def stop_done(jid: str, kind: str) -> bool:
        marks = done_map.get(jid, set())
        return "*" in marks or kind in marks

    # Settle each job: fully done, in a courier's hands, cancelled, or still to plan.
    skip: dict[int, tuple[str, str]] = {}
    settled: dict[int, tuple[str, str]] = {}
    fixed: dict[int, int] = {}
    fully_done: set[int] = set()
    courier_pos = {c.id: k for k, c in enumerate(req.couriers)}
    in_hand: dict[int, list[int]] = {}
    for j, job in enumerate(req.jobs):
        first, second = _FIRST[job.kind], _SECOND[job.kind]
        if job.id in cancelled and not stop_done(job.id, first):
            skip[j] = settled[j] = ("cancelled", "The request was cancelled before it was served.")
        elif stop_done(job.id, second):
            skip[j] = ("done", "")
            fully_done.add(j)
        elif stop_done(job.id, first):
            holder = prev_courier.get(job.id)
            if holder is None or holder not in courier_pos:
                raise RequestError(
                    f"done: {job.id!r} has its {first} done but no courier had it in the plan."
                )
            fixed[j] = courier_pos[holder]
            in_hand.setdefault(courier_pos[holder], []).append(j)

    # Where and when each courier starts.
    site_ids = list(req.sites)
    n_base = len(site_ids) + len(req.jobs)
    extra_points: list[LatLon] = []
    states: list[CourierState | None] = []
    kept_done: dict[str, list[Mapping[str, Any]]] = {}
    for k, c in enumerate(req.couriers):
        stops = prev_routes.get(c.id, [])
        job_stop_done: dict[int, bool] = {}
        for i, s in enumerate(stops):
            t = s.get("type")
            if t in ("start", "end", "break"):
                continue
            jobs_of = [s["job"]] if "job" in s else list(s.get("jobs") or [])
            job_stop_done[i] = bool(jobs_of) and all(stop_done(jid, str(t)) for jid in jobs_of)
        last_done = max((i for i, ok in job_stop_done.items() if ok), default=-1)
        done_here = []
        # A break counts as taken when it began by now (the courier may be on it: the rest of
        # the day starts when it ends) or when it was placed before a stop already done.
        resume_s = now_s
        for i, s in enumerate(stops):
            if s.get("type") == "break":
                began = parse_time(s["start"], req.day, "previous_plan.break.start")
                if began <= now_s or i < last_done:
                    done_here.append(s)
                    ends = parse_time(s["depart"], req.day, "previous_plan.break.depart")
                    if began <= now_s:
                        resume_s = max(resume_s, ends)
            elif job_stop_done.get(i):
                done_here.append(s)
        if done_here and stops and stops[0].get("type") == "start":
            done_here.insert(0, stops[0])
        kept_done[c.id] = done_here
        pos = (positions or {}).get(c.id)
        if pos is not None:
            try:
                point = parse_latlon(pos.get("lat"), pos.get("lon"), where=f"positions[{c.id}]")
            except ValueError as exc:
                raise RequestError(str(exc)) from None
            loc = n_base + len(extra_points)
            extra_points.append(point)
        else:
            last = next((s for s in reversed(done_here) if s.get("type") != "break"), None)
            if last is None or last.get("type") == "start":
                loc = site_ids.index(c.start_site)
            elif "site" in last and last["site"] in req.sites:
                loc = site_ids.index(last["site"])
            else:
                loc = len(site_ids) + job_index[last["job"]]
        states.append(CourierState(loc, max(resume_s, c.shift_s[0]), tuple(in_hand.get(k, ()))))
        # Breaks already taken today are not taken again.
        taken = sum(1 for s in done_here if s.get("type") == "break")
        if taken:
            req = replace(
                req,
                couriers=tuple(
                    replace(cc, breaks=cc.breaks[taken:]) if i == k else cc
                    for i, cc in enumerate(req.couriers)
                ),
            )

    previous = {
        job_index[jid]: courier_pos[cid]
        for jid, cid in prev_courier.items()
        if jid in job_index and cid in courier_pos
    }
    built = build_problem(
        req,
        travel,
        states=states,
        extra_points=extra_points,
        fixed_jobs=fixed,
        skip_jobs=skip,
        previous_courier=previous,
    )
    built.extra["settled"] = settled
    built.extra["done"] = fully_done
    params = SolveParams(time_limit_s=req.time_limit_s, seed=req.seed)
    if fixed:
        # Dossiers in a courier's bag may go with that courier only. Local cheapest insertion
        # places the visits with the fewest allowed couriers (and the highest penalty) first;
        # parallel insertion, the default, can fill the day before reaching them and leave a
        # citizen's papers undelivered in the bag.
        params = replace(params, first_solution="LOCAL_CHEAPEST_INSERTION")
    solution = solve(built.problem, params)
    plan = plan_from_solution(built, solution)

    routes_by_courier = {r["courier"]: r for r in plan["routes"]}
    for cid, done_here in kept_done.items():
        if done_here and cid not in routes_by_courier:
            routes_by_courier[cid] = {"courier": cid, "distance_km": 0.0, "stops": []}
            plan["routes"].append(routes_by_courier[cid])
    for route in plan["routes"]:
        route["done"] = kept_done.get(route["courier"], [])

    # What changed.
    now_courier: dict[str, str] = {}
    for route in plan["routes"]:
        for stop in route["stops"]:
            for jid in [stop["job"]] if "job" in stop else list(stop.get("jobs") or []):
                now_courier[jid] = route["courier"]
    added_ids = {str(j.get("id")) for j in added_jobs}
    late_ids = {
        stop["job"]
        for route in plan["routes"]
        for stop in route["stops"]
        if stop.get("late") and "job" in stop
    }
    changes: list[dict[str, Any]] = []
    for j, job in enumerate(req.jobs):
        if j in fully_done:
            continue
        before, after = prev_courier.get(job.id), now_courier.get(job.id)
        entry: dict[str, Any] = {"job": job.id, "from": before, "to": after}
        if job.id in added_ids:
            changes.append(entry | {"change": "added"})
        elif j in settled:
            changes.append(entry | {"change": "cancelled"})
        elif before is not None and after is None:
            changes.append(entry | {"change": "dropped"})
        elif before is not None and after is not None and before != after:
            changes.append(entry | {"change": "moved"})
        elif before is None and after is not None and job.id in prev_unassigned:
            changes.append(entry | {"change": "assigned"})
        if late_ids and job.id in late_ids:
            changes.append(entry | {"change": "late"})
    plan["changes"] = changes
    plan["replanned_at"] = now
    plan["previous_plan_id"] = previous_plan.get("plan_id")
    return plan
