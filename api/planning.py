"""Planning glue shared by the HTTP service and the ``buuta`` command.

Chooses the travel model, the geocoder and the solver time limit from the settings, places jobs
given only by address, and summarises a plan in a few lines a dispatcher reads (served,
unassigned by reason, km, shuttle runs caught).
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from collections.abc import Mapping
from typing import Any

from api.settings import Settings
from geo.gazetteer import make_geocoder
from geo.travel import OsrmTravel, TravelModel
from routing.plan import JOB_STOPS, Kpis, Plan


def travel_model(settings: Settings) -> TravelModel | None:
    """Return the travel model the settings choose (``None``: the optimizer's offline default).

    Parameters
    ----------
    settings
        ``travel`` is ``greatcircle`` (offline, ``None`` here) or ``osrm`` (needs ``osrm_url``).
    """
    if settings.travel == "osrm" and settings.osrm_url:
        return OsrmTravel(base_url=settings.osrm_url)
    return None


def geocoder(settings: Settings) -> Any:
    """Return the geocoder the settings choose: the offline gazetteer of the embedded Cà Mau
    units (default) or a geopy service such as ``nominatim`` when the network allows."""
    if settings.geocoder == "gazetteer":
        return make_geocoder("gazetteer")
    return make_geocoder(settings.geocoder, user_agent="buuta")


def geocode_jobs(request: dict[str, Any], coder: Any) -> int:
    """Place the jobs that have an ``address`` but no ``lat``/``lon``, in place.

    The point is that of the unit the address names (a ward, or a district when that is all it
    says); the job gets ``"geocoded": {"precision", "name"}`` so the dispatcher can see it is
    approximate. Jobs with coordinates are left as they are.

    Parameters
    ----------
    request
        A plan request (DESIGN §4); changed in place.
    coder
        A geopy-compatible geocoder (:func:`geocoder`).

    Returns
    -------
    int
        How many jobs were placed.

    Raises
    ------
    ValueError
        If an address names no known place (``jobs[i].address: ...``; the address itself is
        not repeated: it is personal data).
    """
    placed = 0
    jobs = request.get("jobs")
    if not isinstance(jobs, list):
        return 0
    for i, job in enumerate(jobs):
        if not isinstance(job, dict) or job.get("lat") is not None or job.get("lon") is not None:
            continue
        address = job.get("address")
        if not isinstance(address, str) or not address.strip():
            continue
        location = coder.geocode(address)
        if location is None:
            msg = (
                f"jobs[{i}].address: no commune, ward or district of the service area matches "
                "this address; give the job's lat and lon"
            )
            raise ValueError(msg)
        job["lat"], job["lon"] = round(location.latitude, 6), round(location.longitude, 6)
        raw = getattr(location, "raw", None) or {}
        job["geocoded"] = {"precision": raw.get("precision"), "name": raw.get("name")}
        placed += 1
    return placed


def time_limit_s(
    request: Mapping[str, Any], settings: Settings, override_s: float | None = None
) -> float:
    """Return the solver time limit for ``request``, in seconds.

    The first of ``override_s``, the request's ``options.time_limit_s`` and the settings'
    default, never above ``settings.solve_time_limit_cap_s``.
    """
    options = request.get("options") or {}
    asked = override_s
    if asked is None and isinstance(options, Mapping):
        value = options.get("time_limit_s")
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            asked = float(value)
    if asked is None:
        asked = settings.solve_time_limit_s
    return min(float(asked), settings.solve_time_limit_cap_s)


def district_workers(request: Mapping[str, Any], settings: Settings) -> int | None:
    """Return how many processes may solve ``request``'s districts at once.

    The request's ``options.workers`` when given, never above ``settings.district_workers``
    (0 there: the cores of this machine); else the setting; ``None`` when neither says, for
    the optimizer to use one per idle core.
    """
    cap = settings.district_workers or os.cpu_count() or 1
    options = request.get("options") or {}
    asked = options.get("workers") if isinstance(options, Mapping) else None
    if isinstance(asked, int) and not isinstance(asked, bool) and asked > 0:
        return min(asked, cap)
    return settings.district_workers or None


def runs_caught(plan: Plan) -> tuple[int, int]:
    """Count dossiers handed off for a shuttle run: ``(caught a run today, no run today)``."""
    caught = missed = 0
    for route in plan.routes:
        for stop in route.stops:
            if stop.kind != "handoff":
                continue
            if stop.shuttle:
                caught += len(stop.jobs)
            else:
                missed += len(stop.jobs)
    return caught, missed


def summary_lines(plan: Plan) -> list[str]:
    """Return a few lines summarising a plan for a dispatcher's terminal.

    Parameters
    ----------
    plan
        A plan of DESIGN §4.

    Returns
    -------
    list of str
        Served jobs, unassigned jobs by reason, courier distance in km, minutes waiting
        between stops and couriers left free while jobs wait, shuttle runs caught.
    """
    routes, unassigned, kpis = plan.routes, plan.unassigned, plan.kpis or Kpis()
    served = sum(1 for r in routes for s in r.stops if s.kind in JOB_STOPS)
    total = served + len(unassigned)
    used = sum(1 for r in routes if any(s.job for s in r.stops))
    km = kpis.distance_km
    if km is None:
        km = sum(r.distance_km for r in routes)
    lines = [
        f"plan {plan.plan_id or '?'} for {plan.date.isoformat()}: {plan.status}",
        f"served {served} of {total} jobs with {used} courier(s), {km:.1f} km",
    ]
    if unassigned:
        reasons = Counter(u.reason for u in unassigned)
        parts = ", ".join(f"{reason} {n}" for reason, n in reasons.most_common())
        lines.append(f"unassigned {len(unassigned)}: {parts}")
    else:
        lines.append("unassigned 0")
    lines += _idle_lines(kpis)
    caught, missed = runs_caught(plan)
    line = f"shuttle runs: {caught} dossier(s) catch a run today, {missed} wait for tomorrow"
    if kpis.runs_missed is not None:
        line += f" (runs missed: {kpis.runs_missed})"
    if kpis.reaching_today is not None:
        line += f"; {kpis.reaching_today} reach their destination today"
    lines.append(line)
    return lines


def _idle_lines(kpis: Kpis) -> list[str]:
    """Minutes couriers wait between stops, and couriers left free while their jobs wait."""
    lines = []
    if kpis.idle_min is not None:
        lines.append(f"couriers wait {kpis.idle_min:,.0f} min between stops in all")
    if kpis.idle_while_unserved:
        named = ", ".join(
            f"{w.courier} ({w.free_min / 60:.1f} h)" for w in kpis.idle_while_unserved
        )
        lines.append(f"free while jobs of their district wait (the search fell short): {named}")
    return lines


class ProgressLine:
    """Print the solver's progress (elapsed, best cost, solutions) on stderr, at most every
    ``every_s`` seconds; pass it as ``on_progress`` to ``routing.plan_request``."""

    def __init__(self, every_s: float = 1.0) -> None:
        self.every_s = every_s
        self.last = -1e9
        self.tty = sys.stderr.isatty()
        self.printed = False

    def __call__(self, progress: Any) -> None:
        """Print one progress line unless one was printed less than ``every_s`` ago."""
        now = time.monotonic()
        if now - self.last < self.every_s:
            return
        self.last = now
        line = (
            f"searching: {progress.elapsed_s:5.1f} s, best cost {progress.best_cost:,}, "
            f"{progress.solutions} solution(s)"
        )
        if self.tty:
            sys.stderr.write("\r" + line)
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()
        self.printed = True

    def done(self) -> None:
        """End the progress line (on a terminal, where it was rewritten in place)."""
        if self.tty and self.printed:
            sys.stderr.write("\n")
            sys.stderr.flush()
