"""The plan map: each courier's route in its colour with numbered stops, sites and hand-offs."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

import folium

from api.maps.base import (
    _SITE_KINDS,
    _STOP_TYPES_AT_HOME,
    _STOP_TYPES_AT_SITE,
    _as_plan,
    _base_map,
    _esc,
    _hhmm,
    _Index,
    _index,
    _job_line,
    _km,
    _latlon,
    _legend,
    _Line,
    _short,
    _site_markers,
    _Stop,
    _stop_point,
    courier_colour,
)
from routing.plan import Kpis, Plan, Route, Stop, Unassigned


def plan_map(
    plan: Plan | Mapping[str, Any],
    request: Mapping[str, Any],
    *,
    tiles_url: str | None = None,
    tiles_attribution: str | None = None,
) -> folium.Map:
    """Draw a plan: each courier's route in its colour with numbered stops, sites, hand-offs.

    Stops are numbered in visiting order along each route (breaks have no place and are left
    out of the numbering); a hand-off says the shuttle run it catches; unassigned jobs are drawn
    apart (grey, in their own layer) with their reason, and the legend counts them by reason.
    Segments between stops are straight lines.

    Parameters
    ----------
    plan
        The plan of DESIGN §4, typed or as its JSON (``routes``, ``unassigned``, ``kpis``).
    request
        The plan request it answers, for the sites' and jobs' positions and details. Citizens'
        personal data in it is never drawn.
    tiles_url
        Optional tile server URL (``https://…/{z}/{x}/{y}.png`` or a buuta path); without it
        the embedded ward boundaries are the only base layer.
    tiles_attribution
        Attribution text shown for the tiles.

    Returns
    -------
    folium.Map
        The map; render it with :func:`render_html` or :func:`save_map`.

    Raises
    ------
    MapDataError
        If the plan or request is malformed (a stop names an unknown site, a point has no
        valid coordinates, ...); the message names the field.
    """
    typed = _as_plan(plan)
    index = _index(request)
    drawn, all_points = _placed_routes(typed, index)
    unassigned_points = _placed_unassigned(typed, index)
    all_points += [p for p, _ in unassigned_points if p is not None]
    title = f"buuta · plan {typed.plan_id} · {typed.date.isoformat()}".strip()
    fmap = _base_map(
        all_points, tiles_url=tiles_url, tiles_attribution=tiles_attribution, title=title
    )
    _site_markers(fmap, index)
    legend_rows = [_route_layer(fmap, r, route, placed, index) for r, route, placed in drawn]
    if unassigned_points:
        _unassigned_layer(fmap, unassigned_points, index)
    _plan_legend(fmap, typed, index, legend_rows)
    folium.LayerControl(collapsed=True).add_to(fmap)
    return fmap


_Placed = list[tuple[tuple[float, float], Stop]]


def _placed_routes(
    plan: Plan, index: _Index
) -> tuple[list[tuple[int, Route, _Placed]], list[tuple[float, float]]]:
    """Each route with its stops that have a place (breaks have none), and all those points."""
    drawn: list[tuple[int, Route, _Placed]] = []
    all_points: list[tuple[float, float]] = []
    for r, route in enumerate(plan.routes):
        where = f"plan.routes[{r}]"
        placed = []
        for s, stop in enumerate(route.stops):
            point = _stop_point(stop, index, f"{where}.stops[{s}]")
            if point is not None:
                placed.append((point, stop))
                all_points.append(point)
        drawn.append((r, route, placed))
    return drawn, all_points


def _placed_unassigned(
    plan: Plan, index: _Index
) -> list[tuple[tuple[float, float] | None, Unassigned]]:
    out: list[tuple[tuple[float, float] | None, Unassigned]] = []
    for u, item in enumerate(plan.unassigned):
        job = index.jobs.get(item.job)
        point = _latlon(job, f"plan.unassigned[{u}].job") if job and "lat" in job else None
        out.append((point, item))
    return out


def _route_layer(fmap: folium.Map, r: int, route: Route, placed: _Placed, index: _Index) -> str:
    """Draw one courier's route and numbered stops; return its row of the legend."""
    courier = route.courier
    colour = courier_colour(r)
    group = folium.FeatureGroup(name=f"Courier {_esc(courier)}", control=True)
    line = [p for p, _ in placed]
    working = any(stop.kind not in {"start", "end"} for _, stop in placed)
    duration = route.duration_min if route.duration_min is not None else "?"
    if working and len(line) >= 2:  # an idle courier (start → end) gets no line
        group.add_child(
            _Line(
                line,
                colour=colour,
                class_name="buuta-route",
                popup=(
                    f"<b>Courier {_esc(courier)}</b><br>{_km(route.distance_km)}"
                    f" km · {_esc(duration)} min"
                ),
            )
        )
    number = 0
    for point, stop in placed:
        kind = stop.kind
        if kind in {"start", "end"}:
            continue
        number += 1
        group.add_child(
            _Stop(
                point,
                label=str(number),
                class_name=f"buuta-stop buuta-stop-{re.sub(r'[^a-z]', '', kind)}",
                colour=colour,
                popup=_plan_stop_popup(courier, number, stop, index),
                title=f"{courier} #{number} {kind}" + _run_note(stop),
            )
        )
    group.add_to(fmap)
    return (
        f'<li><span class="buuta-swatch" style="background:{colour}"></span>'
        f"{_esc(courier)} · {number} stops · {_km(route.distance_km)} km</li>"
    )


def _unassigned_layer(
    fmap: folium.Map,
    unassigned_points: list[tuple[tuple[float, float] | None, Unassigned]],
    index: _Index,
) -> None:
    group = folium.FeatureGroup(name="Unassigned", control=True)
    for point, item in unassigned_points:
        if point is None:
            continue
        job = index.jobs.get(item.job)
        group.add_child(
            _Stop(
                point,
                label="×",
                class_name="buuta-stop buuta-unassigned",
                colour="#9e9e9e",
                popup=(
                    f"<b>Unassigned {_esc(item.job)}</b>"
                    f"<br>reason: <b>{_esc(item.reason or 'unknown')}</b>"
                    f"<br>{_esc(item.detail)}<br>{_job_line(job)}"
                ),
                title=f"unassigned {item.job}: {item.reason or 'unknown'}",
            )
        )
    group.add_to(fmap)


def _plan_legend(fmap: folium.Map, plan: Plan, index: _Index, legend_rows: list[str]) -> None:
    kpis = plan.kpis or Kpis()
    unassigned = plan.unassigned
    reasons = Counter(item.reason or "unknown" for item in unassigned)
    reason_rows = "".join(
        f"<li>{_esc(reason)}: {count}</li>" for reason, count in sorted(reasons.items())
    )
    kinds = sorted({str(s.get("kind", "site")) for s in index.sites.values()})
    site_rows = "".join(
        f'<li><span class="buuta-key">{_SITE_KINDS.get(k, ("S", k))[0]}</span>'
        f"{_esc(_SITE_KINDS.get(k, ('S', k.replace('_', ' ').capitalize()))[1])}</li>"
        for k in kinds
    )
    served = kpis.served if kpis.served is not None else "?"
    jobs = kpis.jobs if kpis.jobs is not None else "?"
    body = (
        f"<p>{_esc(served)} of {_esc(jobs)} jobs served · "
        f"{_km(kpis.distance_km)} km · status {_esc(plan.status)}</p>"
        f'<ul class="buuta-couriers">{"".join(legend_rows)}</ul>'
        f"<ul>{site_rows}"
        '<li><span class="buuta-key buuta-key-handoff">⇄</span>'
        "hand-off (popup names the run)</li></ul>"
        + (f"<p>Unassigned ({len(unassigned)}):</p><ul>{reason_rows}</ul>" if unassigned else "")
    )
    _legend(fmap, body, f"Plan {plan.date.isoformat()}")


def _run_note(stop: Stop) -> str:
    """`` → run-1000`` for a hand-off that catches a run (shown when hovering the stop)."""
    if stop.kind == "handoff" and stop.shuttle:
        return f" → {stop.shuttle}"
    return ""


def _plan_stop_popup(
    courier: str,
    number: int,
    stop: Stop,
    index: _Index,
) -> str:
    kind = stop.kind
    lines = [f"<b>{_esc(courier)} · stop {number} · {_esc(kind)}</b>"]
    if stop.site is not None:
        site = index.sites.get(stop.site, {})
        lines.append(_esc(site.get("name") or stop.site))
    if kind in _STOP_TYPES_AT_HOME:
        lines.append(f"job <code>{_esc(stop.job)}</code>")
        lines.append(_job_line(index.jobs.get(str(stop.job))))
    jobs = list(stop.jobs)
    if kind in _STOP_TYPES_AT_SITE:
        verb = "hand over" if kind == "handoff" else "collect"
        lines.append(f"{verb} {len(jobs)} dossier(s): {_esc(', '.join(map(str, jobs[:12])))}")
        if len(jobs) > 12:
            lines[-1] += " …"
    if kind == "handoff":
        run = stop.shuttle
        shuttle = index.shuttles.get(str(run)) if run else None
        if shuttle:
            lines.append(
                f"catches run <b>{_esc(run)}</b> departing {_esc(_short(shuttle.get('departs')))}"
            )
        elif run:
            lines.append(f"catches run <b>{_esc(run)}</b>")
        else:
            lines.append("no shuttle run (kept at the site)")
    times = []
    for key, moment in (("arrive", stop.arrive), ("start", stop.start), ("depart", stop.depart)):
        if moment:
            times.append(f"{key} {_hhmm(moment)}")
    if times:
        lines.append(" · ".join(times))
    if stop.load is not None:
        lines.append(f"load after: {_esc(stop.load)}")
    return "<br>".join(line for line in lines if line)
