"""A large day's districts solved at once on every core, then couriers with slack lent around.

:func:`routing.planner.plan_day` cuts a day of more than ``DISTRICT_JOBS`` jobs into districts
(:func:`routing.planner.districts`); :func:`plan_districts` solves them here:

1. **All the cores.** Each district is one task for a pool of worker processes (new
   interpreters running :func:`serve`, as many as ``req.workers``, else one per idle core). With
   as many workers as districts, each district searches for the whole time left; with more
   districts than workers, a task is given, when a worker takes it, its share of the
   core-seconds left (the workers times the time left, less what the running tasks hold) in
   proportion to its jobs, never past the deadline. The largest districts go first. OR-Tools
   holds Python's lock while it searches, so threads would not help: processes it is.
2. **Lending couriers.** A district whose jobs went unassigned for ``no_time`` borrows a
   courier with free time (:func:`routing.idle.free_min`): its own, a sector's of the same
   office, or a neighbouring office's (one with no job of its own included), the nearest
   first. In the first round the lent courier is planned again alone, with its jobs and the
   waiting ones; in the later rounds together with the district's couriers, so they may hand
   it jobs on its way. Each search starts from the couriers' routes as they are (a warm
   start), and its answer is kept only when it serves every job they served and more. A
   round lends at most one courier to each district and no courier to two; the rounds run
   in parallel too, within the last :data:`LEND_SHARE` of the time limit (only when each
   district may first search :data:`LEND_AFTER_S`).

Each district plan is deterministic with ``options.solution_limit`` (the search stops on the
solution count, not the clock), and so is the lending, whatever the number of workers. The
workers are plain subprocesses, not :mod:`multiprocessing` ones: the service's solver processes
are daemonic, and multiprocessing refuses children to those; a script or notebook calling
:func:`routing.plan_request` needs no ``if __name__ == "__main__"`` guard either.
"""

from __future__ import annotations

import contextlib
import functools
import os
import pickle
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection, wait
from typing import Any, Protocol

from geo.coords import LatLon
from geo.travel import TravelModel, haversine_m
from routing.dossiers import Built, _needs_run, build_problem
from routing.idle import free_min, idle_while_unserved
from routing.model import Progress, SolveParams
from routing.plan import Kpis, Plan, Route, SolverFigures, Stop, Unassigned
from routing.request import PlanRequest

LEND_SHARE = 0.2
"""The part of the time limit kept for lending couriers, when a day has several districts."""
LEND_ROUNDS = 3
"""At most this many couriers are lent to one district."""
LEND_MIN_FREE_MIN = 60.0
"""A courier with fewer free minutes in its shift is not lent."""
LEND_MAX_KM = 60.0
"""A courier is lent only to a district whose office is this close to its own (great circle)."""
LEND_MIN_S = 0.5
"""A round of loans starts only with this many seconds left."""
LEND_TASK_S = 0.5
"""The least search time of a loan, in seconds: a round makes no more loans than fit."""
LEND_AFTER_S = 2.0
"""Couriers are lent only when each district may search this long (time limit × workers ÷
districts, in seconds); on a shorter time limit the districts get all of it."""
LEND_TAIL_S = 0.5
"""Seconds kept at the end of the time limit for the last answers, the merge and stopping
the workers."""
PARALLEL_MIN_S = 4.0
"""Below this time limit (seconds) the districts are solved in this process, one after the
other: starting the worker processes would take much of the time."""
MIN_SHARE_S = 0.05
"""The least time a task is given, in seconds (a district with no time left still answers)."""
STOP_S = 0.05
"""How long the workers may take to exit once the plan is made, in seconds."""
WORKER_GRACE_S = 15.0
"""How long past the deadline a worker may take to answer before the solve fails."""

Parts = Sequence[tuple[list[int], list[int]]]
Relay = Callable[[int, Progress], None]


@dataclass(frozen=True, slots=True)
class _Task:
    """A sub-request to solve, weighted by its jobs for the share of time it gets; ``hints``
    are its couriers' routes before a loan (``None`` for one with none), where its search
    starts."""

    req: PlanRequest
    weight: int
    hints: tuple[Route | None, ...] | None = None


def _hint_visits(built: Built, route: Route) -> tuple[int, ...] | None:
    """The visits of ``built`` that make ``route`` again (stop by stop, job by job), or
    ``None`` when a stop has no such visit."""
    index = {job.id: j for j, job in enumerate(built.req.jobs)}
    visits: list[int] = []
    for stop in route.stops:
        for job_id in stop.job_ids:
            j = index.get(job_id)
            found = None if j is None else _visit_of(built, j, stop)
            if found is None:
                return None
            visits.append(found)
    return tuple(visits)


def _visit_of(built: Built, j: int, stop: Stop) -> int | None:
    needs_run = _needs_run(built.req.jobs[j])
    for v, role in enumerate(built.roles):
        if role.job != j or role.role != stop.kind:
            continue
        if stop.kind in ("handoff", "collect") and role.site != stop.site:
            continue
        if stop.kind == "handoff" and needs_run and role.run != stop.shuttle:
            continue
        return v
    return None


def _start_of(
    built: Built, hints: tuple[Route | None, ...] | None
) -> tuple[tuple[int, ...], ...] | None:
    """Each courier's route before, as visits of ``built`` (``None`` if one cannot be read)."""
    if hints is None:
        return None
    routes = [() if r is None else _hint_visits(built, r) for r in hints]
    if any(r is None for r in routes):
        return None
    return tuple(r for r in routes if r is not None)


def solve_task(
    task: _Task,
    travel: TravelModel | None,
    limit_s: float,
    on_progress: Callable[[Progress], None] | None,
) -> Plan:
    """Plan a task's sub-request; a lent courier's search starts from its route before."""
    from routing.engines import solve  # noqa: PLC0415 (the engines load when a day is solved)
    from routing.planner import plan_from_solution  # noqa: PLC0415 (planner imports this)

    built = build_problem(task.req, travel)
    params = SolveParams(
        time_limit_s=limit_s,
        seed=task.req.seed,
        solution_limit=task.req.solution_limit,
        initial_routes=_start_of(built, task.hints),
    )
    return plan_from_solution(built, solve(built.problem, params, on_progress=on_progress))


class _Pool(Protocol):
    workers: int

    def run(self, tasks: Sequence[_Task], deadline: float, relay: Relay) -> list[Plan]: ...

    def close(self) -> None: ...


def _share(left_s: float, capacity_s: float, weight: int, pending: int) -> float:
    """Seconds for a task: its part of the core-seconds left, within the time left."""
    return min(max(left_s, MIN_SHARE_S), max(MIN_SHARE_S, capacity_s * weight / max(pending, 1)))


class _Serial:
    """Tasks solved one after the other in this process, each with its share of the time."""

    workers = 1

    def __init__(self, travel: TravelModel | None) -> None:
        self.travel = travel

    def run(self, tasks: Sequence[_Task], deadline: float, relay: Relay) -> list[Plan]:
        plans = []
        pending = sum(t.weight for t in tasks)
        for i, task in enumerate(tasks):
            left = deadline - time.monotonic()
            share = _share(left, left, task.weight, pending)
            pending -= task.weight
            plans.append(solve_task(task, self.travel, share, functools.partial(relay, i)))
        return plans

    def close(self) -> None:
        """Nothing to stop."""


def serve() -> None:
    """A worker process: solve the tasks read from stdin, answer on stdout, until stdin closes.

    Started by :class:`_Processes` as ``python -c "from routing.parallel import serve;
    serve()"``; anything else the solver prints goes to stderr, never into the answers.
    """
    answers = Connection(os.dup(1), readable=False)
    os.dup2(2, 1)  # a stray print must not corrupt the answers
    calls = Connection(0, writable=False)
    answers.send(("ready",))
    while True:
        try:
            call = calls.recv()
        except (EOFError, OSError):
            return  # the planning process is gone: stop rather than linger
        if call is None:
            return
        i, task, travel, limit_s = call

        def report(p: Progress, i: int = i) -> None:
            answers.send(("progress", i, p))

        try:
            plan = solve_task(task, travel, limit_s, report)
        except Exception as exc:  # sent back and raised in the planning process
            answers.send(("error", i, f"{type(exc).__name__}: {exc}"))
        else:
            answers.send(("plan", i, plan))


class _Worker:
    """One worker process and the two pipes to it (tasks in, answers out)."""

    def __init__(self) -> None:
        # A plain subprocess rather than multiprocessing: it may start from a daemonic process
        # (the service's solver processes), and it never re-imports the caller's __main__.
        path = os.pathsep.join(p or os.getcwd() for p in sys.path)
        env = {**os.environ, "PYTHONPATH": path}
        code = "from routing.parallel import serve; serve()"
        self.proc = subprocess.Popen(  # noqa: S603 (our own interpreter and code)
            [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.tx = Connection(os.dup(self.proc.stdin.fileno()), readable=False)
        self.rx = Connection(os.dup(self.proc.stdout.fileno()), writable=False)
        self.proc.stdin.close()
        self.proc.stdout.close()

    def receive(self) -> tuple[Any, ...]:
        """The next answer; a worker that died is an error, never a silent gap."""
        try:
            message = self.rx.recv()
        except (EOFError, OSError):
            msg = "a district's solver process stopped unexpectedly"
            raise RuntimeError(msg) from None
        assert isinstance(message, tuple)
        return message

    def stop(self) -> None:
        """Ask the worker to exit (it may still be searching: then it is killed in ``reap``)."""
        with contextlib.suppress(OSError):
            self.tx.send(None)
        self.tx.close()

    def reap(self, by: float) -> None:
        """Wait for the worker's exit until ``by`` (monotonic), then kill it (a process's own
        exit, with OR-Tools loaded, can take a second on a busy machine; a kill does not)."""
        try:
            self.proc.wait(timeout=max(0.0, by - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.proc.kill()  # its answer is no longer wanted
            self.proc.wait(timeout=30)
        self.rx.close()


class _Processes:
    """Worker processes fed one task at a time; a task's time is set when a worker takes it."""

    def __init__(self, workers: int, travel: TravelModel | None) -> None:
        self.workers = workers
        self.travel = travel
        self.all: list[_Worker] = []
        try:
            for _ in range(workers):
                self.all.append(_Worker())
        except BaseException:  # out of processes or files: stop those already started
            self.close()
            raise
        self.ready: list[_Worker] = []  # started and free
        self.starting = list(self.all)

    def run(self, tasks: Sequence[_Task], deadline: float, relay: Relay) -> list[Plan]:
        order = sorted(range(len(tasks)), key=lambda i: (-tasks[i].weight, i))
        pending = sum(t.weight for t in tasks)
        plans: dict[int, Plan] = {}
        running: dict[_Worker, tuple[int, float]] = {}
        while len(plans) < len(tasks):
            while order and self.ready:
                i = order.pop(0)
                now = time.monotonic()
                held = sum(max(0.0, end - now) for _, end in running.values())
                left = deadline - now
                share = _share(left, self.workers * left - held, tasks[i].weight, pending)
                pending -= tasks[i].weight
                worker = self.ready.pop(0)
                worker.tx.send((i, tasks[i], self.travel, share))
                running[worker] = (i, now + share)
            listening = {w.rx: w for w in [*running, *self.starting]}
            timeout = deadline + WORKER_GRACE_S - time.monotonic()
            answered = wait(list(listening), timeout=max(0.0, timeout))
            if not answered:
                msg = f"a district's solver process did not answer within {WORKER_GRACE_S:g} s"
                raise RuntimeError(msg)
            for rx in answered:
                worker = listening[rx]  # type: ignore[index]
                self._take(worker, worker.receive(), running, plans, relay)
        return [plans[i] for i in range(len(tasks))]

    def _take(
        self,
        worker: _Worker,
        message: tuple[Any, ...],
        running: dict[_Worker, tuple[int, float]],
        plans: dict[int, Plan],
        relay: Relay,
    ) -> None:
        kind = message[0]
        if kind == "ready":
            self.starting.remove(worker)
            self.ready.append(worker)
        elif kind == "progress":
            relay(message[1], message[2])
        elif kind == "plan":
            plans[message[1]] = message[2]
            del running[worker]
            self.ready.append(worker)
        else:
            msg = f"a district's solve failed: {message[2]}"
            raise RuntimeError(msg)

    def close(self) -> None:
        """Stop the workers together; one still searching after a moment is killed."""
        for worker in self.all:
            worker.stop()
        by = time.monotonic() + STOP_S
        for worker in self.all:
            worker.reap(by)


def idle_cores() -> int:
    """The cores of this machine that are not busy (by the last minute's load average), at
    least one: more processes than free cores only share them, and each starts slower."""
    cores = os.cpu_count() or 1
    try:
        busy = round(os.getloadavg()[0])
    except OSError:  # no load average on this system
        return cores
    return max(1, min(cores, cores - busy + 1))


def worker_count(req: PlanRequest, tasks: int, travel: TravelModel | None) -> int:
    """How many processes solve the districts: ``req.workers``, else one per idle core
    (:func:`idle_cores`), at most one per task; one (in this process) under
    :data:`PARALLEL_MIN_S` or with a travel model that cannot be sent to another process."""
    asked = req.workers if req.workers is not None else idle_cores()
    n = max(1, min(asked, tasks))
    if req.time_limit_s < PARALLEL_MIN_S:
        return 1  # the workers' start (about a second, more on a busy machine) would eat it
    if n > 1:
        try:
            pickle.dumps(travel)
        except Exception:  # a travel model holding a connection stays in this process
            return 1
    return n


def _sub(req: PlanRequest, couriers: Sequence[int], jobs: Sequence[int]) -> PlanRequest:
    return replace(
        req,
        couriers=tuple(req.couriers[k] for k in couriers),
        jobs=tuple(req.jobs[j] for j in jobs),
    )


def _figures(plan: Plan) -> SolverFigures:
    assert plan.kpis is not None and plan.kpis.solver is not None, "the optimizer writes both"
    return plan.kpis.solver


def plan_districts(
    req: PlanRequest,
    parts: Parts,
    *,
    travel: TravelModel | None,
    on_progress: Callable[[Progress], None] | None,
    began: float,
    initial: Plan | None = None,
) -> Plan:
    """Plan a day's districts in parallel, lend couriers with slack, merge into one plan.

    Parameters
    ----------
    req
        The whole day's request (``req.time_limit_s`` counts from ``began``; ``req.workers``).
    parts
        ``(courier indices, job indices)`` of each district (:func:`routing.planner.districts`).
    travel
        Travel model for requests without a ``travel`` matrix.
    on_progress
        Called at each improving solution of a district: elapsed seconds, the sum of the
        districts' best costs, and solutions found.
    began
        ``time.monotonic()`` when planning began.
    initial
        A plan whose routes each district's search starts from (re-optimising a plan adjusted
        by hand), or ``None``.

    Returns
    -------
    Plan
        The merged plan; ``kpis.solver`` adds ``workers`` (processes used) and ``lent`` (jobs
        served by a lent courier).
    """
    from routing.planner import _merge  # noqa: PLC0415 (planner imports this module)

    deadline = began + req.time_limit_s
    tasks = [_Task(_sub(req, cs, js), len(js), _hints(req, cs, initial)) for cs, js in parts]
    n = worker_count(req, len(tasks), travel)
    pool: _Pool = _Processes(n, travel) if n > 1 else _Serial(travel)
    best: dict[int, Progress] = {}

    def relay(i: int, p: Progress) -> None:
        best[i] = p
        if on_progress is not None:
            cost = sum(b.best_cost for b in best.values())
            found = sum(b.solutions for b in best.values())
            on_progress(Progress(time.monotonic() - began, cost, found))

    # Lending pays only once the districts have had time to search; short of it, they get all.
    enough = req.time_limit_s * n / len(tasks) >= LEND_AFTER_S
    lend_s = req.time_limit_s * LEND_SHARE if enough else 0.0
    try:
        plans = pool.run(tasks, deadline - (lend_s or LEND_TAIL_S), relay)
        # Couriers of offices with no job of their own today may be lent too.
        idle = _idle_offices(req, parts)
        everyone = [*parts, *idle]
        plans += [_empty_plan(req) for _ in idle]
        plans, lent, extra = (
            _lend(pool, req, everyone, plans, deadline) if enough else (plans, 0, 0)
        )
    finally:
        pool.close()
    plans = _with_idle_warnings(req, everyone, plans)
    plans = [p for p, (_, jobs) in zip(plans, everyone, strict=True) if jobs or p.routes]
    merged = _merge(req, plans, time.monotonic() - began)
    kpis = merged.kpis
    assert kpis is not None
    figures = _figures(merged)
    figures = replace(
        figures,
        solutions=figures.solutions + extra,
        extra={**figures.extra, "workers": n, "lent": lent},
    )
    return replace(merged, kpis=replace(kpis, solver=figures))


# --------------------------------------------------------------------------- lending couriers


def _hints(
    req: PlanRequest, couriers: Sequence[int], initial: Plan | None
) -> tuple[Route | None, ...] | None:
    """The routes of ``initial`` for a district's couriers, where its search starts."""
    if initial is None:
        return None
    return tuple(initial.route_of(req.couriers[k].id) for k in couriers)


def _idle_offices(req: PlanRequest, parts: Parts) -> list[tuple[list[int], list[int]]]:
    """The couriers of offices given no district (no job of the day is theirs), by office."""
    taken = {k for couriers, _ in parts for k in couriers}
    offices: dict[str, list[int]] = {}
    for k, courier in enumerate(req.couriers):
        if k not in taken:
            offices.setdefault(courier.start_site, []).append(k)
    return [(couriers, []) for couriers in offices.values()]


def _empty_plan(req: PlanRequest) -> Plan:
    """The plan of an office with no job: no route, nothing unassigned, until a loan."""
    figures = SolverFigures(status="solved", cost=0, seconds=0.0, solutions=0)
    kpis = Kpis(jobs=0, served=0, runs_missed=0, solver=figures)
    return Plan(plan_id="", date=req.day, status="complete", routes=(), unassigned=(), kpis=kpis)


def _no_time_jobs(req: PlanRequest, plan: Plan, jobs: Sequence[int]) -> list[int]:
    waiting = {u.job for u in plan.unassigned if u.reason == "no_time"}
    return [j for j in jobs if req.jobs[j].id in waiting]


def _base(req: PlanRequest, couriers: Sequence[int]) -> LatLon:
    return req.sites[req.couriers[couriers[0]].start_site].point


@dataclass(frozen=True, slots=True)
class _Loan:
    """A courier lent to a district: the district's couriers and it, re-planned together."""

    borrower: int  # district whose jobs wait
    crew: list[int]  # the district's couriers, then the lent one (if from elsewhere)
    own: list[int]  # the jobs the crew served before the loan
    wanted: list[int]  # the waiting jobs it may take


def _candidate(
    req: PlanRequest,
    parts: Parts,
    plans: Sequence[Plan],
    borrower: int,
    *,
    wanted: Sequence[int],
    skip: set[int],
) -> tuple[int, int] | None:
    """The courier to lend to a district: the nearest office first, then the most free time."""
    routes = {r.courier: r for p in plans for r in p.routes}
    bases = [_base(req, cs) for cs, _ in parts]
    here = bases[borrower]
    km = haversine_m([here, *bases])[0, 1:] / 1000.0
    best: tuple[tuple[float, float, int], int, int] | None = None
    for home, (couriers, _) in enumerate(parts):
        if km[home] > LEND_MAX_KM:
            continue
        for k in couriers:
            courier = req.couriers[k]
            if k in skip or not any(req.jobs[j].skills <= courier.skills for j in wanted):
                continue
            free = free_min(courier, routes.get(courier.id))
            key = (round(float(km[home])), -free, k)
            if free >= LEND_MIN_FREE_MIN and (best is None or key < best[0]):
                best = (key, k, home)
    return None if best is None else (best[1], best[2])


def _jobs_on_route(req: PlanRequest, plans: Sequence[Plan], courier: str) -> list[int]:
    index = {j.id: i for i, j in enumerate(req.jobs)}
    route = next((r for p in plans for r in p.routes if r.courier == courier), None)
    return [] if route is None else list(dict.fromkeys(index[j] for j in route.job_ids))


def _loans(
    req: PlanRequest,
    parts: Parts,
    plans: Sequence[Plan],
    tried: set[tuple[int, int]],
    *,
    together: bool,
) -> list[_Loan]:
    """One loan for each district with jobs waiting; no courier in two loans of a round.

    The lent courier is planned alone with its jobs and the waiting ones, or ``together``
    with the district's couriers (slower, but they may then hand it jobs on its way).
    """
    loans: list[_Loan] = []
    busy: set[int] = set()
    for b, (couriers, jobs) in enumerate(parts):
        wanted = _no_time_jobs(req, plans[b], jobs)
        if not wanted or busy & set(couriers):
            continue
        skip = busy | {k for (bb, k) in tried if bb == b}
        found = _candidate(req, parts, plans, b, wanted=wanted, skip=skip)
        if found is None:
            continue
        k = found[0]
        tried.add((b, k))
        crew = list(dict.fromkeys([*couriers, k])) if together else [k]
        busy.update(crew)
        able = [j for j in wanted if req.jobs[j].skills <= req.couriers[k].skills]
        own = [j for c in crew for j in _jobs_on_route(req, plans, req.couriers[c].id)]
        loans.append(_Loan(b, crew, own, able))
    return loans


def _loan_task(req: PlanRequest, plans: Sequence[Plan], loan: _Loan) -> _Task:
    jobs = [*loan.own, *loan.wanted]
    routes = {r.courier: r for p in plans for r in p.routes}
    hints = tuple(routes.get(req.couriers[k].id) for k in loan.crew)
    return _Task(_sub(req, loan.crew, jobs), len(jobs), hints)


def _lend(
    pool: _Pool, req: PlanRequest, parts: Parts, plans: list[Plan], deadline: float
) -> tuple[list[Plan], int, int]:
    """Lend couriers with free time to districts whose jobs wait; return the plans, the jobs
    the loans served, and the solutions their searches found."""
    tried: set[tuple[int, int]] = set()
    lent = found = 0
    deadline -= LEND_TAIL_S  # for the last answers, the merge and stopping the workers
    for round_ in range(LEND_ROUNDS):
        if deadline - time.monotonic() < LEND_MIN_S:
            break
        # The first round is quick (each courier alone); the later ones search wider.
        loans = _loans(req, parts, plans, tried, together=round_ > 0)
        # No more loans than the workers can search for LEND_TASK_S each in the time left.
        fit = int(pool.workers * (deadline - time.monotonic()) / LEND_TASK_S)
        loans = loans[:fit]
        if not loans:
            break
        tasks = [_loan_task(req, plans, x) for x in loans]
        answers = pool.run(tasks, deadline, lambda i, p: None)
        for loan, answer in zip(loans, answers, strict=True):
            found += _figures(answer).solutions
            served = answer.job_couriers()
            got = [j for j in loan.wanted if req.jobs[j].id in served]
            if not got or any(req.jobs[j].id not in served for j in loan.own):
                continue  # the loan must serve more, and drop nothing served before
            for k in loan.crew:
                courier = req.couriers[k].id
                home = next(h for h, (cs, _) in enumerate(parts) if k in cs)
                plans[home] = _with_route(req, plans[home], courier, answer.route_of(courier))
            plans[loan.borrower] = _served_elsewhere(plans[loan.borrower], got, req)
            lent += len(got)
    return plans, lent, found


def _runs_missed(req: PlanRequest, route: Route | None) -> int:
    """Dossiers a route hands over for a run they need but catch none of (as the writer counts)."""
    if route is None:
        return 0
    jobs = {j.id: j for j in req.jobs}
    return sum(
        1
        for s in route.stops
        if s.kind == "handoff" and s.shuttle is None
        for j in s.jobs
        if jobs[j].destination_site not in (None, jobs[j].handoff_site)
    )


def _with_route(req: PlanRequest, plan: Plan, courier: str, route: Route | None) -> Plan:
    """A district plan with a courier's route replaced, added (for a courier it left idle) or
    taken away (``None``: the loan gave its jobs to others)."""
    old = plan.route_of(courier)
    routes = [r for r in plan.routes if r.courier != courier]
    routes += [] if route is None else [route]
    order = {c.id: i for i, c in enumerate(req.couriers)}
    routes.sort(key=lambda r: order[r.courier])
    kpis = plan.kpis
    assert kpis is not None
    missed = (kpis.runs_missed or 0) - _runs_missed(req, old) + _runs_missed(req, route)
    return replace(plan, routes=tuple(routes), kpis=replace(kpis, runs_missed=missed))


def _served_elsewhere(plan: Plan, jobs: Sequence[int], req: PlanRequest) -> Plan:
    """A district plan whose waiting ``jobs`` a lent courier now serves."""
    ids = {req.jobs[j].id for j in jobs}
    left: tuple[Unassigned, ...] = tuple(u for u in plan.unassigned if u.job not in ids)
    kpis = plan.kpis
    assert kpis is not None
    served = (kpis.served or 0) + len(ids)
    status = "complete" if not left else "partial"
    return replace(plan, unassigned=left, status=status, kpis=replace(kpis, served=served))


def _with_idle_warnings(req: PlanRequest, parts: Parts, plans: Sequence[Plan]) -> list[Plan]:
    """Each district plan with its couriers still free while its jobs wait (after lending)."""
    routes = [r for p in plans for r in p.routes]
    out = []
    for (couriers, jobs), plan in zip(parts, plans, strict=True):
        warnings = idle_while_unserved(req, routes, plan.unassigned, [(couriers, jobs)])
        kpis = plan.kpis
        assert kpis is not None
        out.append(replace(plan, kpis=replace(kpis, idle_while_unserved=warnings)))
    return out


__all__ = ["LEND_SHARE", "plan_districts", "worker_count"]
