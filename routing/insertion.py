"""Bookable windows: can a plan still absorb one more visit in a window? (a fast check, no solve).

The hotline must promise a citizen only a window that will be kept. :func:`check_windows`
answers, for each candidate window, whether the published plan can take one more home visit
(a pickup or a return) there, by trying the visit in every gap between two consecutive stops of
every route (cheapest insertion). A gap fits when:

* the courier, leaving the stop before the gap, reaches the home and starts service inside the
  window (waiting for it to open is allowed), and the courier has not left that stop yet;
* every later stop keeps its promise once the delay is pushed along the route: a home visit its
  window, a hand-off its shuttle run's cut-off, a site its opening hours, a break its latest
  end, and the route's end its shift's end (waiting time along the way absorbs the delay, so the
  push stops where it is absorbed);
* the bag has room (capacity) while the new dossier is carried;
* a pickup is handed over at its ``handoff_site`` after it: at a hand-off stop there later on
  the route (catching the same run as that stop), or at a hand-off added just before the
  route's end (catching the first run whose cut-off it still makes, or none today);
* a return is collected at its ``origin_site`` before it: at a stop the route already makes
  there once the result is ready.

A courier of the request on no route of the plan is asked as the roster would be (below), and
one whose route is done by ``now`` waits at its end site until its shift ends.

The answer names the courier of the cheapest insertion and its extra minutes (detour travel
plus service, and the added hand-off's detour), or why no gap fits. When a day has no plan yet,
:func:`check_windows_roster` answers from the roster alone: a courier whose shift covers the
window with the ride from its start site and back.

Times are integer seconds since the plan day's midnight in Vietnam (:mod:`routing.clock`).
The times of the plan's stops are the truth for what is already promised; the travel model
prices only the legs to and from the new visit. This module imports no web or database code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np

from geo.coords import LatLon
from geo.travel import GreatCircleTravel, TravelModel
from routing.clock import hhmm, local_midnight
from routing.plan import Plan, Route, Stop
from routing.request import Courier, DossierJob, PlanRequest

__all__ = [
    "Candidate",
    "SlotAnswer",
    "check_windows",
    "check_windows_roster",
    "open_windows",
    "parse_windows",
]

NEVER = 10**9
"""A deadline that never binds (seconds)."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """The visit a citizen wants booked.

    Parameters
    ----------
    kind
        ``pickup`` (collect the dossier at home) or ``return`` (deliver the result home).
    point
        The home.
    service_s
        Service time at the home, in seconds.
    size
        Dossiers (or bags) it adds to the load.
    handoff_site
        Where a pickup is handed over.
    origin_site
        Where a return's result is collected.
    ready_s
        When a return's result is ready at ``origin_site`` (seconds; 0: already).
    """

    kind: str
    point: LatLon
    service_s: int
    size: int = 1
    handoff_site: str | None = None
    origin_site: str | None = None
    ready_s: int = 0

    def __post_init__(self) -> None:
        if self.kind not in ("pickup", "return"):
            msg = f"kind: expected 'pickup' or 'return', got {self.kind!r}."
            raise ValueError(msg)
        if self.kind == "pickup" and not self.handoff_site:
            msg = "handoff_site: a pickup needs the site where it is handed over."
            raise ValueError(msg)
        if self.kind == "return" and not self.origin_site:
            msg = "origin_site: a return needs the site where its result is collected."
            raise ValueError(msg)
        if self.service_s < 0 or self.size < 1:
            msg = "service_s must be 0 or more and size at least 1."
            raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class SlotAnswer:
    """Whether one window can still be booked, and how or why not.

    ``extra_s`` is the courier's extra working time (travel and service) of the cheapest
    insertion; ``arrive_s`` when service at the home would begin; ``run`` the shuttle run a
    pickup would catch (``None``: none today, or a return). ``reason`` is a stable code and
    ``detail`` a sentence, set only when the window is not available.
    """

    window_s: tuple[int, int]
    available: bool
    courier: str | None = None
    extra_s: int | None = None
    arrive_s: int | None = None
    run: str | None = None
    reason: str | None = None
    detail: str | None = None


def parse_windows(text: str) -> tuple[tuple[int, int], ...]:
    """Read windows written ``"08:00-10:00,10:00-12:00"`` as seconds since midnight.

    Raises
    ------
    ValueError
        If a window is not ``HH:MM-HH:MM`` or does not close after it opens.
    """
    windows = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        try:
            opens, closes = (_clock_s(x) for x in part.split("-"))
        except ValueError:
            msg = f"slot window {part!r}: expected HH:MM-HH:MM"
            raise ValueError(msg) from None
        if closes <= opens:
            msg = f"slot window {part!r}: must close after it opens"
            raise ValueError(msg)
        windows.append((opens, closes))
    if not windows:
        msg = "no slot window given: expected HH:MM-HH:MM[,HH:MM-HH:MM…]"
        raise ValueError(msg)
    return tuple(sorted(windows))


def _clock_s(text: str) -> int:
    hours, minutes = text.strip().split(":")
    h, m = int(hours), int(minutes)
    if not (0 <= h <= 24 and 0 <= m < 60) or (h == 24 and m):
        raise ValueError(text)
    return h * 3600 + m * 60


def open_windows(windows: Sequence[tuple[int, int]], now_s: int | None) -> list[tuple[int, int]]:
    """The windows that have not begun yet at ``now_s`` (``None``: a later day, all of them)."""
    return [w for w in windows if now_s is None or w[0] >= now_s]


# --- the route as timed nodes -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Node:
    """A stop of a route as the check sees it: where, when, what it must keep, the load after."""

    place: LatLon | None
    arrive: int
    begin: int
    depart: int
    deadline: int
    load: int
    site: str | None
    label: str
    shuttle: str | None = None


def _seconds(moment: datetime | None, midnight: datetime) -> int | None:
    return None if moment is None else round((moment - midnight).total_seconds())


def _stop_place(stop: Stop, request: PlanRequest) -> LatLon | None:
    if stop.point is not None:
        return stop.point
    site = request.sites.get(stop.site or "")
    return site.point if site is not None else None


def _deadline(
    stop: Stop, begin: int, request: PlanRequest, courier: Courier, jobs: Mapping[str, DossierJob]
) -> tuple[int, str]:
    """The latest time the stop may begin, and how a person names it."""
    if stop.kind in ("pickup", "delivery"):
        job = jobs.get(stop.job or "")
        return (job.window_s[1] if job else NEVER), f"{stop.kind} {stop.job}"
    if stop.kind == "end":
        return courier.shift_s[1], f"the end of {courier.id}'s shift"
    if stop.kind == "break":
        ends = [b.latest_s - b.duration_s for b in courier.breaks if b.earliest_s <= begin]
        return (max(ends) if ends else NEVER), f"{courier.id}'s break"
    site = request.sites.get(stop.site or "")
    latest = site.opening_s[1] if site is not None and site.opening_s else NEVER
    if stop.kind == "handoff" and stop.shuttle is not None:
        run = next((r for r in request.shuttles if r.id == stop.shuttle), None)
        if run is not None:
            return min(latest, run.cutoff_s), f"the hand-off for run {run.id}"
    return latest, f"the {stop.kind} at {stop.site}"


def _nodes(
    route: Route, request: PlanRequest, courier: Courier, jobs: Mapping[str, DossierJob]
) -> list[_Node]:
    midnight = local_midnight(request.day)
    nodes: list[_Node] = []
    last_place: LatLon | None = None
    for stop in route.stops:
        begin = _seconds(stop.begins, midnight)
        arrive = _seconds(stop.arrive, midnight)
        depart = _seconds(stop.depart, midnight)
        begin = begin if begin is not None else (arrive if arrive is not None else 0)
        arrive = begin if arrive is None else arrive
        depart = begin if depart is None else depart
        place = _stop_place(stop, request) or last_place
        last_place = place
        deadline, label = _deadline(stop, begin, request, courier, jobs)
        load = stop.load if stop.load is not None else (nodes[-1].load if nodes else 0)
        nodes.append(
            _Node(place, arrive, begin, depart, deadline, load, stop.site, label, stop.shuttle)
        )
    return nodes


# --- one route: where can the visit go? ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Fit:
    extra_s: int
    arrive_s: int
    run: str | None


@dataclass(frozen=True, slots=True)
class _Miss:
    reason: str
    detail: str
    reached: bool  # the home was reached inside the window: a later promise is what failed
    arrive: int = 0  # when the courier would reach the home (the latest try explains best)


class _Travel:
    """Travel seconds of one mode between the new home and the places of the routes."""

    def __init__(self, model: TravelModel, mode: str, home: LatLon, places: Sequence[LatLon]):
        self.points = [home, *dict.fromkeys(places)]
        self.index = {p: i for i, p in enumerate(self.points)}
        # Whole seconds as nested lists: read thousands of times per answer, faster than numpy.
        self.seconds: list[list[int]] = (
            np.rint(model.matrix(self.points, mode).seconds).astype(int).tolist()
        )

    def t(self, a: LatLon | None, b: LatLon | None) -> int:
        if a is None or b is None or a == b:
            return 0
        return self.seconds[self.index[a]][self.index[b]]


def _push(nodes: Sequence[_Node], first: int, arrive: int) -> _Miss | None:
    """Push a new arrival at ``nodes[first]`` along the route; the first promise broken."""
    for k in range(first, len(nodes)):
        node = nodes[k]
        begin = max(arrive, node.begin)
        if begin > node.deadline:
            if node.label.startswith("the end of"):
                detail = f"the courier would be back after {node.label} ({hhmm(node.deadline)})"
                return _Miss("shift_end", detail, reached=True)
            detail = f"{node.label} would begin after {hhmm(node.deadline)}"
            return _Miss("later_stop_late", detail, reached=True)
        delay = begin - node.begin
        if delay <= 0:
            return None
        if k + 1 < len(nodes):
            arrive = node.depart + delay + (nodes[k + 1].arrive - node.depart)
    return None


@dataclass(frozen=True, slots=True)
class _Gap:
    """Trying the visit between ``nodes[i]`` and ``nodes[i + 1]`` of one courier's route."""

    nodes: Sequence[_Node]
    i: int
    travel: _Travel
    courier: Courier
    request: PlanRequest
    visit: Candidate
    window: tuple[int, int]
    now_s: int | None = None

    def _leave(self) -> int:
        """When the courier leaves the stop before the gap: as planned, or, from the start, as
        early as the shift (and the clock) allow."""
        before = self.nodes[self.i]
        if self.i > 0:
            return before.depart
        return min(before.depart, max(self.courier.shift_s[0], self.now_s or 0))

    def try_fit(self) -> _Fit | _Miss:
        result = self._try()
        if isinstance(result, _Miss) and result.reached:
            home_at = self._leave() + self.travel.t(self.nodes[self.i].place, self.visit.point)
            return replace(result, arrive=home_at)
        return result

    def _try(self) -> _Fit | _Miss:
        nodes, i, home = self.nodes, self.i, self.visit.point
        before, after = nodes[i], nodes[i + 1]
        arrive = self._leave() + self.travel.t(before.place, home)
        begin = max(arrive, self.window[0])
        if begin > self.window[1]:
            detail = f"{self.courier.id} could reach the home at {hhmm(arrive)} at the earliest"
            return _Miss("window_unreachable", detail, reached=False)
        depart = begin + self.visit.service_s
        detour = (
            self.travel.t(before.place, home)
            + self.travel.t(home, after.place)
            - self.travel.t(before.place, after.place)
        )
        extra = max(0, detour) + self.visit.service_s
        room = self._room()
        if room is not None:
            return room
        if self.visit.kind == "return":
            return self._after(depart + self.travel.t(home, after.place), extra, begin, None)
        return self._handoff(depart, extra, begin)

    def _room(self) -> _Miss | None:
        """Capacity while the dossier is carried, and a return's collect before the gap."""
        size, cap = self.visit.size, self.courier.capacity
        if self.visit.kind == "return":
            origin = self._origin()
            if origin is None:
                detail = (
                    f"{self.courier.id} does not pass {self.visit.origin_site} after the result "
                    "is ready and before this window"
                )
                return _Miss("no_collect", detail, reached=True)
            carried = self.nodes[origin : self.i + 1]
        else:
            end = self._handoff_index()
            carried = self.nodes[self.i : (end if end is not None else len(self.nodes) - 1)]
        if any(n.load + size > cap for n in carried):
            detail = f"{self.courier.id}'s bag would hold more than {cap} dossiers"
            return _Miss("capacity", detail, reached=True)
        return None

    def _origin(self) -> int | None:
        """The latest stop at the return's origin site, before the gap, once it is ready."""
        for k in range(self.i, -1, -1):
            node = self.nodes[k]
            if node.site == self.visit.origin_site and node.depart >= self.visit.ready_s:
                return k
        return None

    def _handoff_index(self) -> int | None:
        for k in range(self.i + 1, len(self.nodes) - 1):
            if self.nodes[k].site == self.visit.handoff_site and self.nodes[k].label.startswith(
                "the hand-off"
            ):
                return k
        return None

    def _after(self, arrive_next: int, extra: int, begin: int, run: str | None) -> _Fit | _Miss:
        missed = _push(self.nodes, self.i + 1, arrive_next)
        return missed if missed is not None else _Fit(extra, begin, run)

    def _handoff(self, depart: int, extra: int, begin: int) -> _Fit | _Miss:
        """A pickup joins a later hand-off at its site, or one is added before the end."""
        home, nodes = self.visit.point, self.nodes
        arrive_next = depart + self.travel.t(home, nodes[self.i + 1].place)
        at = self._handoff_index()
        if at is not None:
            return self._after(arrive_next, extra, begin, nodes[at].shuttle)
        return self._added_handoff(depart, arrive_next, extra, begin)

    def _added_handoff(self, depart: int, arrive_next: int, extra: int, begin: int) -> _Fit | _Miss:
        """Push the route up to its last stop, then hand over at the site before the end."""
        nodes, last = self.nodes, len(self.nodes) - 1
        site = self.request.sites[str(self.visit.handoff_site)]
        leave = depart
        place_before: LatLon | None = self.visit.point
        if self.i + 1 < last:
            missed = _push(nodes[:last], self.i + 1, arrive_next)
            if missed is not None:
                return missed
            delay = _delay(nodes[:last], self.i + 1, arrive_next)
            leave, place_before = nodes[last - 1].depart + delay, nodes[last - 1].place
        at_site = leave + self.travel.t(place_before, site.point)
        opens, closes = site.opening_s or (0, NEVER)
        start = max(at_site, opens)
        if start > closes:
            detail = f"{site.id} would be closed when the dossier reached it"
            return _Miss("handoff_closed", detail, reached=True)
        back = start + self.request.site_service_s + self.travel.t(site.point, nodes[last].place)
        if back > self.courier.shift_s[1]:
            detail = (
                f"the courier would be back after the end of {self.courier.id}'s shift "
                f"({hhmm(self.courier.shift_s[1])})"
            )
            return _Miss("shift_end", detail, reached=True)
        added = (
            self.travel.t(place_before, site.point)
            + self.request.site_service_s
            + self.travel.t(site.point, nodes[last].place)
            - self.travel.t(place_before, nodes[last].place)
        )
        run = _first_run(self.request, site.id, start)
        return _Fit(extra + max(0, added), begin, run)


def _first_run(request: PlanRequest, site: str | None, handed_s: int) -> str | None:
    """The first shuttle run from ``site`` whose cut-off a dossier handed over then makes."""
    runs = [r for r in request.shuttles if r.from_site == site and r.cutoff_s >= handed_s]
    return min(runs, key=lambda r: r.cutoff_s).id if runs else None


def _delay(nodes: Sequence[_Node], first: int, arrive: int) -> int:
    """How late the last of ``nodes`` departs once a new arrival at ``nodes[first]`` is pushed."""
    delay = 0
    for k in range(first, len(nodes)):
        node = nodes[k]
        delay = max(arrive, node.begin) - node.begin
        if delay <= 0:
            return 0
        if k + 1 < len(nodes):
            arrive = node.depart + delay + (nodes[k + 1].arrive - node.depart)
    return delay


# --- every route, every window -------------------------------------------------------------


def _best(answers: Sequence[tuple[str, _Fit | _Miss]], window: tuple[int, int]) -> SlotAnswer:
    fits = [(fit.extra_s, courier, fit) for courier, fit in answers if isinstance(fit, _Fit)]
    if fits:
        extra, courier, fit = min(fits, key=lambda x: (x[0], x[1]))
        return SlotAnswer(window, True, courier, extra, fit.arrive_s, fit.run)
    misses = [m for _, m in answers if isinstance(m, _Miss)]
    reached = [m for m in misses if m.reached]
    if reached:
        miss = max(reached, key=lambda m: m.arrive)
    elif misses:
        detail = "no courier can reach the home inside this window from where its route is then"
        miss = _Miss("window_unreachable", detail, reached=False)
    else:
        miss = _Miss(
            "no_route", "no courier's route can take a visit in this window", reached=False
        )
    return SlotAnswer(window, False, reason=miss.reason, detail=miss.detail)


def check_windows(
    plan: Plan,
    request: PlanRequest,
    visit: Candidate,
    windows: Sequence[tuple[int, int]],
    *,
    now_s: int | None = None,
    travel: TravelModel | None = None,
) -> list[SlotAnswer]:
    """Answer, for each window, whether the plan can absorb ``visit`` there (no solve).

    Parameters
    ----------
    plan
        The day's published plan.
    request
        The plan request it answers (sites, shuttles, couriers and the jobs' windows).
    visit
        The home visit to book.
    windows
        Candidate windows, seconds since the plan day's midnight.
    now_s
        The current time on the plan's day (seconds): a courier who has already left a stop
        cannot come back to insert a visit after it. ``None``: the day has not begun.
    travel
        The travel model of the plan (default: the optimizer's great-circle model).

    Returns
    -------
    list of SlotAnswer
        One per window, in order.

    Raises
    ------
    ValueError
        If the visit's hand-off or origin site is not a site of the request.
    """
    for site in (visit.handoff_site, visit.origin_site):
        if site is not None and site not in request.sites:
            msg = f"unknown site {site!r}: not a site of the day's plan"
            raise ValueError(msg)
    model = travel or GreatCircleTravel()
    couriers = {c.id: c for c in request.couriers}
    jobs = {j.id: j for j in request.jobs}
    routes = []
    for route in plan.routes:
        courier = couriers.get(route.courier)
        if courier is not None and len(route.stops) >= 2:
            routes.append((courier, _nodes(route, request, courier, jobs)))
    routed = {courier.id for courier, _ in routes}
    idle = [c for c in request.couriers if c.id not in routed]  # on the roster, on no route
    places = _places(routes, request, visit)
    tables = {
        mode: _Travel(model, mode, visit.point, places)
        for mode in sorted({courier.mode for courier, _ in routes})
    }
    answers = []
    for window in windows:
        tried: list[tuple[str, _Fit | _Miss]] = []
        for courier, nodes in routes:
            for i in range(len(nodes) - 1):
                gap_nodes = nodes
                if now_s is not None and nodes[i].depart < now_s:
                    if i < len(nodes) - 2:
                        continue
                    gap_nodes = _back_at_end(nodes, now_s)  # its route done: it waits at the end
                if i > 0 and gap_nodes[i].depart > window[1]:
                    # The courier leaves this stop, and every later one, after the window.
                    tried.append((courier.id, _Miss("window_unreachable", "", reached=False)))
                    break
                table = tables[courier.mode]
                gap = _Gap(gap_nodes, i, table, courier, request, visit, window, now_s)
                tried.append((courier.id, gap.try_fit()))
        for courier in idle:
            fit = _roster_fit(courier, request, visit, window=window, now_s=now_s, model=model)
            tried.append((courier.id, fit))
        answers.append(_best(tried, window))
    return answers


def _back_at_end(nodes: Sequence[_Node], now_s: int) -> list[_Node]:
    """The route as it stands once its last stop is done: the courier at its end site, free
    from its arrival there (or now, if later) until the end of its shift."""
    end = nodes[-1]
    free = max(end.arrive, now_s)
    waiting = replace(end, arrive=free, begin=free, depart=free, deadline=NEVER, label="back")
    return [*nodes[:-2], waiting, end]


def _places(
    routes: Sequence[tuple[Courier, Sequence[_Node]]], request: PlanRequest, visit: Candidate
) -> list[LatLon]:
    places = [n.place for _, nodes in routes for n in nodes if n.place is not None]
    if visit.handoff_site is not None:
        places.append(request.sites[visit.handoff_site].point)
    return places


def check_windows_roster(
    request: PlanRequest,
    visit: Candidate,
    windows: Sequence[tuple[int, int]],
    *,
    now_s: int | None = None,
    travel: TravelModel | None = None,
) -> list[SlotAnswer]:
    """Answer each window from the roster alone (a day with no plan yet).

    A courier can take the visit when, riding from its start site at the start of its shift
    (or now, if later), it reaches the home before the window closes, and after the service
    (and, for a pickup, the hand-off at its site) it is back at its end site before the shift
    ends. Breaks are not counted: the day's plan fits them around the visits. The cheapest
    courier is the one with the shortest round trip.

    Raises
    ------
    ValueError
        If a site of the visit or of a courier is not in the request.
    """
    model = travel or GreatCircleTravel()
    sites = request.sites
    for site in (visit.handoff_site, visit.origin_site):
        if site is not None and site not in sites:
            msg = f"unknown site {site!r}: not a site of the stored roster"
            raise ValueError(msg)
    answers = []
    for window in windows:
        tried: list[tuple[str, _Fit | _Miss]] = [
            (c.id, _roster_fit(c, request, visit, window=window, now_s=now_s, model=model))
            for c in request.couriers
        ]
        answers.append(_best(tried, window))
    return answers


def _roster_fit(
    courier: Courier,
    request: PlanRequest,
    visit: Candidate,
    *,
    window: tuple[int, int],
    now_s: int | None,
    model: TravelModel,
) -> _Fit | _Miss:
    sites = request.sites
    start, end, home = sites[courier.start_site].point, sites[courier.end_site].point, visit.point
    legs = [start, home]
    if visit.kind == "pickup":
        legs.append(sites[str(visit.handoff_site)].point)
    elif visit.origin_site is not None and visit.origin_site != courier.start_site:
        legs = [start, sites[visit.origin_site].point, home]
    home_at = len(legs) - 1 if visit.kind == "return" else 1
    legs.append(end)
    seconds = model.matrix(legs, courier.mode).seconds
    hops = [round(float(seconds[k, k + 1])) for k in range(len(legs) - 1)]
    leave = max(courier.shift_s[0], now_s or 0)
    if visit.kind == "return":
        leave = max(leave, visit.ready_s - sum(hops[: max(0, home_at - 1)]))
    arrive = leave + sum(hops[:home_at])
    begin = max(arrive, window[0])
    if begin > window[1]:
        detail = f"{courier.id} could reach the home at {hhmm(arrive)} at the earliest"
        return _Miss("window_unreachable", detail, reached=False)
    handed = begin + visit.service_s + hops[home_at]  # at the hand-off site (a pickup)
    site_s = request.site_service_s if visit.kind == "pickup" else 0
    back = begin + visit.service_s + sum(hops[home_at:]) + site_s
    if back > courier.shift_s[1]:
        detail = (
            f"the courier would be back after the end of {courier.id}'s shift "
            f"({hhmm(courier.shift_s[1])})"
        )
        return _Miss("shift_end", detail, reached=True)
    run = _first_run(request, visit.handoff_site, handed) if visit.kind == "pickup" else None
    return _Fit(sum(hops) + visit.service_s + site_s, begin, run)
