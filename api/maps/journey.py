"""The journey map of one dossier: each scan in device-time order, with custodian and time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import folium

from api.maps.base import (
    MapDataError,
    _base_map,
    _esc,
    _index,
    _latlon,
    _legend,
    _Line,
    _list_of_dicts,
    _parse_time,
    _Stop,
)
from routing.clock import LOCAL_TZ


def journey_map(
    code: str,
    events: Sequence[Mapping[str, Any]],
    *,
    sites: Sequence[Mapping[str, Any]] = (),
    status: str | None = None,
    tiles_url: str | None = None,
    tiles_attribution: str | None = None,
) -> folium.Map:
    """Draw one dossier's journey: each scan in device-time order, with custodian and time.

    Parameters
    ----------
    code
        The dossier code (shown in the title and legend).
    events
        The dossier's scan events (DESIGN §7 fields ``type``, ``at``; a place as ``lat``/``lon``
        or a ``site`` id; optional ``custodian`` (or ``custodian_after``), ``actor``,
        ``flagged``). Events without a place are listed in the legend but not drawn.
    sites
        Sites (``id``, ``lat``, ``lon``, ``name``, ``kind``) to place events given by site.
    status
        The dossier's current status, shown in the legend.
    tiles_url, tiles_attribution
        Optional tile layer, as in :func:`plan_map`.

    Returns
    -------
    folium.Map
        The map.

    Raises
    ------
    MapDataError
        If an event has no valid time, an unknown site or bad coordinates.
    """
    rows = _placed_events(events, sites)
    points = [row[3] for row in rows if row[3] is not None]
    fmap = _base_map(
        points,
        tiles_url=tiles_url,
        tiles_attribution=tiles_attribution,
        title=f"buuta · dossier {code}",
    )
    group = folium.FeatureGroup(name=f"Dossier {_esc(code)}", control=True)
    if len(points) >= 2:
        group.add_child(
            _Line(
                points,
                colour="#1565c0",
                class_name="buuta-route buuta-journey",
                popup=f"journey of <code>{_esc(code)}</code>",
            )
        )
    items = [_scan_marker(group, n, row) for n, row in enumerate(rows, start=1)]
    group.add_to(fmap)
    body = (
        f"<p>status: <b>{_esc(status or (rows[-1][2].get('type') if rows else 'no scans yet'))}"
        f'</b> · {len(rows)} scan(s)</p><ol class="buuta-journey-list">{"".join(items)}</ol>'
    )
    _legend(fmap, body, f"Dossier {code}")
    return fmap


_Row = tuple[datetime, int, Mapping[str, Any], tuple[float, float] | None, str]


def _placed_events(
    events: Sequence[Mapping[str, Any]], sites: Sequence[Mapping[str, Any]]
) -> list[_Row]:
    """Each scan with its time, place (point and site name), in device-time order."""
    site_index = _index({"sites": list(sites)}).sites
    rows = []
    for i, event in enumerate(_list_of_dicts(list(events), "events")):
        where = f"events[{i}]"
        at = _parse_time(event.get("at"), None, f"{where}.at")
        point: tuple[float, float] | None = None
        place = ""
        if event.get("lat") is not None and event.get("lon") is not None:
            point = _latlon(event, where)
        if event.get("site"):
            site = site_index.get(str(event["site"]))
            if site is None and point is None:
                msg = f"{where}.site: {event['site']!r} is not a known site."
                raise MapDataError(msg)
            if site is not None:
                place = str(site.get("name") or event["site"])
                point = point or _latlon(site, f"{where}.site")
        rows.append((at, i, event, point, place))
    rows.sort(key=lambda row: (row[0], row[1]))
    return rows


def _scan_marker(group: folium.FeatureGroup, n: int, row: _Row) -> str:
    """Mark the ``n``-th scan on the map (when it has a place); return its legend item."""
    at, _, event, point, place = row
    custodian = event.get("custodian", event.get("custodian_after"))
    flagged = bool(event.get("flagged"))
    text = (
        f"<b>{n}. {_esc(event.get('type'))}</b> "
        f"{_esc(at.astimezone(LOCAL_TZ).strftime('%d/%m %H:%M'))}"
        + (f"<br>at {_esc(place)}" if place else "")
        + (f"<br>custodian: {_esc(custodian)}" if custodian else "")
        + (f"<br>by {_esc(event['actor'])}" if event.get("actor") else "")
        + (f"<br><b>flagged</b>: {_esc(event.get('flag_reason', ''))}" if flagged else "")
    )
    listed = text.replace(f"<b>{n}. ", "<b>", 1)  # the list numbers its items itself
    if point is not None:
        group.add_child(
            _Stop(
                point,
                label=str(n),
                class_name="buuta-stop buuta-scan" + (" buuta-flagged" if flagged else ""),
                colour="#c62828" if flagged else "#1565c0",
                popup=text,
                title=f"{n}. {event.get('type')}",
            )
        )
    return f"<li>{listed}{'' if point else ' <i>(no place)</i>'}</li>"
