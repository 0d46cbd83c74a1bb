"""Benchmark readers feed the same core and solver as plans; their independent check can fail."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from routing.benchmarks import (
    check_solution,
    read_instance,
    route_length,
    routes_as_nodes,
    write_vrplib_solution,
)
from routing.engines import solve
from routing.model import SolveParams

DATA = Path("/work/shared/benchmarks")
# Searches stop after a number of solutions (OR-Tools) or iterations (PyVRP), so each answer is
# the same on any machine; the time limit only bounds a search gone wrong.
SEARCH = SolveParams(time_limit_s=120, solution_limit=30)
# OR-Tools' local search takes far longer a solution than a PyVRP iteration on 100 customers.
LIMIT = {"pyvrp": 30, "ortools": 5}
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
    sol = solve(inst.problem, SEARCH)
    routes = routes_as_nodes(inst, sol)
    assert check_solution(inst, routes) == []
    assert route_length(inst, routes, truncated=True) >= 827.3 - 1e-6


def test_li_lim_pairs_become_pickup_delivery_jobs() -> None:
    """lc101: pickup-delivery pairs become two-step jobs; the solution keeps each pair in order."""
    inst = read_instance(DATA / "lilim_100" / "lc101.txt")
    assert inst.kind == "pdptw"
    assert all(len(j.steps) == 2 for j in inst.problem.jobs)
    sol = solve(inst.problem, SEARCH)
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
        sol = solve(inst.problem, replace(SEARCH, engine=engine, solution_limit=LIMIT[engine]))
        assert check_solution(inst, routes_as_nodes(inst, sol)) == [], engine
    day = parse_request(
        request([pickup("P1", ["09:00", "10:00"])], {"P1": 10}, couriers=[courier()])
    )
    assert not engine_pyvrp.can_solve(build_problem(day).problem)


def _tiny_solomon(tmp_path: Path) -> Path:
    """A two-customer VRPTW whose customer 1 is reachable only with truncated times."""
    text = (
        "TINY\n\nVEHICLE\nNUMBER     CAPACITY\n  2         10\n\nCUSTOMER\n"
        "CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME\n"
        "    0      0          0          0          0        100          0\n"
        "    1      1          1          1          0        1.41         0\n"
        "    2      3          4          1          0        50           0\n"
    )
    path = tmp_path / "TINY.txt"
    path.write_text(text)
    return path


def test_truncated_times_can_pass_a_route_exact_times_break(tmp_path: Path) -> None:
    """Customer 1 lies sqrt(2) ≈ 1.414 away and closes at 1.41.

    Truncated to one decimal the leg is 1.4 ≤ 1.41, so the distance-only solve serves it and the
    truncated check passes, while the exact check finds it served at 1.414 > 1.41. Solved in the
    exact convention (times rounded up to thousandths: 1.415) it cannot be served, and the answer
    is reported as such rather than passed off as feasible.
    """
    path = _tiny_solomon(tmp_path)
    dimacs = read_instance(path)
    routes = routes_as_nodes(dimacs, solve(dimacs.problem, replace(SEARCH, engine="ortools")))
    assert sorted(n for r in routes for n in r) == [1, 2]
    assert check_solution(dimacs, routes, truncated=True) == []
    assert any(
        "customer 1 served at 1.4" in p for p in check_solution(dimacs, routes, truncated=False)
    )
    exact = read_instance(path, convention="exact")
    assert int(exact.problem.profiles["euclid"].seconds[0, 1]) == 1415  # ceil(1414.21)
    assert int(exact.problem.profiles["euclid"].metres[0, 1]) == 1414  # round(1414.21)
    served = routes_as_nodes(exact, solve(exact.problem, replace(SEARCH, engine="ortools")))
    assert [n for r in served for n in r] == [2]


def test_exact_convention_solutions_are_feasible_with_exact_times() -> None:
    """lr101 solved in the exact convention passes the check with exact double-precision times.

    Its hierarchical best-known is 19 vehicles / 1650.80 (exact); a feasible answer is at least
    that long.
    """
    inst = read_instance(DATA / "lilim_100" / "lr101.txt", convention="exact")
    routes = routes_as_nodes(inst, solve(inst.problem, SEARCH))
    assert check_solution(inst, routes, truncated=False) == []
    assert route_length(inst, routes, truncated=False) >= 1650.80 - 1e-2
    with pytest.raises(ValueError, match="convention: unknown 'floor'"):
        read_instance(DATA / "lilim_100" / "lr101.txt", convention="floor")
