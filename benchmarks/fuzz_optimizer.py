"""Fuzz the optimizer: generated plan requests, each solved in a child process and checked.

Usage::

    python benchmarks/fuzz_optimizer.py --cases 1000 --time-limit 0.5 [--seed 0] [--save DIR]

Requests are drawn from the kinds a dispatcher's data (or a careless client) can produce: empty
lists, zero couriers, windows of zero length, windows across midnight (ISO datetimes, which are
valid, and bare ``"22:00"–"02:00"``, which are refused), night shifts across midnight,
unreachable points (Hà Nội, or impassable legs of a user matrix), duplicate ids, runs
that already left, zero capacities, sizes above every capacity, unknown sites, skills nobody has,
results ready after their window, user travel matrices, plus a few large days. Each request is
solved through ``routing.plan_request`` in a child process with a wall-clock limit of the time
limit + 1 s, so a native crash of OR-Tools is counted instead of ending the run. Every plan goes
through the independent checker (``routing.checker.check_plan``).

It prints: cases, refusals (``RequestError``, expected and unexpected), crashes (the child died or
raised anything but ``RequestError``), over-time, checker failures, and jobs neither routed nor
unassigned; then the slowest solve. It exits 1 if any of those failures is non-zero.

With ``--replan`` each solved case is also re-planned (``routing.replan``) as a dispatcher
would through the day: at every hour from 08:00 to 21:00 and at the end of every courier's
shift, each re-plan starting from the one before, with every stop departed by then marked done
(the done stops of earlier re-plans included). Each new plan is checked the same way, and must
keep every done stop exactly as it was. A dossier in a courier's bag that can no longer be
handed over or delivered in time is kept and served late, its stop marked ``"late": true`` (and
the route's end, when the courier brings it home after its shift): the checker still reports
it (code ``late_declared``, a broken promise declared by the plan), and those re-plans are
counted apart from re-plans with undeclared violations. ``--only 199,299`` reruns chosen cases
(same seed) to reproduce a failure.

The generator (:func:`fuzz_request`) draws through a tiny :class:`Pick` interface so the same code
serves this script (``random.Random``) and the hypothesis property tests (which can shrink).
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol, TypeVar

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from routing import RequestError, plan_request
from routing.checker import check_plan
from routing.replan import replan

T = TypeVar("T")

DAY = "2026-11-23"
SITE_IDS = ("po", "centre", "po-b")
# Around Cà Mau city (lat, lon in degrees); homes spread over ±0.08° (~9 km), sites ±0.05°.
CENTRE = (9.1769, 105.1524)
FAR_AWAY = (21.0285, 105.8542)  # Hà Nội: no courier of Cà Mau reaches it within a shift
MODES = ("motorbike", "motorbike", "car", "boat", "walking")


class Pick(Protocol):
    """The one choice the generator makes: an integer in ``[lo, hi]``."""

    def integer(self, lo: int, hi: int) -> int:
        """Return an integer between ``lo`` and ``hi`` inclusive."""
        ...


@dataclass
class RandomPick:
    """Draws from a seeded ``random.Random``."""

    rng: random.Random

    def integer(self, lo: int, hi: int) -> int:
        """Return an integer between ``lo`` and ``hi`` inclusive."""
        return self.rng.randint(lo, hi)


def chance(pick: Pick, percent: int) -> bool:
    """Return True with probability ``percent`` %; the smallest draw (0) means False."""
    return pick.integer(0, 99) >= 100 - percent


def choice(pick: Pick, options: Sequence[T]) -> T:
    """Return one of ``options``; the smallest draw gives the first, the plain case."""
    return options[pick.integer(0, len(options) - 1)]


def clock(minute: int) -> str:
    """Format minutes since midnight as ``HH:MM`` (1440 is ``24:00``)."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


def iso(day: str, minute: int) -> str:
    """Format minutes since the day's midnight as ISO 8601 with +07:00 (may be the next day)."""
    moment = date.fromisoformat(day) + timedelta(days=minute // 1440)
    rest = minute % 1440
    return f"{moment.isoformat()}T{rest // 60:02d}:{rest % 60:02d}:00+07:00"


def _near(pick: Pick, spread: float = 0.08) -> tuple[float, float]:
    lat = CENTRE[0] + (pick.integer(-1000, 1000) / 1000) * spread
    lon = CENTRE[1] + (pick.integer(-1000, 1000) / 1000) * spread
    return round(lat, 5), round(lon, 5)


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle kilometres between two (lat, lon) points (for the generated matrices)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


@dataclass
class Fuzzed:
    """A generated request, and why it must be refused (None when it must be planned)."""

    request: dict[str, Any]
    invalid: str | None = None
    kinds: list[str] = field(default_factory=list)


def fuzz_request(  # noqa: PLR0912 - one pass over the nasty kinds of input
    pick: Pick,
    *,
    max_jobs: int = 8,
    max_couriers: int = 3,
    min_jobs: int = 0,
    min_couriers: int = 0,
    min_shift_min: int = 180,
    day: str = DAY,
) -> Fuzzed:
    """Draw one plan request, with its nasty features listed in ``kinds``.

    Parameters
    ----------
    pick
        Where the choices come from (seeded random, or hypothesis).
    max_jobs, max_couriers, min_jobs, min_couriers
        Bounds on the number of jobs and couriers.
    min_shift_min
        The shortest shift drawn, in minutes (shifts run up to 11 h more, ending by 24:00).
    day
        The plan's date.

    Returns
    -------
    Fuzzed
        The request, ``invalid`` naming why the optimizer must refuse it (or None), and kinds.
    """
    out = Fuzzed(request={})
    kinds = out.kinds
    n_sites = pick.integer(1, 3)
    site_pos = {sid: _near(pick, 0.05) for sid in SITE_IDS[:n_sites]}
    sites: list[dict[str, Any]] = []
    for sid, (lat, lon) in site_pos.items():
        site: dict[str, Any] = {"id": sid, "kind": "post_office", "lat": lat, "lon": lon}
        if chance(pick, 15):
            kinds.append("site_opening")
            site["opening"] = [clock(pick.integer(360, 600)), clock(pick.integer(660, 1140))]
        sites.append(site)
    site_ids = list(site_pos)

    shuttles: list[dict[str, Any]] = []
    for frm in site_ids:
        for to in site_ids:
            if frm == to or not chance(pick, 60):
                continue
            for departs in (360, 480, 600, 840, 960):  # 06:00 has left before most shifts
                if chance(pick, 50):
                    shuttles.append(
                        {
                            "id": f"run-{frm}-{to}-{clock(departs).replace(':', '')}",
                            "from_site": frm,
                            "to_site": to,
                            "departs": clock(departs),
                            "arrives": clock(departs + pick.integer(10, 60)),
                            "handoff_min": pick.integer(0, 30),
                        }
                    )
    if any(s["departs"] == "06:00" for s in shuttles):
        kinds.append("run_already_left")

    couriers: list[dict[str, Any]] = []
    n_couriers = 0 if min_couriers == 0 and chance(pick, 10) else pick.integer(1, max_couriers)
    n_couriers = max(n_couriers, min_couriers)
    if n_couriers == 0:
        kinds.append("zero_couriers")
    for k in range(n_couriers):
        shift_open = pick.integer(300, 600)
        shift_close = min(shift_open + pick.integer(min_shift_min, min_shift_min + 540), 1440)
        capacity = choice(pick, (40, 40, 40, 5, 2, 1, 0, 40))
        if capacity == 0:
            kinds.append("zero_capacity")
        courier: dict[str, Any] = {
            "id": f"c{k + 1}",
            "start_site": choice(pick, site_ids),
            "end_site": choice(pick, site_ids),
            "mode": choice(pick, MODES),
            "capacity": capacity,
            "shift": [clock(shift_open), clock(shift_close)],
        }
        if chance(pick, 6):  # a night shift across midnight, written as ISO datetimes
            courier["shift"] = [iso(day, 1200), iso(day, 1440 + 240)]
            kinds.append("night_shift")
        elif chance(pick, 60):
            earliest, latest, duration = 660, 810, choice(pick, (30, 60))
            if max(earliest, shift_open) + duration <= min(latest, shift_close):
                courier["breaks"] = [
                    {"earliest": clock(earliest), "latest": clock(latest), "duration_min": duration}
                ]
        if chance(pick, 30):
            courier["skills"] = ["boat"]
        couriers.append(courier)

    jobs: list[dict[str, Any]] = []
    points: dict[str, tuple[float, float]] = dict(site_pos)
    n_jobs = pick.integer(min_jobs, max_jobs)
    if n_jobs == 0:
        kinds.append("no_jobs")
    for j in range(n_jobs):
        kind = choice(pick, ("pickup", "return"))
        ident = f"J{j + 1}"
        far = chance(pick, 5)
        point = FAR_AWAY if far else _near(pick)
        if far:
            kinds.append("unreachable_point")
        points[ident] = point
        open_min = pick.integer(360, 1080)
        length = choice(pick, (240, 600, 120, 30, 0, 600))
        if length == 0:
            kinds.append("zero_length_window")
        window: list[str] = [clock(open_min), clock(min(open_min + length, 1440))]
        if chance(pick, 4):
            kinds.append("window_across_midnight")
            window = [iso(day, 1320), iso(day, 1440 + 120)]
        job: dict[str, Any] = {
            "id": ident,
            "kind": kind,
            "dossier": f"H12.22-{j:06d}",
            "lat": point[0],
            "lon": point[1],
            "window": window,
            "service_min": pick.integer(0, 15),
        }
        if chance(pick, 15):
            job["size"] = pick.integer(1, 50)
            kinds.append("size")
        if chance(pick, 12):
            job["skills"] = ["boat"]
            kinds.append("skill")
        if kind == "pickup":
            job["handoff_site"] = choice(pick, site_ids)
            if chance(pick, 60):
                job["destination_site"] = choice(pick, site_ids)
        else:
            job["origin_site"] = choice(pick, site_ids)
            if chance(pick, 70):
                job["ready_at"] = clock(pick.integer(360, 1080))
            job["due"] = day
        if chance(pick, 4):
            key = "handoff_site" if kind == "pickup" else "origin_site"
            job[key] = "po-nowhere"
            kinds.append("unknown_site")
        jobs.append(job)

    request: dict[str, Any] = {
        "date": day,
        "sites": sites,
        "shuttles": shuttles,
        "couriers": couriers,
        "jobs": jobs,
        "options": {"seed": pick.integer(0, 3)},
    }
    if chance(pick, 25):
        kinds.append("travel_matrix")
        request["travel"] = _matrix(pick, points)

    # The kinds the optimizer must refuse with a RequestError naming the field.
    if jobs and chance(pick, 4):
        jobs.append(dict(jobs[0]))
        out.invalid = "duplicate job id"
    elif couriers and chance(pick, 3):
        couriers.append(dict(couriers[0]))
        out.invalid = "duplicate courier id"
    elif jobs and chance(pick, 3):
        jobs[-1]["window"] = ["22:00", "02:00"]
        out.invalid = "bare-clock window across midnight"
    elif chance(pick, 2):
        request["couriers"] = request["couriers"] + [{"id": "cx", "start_site": "po-nowhere"}]
        out.invalid = "courier at an unknown site"
    if out.invalid:
        kinds.append("invalid")
    out.request = request
    return out


def _matrix(pick: Pick, points: dict[str, tuple[float, float]]) -> dict[str, Any]:
    """A user travel matrix over the points: fractional minutes and km, some legs impassable."""
    ids = list(points)
    speed_kmh = choice(pick, (15.0, 25.0, 40.0))
    blocked = {i for i in ids if i.startswith("J") and chance(pick, 5)}
    minutes, km = [], []
    for a in ids:
        row_min, row_km = [], []
        for b in ids:
            d = 0.0 if a == b else _km(points[a], points[b]) * 1.35
            t = 0.0 if a == b else d / speed_kmh * 60 + 1.5
            if a != b and (a in blocked or b in blocked):
                t = 3000.0  # more than two days: unreachable
            row_min.append(round(t, 3))
            row_km.append(round(d, 3))
        minutes.append(row_min)
        km.append(row_km)
    return {"ids": ids, "minutes": minutes, "km": km}


def large_request(pick: Pick) -> Fuzzed:
    """A large day: 150–400 jobs and 6–20 couriers, drawn like the small ones."""
    fuzzed = fuzz_request(
        pick, max_jobs=400, min_jobs=150, max_couriers=20, min_couriers=6, min_shift_min=480
    )
    fuzzed.kinds.append("large")
    return fuzzed


# --------------------------------------------------------------------------------------------
# The child process: solves requests one after another until told to stop.


def _serve(conn: Connection) -> None:
    conn.send(("ready", None, 0.0))
    while True:
        message = conn.recv()
        if message is None:
            return
        request, time_limit_s, again = message
        began = time.perf_counter()
        try:
            if again is None:
                plan = plan_request(request, time_limit_s=time_limit_s)
            else:
                plan = replan(request, again["plan"], now=again["now"], done=again["done"],
                              time_limit_s=time_limit_s)  # fmt: skip
        except RequestError as exc:
            conn.send(("refused", str(exc), time.perf_counter() - began))
        except Exception as exc:  # every other exception is a crash to count
            conn.send(("raised", f"{type(exc).__name__}: {exc}", time.perf_counter() - began))
        else:
            conn.send(("plan", plan, time.perf_counter() - began))


class Solver:
    """A child process that solves requests; restarted when it dies or runs over time."""

    def __init__(self, target: Callable[[Connection], None] | None = None, grace_s: float = 5.0):
        """Prepare a solver child running ``target`` (default: the optimizer's loop).

        ``grace_s`` is how long past the time limit + 1 s to wait for an answer before the child
        is killed (a late answer is still counted over time, but its plan is checked).
        """
        self.ctx = mp.get_context("spawn")
        self.target = target or _serve
        self.grace_s = grace_s
        self.proc: Any = None
        self.conn: Connection | None = None

    def start(self) -> None:
        """Start the child and wait until it has imported the optimizer."""
        parent, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=self.target, args=(child,), daemon=True)
        self.proc.start()
        child.close()
        self.conn = parent
        if not parent.poll(120):
            msg = "the solver process did not start within 120 s"
            raise RuntimeError(msg)
        parent.recv()

    def stop(self) -> None:
        """Stop the child (kill it if it does not leave)."""
        if self.proc is None:
            return
        try:
            assert self.conn is not None
            self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.proc.join(2)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.proc = None

    def solve(
        self,
        request: dict[str, Any],
        time_limit_s: float,
        again: dict[str, Any] | None = None,
    ) -> tuple[str, Any, float]:
        """Solve one request (or re-plan it: ``again`` = plan, now, done); return the outcome.

        Returns (outcome, payload, wall seconds).

        Outcomes: ``plan``, ``refused`` (RequestError), ``raised`` (any other exception),
        ``died`` (the child process ended), ``killed`` (no answer by the limit + 1 s + grace).
        """
        if self.proc is None or not self.proc.is_alive():
            self.start()
        assert self.conn is not None
        began = time.perf_counter()
        self.conn.send((request, time_limit_s, again))
        try:
            if self.conn.poll(time_limit_s + 1.0 + self.grace_s):
                outcome, payload, _ = self.conn.recv()
                return outcome, payload, time.perf_counter() - began
        except (EOFError, OSError):
            self.proc.join(5)  # the pipe closed: the child ended; reap it
        elapsed = time.perf_counter() - began
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
            self.proc = None
            return "killed", None, elapsed
        code = self.proc.exitcode
        self.proc = None
        return "died", f"exit code {code}", elapsed


@dataclass
class Tally:
    """What the run found."""

    cases: int = 0
    planned: int = 0
    refused_expected: int = 0
    refused_unexpected: int = 0
    refused_short_shift: int = 0
    accepted_invalid: int = 0
    crashes: int = 0
    over_time: int = 0
    checker_failures: int = 0
    jobs_lost: int = 0
    slowest_s: float = 0.0
    jobs_planned: int = 0
    replans: int = 0
    replan_failures: int = 0
    replan_checker_failures: int = 0  # re-plans with undeclared violations or a done stop lost
    replan_over_time: int = 0
    replans_late_declared: int = 0  # re-plans whose only violations are declared late deliveries
    late_declared: int = 0  # declared late deliveries in those and other re-plans
    jobs_routed: int = 0
    large_jobs: int = 0
    large_routed: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    failed_replan: dict[str, Any] | None = None  # the last failing re-plan, to save with its case

    def failures(self) -> int:
        """The number of failing cases, of every kind counted against the optimizer."""
        return (
            self.crashes
            + self.over_time
            + self.checker_failures
            + self.jobs_lost
            + self.refused_unexpected
            + self.accepted_invalid
            + self.replan_failures
        )


def lost_jobs(request: dict[str, Any], plan: dict[str, Any]) -> list[str]:
    """Job ids of the request that are neither in a route nor unassigned with a reason."""
    placed: set[str] = set()
    for route in plan.get("routes", []):
        for stop in route.get("stops", []):
            if stop.get("job"):
                placed.add(stop["job"])
            placed.update(stop.get("jobs") or [])
    for entry in plan.get("unassigned", []):
        if entry.get("reason") and entry.get("detail"):
            placed.add(entry.get("job"))
    return [j["id"] for j in request.get("jobs", []) if j["id"] not in placed]


SHIFT_TOO_SHORT = re.compile(r"^couriers\[\d+\]\.shift: .* too short to ride")
"""The one refusal of a well-formed request the optimizer documents: a courier whose shift cannot
hold the ride from its start site to its end site (and its breaks)."""


def judge(
    tally: Tally,
    fuzzed: Fuzzed,
    *,
    outcome: str,
    payload: Any,
    wall_s: float,
    time_limit_s: float,
) -> str | None:
    """Count one case's outcome in ``tally``; return what failed, or None."""
    failed = None
    if wall_s > time_limit_s + 1.0 or outcome == "killed":
        tally.over_time += 1
        failed = f"over time: {wall_s:.2f} s"
    if outcome in ("raised", "died"):
        tally.crashes += 1
        failed = f"crash ({outcome}): {payload}"
    elif outcome == "refused":
        if fuzzed.invalid:
            tally.refused_expected += 1
        elif SHIFT_TOO_SHORT.match(str(payload)):
            tally.refused_short_shift += 1
        else:
            tally.refused_unexpected += 1
            failed = f"valid request refused: {payload}"
    elif outcome == "plan":
        tally.planned += 1
        if fuzzed.invalid:
            tally.accepted_invalid += 1
            failed = f"planned a request with a {fuzzed.invalid}"
        violations = check_plan(fuzzed.request, payload)
        if violations:
            tally.checker_failures += 1
            tally.codes.update(v.code for v in violations)
            failed = f"{len(violations)} violation(s), first: {violations[0]}"
        jobs = len(fuzzed.request.get("jobs", []))
        routed = sum(1 for r in payload["routes"] for s in r["stops"] if s.get("job"))
        tally.jobs_planned += jobs
        tally.jobs_routed += routed
        if "large" in fuzzed.kinds:
            tally.large_jobs += jobs
            tally.large_routed += routed
        tally.reasons.update(u["reason"] for u in payload["unassigned"])
        lost = lost_jobs(fuzzed.request, payload)
        if lost:
            tally.jobs_lost += len(lost)
            failed = f"jobs lost: {', '.join(lost)}"
    return failed


def done_by(plan: dict[str, Any], now_iso: str) -> list[dict[str, str]]:
    """The stops of ``plan`` a courier has finished by ``now_iso`` (departed), as replan takes;
    the stops an earlier re-plan kept as done are done too."""
    done = []
    for route in plan["routes"]:
        for stop in [*route.get("done", []), *route["stops"]]:
            if stop["type"] in ("start", "end", "break") or stop["depart"] > now_iso:
                continue
            for job in [stop["job"]] if "job" in stop else stop["jobs"]:
                done.append({"job": job, "type": stop["type"]})
    return done


REPLAN_HOURS = range(8, 22)
"""A dispatcher re-plans at every hour from 08:00 to 21:00 (and at the end of every shift)."""


def _minute_of(day: str, moment: str) -> int:
    """Minutes since the day's midnight of ``"HH:MM"`` or an ISO time with +07:00."""
    if "T" not in moment:
        hours, minutes = moment.split(":")
        return int(hours) * 60 + int(minutes)
    days = (date.fromisoformat(moment[:10]) - date.fromisoformat(day)).days
    return days * 1440 + int(moment[11:13]) * 60 + int(moment[14:16])


def replan_times(request: dict[str, Any]) -> list[str]:
    """Every hour from 08:00 to 21:00 and the end of each courier's shift, in order (ISO)."""
    day = request["date"]
    minutes = {hour * 60 for hour in REPLAN_HOURS}
    for courier in request.get("couriers", []):
        shift = courier.get("shift")
        if isinstance(shift, list) and len(shift) == 2:
            minutes.add(_minute_of(day, str(shift[1])))
    return [iso(day, m) for m in sorted(minutes)]


def kept_as_done(before: dict[str, Any], after: dict[str, Any], done: list[dict[str, str]]) -> str:
    """What a re-plan changed of the stops done by then: every done stop of ``before`` must be
    among ``after``'s done stops of the same courier, exactly as it was ('' when all are)."""
    wanted = {(d["job"], d["type"]) for d in done}
    kept = {
        (route["courier"], json.dumps(stop, sort_keys=True))
        for route in after.get("routes", [])
        for stop in route.get("done", [])
    }
    for route in before.get("routes", []):
        for stop in [*route.get("done", []), *route["stops"]]:
            jobs = [stop["job"]] if "job" in stop else stop.get("jobs", [])
            if not jobs or not all((j, stop["type"]) in wanted for j in jobs):
                continue
            if (route["courier"], json.dumps(stop, sort_keys=True)) not in kept:
                return f"done {stop['type']} of {', '.join(jobs)} ({route['courier']}) not kept"
    return ""


def judge_replan(
    tally: Tally, request: dict[str, Any], *, outcome: str, payload: Any, wall_s: float,
    time_limit_s: float, lost_done: str = "",
) -> str | None:  # fmt: skip
    """Count one re-plan: anything but a plan within the time that passes the checker and keeps
    every done stop fails. A plan that comes late is still checked (and counted apart)."""
    tally.replans += 1
    failed = None
    if wall_s > time_limit_s + 1.0 or outcome == "killed":
        tally.replan_over_time += 1
        failed = f"re-plan over time: {wall_s:.2f} s"
    if outcome != "plan":
        failed = failed or f"re-plan {outcome}: {payload}"
    elif lost_done:
        tally.replan_checker_failures += 1
        failed = f"re-plan: {lost_done}"
    else:
        found = check_plan(request, payload)
        tally.codes.update(f"replan:{v.code}" for v in found)
        declared = [v for v in found if v.code == "late_declared"]
        violations = [v for v in found if v.code != "late_declared"]
        tally.late_declared += len(declared)
        if violations:
            tally.replan_checker_failures += 1
            failed = f"re-plan: {len(violations)} violation(s), first: {violations[0]}"
        elif declared:
            tally.replans_late_declared += 1
    if failed:
        tally.replan_failures += 1
    return failed


def run(
    cases: int,
    time_limit_s: float,
    seed: int,
    save: Path | None,
    *,
    only: Sequence[int] = (),
    again: bool = False,
) -> Tally:
    """Generate, solve and check ``cases`` requests (or just the numbers in ``only``)."""
    tally = Tally()
    solver = Solver()
    solver.start()
    try:
        for case in only or range(cases):
            pick = RandomPick(random.Random(f"{seed}:{case}"))
            large = case % 100 == 99  # a few large days: 1 % of the cases
            fuzzed = large_request(pick) if large else fuzz_request(pick)
            tally.cases += 1
            tally.kinds.update(set(fuzzed.kinds))
            outcome, payload, wall_s = solver.solve(fuzzed.request, time_limit_s)
            tally.slowest_s = max(tally.slowest_s, wall_s)
            failed = judge(
                tally,
                fuzzed,
                outcome=outcome,
                payload=payload,
                wall_s=wall_s,
                time_limit_s=time_limit_s,
            )
            if again and outcome == "plan" and payload["routes"] and not failed:
                failed = _replan_case(
                    solver, tally, fuzzed.request, payload, time_limit_s=time_limit_s
                )
                outcome = "replan"
            if failed:
                tally.notes.append(f"case {case}: {failed}")
                if save is not None:
                    save.mkdir(parents=True, exist_ok=True)
                    (save / f"case-{case}.json").write_text(
                        json.dumps({"request": fuzzed.request, "outcome": outcome,
                                    "payload": payload, "replan": tally.failed_replan},
                                   ensure_ascii=False, indent=1),
                        encoding="utf-8",
                    )  # fmt: skip
                tally.failed_replan = None
    finally:
        solver.stop()
    return tally


def _replan_case(
    solver: Solver,
    tally: Tally,
    request: dict[str, Any],
    plan: dict[str, Any],
    *,
    time_limit_s: float,
) -> str | None:
    """Re-plan a solved case through the day (:func:`replan_times`), each re-plan from the one
    before with what is done by then; judge each, and stop at the first that fails (a plan
    that only came late is judged and the day goes on from it)."""
    slow: list[str] = []
    for now in replan_times(request):
        done = done_by(plan, now)
        again = {"plan": plan, "now": now, "done": done}
        outcome, payload, wall_s = solver.solve(request, time_limit_s, again)
        lost = kept_as_done(plan, payload, done) if outcome == "plan" else ""
        failed = judge_replan(
            tally, request, outcome=outcome, payload=payload, wall_s=wall_s,
            time_limit_s=time_limit_s, lost_done=lost,
        )  # fmt: skip
        if failed and (outcome != "plan" or not failed.startswith("re-plan over time")):
            tally.failed_replan = {"previous": plan, "now": now, "done": done, "replan": payload}
            return f"at {now[11:16]}: {failed}"
        if failed:  # a late plan is still a plan: the day goes on from it
            slow.append(f"at {now[11:16]}: {failed}")
        plan = payload
    return "; ".join(slow) or None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the fuzzing from the command line; return 1 if any case failed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--time-limit", type=float, default=0.5, help="solver seconds per case")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", type=Path, default=None, help="write failing cases here")
    parser.add_argument(
        "--replan",
        action="store_true",
        help="also re-plan each solved case at every hour and shift end, with what is done",
    )
    parser.add_argument(
        "--only", type=str, default="", help="comma-separated case numbers to rerun, e.g. 199"
    )
    args = parser.parse_args(argv)
    began = time.perf_counter()
    only = [int(n) for n in args.only.split(",") if n.strip()]
    tally = run(args.cases, args.time_limit, args.seed, args.save, only=only, again=args.replan)
    print(f"cases: {tally.cases} (time limit {args.time_limit:g} s, seed {args.seed})")
    print(
        f"planned: {tally.planned} ({tally.jobs_routed} of their {tally.jobs_planned} jobs routed)"
    )
    print(f"  of which large days: {tally.large_routed} of {tally.large_jobs} jobs routed")
    print("unassigned reasons: " + ", ".join(f"{k} {n}" for k, n in tally.reasons.most_common()))
    print(f"refused as invalid (RequestError, expected): {tally.refused_expected}")
    print(f"refused: a courier's shift too short to ride (documented): {tally.refused_short_shift}")
    print(f"other well-formed requests refused: {tally.refused_unexpected}")
    print(f"invalid requests planned: {tally.accepted_invalid}")
    print(f"crashes: {tally.crashes}")
    print(f"over-time (> limit + 1 s): {tally.over_time}")
    print(f"checker failures: {tally.checker_failures}")
    print(f"jobs neither routed nor unassigned: {tally.jobs_lost}")
    if args.replan:
        print(f"re-plans: {tally.replans}, failing (crash, refusal, over time or checker): "
              f"{tally.replan_failures}")  # fmt: skip
        print(f"  of which breaking the checker or losing a done stop: "
              f"{tally.replan_checker_failures}; over time (> limit + 1 s, still checked): "
              f"{tally.replan_over_time}")  # fmt: skip
        print(f"re-plans whose only violations are declared late deliveries: "
              f"{tally.replans_late_declared} (late_declared: {tally.late_declared})")  # fmt: skip
    print(f"slowest case: {tally.slowest_s:.2f} s wall")
    print(f"total: {time.perf_counter() - began:.0f} s")
    print("kinds: " + ", ".join(f"{k} {n}" for k, n in sorted(tally.kinds.items())))
    if tally.codes:
        print("violation codes: " + ", ".join(f"{k} {n}" for k, n in tally.codes.most_common()))
    for note in tally.notes[:20]:
        print("  " + note)
    return 1 if tally.failures() else 0


if __name__ == "__main__":
    sys.exit(main())
