"""The one module that speaks OR-Tools: a :class:`~routing.model.Problem` in, a Solution out.

The choice between OR-Tools and PyVRP is made in :mod:`routing.engines`; this module builds and
searches OR-Tools' model only. :func:`solve` builds it in named stages, each a method of
:class:`_RoutingModel`, called in this order (the order of OR-Tools calls is part of the model:
the same order gives the same plans for the same limits):

1. **nodes**: one routing node per visit of a job some vehicle can make, then one node per
   distinct start/end location;
2. **transits**: travel plus service seconds, with service shared along runs of visits of one
   group, and arc costs of travel seconds and metres plus the cost of the visit left;
3. **dimensions**: time (seconds, waiting allowed) within each vehicle's shift, and load with each
   vehicle's capacity and initial load;
4. **visit rules**: time windows, the soft pull to serve early, the preferred vehicle of a
   re-planned visit, skills and allowed vehicles;
5. **disjunctions**: one per job step (a penalty when the job may be dropped, at most one
   alternative visited), and pickup-and-delivery pairs (or sets, when a step has alternatives) on
   the same vehicle, in order;
6. **breaks**: fixed-duration interval variables (``SetBreakIntervalsOfVehicle``) inside the day;
7. **search**: OR-Tools' first solution strategy and metaheuristic under a time limit and,
   if given, a solution limit;
8. **read-back**: routes re-timed as early as they go (:func:`earliest_schedule`), and the jobs
   left out.

OR-Tools aborts the process on a model without vehicles, so such a problem is answered here
without building a model.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from routing.model import Job, Problem, Progress, Route, RouteStep, Solution, SolveParams

# Above this many routing nodes, transits are answered by Python callbacks over the location
# matrices instead of full node-by-node matrices (which would need n² memory).
_MATRIX_NODE_LIMIT = 1500
# Above this many nodes, insertion and local search consider only this many nearest neighbours.
_NEIGHBOUR_NODES = 200
# Break interval variables are named ``brk:<vehicle>:<break>`` so the read-back finds them.
_BREAK_PREFIX = "brk"

# Transit callback indices by travel profile name.
_Callbacks = dict[str, int]


def _strategy(name: str) -> int:
    try:
        return int(getattr(routing_enums_pb2.FirstSolutionStrategy, name))
    except AttributeError:
        msg = f"first_solution: unknown OR-Tools strategy {name!r}."
        raise ValueError(msg) from None


def _metaheuristic(name: str) -> int:
    try:
        return int(getattr(routing_enums_pb2.LocalSearchMetaheuristic, name))
    except AttributeError:
        msg = f"metaheuristic: unknown OR-Tools metaheuristic {name!r}."
        raise ValueError(msg) from None


def servable_jobs(problem: Problem) -> list[int]:
    """Return the jobs some vehicle could make, refusing a mandatory job that none can.

    Raises
    ------
    ValueError
        If a mandatory job cannot be made by any vehicle (skills or allowed vehicles).
    """
    servable: list[int] = []
    n_veh = len(problem.vehicles)
    for j, job in enumerate(problem.jobs):
        if n_veh > 0 and any(
            all(any(problem.can_serve(k, v) for v in step) for step in job.steps)
            for k in range(n_veh)
        ):
            servable.append(j)
        elif job.penalty is None:
            msg = f"Job {job.name!r} is mandatory but no vehicle can make it."
            raise ValueError(msg)
    return servable


def nothing_served(problem: Problem, runtime_s: float, found: int, status: str) -> Solution:
    """Return the answer that leaves every job out."""
    return Solution((), tuple(range(len(problem.jobs))), 0, runtime_s, found, status)


def earliest_schedule(
    problem: Problem,
    vehicle: int,
    steps: list[RouteStep],
    *,
    breaks: list[tuple[int, int, int]],
    depart_s: int,
    end_s: int,
) -> Route:
    """Re-time a route's fixed sequence of visits and breaks as early as it can go.

    The solver's times are feasible but may sit anywhere in their slack. For the same order of
    visits, and each break kept between the same two visits, serving every visit as early as
    possible is feasible too and never later than the solver's times (by induction along the
    route), so every window, cut-off and break window still holds. The vehicle then leaves its
    start as late as that first service allows, rather than wait on a doorstep.

    Parameters
    ----------
    problem, vehicle
        The problem and the route's vehicle index.
    steps
        The visits in order with the solver's service start times.
    breaks
        ``(start_s, duration_s, index into the vehicle's breaks)`` as the solver placed them.
    depart_s, end_s
        The solver's departure from the start and arrival at the end.
    """
    veh = problem.vehicles[vehicle]
    sec = problem.profiles[veh.profile].seconds
    # Each break goes before the first visit whose service starts after the break ends.
    before: dict[int, list[tuple[int, int, int]]] = {}
    for brk in breaks:
        at = next((i for i, st in enumerate(steps) if st.start_s >= brk[0] + brk[1]), len(steps))
        before.setdefault(at, []).append(brk)
    out_steps: list[RouteStep] = []
    out_breaks: list[tuple[int, int]] = []
    t = veh.shift.early_s
    if steps and 0 not in before:
        first = problem.visits[steps[0].visit]
        leg = int(sec[veh.start, first.location])
        t = max(t, first.window.early_s - leg)
    depart = t
    prev_loc, prev_visit = veh.start, None
    for i in range(len(steps) + 1):
        if prev_visit is not None:
            pv = problem.visits[prev_visit]
            nxt = problem.visits[steps[i].visit] if i < len(steps) else None
            shared = nxt is not None and pv.group and pv.group == nxt.group
            t += 0 if shared else pv.service_s
        # The leg to the next stop, with its breaks. The courier rides while it would otherwise
        # wait for a break to open, so a break never starts later than the solver put it and
        # the courier never arrives later than riding first and resting after would allow.
        to = veh.end if i == len(steps) else problem.visits[steps[i].visit].location
        ride = int(sec[prev_loc, to])
        for _, dur, b in sorted(before.get(i, [])):
            early = veh.breaks[b].window.early_s
            ahead = min(ride, max(0, early - t))
            ride -= ahead
            start = max(t + ahead, early)
            out_breaks.append((start, dur))
            t = start + dur
        if i == len(steps):
            t += ride
            if t > end_s:  # never happens for a feasible route; keep the solver's times
                return Route(
                    vehicle, depart_s, tuple(steps), tuple((s, d) for s, d, _ in breaks), end_s
                )
            break
        vis = problem.visits[steps[i].visit]
        t = max(t + ride, vis.window.early_s)
        if t > steps[i].start_s:  # never happens for a feasible route; keep the solver's times
            return Route(
                vehicle, depart_s, tuple(steps), tuple((s, d) for s, d, _ in breaks), end_s
            )
        out_steps.append(RouteStep(steps[i].visit, t, steps[i].load))
        prev_loc, prev_visit = vis.location, steps[i].visit
    return Route(vehicle, depart, tuple(out_steps), tuple(out_breaks), max(t, veh.shift.early_s))


def solve(
    problem: Problem,
    params: SolveParams | None = None,
    *,
    on_progress: Callable[[Progress], None] | None = None,
    began: float | None = None,
) -> Solution:
    """Solve a routing problem with OR-Tools.

    Callers who want PyVRP for the plain problems it expresses exactly call
    :func:`routing.engines.solve`, which comes here for every other problem.

    Parameters
    ----------
    problem
        The validated problem.
    params
        Time limit (seconds), solution limit, first solution strategy, metaheuristic.
    on_progress
        Called with a :class:`~routing.model.Progress` at each improving solution.
    began
        ``time.monotonic()`` when the caller started the clock that ``params.time_limit_s``
        counts from (another engine may have used part of it); now when not given.
        ``params.initial_routes`` is a warm start (a plan adjusted by hand, a lent courier's
        route): routes the model refuses (a broken window, a visit now locked elsewhere) are
        ignored and the search starts from its first-solution strategy instead.

    Returns
    -------
    Solution
        Routes of the vehicles that leave their start, and the jobs left out. ``status`` is
        ``"solved"`` or ``"no_solution"`` (then every job is left out).

    Raises
    ------
    ValueError
        If a mandatory job cannot be made by any vehicle, or a parameter is unknown.
    """
    params = params or SolveParams()
    began = time.monotonic() if began is None else began
    servable = servable_jobs(problem)
    if not problem.vehicles or not servable:
        return nothing_served(problem, 0.0, 0, "solved")
    first, meta = _strategy(params.first_solution), _metaheuristic(params.metaheuristic)
    model = _RoutingModel(problem, _nodes(problem, servable))
    time_cb, cost_cb = model.add_transits()
    model.set_arc_costs(cost_cb)
    model.add_dimensions(time_cb)
    model.add_visit_rules()
    model.add_disjunctions(servable)
    model.add_breaks()
    model.add_finalizers()
    search = _search_parameters(params, first, meta, began, len(model.nodes.location))
    start = model.initial_assignment(params.initial_routes, search)
    assignment, found = model.search(search, began, on_progress, start)
    runtime = time.monotonic() - began
    if assignment is None:
        return nothing_served(problem, runtime, found, "no_solution")
    return model.read_back(assignment, runtime, found)


@dataclass(frozen=True, slots=True)
class _Nodes:
    """The routing nodes: the visits of servable jobs, then one node per start/end location.

    Lists are indexed by node; a start/end node has visit ``-1``, no service, group, cost or
    demand.
    """

    visit: list[int]
    location: list[int]
    of_visit: dict[int, int]
    of_depot: dict[int, int]  # location → its start/end node
    service: list[int]
    group: list[str]
    cost: list[int]
    demand: list[int]


def _nodes(problem: Problem, servable: list[int]) -> _Nodes:
    """Stage 1: number the routing nodes."""
    node_visit: list[int] = []
    of_visit: dict[int, int] = {}
    for j in servable:
        for v in problem.jobs[j].visits:
            of_visit[v] = len(node_visit)
            node_visit.append(v)
    location = [problem.visits[v].location for v in node_visit]
    of_depot: dict[int, int] = {}
    for veh in problem.vehicles:
        for loc in (veh.start, veh.end):
            if loc not in of_depot:
                of_depot[loc] = len(location)
                location.append(loc)
                node_visit.append(-1)
    visits = [problem.visits[v] if v >= 0 else None for v in node_visit]
    return _Nodes(
        visit=node_visit,
        location=location,
        of_visit=of_visit,
        of_depot=of_depot,
        service=[vis.service_s if vis else 0 for vis in visits],
        group=[vis.group if vis else "" for vis in visits],
        cost=[vis.cost if vis else 0 for vis in visits],
        demand=[vis.demand if vis else 0 for vis in visits],
    )


def _penalties(job: Job) -> list[int | None]:
    """Split a droppable job's penalty over its steps (the first takes the remainder)."""
    n = len(job.steps)
    if job.penalty is None:
        return [None] * n
    share = job.penalty // n
    return [job.penalty - share * (n - 1), *[share] * (n - 1)]


def _search_parameters(
    params: SolveParams, first: int, meta: int, began: float, n_nodes: int
) -> object:
    """Stage 7, its knobs: strategy, metaheuristic, the time left, the solution limit."""
    search = pywrapcp.DefaultRoutingSearchParameters()
    search.first_solution_strategy = first
    search.local_search_metaheuristic = meta
    left = max(0.01, params.time_limit_s - (time.monotonic() - began))
    search.time_limit.FromMilliseconds(int(left * 1000))
    search.log_search = params.log_search
    if params.solution_limit is not None:
        search.solution_limit = params.solution_limit
    if n_nodes > _NEIGHBOUR_NODES:
        # Large days: let insertion heuristics look at the nearest candidates only.
        ratio = _NEIGHBOUR_NODES / n_nodes
        search.global_cheapest_insertion_first_solution_parameters.neighbors_ratio = ratio
        search.global_cheapest_insertion_first_solution_parameters.min_neighbors = 20
        search.global_cheapest_insertion_ls_operator_parameters.neighbors_ratio = ratio
        search.global_cheapest_insertion_ls_operator_parameters.min_neighbors = 20
        search.ls_operator_neighbors_ratio = ratio
        search.ls_operator_min_neighbors = 20
    return search


class _RoutingModel:
    """OR-Tools' model of one problem; :func:`solve` calls one method per stage, in order."""

    def __init__(self, problem: Problem, nodes: _Nodes) -> None:
        self.problem = problem
        self.nodes = nodes
        self.manager = pywrapcp.RoutingIndexManager(
            len(nodes.location),
            len(problem.vehicles),
            [nodes.of_depot[v.start] for v in problem.vehicles],
            [nodes.of_depot[v.end] for v in problem.vehicles],
        )
        self.routing = pywrapcp.RoutingModel(self.manager)
        self.solver = self.routing.solver()
        self._time: pywrapcp.RoutingDimension | None = None
        # Python transit callbacks must outlive the search: OR-Tools keeps no reference.
        self._keep_alive: list[object] = []

    @property
    def time(self) -> pywrapcp.RoutingDimension:
        """The time dimension (seconds), once :meth:`add_dimensions` has added it."""
        if self._time is None:  # OR-Tools would abort the process on a missing dimension
            msg = "The time dimension is read before add_dimensions() added it."
            raise RuntimeError(msg)
        return self._time

    def add_transits(self) -> tuple[_Callbacks, _Callbacks]:
        """Stage 2: register the time and cost transits of each travel profile.

        Time is travel plus the service of the node left (none between visits of one group);
        cost is weighted travel seconds and metres plus the cost of the visit left.
        """
        if len(self.nodes.location) <= _MATRIX_NODE_LIMIT:
            return self._matrix_transits()
        return self._callback_transits()

    def _matrix_transits(self) -> tuple[_Callbacks, _Callbacks]:
        nodes, weights = self.nodes, self.problem.weights
        locs = np.asarray(nodes.location, dtype=np.int64)
        group_ids: dict[str, int] = {}
        groups = np.asarray(
            [group_ids.setdefault(g, len(group_ids) + 1) if g else 0 for g in nodes.group],
            dtype=np.int64,
        )
        same_group = (groups[:, None] == groups[None, :]) & (groups[:, None] > 0)
        service = np.where(same_group, 0, np.asarray(nodes.service, dtype=np.int64)[:, None])
        visit_cost = np.asarray(nodes.cost, dtype=np.int64)[:, None]
        time_cb: _Callbacks = {}
        cost_cb: _Callbacks = {}
        for name, prof in self.problem.profiles.items():
            sec = prof.seconds[np.ix_(locs, locs)]
            met = prof.metres[np.ix_(locs, locs)]
            cost = weights.per_second * sec + weights.per_metre * met + visit_cost
            time_cb[name] = self.routing.RegisterTransitMatrix((sec + service).tolist())
            cost_cb[name] = self.routing.RegisterTransitMatrix(cost.tolist())
        return time_cb, cost_cb

    def _callback_transits(self) -> tuple[_Callbacks, _Callbacks]:
        # Node-by-node matrices would need n² memory: answer from the location matrices.
        group, service, location, visit_cost = (
            self.nodes.group,
            self.nodes.service,
            self.nodes.location,
            self.nodes.cost,
        )
        n_loc = self.problem.num_locations
        ws, wm = self.problem.weights.per_second, self.problem.weights.per_metre
        size = self.routing.Size() + self.routing.vehicles()
        index_node = [self.manager.IndexToNode(i) for i in range(size)]
        time_cb: _Callbacks = {}
        cost_cb: _Callbacks = {}
        for name, prof in self.problem.profiles.items():
            sec_flat: list[int] = prof.seconds.ravel().tolist()
            met_flat: list[int] = prof.metres.ravel().tolist()

            def time_of(a: int, b: int, sec: list[int] = sec_flat) -> int:
                i, j = index_node[a], index_node[b]
                s = 0 if group[i] and group[i] == group[j] else service[i]
                return int(sec[location[i] * n_loc + location[j]] + s)

            def cost_of(
                a: int, b: int, sec: list[int] = sec_flat, met: list[int] = met_flat
            ) -> int:
                i, j = index_node[a], index_node[b]
                k = location[i] * n_loc + location[j]
                return int(ws * sec[k] + wm * met[k] + visit_cost[i])

            self._keep_alive.extend((time_of, cost_of))
            time_cb[name] = self.routing.RegisterTransitCallback(time_of)
            cost_cb[name] = self.routing.RegisterTransitCallback(cost_of)
        return time_cb, cost_cb

    def set_arc_costs(self, cost_cb: _Callbacks) -> None:
        """Stage 2, its costs: each vehicle's arc cost and fixed cost."""
        for k, veh in enumerate(self.problem.vehicles):
            self.routing.SetArcCostEvaluatorOfVehicle(cost_cb[veh.profile], k)
            if veh.fixed_cost:
                self.routing.SetFixedCostOfVehicle(veh.fixed_cost, k)

    def add_dimensions(self, time_cb: _Callbacks) -> None:
        """Stage 3: time within each shift (waiting allowed), load from each initial load."""
        routing, vehicles = self.routing, self.problem.vehicles
        horizon = self.problem.horizon_s
        routing.AddDimensionWithVehicleTransits(
            [time_cb[v.profile] for v in vehicles], horizon, horizon, False, "time"
        )
        demand_cb = routing.RegisterUnaryTransitVector(self.nodes.demand)
        capacities = [max(v.capacity, v.initial_load) for v in vehicles]
        routing.AddDimensionWithVehicleCapacity(demand_cb, 0, capacities, False, "load")
        self._time = routing.GetDimensionOrDie("time")
        time_dim, load_dim = self.time, routing.GetDimensionOrDie("load")
        for k, veh in enumerate(vehicles):
            start, end = routing.Start(k), routing.End(k)
            time_dim.CumulVar(start).SetRange(veh.shift.early_s, veh.shift.late_s)
            time_dim.CumulVar(end).SetRange(veh.shift.early_s, veh.shift.late_s)
            load_dim.CumulVar(start).SetValue(veh.initial_load)

    def add_visit_rules(self) -> None:
        """Stage 4: windows, the pull to serve early, preferred and allowed vehicles."""
        problem, routing, time_dim = self.problem, self.routing, self.time
        n_veh = len(problem.vehicles)
        for node, v in enumerate(self.nodes.visit):
            if v < 0:
                continue
            idx = self.manager.NodeToIndex(node)
            vis = problem.visits[v]
            time_dim.CumulVar(idx).SetRange(vis.window.early_s, vis.window.late_s)
            if problem.early_service:
                time_dim.SetCumulVarSoftUpperBound(idx, vis.window.early_s, 1)
            if vis.preferred_vehicle is not None and vis.move_cost > 0:
                routing.AddSoftSameVehicleConstraint(
                    [routing.Start(vis.preferred_vehicle), idx], vis.move_cost
                )
            allowed = [k for k in range(n_veh) if problem.can_serve(k, v)]
            if len(allowed) < n_veh:
                # SetAllowedVehiclesForIndex does not take a Python list in 9.15; restrict the
                # vehicle variable instead (-1 keeps the visit droppable, as a disjunction needs).
                routing.VehicleVar(idx).SetValues([-1, *allowed])

    def add_disjunctions(self, servable: list[int]) -> None:
        """Stage 5: a disjunction per job step, and each two-step job's pickup before delivery."""
        for j in servable:
            job = self.problem.jobs[j]
            steps = [
                [self.manager.NodeToIndex(self.nodes.of_visit[v]) for v in step]
                for step in job.steps
            ]
            disjunctions = [
                self._step_disjunction(indices, penalty)
                for indices, penalty in zip(steps, _penalties(job), strict=True)
            ]
            if len(steps) == 2:
                self._pickup_then_delivery(steps, disjunctions)

    def _step_disjunction(self, indices: list[int], penalty: int | None) -> int:
        """Droppable at ``penalty``, or one of mandatory alternatives; -1 for a single
        mandatory visit, which needs no disjunction."""
        if penalty is not None:
            return int(self.routing.AddDisjunction(indices, penalty, 1))
        return int(self.routing.AddDisjunction(indices)) if len(indices) > 1 else -1

    def _pickup_then_delivery(self, steps: list[list[int]], disjunctions: list[int]) -> None:
        routing, solver = self.routing, self.solver
        first, second = steps
        if len(first) == 1 and len(second) == 1:
            p, d = first[0], second[0]
            routing.AddPickupAndDelivery(p, d)
            solver.Add(routing.VehicleVar(p) == routing.VehicleVar(d))
            solver.Add(self.time.CumulVar(p) <= self.time.CumulVar(d))
            return
        if -1 in disjunctions:  # a mandatory single-visit step: give it a disjunction of its own
            disjunctions = [
                int(routing.AddDisjunction(ix)) if dj == -1 else dj
                for ix, dj in zip(steps, disjunctions, strict=True)
            ]
        routing.AddPickupAndDeliverySets(disjunctions[0], disjunctions[1])

    def add_breaks(self) -> None:
        """Stage 6: each vehicle's breaks as intervals between leaving its start and its end."""
        routing, solver, time_dim = self.routing, self.solver, self.time
        visit_transit = [
            self.nodes.service[self.manager.IndexToNode(i)] for i in range(routing.Size())
        ]
        for k, veh in enumerate(self.problem.vehicles):
            if not veh.breaks:
                continue
            intervals = [
                solver.FixedDurationIntervalVar(
                    b.window.early_s,
                    b.window.late_s - b.duration_s,
                    b.duration_s,
                    False,
                    f"{_BREAK_PREFIX}:{k}:{i}",
                )
                for i, b in enumerate(veh.breaks)
            ]
            time_dim.SetBreakIntervalsOfVehicle(intervals, k, visit_transit)
            for iv in intervals:
                solver.Add(iv.StartExpr() >= time_dim.CumulVar(routing.Start(k)))
                solver.Add(iv.EndExpr() <= time_dim.CumulVar(routing.End(k)))

    def add_finalizers(self) -> None:
        """Stage 6, its end: every service as early as it can be, and each day's end as early."""
        time_dim = self.time
        for node, v in enumerate(self.nodes.visit):
            if v >= 0:
                idx = self.manager.NodeToIndex(node)
                self.routing.AddVariableMinimizedByFinalizer(time_dim.CumulVar(idx))
        for k in range(len(self.problem.vehicles)):
            self.routing.AddVariableMinimizedByFinalizer(time_dim.CumulVar(self.routing.End(k)))

    def initial_assignment(
        self, routes: Sequence[Sequence[int]] | None, search: object
    ) -> pywrapcp.Assignment | None:
        """Stage 7, a known solution to start from: each vehicle's visits, or ``None`` when
        none is given, a visit is not routable, or OR-Tools finds the routes infeasible."""
        if routes is None or len(routes) != len(self.problem.vehicles):
            return None
        # Visits of jobs that cannot be served (no node) are left out of the start.
        of_visit = self.nodes.of_visit
        index_routes = [
            [self.manager.NodeToIndex(of_visit[v]) for v in visits if v in of_visit]
            for visits in routes
        ]
        self.routing.CloseModelWithParameters(search)
        start: pywrapcp.Assignment | None = self.routing.ReadAssignmentFromRoutes(
            index_routes, True
        )
        return start

    def search(
        self,
        search: object,
        began: float,
        on_progress: Callable[[Progress], None] | None,
        start: pywrapcp.Assignment | None = None,
    ) -> tuple[pywrapcp.Assignment | None, int]:
        """Stage 7: search, reporting each improving cost; return the best found and a count.

        From ``start`` when given (a known solution); from the first solution strategy when
        there is none, or when the search from ``start`` found nothing."""
        found = 0
        best = -1

        def at_solution() -> None:
            nonlocal found, best
            found += 1
            cost = int(self.routing.CostVar().Value())
            if best < 0 or cost < best:
                best = cost
                if on_progress is not None:
                    elapsed = time.monotonic() - began
                    on_progress(Progress(elapsed_s=elapsed, best_cost=cost, solutions=found))

        self.routing.AddAtSolutionCallback(at_solution)
        assignment = None
        if start is not None:
            assignment = self.routing.SolveFromAssignmentWithParameters(start, search)
        if assignment is None:
            assignment = self.routing.SolveWithParameters(search)
        return assignment, found

    def read_back(self, assignment: pywrapcp.Assignment, runtime_s: float, found: int) -> Solution:
        """Stage 8: the routes of vehicles that leave (or carry a load), re-timed early."""
        taken = self._breaks_taken(assignment)
        routes: list[Route] = []
        served: set[int] = set()
        for k, veh in enumerate(self.problem.vehicles):
            depart_s, steps, end_s = self._visits_of(k, assignment)
            served.update(step.visit for step in steps)
            if steps or veh.initial_load:
                breaks = sorted(taken.get(k, []))
                routes.append(
                    earliest_schedule(
                        self.problem, k, steps, breaks=breaks, depart_s=depart_s, end_s=end_s
                    )
                )
        dropped = tuple(
            j for j, job in enumerate(self.problem.jobs) if not any(v in served for v in job.visits)
        )
        cost = int(assignment.ObjectiveValue())
        return Solution(tuple(routes), dropped, cost, runtime_s, found, "solved")

    def _breaks_taken(
        self, assignment: pywrapcp.Assignment
    ) -> dict[int, list[tuple[int, int, int]]]:
        """``vehicle → [(start_s, duration_s, break index)]`` of the breaks performed."""
        taken: dict[int, list[tuple[int, int, int]]] = {}
        intervals = assignment.IntervalVarContainer()
        for i in range(intervals.Size()):
            element = intervals.Element(i)
            name = element.Var().Name()
            if name.startswith(f"{_BREAK_PREFIX}:") and element.PerformedValue():
                _, k, b = name.split(":")
                start_duration = (element.StartValue(), element.DurationValue())
                taken.setdefault(int(k), []).append((*start_duration, int(b)))
        return taken

    def _visits_of(
        self, k: int, assignment: pywrapcp.Assignment
    ) -> tuple[int, list[RouteStep], int]:
        """Vehicle ``k``'s departure, visits in order with the solver's times, and arrival."""
        routing, time_dim = self.routing, self.time
        index = routing.Start(k)
        depart_s = int(assignment.Value(time_dim.CumulVar(index)))
        index = assignment.Value(routing.NextVar(index))
        steps: list[RouteStep] = []
        load = self.problem.vehicles[k].initial_load
        while not routing.IsEnd(index):
            v = self.nodes.visit[self.manager.IndexToNode(index)]
            load += self.problem.visits[v].demand
            steps.append(RouteStep(v, int(assignment.Value(time_dim.CumulVar(index))), load))
            index = assignment.Value(routing.NextVar(index))
        return depart_s, steps, int(assignment.Value(time_dim.CumulVar(index)))
