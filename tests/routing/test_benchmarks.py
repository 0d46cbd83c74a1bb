"""Benchmark readers feed the same core and solver as plans; their independent check can fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.benchmarks import (
    check_solution,
    read_instance,
    route_length,
    routes_as_nodes,
    write_vrplib_solution,
)
from routing.model import SolveParams
from routing.solver import solve

DATA = Path("/work/shared/benchmarks")
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="shared benchmark data not present")


def test_solomon_c101_is_read_and_solved_feasibly() -> None:
    """C101: 100 customers, 25 vehicles of 200; a 2 s solve serves all, passing the check.

    C101's distance-only best-known is 827.3 with 10 vehicles; a feasible answer is at least that.
    """
    inst = read_instance(DATA / "solomon_100" / "C101.txt")
    assert (inst.kind, inst.vehicles, inst.capacity, len(inst.problem.jobs)) == (
        "vrptw",
        25,
        200,
        100,
    )
    sol = solve(inst.problem, SolveParams(time_limit_s=2))
    routes = routes_as_nodes(inst, sol)
    assert check_solution(inst, routes) == []
    assert route_length(inst, routes, truncated=True) >= 827.3 - 1e-6


def test_li_lim_pairs_become_pickup_delivery_jobs() -> None:
    """lc101: pickup-delivery pairs become two-step jobs; the solution keeps each pair in order."""
    inst = read_instance(DATA / "lilim_100" / "lc101.txt")
    assert inst.kind == "pdptw"
    assert all(len(j.steps) == 2 for j in inst.problem.jobs)
    sol = solve(inst.problem, SolveParams(time_limit_s=2))
    assert check_solution(inst, routes_as_nodes(inst, sol)) == []


def test_check_solution_finds_broken_routes(tmp_path: Path) -> None:
    """A route missing customers, and one serving customer 1 twice, are both reported."""
    inst = read_instance(DATA / "solomon_100" / "C101.txt")
    problems = check_solution(inst, [[1, 1]])
    assert any("twice" in p for p in problems)
    assert any("not served" in p for p in problems)
    out = tmp_path / "x.sol"
    write_vrplib_solution(out, [[3, 7], [12]], 42.5)
    assert out.read_text() == "Route #1: 3 7\nRoute #2: 12\nCost 42.5\n"


def test_pyvrp_and_ortools_both_solve_c101_feasibly_through_one_entry_point() -> None:
    """``engine="pyvrp"`` and ``engine="ortools"`` both give routes passing the independent check.

    C101 is a plain VRPTW, so PyVRP can express it; a dossier day (breaks, hand-offs) cannot.
    """
    from routing import engine_pyvrp
    from routing.dossiers import build_problem
    from routing.request import parse_request
    from tests.routing.helpers import courier, pickup, request

    inst = read_instance(DATA / "solomon_100" / "C101.txt")
    assert engine_pyvrp.can_solve(inst.problem)
    for engine in ("pyvrp", "ortools"):
        sol = solve(inst.problem, SolveParams(time_limit_s=2, engine=engine))
        assert check_solution(inst, routes_as_nodes(inst, sol)) == [], engine
    day = parse_request(
        request([pickup("P1", ["09:00", "10:00"])], {"P1": 10}, couriers=[courier()])
    )
    assert not engine_pyvrp.can_solve(build_problem(day).problem)
