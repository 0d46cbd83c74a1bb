"""Readers for the standard routing benchmarks, into the same core the service plans with.

Solomon (VRPTW) and Gehring–Homberger files: a header with the vehicle count and capacity, then
one line per node ``number x y demand ready due service`` (node 0 is the depot). Li & Lim
(PDPTW) files: a first line ``vehicles capacity speed`` then ``number x y demand ready due service
pickup_sibling delivery_sibling``. Travel time equals Euclidean distance.

Scaling (the conventions of ``/work/shared/benchmarks/README.md``), chosen by
``read_instance(..., convention=)``:

- ``"dimacs"`` (default): integer tenths of a distance unit with distances and times truncated,
  ``floor(10·d)``: the distance-only (DIMACS) convention. A route can be feasible here and not
  with exact times, so its length must not be compared with a best-known computed exactly.
- ``"exact"``: integer thousandths, travel times rounded *up* (``ceil(1000·d)``) and distances
  rounded to the nearest: every solution feasible in integers is feasible with exact
  double-precision times, so it can honestly be compared with the hierarchical best-known
  (the only one published for Li & Lim).

:func:`route_length` gives exact Euclidean lengths for the hierarchical convention.
:func:`check_solution` re-checks a solution from the instance data alone (every customer once,
capacity, windows, pickup before delivery on one route) in either convention.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from routing.model import (
    Problem,
    ProblemBuilder,
    Solution,
    TimeWindow,
    Vehicle,
    Visit,
    Weights,
    to_int_matrix,
)

SCALE = 10  # integer units per distance unit (one decimal, truncated): the DIMACS convention
EXACT_SCALE = 1000  # integer units per distance unit in the exact convention (times rounded up)
CONVENTIONS = ("dimacs", "exact")
# Penalty for leaving a customer out, per integer unit of SCALE: far above any route length, so
# every customer is served when the search can, and a partial answer still comes back when not.
MISSING_PENALTY = 10_000_000


@dataclass(frozen=True)
class Node:
    """One line of an instance file."""

    number: int
    x: float
    y: float
    demand: int
    ready: float
    due: float
    service: float
    pickup_sibling: int = 0
    delivery_sibling: int = 0


@dataclass(frozen=True)
class Instance:
    """A benchmark instance: its nodes, fleet and the core problem built from it."""

    name: str
    kind: str  # "vrptw" or "pdptw"
    vehicles: int
    capacity: int
    nodes: tuple[Node, ...]
    problem: Problem
    visit_node: tuple[int, ...]  # core visit index → instance node number


def _read_nodes(path: Path) -> tuple[str, int, int, list[Node]]:
    text = path.read_text().split("\n")
    lines = [ln.split() for ln in text if ln.strip()]
    if lines and len(lines[0]) == 3 and all(re.fullmatch(r"[\d.]+", t) for t in lines[0]):
        vehicles, capacity = int(lines[0][0]), int(float(lines[0][1]))
        nodes = [
            Node(
                int(t[0]),
                float(t[1]),
                float(t[2]),
                int(float(t[3])),
                float(t[4]),
                float(t[5]),
                float(t[6]),
                int(t[7]),
                int(t[8]),
            )
            for t in lines[1:]
            if len(t) >= 9
        ]
        return "pdptw", vehicles, capacity, nodes
    vehicles = capacity = -1
    nodes = []
    for i, t in enumerate(lines):
        if t[0].upper() == "NUMBER" and i + 1 < len(lines):
            vehicles, capacity = int(lines[i + 1][0]), int(lines[i + 1][1])
        if len(t) == 7 and all(re.fullmatch(r"-?[\d.]+", x) for x in t):
            nodes.append(
                Node(
                    int(t[0]),
                    float(t[1]),
                    float(t[2]),
                    int(float(t[3])),
                    float(t[4]),
                    float(t[5]),
                    float(t[6]),
                )
            )
    if vehicles < 0 or not nodes:
        msg = f"{path}: not a Solomon or Li & Lim instance file."
        raise ValueError(msg)
    return "vrptw", vehicles, capacity, nodes


def euclid(nodes: Sequence[Node]) -> np.ndarray:
    """Exact Euclidean distances between all nodes (float64, ``(n, n)``)."""
    xy = np.array([[n.x, n.y] for n in nodes], dtype=np.float64)
    diff = xy[:, None, :] - xy[None, :, :]
    out: np.ndarray = np.sqrt((diff**2).sum(axis=2))
    return out


def read_instance(path: str | Path, *, convention: str = "dimacs") -> Instance:
    """Read a Solomon, Gehring–Homberger or Li & Lim file into a core problem.

    Parameters
    ----------
    path
        The instance file.
    convention
        ``"dimacs"``: tenths of a unit, distances and times truncated (distance-only
        convention). ``"exact"``: thousandths, travel and service times rounded up and window
        ends rounded inwards, so an integer-feasible solution is feasible with exact times.

    Returns
    -------
    Instance
        The nodes and the :class:`~routing.model.Problem` in integer units of the convention.

    Raises
    ------
    ValueError
        If the file is not in one of the formats, or the convention is unknown.
    """
    if convention not in CONVENTIONS:
        msg = f"convention: unknown {convention!r}; use one of {', '.join(CONVENTIONS)}."
        raise ValueError(msg)
    path = Path(path)
    kind, vehicles, capacity, nodes = _read_nodes(path)
    nodes.sort(key=lambda n: n.number)
    if nodes[0].number != 0:
        msg = f"{path}: node 0 (the depot) is missing."
        raise ValueError(msg)
    exact = convention == "exact"
    scale = EXACT_SCALE if exact else SCALE
    d = euclid(nodes)
    if exact:
        secs = to_int_matrix(d, scale=scale, rounding="ceil", name=f"{path.name}")
        dist = to_int_matrix(d, scale=scale, rounding="round", name=f"{path.name}")
    else:
        secs = dist = to_int_matrix(d, scale=scale, rounding="trunc", name=f"{path.name}")
    depot = nodes[0]
    horizon = math.floor(depot.due * scale)
    b = ProblemBuilder(horizon_s=horizon, weights=Weights(per_second=0, per_metre=1))
    b.add_profile("euclid", secs, dist)
    penalty = MISSING_PENALTY * (scale // SCALE)

    def visit(n: Node) -> Visit:
        service = math.ceil(n.service * scale - 1e-9) if exact else round(n.service * scale)
        return Visit(
            location=n.number,
            window=TimeWindow(math.ceil(n.ready * scale), math.floor(n.due * scale)),
            service_s=service,
            demand=n.demand,
            name=str(n.number),
        )

    visit_node: list[int] = []
    if kind == "vrptw":
        for n in nodes[1:]:
            b.add_job([[visit(n)]], penalty=penalty, name=str(n.number))
            visit_node.append(n.number)
    else:
        by_number = {n.number: n for n in nodes}
        for n in nodes[1:]:
            if n.delivery_sibling:  # a pickup
                sib = by_number[n.delivery_sibling]
                b.add_job([[visit(n)], [visit(sib)]], penalty=penalty, name=str(n.number))
                visit_node.extend((n.number, sib.number))
    shift = TimeWindow(math.ceil(depot.ready * scale), horizon)
    for k in range(vehicles):
        b.add_vehicle(Vehicle(0, 0, "euclid", capacity, shift, name=f"v{k + 1}"))
    return Instance(path.stem, kind, vehicles, capacity, tuple(nodes), b.build(), tuple(visit_node))


def routes_as_nodes(instance: Instance, solution: Solution) -> list[list[int]]:
    """The solution's routes as lists of instance node numbers (depot left out)."""
    return [[instance.visit_node[s.visit] for s in r.steps] for r in solution.routes if r.steps]


def route_length(instance: Instance, routes: Sequence[Sequence[int]], *, truncated: bool) -> float:
    """Total length of routes from and back to the depot.

    ``truncated=True`` sums ``floor(10·d)/10`` (distance-only convention); ``False`` sums exact
    Euclidean distances (hierarchical convention).
    """
    dist = euclid(instance.nodes)
    total = 0.0
    for route in routes:
        path = [0, *route, 0]
        for a, b in itertools.pairwise(path):
            d = float(dist[a, b])
            total += math.floor(d * SCALE + 1e-9) / SCALE if truncated else d
    return total


def check_solution(
    instance: Instance, routes: Sequence[Sequence[int]], *, truncated: bool = True
) -> list[str]:
    """Re-check routes against the instance data alone; return the broken rules (empty if none).

    Times follow the convention: truncated to one decimal (``truncated=True``) or exact.
    """
    problems: list[str] = []
    nodes = {n.number: n for n in instance.nodes}
    dist = euclid(instance.nodes)
    seen: dict[int, int] = {}
    if len(routes) > instance.vehicles:
        problems.append(f"{len(routes)} routes for {instance.vehicles} vehicles")
    for r, route in enumerate(routes):
        t = nodes[0].ready
        load = 0
        peak = 0
        prev = 0
        pos: dict[int, int] = {}
        for i, num in enumerate(route):
            if num in seen:
                problems.append(f"customer {num} served twice")
            seen[num] = r
            pos[num] = i
            d = float(dist[prev, num])
            leg = math.floor(d * SCALE + 1e-9) / SCALE if truncated else d
            t = max(t + (nodes[prev].service if prev else 0) + leg, nodes[num].ready)
            if t > nodes[num].due + 1e-6:
                problems.append(
                    f"route {r + 1}: customer {num} served at {t:.1f} > {nodes[num].due}"
                )
            load += nodes[num].demand
            peak = max(peak, load)
            if load < 0:
                problems.append(f"route {r + 1}: load below zero at {num}")
            prev = num
        d = float(dist[prev, 0])
        leg = math.floor(d * SCALE + 1e-9) / SCALE if truncated else d
        back = t + (nodes[prev].service if prev else 0) + leg
        if back > nodes[0].due + 1e-6:
            problems.append(f"route {r + 1}: back at the depot at {back:.1f} > {nodes[0].due}")
        if peak > instance.capacity:
            problems.append(f"route {r + 1}: load {peak} > capacity {instance.capacity}")
        for num in route:
            sib = nodes[num].delivery_sibling
            if sib and (sib not in pos or pos[sib] < pos[num]):
                problems.append(f"route {r + 1}: delivery {sib} not after its pickup {num}")
    missing = sorted(n.number for n in instance.nodes[1:] if n.number not in seen)
    if missing:
        problems.append(f"customers not served: {missing[:10]}{'…' if len(missing) > 10 else ''}")
    return problems


def write_vrplib_solution(path: str | Path, routes: Sequence[Sequence[int]], cost: float) -> None:
    """Write routes in the VRPLIB solution format (``Route #1: 3 7 12`` … ``Cost 828.9``)."""
    lines = [f"Route #{i + 1}: {' '.join(str(n) for n in r)}" for i, r in enumerate(routes)]
    lines.append(f"Cost {cost:.1f}" if cost != int(cost) else f"Cost {int(cost)}")
    Path(path).write_text("\n".join(lines) + "\n")
