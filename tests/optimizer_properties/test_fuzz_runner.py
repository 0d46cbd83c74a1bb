"""The fuzzing benchmark counts a dead, hung or raising solver instead of dying with it."""

from __future__ import annotations

import random

from benchmarks.fuzz_optimizer import (
    Fuzzed,
    RandomPick,
    Solver,
    Tally,
    fuzz_request,
    judge,
)
from tests.checker.tiny import request as tiny_request
from tests.optimizer_properties import children


def test_child_that_dies_is_counted_as_a_crash_and_replaced() -> None:
    """A child ending with exit code 3 is reported ``died``; the next solve starts a new child."""
    solver = Solver(target=children.die_on_first_request, grace_s=5.0)
    try:
        outcome, payload, _ = solver.solve(tiny_request(), 0.1)
        assert (outcome, payload) == ("died", "exit code 3")
        outcome, _, _ = solver.solve(tiny_request(), 0.1)
        assert outcome == "died"  # a fresh child was started (and died again)
    finally:
        solver.stop()
    tally = Tally()
    failed = judge(
        tally, Fuzzed(tiny_request()), outcome="died", payload="exit code 3", wall_s=0.2,
        time_limit_s=0.1,
    )  # fmt: skip
    assert tally.crashes == 1 and tally.failures() == 1
    assert failed is not None and "crash" in failed


def test_child_that_hangs_is_killed_and_counted_over_time() -> None:
    """A child silent past the time limit + 1 s + grace is killed and counted over time."""
    solver = Solver(target=children.hang_on_first_request, grace_s=0.5)
    try:
        outcome, _, wall_s = solver.solve(tiny_request(), 0.1)
    finally:
        solver.stop()
    assert outcome == "killed"
    assert wall_s >= 1.5  # not killed before time limit + 1 s + grace (how long after: no test)
    tally = Tally()
    judge(tally, Fuzzed(tiny_request()), outcome="killed", payload=None, wall_s=wall_s,
          time_limit_s=0.1)  # fmt: skip
    assert tally.over_time == 1 and tally.failures() == 1


def test_other_exceptions_are_crashes_and_request_errors_are_refusals() -> None:
    """``raised`` counts as a crash; a refusal of an invalid request counts as expected."""
    solver = Solver(target=children.raise_on_first_request)
    try:
        outcome, payload, _ = solver.solve(tiny_request(), 0.1)
    finally:
        solver.stop()
    assert outcome == "raised" and payload.startswith("IndexError")
    tally = Tally()
    invalid = Fuzzed(tiny_request(), invalid="duplicate job id")
    judge(tally, invalid, outcome="refused", payload="jobs[3].id: duplicate", wall_s=0.1,
          time_limit_s=0.5)  # fmt: skip
    assert tally.refused_expected == 1 and tally.failures() == 0
    judge(tally, Fuzzed(tiny_request()), outcome="refused", payload="jobs[0]: odd", wall_s=0.1,
          time_limit_s=0.5)  # fmt: skip
    assert tally.refused_unexpected == 1 and tally.failures() == 1


def test_real_solver_child_plans_and_the_plan_is_judged() -> None:
    """The real child plans a small generated request; its plan passes the checker."""
    seeds = (f"runner-{i}" for i in range(100))
    fuzzed = next(
        f
        for f in (fuzz_request(RandomPick(random.Random(seed)), min_jobs=3, min_couriers=1)
                  for seed in seeds)
        if f.invalid is None
    )  # fmt: skip
    solver = Solver()
    try:
        outcome, payload, wall_s = solver.solve(fuzzed.request, 0.5)
    finally:
        solver.stop()
    tally = Tally()
    failed = judge(tally, fuzzed, outcome=outcome, payload=payload, wall_s=wall_s,
                   time_limit_s=0.5)  # fmt: skip
    assert outcome == "plan", payload
    assert failed is None, failed
    assert tally.planned == 1 and tally.jobs_planned == len(fuzzed.request["jobs"])


def test_real_solver_child_replans_and_the_replan_is_judged() -> None:
    """The child re-plans the tiny day at 10:30 with what is done; the checker passes it."""
    from benchmarks.fuzz_optimizer import done_by, judge_replan
    from routing import plan_request

    request = tiny_request()
    morning = plan_request(request, time_limit_s=0.5)
    now = "2026-11-23T10:30:00+07:00"
    done = done_by(morning, now)
    assert {d["job"] for d in done} == {"P1", "R1"}  # pickup, hand-off and collect by 09:32
    solver = Solver()
    try:
        outcome, payload, _wall_s = solver.solve(
            request, 0.5, {"plan": morning, "now": now, "done": done}
        )
    finally:
        solver.stop()
    assert outcome == "plan", payload
    tally = Tally()
    # Judged as if on time: how long the child took depends on how busy the machine is.
    assert judge_replan(
        tally, request, outcome=outcome, payload=payload, wall_s=0.0, time_limit_s=0.5
    ) is None  # fmt: skip
    assert tally.replans == 1 and tally.replan_failures == 0
    # A corrupted re-plan is caught: the delivery of R1 vanishes.
    for route in payload["routes"]:
        route["stops"] = [s for s in route["stops"] if s.get("job") != "R1"]
    assert judge_replan(
        tally, request, outcome="plan", payload=payload, wall_s=0.0, time_limit_s=0.5
    )  # fmt: skip
    assert tally.replan_failures == 1


def test_replans_run_every_hour_and_after_every_shift_and_lost_done_stops_fail() -> None:
    """The fuzzer re-plans at 08:00 … 21:00 and at each shift's end (ISO ends included), in
    order; a re-plan that drops a done stop from its courier's ``done`` list is a failure."""
    from benchmarks.fuzz_optimizer import done_by, kept_as_done, replan_times
    from routing import plan_request, replan

    request = tiny_request()
    request["couriers"][0]["shift"] = ["07:00", "12:30"]
    times = [t[11:16] for t in replan_times(request)]
    assert times == sorted(times)
    assert {f"{h:02d}:00" for h in range(8, 22)} | {"12:30"} == set(times)
    night = dict(request, couriers=[dict(request["couriers"][0], shift=[
        "2026-11-23T20:00:00+07:00", "2026-11-24T04:00:00+07:00"])])  # fmt: skip
    assert replan_times(night)[-1] == "2026-11-24T04:00:00+07:00"
    morning = plan_request(request, time_limit_s=0.5)
    now = "2026-11-23T10:30:00+07:00"
    done = done_by(morning, now)
    new = replan(request, morning, now=now, done=done, time_limit_s=0.5)
    assert kept_as_done(morning, new, done) == ""
    for route in new["routes"]:
        route["done"] = [s for s in route.get("done", []) if s.get("job") != "P1"]
    assert "P1" in kept_as_done(morning, new, done)
