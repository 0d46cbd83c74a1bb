"""The routing core's data: validation at construction and explicit float→int scaling."""

from __future__ import annotations

import numpy as np
import pytest

from routing.engines import solve
from routing.model import (
    Break,
    Job,
    ProblemBuilder,
    SolveParams,
    TimeWindow,
    Vehicle,
    Visit,
    to_int_matrix,
)

# A search that stops after 50 solutions: the same answer on any machine.
SEARCH = SolveParams(time_limit_s=60, solution_limit=50)


def test_to_int_matrix_rounds_as_named() -> None:
    """1.25 min → 75 s exactly; 0.0101 min → 0.606 s: ceil 1, round 1, trunc 0."""
    m = np.array([[0.0, 1.25], [0.0101, 0.0]])
    assert to_int_matrix(m, scale=60, rounding="ceil", name="t").tolist() == [[0, 75], [1, 0]]
    assert to_int_matrix(m, scale=60, rounding="round", name="t").tolist() == [[0, 75], [1, 0]]
    assert to_int_matrix(m, scale=60, rounding="trunc", name="t").tolist() == [[0, 75], [0, 0]]


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ([[0.0, -1.0], [1.0, 0.0]], "negative"),
        ([[0.0, float("nan")], [1.0, 0.0]], "finite"),
        ([[0.0, 1.0]], "square"),
    ],
)
def test_to_int_matrix_rejects_bad_values(values: list[list[float]], words: str) -> None:
    """Negative, NaN and non-square matrices are refused with a message naming the matrix."""
    with pytest.raises(ValueError, match=words):
        to_int_matrix(values, scale=1, rounding="round", name="travel")


def test_invalid_core_objects_are_refused() -> None:
    """An inverted window, a break longer than its window and a job without steps all fail."""
    with pytest.raises(ValueError, match="before it starts"):
        TimeWindow(10, 5)
    with pytest.raises(ValueError, match="do not fit"):
        Break(TimeWindow(0, 30), 60)
    with pytest.raises(ValueError, match="one or two steps"):
        Job(())
    with pytest.raises(ValueError, match="capacity"):
        Vehicle(0, 0, "p", -1, TimeWindow(0, 10))
    with pytest.raises(ValueError, match="time_limit_s"):
        SolveParams(time_limit_s=0)
    with pytest.raises(ValueError, match="solution_limit must be a positive whole number"):
        SolveParams(solution_limit=0)


def _two_locations() -> ProblemBuilder:
    b = ProblemBuilder(horizon_s=1000)
    sec = np.array([[0, 100], [100, 0]], dtype=np.int64)
    b.add_profile("p", sec, sec)
    return b


def test_problem_checks_locations_and_vehicles() -> None:
    """A visit at a location outside the matrices is refused when the problem is built."""
    b = _two_locations()
    b.add_job([[Visit(5, TimeWindow(0, 100))]], penalty=1)
    with pytest.raises(ValueError, match="not in the matrices"):
        b.build()


def test_core_solve_without_vehicles_drops_optional_jobs_without_calling_ortools() -> None:
    """Zero vehicles: every optional job is dropped; a mandatory one is a clear ValueError."""
    b = _two_locations()
    b.add_job([[Visit(1, TimeWindow(0, 500))]], penalty=10)
    sol = solve(b.build(), SEARCH)
    assert sol.dropped == (0,) and sol.routes == ()
    b2 = _two_locations()
    b2.add_job([[Visit(1, TimeWindow(0, 500))]], penalty=None, name="must")
    with pytest.raises(ValueError, match="must"):
        solve(b2.build(), SEARCH)


def test_core_pickup_and_delivery_with_alternatives() -> None:
    """One vehicle, pickup at 1 then one of two delivery alternatives at 0.

    Alternative A closes at 150 s (unreachable: pickup at 100 s + 100 s travel = 200 s),
    alternative B closes at 500 s but costs 7: the solver must take B, at 200 s, after the pickup.
    """
    b = _two_locations()
    b.add_job(
        [
            [Visit(1, TimeWindow(0, 500), demand=1, name="p")],
            [
                Visit(0, TimeWindow(0, 150), demand=-1, name="A"),
                Visit(0, TimeWindow(0, 500), demand=-1, cost=7, name="B"),
            ],
        ],
        penalty=10_000,
    )
    b.add_vehicle(Vehicle(0, 0, "p", 1, TimeWindow(0, 1000)))
    problem = b.build()
    sol = solve(problem, SEARCH)
    (route,) = sol.routes
    assert [problem.visits[s.visit].name for s in route.steps] == ["p", "B"]
    assert [s.start_s for s in route.steps] == [100, 200]
    assert [s.load for s in route.steps] == [1, 0]


def test_a_solution_limit_stops_the_search_at_that_many_solutions_with_the_same_answer() -> None:
    """Two vehicles, four droppable visits: a search limited to 7 solutions stops at exactly 7
    (guided local search alone would run to the 60 s time limit) and gives the same routes and
    cost each time, however long each solution took to find."""
    b = ProblemBuilder(horizon_s=10_000)
    sec = np.array(
        [[0, 100, 200, 300], [100, 0, 100, 200], [200, 100, 0, 100], [300, 200, 100, 0]],
        dtype=np.int64,
    )
    b.add_profile("p", sec, sec)
    for loc in (1, 2, 3, 3):
        b.add_job([[Visit(loc, TimeWindow(0, 5_000), service_s=10)]], penalty=100_000)
    for _ in range(2):
        b.add_vehicle(Vehicle(0, 0, "p", 10, TimeWindow(0, 10_000)))
    problem = b.build()
    params = SolveParams(time_limit_s=60, solution_limit=7, engine="ortools")
    first, second = solve(problem, params), solve(problem, params)
    assert first.solutions == second.solutions == 7
    assert (first.routes, first.dropped, first.cost) == (second.routes, second.dropped, second.cost)
    assert first.dropped == ()
