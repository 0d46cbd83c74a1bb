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

A re-plan is made in three steps: :func:`prepare_replan` settles every job and courier and
builds the core problem, the solver searches it, and :func:`finish_replan` writes the new plan.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from geo.coords import LatLon, parse_latlon
from geo.travel import TravelModel
from routing.clock import local_midnight
from routing.dossiers import MOVE_COST, Built, CourierState, build_problem
from routing.model import Route as CoreRoute
from routing.model import Solution, SolveParams
from routing.plan import Change, Plan, PlanError, Route, Stop, plan_from_json
from routing.planner import plan_from_solution
from routing.request import Courier, PlanRequest, RequestError, parse_request, parse_time

__all__ = [
    "MOVE_COST",
    "Replanning",
    "bags_only",
    "finish_replan",
    "prepare_replan",
    "replan",
    "replan_plan",
]

# A done entry names a job (all its stops done) or one stop: {"job": "J1", "type": "pickup"}.
_FIRST = {"pickup": "pickup", "return": "collect"}
_SECOND = {"pickup": "handoff", "return": "delivery"}
_JOB_STOP_TYPES = ("pickup", "handoff", "collect", "delivery")


def _done_stops(done: Iterable[str | Mapping[str, Any]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for i, entry in enumerate(done):
        if isinstance(entry, str):
            out.setdefault(entry, set()).add("*")
        elif isinstance(entry, Mapping) and isinstance(entry.get("job"), str):
            kind = entry.get("type", "*")
            if kind not in ("*", *_JOB_STOP_TYPES):
                raise RequestError(f"done[{i}].type: unknown stop type {kind!r}.")
            out.setdefault(entry["job"], set()).add(str(kind))
        else:
            raise RequestError(f"done[{i}]: expected a job id or {{'job': id, 'type': stop}}.")
    return out


@dataclass(frozen=True, slots=True)
class _Done:
    """The stops reported done: job id → stop types (``*`` for every stop of the job)."""

    marks: Mapping[str, set[str]]

    def stop(self, job: str, kind: str) -> bool:
        marks = self.marks.get(job, set())
        return "*" in marks or kind in marks

    def all_of(self, stop: Stop) -> bool:
        """A job stop whose every job has this stop done."""
        jobs = stop.job_ids
        return bool(jobs) and all(self.stop(j, stop.kind) for j in jobs)


@dataclass
class _Settled:
    """Each job settled: fully done, in a courier's hands, cancelled, or still to plan."""

    skip: dict[int, tuple[str, str]] = field(default_factory=dict)
    settled: dict[int, tuple[str, str]] = field(default_factory=dict)
    fixed: dict[int, int] = field(default_factory=dict)  # job → courier holding its dossier
    fully_done: set[int] = field(default_factory=set)
    in_hand: dict[int, list[int]] = field(default_factory=dict)  # courier → jobs in its bag


def _settle_jobs(
    req: PlanRequest, done: _Done, cancelled: set[str], prev_courier: Mapping[str, str]
) -> _Settled:
    out = _Settled()
    courier_pos = {c.id: k for k, c in enumerate(req.couriers)}
    for j, job in enumerate(req.jobs):
        first, second = _FIRST[job.kind], _SECOND[job.kind]
        if job.id in cancelled and not done.stop(job.id, first):
            out.skip[j] = out.settled[j] = (
                "cancelled",
                "The request was cancelled before it was served.",
            )
        elif done.stop(job.id, second):
            out.skip[j] = ("done", "")
            out.fully_done.add(j)
        elif done.stop(job.id, first):
            holder = prev_courier.get(job.id)
            if holder is None or holder not in courier_pos:
                raise RequestError(
                    f"done: {job.id!r} has its {first} done but no courier had it in the plan."
                )
            out.fixed[j] = courier_pos[holder]
            out.in_hand.setdefault(courier_pos[holder], []).append(j)
    return out


def _seconds(moment: datetime | None, day: date, where: str) -> int:
    if moment is None:
        raise RequestError(f"{where}: missing.")
    return int((moment - local_midnight(day)).total_seconds() // 1)


def _done_before(previous: Plan) -> dict[str, set[str]]:
    """The job stops a previous plan already lists as done (a re-plan's ``done`` stops)."""
    marks: dict[str, set[str]] = {}
    for route in previous.routes:
        for stop in route.done or ():
            if stop.kind in _JOB_STOP_TYPES:
                for job in stop.job_ids:
                    marks.setdefault(job, set()).add(stop.kind)
    return marks


def _kept_done(route: Route | None, done: _Done, now_s: int, day: date) -> tuple[list[Stop], int]:
    """The stops of a previous route already done, and when the courier is free again.

    The stops a previous re-plan kept as done stay first, exactly as they were. A break counts
    as taken when it began by now (the courier may be on it: the rest of the day starts when it
    ends) or when it was placed before a stop already done. The courier is free again when it
    has left its last done stop, and not before now.
    """
    stops = route.stops if route is not None else ()
    earlier = list(route.done or ()) if route is not None else []
    job_stop_done = {i: done.all_of(s) for i, s in enumerate(stops) if s.kind in _JOB_STOP_TYPES}
    last_done = max((i for i, ok in job_stop_done.items() if ok), default=-1)
    kept: list[Stop] = []
    resume_s = now_s
    for s in earlier:  # a break kept by the previous re-plan may not be over yet
        if s.depart is not None:
            resume_s = max(resume_s, _seconds(s.depart, day, "previous_plan.done.depart"))
    for i, s in enumerate(stops):
        if s.kind == "break":
            began = _seconds(s.start, day, "previous_plan.break.start")
            if began <= now_s or i < last_done:
                kept.append(s)
                if began <= now_s:
                    ends = _seconds(s.depart, day, "previous_plan.break.depart")
                    resume_s = max(resume_s, ends)
        elif job_stop_done.get(i):
            kept.append(s)
            if s.depart is not None:
                resume_s = max(resume_s, _seconds(s.depart, day, "previous_plan.depart"))
    if kept and not earlier and stops and stops[0].kind == "start":
        kept.insert(0, stops[0])
    return earlier + kept, resume_s


def _place_index(req: PlanRequest, stop: Stop) -> int | None:
    """The location index of a stop's place (a site, a home, a break at either), if known."""
    site_ids = list(req.sites)
    if stop.site is not None and stop.site in req.sites:
        return site_ids.index(stop.site)
    jobs = [j.id for j in req.jobs]
    if stop.job is not None and stop.job in jobs:
        return len(site_ids) + jobs.index(stop.job)
    if stop.point is not None:
        at = next((i for i, j in enumerate(req.jobs) if j.point == stop.point), None)
        if at is not None:
            return len(site_ids) + at
    return None


def _last_place(req: PlanRequest, courier: Courier, kept: Sequence[Stop]) -> int:
    """The location index where a courier without a reported position is: its last done stop,
    or the place of a break taken after it (a courier who rode on and rests near its next stop).
    """
    for stop in reversed(kept):
        if stop.kind == "start" and stop.site is None:
            break  # a re-plan's start at a reported position, gone by now
        found = _place_index(req, stop)
        if found is not None:
            return found
    return list(req.sites).index(courier.start_site)


def _heading(
    req: PlanRequest, route: Route | None, done: _Done, resume_s: int
) -> tuple[int, int] | None:
    """Where a courier without a reported position is bound, and when it is there.

    A courier follows its plan from its last done stop (or from where the previous re-plan
    started it): once it leaves, it rides to the next place of the plan (a stop, or a break
    taken at a place) and is there at the planned arrival; the re-plan starts it from there,
    then, or now if later. A courier behind its plan (it should have left that place by now)
    is taken to be where it last was. ``None`` when it has done nothing since the morning (it
    is at its start) or the places are not known.
    """
    stops = route.stops if route is not None else ()
    last = max((i for i, s in enumerate(stops) if done.all_of(s)), default=-1)
    if last < 0 and route is not None and route.done and stops and stops[0].kind == "start":
        last = 0  # a re-plan: the courier set off from its start stop
    if last < 0:
        return None
    for stop in stops[last + 1 :]:
        loc, leaves = _place_index(req, stop), stop.depart or stop.arrive
        if stop.kind == "break" and loc is None:
            continue  # a break by the way, or of an older plan with no place: it rides on
        if loc is None or stop.arrive is None or leaves is None:
            break
        behind = stop.kind != "end" and _seconds(leaves, req.day, "previous_plan") < resume_s
        if not behind:
            return loc, max(resume_s, _seconds(stop.arrive, req.day, "previous_plan.arrive"))
        break
    here = _place_index(req, stops[last])
    return None if here is None else (here, resume_s)


def _reported_point(positions: Mapping[str, Mapping[str, Any]], courier: str) -> LatLon | None:
    pos = positions.get(courier)
    if pos is None:
        return None
    try:
        return parse_latlon(pos.get("lat"), pos.get("lon"), where=f"positions[{courier}]")
    except ValueError as exc:
        raise RequestError(str(exc)) from None


def _without_taken_breaks(req: PlanRequest, k: int, taken: int) -> PlanRequest:
    """Breaks already taken today are not taken again."""
    if not taken:
        return req
    couriers = tuple(
        replace(c, breaks=c.breaks[taken:]) if i == k else c for i, c in enumerate(req.couriers)
    )
    return replace(req, couriers=couriers)


@dataclass
class _Starts:
    """Where and when each courier starts the rest of its day."""

    req: PlanRequest
    states: list[CourierState | None] = field(default_factory=list)
    extra_points: list[LatLon] = field(default_factory=list)
    kept_done: dict[str, list[Stop]] = field(default_factory=dict)


def _courier_starts(
    req: PlanRequest,
    previous: Plan,
    *,
    settled: _Settled,
    done: _Done,
    now_s: int,
    positions: Mapping[str, Mapping[str, Any]],
) -> _Starts:
    out = _Starts(req)
    n_base = len(req.sites) + len(req.jobs)
    for k, c in enumerate(req.couriers):
        route = previous.route_of(c.id)
        kept, resume_s = _kept_done(route, done, now_s, req.day)
        out.kept_done[c.id] = kept
        point = _reported_point(positions, c.id)
        if point is not None:
            loc = n_base + len(out.extra_points)
            out.extra_points.append(point)
        else:
            loc = _last_place(req, c, kept)
            bound = _heading(req, route, done, resume_s)
            if bound is not None:
                loc, resume_s = bound
        in_hand = tuple(settled.in_hand.get(k, ()))
        out.states.append(CourierState(loc, max(resume_s, c.shift_s[0]), in_hand))
        out.req = _without_taken_breaks(out.req, k, sum(1 for s in kept if s.kind == "break"))
    return out


@dataclass
class Replanning:
    """A re-plan made ready to solve: the core problem and what is needed to write the plan.

    Parameters
    ----------
    built
        The core problem of the rest of the day.
    params
        The solver's parameters.
    previous
        The plan being replaced.
    now
        The re-planning time as given.
    kept_done
        Courier id → the stops of the previous plan already done.
    added_ids
        Ids of the jobs added.
    settled
        Each job settled before the search: done, in a courier's bag, cancelled.
    """

    built: Built
    params: SolveParams
    previous: Plan
    now: str
    kept_done: dict[str, list[Stop]]
    added_ids: set[str]
    settled: _Settled
    build_args: dict[str, Any] = field(default_factory=dict)


def _read_previous(previous_plan: Mapping[str, Any] | Plan) -> Plan:
    if isinstance(previous_plan, Plan):
        return previous_plan
    try:
        return plan_from_json(previous_plan, where="previous_plan")
    except PlanError as exc:
        raise RequestError(str(exc)) from None


def prepare_replan(
    request: Mapping[str, Any],
    previous_plan: Mapping[str, Any] | Plan,
    *,
    now: str,
    positions: Mapping[str, Mapping[str, Any]] | None = None,
    done: Iterable[str | Mapping[str, Any]] = (),
    added_jobs: Sequence[Mapping[str, Any]] = (),
    cancelled_jobs: Iterable[str] = (),
    time_limit_s: float | None = None,
    travel: TravelModel | None = None,
) -> Replanning:
    """Settle every job and courier and build the problem of the rest of the day.

    The parameters are those of :func:`replan`.

    Raises
    ------
    RequestError
        For an invalid request, plan, time, position, or a done/cancelled id that is not a job.
    """
    previous = _read_previous(previous_plan)
    merged = dict(request)
    merged["jobs"] = [*list(request.get("jobs") or []), *list(added_jobs)]
    req = parse_request(merged, time_limit_s=time_limit_s)
    now_s = parse_time(now, req.day, "now")
    job_index = {j.id: i for i, j in enumerate(req.jobs)}
    marks = _done_stops(done)
    cancelled = set(cancelled_jobs)
    for jid in [*marks, *cancelled]:
        if jid not in job_index:
            raise RequestError(f"done/cancelled: {jid!r} is not a job of the request.")
    for jid, kinds in _done_before(previous).items():
        marks.setdefault(jid, set()).update(kinds)  # done before the previous re-plan
    done_marks = _Done(marks)
    prev_courier = _holders(previous)
    settled = _settle_jobs(req, done_marks, cancelled, prev_courier)
    starts = _courier_starts(
        req, previous, settled=settled, done=done_marks, now_s=now_s, positions=positions or {}
    )
    courier_pos = {c.id: k for k, c in enumerate(req.couriers)}
    build_args: dict[str, Any] = {
        "req": starts.req,
        "travel": travel,
        "states": starts.states,
        "extra_points": starts.extra_points,
        "fixed_jobs": settled.fixed,
        "skip_jobs": settled.skip,
        "previous_courier": {
            job_index[jid]: courier_pos[cid]
            for jid, cid in prev_courier.items()
            if jid in job_index and cid in courier_pos
        },
    }
    built = build_problem(**build_args)
    built.extra["settled"] = settled.settled
    built.extra["done"] = settled.fully_done
    params = SolveParams(
        time_limit_s=starts.req.time_limit_s,
        seed=starts.req.seed,
        solution_limit=starts.req.solution_limit,
    )
    if settled.fixed:
        # Dossiers in a courier's bag may go with that courier only. Local cheapest insertion
        # places the visits with the fewest allowed couriers (and the highest penalty) first;
        # parallel insertion, the default, can fill the day before reaching them and leave a
        # citizen's papers undelivered in the bag.
        params = replace(params, first_solution="LOCAL_CHEAPEST_INSERTION")
    added_ids = {str(j.get("id")) for j in added_jobs}
    return Replanning(
        built, params, previous, now, starts.kept_done, added_ids, settled, build_args
    )


def _holders(previous: Plan) -> dict[str, str]:
    """Job id → the courier that had it in the previous plan, on its stops or its done stops."""
    out = previous.job_couriers()
    for route in previous.routes:
        for stop in route.done or ():
            for job in stop.job_ids:
                out.setdefault(job, route.courier)
    return out


def bags_only(prep: Replanning, searched_s: float) -> Replanning:
    """The re-plan of the dossiers in couriers' bags alone, every other job left ``no_time``.

    For a search that ran out of time before it placed every dossier in a bag (a large day
    re-planned in seconds): the dossiers already collected must still reach their sites and
    citizens, so they are planned on their own (a small problem, found at once) and the rest
    waits for a re-plan with a longer time limit.
    """
    keep = set(prep.settled.fixed)
    jobs = range(len(prep.built.req.jobs))
    skip = {j: ("no_time", "") for j in jobs if j not in keep} | dict(prep.settled.skip)
    built = build_problem(**{**prep.build_args, "skip_jobs": skip})
    detail = (
        f"The search ran out of time ({searched_s:.1f} s) before it found a plan for the rest "
        "of the day; only the dossiers in couriers' bags were planned. Re-plan with a longer "
        "time limit."
    )
    left = {j: ("no_time", detail) for j in prep.built.core_job_of if j not in keep}
    built.extra["settled"] = {**prep.built.unassigned, **left, **prep.settled.settled}
    built.extra["done"] = prep.built.extra.get("done", set())
    params = replace(prep.params, solution_limit=1, first_solution="LOCAL_CHEAPEST_INSERTION")
    return replace(prep, built=built, params=params)


def _change_of(
    before: str | None, after: str | None, *, added: bool, cancelled: bool, was_unassigned: bool
) -> str | None:
    if added:
        return "added"
    if cancelled:
        return "cancelled"
    if before is not None and after is None:
        return "dropped"
    if before is not None and after is not None and before != after:
        return "moved"
    if before is None and after is not None and was_unassigned:
        return "assigned"
    return None


def _changes(prep: Replanning, plan: Plan) -> list[Change]:
    """What changed, one entry per job (and one more for a delivery now late)."""
    req = prep.built.req
    prev_courier = prep.previous.job_couriers()
    prev_unassigned = {u.job for u in prep.previous.unassigned}
    now_courier: dict[str, str] = {}
    for route in plan.routes:
        for jid in route.job_ids:
            now_courier[jid] = route.courier
    late_ids = {j for r in plan.routes for s in r.stops if s.late for j in s.job_ids}
    changes: list[Change] = []
    for j, job in enumerate(req.jobs):
        if j in prep.settled.fully_done:
            continue
        before, after = prev_courier.get(job.id), now_courier.get(job.id)
        change = _change_of(
            before,
            after,
            added=job.id in prep.added_ids,
            cancelled=j in prep.settled.settled,
            was_unassigned=job.id in prev_unassigned,
        )
        if change is not None:
            changes.append(Change(job=job.id, before=before, after=after, change=change))
        if job.id in late_ids:
            changes.append(Change(job=job.id, before=before, after=after, change="late"))
    return changes


def _idle_rests(prep: Replanning, solution: Solution) -> list[CoreRoute]:
    """A route to rest and go home for each courier at work today whom the re-plan leaves
    with nothing to do while a break is still owed: start where it is, take the break there,
    ride to its end site. (A route with only done stops would skip the break, and a later
    re-plan that gives the courier work again would span the break window without one.)"""
    problem, routed = prep.built.problem, {r.vehicle for r in solution.routes}
    out = []
    for k, veh in enumerate(problem.vehicles):
        if k in routed or not veh.breaks or not prep.kept_done.get(veh.name):
            continue
        t, taken = veh.shift.early_s, []
        for brk in sorted(veh.breaks, key=lambda b: b.window.early_s):
            start = max(t, brk.window.early_s)
            taken.append((start, brk.duration_s))
            t = start + brk.duration_s
        end_s = t + int(problem.profiles[veh.profile].seconds[veh.start, veh.end])
        if end_s <= veh.shift.late_s:
            out.append(CoreRoute(k, veh.shift.early_s, (), tuple(taken), end_s))
    return out


def finish_replan(prep: Replanning, solution: Solution) -> Plan:
    """Write the re-plan from the solver's answer: done stops, changes, the plan replaced.

    Parameters
    ----------
    prep
        The re-plan as :func:`prepare_replan` made it ready.
    solution
        The solver's answer for ``prep.built.problem``.

    Returns
    -------
    Plan
        The new plan, with ``done`` on every route, ``changes``, ``replanned_at`` and
        ``previous_plan_id``.
    """
    solution = replace(solution, routes=(*solution.routes, *_idle_rests(prep, solution)))
    plan = plan_from_solution(prep.built, solution)
    routed = {r.courier for r in plan.routes}
    idle = [
        Route(courier=cid, distance_km=0.0, stops=())
        for cid, kept in prep.kept_done.items()
        if kept and cid not in routed
    ]
    routes = tuple(
        replace(r, done=tuple(prep.kept_done.get(r.courier, ()))) for r in (*plan.routes, *idle)
    )
    plan = replace(plan, routes=routes)
    return replace(
        plan,
        changes=tuple(_changes(prep, plan)),
        replanned_at=prep.now,
        previous_plan_id=prep.previous.plan_id or None,
    )


def replan_plan(
    request: Mapping[str, Any],
    previous_plan: Mapping[str, Any] | Plan,
    **kwargs: Any,
) -> Plan:
    """Re-plan the rest of a day and return the typed plan (arguments of :func:`replan`)."""
    from routing.solver import solve  # noqa: PLC0415 (OR-Tools loads when a day is solved)

    began = time.monotonic()  # the time limit counts the problem's building too
    prep = prepare_replan(request, previous_plan, **kwargs)
    solution = solve(prep.built.problem, prep.params, began=began)
    in_bags = {prep.built.core_job_of[j] for j in prep.settled.fixed if j in prep.built.core_job_of}
    if in_bags & set(solution.dropped):
        # The search ran out of time before it placed every dossier in a bag (a large day
        # re-planned in seconds): never strand one; plan the bags alone.
        prep = bags_only(prep, solution.runtime_s)
        solution = solve(prep.built.problem, prep.params)
    return finish_replan(prep, solution)


def replan(
    request: Mapping[str, Any],
    previous_plan: Mapping[str, Any] | Plan,
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
        The plan being replaced (DESIGN §4 JSON, as :func:`routing.plan_request` returned it,
        or the typed :class:`routing.plan.Plan`).
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
        The new plan JSON with ``done`` stops per route and a ``changes`` list.

    Raises
    ------
    RequestError
        For an invalid request, time, position, or a done/cancelled id that is not a job.
    """
    return replan_plan(
        request,
        previous_plan,
        now=now,
        positions=positions,
        done=done,
        added_jobs=added_jobs,
        cancelled_jobs=cancelled_jobs,
        time_limit_s=time_limit_s,
        travel=travel,
    ).to_json()
