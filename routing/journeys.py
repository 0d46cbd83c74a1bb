"""Journeys through the day's shuttle timetable: the earliest arrival at a destination (pure).

A dossier handed over at a site may need several runs to reach its destination (a rural post
office → the centre → a department, DESIGN §4). The runs of a day form a timetable; a dossier
at a site at time ``t`` can ride run ``r`` leaving that site when ``t`` is no later than the
run's cut-off (``departs − handoff_min``, the margin applies at the first site and at every
transfer alike). Staying at the destination is arriving.

:func:`earliest_journey` is a connection scan (Dibbelt et al., "Connection Scan Algorithm",
2013): the runs sorted by departure are looked at once each, keeping the earliest time the
dossier can be at every site; the runs that set the destination's time are the journey.
:func:`journeys_by_first_run` gives, for every run leaving a site, the earliest journey that
begins with it, which is what a hand-off's alternatives are valued by.

Times are integer seconds since midnight of the plan's date, as in :mod:`routing.request`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from routing.clock import local_midnight, parse_day_time
from routing.request import DossierJob, PlanRequest, Shuttle

__all__ = [
    "Journey",
    "Timetable",
    "earliest_journey",
    "journeys_by_first_run",
    "ready_at_origin",
    "timetable_of",
]


@dataclass(frozen=True, slots=True)
class Journey:
    """The runs a dossier rides, in order, and when it reaches its destination.

    ``runs`` is empty when the dossier is already at its destination (``reaches_s`` is then the
    time it was there).
    """

    runs: tuple[Shuttle, ...]
    reaches_s: int

    @property
    def run_ids(self) -> tuple[str, ...]:
        """The ids of the runs, in the order they are ridden."""
        return tuple(r.id for r in self.runs)

    @property
    def first(self) -> Shuttle | None:
        """The first run, or ``None`` for a dossier already at its destination."""
        return self.runs[0] if self.runs else None


def _by_departure(runs: Iterable[Shuttle]) -> list[Shuttle]:
    # Ties by arrival, so a run that arrives at once is scanned before one leaving then.
    return sorted(runs, key=lambda r: (r.departs_s, r.arrives_s, r.id))


def _scan(
    ordered: Sequence[Shuttle], origin: str, at_s: int
) -> tuple[dict[str, int], dict[str, Shuttle]]:
    """The earliest time at every site reachable from ``origin`` at ``at_s``, and the run
    that brings the dossier there first."""
    earliest: dict[str, int] = {origin: at_s}
    arrived_by: dict[str, Shuttle] = {}
    # One pass in departure order settles every real timetable; runs that take no time and
    # leave at the same moment may need another pass, until nothing improves.
    for _ in range(len(ordered) + 1):
        improved = False
        for run in ordered:
            there = earliest.get(run.from_site)
            if there is None or there > run.cutoff_s:
                continue
            if run.arrives_s < earliest.get(run.to_site, run.arrives_s + 1):
                earliest[run.to_site] = run.arrives_s
                arrived_by[run.to_site] = run
                improved = True
        if not improved:
            break
    return earliest, arrived_by


def _unwind(arrived_by: dict[str, Shuttle], origin: str, destination: str) -> tuple[Shuttle, ...]:
    runs: list[Shuttle] = []
    site = destination
    while site != origin and site in arrived_by and len(runs) <= len(arrived_by):
        run = arrived_by[site]
        runs.append(run)
        site = run.from_site
    return tuple(reversed(runs))


def earliest_journey(
    runs: Iterable[Shuttle], origin: str, at_s: int, destination: str
) -> Journey | None:
    """The earliest-arrival journey from ``origin`` at ``at_s`` to ``destination`` today.

    Parameters
    ----------
    runs
        The day's shuttle runs (validated: none arrives before it departs).
    origin
        The site where the dossier is.
    at_s
        When it is there (seconds since the plan day's midnight): the hand-off's start.
    destination
        The site it must reach.

    Returns
    -------
    Journey or None
        The runs taken, in order, and the arrival at ``destination``; ``None`` when no journey
        reaches it today. A dossier already at its destination has an empty journey.
    """
    if origin == destination:
        return Journey((), at_s)
    earliest, arrived_by = _scan(_by_departure(runs), origin, at_s)
    if destination not in earliest:
        return None
    return Journey(_unwind(arrived_by, origin, destination), earliest[destination])


def journeys_by_first_run(
    runs: Sequence[Shuttle], site: str, destination: str, *, after_s: int = 0
) -> list[Journey]:
    """For each run leaving ``site`` whose cut-off is not before ``after_s``, the earliest
    journey that begins with it and reaches ``destination`` today, by cut-off.

    Runs that start no journey to ``destination`` are left out, and so is every run that
    reaches it no sooner than a run with a later cut-off (handing over later for the same
    arrival is never worse).
    """
    ordered = _by_departure(runs)
    found: list[Journey] = []
    for first in ordered:
        if first.from_site != site or first.cutoff_s < after_s:
            continue
        rest = earliest_journey(ordered, first.to_site, first.arrives_s, destination)
        if rest is not None:
            found.append(Journey((first, *rest.runs), rest.reaches_s))
    found.sort(key=lambda j: (j.runs[0].cutoff_s, -j.reaches_s))
    kept: list[Journey] = []
    best_later: int | None = None
    for journey in reversed(found):
        if best_later is None or journey.reaches_s < best_later:
            kept.append(journey)
            best_later = journey.reaches_s
    return list(reversed(kept))


def ready_at_origin(req: PlanRequest, job: DossierJob) -> int | None:
    """When a return's result is ready at its ``origin_site`` (seconds since midnight).

    Its ``ready_at`` there, or, for a result ready upstream at ``ready_site``, the arrival of
    the earliest journey from there at ``ready_at``. ``None`` when the ``ready_site`` is unknown
    or no journey brings the result to ``origin_site`` today.
    """
    site = job.ready_site
    if site is None or site == job.origin_site:
        return job.ready_s
    if site not in req.sites or job.origin_site is None:
        return None
    journey = earliest_journey(req.shuttles, site, job.ready_s, job.origin_site)
    return None if journey is None else journey.reaches_s


def timetable_of(shuttles: Iterable[Mapping[str, Any]], day: date) -> list[Shuttle]:
    """The runs of a request's ``shuttles`` JSON as they run on ``day`` (tracking's timetable).

    A stored plan's request was validated when it was planned; a run that cannot be read
    (no times, arriving before it departs) is left out rather than failing a look-up.
    """
    midnight = local_midnight(day)
    out: list[Shuttle] = []
    for raw in shuttles:
        departs = parse_day_time(day, raw.get("departs"))
        arrives = parse_day_time(day, raw.get("arrives"))
        margin = raw.get("handoff_min") or 0
        if departs is None or arrives is None or arrives < departs:
            continue
        if isinstance(margin, bool) or not isinstance(margin, int | float) or margin < 0:
            margin = 0
        out.append(
            Shuttle(
                str(raw.get("id")),
                str(raw.get("from_site")),
                str(raw.get("to_site")),
                int((departs - midnight).total_seconds()),
                int((arrives - midnight).total_seconds()),
                float(margin),
            )
        )
    return out


class Timetable:
    """A day's runs with the journeys asked of them remembered, for building one problem.

    Every pickup from one site to one destination has the same journeys by first run, and
    every result ready at one site and time the same arrival at its origin: a day of thousands
    of jobs asks the scan a few dozen times instead of once a job (or once a job and courier).
    """

    def __init__(self, req: PlanRequest) -> None:
        self.req = req
        self.runs = _by_departure(req.shuttles)
        self._first: dict[tuple[str, str], list[Journey]] = {}
        self._earliest: dict[tuple[str, int, str], Journey | None] = {}

    def first_runs(self, site: str, destination: str, *, after_s: int = 0) -> list[Journey]:
        """:func:`journeys_by_first_run`, remembered by site and destination."""
        key = (site, destination)
        if key not in self._first:
            self._first[key] = journeys_by_first_run(self.runs, site, destination)
        return [j for j in self._first[key] if j.runs[0].cutoff_s >= after_s]

    def earliest(self, origin: str, at_s: int, destination: str) -> Journey | None:
        """:func:`earliest_journey`, remembered by its arguments."""
        key = (origin, at_s, destination)
        if key not in self._earliest:
            self._earliest[key] = earliest_journey(self.runs, origin, at_s, destination)
        return self._earliest[key]

    def ready_at_origin(self, job: DossierJob) -> int | None:
        """:func:`ready_at_origin`, with the journey remembered."""
        site = job.ready_site
        if site is None or site == job.origin_site:
            return job.ready_s
        if site not in self.req.sites or job.origin_site is None:
            return None
        journey = self.earliest(site, job.ready_s, job.origin_site)
        return None if journey is None else journey.reaches_s
