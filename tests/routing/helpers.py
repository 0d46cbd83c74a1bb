"""Tiny hand-checkable requests for the optimizer's tests.

Places lie on one straight road: each has a position in minutes from the post office ``po``
(position 0). Travel between two places takes ``|a - b|`` minutes and covers ``|a - b| / 2`` km,
given to the optimizer as the request's own ``travel`` matrix, so every time in a plan can be
worked out by hand. The coordinates are only there because the request needs them.

The shuttle runs leave ``po`` for ``centre`` at 08:00, 10:00, 14:00 and 16:00 (20 minutes on
the way) with a 10-minute hand-off margin: cut-offs 07:50, 09:50, 13:50 and 15:50.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from routing import plan_request
from routing.checker import check_plan

DAY = "2026-11-23"
RUN_HOURS = (8, 10, 14, 16)


SEARCH = {"time_limit_s": 3, "solution_limit": 50}
"""Search options of the requests here: 50 solutions take well under a second on these small
days, so the plan does not depend on how busy the machine is (the time limit only bounds a
search gone wrong). ``routing.replan`` does not pass ``solution_limit`` on yet: its re-plans
search for the 3 s."""


def clock(iso_time: str) -> str:
    """Return ``HH:MM:SS`` of a plan time such as ``2026-11-23T08:05:00+07:00``."""
    return datetime.fromisoformat(iso_time).strftime("%H:%M:%S")


def runs() -> list[dict[str, Any]]:
    """The four daily shuttle runs from ``po`` to ``centre``."""
    return [
        {
            "id": f"run-{h:02d}00",
            "from_site": "po",
            "to_site": "centre",
            "departs": f"{h:02d}:00",
            "arrives": f"{h:02d}:20",
            "handoff_min": 10,
        }
        for h in RUN_HOURS
    ]


def courier(cid: str = "c1", **extra: Any) -> dict[str, Any]:
    """A motorbike courier based at ``po``, 07:00–17:00, capacity 10, no breaks by default."""
    return {
        "id": cid,
        "start_site": "po",
        "end_site": "po",
        "mode": "motorbike",
        "capacity": 10,
        "shift": ["07:00", "17:00"],
    } | extra


def pickup(jid: str, window: Sequence[str], **extra: Any) -> dict[str, Any]:
    """A home pickup handed over at ``po`` and bound for ``centre`` (so it rides a shuttle)."""
    return {
        "id": jid,
        "kind": "pickup",
        "dossier": f"H12.22-{jid}",
        "lat": 9.1,
        "lon": 105.1,
        "window": list(window),
        "service_min": 10,
        "handoff_site": "po",
        "destination_site": "centre",
    } | extra


def ret(jid: str, window: Sequence[str], ready_at: str, **extra: Any) -> dict[str, Any]:
    """A result to carry from ``po`` (ready at ``ready_at``) to the citizen's home."""
    return {
        "id": jid,
        "kind": "return",
        "dossier": f"H12.22-{jid}",
        "lat": 9.1,
        "lon": 105.1,
        "window": list(window),
        "service_min": 5,
        "origin_site": "po",
        "ready_at": ready_at,
        "due": "2026-11-30",
    } | extra


def request(
    jobs: Sequence[Mapping[str, Any]],
    positions: Mapping[str, float],
    *,
    couriers: Sequence[Mapping[str, Any]] | None = None,
    sites: Sequence[Mapping[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A request over ``po`` (position 0), ``centre`` (position 30) and the jobs' homes.

    ``positions`` gives each job's home in minutes from ``po`` along the road.
    """
    site_list = list(
        sites
        or [
            {"id": "po", "kind": "post_office", "lat": 9.17, "lon": 105.15},
            {"id": "centre", "kind": "centre", "lat": 9.18, "lon": 105.16},
        ]
    )
    pos = {"po": 0.0, "centre": 30.0} | dict(positions)
    for s in site_list:
        pos.setdefault(s["id"], 0.0)
    ids = [s["id"] for s in site_list] + [j["id"] for j in jobs]
    minutes = [[abs(pos[a] - pos[b]) for b in ids] for a in ids]
    km = [[abs(pos[a] - pos[b]) / 2 for b in ids] for a in ids]
    return {
        "date": DAY,
        "sites": site_list,
        "shuttles": runs(),
        "couriers": list(couriers if couriers is not None else [courier()]),
        "jobs": list(jobs),
        "travel": {"ids": ids, "minutes": minutes, "km": km},
        "options": dict(SEARCH),
    } | extra


def solve_checked(req: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Plan ``req`` and assert that the independent checker finds no broken promise."""
    plan = plan_request(req, **kwargs)
    violations = check_plan(req, plan)
    assert violations == [], [f"{v.code}: {v.detail}" for v in violations]
    ids = [j["id"] for j in req["jobs"]]
    seen = [u["job"] for u in plan["unassigned"]]
    for route in plan["routes"]:
        for stop in route["stops"]:
            if stop["type"] in ("pickup", "delivery"):
                seen.append(stop["job"])
    assert sorted(seen) == sorted(ids), "every job once: in a route or unassigned"
    return plan


def stops(plan: Mapping[str, Any], courier_id: str | None = None) -> list[dict[str, Any]]:
    """The stops of one courier's route (the first route when no courier is named)."""
    for route in plan["routes"]:
        if courier_id is None or route["courier"] == courier_id:
            return list(route["stops"])
    raise AssertionError(f"no route for {courier_id!r}")


def stop_of(plan: Mapping[str, Any], kind: str, job: str) -> dict[str, Any]:
    """The stop of ``kind`` that serves ``job`` (a home stop, or a site stop listing it)."""
    for route in plan["routes"]:
        for stop in route["stops"]:
            if stop["type"] == kind and (stop.get("job") == job or job in stop.get("jobs", [])):
                return dict(stop)
    raise AssertionError(f"no {kind} stop for {job}")


def reasons(plan: Mapping[str, Any]) -> dict[str, str]:
    """Unassigned job id → reason code."""
    return {u["job"]: u["reason"] for u in plan["unassigned"]}
