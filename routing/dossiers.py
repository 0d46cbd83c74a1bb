"""The dossier domain on top of the routing core: request → problem → plan (DESIGN §4).

How the domain maps onto the core (:mod:`routing.model`):

- Locations: the sites in request order, then one per job's home (then, when re-planning, one
  per courier's current position).
- A **pickup** job is a two-step core job: the pickup visit at the home (+size), then a hand-off
  visit at its ``handoff_site`` (−size) on the same courier. When the dossier must ride a shuttle
  (``destination_site`` set and different from the hand-off site), the hand-off step is a choice
  among *alternative visits*, one per catchable run (window closing at that run's cut-off,
  ``departs − handoff_min``) plus one for "no run today" (window up to the site's closing). The
  solver picks exactly one; each carries the delay cost of its run, so the earliest catchable run
  is worth most and missing every run costs a day. This models the step cost exactly (a soft
  upper bound would only be linear in lateness) at the price of a few extra nodes per pickup, so
  only the first :data:`MAX_RUN_CHOICES` catchable runs are offered.
- A **return** job is a collect visit at ``origin_site`` (window opening at ``ready_at``, +size),
  then the delivery at the home (−size).
- Hand-offs and collects at one site done one after the other share one site service time
  (``options.site_service_min``, default 2 minutes per site visit): they form one stop in the plan.
  A courier may come back to a site any number of times (one node per visit).

Objective weights, in cost units (1 unit = 1/10 courier-second); lexicographic in effect because
each tier dwarfs the next:

==================================  ==========================  =================================
term                                 weight                      why
==================================  ==========================  =================================
leaving a job unserved               :data:`DROP_PENALTY` = 1e9  serve every servable job first
  … a return due today (or overdue)  × :data:`URGENT_FACTOR` 4   a legal deadline is at stake
  … a return due tomorrow            × :data:`SOON_FACTOR` 2     due date at risk
  … re-plan: a dossier in the bag    ×:data:`IN_HAND_FACTOR` 100 never strand it
dossier delay, per minute            :data:`DELAY_PER_MIN` 3000  later run = later answer
  … missing every run today          1,440 minutes (one day)     it waits for tomorrow's runs
re-plan: job moved to another        :data:`MOVE_COST` 90,000    change the plan only as needed
courier                              (30 min of delay)
courier travel, per second           :data:`PER_SECOND` = 10     then travel time …
courier travel, per metre            :data:`PER_METRE` = 1       … and distance (1 km = 100 s)
==================================  ==========================  =================================
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from geo.coords import LatLon
from geo.travel import GreatCircleTravel, TravelModel
from routing.engines import solve
from routing.model import (
    Break,
    IntMatrix,
    Problem,
    ProblemBuilder,
    Progress,
    Route,
    RouteStep,
    Solution,
    SolveParams,
    TimeWindow,
    Vehicle,
    Visit,
    Weights,
    to_int_matrix,
)
from routing.request import (
    DAY_S,
    HORIZON_S,
    Courier,
    DossierJob,
    PlanRequest,
    RequestError,
    Shuttle,
    hhmm,
    iso,
    parse_request,
)

DROP_PENALTY = 1_000_000_000
URGENT_FACTOR = 4
SOON_FACTOR = 2
IN_HAND_FACTOR = 100  # re-planning: a dossier in a courier's bag, versus a job not yet begun
DELAY_PER_MIN = 3_000
DAY_MISSED_MIN = 1_440
PER_SECOND = 10
PER_METRE = 1
MAX_RUN_CHOICES = 2
# Days with more jobs than this are planned district by district (see ``districts``).
DISTRICT_JOBS = 150
# A district busier than this is cut into sectors around its base, each with its own couriers.
SECTOR_JOBS = 60
# Re-planning: moving a job to another courier costs as much as 30 minutes of dossier delay.
MOVE_COST = 30 * DELAY_PER_MIN

REASONS = (
    "unknown_site",
    "window_outside_shifts",
    "window_unreachable",
    "ready_after_window",
    "over_capacity",
    "missing_skill",
    "no_courier",
    "site_closed",
    "no_time",
    "cancelled",
)

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class VisitRole:
    """What a core visit means in the dossier domain."""

    job: int  # index into PlanRequest.jobs
    role: str  # pickup | handoff | collect | delivery
    site: str | None = None
    run: str | None = None  # shuttle id caught, for a hand-off
    missed: bool = False  # a hand-off that catches no run today
    late: bool = False  # a delivery in hand whose window can no longer be met (re-planning)


@dataclass(frozen=True, slots=True)
class CourierState:
    """Where a courier is when re-planning: location index, time, load and jobs in hand."""

    location: int
    ready_s: int
    in_hand: tuple[int, ...] = ()  # job indices whose dossiers the courier carries


@dataclass
class Built:
    """A request turned into a core problem, with what is needed to read the solution back."""

    req: PlanRequest
    problem: Problem
    roles: list[VisitRole]
    core_job_of: dict[int, int]  # request job index → core job index
    unassigned: dict[int, tuple[str, str]]  # request job index → (reason, detail)
    loc_point: list[LatLon]
    loc_site: list[str | None]
    seconds: dict[str, FloatArray]
    metres: dict[str, FloatArray]
    profile_of: list[str]  # per courier
    site_index: dict[str, int]
    job_loc: list[int]
    extra: dict[str, Any] = field(default_factory=dict)


def _site_window(req: PlanRequest, site: str) -> tuple[int, int]:
    opening = req.sites[site].opening_s
    return opening if opening is not None else (0, HORIZON_S)


def _runs(req: PlanRequest, frm: str, to: str) -> list[Shuttle]:
    return sorted(
        (r for r in req.shuttles if r.from_site == frm and r.to_site == to),
        key=lambda r: r.departs_s,
    )


def _needs_run(job: DossierJob) -> bool:
    return (
        job.kind == "pickup"
        and job.destination_site is not None
        and job.destination_site != job.handoff_site
    )


def _penalty(req: PlanRequest, job: DossierJob) -> int:
    if job.kind == "return" and job.due is not None:
        if job.due <= req.day:
            return DROP_PENALTY * URGENT_FACTOR
        if job.due <= req.day + timedelta(days=1):
            return DROP_PENALTY * SOON_FACTOR
    return DROP_PENALTY


def _travel(
    req: PlanRequest,
    points: Sequence[LatLon],
    ids: Sequence[str],
    travel: TravelModel,
) -> tuple[dict[str, FloatArray], dict[str, FloatArray]]:
    """Float travel seconds and metres per profile over all locations."""
    seconds: dict[str, FloatArray] = {}
    metres: dict[str, FloatArray] = {}
    if req.travel is not None:
        index = {ident: i for i, ident in enumerate(req.travel.ids)}
        rows = []
        for ident in ids:
            if ident not in index:
                raise RequestError(
                    f"travel.ids: no row for {ident!r} (every site and job needs one)."
                )
            rows.append(index[ident])
        idx = np.asarray(rows, dtype=np.intp)
        minutes = np.asarray(req.travel.minutes, dtype=np.float64)[np.ix_(idx, idx)]
        km = np.asarray(req.travel.km, dtype=np.float64)[np.ix_(idx, idx)]
        seconds["request"] = minutes * 60.0
        metres["request"] = km * 1000.0
        return seconds, metres
    for mode in sorted({c.mode for c in req.couriers}):
        try:
            tm = travel.matrix(list(points), mode)
        except ValueError as exc:
            raise RequestError(f"travel ({mode}): {exc}") from None
        seconds[mode] = np.asarray(tm.seconds, dtype=np.float64)
        metres[mode] = np.asarray(tm.metres, dtype=np.float64)
    return seconds, metres


class _Diagnosis:
    """Checks one job alone against each courier, to explain why it cannot be planned."""

    def __init__(
        self,
        req: PlanRequest,
        sec: Mapping[str, npt.NDArray[np.int64]],
        profile_of: Sequence[str],
        site_index: Mapping[str, int],
        starts: Sequence[CourierState],
    ) -> None:
        self.req = req
        self.sec = sec
        self.profile_of = profile_of
        self.site_index = site_index
        self.starts = starts

    def _t(self, k: int, a: int, b: int) -> int:
        return int(self.sec[self.profile_of[k]][a, b])

    def reason(self, j: int, job_loc: int) -> tuple[str, str] | None:  # noqa: PLR0911, PLR0912, PLR0915
        req, job = self.req, self.req.jobs[j]
        w0, w1 = job.window_s
        win = f"{hhmm(w0)}–{hhmm(w1)}"
        sites = [job.handoff_site, job.destination_site, job.origin_site]
        for s in sites:
            if s is not None and s not in req.sites:
                field_name = (
                    "handoff_site"
                    if s == job.handoff_site
                    else "destination_site"
                    if s == job.destination_site
                    else "origin_site"
                )
                return "unknown_site", f"Its {field_name} {s!r} is not among the request's sites."
        if not req.couriers:
            return "no_courier", "No courier works on this day in this plan."
        skilled = [k for k, c in enumerate(req.couriers) if job.skills <= c.skills]
        if not skilled:
            need = ", ".join(sorted(job.skills))
            return "missing_skill", f"It needs the skill(s) {need}, which no courier has."
        roomy = [k for k in skilled if req.couriers[k].capacity >= job.size]
        if not roomy:
            cap = max(req.couriers[k].capacity for k in skilled)
            return (
                "over_capacity",
                f"Its size {job.size} exceeds every able courier's capacity (largest {cap}).",
            )
        if job.kind == "return" and job.ready_s > w1:
            return (
                "ready_after_window",
                f"It is ready at {job.origin_site} only at {hhmm(job.ready_s)}, after the "
                f"citizen's window {win} closes.",
            )
        shifts = [req.couriers[k].shift_s for k in roomy]
        if all(s1 < w0 or s0 > w1 for s0, s1 in shifts):
            span = ", ".join(sorted({f"{hhmm(a)}–{hhmm(b)}" for a, b in shifts}))
            return "window_outside_shifts", f"Its window {win} lies outside every shift ({span})."
        site = job.handoff_site if job.kind == "pickup" else job.origin_site
        assert site is not None
        o0, o1 = _site_window(req, site)
        if job.kind == "return" and max(job.ready_s, o0) > o1:
            return (
                "site_closed",
                f"{site} closes at {hhmm(o1)}, before the result is ready there "
                f"({hhmm(job.ready_s)}).",
            )
        s_idx = self.site_index[site]
        svc = req.site_service_s
        best_late = None
        site_blocked = True
        for k in roomy:
            c, st = req.couriers[k], self.starts[k]
            end = self.site_index[c.end_site]
            t_start = max(c.shift_s[0], st.ready_s)
            if job.kind == "pickup":
                arrive = t_start + self._t(k, st.location, job_loc)
                begin = max(arrive, w0)
                if begin > w1:
                    best_late = arrive if best_late is None else min(best_late, arrive)
                    site_blocked = False
                    continue
                at_site = max(begin + job.service_s + self._t(k, job_loc, s_idx), o0)
                if at_site > o1:
                    continue
                site_blocked = False
                if at_site + svc + self._t(k, s_idx, end) <= c.shift_s[1]:
                    return None
            else:
                at_site = max(t_start + self._t(k, st.location, s_idx), job.ready_s, o0)
                if at_site > o1:
                    continue
                site_blocked = False
                arrive = at_site + svc + self._t(k, s_idx, job_loc)
                begin = max(arrive, w0)
                if begin > w1:
                    best_late = arrive if best_late is None else min(best_late, arrive)
                    continue
                if begin + job.service_s + self._t(k, job_loc, end) <= c.shift_s[1]:
                    return None
        if site_blocked:
            return (
                "site_closed",
                f"{site} is open {hhmm(o0)}–{hhmm(o1)}; no courier can be there in that time "
                f"for this job (window {win}).",
            )
        if best_late is not None:
            return (
                "window_unreachable",
                f"The earliest any able courier can be at the home is {hhmm(best_late)}, after "
                f"the window {win} closes.",
            )
        return (
            "window_unreachable",
            f"No able courier can serve the window {win} and still reach {site} and the end "
            "of their shift in time.",
        )


def build_problem(
    req: PlanRequest,
    travel: TravelModel | None = None,
    *,
    states: Sequence[CourierState | None] | None = None,
    extra_points: Sequence[LatLon] = (),
    fixed_jobs: Mapping[int, int] | None = None,
    skip_jobs: Mapping[int, tuple[str, str]] | None = None,
    previous_courier: Mapping[int, int] | None = None,
) -> Built:
    """Turn a validated request into a core :class:`~routing.model.Problem`.

    In stages: the places (sites, homes, extra points), the travel between them, a vehicle per
    courier (:func:`_vehicle`), then the steps of each job (:class:`_JobSteps`).

    Parameters
    ----------
    req
        The validated request.
    travel
        The travel model used when the request has no ``travel`` matrix (great circle default).
    states
        Re-planning only: per courier, where and when it starts and what it carries.
    extra_points
        Re-planning only: locations appended after the homes (couriers' current positions).
    fixed_jobs
        Re-planning only: request job index → courier index that must make its remaining visits.
    skip_jobs
        Request job indices already settled (done or cancelled), with a reason, left out.
    previous_courier
        Re-planning only: request job index → courier index it had; serving it with another
        courier costs :data:`MOVE_COST` (a plan that changes little is worth that).

    Returns
    -------
    Built
        The problem and what is needed to read a solution back.
    """
    places = _places(req, extra_points)
    if req.travel is not None and extra_points:
        raise RequestError("travel: re-planning from couriers' positions needs a travel model.")
    seconds, metres = _travel(req, places.points, places.ids, travel or GreatCircleTravel())
    sec_int, met_int = _integer_travel(seconds, metres)
    profile_of = ["request" if req.travel is not None else c.mode for c in req.couriers]
    starts = [
        (states[k] if states is not None and states[k] is not None else None)
        or CourierState(places.site_index[c.start_site], c.shift_s[0])
        for k, c in enumerate(req.couriers)
    ]
    b = ProblemBuilder(
        horizon_s=HORIZON_S, weights=Weights(PER_SECOND, PER_METRE), early_service=False
    )
    for p in seconds:
        b.add_profile(p, sec_int[p], met_int[p])
    for k, c in enumerate(req.couriers):
        b.add_vehicle(
            _vehicle(
                req,
                k,
                start=starts[k],
                end=places.site_index[c.end_site],
                travel_s=sec_int[profile_of[k]],
                profile=profile_of[k],
                replanning=states is not None,
            )
        )
    jobs = _JobSteps(req, sec_int, profile_of, places, starts)
    diagnosis = _Diagnosis(req, sec_int, profile_of, places.site_index, starts)
    added = jobs.add_all(
        b,
        diagnosis,
        fixed_jobs=fixed_jobs or {},
        skip_jobs=skip_jobs or {},
        previous_courier=previous_courier or {},
    )
    return Built(
        req,
        b.build(),
        added.roles,
        added.core_job_of,
        added.unassigned,
        places.points,
        places.loc_site,
        seconds,
        metres,
        profile_of,
        places.site_index,
        places.job_loc,
    )


@dataclass(frozen=True, slots=True)
class _Places:
    """Every location of a problem: the sites in request order, the homes, then extra points."""

    site_index: dict[str, int]
    points: list[LatLon]
    ids: list[str]  # of the sites and jobs, as a request's travel matrix names them
    loc_site: list[str | None]
    job_loc: list[int]


def _places(req: PlanRequest, extra_points: Sequence[LatLon]) -> _Places:
    site_ids = list(req.sites)
    points = [req.sites[s].point for s in site_ids] + [j.point for j in req.jobs]
    points += list(extra_points)
    return _Places(
        site_index={s: i for i, s in enumerate(site_ids)},
        points=points,
        ids=site_ids + [j.id for j in req.jobs],
        loc_site=[*site_ids, *([None] * (len(points) - len(site_ids)))],
        job_loc=[len(site_ids) + i for i in range(len(req.jobs))],
    )


def _integer_travel(
    seconds: Mapping[str, FloatArray], metres: Mapping[str, FloatArray]
) -> tuple[dict[str, IntMatrix], dict[str, IntMatrix]]:
    """Travel in the solver's integers: seconds rounded up (never a shorter leg), metres."""
    sec_int = {
        p: to_int_matrix(m, scale=1.0, rounding="ceil", name=f"travel seconds ({p})")
        for p, m in seconds.items()
    }
    met_int = {
        p: to_int_matrix(m, scale=1.0, rounding="round", name=f"travel metres ({p})")
        for p, m in metres.items()
    }
    return sec_int, met_int


def _vehicle(
    req: PlanRequest,
    k: int,
    *,
    start: CourierState,
    end: int,
    travel_s: IntMatrix,
    profile: str,
    replanning: bool,
) -> Vehicle:
    """Courier ``k`` as a vehicle: its shift from when it can start, the breaks that still fit.

    Raises
    ------
    RequestError
        When planning the morning, if the shift is too short to ride home and take the breaks.
    """
    c = req.couriers[k]
    t0 = max(c.shift_s[0], start.ready_s)
    breaks = tuple(
        Break(TimeWindow(max(x.earliest_s, t0), x.latest_s), x.duration_s)
        for x in c.breaks
        if max(x.earliest_s, t0) + x.duration_s <= x.latest_s
    )
    ride = int(travel_s[start.location, end])
    if t0 + ride + sum(x.duration_s for x in c.breaks) > c.shift_s[1] and not replanning:
        raise RequestError(
            f"couriers[{k}].shift: {hhmm(c.shift_s[0])}–{hhmm(c.shift_s[1])} is too short "
            f"to ride from {c.start_site} to {c.end_site} and take the breaks."
        )
    # Re-planning late in the day: only a courier who cannot ride back (and take the breaks
    # that still fit) before the shift closes is given the time to do so, and no more.
    shift_end = max(c.shift_s[1], t0 + ride + sum(x.duration_s for x in breaks))
    return Vehicle(
        start=start.location,
        end=end,
        profile=profile,
        capacity=c.capacity,
        shift=TimeWindow(t0, shift_end),
        breaks=breaks,
        skills=c.skills,
        initial_load=sum(req.jobs[j].size for j in start.in_hand),
        name=c.id,
    )


@dataclass
class _AddedJobs:
    """What :meth:`_JobSteps.add_all` added, and what it left out with a reason."""

    roles: list[VisitRole] = field(default_factory=list)
    core_job_of: dict[int, int] = field(default_factory=dict)
    unassigned: dict[int, tuple[str, str]] = field(default_factory=dict)


# A job's core steps (each a list of alternative visits) and what each visit means.
_Steps = tuple[list[list[Visit]], list[list[VisitRole]]]


@dataclass(frozen=True, slots=True)
class _JobSteps:
    """The core steps of each dossier job (module docstring: pickups, hand-offs, returns)."""

    req: PlanRequest
    sec_int: Mapping[str, IntMatrix]
    profile_of: list[str]
    places: _Places
    starts: list[CourierState]

    def add_all(
        self,
        b: ProblemBuilder,
        diagnosis: _Diagnosis,
        *,
        fixed_jobs: Mapping[int, int],
        skip_jobs: Mapping[int, tuple[str, str]],
        previous_courier: Mapping[int, int],
    ) -> _AddedJobs:
        """Add every job not settled to ``b``; a job no courier can make gets its reason."""
        added = _AddedJobs()
        for j, job in enumerate(self.req.jobs):
            if j in skip_jobs:
                continue
            in_hand_of = fixed_jobs.get(j)
            why = diagnosis.reason(j, self.places.job_loc[j]) if in_hand_of is None else None
            if why is not None:
                added.unassigned[j] = why
                continue
            steps, step_roles = self.of(j, in_hand_of)
            if j in previous_courier and in_hand_of is None:
                steps[0] = [
                    replace(v, preferred_vehicle=previous_courier[j], move_cost=MOVE_COST)
                    for v in steps[0]
                ]
            # A dossier already in a courier's bag is worth far more than any job not yet begun:
            # leaving it out would strand a citizen's papers with the courier.
            penalty = _penalty(self.req, job) * (IN_HAND_FACTOR if in_hand_of is not None else 1)
            added.core_job_of[j] = b.add_job(steps, penalty=penalty, name=job.id)
            for rs in step_roles:
                added.roles.extend(rs)
        return added

    def of(self, j: int, in_hand_of: int | None) -> _Steps:
        """Job ``j``'s steps; ``in_hand_of`` is the courier already carrying its dossier."""
        job = self.req.jobs[j]
        only = frozenset({in_hand_of}) if in_hand_of is not None else None
        if job.kind == "pickup":
            return self._pickup(j, job, in_hand_of, only)
        return self._return(j, job, in_hand_of, only)

    def _pickup(
        self, j: int, job: DossierJob, in_hand_of: int | None, only: frozenset[int] | None
    ) -> _Steps:
        """The pickup at the home (unless in hand), then the hand-off at the site."""
        assert job.handoff_site is not None
        steps: list[list[Visit]] = []
        roles: list[list[VisitRole]] = []
        if in_hand_of is None:
            window = TimeWindow(*job.window_s)
            home = self.places.job_loc[j]
            name = f"{job.id}:pickup"
            steps.append([Visit(home, window, job.service_s, job.size, job.skills, name=name)])
            roles.append([VisitRole(j, "pickup")])
        site = job.handoff_site
        if _needs_run(job):
            alternatives, alternative_roles = self._handoffs_to_runs(j, job, in_hand_of, only)
        else:
            o0, o1 = _site_window(self.req, site)
            alternatives = [
                Visit(
                    self.places.site_index[site],
                    TimeWindow(o0, o1),
                    self.req.site_service_s,
                    -job.size,
                    job.skills,
                    only,
                    group=f"{site}|handoff|",
                    name=f"{job.id}:handoff",
                )
            ]
            alternative_roles = [VisitRole(j, "handoff", site)]
        steps.append(alternatives)
        roles.append(alternative_roles)
        return steps, roles

    def _handoffs_to_runs(
        self, j: int, job: DossierJob, in_hand_of: int | None, only: frozenset[int] | None
    ) -> tuple[list[Visit], list[VisitRole]]:
        """One hand-off per catchable run, costed by its delay, and one for "no run today"."""
        assert job.handoff_site is not None and job.destination_site is not None
        req, sec_int, site = self.req, self.sec_int, job.handoff_site
        at = self.places.site_index[site]
        o0, o1 = _site_window(req, site)
        runs = _runs(req, site, job.destination_site)
        travel_min = min(int(sec_int[p][self.places.job_loc[j], at]) for p in sec_int)
        earliest = max(job.window_s[0] + job.service_s + travel_min, o0)
        if in_hand_of is not None:
            earliest = max(self.starts[in_hand_of].ready_s, o0)
        catchable = [r for r in runs if min(r.cutoff_s, o1) >= earliest][:MAX_RUN_CHOICES]
        base = catchable[0].arrives_s if catchable else 0
        svc = req.site_service_s
        alternatives = [
            Visit(
                at,
                TimeWindow(o0, min(r.cutoff_s, o1)),
                svc,
                -job.size,
                job.skills,
                only,
                group=f"{site}|handoff|{r.id}",
                cost=DELAY_PER_MIN * ((r.arrives_s - base) // 60),
                name=f"{job.id}:handoff:{r.id}",
            )
            for r in catchable
        ]
        roles = [VisitRole(j, "handoff", site, r.id) for r in catchable]
        next_day = (runs[0].arrives_s + DAY_S) if runs else base + DAY_S
        miss_cost = DELAY_PER_MIN * ((next_day - base) // 60) if catchable else 0
        alternatives.append(
            Visit(
                at,
                TimeWindow(o0, o1),
                svc,
                -job.size,
                job.skills,
                only,
                group=f"{site}|handoff|-",
                cost=miss_cost,
                name=f"{job.id}:handoff:none",
            )
        )
        roles.append(VisitRole(j, "handoff", site, None, missed=True))
        return alternatives, roles

    def _return(
        self, j: int, job: DossierJob, in_hand_of: int | None, only: frozenset[int] | None
    ) -> _Steps:
        """The collect at the origin site (unless in hand), then the delivery at the home."""
        assert job.origin_site is not None
        site = job.origin_site
        steps: list[list[Visit]] = []
        roles: list[list[VisitRole]] = []
        if in_hand_of is None:
            o0, o1 = _site_window(self.req, site)
            collect = Visit(
                self.places.site_index[site],
                TimeWindow(max(job.ready_s, o0), o1),
                self.req.site_service_s,
                job.size,
                job.skills,
                group=f"{site}|collect",
                name=f"{job.id}:collect",
            )
            steps.append([collect])
            roles.append([VisitRole(j, "collect", site)])
        window, late = self._delivery_window(j, job, in_hand_of)
        home = self.places.job_loc[j]
        name = f"{job.id}:delivery"
        steps.append([Visit(home, window, job.service_s, -job.size, job.skills, only, name=name)])
        roles.append([VisitRole(j, "delivery", late=late)])
        return steps, roles

    def _delivery_window(
        self, j: int, job: DossierJob, in_hand_of: int | None
    ) -> tuple[TimeWindow, bool]:
        """The delivery's window, and whether it is already late.

        A result already in the courier's bag stays there. When its window can no longer be
        met, it is delivered as soon as the courier can, marked late.
        """
        window = TimeWindow(*job.window_s)
        if in_hand_of is None:
            return window, False
        st = self.starts[in_hand_of]
        t0 = max(st.ready_s, self.req.couriers[in_hand_of].shift_s[0])
        leg = int(self.sec_int[self.profile_of[in_hand_of]][st.location, self.places.job_loc[j]])
        if t0 + leg > job.window_s[1]:
            return TimeWindow(job.window_s[0], HORIZON_S), True
        return window, False


def _stops_of_route(  # noqa: PLR0915 - stops are written in one pass
    built: Built, sol_route: Route
) -> tuple[dict[str, Any], int]:
    """One route of the plan JSON, and how many of its hand-offs missed every run."""
    req, problem = built.req, built.problem
    k = sol_route.vehicle
    courier = req.couriers[k]
    veh = problem.vehicles[k]
    prof = built.profile_of[k]
    sec = problem.profiles[prof].seconds
    met = built.metres[prof]
    day = req.day

    # Group consecutive site visits of one kind, site and run into one stop.
    groups: list[list[RouteStep]] = []
    for st in sol_route.steps:
        vis = problem.visits[st.visit]
        if groups and vis.group and problem.visits[groups[-1][-1].visit].group == vis.group:
            groups[-1].append(st)
        else:
            groups.append([st])

    stops: list[dict[str, Any]] = []
    start_site = built.loc_site[veh.start]
    first: dict[str, Any] = {
        "type": "start",
        "arrive": iso(day, sol_route.depart_s),
        "depart": iso(day, sol_route.depart_s),
        "load": veh.initial_load,
    }
    if start_site is not None:
        first["site"] = start_site
    else:
        p = built.loc_point[veh.start]
        first |= {"lat": p.lat, "lon": p.lon}
    stops.append(first)
    breaks = sorted(sol_route.breaks)
    used_breaks: set[int] = set()
    prev_loc, prev_depart = veh.start, sol_route.depart_s
    distance_m = 0.0
    missed = 0

    def gap(next_loc: int, next_start: int) -> int:
        """Insert the breaks taken before ``next_start``; return the arrival there."""
        nonlocal distance_m
        travel_s = int(sec[prev_loc, next_loc])
        taken = [
            (i, b)
            for i, b in enumerate(breaks)
            if i not in used_breaks and b[0] + b[1] <= next_start
        ]
        pause = 0
        last_end = prev_depart
        for i, (bs, dur) in taken:
            used_breaks.add(i)
            stops.append({"type": "break", "start": iso(day, bs), "depart": iso(day, bs + dur)})
            pause += dur
            last_end = max(last_end, bs + dur)
        distance_m += float(met[prev_loc, next_loc])
        return min(max(prev_depart + travel_s + pause, last_end), next_start)

    for grp in groups:
        head = grp[-1]
        vis = problem.visits[head.visit]
        role = built.roles[head.visit]
        start_s = max(s.start_s for s in grp)
        arrive = gap(vis.location, start_s)
        depart = start_s + vis.service_s
        stop: dict[str, Any]
        if role.role in ("pickup", "delivery"):
            job = req.jobs[role.job]
            stop = {
                "type": role.role,
                "job": job.id,
                "dossier": job.dossier,
                "lat": job.point.lat,
                "lon": job.point.lon,
            }
            if role.late:
                stop["late"] = True
        else:
            stop = {
                "type": role.role,
                "site": role.site,
                "jobs": [req.jobs[built.roles[s.visit].job].id for s in grp],
            }
            if role.role == "handoff" and _needs_run(req.jobs[role.job]):
                stop["shuttle"] = role.run
                if role.missed:
                    missed += len(grp)
            elif role.role == "handoff":
                stop["shuttle"] = None
        stop |= {
            "arrive": iso(day, arrive),
            "start": iso(day, start_s),
            "depart": iso(day, depart),
            "load": head.load,
        }
        stops.append(stop)
        prev_loc, prev_depart = vis.location, depart
    end_arrive = gap(veh.end, sol_route.end_s)
    stops.append(
        {
            "type": "end",
            "site": built.loc_site[veh.end],
            "arrive": iso(day, max(end_arrive, sol_route.end_s)),
        }
    )
    route = {
        "courier": courier.id,
        "mode": courier.mode,
        "distance_km": round(distance_m / 1000.0, 3),
        "duration_min": round((sol_route.end_s - sol_route.depart_s) / 60.0, 1),
        "stops": stops,
    }
    return route, missed


def plan_from_solution(built: Built, solution: Solution) -> dict[str, Any]:
    """Write the plan JSON of DESIGN §4 from a core solution.

    Parameters
    ----------
    built
        The problem as built from the request.
    solution
        The solver's answer for ``built.problem``.

    Returns
    -------
    dict
        The plan: ``plan_id``, ``date``, ``status``, ``routes``, ``unassigned``, ``kpis``.
    """
    req = built.req
    routes = []
    runs_missed = 0
    runs_caught = 0
    served: set[int] = set()
    for r in solution.routes:
        route, missed = _stops_of_route(built, r)
        if len(route["stops"]) <= 2 and not r.breaks:
            continue
        routes.append(route)
        runs_missed += missed
        for s in route["stops"]:
            if s["type"] == "handoff" and s.get("shuttle"):
                runs_caught += len(s["jobs"])
        for st in r.steps:
            served.add(built.roles[st.visit].job)
    unassigned = dict(built.unassigned)
    core_to_req = {cj: j for j, cj in built.core_job_of.items()}
    for cj in solution.dropped:
        j = core_to_req[cj]
        if j in served:
            continue
        job = req.jobs[j]
        unassigned[j] = (
            "no_time",
            f"No courier could fit it among the other jobs: the couriers' time and capacity "
            f"are used up around its window {hhmm(job.window_s[0])}–{hhmm(job.window_s[1])}."
            if solution.solutions
            else f"The search ran out of time ({solution.runtime_s:.1f} s) before it found any "
            "plan for these couriers; plan again with a longer time limit.",
        )
    for j, (reason, detail) in built.extra.get("settled", {}).items():
        unassigned[j] = (reason, detail)
    unassigned_list = [
        {"job": req.jobs[j].id, "reason": reason, "detail": detail}
        for j, (reason, detail) in sorted(unassigned.items())
    ]
    by_reason: dict[str, int] = {}
    for u in unassigned_list:
        by_reason[u["reason"]] = by_reason.get(u["reason"], 0) + 1
    n_jobs = len(req.jobs) - len(built.extra.get("done", ()))
    served_count = len(served)
    return {
        "plan_id": uuid.uuid4().hex,
        "date": req.day.isoformat(),
        "status": "complete" if not unassigned_list else "partial",
        "routes": routes,
        "unassigned": unassigned_list,
        "kpis": {
            "jobs": n_jobs,
            "served": served_count,
            "unassigned": len(unassigned_list),
            "unassigned_by_reason": by_reason,
            "distance_km": round(sum(r["distance_km"] for r in routes), 3),
            "duration_min": round(sum(r["duration_min"] for r in routes), 1),
            "couriers_used": len(routes),
            "runs_caught": runs_caught,
            "runs_missed": runs_missed,
            "solver": {
                "status": solution.status,
                "cost": solution.cost,
                "seconds": round(solution.runtime_s, 2),
                "solutions": solution.solutions,
            },
        },
    }


def _solve_one(
    req: PlanRequest,
    travel: TravelModel | None,
    time_limit_s: float,
    on_progress: Callable[[Progress], None] | None,
) -> dict[str, Any]:
    built = build_problem(req, travel)
    params = SolveParams(
        time_limit_s=time_limit_s, seed=req.seed, solution_limit=req.solution_limit
    )
    solution = solve(built.problem, params, on_progress=on_progress)
    return plan_from_solution(built, solution)


def districts(req: PlanRequest) -> list[tuple[list[int], list[int]]]:
    """Split a large day into districts: couriers by start site, jobs to the nearest able base.

    A job belongs to the couriers based at its hand-off (pickup) or origin (return) site; when no
    courier is based there, or none of them has its skills, to the nearest base (great circle
    from the job's site) that has an able courier. Jobs naming an unknown site go to the first
    district, whose diagnosis reports them. A district of more than :data:`SECTOR_JOBS` jobs is
    cut into sectors by the bearing of the homes from the base, its couriers shared out among
    them (cluster first, route second).

    Returns
    -------
    list of (courier indices, job indices)
        Districts with at least one job, in the order of their base's first courier.
    """
    if not req.couriers:
        return []  # nothing to split: the single solve reports every job as no_courier
    bases: dict[str, list[int]] = {}
    for k, c in enumerate(req.couriers):
        bases.setdefault(c.start_site, []).append(k)
    order = list(bases)
    groups: dict[str, list[int]] = {b: [] for b in order}
    for j, job in enumerate(req.jobs):
        site = job.handoff_site if job.kind == "pickup" else job.origin_site
        if site is None or site not in req.sites:
            groups[order[0]].append(j)
            continue
        able = [
            b for b in order if any(job.skills <= req.couriers[k].skills for k in bases[b])
        ] or order
        if site in able:
            groups[site].append(j)
            continue
        here = req.sites[site].point
        pts = [here] + [req.sites[b].point for b in able]
        dist = GreatCircleTravel().matrix(pts, "car").metres[0, 1:]
        groups[able[int(np.argmin(dist))]].append(j)
    parts: list[tuple[list[int], list[int]]] = []
    for b in order:
        if groups[b]:
            parts.extend(_sectors(req, bases[b], groups[b], req.sites[b].point))
    return parts


def _sectors(
    req: PlanRequest, couriers: list[int], jobs: list[int], base: LatLon
) -> list[tuple[list[int], list[int]]]:
    """Split a busy district into sectors around its base (sweep), about
    :data:`SECTOR_JOBS` jobs each, sharing out the couriers in proportion."""
    k = min(len(couriers), math.ceil(len(jobs) / SECTOR_JOBS))
    if k <= 1:
        return [(couriers, jobs)]
    angle = sorted(
        jobs,
        key=lambda j: math.atan2(
            req.jobs[j].point.lat - base.lat, req.jobs[j].point.lon - base.lon
        ),
    )
    crew = [couriers[i::k] for i in range(k)]
    out: list[tuple[list[int], list[int]]] = []
    start = 0
    for i, cs in enumerate(crew):
        end = len(angle) if i == k - 1 else start + round(len(angle) * len(cs) / len(couriers))
        out.append((cs, angle[start:end]))
        start = end
    # A job whose skills no courier of its sector has goes to the next sector that has one.
    for i, (cs, js) in enumerate(out):
        for j in list(js):
            need = req.jobs[j].skills
            if need and not any(need <= req.couriers[c].skills for c in cs):
                for step in range(1, k):
                    other = out[(i + step) % k]
                    if any(need <= req.couriers[c].skills for c in other[0]):
                        js.remove(j)
                        other[1].append(j)
                        break
    return [(cs, js) for cs, js in out if js]


def plan_request(
    request: Mapping[str, Any],
    *,
    time_limit_s: float | None = None,
    travel: TravelModel | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> dict[str, Any]:
    """Plan a day: validate the request, solve it and return the plan JSON (DESIGN §4).

    Days of more than :data:`DISTRICT_JOBS` jobs are planned district by district (see
    :func:`districts`), each with a share of the time limit in proportion to its jobs: a
    province-wide day then gets a first plan in seconds rather than minutes, at the price of
    never lending a courier to a neighbouring district.

    Parameters
    ----------
    request
        The plan request as plain JSON data.
    time_limit_s
        Search time limit in seconds; overrides ``options.time_limit_s`` (default 10 s).
    travel
        Travel model for requests without a ``travel`` matrix; defaults to
        :class:`geo.travel.GreatCircleTravel`.
    on_progress
        Called at each improving solution with elapsed seconds, best cost and solutions found.

    Returns
    -------
    dict
        The plan: every job is in exactly one route or in ``unassigned`` with a reason.

    Raises
    ------
    RequestError
        If the request is invalid; the message names the field.
    """
    req = parse_request(request, time_limit_s=time_limit_s)
    parts = districts(req) if len(req.jobs) > DISTRICT_JOBS else []
    if len(parts) <= 1:
        return _solve_one(req, travel, req.time_limit_s, on_progress)
    began = time.monotonic()
    done_cost = 0
    solutions = 0
    plans: list[dict[str, Any]] = []
    left_jobs = len(req.jobs)
    for couriers, jobs in parts:
        left_s = req.time_limit_s - (time.monotonic() - began)
        share = max(0.01, left_s * len(jobs) / left_jobs)
        left_jobs -= len(jobs)
        sub = replace(
            req,
            couriers=tuple(req.couriers[k] for k in couriers),
            jobs=tuple(req.jobs[j] for j in jobs),
        )

        def relay(p: Progress, base: int = done_cost, before: int = solutions) -> None:
            if on_progress is not None:
                on_progress(
                    Progress(time.monotonic() - began, base + p.best_cost, before + p.solutions)
                )

        plan = _solve_one(sub, travel, share, relay)
        done_cost += int(plan["kpis"]["solver"]["cost"])
        solutions += int(plan["kpis"]["solver"]["solutions"])
        plans.append(plan)
    return _merge(req, plans, time.monotonic() - began)


def _merge(req: PlanRequest, plans: Sequence[dict[str, Any]], seconds: float) -> dict[str, Any]:
    """One plan from the plans of the districts of a day."""
    order = {j.id: i for i, j in enumerate(req.jobs)}
    routes = [r for p in plans for r in p["routes"]]
    unassigned = sorted((u for p in plans for u in p["unassigned"]), key=lambda u: order[u["job"]])
    by_reason: dict[str, int] = {}
    for u in unassigned:
        by_reason[u["reason"]] = by_reason.get(u["reason"], 0) + 1

    def total(key: str) -> Any:
        return sum(p["kpis"][key] for p in plans)

    return {
        "plan_id": uuid.uuid4().hex,
        "date": req.day.isoformat(),
        "status": "complete" if not unassigned else "partial",
        "routes": routes,
        "unassigned": unassigned,
        "kpis": {
            "jobs": total("jobs"),
            "served": total("served"),
            "unassigned": len(unassigned),
            "unassigned_by_reason": by_reason,
            "distance_km": round(total("distance_km"), 3),
            "duration_min": round(total("duration_min"), 1),
            "couriers_used": len(routes),
            "runs_caught": total("runs_caught"),
            "runs_missed": total("runs_missed"),
            "solver": {
                "status": "solved",
                "cost": sum(p["kpis"]["solver"]["cost"] for p in plans),
                "seconds": round(seconds, 2),
                "solutions": sum(p["kpis"]["solver"]["solutions"] for p in plans),
                "districts": len(plans),
            },
        },
    }


def courier_index(req: PlanRequest, courier_id: str) -> int:
    """Return the index of a courier, raising RequestError naming an unknown id."""
    for k, c in enumerate(req.couriers):
        if c.id == courier_id:
            return k
    raise RequestError(f"courier {courier_id!r} is not in the request.")


__all__ = [
    "REASONS",
    "Built",
    "Courier",
    "CourierState",
    "build_problem",
    "plan_from_solution",
    "plan_request",
]
