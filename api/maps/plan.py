"""The plan map: each courier's route in its colour with numbered stops, sites and hand-offs."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import folium

from api.i18n import N_, format_day, gettext, ngettext
from api.maps.base import (
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
    _site_kind,
    _site_markers,
    _Stop,
    _stop_point,
    courier_colour,
)
from api.words import detail_words, reason_words, stop_type_words
from routing.plan import Kpis, Plan, Route, Stop, Unassigned

# The words of a stop's planned times in its popup.
_STOP_TIMES = {"arrive": N_("arrive %(time)s"), "start": N_("start %(time)s"),
               "depart": N_("depart %(time)s")}  # fmt: skip


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
    words = gettext("Plan")
    title = f"buuta · {words} {typed.plan_id} · {format_day(typed.date)}".strip()
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
    courier_name = gettext("Courier %(name)s", name=_esc(courier))
    group = folium.FeatureGroup(name=courier_name, control=True)
    line = [p for p, _ in placed]
    working = any(stop.kind not in {"start", "end"} for _, stop in placed)
    duration = route.duration_min if route.duration_min is not None else "?"
    if working and len(line) >= 2:  # an idle courier (start → end) gets no line
        group.add_child(
            _Line(
                line,
                colour=colour,
                class_name="buuta-route",
                popup=f"<b>{courier_name}</b><br>"
                + gettext(
                    "%(km)s km · %(min)s min",
                    km=_km(route.distance_km),
                    min=_esc(duration),
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
                title=f"{courier} #{number} {stop_type_words(kind)}" + _run_note(stop),
            )
        )
    group.add_to(fmap)
    stops_words = ngettext("%(num)s stop", "%(num)s stops", number)
    return (
        f'<li><span class="buuta-swatch" style="background:{colour}"></span>'
        f"{_esc(courier)} · {stops_words} · {_km(route.distance_km)} km</li>"
    )


def _unassigned_layer(
    fmap: folium.Map,
    unassigned_points: list[tuple[tuple[float, float] | None, Unassigned]],
    index: _Index,
) -> None:
    group = folium.FeatureGroup(name=gettext("Not planned"), control=True)
    names = {sid: str(site.get("name") or sid) for sid, site in index.sites.items()}
    for point, item in unassigned_points:
        if point is None:
            continue
        job = index.jobs.get(item.job)
        code = item.reason or "unknown"
        heading = gettext("Not planned: %(job)s", job=_esc(item.job))
        explained = detail_words(item.detail, names)  # the optimizer's, translated
        detail = f"<br>{_esc(explained)}" if explained else ""
        group.add_child(
            _Stop(
                point,
                label="×",
                class_name="buuta-stop buuta-unassigned",
                colour="#9e9e9e",
                popup=(
                    f"<b>{heading}</b><br><b data-reason={_esc(code)}>"
                    f"{_esc(reason_words(code))}</b>{detail}<br>{_job_line(job)}"
                ),
                title=f"{item.job}: {reason_words(code)}",
            )
        )
    group.add_to(fmap)


def _plan_legend(fmap: folium.Map, plan: Plan, index: _Index, legend_rows: list[str]) -> None:
    kpis = plan.kpis or Kpis()
    unassigned = plan.unassigned
    reasons = Counter(item.reason or "unknown" for item in unassigned)
    reason_rows = "".join(
        f"<li data-reason={_esc(reason)}>{_esc(reason_words(reason))}: {count}</li>"
        for reason, count in sorted(reasons.items())
    )
    kinds = sorted({str(s.get("kind", "site")) for s in index.sites.values()})
    site_rows = "".join(
        f'<li><span class="buuta-key">{_site_kind(k)[0]}</span>{_esc(_site_kind(k)[1])}</li>'
        for k in kinds
    )
    served = gettext(
        "%(served)s of %(jobs)s jobs served · %(km)s km · %(status)s",
        served=_esc(kpis.served if kpis.served is not None else "?"),
        jobs=_esc(kpis.jobs if kpis.jobs is not None else "?"),
        km=_km(kpis.distance_km),
        status=_esc(_plan_status(plan.status)),
    )
    handoff = gettext("hand-over (its popup names the shuttle run)")
    not_planned = gettext("Not planned (%(num)s):", num=len(unassigned))
    body = (
        f"<p>{served}</p>"
        f'<ul class="buuta-couriers">{"".join(legend_rows)}</ul>'
        f"<ul>{site_rows}"
        f'<li><span class="buuta-key buuta-key-handoff">⇄</span>{handoff}</li></ul>'
        + (f"<p>{not_planned}</p><ul>{reason_rows}</ul>" if unassigned else "")
    )
    _legend(fmap, body, gettext("Plan %(day)s", day=format_day(plan.date)))


def _plan_status(code: Any) -> str:
    if code == "complete":
        return gettext("every job planned")
    if code == "partial":
        return gettext("some jobs not planned")
    return str(code or "?")


def _run_note(stop: Stop) -> str:
    """`` → run-1000`` for a hand-off that catches a run (shown when hovering the stop)."""
    if stop.kind == "handoff" and stop.shuttle:
        return f" → {stop.shuttle}"
    return ""


def _site_jobs_line(kind: str, jobs: Sequence[Any], index: _Index) -> str:
    """``hand over 2 dossiers: H12.22-…-0001, …`` (or collect), naming at most 12 dossiers.

    Staff read the dossier codes printed on the papers, so a job shows its dossier's code (its
    own id only when the request gave it none).
    """
    codes = [str((index.jobs.get(str(job)) or {}).get("dossier") or job) for job in jobs[:12]]
    listed = _esc(", ".join(codes))
    if kind == "handoff":
        return ngettext(
            "hand over %(num)s dossier: %(list)s",
            "hand over %(num)s dossiers: %(list)s",
            len(jobs),
            list=listed,
        )
    return ngettext(
        "collect %(num)s result: %(list)s",
        "collect %(num)s results: %(list)s",
        len(jobs),
        list=listed,
    )


def _plan_stop_popup(
    courier: str,
    number: int,
    stop: Stop,
    index: _Index,
) -> str:
    kind = stop.kind
    heading = gettext(
        "%(courier)s · stop %(number)s · %(kind)s",
        courier=_esc(courier),
        number=number,
        kind=_esc(stop_type_words(kind)),
    )
    lines = [f"<b>{heading}</b>"]
    if stop.site is not None:
        site = index.sites.get(stop.site, {})
        lines.append(_esc(site.get("name") or stop.site))
    if kind in _STOP_TYPES_AT_HOME:
        job_code = f"<code>{_esc(stop.job)}</code>"
        lines.append(gettext("request %(job)s", job=job_code))
        lines.append(_job_line(index.jobs.get(str(stop.job))))
    jobs = list(stop.jobs)
    if kind in _STOP_TYPES_AT_SITE:
        lines.append(_site_jobs_line(kind, jobs, index))
        if len(jobs) > 12:
            lines[-1] += " …"
    if kind == "handoff":
        run = stop.shuttle
        shuttle = index.shuttles.get(str(run)) if run else None
        bold_run = f"<b>{_esc(run)}</b>"
        if shuttle:
            departs = _esc(_short(shuttle.get("departs")))
            lines.append(
                gettext("catches run %(run)s departing %(time)s", run=bold_run, time=departs)
            )
        elif run:
            lines.append(gettext("catches run %(run)s", run=bold_run))
        else:
            lines.append(gettext("no shuttle run (kept at the site)"))
    times = []
    for key, moment in (("arrive", stop.arrive), ("start", stop.start), ("depart", stop.depart)):
        if moment:
            times.append(gettext(_STOP_TIMES[key], time=_hhmm(moment)))
    if times:
        lines.append(" · ".join(times))
    if stop.load is not None:
        lines.append(gettext("dossiers carried after: %(load)s", load=_esc(stop.load)))
    return "<br>".join(line for line in lines if line)
