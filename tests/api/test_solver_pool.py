"""The solver process pool: results come back, and a crash or overrun never spreads."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import routing
from api.planning import district_workers
from api.settings import Settings
from api.solver_pool import SolveRejected, SolverPool, SolverUnavailable
from routing.checker import check_plan
from routing.sample_day import camau_day


@pytest.fixture
def pool() -> Iterator[SolverPool]:
    """A pool with one worker process, closed after the test."""
    p = SolverPool(1, wait_s=30)
    yield p
    p.close()


def _wait_until_dead(pid: int, timeout_s: float = 120) -> None:
    """Wait until process ``pid`` can be reaped: a zombie with no thread left (a group leader
    that died before its other threads is a zombie its parent cannot reap yet). A fixed sleep
    may be too short on a busy machine, and this test is about a worker already dead."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            return
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields["State"].split()[0] in ("Z", "X") and int(fields["Threads"]) <= 1:
            return
        assert time.monotonic() < deadline, f"process {pid} did not die"
        time.sleep(0.01)


def test_result_comes_back_from_worker_process(pool: SolverPool) -> None:
    """A call runs in another process and returns its value."""
    assert pool.run(pow, 2, 10, wall_limit_s=60) == 1024
    assert pool.run(os.getpid, wall_limit_s=60) != os.getpid()


def test_overrun_is_killed_and_replaced(pool: SolverPool) -> None:
    """A call past its wall-clock limit raises SolverUnavailable; the worker is replaced."""
    first_pid = pool.run(os.getpid, wall_limit_s=60)
    # Had the call not been cut, the sleep would have returned None without raising; how soon
    # after its 0.5 s the cut comes is the machine's business, not this test's.
    with pytest.raises(SolverUnavailable, match="did not finish within"):
        pool.run(time.sleep, 30, wall_limit_s=0.5)
    second_pid = pool.run(os.getpid, wall_limit_s=60)
    assert second_pid != first_pid
    assert pool.pids() == [second_pid]


def test_worker_crash_answers_unavailable_and_pool_recovers(pool: SolverPool) -> None:
    """A worker that dies mid-call (as OR-Tools does on some inputs) is replaced."""
    with pytest.raises(SolverUnavailable, match="stopped unexpectedly"):
        pool.run(os._exit, 3, wall_limit_s=60)
    assert pool.run(pow, 3, 3, wall_limit_s=60) == 27


def test_unexpected_error_is_unavailable_not_a_traceback(pool: SolverPool) -> None:
    """An unexpected exception in the worker becomes SolverUnavailable with a plain message."""
    with pytest.raises(SolverUnavailable, match="the solver failed"):
        pool.run(len, 5, wall_limit_s=60)
    assert pool.run(abs, -4, wall_limit_s=60) == 4


def test_bad_input_is_rejected_with_its_message(pool: SolverPool) -> None:
    """A ValueError in the worker (bad input) comes back as SolveRejected with its message."""
    with pytest.raises(SolveRejected, match="invalid literal"):
        pool.run(int, "not a number", wall_limit_s=60)


def test_worker_dead_while_idle_is_replaced_before_use(pool: SolverPool) -> None:
    """A worker killed between solves is noticed and replaced: the next call succeeds."""
    import signal

    first = pool.run(os.getpid, wall_limit_s=60)
    os.kill(first, signal.SIGKILL)
    _wait_until_dead(first)
    second = pool.run(os.getpid, wall_limit_s=60)
    assert second != first


def test_a_large_day_is_planned_by_worker_processes_from_a_solver_process(
    pool: SolverPool,
) -> None:
    """The service's solver processes are daemonic, and multiprocessing gives a daemonic
    process no children; a day of over 150 jobs still has its districts solved by two worker
    processes from there, and the plan passes the checker."""
    day = camau_day(jobs=170, seed=3)
    day["options"] = {"time_limit_s": 60, "solution_limit": 10}
    plan = pool.run(routing.plan_request, day, workers=2, wall_limit_s=600)
    assert plan["kpis"]["solver"]["workers"] == 2
    assert plan["kpis"]["solver"]["districts"] > 1
    assert check_plan(day, plan) == []


def test_the_district_workers_of_a_solve_are_capped_by_the_setting() -> None:
    """``options.workers`` may ask for fewer processes than ``BUUTA_DISTRICT_WORKERS``, never
    more; 0 in the setting means the machine's cores."""
    two = Settings(district_workers=2)
    assert district_workers({"options": {"workers": 8}}, two) == 2
    assert district_workers({"options": {"workers": 1}}, two) == 1
    assert district_workers({}, two) == 2
    # Unset: the optimizer takes one process per idle core; asked: at most one per core.
    assert district_workers({}, Settings(district_workers=0)) is None
    many = {"options": {"workers": 64}}
    assert district_workers(many, Settings(district_workers=0)) == (os.cpu_count() or 1)
