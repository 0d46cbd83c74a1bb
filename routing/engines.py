"""The choice of engine: PyVRP when it expresses the problem exactly, OR-Tools otherwise.

:mod:`routing.engine_pyvrp` speaks PyVRP and :mod:`routing.solver` speaks OR-Tools; this module
speaks neither. PyVRP is far stronger on the plain time-window problems it expresses (the
Solomon, Gehring–Homberger and Li & Lim benchmarks); every dossier day has breaks, runs and
hand-offs PyVRP cannot express (:func:`routing.engine_pyvrp.can_solve`), and goes to OR-Tools.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from routing import engine_pyvrp, solver
from routing.model import Problem, Progress, Solution, SolveParams


def solve(
    problem: Problem,
    params: SolveParams | None = None,
    *,
    on_progress: Callable[[Progress], None] | None = None,
) -> Solution:
    """Solve a routing problem with the engine that fits it.

    With ``params.engine`` ``"auto"`` (the default), PyVRP solves the problems it expresses
    exactly, and when it finds no feasible solution OR-Tools searches for the rest of half the
    time limit. ``"pyvrp"`` answers ``no_solution`` instead of falling back; ``"ortools"``, or a
    problem PyVRP cannot express, goes to OR-Tools alone.

    Parameters
    ----------
    problem
        The validated problem.
    params
        Time limit (seconds), solution limit, engine, seed and OR-Tools' strategies.
    on_progress
        Called with a :class:`~routing.model.Progress` at each improving solution (once, at the
        end, from PyVRP).

    Returns
    -------
    Solution
        Routes of the vehicles that leave their start, and the jobs left out.

    Raises
    ------
    ValueError
        If a mandatory job cannot be made by any vehicle, or a parameter is unknown.
    """
    params = params or SolveParams()
    if params.initial_routes or not _pyvrp_fits(problem, params):  # a warm start: OR-Tools
        return solver.solve(problem, params, on_progress=on_progress)
    began = time.monotonic()
    found = engine_pyvrp.solve(problem, params, on_progress=on_progress)
    if found is not None:
        return found
    if params.engine == "pyvrp":
        return solver.nothing_served(problem, time.monotonic() - began, 0, "no_solution")
    rest = replace(params, time_limit_s=max(1.0, params.time_limit_s / 2))
    return solver.solve(problem, rest, on_progress=on_progress, began=began)


def _pyvrp_fits(problem: Problem, params: SolveParams) -> bool:
    """Whether PyVRP is asked for and expresses ``problem`` exactly, with something to route.

    A problem PyVRP expresses has no skills or vehicle restrictions, so with a vehicle every job
    is servable; without vehicles or jobs OR-Tools' side answers at once.
    """
    if params.engine == "ortools" or not problem.vehicles or not problem.jobs:
        return False
    return engine_pyvrp.can_solve(problem)
