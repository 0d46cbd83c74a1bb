"""The routing core: a planning problem as frozen, validated data.

The core knows nothing of dossiers, shuttles or JSON. It speaks of *locations* (indices into
integer travel matrices), *visits* (one node each: a location, a service-start window, a service
time and a load change), *jobs* (what is served or dropped as a whole: one visit, or a pickup
step followed by a delivery step on the same vehicle, each step a choice among alternative
visits), and *vehicles* (start and end locations, a travel profile, a capacity, a shift, breaks
and skills). The dossier domain (:mod:`routing.dossiers`) and the benchmark readers
(:mod:`routing.benchmarks`) both build a :class:`Problem`; :mod:`routing.solver` solves it.

Units: every time is an integer number of seconds since midnight of the plan's date (local
time), every distance an integer number of metres. Benchmark readers use the same integers for
their own units (tenths of a distance unit); the solver never looks at what they mean.
Float→int scaling happens in one place, :func:`to_int_matrix`, with the rounding named.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

IntMatrix = npt.NDArray[np.int64]

# The rounding rules allowed when turning fractional minutes or kilometres into the integer
# seconds and metres the solver needs. "ceil" never makes a leg shorter than it is (travel
# times); "round" is unbiased (distances); "trunc" is the DIMACS benchmark convention.
ROUND_FUNCS: dict[str, Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float64]]] = {
    "round": np.round,
    "ceil": lambda a: np.ceil(a - 1e-9),
    "trunc": lambda a: np.floor(a + 1e-9),
}

# Largest value one matrix entry may hold: keeps sums of a day's legs far from int64 overflow.
MAX_MATRIX_VALUE = 10**12


def to_int_matrix(values: npt.ArrayLike, *, scale: float, rounding: str, name: str) -> IntMatrix:
    """Scale a float matrix and round it to the integers the solver works in.

    Parameters
    ----------
    values
        Square matrix of non-negative finite numbers (e.g. minutes or kilometres).
    scale
        Factor applied before rounding (60 for minutes to seconds, 1000 for km to metres).
    rounding
        One of :data:`ROUND_FUNCS` (``"round"``, ``"ceil"``, ``"trunc"``).
    name
        What the matrix is, used in error messages.

    Returns
    -------
    numpy.ndarray
        An ``int64`` matrix of the same shape.

    Raises
    ------
    ValueError
        If the matrix is not square, holds negative or non-finite values, would overflow, or
        the rounding is unknown.
    """
    if rounding not in ROUND_FUNCS:
        msg = f"{name}: unknown rounding {rounding!r}; use one of {sorted(ROUND_FUNCS)}."
        raise ValueError(msg)
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        msg = f"{name}: the matrix must be square, got shape {arr.shape}."
        raise ValueError(msg)
    if not np.all(np.isfinite(arr)):
        msg = f"{name}: the matrix holds a value that is not a finite number."
        raise ValueError(msg)
    if arr.size and float(arr.min()) < 0:
        msg = f"{name}: the matrix holds a negative value ({float(arr.min())!r})."
        raise ValueError(msg)
    scaled = ROUND_FUNCS[rounding](arr * scale)
    if scaled.size and float(scaled.max()) > MAX_MATRIX_VALUE:
        msg = f"{name}: a value is too large once scaled ({float(scaled.max()):.0f})."
        raise ValueError(msg)
    return scaled.astype(np.int64)


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """A closed interval ``[early_s, late_s]`` of seconds since midnight of the plan's date."""

    early_s: int
    late_s: int

    def __post_init__(self) -> None:
        if self.late_s < self.early_s:
            msg = f"Time window ends ({self.late_s} s) before it starts ({self.early_s} s)."
            raise ValueError(msg)

    def intersect(self, other: TimeWindow) -> TimeWindow | None:
        """Return the overlap of two windows, or None when they do not meet."""
        early, late = max(self.early_s, other.early_s), min(self.late_s, other.late_s)
        return TimeWindow(early, late) if early <= late else None


@dataclass(frozen=True, slots=True)
class Profile:
    """Travel over all locations for one travel profile (a mode of travel).

    ``seconds[i, j]`` is the travel time and ``metres[i, j]`` the distance from location ``i`` to
    location ``j``, both integers.
    """

    name: str
    seconds: IntMatrix
    metres: IntMatrix

    def __post_init__(self) -> None:
        if self.seconds.shape != self.metres.shape or self.seconds.ndim != 2:
            msg = f"Profile {self.name!r}: seconds and metres must be square and the same shape."
            raise ValueError(msg)
        if self.seconds.shape[0] != self.seconds.shape[1]:
            msg = f"Profile {self.name!r}: matrices must be square, got {self.seconds.shape}."
            raise ValueError(msg)
        for label, mat in (("seconds", self.seconds), ("metres", self.metres)):
            if mat.dtype != np.int64:
                msg = f"Profile {self.name!r}: {label} must be int64, got {mat.dtype}."
                raise ValueError(msg)
            if mat.size and int(mat.min()) < 0:
                msg = f"Profile {self.name!r}: {label} holds a negative value."
                raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class Visit:
    """One node of the routing graph: a stop at a location.

    Parameters
    ----------
    location
        Index into the travel matrices.
    window
        When service may start.
    service_s
        Service time in seconds, spent after service starts.
    demand
        Change of the vehicle's load when the visit is done (+ picks up, − drops).
    skills
        Skills a vehicle needs to make this visit.
    vehicles
        If given, only these vehicle indices may make the visit.
    group
        Visits with the same non-empty group key done one after the other share one service time:
        only the last of the run spends ``service_s`` (several dossiers handed over in one stop).
    cost
        Cost added to the objective when the visit is made (e.g. the delay of a later shuttle).
    preferred_vehicle, move_cost
        When re-planning: the vehicle that had this visit, and the cost of giving it to another.
    name
        A label for messages and plans.
    """

    location: int
    window: TimeWindow
    service_s: int = 0
    demand: int = 0
    skills: frozenset[str] = frozenset()
    vehicles: frozenset[int] | None = None
    group: str = ""
    cost: int = 0
    preferred_vehicle: int | None = None
    move_cost: int = 0
    name: str = ""

    def __post_init__(self) -> None:
        if self.location < 0:
            msg = f"Visit {self.name!r}: location must be ≥ 0, got {self.location}."
            raise ValueError(msg)
        if self.service_s < 0:
            msg = f"Visit {self.name!r}: service_s must be ≥ 0, got {self.service_s}."
            raise ValueError(msg)
        if self.cost < 0:
            msg = f"Visit {self.name!r}: cost must be ≥ 0, got {self.cost}."
            raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class Job:
    """What is served or dropped as a whole.

    ``steps`` holds one or two steps; each step is a tuple of alternative visit indices of which
    exactly one is made when the job is served. With two steps, the second is made after the
    first by the same vehicle (pickup then delivery). ``penalty`` is the cost of leaving the job
    out; ``None`` makes it mandatory.
    """

    steps: tuple[tuple[int, ...], ...]
    penalty: int | None = None
    name: str = ""

    def __post_init__(self) -> None:
        if not 1 <= len(self.steps) <= 2:
            msg = f"Job {self.name!r}: needs one or two steps, got {len(self.steps)}."
            raise ValueError(msg)
        if any(not step for step in self.steps):
            msg = f"Job {self.name!r}: every step needs at least one visit."
            raise ValueError(msg)
        if self.penalty is not None and self.penalty < 0:
            msg = f"Job {self.name!r}: penalty must be ≥ 0, got {self.penalty}."
            raise ValueError(msg)

    @property
    def visits(self) -> tuple[int, ...]:
        """All visit indices of the job, step by step."""
        return tuple(v for step in self.steps for v in step)


@dataclass(frozen=True, slots=True)
class Break:
    """A break of ``duration_s`` that starts and ends inside ``window``."""

    window: TimeWindow
    duration_s: int
    name: str = "break"

    def __post_init__(self) -> None:
        if self.duration_s <= 0:
            msg = f"Break {self.name!r}: duration_s must be > 0, got {self.duration_s}."
            raise ValueError(msg)
        if self.window.early_s + self.duration_s > self.window.late_s:
            msg = (
                f"Break {self.name!r}: {self.duration_s} s do not fit in the window "
                f"[{self.window.early_s}, {self.window.late_s}] s."
            )
            raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class Vehicle:
    """A courier (or a benchmark vehicle).

    ``shift`` bounds the departure from the start and the arrival at the end;
    ``initial_load`` is what the vehicle already carries when it starts (re-planning).
    """

    start: int
    end: int
    profile: str
    capacity: int
    shift: TimeWindow
    breaks: tuple[Break, ...] = ()
    skills: frozenset[str] = frozenset()
    fixed_cost: int = 0
    initial_load: int = 0
    name: str = ""

    def __post_init__(self) -> None:
        if self.capacity < 0:
            msg = f"Vehicle {self.name!r}: capacity must be ≥ 0, got {self.capacity}."
            raise ValueError(msg)
        if not 0 <= self.initial_load <= max(self.capacity, self.initial_load):
            msg = f"Vehicle {self.name!r}: initial_load must be ≥ 0, got {self.initial_load}."
            raise ValueError(msg)
        if self.fixed_cost < 0:
            msg = f"Vehicle {self.name!r}: fixed_cost must be ≥ 0, got {self.fixed_cost}."
            raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class Weights:
    """Objective weights of the travel part: cost per second travelled and per metre."""

    per_second: int = 1
    per_metre: int = 0

    def __post_init__(self) -> None:
        if self.per_second < 0 or self.per_metre < 0:
            msg = "Weights must be ≥ 0."
            raise ValueError(msg)


@dataclass(frozen=True)
class Problem:
    """A complete, validated routing problem. Build it with :class:`ProblemBuilder`.

    ``early_service`` adds a cost of one unit per second a service starts after its window opens,
    so that plans serve people early in their windows rather than at the last minute.
    """

    profiles: Mapping[str, Profile]
    visits: tuple[Visit, ...]
    jobs: tuple[Job, ...]
    vehicles: tuple[Vehicle, ...]
    horizon_s: int
    weights: Weights = field(default_factory=Weights)
    early_service: bool = False

    def __post_init__(self) -> None:
        n_loc = self._check_profiles()
        self._check_visits(n_loc)
        self._check_jobs()
        for veh in self.vehicles:
            self._check_vehicle(veh, n_loc)
        if self.vehicles:
            self._check_allowed_vehicles()

    def _check_profiles(self) -> int:
        """Every profile covers the same locations; return how many."""
        sizes = {p.seconds.shape[0] for p in self.profiles.values()}
        if len(sizes) > 1:
            msg = f"All profiles must cover the same locations, got sizes {sorted(sizes)}."
            raise ValueError(msg)
        return sizes.pop() if sizes else 0

    def _check_visits(self, n_loc: int) -> None:
        for v in self.visits:
            if v.location >= n_loc:
                msg = f"Visit {v.name!r}: location {v.location} is not in the matrices."
                raise ValueError(msg)
            if v.window.early_s < 0 or v.window.late_s > self.horizon_s:
                msg = f"Visit {v.name!r}: window outside [0, horizon {self.horizon_s}] s."
                raise ValueError(msg)

    def _check_jobs(self) -> None:
        """Every visit belongs to exactly one job."""
        seen: set[int] = set()
        for job in self.jobs:
            for idx in job.visits:
                if not 0 <= idx < len(self.visits):
                    msg = f"Job {job.name!r}: visit {idx} does not exist."
                    raise ValueError(msg)
                if idx in seen:
                    msg = f"Job {job.name!r}: visit {idx} already belongs to another job."
                    raise ValueError(msg)
                seen.add(idx)
        if len(seen) != len(self.visits):
            msg = "Every visit must belong to exactly one job."
            raise ValueError(msg)

    def _check_vehicle(self, veh: Vehicle, n_loc: int) -> None:
        if veh.profile not in self.profiles:
            msg = f"Vehicle {veh.name!r}: unknown profile {veh.profile!r}."
            raise ValueError(msg)
        if not (0 <= veh.start < n_loc and 0 <= veh.end < n_loc):
            msg = f"Vehicle {veh.name!r}: start or end location is not in the matrices."
            raise ValueError(msg)
        if veh.shift.early_s < 0 or veh.shift.late_s > self.horizon_s:
            msg = f"Vehicle {veh.name!r}: shift outside [0, horizon {self.horizon_s}] s."
            raise ValueError(msg)

    def _check_allowed_vehicles(self) -> None:
        for v in self.visits:
            if v.vehicles is not None and any(not 0 <= k < len(self.vehicles) for k in v.vehicles):
                msg = f"Visit {v.name!r}: names a vehicle that does not exist."
                raise ValueError(msg)

    @property
    def num_locations(self) -> int:
        """Number of locations the matrices cover."""
        return next(iter(self.profiles.values())).seconds.shape[0] if self.profiles else 0

    def can_serve(self, vehicle: int, visit: int) -> bool:
        """Return whether ``vehicle`` may make ``visit`` (skills and allowed vehicles)."""
        vis = self.visits[visit]
        if vis.vehicles is not None and vehicle not in vis.vehicles:
            return False
        return vis.skills <= self.vehicles[vehicle].skills


class ProblemBuilder:
    """Mutable helper that collects locations, visits, jobs and vehicles, then builds a Problem.

    Examples
    --------
    >>> b = ProblemBuilder(horizon_s=86_400)
    """

    def __init__(
        self, *, horizon_s: int, weights: Weights | None = None, early_service: bool = False
    ) -> None:
        self.horizon_s = horizon_s
        self.early_service = early_service
        self.weights = weights or Weights()
        self.profiles: dict[str, Profile] = {}
        self.visits: list[Visit] = []
        self.jobs: list[Job] = []
        self.vehicles: list[Vehicle] = []

    def add_profile(self, name: str, seconds: IntMatrix, metres: IntMatrix) -> None:
        """Add the integer travel matrices of one profile."""
        self.profiles[name] = Profile(name, seconds, metres)

    def add_visit(self, visit: Visit) -> int:
        """Add a visit and return its index."""
        self.visits.append(visit)
        return len(self.visits) - 1

    def add_job(
        self, steps: Sequence[Sequence[Visit]], *, penalty: int | None, name: str = ""
    ) -> int:
        """Add a job made of one or two steps of alternative visits; return the job index."""
        idx_steps = tuple(tuple(self.add_visit(v) for v in step) for step in steps)
        self.jobs.append(Job(idx_steps, penalty, name))
        return len(self.jobs) - 1

    def add_vehicle(self, vehicle: Vehicle) -> int:
        """Add a vehicle and return its index."""
        self.vehicles.append(vehicle)
        return len(self.vehicles) - 1

    def build(self) -> Problem:
        """Return the frozen, validated :class:`Problem`."""
        return Problem(
            profiles=dict(self.profiles),
            visits=tuple(self.visits),
            jobs=tuple(self.jobs),
            vehicles=tuple(self.vehicles),
            horizon_s=self.horizon_s,
            weights=self.weights,
            early_service=self.early_service,
        )


@dataclass(frozen=True, slots=True)
class SolveParams:
    """Solver knobs, kept apart from the problem.

    Parameters
    ----------
    time_limit_s
        Wall-clock limit of the search, in seconds.
    solution_limit
        If given, the search also stops after this many solutions (OR-Tools) or iterations
        (PyVRP), whichever of the two limits comes first. A search stopped by this limit does not
        depend on how fast or busy the machine is, so tests and reproducible runs set it with a
        generous time limit.
    first_solution
        OR-Tools first solution strategy name (insertion-based by default: it finds feasible
        plans on tight windows where PATH_CHEAPEST_ARC finds none).
    metaheuristic
        OR-Tools local search metaheuristic name.
    seed
        Kept for reproducibility records; OR-Tools' routing search is deterministic for a given
        model, so equal seeds give equal plans when the search is not cut by the time limit.
    log_search
        Let OR-Tools print its search log.
    engine
        ``"auto"`` (PyVRP for the plain problems it expresses exactly, see
        :mod:`routing.engine_pyvrp`; OR-Tools otherwise), ``"ortools"`` or ``"pyvrp"``.
    initial_routes
        A known solution to start the search from (OR-Tools): each vehicle's visits in order
        (visit indices; ``()`` for a vehicle that stays). Ignored when OR-Tools finds it
        infeasible; the search then starts from scratch.
    """

    time_limit_s: float = 10.0
    first_solution: str = "PARALLEL_CHEAPEST_INSERTION"
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    seed: int = 0
    log_search: bool = False
    engine: str = "auto"
    solution_limit: int | None = None
    initial_routes: tuple[tuple[int, ...], ...] | None = None

    def __post_init__(self) -> None:
        if self.solution_limit is not None and self.solution_limit < 1:
            msg = f"solution_limit must be a positive whole number, got {self.solution_limit!r}."
            raise ValueError(msg)
        if self.engine not in ("auto", "ortools", "pyvrp"):
            msg = f"engine must be 'auto', 'ortools' or 'pyvrp', got {self.engine!r}."
            raise ValueError(msg)
        if not (math.isfinite(self.time_limit_s) and self.time_limit_s > 0):
            msg = f"time_limit_s must be a positive number of seconds, got {self.time_limit_s!r}."
            raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class Progress:
    """A report from the search: time since it began, best cost so far, solutions found."""

    elapsed_s: float
    best_cost: int
    solutions: int


@dataclass(frozen=True, slots=True)
class RouteStep:
    """One visit on a route, with its service start time and the load after it."""

    visit: int
    start_s: int
    load: int


@dataclass(frozen=True, slots=True)
class Route:
    """The route of one vehicle: depart time, steps, breaks taken ``(start_s, duration_s)``,
    and arrival time at the end."""

    vehicle: int
    depart_s: int
    steps: tuple[RouteStep, ...]
    breaks: tuple[tuple[int, int], ...]
    end_s: int


@dataclass(frozen=True, slots=True)
class Solution:
    """The solver's answer: routes of used vehicles, dropped job indices and search figures."""

    routes: tuple[Route, ...]
    dropped: tuple[int, ...]
    cost: int
    runtime_s: float
    solutions: int
    status: str
