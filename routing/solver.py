"""The one module that speaks OR-Tools: a :class:`~routing.model.Problem` in, a Solution out.

The model: one routing node per visit plus one node per distinct start/end location; a time
dimension (seconds, waiting allowed) whose transits are travel plus service, with service shared
along runs of visits of one group; a load dimension with each vehicle's capacity and initial load;
a disjunction per job step (penalty when the job may be dropped, at most one alternative visited);
pickup-and-delivery pairs (or sets, when a step has alternatives) on the same vehicle, in order;
breaks as fixed-duration interval variables (``SetBreakIntervalsOfVehicle``); skills and allowed
vehicles via ``SetAllowedVehiclesForIndex``; arc costs of travel seconds and metres plus the cost
of the visit left. OR-Tools aborts the process on a model without vehicles, so such a problem is
answered here without building a model.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from routing import engine_pyvrp
from routing.model import Problem, Progress, Route, RouteStep, Solution, SolveParams

# Above this many routing nodes, transits are answered by Python callbacks over the location
# matrices instead of full node-by-node matrices (which would need n² memory).
_MATRIX_NODE_LIMIT = 1500
# Above this many nodes, insertion and local search consider only this many nearest neighbours.
_NEIGHBOUR_NODES = 200


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


def _servable_jobs(problem: Problem) -> tuple[list[int], list[int]]:
    """Split job indices into those some vehicle could make and those none can."""
    ok: list[int] = []
    never: list[int] = []
    n_veh = len(problem.vehicles)
    for j, job in enumerate(problem.jobs):
        fine = n_veh > 0 and any(
            all(any(problem.can_serve(k, v) for v in step) for step in job.steps)
            for k in range(n_veh)
        )
        (ok if fine else never).append(j)
    return ok, never


def earliest_schedule(  # noqa: PLR0917 - the route's parts as the solver left them
    problem: Problem,
    vehicle: int,
    steps: list[RouteStep],
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


def solve(  # noqa: PLR0912, PLR0915 - one model, built in one readable pass
    problem: Problem,
    params: SolveParams | None = None,
    *,
    on_progress: Callable[[Progress], None] | None = None,
) -> Solution:
    """Solve a routing problem with OR-Tools.

    Parameters
    ----------
    problem
        The validated problem.
    params
        Time limit (seconds), first solution strategy, metaheuristic.
    on_progress
        Called with a :class:`~routing.model.Progress` at each improving solution.

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
    began = time.monotonic()
    servable, never = _servable_jobs(problem)
    for j in never:
        if problem.jobs[j].penalty is None:
            msg = f"Job {problem.jobs[j].name!r} is mandatory but no vehicle can make it."
            raise ValueError(msg)
    if not problem.vehicles or not servable:
        return Solution((), tuple(range(len(problem.jobs))), 0, 0.0, 0, "solved")
    if params.engine != "ortools" and engine_pyvrp.can_solve(problem) and not never:
        second = engine_pyvrp.solve(problem, params, on_progress=on_progress)
        if second is not None or params.engine == "pyvrp":
            return second or Solution(
                (), tuple(range(len(problem.jobs))), 0, time.monotonic() - began, 0, "no_solution"
            )
        params = replace(params, time_limit_s=max(1.0, params.time_limit_s / 2))
    first = _strategy(params.first_solution)
    meta = _metaheuristic(params.metaheuristic)

    # Nodes: the visits of servable jobs, then one node per start/end location.
    node_visit: list[int] = []  # visit index, or -1 for a depot node
    visit_node: dict[int, int] = {}
    for j in servable:
        for v in problem.jobs[j].visits:
            visit_node[v] = len(node_visit)
            node_visit.append(v)
    depot_node: dict[int, int] = {}
    node_loc: list[int] = [problem.visits[v].location for v in node_visit]
    for veh in problem.vehicles:
        for loc in (veh.start, veh.end):
            if loc not in depot_node:
                depot_node[loc] = len(node_loc)
                node_loc.append(loc)
                node_visit.append(-1)
    n_nodes = len(node_loc)
    manager = pywrapcp.RoutingIndexManager(
        n_nodes,
        len(problem.vehicles),
        [depot_node[v.start] for v in problem.vehicles],
        [depot_node[v.end] for v in problem.vehicles],
    )
    routing = pywrapcp.RoutingModel(manager)
    solver = routing.solver()

    svc = [problem.visits[v].service_s if v >= 0 else 0 for v in node_visit]
    grp = [problem.visits[v].group if v >= 0 else "" for v in node_visit]
    node_cost = [problem.visits[v].cost if v >= 0 else 0 for v in node_visit]
    demand = [problem.visits[v].demand if v >= 0 else 0 for v in node_visit]
    n_loc = problem.num_locations
    weights = problem.weights

    time_cb: dict[str, int] = {}
    cost_cb: dict[str, int] = {}
    keep_alive: list[object] = []
    use_matrix = n_nodes <= _MATRIX_NODE_LIMIT
    if use_matrix:
        import numpy as np  # noqa: PLC0415 - only needed on this path

        locs = np.asarray(node_loc, dtype=np.int64)
        svc_arr = np.asarray(svc, dtype=np.int64)
        grp_ids: dict[str, int] = {}
        grp_arr = np.asarray(
            [grp_ids.setdefault(g, len(grp_ids) + 1) if g else 0 for g in grp], dtype=np.int64
        )
        same = (grp_arr[:, None] == grp_arr[None, :]) & (grp_arr[:, None] > 0)
        svc_mat = np.where(same, 0, svc_arr[:, None])
        cost_add = np.asarray(node_cost, dtype=np.int64)[:, None]
        for name, prof in problem.profiles.items():
            sec = prof.seconds[np.ix_(locs, locs)]
            met = prof.metres[np.ix_(locs, locs)]
            tmat = sec + svc_mat
            cmat = weights.per_second * sec + weights.per_metre * met + cost_add
            time_cb[name] = routing.RegisterTransitMatrix(tmat.tolist())
            cost_cb[name] = routing.RegisterTransitMatrix(cmat.tolist())
    else:
        index_node = [manager.IndexToNode(i) for i in range(routing.Size() + routing.vehicles())]
        for name, prof in problem.profiles.items():
            sec_flat: list[int] = prof.seconds.ravel().tolist()
            met_flat: list[int] = prof.metres.ravel().tolist()
            ws, wm = weights.per_second, weights.per_metre

            def t_fn(a: int, b: int, sec_flat: list[int] = sec_flat) -> int:  # transit in seconds
                i, j = index_node[a], index_node[b]
                s = 0 if grp[i] and grp[i] == grp[j] else svc[i]
                return int(sec_flat[node_loc[i] * n_loc + node_loc[j]] + s)

            def c_fn(  # noqa: PLR0917 - defaults bind this profile's tables
                a: int,
                b: int,
                sec_flat: list[int] = sec_flat,
                met_flat: list[int] = met_flat,
                ws: int = ws,
                wm: int = wm,
            ) -> int:
                i, j = index_node[a], index_node[b]
                k = node_loc[i] * n_loc + node_loc[j]
                return int(ws * sec_flat[k] + wm * met_flat[k] + node_cost[i])

            keep_alive.extend((t_fn, c_fn))
            time_cb[name] = routing.RegisterTransitCallback(t_fn)
            cost_cb[name] = routing.RegisterTransitCallback(c_fn)

    for k, veh in enumerate(problem.vehicles):
        routing.SetArcCostEvaluatorOfVehicle(cost_cb[veh.profile], k)
        if veh.fixed_cost:
            routing.SetFixedCostOfVehicle(veh.fixed_cost, k)

    horizon = problem.horizon_s
    routing.AddDimensionWithVehicleTransits(
        [time_cb[v.profile] for v in problem.vehicles], horizon, horizon, False, "time"
    )
    tdim = routing.GetDimensionOrDie("time")
    demand_cb = routing.RegisterUnaryTransitVector(demand)
    routing.AddDimensionWithVehicleCapacity(
        demand_cb,
        0,
        [max(v.capacity, v.initial_load) for v in problem.vehicles],
        False,
        "load",
    )
    ldim = routing.GetDimensionOrDie("load")

    for k, veh in enumerate(problem.vehicles):
        s, e = routing.Start(k), routing.End(k)
        tdim.CumulVar(s).SetRange(veh.shift.early_s, veh.shift.late_s)
        tdim.CumulVar(e).SetRange(veh.shift.early_s, veh.shift.late_s)
        ldim.CumulVar(s).SetValue(veh.initial_load)

    all_vehicles = range(len(problem.vehicles))
    early_service = problem.early_service
    for node, v in enumerate(node_visit):
        if v < 0:
            continue
        idx = manager.NodeToIndex(node)
        vis = problem.visits[v]
        tdim.CumulVar(idx).SetRange(vis.window.early_s, vis.window.late_s)
        if early_service:
            tdim.SetCumulVarSoftUpperBound(idx, vis.window.early_s, 1)
        if vis.preferred_vehicle is not None and vis.move_cost > 0:
            routing.AddSoftSameVehicleConstraint(
                [routing.Start(vis.preferred_vehicle), idx], vis.move_cost
            )
        allowed = [k for k in all_vehicles if problem.can_serve(k, v)]
        if len(allowed) < len(problem.vehicles):
            # SetAllowedVehiclesForIndex does not take a Python list in 9.15; restrict the
            # vehicle variable instead (-1 keeps the visit droppable, as a disjunction needs).
            routing.VehicleVar(idx).SetValues([-1, *allowed])

    for j in servable:
        job = problem.jobs[j]
        step_idx = [[manager.NodeToIndex(visit_node[v]) for v in step] for step in job.steps]
        penalties: list[int | None] = [None] * len(step_idx)
        if job.penalty is not None:
            half = job.penalty // len(step_idx)
            penalties = [job.penalty - half * (len(step_idx) - 1), *[half] * (len(step_idx) - 1)]
        disj = []
        for indices, pen in zip(step_idx, penalties, strict=True):
            if pen is None:
                disj.append(routing.AddDisjunction(indices) if len(indices) > 1 else -1)
            else:
                disj.append(routing.AddDisjunction(indices, pen, 1))
        if len(step_idx) == 2:
            (first_step, second_step) = step_idx
            if len(first_step) == 1 and len(second_step) == 1:
                p, d = first_step[0], second_step[0]
                routing.AddPickupAndDelivery(p, d)
                solver.Add(routing.VehicleVar(p) == routing.VehicleVar(d))
                solver.Add(tdim.CumulVar(p) <= tdim.CumulVar(d))
            else:
                if -1 in disj:  # mandatory single-visit step: give it a disjunction of its own
                    disj = [
                        routing.AddDisjunction(ix) if dj == -1 else dj
                        for ix, dj in zip(step_idx, disj, strict=True)
                    ]
                routing.AddPickupAndDeliverySets(disj[0], disj[1])

    visit_transit = [0] * routing.Size()
    for index in range(routing.Size()):
        visit_transit[index] = svc[manager.IndexToNode(index)]
    for k, veh in enumerate(problem.vehicles):
        if not veh.breaks:
            continue
        intervals = [
            solver.FixedDurationIntervalVar(
                b.window.early_s,
                b.window.late_s - b.duration_s,
                b.duration_s,
                False,
                f"brk:{k}:{i}",
            )
            for i, b in enumerate(veh.breaks)
        ]
        tdim.SetBreakIntervalsOfVehicle(intervals, k, visit_transit)
        # A break belongs inside the courier's day: between leaving the start and reaching the end.
        for iv in intervals:
            solver.Add(iv.StartExpr() >= tdim.CumulVar(routing.Start(k)))
            solver.Add(iv.EndExpr() <= tdim.CumulVar(routing.End(k)))

    # Finalizers: every service as early as it can be, and each day's end as early.
    for node, v in enumerate(node_visit):
        if v >= 0:
            routing.AddVariableMinimizedByFinalizer(tdim.CumulVar(manager.NodeToIndex(node)))
    for k in all_vehicles:
        routing.AddVariableMinimizedByFinalizer(tdim.CumulVar(routing.End(k)))

    found = [0]
    best = [-1]

    def at_solution() -> None:
        found[0] += 1
        cost = int(routing.CostVar().Value())
        if best[0] < 0 or cost < best[0]:
            best[0] = cost
            if on_progress is not None:
                on_progress(
                    Progress(elapsed_s=time.monotonic() - began, best_cost=cost, solutions=found[0])
                )

    routing.AddAtSolutionCallback(at_solution)

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
    assignment = routing.SolveWithParameters(search)
    runtime = time.monotonic() - began
    if assignment is None:
        return Solution((), tuple(range(len(problem.jobs))), 0, runtime, found[0], "no_solution")

    break_values: dict[tuple[int, int], tuple[int, int]] = {}
    ivc = assignment.IntervalVarContainer()
    for i in range(ivc.Size()):
        el = ivc.Element(i)
        name = el.Var().Name()
        if name.startswith("brk:") and el.PerformedValue():
            _, k_s, b_s = name.split(":")
            break_values[(int(k_s), int(b_s))] = (el.StartValue(), el.DurationValue())

    routes: list[Route] = []
    served_visits: set[int] = set()
    for k, veh in enumerate(problem.vehicles):
        index = routing.Start(k)
        depart = assignment.Value(tdim.CumulVar(index))
        index = assignment.Value(routing.NextVar(index))
        steps: list[RouteStep] = []
        load = veh.initial_load
        while not routing.IsEnd(index):
            v = node_visit[manager.IndexToNode(index)]
            load += problem.visits[v].demand
            steps.append(RouteStep(v, assignment.Value(tdim.CumulVar(index)), load))
            served_visits.add(v)
            index = assignment.Value(routing.NextVar(index))
        end_s = assignment.Value(tdim.CumulVar(index))
        if not steps and veh.initial_load == 0:
            continue
        taken = sorted((val[0], val[1], b) for (kk, b), val in break_values.items() if kk == k)
        routes.append(earliest_schedule(problem, k, steps, taken, depart, end_s))
    dropped = tuple(
        j
        for j in range(len(problem.jobs))
        if not any(v in served_visits for v in problem.jobs[j].visits)
    )
    return Solution(
        tuple(routes),
        dropped,
        int(assignment.ObjectiveValue()),
        runtime,
        found[0],
        "solved",
    )
