"""Folium maps of plans, of a day's progress and of one dossier's journey, drawn offline.

Every builder here is a pure function from plain data (the plan JSON and plan request of
DESIGN §4, lists of courier positions and scan events as dicts) to a :class:`folium.Map`. Nothing
here reads a database, the environment or the network, so the pages of :mod:`api.pages`, the
``buuta demo`` command and the notebooks all draw the same maps.

The maps work with no internet:

- the base layer is the embedded geography (the 64 wards of Cà Mau, 2025), drawn as a GeoJSON
  layer; a tile layer is added only when the caller passes ``tiles_url``;
- Leaflet's script and style sheet are served by buuta (``api/static/leaflet``). Folium's other
  default assets (jQuery, Bootstrap, Font Awesome, awesome-markers) are not used: stops are
  ``L.divIcon`` markers styled by buuta's own CSS and popups are bound without jQuery.
  :func:`render_html` writes the asset URLs for a server, :func:`save_map` copies the assets
  beside a file written to disk.

Coordinates are ``(lat, lon)`` in decimal degrees (folium's order), rounded to 5 decimals (about
1 m), which keeps the HTML of a 2,000-job plan small.

Every word on a map (legends, popups, tooltips, layer names) is in the current language of
:mod:`api.i18n` (the page request's; Vietnamese in scripts and notebooks), and codes are shown
as the words of :mod:`api.words`. Translated text is built outside f-strings, so that
``make messages`` finds it.
"""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import folium
from branca.element import Element, Figure, MacroElement
from folium.template import Template

from api.i18n import (
    N_,
    current_locale,
    format_day,
    format_km,
    gettext,
    ngettext,
)
from api.words import (
    custodian_words,
    detail_words,
    reason_words,
    scan_words,
    site_kind_words,
    status_words,
    stop_type_words,
)

__all__ = [
    "STATIC_DIR",
    "VIETNAM_TZ",
    "MapDataError",
    "NotebookMap",
    "courier_colour",
    "inline_html",
    "journey_map",
    "notebook_view",
    "plan_map",
    "progress_map",
    "render_html",
    "save_map",
]

VIETNAM_TZ = timezone(timedelta(hours=7), "ICT")
"""Vietnam's time zone: UTC+07:00 all year, no daylight saving time."""

STATIC_DIR = Path(__file__).resolve().parent / "static"
"""Directory of the assets buuta serves itself under ``/static``."""

WARDS_GEOJSON = Path(__file__).resolve().parent.parent / "geo" / "data" / "camau_wards_2025.geojson"

# Placeholder written into the asset URLs; :func:`render_html` replaces it with a real prefix.
_STATIC_MARK = "__BUUTA_STATIC__"
_ASSETS_JS = [("leaflet", f"{_STATIC_MARK}/leaflet/leaflet.js")]
_ASSETS_CSS = [
    ("leaflet_css", f"{_STATIC_MARK}/leaflet/leaflet.css"),
    ("buuta_map_css", f"{_STATIC_MARK}/buuta-map.css"),
]
# Asset files a map needs, relative to STATIC_DIR (copied beside maps saved to disk).
_ASSET_FILES = (
    "leaflet/leaflet.js",
    "leaflet/leaflet.css",
    "leaflet/LICENSE",
    "leaflet/images/layers.png",
    "leaflet/images/layers-2x.png",
    "leaflet/images/marker-icon.png",
    "leaflet/images/marker-icon-2x.png",
    "leaflet/images/marker-shadow.png",
    "buuta-map.css",
)

# Twenty colours that stay apart on a pale base map (Tableau 10 and its light partners, darkened
# where white numbers would not read). Courier i gets colour i mod 20.
_PALETTE = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#7f7f7f",
    "#bcbd22",
    "#393b79",
    "#843c39",
    "#637939",
    "#7b4173",
    "#ad494a",
    "#3182bd",
    "#e6550d",
    "#31a354",
    "#756bb1",
    "#636363",
)

# The letter on a site's marker; the Vietnamese catalogue gives its own (T for Trung tâm ...).
_SITE_KINDS = {
    "centre": (N_("C"), "centre"),
    "post_office": (N_("P"), "post_office"),
    "one_stop": (N_("U"), "one_stop"),
    "department": (N_("D"), "department"),
}


def _site_kind(kind: str) -> tuple[str, str]:
    """The marker letter and the words of a kind of site."""
    letter = _SITE_KINDS[kind][0] if kind in _SITE_KINDS else "S"
    words = site_kind_words(kind)
    return gettext(letter), words[:1].upper() + words[1:]


# The words of a stop's state on the progress map (CSS classes keep the codes).
_STATES = {"done": N_("done"), "pending": N_("pending"), "failed": N_("failed")}
_STOP_TIMES = {"arrive": N_("arrive %(time)s"), "start": N_("start %(time)s"),
               "depart": N_("depart %(time)s")}  # fmt: skip

_STOP_TYPES_AT_SITE = frozenset({"handoff", "collect"})
_STOP_TYPES_AT_HOME = frozenset({"pickup", "delivery"})

# Scan event types that finish a stop (DESIGN §5). A pickup is done once the dossier is
# collected; a hand-off once it is at the hub (or further); a collect at a site once the result
# is out for delivery; a delivery once delivered. A failed delivery marks the stop failed.
_DONE_BY = {
    "pickup": frozenset({"collected", "at_hub", "on_shuttle", "received"}),
    "handoff": frozenset({"at_hub", "on_shuttle", "received"}),
    "collect": frozenset({"out_for_delivery", "delivered", "delivery_failed", "returned"}),
    "delivery": frozenset({"delivered"}),
}
_FAILED_BY = {"delivery": frozenset({"delivery_failed", "returned"})}


class MapDataError(ValueError):
    """Plan, request or tracking data that a map cannot be drawn from (names the field)."""


# --------------------------------------------------------------------------- small helpers


def courier_colour(index: int) -> str:
    """Return the display colour of the ``index``-th courier of a plan (a CSS hex colour).

    Parameters
    ----------
    index
        Position of the courier's route in the plan's ``routes`` list, from 0.

    Returns
    -------
    str
        A colour such as ``"#1f77b4"``; colours repeat after 20 couriers.
    """
    return _PALETTE[index % len(_PALETTE)]


def _round(value: float) -> float:
    return round(float(value), 5)


def _latlon(item: Mapping[str, Any], where: str) -> tuple[float, float]:
    lat, lon = item.get("lat"), item.get("lon")
    ok = all(
        isinstance(v, int | float) and not isinstance(v, bool) and -180.0 <= v <= 180.0
        for v in (lat, lon)
    )
    if not ok or abs(float(lat)) > 90.0:  # type: ignore[arg-type]
        msg = f"{where}: lat and lon must be numbers of degrees, got lat={lat!r}, lon={lon!r}."
        raise MapDataError(msg)
    return (_round(lat), _round(lon))  # type: ignore[arg-type]


def _parse_time(value: Any, day: date | None, where: str) -> datetime:
    """Read an ISO datetime (with offset) or ``HH:MM`` on ``day`` (Vietnam time)."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and re.fullmatch(r"\d{1,2}:\d{2}", value.strip()):
        if day is None:
            msg = f"{where}: time {value!r} needs the plan's date."
            raise MapDataError(msg)
        hours, minutes = (int(p) for p in value.strip().split(":"))
        if hours > 23 or minutes > 59:
            msg = f"{where}: {value!r} is not a time of day (HH:MM)."
            raise MapDataError(msg)
        parsed = datetime.combine(day, time(hours, minutes), VIETNAM_TZ)
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            msg = f"{where}: {value!r} is not an ISO 8601 time."
            raise MapDataError(msg) from None
    else:
        msg = f"{where}: expected a time, got {value!r}."
        raise MapDataError(msg)
    if parsed.tzinfo is None:
        msg = f"{where}: time {value!r} has no UTC offset (write e.g. +07:00)."
        raise MapDataError(msg)
    return parsed


def _hhmm(moment: datetime | None) -> str:
    return "—" if moment is None else moment.astimezone(VIETNAM_TZ).strftime("%H:%M")


def _plan_day(plan: Mapping[str, Any]) -> date | None:
    raw = plan.get("date")
    if raw is None:
        return None
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        msg = f"plan.date: {raw!r} is not a date (YYYY-MM-DD)."
        raise MapDataError(msg) from None


def _km(value: Any) -> str:
    """A distance in km for people: one decimal, thousands separated; ``?`` if unknown."""
    return format_km(value)


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _list_of_dicts(value: Any, where: str) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        msg = f"{where}: expected a list, got {type(value).__name__}."
        raise MapDataError(msg)
    for i, item in enumerate(value):
        if not isinstance(item, Mapping):
            msg = f"{where}[{i}]: expected an object, got {type(item).__name__}."
            raise MapDataError(msg)
    return list(value)


@dataclass(frozen=True, slots=True)
class _Index:
    """The request's sites and jobs by id, read once per map."""

    sites: dict[str, Mapping[str, Any]]
    jobs: dict[str, Mapping[str, Any]]
    shuttles: dict[str, Mapping[str, Any]]


def _index(request: Mapping[str, Any]) -> _Index:
    if not isinstance(request, Mapping):
        msg = f"request: expected an object, got {type(request).__name__}."
        raise MapDataError(msg)
    sites: dict[str, Mapping[str, Any]] = {}
    for i, site in enumerate(_list_of_dicts(request.get("sites"), "request.sites")):
        _latlon(site, f"request.sites[{i}]")
        sites[str(site.get("id"))] = site
    jobs = {str(job.get("id")): job for job in _list_of_dicts(request.get("jobs"), "request.jobs")}
    shuttles = {
        str(s.get("id")): s for s in _list_of_dicts(request.get("shuttles"), "request.shuttles")
    }
    return _Index(sites=sites, jobs=jobs, shuttles=shuttles)


def _stop_point(stop: Mapping[str, Any], index: _Index, where: str) -> tuple[float, float] | None:
    """Where a stop is, or None for stops without a place (breaks)."""
    if stop.get("site") is not None:
        site = index.sites.get(str(stop["site"]))
        if site is None:
            msg = f"{where}.site: {stop['site']!r} is not a site of the request."
            raise MapDataError(msg)
        return _latlon(site, f"{where}.site")
    if "lat" in stop or "lon" in stop:
        return _latlon(stop, where)
    job_id = stop.get("job")
    if job_id is not None:
        job = index.jobs.get(str(job_id))
        if job is None:
            msg = f"{where}.job: {job_id!r} is not a job of the request."
            raise MapDataError(msg)
        return _latlon(job, f"{where}.job")
    return None


# --------------------------------------------------------------------------- folium elements


def _js(value: Any) -> str:
    """``value`` as a JavaScript literal that is safe inside a ``<script>`` element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027")):
        text = text.replace(char, escaped)
    return text


class _Raw(Element):
    """Ready-made text in the page (branca would compile each piece as a Jinja template)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs: Any) -> str:
        return self._text


class _Script(MacroElement):
    """An element that is one line of JavaScript, built in Python without a template.

    Rendering thousands of stops through branca's templates compiles each rendered line as a
    new Jinja template (about 1 ms each); building the line directly keeps a 2,000-stop map
    at a fraction of a second.
    """

    def script(self) -> str:
        """The JavaScript of this element."""
        raise NotImplementedError

    def parent_name(self) -> str:
        """The JavaScript variable of the layer this element is added to."""
        if self._parent is None:
            msg = "a map element must be added to a layer before rendering."
            raise MapDataError(msg)
        name: str = self._parent.get_name()
        return name

    def render(self, **kwargs: Any) -> str:
        _figure_of(self).script.add_child(_Raw(self.script()), name=self.get_name())
        return ""


class _Stop(_Script):
    """A numbered stop: one ``L.marker`` with a div icon and a popup, in one line of JS.

    Folium's ``Marker`` + ``DivIcon`` + ``Popup`` cost four variables and jQuery per stop; this
    element costs one line, which keeps a 2,000-stop map small and quick to load.
    """

    def __init__(
        self,
        location: tuple[float, float],
        *,
        label: str,
        class_name: str,
        colour: str,
        popup: str,
        title: str,
        size_px: int = 22,
        beside: bool = False,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "BuutaStop"
        self.location = list(location)
        half = size_px // 2
        # A site's marker sits up and left of its point, so the stops drawn on the point
        # (hand-offs, collections) do not hide it.
        anchor = [size_px + 2, size_px + 2] if beside else [half, half]
        self.icon = {
            "html": f'<span style="background:{colour}">{html.escape(label)}</span>',
            "className": class_name,
            "iconSize": [size_px, size_px],
            "iconAnchor": anchor,
            "popupAnchor": [0, -half],
        }
        self.popup = popup
        self.title = title

    def script(self) -> str:
        """``L.marker(...)`` with its icon and popup, added to the parent layer."""
        return (
            f"L.marker({_js(self.location)},{{icon:L.divIcon({_js(self.icon)}),"
            f"title:{_js(self.title)}}}).bindPopup({_js(self.popup)})"
            f".addTo({self.parent_name()});"
        )


class _Line(_Script):
    """A polyline with a popup, in one line of JS (folium's PolyLine needs jQuery for popups)."""

    def __init__(
        self,
        points: Sequence[tuple[float, float]],
        *,
        colour: str,
        class_name: str,
        popup: str | None = None,
        weight: int = 3,
        dash: str | None = None,
        opacity: float = 0.85,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "BuutaLine"
        self.points = [list(p) for p in points]
        self.options: dict[str, Any] = {
            "color": colour,
            "weight": weight,
            "opacity": opacity,
            "className": class_name,
        }
        if dash:
            self.options["dashArray"] = dash
        self.popup = popup

    def script(self) -> str:
        """``L.polyline(...)`` with its options and popup, added to the parent layer."""
        popup = f".bindPopup({_js(self.popup)})" if self.popup else ""
        return (
            f"L.polyline({_js(self.points)},{_js(self.options)}){popup}"
            f".addTo({self.parent_name()});"
        )


class _ControlWords(_Script):
    """Leaflet's own control words (zoom buttons' tooltips) in the map's language."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "BuutaControlWords"
        self.zoom_in = gettext("Zoom in")
        self.zoom_out = gettext("Zoom out")

    def script(self) -> str:
        """Replace the default zoom control by one with translated tooltips."""
        name = self.parent_name()
        options = {"zoomInTitle": self.zoom_in, "zoomOutTitle": self.zoom_out}
        return (
            f"if({name}.zoomControl){{{name}.zoomControl.remove();"
            f"L.control.zoom({_js(options)}).addTo({name});}}"
            f"{name}.attributionControl.setPrefix('<a href=\"https://leafletjs.com\">Leaflet</a>');"
        )


@lru_cache(maxsize=1)
def _wards_geojson() -> str:
    """The embedded ward boundaries, trimmed to what the map shows (name, kind), as JSON."""
    try:
        raw = json.loads(WARDS_GEOJSON.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        msg = f"cannot read the embedded ward boundaries {WARDS_GEOJSON}: {exc}"
        raise MapDataError(msg) from exc
    features = [
        {
            "type": "Feature",
            "properties": {
                "name": f["properties"].get("name", ""),
                "kind": f["properties"].get("kind", ""),
            },
            "geometry": f["geometry"],
        }
        for f in raw.get("features", [])
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)


class _Wards(MacroElement):
    """The ward boundaries as a plain ``L.geoJSON`` base layer, with a tooltip per ward."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "var {{ this.get_name() }} = L.geoJSON({{ this.data }},{"
        "style:function(){return {color:'#6b7b8c',weight:1,opacity:0.7,"
        "fillColor:'#eef3e8',fillOpacity:0.55};},"
        "onEachFeature:function(f,l){l.bindTooltip(f.properties.kind+' '+f.properties.name,"
        "{sticky:true});}"
        "}).addTo({{ this._parent.get_name() }});\n"
        "{% endmacro %}"
    )

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "BuutaWards"
        self.data = _wards_geojson()


def _figure(fmap: folium.Map) -> Figure:
    return _figure_of(fmap)


def _figure_of(element: Element) -> Figure:
    root = element.get_root()
    if not isinstance(root, Figure):  # folium always puts a Map in a Figure
        msg = "map is not inside a folium Figure."
        raise MapDataError(msg)
    return root


def _base_map(
    points: Iterable[tuple[float, float]],
    *,
    tiles_url: str | None,
    tiles_attribution: str | None,
    title: str,
) -> folium.Map:
    pts = list(points)
    if pts:
        lats = [p[0] for p in pts]
        lons = [p[1] for p in pts]
        bounds = [[min(lats), min(lons)], [max(lats), max(lons)]]
        centre = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    else:  # the province of Cà Mau
        bounds = [[8.55, 104.7], [9.65, 105.85]]
        centre = [9.1769, 105.1524]
    fmap = folium.Map(location=centre, zoom_start=10, tiles=None, prefer_canvas=False)
    # Serve Leaflet from buuta; drop folium's CDN assets (jQuery, Bootstrap, fonts) entirely.
    fmap.default_js = list(_ASSETS_JS)
    fmap.default_css = list(_ASSETS_CSS)
    root = _figure(fmap)
    root.header.add_child(Element(f"<title>{_esc(title)}</title>"), name="buuta_title")
    wards_name = gettext("Wards and communes (Cà Mau, 2025)")
    fmap.add_child(_ControlWords())
    wards = folium.FeatureGroup(name=wards_name, control=True, overlay=False)
    wards.add_child(_Wards())
    wards.add_to(fmap)
    if tiles_url:
        if not re.match(r"^(https?:)?//|^/", tiles_url) or "{z}" not in tiles_url:
            msg = f"tiles_url: {tiles_url!r} must be an http(s) or /path URL with {{z}}/{{x}}/{{y}}"
            raise MapDataError(msg)
        folium.TileLayer(
            tiles=tiles_url,
            attr=tiles_attribution or gettext("Map tiles"),
            name=gettext("Map tiles"),
            overlay=True,
            control=True,
        ).add_to(fmap)
    if bounds[0] == bounds[1]:
        pad = 0.01
        bounds = [
            [bounds[0][0] - pad, bounds[0][1] - pad],
            [bounds[1][0] + pad, bounds[1][1] + pad],
        ]
    fmap.fit_bounds(bounds, padding=(20, 20))
    return fmap


def _legend(fmap: folium.Map, body_html: str, title: str) -> None:
    box = (
        f'<details class="buuta-legend" open><summary>{_esc(title)}</summary>{body_html}</details>'
    )
    # On a phone the open legend would cover most of the map: it starts folded there.
    fold = (
        "<script>if(window.innerWidth<600){"
        "document.querySelector('.buuta-legend').removeAttribute('open');}</script>"
    )
    _figure(fmap).html.add_child(Element(box + fold), name="buuta_legend")


def _site_markers(
    fmap: folium.Map, index: _Index, used: set[str] | None = None
) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=gettext("Sites"), control=True)
    for site_id, site in index.sites.items():
        if used is not None and site_id not in used:
            continue
        kind = str(site.get("kind", "site"))
        letter, label = _site_kind(kind)
        name = str(site.get("name") or site_id)
        opening = site.get("opening")
        hours = ""
        if opening:
            hours = "<br>" + gettext(
                "open %(from)s–%(to)s", **{"from": _esc(opening[0]), "to": _esc(opening[1])}
            )
        group.add_child(
            _Stop(
                _latlon(site, f"request.sites[{site_id}]"),
                label=letter,
                class_name=f"buuta-site buuta-site-{re.sub(r'[^a-z_]', '', kind.lower())}",
                colour="#222",
                popup=f"<b>{_esc(name)}</b><br>{_esc(label)} · <code>{_esc(site_id)}</code>{hours}",
                title=f"{label}: {name}",
                size_px=24,
                beside=True,
            )
        )
    group.add_to(fmap)
    return group


def _job_line(job: Mapping[str, Any] | None) -> str:
    if not job:
        return ""
    parts = []
    if job.get("dossier"):
        code = f"<code>{_esc(job['dossier'])}</code>"
        parts.append(gettext("dossier %(code)s", code=code))
    window = job.get("window")
    if isinstance(window, list | tuple) and len(window) == 2:
        span = f"{_esc(_short(window[0]))}–{_esc(_short(window[1]))}"
        parts.append(gettext("booked %(window)s", window=span))
    if job.get("procedure"):
        parts.append(_esc(job["procedure"]))
    return "<br>".join(parts)


def _short(value: Any) -> str:
    text = str(value)
    match = re.search(r"T(\d{2}:\d{2})", text)
    return match.group(1) if match else text


# --------------------------------------------------------------------------- plan map


def plan_map(  # noqa: PLR0912, PLR0915 (one pass over routes, stops, legend)
    plan: Mapping[str, Any],
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
        The plan JSON of DESIGN §4 (``routes``, ``unassigned``, ``kpis``).
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
    if not isinstance(plan, Mapping):
        msg = f"plan: expected an object, got {type(plan).__name__}."
        raise MapDataError(msg)
    index = _index(request)
    day = _plan_day(plan)
    routes = _list_of_dicts(plan.get("routes"), "plan.routes")
    unassigned = _list_of_dicts(plan.get("unassigned"), "plan.unassigned")

    drawn: list[tuple[int, Mapping[str, Any], list[tuple[tuple[float, float], Mapping[str, Any]]]]]
    drawn = []
    all_points: list[tuple[float, float]] = []
    for r, route in enumerate(routes):
        where = f"plan.routes[{r}]"
        placed = []
        for s, stop in enumerate(_list_of_dicts(route.get("stops"), f"{where}.stops")):
            point = _stop_point(stop, index, f"{where}.stops[{s}]")
            if point is not None:
                placed.append((point, stop))
                all_points.append(point)
        drawn.append((r, route, placed))
    unassigned_points: list[tuple[tuple[float, float] | None, Mapping[str, Any]]] = []
    for u, item in enumerate(unassigned):
        job = index.jobs.get(str(item.get("job")))
        point = _latlon(job, f"plan.unassigned[{u}].job") if job and "lat" in job else None
        unassigned_points.append((point, item))
        if point is not None:
            all_points.append(point)

    words = gettext("Plan")
    title = f"buuta · {words} {plan.get('plan_id', '')} · {format_day(plan.get('date'))}".strip()
    fmap = _base_map(
        all_points, tiles_url=tiles_url, tiles_attribution=tiles_attribution, title=title
    )
    _site_markers(fmap, index)

    legend_rows = []
    for r, route, placed in drawn:
        courier = str(route.get("courier", f"#{r + 1}"))
        colour = courier_colour(r)
        courier_name = gettext("Courier %(name)s", name=_esc(courier))
        group = folium.FeatureGroup(name=courier_name, control=True)
        line = [p for p, _ in placed]
        working = any(str(stop.get("type")) not in {"start", "end"} for _, stop in placed)
        if working and len(line) >= 2:  # an idle courier (start → end) gets no line
            group.add_child(
                _Line(
                    line,
                    colour=colour,
                    class_name="buuta-route",
                    popup=f"<b>{courier_name}</b><br>"
                    + gettext(
                        "%(km)s km · %(min)s min",
                        km=_km(route.get("distance_km")),
                        min=_esc(route.get("duration_min", "?")),
                    ),
                )
            )
        number = 0
        for point, stop in placed:
            kind = str(stop.get("type"))
            if kind in {"start", "end"}:
                continue
            number += 1
            group.add_child(
                _Stop(
                    point,
                    label=str(number),
                    class_name=f"buuta-stop buuta-stop-{re.sub(r'[^a-z]', '', kind)}",
                    colour=colour,
                    popup=_plan_stop_popup(courier, number, stop, index, day),
                    title=f"{courier} #{number} {stop_type_words(kind)}" + _run_note(stop),
                )
            )
        group.add_to(fmap)
        stops_words = ngettext("%(num)s stop", "%(num)s stops", number)
        legend_rows.append(
            f'<li><span class="buuta-swatch" style="background:{colour}"></span>'
            f"{_esc(courier)} · {stops_words} · {_km(route.get('distance_km'))} km</li>"
        )

    if unassigned_points:
        group = folium.FeatureGroup(name=gettext("Not planned"), control=True)
        for point, item in unassigned_points:
            if point is None:
                continue
            job = index.jobs.get(str(item.get("job")))
            code = str(item.get("reason", "unknown"))
            heading = gettext("Not planned: %(job)s", job=_esc(item.get("job")))
            names = {sid: str(site.get("name") or sid) for sid, site in index.sites.items()}
            explained = detail_words(item.get("detail"), names)  # the optimizer's, translated
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
                    title=f"{item.get('job')}: {reason_words(code)}",
                )
            )
        group.add_to(fmap)

    kpis = plan.get("kpis") if isinstance(plan.get("kpis"), Mapping) else {}
    assert isinstance(kpis, Mapping)
    reasons = Counter(str(item.get("reason", "unknown")) for item in unassigned)
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
        served=_esc(kpis.get("served", "?")),
        jobs=_esc(kpis.get("jobs", "?")),
        km=_km(kpis.get("distance_km")),
        status=_esc(_plan_status(plan.get("status"))),
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
    _legend(fmap, body, gettext("Plan %(day)s", day=format_day(plan.get("date"))))
    folium.LayerControl(collapsed=True).add_to(fmap)
    return fmap


def _plan_status(code: Any) -> str:
    if code == "complete":
        return gettext("every job planned")
    if code == "partial":
        return gettext("some jobs not planned")
    return str(code or "?")


def _run_note(stop: Mapping[str, Any]) -> str:
    """`` → run-1000`` for a hand-off that catches a run (shown when hovering the stop)."""
    if stop.get("type") == "handoff" and stop.get("shuttle"):
        return f" → {stop['shuttle']}"
    return ""


def _site_jobs_line(kind: str, jobs: Sequence[Any]) -> str:
    """``hand over 2 dossiers: J1, J2`` (or collect), naming at most 12 jobs."""
    listed = _esc(", ".join(map(str, jobs[:12])))
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
    stop: Mapping[str, Any],
    index: _Index,
    day: date | None,
) -> str:
    kind = str(stop.get("type"))
    heading = gettext(
        "%(courier)s · stop %(number)s · %(kind)s",
        courier=_esc(courier),
        number=number,
        kind=_esc(stop_type_words(kind)),
    )
    lines = [f"<b>{heading}</b>"]
    if stop.get("site") is not None:
        site = index.sites.get(str(stop["site"]), {})
        lines.append(_esc(site.get("name") or stop["site"]))
    if kind in _STOP_TYPES_AT_HOME:
        job_code = f"<code>{_esc(stop.get('job'))}</code>"
        lines.append(gettext("request %(job)s", job=job_code))
        lines.append(_job_line(index.jobs.get(str(stop.get("job")))))
    jobs = stop.get("jobs")
    if kind in _STOP_TYPES_AT_SITE and isinstance(jobs, list):
        lines.append(_site_jobs_line(kind, jobs))
        if len(jobs) > 12:
            lines[-1] += " …"
    if kind == "handoff":
        run = stop.get("shuttle")
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
    for key in ("arrive", "start", "depart"):
        if stop.get(key):
            at = _hhmm(_parse_time(stop[key], day, f"stop.{key}"))
            times.append(gettext(_STOP_TIMES[key], time=at))
    if times:
        lines.append(" · ".join(times))
    if "load" in stop:
        lines.append(gettext("dossiers carried after: %(load)s", load=_esc(stop["load"])))
    return "<br>".join(line for line in lines if line)


# --------------------------------------------------------------------------- progress map


@dataclass(frozen=True, slots=True)
class _StopState:
    status: str  # done | pending | failed
    at_risk: str | None  # why, or None
    done_at: datetime | None
    expected: datetime | None


def _stop_dossiers(stop: Mapping[str, Any], index: _Index) -> list[str]:
    job_ids = [stop["job"]] if stop.get("job") is not None else list(stop.get("jobs") or [])
    dossiers = []
    for job_id in job_ids:
        job = index.jobs.get(str(job_id))
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


def _stop_states(  # noqa: PLR0912, PLR0915 (status, delay and risk of each stop)
    stops: Sequence[Mapping[str, Any]],
    index: _Index,
    scans: Mapping[str, list[tuple[datetime, str]]],
    now: datetime,
    day: date | None,
) -> list[_StopState]:
    """Each stop's status and risk, shifting pending stops by the courier's current delay."""
    raw: list[tuple[str, datetime | None, datetime | None]] = []
    for s, stop in enumerate(stops):
        kind = str(stop.get("type"))
        planned_raw = stop.get("start") or stop.get("arrive")
        planned = _parse_time(planned_raw, day, f"stops[{s}]") if planned_raw else None
        if kind not in _DONE_BY:
            raw.append(("skip", None, planned))
            continue
        dossiers = _stop_dossiers(stop, index)
        done_times: list[datetime] = []
        failed = False
        for dossier in dossiers:
            events = scans.get(dossier, [])
            hits = [at for at, t in events if t in _DONE_BY[kind]]
            fails = [at for at, t in events if t in _FAILED_BY.get(kind, frozenset())]
            if hits:
                done_times.append(min(hits))
            elif fails:
                failed = True
                done_times.append(min(fails))
        if dossiers and len(done_times) == len(dossiers):
            raw.append(("failed" if failed else "done", max(done_times), planned))
        else:
            raw.append(("pending", None, planned))

    # The courier's delay: how late the last finished stop was against its plan, or how far
    # "now" is past the planned time of the first pending stop; never negative.
    delay = timedelta(0)
    for status, done_at, planned in raw:
        if status in {"done", "failed"} and done_at and planned:
            delay = max(timedelta(0), done_at - planned)
    first_pending = next((p for st, _, p in raw if st == "pending" and p), None)
    if first_pending is not None and now > first_pending:
        delay = max(delay, now - first_pending)

    states = []
    for stop, (status, done_at, planned) in zip(stops, raw, strict=True):
        if status == "skip":
            states.append(_StopState("skip", None, None, planned))
            continue
        if status != "pending":
            states.append(_StopState(status, None, done_at, None))
            continue
        expected = planned + delay if planned else None
        risk = None
        kind = str(stop.get("type"))
        if expected is not None and kind in _STOP_TYPES_AT_HOME:
            end = _window_end(index.jobs.get(str(stop.get("job"))), day)
            if end is not None and expected > end:
                risk = gettext(
                    "expected %(expected)s, after the booked time ends at %(end)s",
                    expected=_hhmm(expected),
                    end=_hhmm(end),
                )
        if expected is not None and kind == "handoff" and stop.get("shuttle"):
            shuttle = index.shuttles.get(str(stop["shuttle"]))
            if shuttle and shuttle.get("departs"):
                departs = _parse_time(shuttle["departs"], day, f"shuttles[{stop['shuttle']}]")
                cutoff = departs - timedelta(minutes=float(shuttle.get("handoff_min", 0) or 0))
                arrive_raw = stop.get("arrive")
                arrive = _parse_time(arrive_raw, day, "stop.arrive") if arrive_raw else planned
                if arrive is not None and arrive + delay > cutoff:
                    risk = gettext(
                        "expected %(expected)s, after the hand-off cut-off %(cutoff)s of run "
                        "%(run)s",
                        expected=_hhmm(arrive + delay),
                        cutoff=_hhmm(cutoff),
                        run=stop["shuttle"],
                    )
        states.append(_StopState("pending", risk, None, expected))
    return states


def progress_map(  # noqa: PLR0912, PLR0915 (one pass over routes, traces, legend)
    plan: Mapping[str, Any],
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
        The plan JSON of DESIGN §4 and the request it answers.
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
    if not isinstance(plan, Mapping):
        msg = f"plan: expected an object, got {type(plan).__name__}."
        raise MapDataError(msg)
    index = _index(request)
    day = _plan_day(plan)
    routes = _list_of_dicts(plan.get("routes"), "plan.routes")
    if courier is not None and all(str(r.get("courier")) != courier for r in routes):
        msg = gettext(
            "courier: %(courier)s has no route in plan %(plan)s.",
            courier=repr(courier),
            plan=plan.get("plan_id", ""),
        )
        raise MapDataError(msg)
    scan_index = _scans_by_dossier(_list_of_dicts(scans, "scans"), index, day)

    traces: dict[str, list[tuple[datetime, tuple[float, float]]]] = defaultdict(list)
    for i, pos in enumerate(_list_of_dicts(positions, "positions")):
        who = pos.get("courier")
        if who is None:
            msg = f"positions[{i}].courier: missing."
            raise MapDataError(msg)
        at = _parse_time(pos.get("at"), day, f"positions[{i}].at")
        traces[str(who)].append((at, _latlon(pos, f"positions[{i}]")))
    for trace in traces.values():
        trace.sort()

    chosen = [
        (r, route)
        for r, route in enumerate(routes)
        if courier is None or str(route.get("courier")) == courier
    ]
    all_points: list[tuple[float, float]] = []
    prepared = []
    for r, route in chosen:
        where = f"plan.routes[{r}]"
        stops = _list_of_dicts(route.get("stops"), f"{where}.stops")
        points = [_stop_point(stop, index, f"{where}.stops[{s}]") for s, stop in enumerate(stops)]
        all_points.extend(p for p in points if p is not None)
        all_points.extend(p for _, p in traces.get(str(route.get("courier")), []))
        states = _stop_states(stops, index, scan_index, now, day)
        prepared.append((r, route, stops, points, states))

    label = courier or gettext("all couriers")
    progress_words = gettext("Progress")
    title = f"buuta · {progress_words} {format_day(plan.get('date'))} · {label}"
    fmap = _base_map(
        all_points, tiles_url=tiles_url, tiles_attribution=tiles_attribution, title=title
    )
    used_sites = {
        str(stop["site"]) for _, _, stops, _, _ in prepared for stop in stops if stop.get("site")
    }
    _site_markers(fmap, index, used_sites)

    totals: Counter[str] = Counter()
    legend_rows = []
    for r, route, stops, points, states in prepared:
        who = str(route.get("courier", f"#{r + 1}"))
        colour = courier_colour(r)
        group = folium.FeatureGroup(name=gettext("Courier %(name)s", name=_esc(who)), control=True)
        planned_line = [p for p in points if p is not None]
        working = any(str(stop.get("type")) not in {"start", "end", "break"} for stop in stops)
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
        trace = traces.get(who, [])
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
        number = 0
        counts: Counter[str] = Counter()
        for stop, point, state in zip(stops, points, states, strict=True):
            kind = str(stop.get("type"))
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
                        _plan_stop_popup(who, number, stop, index, day)
                        + f"<br><b>{_esc(state_words)}</b>: {detail}{risk}"
                    ),
                    title=f"{who} #{number} {stop_type_words(kind)} · {state_words}",
                )
            )
        if trace:
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
            seen = " · " + gettext("seen %(min)s min ago", min=age_min)
        else:
            seen = " · " + gettext("no position yet")
        group.add_to(fmap)
        totals.update(counts)
        legend_rows.append(
            f'<li><span class="buuta-swatch" style="background:{colour}"></span>{_esc(who)}: '
            + gettext(
                "%(done)s done, %(pending)s pending, %(failed)s failed",
                done=counts["done"],
                pending=counts["pending"],
                failed=counts["failed"],
            )
            + (
                ", " + gettext("%(num)s at risk", num=counts["at_risk"])
                if counts["at_risk"]
                else ""
            )
            + f"{seen}</li>"
        )
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
    legend_title = gettext("Progress %(day)s", day=format_day(plan.get("date")))
    _legend(fmap, body, f"{legend_title} · {label}")
    folium.LayerControl(collapsed=True).add_to(fmap)
    return fmap


# --------------------------------------------------------------------------- journey map


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
    site_index = _index({"sites": list(sites)}).sites
    names = {sid: str(site.get("name") or sid) for sid, site in site_index.items()}
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
    items = []
    for n, (at, _, event, point, place) in enumerate(rows, start=1):
        custodian = event.get("custodian", event.get("custodian_after"))
        flagged = bool(event.get("flagged"))
        flag_words = gettext("to be checked")
        text = (
            f"<b>{n}. {_esc(scan_words(event.get('type')))}</b> "
            f"{_esc(at.astimezone(VIETNAM_TZ).strftime('%d/%m %H:%M'))}"
            + ("<br>" + gettext("at %(place)s", place=_esc(place)) if place else "")
            + (
                "<br>" + gettext("held by: %(who)s", who=_esc(custodian_words(custodian, names)))
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
        no_place = "" if point else " <i>" + gettext("(no place)") + "</i>"
        items.append(f"<li>{listed}{no_place}</li>")
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


# --------------------------------------------------------------------------- HTML output


_EXTERNAL_ASSET = re.compile(r"""<(?:script|link)\b[^>]*(?:src|href)\s*=\s*["'](?:https?:)?//""")


def render_html(fmap: folium.Map, *, static_url: str = "/static") -> str:
    """Render a map to a complete HTML page whose assets load from ``static_url``.

    Parameters
    ----------
    fmap
        A map from this module (or any folium map using only Leaflet).
    static_url
        URL prefix of buuta's static assets: ``/static`` when served by buuta, a relative
        directory (``"static"``) for a file saved beside its assets.

    Returns
    -------
    str
        The HTML page.

    Raises
    ------
    MapDataError
        If the page would still load a script or style sheet from another host (an element
        added by the caller that brings its CDN assets), since it must work offline.
    """
    fmap.default_js = list(_ASSETS_JS)
    fmap.default_css = list(_ASSETS_CSS)
    page = str(fmap.get_root().render())
    page = page.replace(_STATIC_MARK, static_url.rstrip("/"))
    page = page.replace("<html>", f'<html lang="{current_locale()}">', 1)
    match = _EXTERNAL_ASSET.search(page)
    if match:
        msg = f"map page would load an asset from the internet: {match.group(0)!r}"
        raise MapDataError(msg)
    return page


def save_map(fmap: folium.Map, path: str | Path) -> Path:
    """Write a map to ``path`` and copy its assets beside it, so the file opens offline.

    The assets go to a ``static`` directory next to the HTML file (Leaflet with its licence and
    buuta's map style sheet).

    Parameters
    ----------
    fmap
        The map.
    path
        The HTML file to write; its directory is created if missing.

    Returns
    -------
    Path
        The written HTML file.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    for rel in _ASSET_FILES:
        dest = target.parent / "static" / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(STATIC_DIR / rel, dest)
    target.write_text(render_html(fmap, static_url="static"), encoding="utf-8")
    return target


def inline_html(fmap: folium.Map) -> str:
    """Render a map as one self-contained HTML page: Leaflet and styles inlined, no links.

    For places with no buuta server and no asset directory: a notebook cell, an e-mail
    attachment. Leaflet's layer-control icons are inlined as data URIs.

    Parameters
    ----------
    fmap
        A map from this module.

    Returns
    -------
    str
        The HTML page (about 170 kB larger than :func:`render_html`'s).
    """
    page = render_html(fmap, static_url=_STATIC_MARK)
    leaflet_css = (STATIC_DIR / "leaflet" / "leaflet.css").read_text(encoding="utf-8")
    for image in ("layers.png", "layers-2x.png", "marker-icon.png"):
        data = base64.b64encode((STATIC_DIR / "leaflet" / "images" / image).read_bytes())
        leaflet_css = leaflet_css.replace(
            f"images/{image}", f"data:image/png;base64,{data.decode('ascii')}"
        )
    buuta_css = (STATIC_DIR / "buuta-map.css").read_text(encoding="utf-8")
    leaflet_js = (STATIC_DIR / "leaflet" / "leaflet.js").read_text(encoding="utf-8")
    leaflet_js = leaflet_js.replace("//# sourceMappingURL=leaflet.js.map", "")
    replacements = {
        f'<script src="{_STATIC_MARK}/leaflet/leaflet.js"></script>': (
            f"<script>{leaflet_js}</script>"
        ),
        f'<link rel="stylesheet" href="{_STATIC_MARK}/leaflet/leaflet.css"/>': (
            f"<style>{leaflet_css}</style>"
        ),
        f'<link rel="stylesheet" href="{_STATIC_MARK}/buuta-map.css"/>': (
            f"<style>{buuta_css}</style>"
        ),
    }
    for old, new in replacements.items():
        if old not in page:
            msg = f"cannot inline an asset: {old!r} is not in the page."
            raise MapDataError(msg)
        page = page.replace(old, new)
    return page


@dataclass(frozen=True, slots=True)
class NotebookMap:
    """A map shown in a notebook cell as a self-contained iframe (works with no internet)."""

    page: str
    height_px: int = 600

    def _repr_html_(self) -> str:
        return (
            f'<iframe srcdoc="{html.escape(self.page, quote=True)}" '
            f'style="width:100%;height:{self.height_px}px;border:0"></iframe>'
        )


def notebook_view(fmap: folium.Map, *, height_px: int = 600) -> NotebookMap:
    """Wrap a map for display in a Jupyter cell, with its assets inlined.

    Folium's own notebook display loads Leaflet from CDNs; this one does not.

    Parameters
    ----------
    fmap
        A map from this module.
    height_px
        Height of the cell's frame in pixels.

    Returns
    -------
    NotebookMap
        An object Jupyter displays as the map.
    """
    return NotebookMap(page=inline_html(fmap), height_px=height_px)
