"""The live progress map: planned routes against the couriers' traces, stop by stop."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import folium

from api.i18n import N_, format_day, gettext, ngettext
from api.maps.base import (
    _DONE_BY,
    _FAILED_BY,
    _STOP_TYPES_AT_HOME,
    MapDataError,
    _as_plan,
    _base_map,
    _esc,
    _hhmm,
    _Index,
    _index,
    _latlon,
    _legend,
    _Line,
    _list_of_dicts,
    _parse_time,
    _site_markers,
    _Stop,
    _stop_point,
    courier_colour,
)
from api.maps.plan import _plan_stop_popup
from api.words import stop_type_words
from routing.plan import Plan, Route, Stop

# The words of a stop's state on the progress map (CSS classes keep the codes).
_STATES = {"done": N_("done"), "pending": N_("pending"), "failed": N_("failed")}


@dataclass(frozen=True, slots=True)
class _StopState:
    status: str  # done | pending | failed
    at_risk: str | None  # why, or None
    done_at: datetime | None
    expected: datetime | None


def _stop_dossiers(stop: Stop, index: _Index) -> list[str]:
    dossiers = []
    for job_id in stop.job_ids:
        job = index.jobs.get(job_id)
        dossiers.append(str(job.get("dossier") if job and job.get("dossier") else job_id))
    return dossiers


def _scans_by_dossier(
    scans: Sequence[Mapping[str, Any]], index: _Index, day: date | None
) -> dict[str, list[tuple[datetime, str]]]:
    dossier_of_job = {jid: str(job.get("dossier", jid)) for jid, job in index.jobs.items()}
    out: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for i, scan in enumerate(scans):
        where = f"scans[{i}]"
        dossier = scan.get("dossier")
        if dossier is None and scan.get("job") is not None:
            dossier = dossier_of_job.get(str(scan["job"]))
        if dossier is None:
            msg = f"{where}.dossier: missing (and no known job)."
            raise MapDataError(msg)
        kind = scan.get("type")
        if not isinstance(kind, str):
            msg = f"{where}.type: expected a scan type, got {kind!r}."
            raise MapDataError(msg)
        out[str(dossier)].append((_parse_time(scan.get("at"), day, f"{where}.at"), kind))
    for events in out.values():
        events.sort()
    return out


def _window_end(job: Mapping[str, Any] | None, day: date | None) -> datetime | None:
    if not job:
        return None
    window = job.get("window")
    if isinstance(window, list | tuple) and len(window) == 2:
        return _parse_time(window[1], day, f"jobs[{job.get('id')}].window")
    return None


_Raw = tuple[str, datetime | None, datetime | None]  # status, done at, planned


def _scanned_status(
    stop: Stop, index: _Index, scans: Mapping[str, list[tuple[datetime, str]]]
) -> _Raw:
    """A stop's status from its dossiers' scans: done (or failed) when every one has its scan."""
    planned = stop.begins
    if stop.kind not in _DONE_BY:
        return ("skip", None, planned)
    dossiers = _stop_dossiers(stop, index)
    done_times: list[datetime] = []
    failed = False
    for dossier in dossiers:
        events = scans.get(dossier, [])
        hits = [at for at, t in events if t in _DONE_BY[stop.kind]]
        fails = [at for at, t in events if t in _FAILED_BY.get(stop.kind, frozenset())]
        if hits:
            done_times.append(min(hits))
        elif fails:
            failed = True
            done_times.append(min(fails))
    if dossiers and len(done_times) == len(dossiers):
        return ("failed" if failed else "done", max(done_times), planned)
    return ("pending", None, planned)


def _courier_delay(raw: Sequence[_Raw], now: datetime) -> timedelta:
    """The courier's delay: how late the last finished stop was against its plan, or how far
    "now" is past the planned time of the first pending stop; never negative."""
    delay = timedelta(0)
    for status, done_at, planned in raw:
        if status in {"done", "failed"} and done_at and planned:
            delay = max(timedelta(0), done_at - planned)
    first_pending = next((p for st, _, p in raw if st == "pending" and p), None)
    if first_pending is not None and now > first_pending:
        delay = max(delay, now - first_pending)
    return delay


def _risk(
    stop: Stop, index: _Index, expected: datetime, delay: timedelta, day: date | None
) -> str | None:
    """Why a pending stop may miss its booked window or its run's hand-off cut-off, if it may."""
    risk = None
    if stop.kind in _STOP_TYPES_AT_HOME:
        end = _window_end(index.jobs.get(str(stop.job)), day)
        if end is not None and expected > end:
            risk = gettext(
                "expected %(expected)s, after the booked time ends at %(end)s",
                expected=_hhmm(expected),
                end=_hhmm(end),
            )
    if stop.kind == "handoff" and stop.shuttle:
        shuttle = index.shuttles.get(stop.shuttle)
        if shuttle and shuttle.get("departs"):
            departs = _parse_time(shuttle["departs"], day, f"shuttles[{stop.shuttle}]")
            cutoff = departs - timedelta(minutes=float(shuttle.get("handoff_min", 0) or 0))
            arrive = stop.arrive or stop.begins
            if arrive is not None and arrive + delay > cutoff:
                risk = gettext(
                    "expected %(expected)s, after the hand-off cut-off %(cutoff)s of run %(run)s",
                    expected=_hhmm(arrive + delay),
                    cutoff=_hhmm(cutoff),
                    run=stop.shuttle,
                )
    return risk


def _stop_states(
    stops: Sequence[Stop],
    index: _Index,
    scans: Mapping[str, list[tuple[datetime, str]]],
    now: datetime,
    day: date | None,
) -> list[_StopState]:
    """Each stop's status and risk, shifting pending stops by the courier's current delay."""
    raw = [_scanned_status(stop, index, scans) for stop in stops]
    delay = _courier_delay(raw, now)
    states = []
    for stop, (status, done_at, planned) in zip(stops, raw, strict=True):
        if status == "skip":
            states.append(_StopState("skip", None, None, planned))
            continue
        if status != "pending":
            states.append(_StopState(status, None, done_at, None))
            continue
        expected = planned + delay if planned else None
        risk = None if expected is None else _risk(stop, index, expected, delay, day)
        states.append(_StopState("pending", risk, None, expected))
    return states


def progress_map(
    plan: Plan | Mapping[str, Any],
    request: Mapping[str, Any],
    *,
    positions: Sequence[Mapping[str, Any]],
    scans: Sequence[Mapping[str, Any]],
    now: datetime,
    courier: str | None = None,
    tiles_url: str | None = None,
    tiles_attribution: str | None = None,
) -> folium.Map:
    """Draw a day's progress: planned routes against the couriers' actual traces.

    Done stops are filled, pending stops hollow in the courier's colour, failed stops red; a
    pending stop whose expected time (its planned time shifted by the courier's current delay)
    falls after its booked window or its shuttle's hand-off cut-off is ringed in orange and
    says why. Each courier's last known position is marked with its age.

    Parameters
    ----------
    plan, request
        The plan of DESIGN §4 (typed, or its JSON) and the request it answers.
    positions
        Courier positions: dicts with ``courier``, ``at`` (ISO time with offset), ``lat``,
        ``lon``; any order.
    scans
        Scan events of DESIGN §7 (``dossier`` or ``job``, ``type``, ``at``); any order.
    now
        The current time (timezone-aware), for the positions' age and the delays.
    courier
        Draw only this courier's route; all couriers when None.
    tiles_url, tiles_attribution
        Optional tile layer, as in :func:`plan_map`.

    Returns
    -------
    folium.Map
        The map.

    Raises
    ------
    MapDataError
        If the data is malformed, ``now`` is naive or ``courier`` is not in the plan.
    """
    if now.tzinfo is None:
        msg = "now: must be timezone-aware (e.g. +07:00)."
        raise MapDataError(msg)
    typed = _as_plan(plan)
    index = _index(request)
    day = typed.date
    if courier is not None and typed.route_of(courier) is None:
        msg = gettext(
            "courier: %(courier)s has no route in plan %(plan)s.",
            courier=repr(courier),
            plan=typed.plan_id,
        )
        raise MapDataError(msg)
    scan_index = _scans_by_dossier(_list_of_dicts(scans, "scans"), index, day)
    traces = _traces(positions, day)
    prepared = [
        _prepare_route(r, route, index, scan_index, now=now, day=day)
        for r, route in enumerate(typed.routes)
        if courier is None or route.courier == courier
    ]
    all_points = [p for route in prepared for p in route.points if p is not None]
    for route in prepared:
        all_points.extend(p for _, p in traces.get(route.route.courier, []))
    label = courier or gettext("all couriers")
    progress_words = gettext("Progress")
    title = f"buuta · {progress_words} {format_day(day)} · {label}"
    fmap = _base_map(
        all_points, tiles_url=tiles_url, tiles_attribution=tiles_attribution, title=title
    )
    used_sites = {stop.site for route in prepared for stop in route.route.stops if stop.site}
    _site_markers(fmap, index, used_sites)
    totals: Counter[str] = Counter()
    legend_rows = []
    for route in prepared:
        counts, row = _courier_layer(fmap, route, traces.get(route.route.courier, []), index, now)
        totals.update(counts)
        legend_rows.append(row)
    legend_title = gettext("Progress %(day)s", day=format_day(day))
    _progress_legend(fmap, totals, legend_rows, now, f"{legend_title} · {label}")
    folium.LayerControl(collapsed=True).add_to(fmap)
    return fmap


_Trace = list[tuple[datetime, tuple[float, float]]]


def _traces(positions: Sequence[Mapping[str, Any]], day: date) -> dict[str, _Trace]:
    """Each courier's positions in time order."""
    traces: dict[str, _Trace] = defaultdict(list)
    for i, pos in enumerate(_list_of_dicts(positions, "positions")):
        who = pos.get("courier")
        if who is None:
            msg = f"positions[{i}].courier: missing."
            raise MapDataError(msg)
        at = _parse_time(pos.get("at"), day, f"positions[{i}].at")
        traces[str(who)].append((at, _latlon(pos, f"positions[{i}]")))
    for trace in traces.values():
        trace.sort()
    return traces


@dataclass(frozen=True, slots=True)
class _RouteNow:
    """One route drawn on the progress map: its stops' places and states."""

    r: int
    route: Route
    points: list[tuple[float, float] | None]
    states: list[_StopState]


def _prepare_route(
    r: int,
    route: Route,
    index: _Index,
    scans: Mapping[str, list[tuple[datetime, str]]],
    *,
    now: datetime,
    day: date,
) -> _RouteNow:
    where = f"plan.routes[{r}]"
    stops = route.stops
    points = [_stop_point(stop, index, f"{where}.stops[{s}]") for s, stop in enumerate(stops)]
    return _RouteNow(r, route, points, _stop_states(stops, index, scans, now, day))


def _courier_layer(
    fmap: folium.Map, drawn: _RouteNow, trace: _Trace, index: _Index, now: datetime
) -> tuple[Counter[str], str]:
    """Draw one courier: planned route, actual trace, stops by state, last position."""
    who = drawn.route.courier
    colour = courier_colour(drawn.r)
    group = folium.FeatureGroup(name=gettext("Courier %(name)s", name=_esc(who)), control=True)
    planned_line = [p for p in drawn.points if p is not None]
    working = any(stop.kind not in {"start", "end", "break"} for stop in drawn.route.stops)
    if working and len(planned_line) >= 2:
        group.add_child(
            _Line(
                planned_line,
                colour=colour,
                class_name="buuta-route buuta-planned",
                popup=f"<b>{_esc(who)}</b>: " + gettext("planned route"),
                dash="6 6",
                opacity=0.6,
            )
        )
    if len(trace) >= 2:
        group.add_child(
            _Line(
                [p for _, p in trace],
                colour=colour,
                class_name="buuta-trace",
                popup=f"<b>{_esc(who)}</b>: "
                + ngettext(
                    "actual trace (%(num)s position)",
                    "actual trace (%(num)s positions)",
                    len(trace),
                ),
                weight=4,
                opacity=0.95,
            )
        )
    counts = _stop_markers(group, drawn, colour, index)
    seen = _position_marker(group, who, colour, trace, now)
    group.add_to(fmap)
    row = (
        f'<li><span class="buuta-swatch" style="background:{colour}"></span>{_esc(who)}: '
        + gettext(
            "%(done)s done, %(pending)s pending, %(failed)s failed",
            done=counts["done"],
            pending=counts["pending"],
            failed=counts["failed"],
        )
        + (", " + gettext("%(num)s at risk", num=counts["at_risk"]) if counts["at_risk"] else "")
        + f"{seen}</li>"
    )
    return counts, row


def _stop_markers(
    group: folium.FeatureGroup, drawn: _RouteNow, colour: str, index: _Index
) -> Counter[str]:
    """Number the stops with a place; fill done ones, ring those at risk; count them."""
    who = drawn.route.courier
    number = 0
    counts: Counter[str] = Counter()
    for stop, point, state in zip(drawn.route.stops, drawn.points, drawn.states, strict=True):
        kind = stop.kind
        if point is None or kind in {"start", "end"} or state.status == "skip":
            continue
        number += 1
        counts[state.status] += 1
        if state.at_risk:
            counts["at_risk"] += 1
        css = f"buuta-stop buuta-{state.status}" + (" buuta-risk" if state.at_risk else "")
        fill = {"done": colour, "failed": "#c62828"}.get(state.status, "#ffffff")
        detail = (
            gettext("done at %(time)s", time=_hhmm(state.done_at))
            if state.status == "done"
            else gettext("failed at %(time)s", time=_hhmm(state.done_at))
            if state.status == "failed"
            else gettext("expected %(time)s", time=_hhmm(state.expected))
        )
        at_risk = gettext("at risk")
        risk = f"<br><b>{at_risk}</b>: {_esc(state.at_risk)}" if state.at_risk else ""
        state_words = gettext(_STATES[state.status])
        group.add_child(
            _Stop(
                point,
                label=str(number),
                class_name=css,
                colour=fill,
                popup=(
                    _plan_stop_popup(who, number, stop, index)
                    + f"<br><b>{_esc(state_words)}</b>: {detail}{risk}"
                ),
                title=f"{who} #{number} {stop_type_words(kind)} · {state_words}",
            )
        )
    return counts


def _position_marker(
    group: folium.FeatureGroup, who: str, colour: str, trace: _Trace, now: datetime
) -> str:
    """Mark the courier's last known position with its age; return the legend's note."""
    if not trace:
        return " · " + gettext("no position yet")
    last_at, last_point = trace[-1]
    age_min = max(0, int((now - last_at).total_seconds() // 60))
    bold_who = f"<b>{_esc(who)}</b>"
    group.add_child(
        _Stop(
            last_point,
            label="▲",
            class_name="buuta-position",
            colour=colour,
            popup=gettext(
                "%(who)s last seen %(time)s, %(min)s min ago",
                who=bold_who,
                time=_hhmm(last_at),
                min=age_min,
            ),
            title=gettext("%(who)s last seen %(min)s min ago", who=who, min=age_min),
            size_px=26,
        )
    )
    return " · " + gettext("seen %(min)s min ago", min=age_min)


def _progress_legend(
    fmap: folium.Map, totals: Counter[str], legend_rows: list[str], now: datetime, title: str
) -> None:
    summary = gettext(
        "at %(time)s: %(done)s done · %(pending)s pending · %(failed)s failed · %(risk)s at risk",
        time=_hhmm(now),
        done=totals["done"],
        pending=totals["pending"],
        failed=totals["failed"],
        risk=totals["at_risk"],
    )
    keys = "".join(
        f'<li><span class="buuta-key buuta-key-{key}">1</span>{_esc(words)}</li>'
        for key, words in (
            ("done", gettext("done")),
            ("pending", gettext("pending")),
            ("failed", gettext("failed")),
            ("risk", gettext("at risk of missing the booked time or the shuttle run")),
        )
    )
    lines_key = gettext("dashed: planned · solid: actual · ▲ last position")
    body = (
        f"<p>{summary}</p>"
        f'<ul class="buuta-couriers">{"".join(legend_rows)}</ul>'
        f"<ul>{keys}<li>{lines_key}</li></ul>"
    )
    _legend(fmap, body, title)
