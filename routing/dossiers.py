"""The dossier domain on top of the routing core: request → problem (DESIGN §4).

The solution is read back into the plan by :mod:`routing.planner`, which also plans whole days.

How the domain maps onto the core (:mod:`routing.model`):

- Locations: the sites in request order, then one per job's home (then, when re-planning, one
  per courier's current position).
- A **pickup** job is a two-step core job: the pickup visit at the home (+size), then a hand-off
  visit at its ``handoff_site`` (−size) on the same courier. When the dossier must ride a shuttle
  (``destination_site`` set and different from the hand-off site), the hand-off step is a choice
  among *alternative visits*, one per catchable first run of a journey through the timetable to
  the destination (:func:`routing.journeys.journeys_by_first_run`: window closing at that run's
  cut-off, ``departs − handoff_min``) plus one for "no journey today" (window up to the site's
  closing). The solver picks exactly one; each carries the delay cost of the time its journey
  reaches the destination, so the earliest journey is worth most, a two-leg journey beats
  waiting for tomorrow, and missing every journey costs a day. This models the step cost exactly
  (a soft upper bound would only be linear in lateness) at the price of a few extra nodes per
  pickup, so only the first :data:`MAX_RUN_CHOICES` catchable first runs are offered (runs that
  reach no sooner than a later one are never offered).
- A **return** job is a collect visit at ``origin_site`` (window opening at ``ready_at``, +size),
  then the delivery at the home (−size). A result ready upstream (``ready_site``) opens the
  window when the earliest journey from there at ``ready_at`` reaches ``origin_site``.
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
  … a job of priority ``high``       × :data:`URGENT_FACTOR` 4   carried over, due near
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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from geo.coords import LatLon
from geo.travel import GreatCircleTravel, TravelModel
from routing.clock import DAY_S, hhmm
from routing.journeys import Timetable
from routing.locks import lock_steps, locked_courier
from routing.model import (
    Break,
    IntMatrix,
    Problem,
    ProblemBuilder,
    TimeWindow,
    Vehicle,
    Visit,
    Weights,
    to_int_matrix,
)
from routing.request import (
    HORIZON_S,
    Courier,
    DossierJob,
    PlanRequest,
    RequestError,
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
# Re-planning: moving a job to another courier costs as much as 30 minutes of dossier delay.
MOVE_COST = 30 * DELAY_PER_MIN
# Re-planning: a dossier in a courier's bag handed over after its site closes, or delivered after
# its window, costs as much as leaving a job out; stranding it in the bag costs 100 times more.
LATE_IN_HAND_COST = DROP_PENALTY

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
    journey: tuple[str, ...] = ()  # a hand-off: the runs to the destination, ``run`` first
    reaches_s: int | None = None  # a hand-off: when its journey reaches the destination


@dataclass(frozen=True, slots=True)
class CourierState:
    """Where a courier is when re-planning: location index, time, load and jobs in hand."""

    location: int
    ready_s: int
    in_hand: tuple[int, ...] = ()  # job indices whose dossiers the courier carries


def carry_home_s(
    req: PlanRequest,
    state: CourierState,
    travel_s: IntMatrix,
    *,
    t0: int,
    end: int,
    job_loc: Sequence[int],
) -> int:
    """When a courier who hands over every dossier in its bag, nearest first, reaches its end.

    Re-planning late in the day, a courier carrying dossiers may need time past its shift to
    hand them over: this is the time its day may last (a route that uses it is marked late).
    Windows are waited for when they open later; those already closed are served late.
    """
    site_ids = list(req.sites)
    t, here = t0, state.location
    todo = []
    for j in state.in_hand:
        job = req.jobs[j]
        site = job.handoff_site if job.kind == "pickup" else None
        if site is not None and site in req.sites:
            todo.append((site_ids.index(site), _site_window(req, site)[0], req.site_service_s))
        elif job.kind == "return":
            todo.append((job_loc[j], job.window_s[0], job.service_s))
    while todo:
        nxt = min(todo, key=lambda x: int(travel_s[here, x[0]]))
        todo.remove(nxt)
        t = max(t + int(travel_s[here, nxt[0]]), nxt[1]) + nxt[2]
        here = nxt[0]
    return t + int(travel_s[here, end])


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


def _needs_run(job: DossierJob) -> bool:
    return (
        job.kind == "pickup"
        and job.destination_site is not None
        and job.destination_site != job.handoff_site
    )


def _penalty(req: PlanRequest, job: DossierJob) -> int:
    if job.priority == "high":  # e.g. carried over from an earlier day with its due date near
        return DROP_PENALTY * URGENT_FACTOR
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
        *,
        timetable: Timetable,
    ) -> None:
        self.req = req
        self.sec = sec
        self.profile_of = profile_of
        self.site_index = site_index
        self.starts = starts
        self.timetable = timetable

    def _t(self, k: int, a: int, b: int) -> int:
        return int(self.sec[self.profile_of[k]][a, b])

    def reason(self, j: int, job_loc: int) -> tuple[str, str] | None:
        """Why job ``j`` (its home at location ``job_loc``) cannot be planned, or ``None``.

        The checks run from the plainest (an unknown site, no able courier) to the route of
        one courier serving the job alone; the first that fails names the reason.
        """
        job = self.req.jobs[j]
        found = self._unknown_site(job)
        if found is None:
            found = self._no_able_courier(job)
        if found is not None:
            return found
        roomy = self._roomy(job)
        found = self._outside_time(job, roomy)
        if found is not None:
            return found
        return self._unreachable(job, job_loc, roomy)

    def locked(self, j: int, job_loc: int, k: int) -> tuple[str, str] | None:
        """Why courier ``k``, to whom the dispatcher locked job ``j``, cannot make it, or ``None``.

        The same checks as :meth:`reason`, for that one courier; the detail names the lock.
        """
        job, c = self.req.jobs[j], self.req.couriers[k]
        lock = f"It is locked to courier {c.id}"
        found = self._unknown_site(job)
        if found is None and not job.skills <= c.skills:
            need = ", ".join(sorted(job.skills - c.skills))
            found = "missing_skill", f"{lock}, who lacks the skill(s) {need}."
        elif found is None and c.capacity < job.size:
            found = "over_capacity", f"{lock}, whose capacity {c.capacity} is below its size."
        elif found is None and (timing := self._outside_time(job, [k])) is not None:
            found = timing[0], f"{lock}. {timing[1]}"
        return found if found is not None else self._locked_alone(k, job, job_loc, lock)

    def _locked_alone(
        self, k: int, job: DossierJob, job_loc: int, lock: str
    ) -> tuple[str, str] | None:
        outcome, arrive = self._alone(k, job, job_loc)
        site = job.handoff_site if job.kind == "pickup" else job.origin_site
        if outcome == "late":
            assert arrive is not None
            return (
                "window_unreachable",
                f"{lock}, who can be at the home at {hhmm(arrive)} at the earliest, after the "
                f"window {hhmm(job.window_s[0])}–{hhmm(job.window_s[1])} closes.",
            )
        if outcome == "closed":
            return "site_closed", f"{lock}, who cannot reach {site} while it is open."
        if outcome == "short":
            return "window_unreachable", f"{lock}, whose shift ends before the job is done."
        return None

    def _unknown_site(self, job: DossierJob) -> tuple[str, str] | None:
        named = (
            ("handoff_site", job.handoff_site),
            ("destination_site", job.destination_site),
            ("origin_site", job.origin_site),
            ("ready_site", job.ready_site),
        )
        for field_name, s in named:
            if s is not None and s not in self.req.sites:
                return "unknown_site", f"Its {field_name} {s!r} is not among the request's sites."
        return None

    def _skilled(self, job: DossierJob) -> list[int]:
        return [k for k, c in enumerate(self.req.couriers) if job.skills <= c.skills]

    def _roomy(self, job: DossierJob) -> list[int]:
        return [k for k in self._skilled(job) if self.req.couriers[k].capacity >= job.size]

    def _no_able_courier(self, job: DossierJob) -> tuple[str, str] | None:
        req = self.req
        if not req.couriers:
            return "no_courier", "No courier works on this day in this plan."
        skilled = self._skilled(job)
        if not skilled:
            need = ", ".join(sorted(job.skills))
            return "missing_skill", f"It needs the skill(s) {need}, which no courier has."
        if not self._roomy(job):
            cap = max(req.couriers[k].capacity for k in skilled)
            return (
                "over_capacity",
                f"Its size {job.size} exceeds every able courier's capacity (largest {cap}).",
            )
        return None

    def _outside_time(self, job: DossierJob, roomy: list[int]) -> tuple[str, str] | None:
        w0, w1 = job.window_s
        win = f"{hhmm(w0)}–{hhmm(w1)}"
        ready = self.timetable.ready_at_origin(job) if job.kind == "return" else 0
        if ready is None:
            return (
                "ready_after_window",
                f"It is ready at {job.ready_site} at {hhmm(job.ready_s)}, but no shuttle run "
                f"brings it to {job.origin_site} today, before the citizen's window {win} closes.",
            )
        if job.kind == "return" and ready > w1:
            upstream = f" (by the runs from {job.ready_site})" if ready != job.ready_s else ""
            return (
                "ready_after_window",
                f"It is ready at {job.origin_site} only at {hhmm(ready)}{upstream}, after the "
                f"citizen's window {win} closes.",
            )
        shifts = [self.req.couriers[k].shift_s for k in roomy]
        if all(s1 < w0 or s0 > w1 for s0, s1 in shifts):
            span = ", ".join(sorted({f"{hhmm(a)}–{hhmm(b)}" for a, b in shifts}))
            return "window_outside_shifts", f"Its window {win} lies outside every shift ({span})."
        site = job.handoff_site if job.kind == "pickup" else job.origin_site
        assert site is not None
        o0, o1 = _site_window(self.req, site)
        if job.kind == "return" and max(ready, o0) > o1:
            return (
                "site_closed",
                f"{site} closes at {hhmm(o1)}, before the result is ready there ({hhmm(ready)}).",
            )
        return None

    def _alone(self, k: int, job: DossierJob, job_loc: int) -> tuple[str, int | None]:
        """Courier ``k`` serving the job alone: ``ok``, ``late`` (with its arrival at the home,
        after the window), ``closed`` (the site is closed when it gets there) or ``short`` (it
        cannot reach the end of its shift in time)."""
        req, c, st = self.req, self.req.couriers[k], self.starts[k]
        w0, w1 = job.window_s
        site = job.handoff_site if job.kind == "pickup" else job.origin_site
        assert site is not None
        o0, o1 = _site_window(req, site)
        s_idx, end = self.site_index[site], self.site_index[c.end_site]
        t_start = max(c.shift_s[0], st.ready_s)
        if job.kind == "pickup":
            arrive = t_start + self._t(k, st.location, job_loc)
            begin = max(arrive, w0)
            if begin > w1:
                return "late", arrive
            at_site = max(begin + job.service_s + self._t(k, job_loc, s_idx), o0)
            if at_site > o1:
                return "closed", None
            done = at_site + req.site_service_s + self._t(k, s_idx, end)
            return ("ok" if done <= c.shift_s[1] else "short"), None
        ready = self.timetable.ready_at_origin(job)
        assert ready is not None, "a return with no journey from its ready_site is diagnosed first"
        at_site = max(t_start + self._t(k, st.location, s_idx), ready, o0)
        if at_site > o1:
            return "closed", None
        arrive = at_site + req.site_service_s + self._t(k, s_idx, job_loc)
        begin = max(arrive, w0)
        if begin > w1:
            return "late", arrive
        done = begin + job.service_s + self._t(k, job_loc, end)
        return ("ok" if done <= c.shift_s[1] else "short"), None

    def _unreachable(
        self, job: DossierJob, job_loc: int, roomy: list[int]
    ) -> tuple[str, str] | None:
        w0, w1 = job.window_s
        win = f"{hhmm(w0)}–{hhmm(w1)}"
        site = job.handoff_site if job.kind == "pickup" else job.origin_site
        assert site is not None
        o0, o1 = _site_window(self.req, site)
        best_late = None
        site_blocked = True
        for k in roomy:
            outcome, arrive = self._alone(k, job, job_loc)
            if outcome == "ok":
                return None
            if outcome == "late":
                assert arrive is not None
                best_late = arrive if best_late is None else min(best_late, arrive)
            if outcome in ("late", "short"):
                site_blocked = False  # the site's hours are not what stops this courier
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
                job_loc=places.job_loc,
            )
        )
    timetable = Timetable(req)
    jobs = _JobSteps(req, sec_int, profile_of, places, starts, timetable)
    diagnosis = _Diagnosis(req, sec_int, profile_of, places.site_index, starts, timetable=timetable)
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
    job_loc: Sequence[int] = (),
) -> Vehicle:
    """Courier ``k`` as a vehicle: its shift from when it can start, the breaks that still fit.

    Raises
    ------
    RequestError
        When planning the morning, if the shift is too short to ride home and take the breaks.
    """
    c = req.couriers[k]
    t0 = max(c.shift_s[0], start.ready_s)
    carry_s = (
        carry_home_s(req, start, travel_s, t0=t0, end=end, job_loc=job_loc) if start.in_hand else 0
    )
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
    # … and a courier with dossiers in its bag the time to hand them over first.
    shift_end = min(max(shift_end, carry_s + sum(x.duration_s for x in breaks)), HORIZON_S)
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
    timetable: Timetable

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
            lock = locked_courier(self.req, job) if in_hand_of is None else None
            why = None
            if lock is not None:
                why = diagnosis.locked(j, self.places.job_loc[j], lock)
            elif in_hand_of is None:
                why = diagnosis.reason(j, self.places.job_loc[j])
            if why is not None:
                added.unassigned[j] = why
                continue
            steps, step_roles = self.of(j, in_hand_of)
            if lock is not None:
                steps = lock_steps(steps, lock)
            if in_hand_of is not None:
                _never_stranded(steps, step_roles)
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
        """One hand-off per first run of a journey to the destination, costed by when that
        journey reaches it, and one for "no journey today" (it waits for tomorrow's)."""
        assert job.handoff_site is not None and job.destination_site is not None
        req, sec_int, site = self.req, self.sec_int, job.handoff_site
        at = self.places.site_index[site]
        o0, o1 = _site_window(req, site)
        travel_min = min(int(sec_int[p][self.places.job_loc[j], at]) for p in sec_int)
        earliest = max(job.window_s[0] + job.service_s + travel_min, o0)
        if in_hand_of is not None:
            earliest = max(self.starts[in_hand_of].ready_s, o0)
        found = self.timetable.first_runs(site, job.destination_site, after_s=earliest)
        catchable = [jr for jr in found if min(jr.runs[0].cutoff_s, o1) >= earliest]
        catchable = catchable[:MAX_RUN_CHOICES]
        base = min((jr.reaches_s for jr in catchable), default=0)
        svc = req.site_service_s
        alternatives: list[Visit] = []
        roles: list[VisitRole] = []
        for jr in catchable:
            first = jr.runs[0]
            alternatives.append(
                Visit(
                    at,
                    TimeWindow(o0, min(first.cutoff_s, o1)),
                    svc,
                    -job.size,
                    job.skills,
                    only,
                    group=f"{site}|handoff|{first.id}",
                    cost=DELAY_PER_MIN * ((jr.reaches_s - base) // 60),
                    name=f"{job.id}:handoff:{first.id}",
                )
            )
            roles.append(
                VisitRole(j, "handoff", site, first.id, journey=jr.run_ids, reaches_s=jr.reaches_s)
            )
        tomorrow = self.timetable.earliest(site, 0, job.destination_site)
        next_day = (tomorrow.reaches_s if tomorrow is not None else base) + DAY_S
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
                TimeWindow(max(self._ready(job), o0), o1),
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

    def _ready(self, job: DossierJob) -> int:
        """When the result is ready at its origin site (a re-plan's job in hand was ready)."""
        ready = self.timetable.ready_at_origin(job)
        return job.ready_s if ready is None else ready

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


def _never_stranded(steps: list[list[Visit]], roles: list[list[VisitRole]]) -> None:
    """Let a dossier in a courier's bag be handed over or delivered late rather than dropped.

    The last alternative of the job's last step (the hand-off that catches no run, or the
    delivery) gets a twin open until the horizon, marked late and costed
    :data:`LATE_IN_HAND_COST`: the search takes it only when the dossier cannot reach its site
    before it closes, or its citizen within the window.
    """
    visit, role = steps[-1][-1], roles[-1][-1]
    if role.late or visit.window.late_s >= HORIZON_S:
        return
    steps[-1].append(
        replace(
            visit,
            window=TimeWindow(visit.window.early_s, HORIZON_S),
            cost=visit.cost + LATE_IN_HAND_COST,
            group=f"{visit.group}|late" if visit.group else "",
            name=f"{visit.name}:late",
        )
    )
    roles[-1].append(replace(role, late=True))


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
    "courier_index",
]
