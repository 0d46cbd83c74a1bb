"""The journey map of one dossier: each scan in device-time order, with custodian and time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import folium

from api.i18n import gettext, ngettext
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
from api.words import custodian_words, scan_words, status_words
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
    site_index = _index({"sites": list(sites)}).sites
    names = {sid: str(site.get("name") or sid) for sid, site in site_index.items()}
    points = [row[3] for row in rows if row[3] is not None]
    fmap = _base_map(
        points,
        tiles_url=tiles_url,
        tiles_attribution=tiles_attribution,
        title="buuta · " + gettext("Dossier %(code)s", code=code),
    )
    group = folium.FeatureGroup(name=gettext("Dossier %(code)s", code=_esc(code)), control=True)
    code_html = f"<code>{_esc(code)}</code>"
    if len(points) >= 2:
        group.add_child(
            _Line(
                points,
                colour="#1565c0",
                class_name="buuta-route buuta-journey",
                popup=gettext("journey of %(code)s", code=code_html),
            )
        )
    items = [_scan_marker(group, n, row, names) for n, row in enumerate(rows, start=1)]
    group.add_to(fmap)
    if status:
        now_words = status_words(status)
    elif rows:
        now_words = scan_words(rows[-1][2].get("type"))
    else:
        now_words = gettext("no scans yet")
    scans = ngettext("%(num)s scan", "%(num)s scans", len(rows))
    bold = f"<b>{_esc(now_words)}</b>"
    status_line = gettext("status: %(status)s", status=bold)
    body = f'<p>{status_line} · {scans}</p><ol class="buuta-journey-list">{"".join(items)}</ol>'
    _legend(fmap, body, gettext("Dossier %(code)s", code=code))
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


def _scan_marker(group: folium.FeatureGroup, n: int, row: _Row, site_names: dict[str, str]) -> str:
    """Mark the ``n``-th scan on the map (when it has a place); return its legend item."""
    at, _, event, point, place = row
    custodian = event.get("custodian", event.get("custodian_after"))
    flagged = bool(event.get("flagged"))
    flag_words = gettext("to be checked")
    text = (
        f"<b>{n}. {_esc(scan_words(event.get('type')))}</b> "
        f"{_esc(at.astimezone(LOCAL_TZ).strftime('%d/%m %H:%M'))}"
        + ("<br>" + gettext("at %(place)s", place=_esc(place)) if place else "")
        + (
            "<br>" + gettext("held by: %(who)s", who=_esc(custodian_words(custodian, site_names)))
            if custodian
            else ""
        )
        + (
            "<br>" + gettext("scanned by %(who)s", who=_esc(event["actor"]))
            if event.get("actor")
            else ""
        )
        + (f"<br><b>{flag_words}</b>: {_esc(event.get('flag_reason', ''))}" if flagged else "")
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
                title=f"{n}. {scan_words(event.get('type'))}",
            )
        )
    no_place = "" if point else " <i>" + gettext("(no place)") + "</i>"
    return f"<li>{listed}{no_place}</li>"
