"""Record the golden plans: run with ``.venv/bin/python -m tests.golden.record``.

``--replay`` writes the plans again from the recorded solver answers instead (no search): use
it when a key is added to the plan on purpose.

Each case stores the request, the core solutions the solver found (so the plan writer can be
replayed without searching again, whatever the machine's speed) and the plan JSON written from
them. The plans were first recorded before the typed plan model existed; re-record only when
DESIGN §4 changes on purpose, and say so in the commit.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from routing.dossiers import build_problem
from routing.model import Problem, Solution, SolveParams
from routing.planner import _merge, _solve_one, districts, plan_from_solution, plan_request
from routing.request import parse_request
from routing.sample_day import camau_day
from routing.solver import solve

HERE = Path(__file__).parent
# ``routing.replan`` the name is the function (re-exported by the package); this is the module.
replan_module = importlib.import_module("routing.replan")
solver_module = importlib.import_module("routing.solver")


def dump(value: Any) -> str:
    """The golden text of a JSON value: UTF-8, one space indent, keys in the writer's order."""
    return json.dumps(value, ensure_ascii=False, indent=1) + "\n"


def _write(name: str, value: Any) -> None:
    (HERE / f"{name}.json").write_text(dump(value), encoding="utf-8")


def _recording(found: list[Solution]) -> Callable[..., Solution]:
    def recorded(problem: Problem, params: SolveParams, **kwargs: Any) -> Solution:
        solution = solve(problem, params, **kwargs)
        found.append(solution)
        return solution

    return recorded


def _one_day(name: str, jobs: int, seed: int) -> tuple[dict[str, Any], dict[str, Any]]:
    request = camau_day(jobs=jobs, seed=seed)
    request["options"] = {"time_limit_s": 2, "seed": seed}
    found: list[Solution] = []
    original = solver_module.solve
    solver_module.solve = _recording(found)  # type: ignore[assignment]
    try:
        plan = plan_request(request)
    finally:
        solver_module.solve = original
    _write(f"{name}.request", request)
    _write(f"{name}.solutions", [dataclasses.asdict(s) for s in found])
    _write(f"{name}.plan", plan)
    return request, plan


def _district_day(name: str) -> None:
    """A day cut into districts: the district plans and the one plan merged from them."""
    request = camau_day(jobs=170, seed=3)
    request["options"] = {"time_limit_s": 4}
    req = parse_request(request)
    parts = districts(req)
    plans = []
    for couriers, jobs in parts:
        sub = dataclasses.replace(
            req,
            couriers=tuple(req.couriers[k] for k in couriers),
            jobs=tuple(req.jobs[j] for j in jobs),
        )
        plans.append(_solve_one(sub, None, 0.5, None))
    merged = _merge(req, plans, 2.0)
    _write(f"{name}.request", request)
    _write(f"{name}.parts", [p.to_json() for p in plans])
    _write(f"{name}.plan", merged.to_json())


def _replans(name: str, request: dict[str, Any], plan: dict[str, Any]) -> None:
    """Re-plans of a solved day: a job done, one in hand, one added, one cancelled, a late one."""
    jobs = request["jobs"]
    route = next(r for r in plan["routes"] if any(s["type"] == "pickup" for s in r["stops"]))
    first_pickup = next(s for s in route["stops"] if s["type"] == "pickup")
    added = dict(jobs[-1], id="ADDED-1", dossier="H12.22-ADDED-0001")
    cases = {
        "midday": {
            "now": "11:00",
            "done": [{"job": first_pickup["job"], "type": "pickup"}],
            "added_jobs": [added],
            "cancelled_jobs": [jobs[0]["id"]],
        },
        "late": {
            "now": "16:30",
            "done": [
                {"job": s["job"] if "job" in s else s["jobs"][0], "type": s["type"]}
                for r in plan["routes"]
                for s in r["stops"]
                if s["type"] in ("pickup", "collect")
            ],
            "positions": {route["courier"]: {"lat": 9.0, "lon": 105.0}},
        },
    }
    for case, args in cases.items():
        found: list[Solution] = []
        original = solver_module.solve
        solver_module.solve = _recording(found)  # type: ignore[assignment]
        try:
            out = replan_module.replan(request, plan, time_limit_s=2, **args)
        finally:
            solver_module.solve = original
        _write(f"{name}.replan-{case}.args", args)
        _write(f"{name}.replan-{case}.solutions", [dataclasses.asdict(s) for s in found])
        _write(f"{name}.replan-{case}.plan", out)


def _tiny_late(name: str) -> None:
    """The re-planning tests' morning: a result in hand whose window is lost (``late``)."""
    from tests.routing.test_replan import _morning

    request, plan = _morning()
    _write(f"{name}.request", request)
    _write(f"{name}.plan", plan)
    args = {"now": "14:59", "done": ["A", "B", {"job": "R", "type": "collect"}]}
    found: list[Solution] = []
    original = solver_module.solve
    solver_module.solve = _recording(found)  # type: ignore[assignment]
    try:
        out = replan_module.replan(request, plan, **args)
    finally:
        solver_module.solve = original
    _write(f"{name}.replan-late.args", args)
    _write(f"{name}.replan-late.solutions", [dataclasses.asdict(s) for s in found])
    _write(f"{name}.replan-late.plan", out)


def replay() -> None:
    """Write the golden plans again from the recorded solver answers, without searching.

    For an addition to DESIGN §4 made on purpose (a new key in the plan): the plans come out of
    the same solutions, so only the new keys change. Plans recorded without solutions (the
    tiny morning, the district parts) keep their old form, which must still read and merge.
    """
    from tests.golden.test_golden import solution_of

    def read(name: str) -> Any:
        return json.loads((HERE / f"{name}.json").read_text(encoding="utf-8"))

    for day in ("day12-seed1", "day30-seed2"):
        req = parse_request(read(f"{day}.request"))
        (raw,) = read(f"{day}.solutions")
        plan = plan_from_solution(build_problem(req, None), solution_of(raw)).to_json()
        plan["plan_id"] = read(f"{day}.plan")["plan_id"]
        _write(f"{day}.plan", plan)
    for name in ("day30-seed2.replan-midday", "day30-seed2.replan-late", "tiny.replan-late"):
        day = name.split(".", maxsplit=1)[0]
        prep = replan_module.prepare_replan(
            read(f"{day}.request"), read(f"{day}.plan"), **read(f"{name}.args")
        )
        (raw,) = read(f"{name}.solutions")
        plan = replan_module.finish_replan(prep, solution_of(raw)).to_json()
        plan["plan_id"] = read(f"{name}.plan")["plan_id"]
        _write(f"{name}.plan", plan)


def main() -> None:
    """Record every golden case."""
    _tiny_late("tiny")
    _one_day("day12-seed1", 12, 1)
    request, plan = _one_day("day30-seed2", 30, 2)
    _replans("day30-seed2", request, plan)
    _district_day("day170-seed3")


if __name__ == "__main__":
    import sys

    replay() if "--replay" in sys.argv else main()
