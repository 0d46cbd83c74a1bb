"""What every map shares: the assets, colours and errors, plan and request reading, folium
elements, the offline base layer of wards, the legend and the site markers.

The modules of this package translate with ``gettext`` of :mod:`api.i18n` called by name,
never ``_``, which they use for values they skip."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path
from typing import Any

import folium
from branca.element import Element, Figure, MacroElement
from folium.template import Template

from api.i18n import N_, format_km, gettext
from api.words import site_kind_words
from routing.clock import LOCAL_TZ
from routing.plan import Plan, PlanError, Stop, plan_from_json

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
"""Directory of the assets buuta serves itself under ``/static``."""

WARDS_GEOJSON = Path(__file__).resolve().parents[2] / "geo" / "data" / "camau_wards_2025.geojson"

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
        parsed = datetime.combine(day, time(hours, minutes), LOCAL_TZ)
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
    return "—" if moment is None else moment.astimezone(LOCAL_TZ).strftime("%H:%M")


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


def _as_plan(plan: Plan | Mapping[str, Any]) -> Plan:
    """The typed plan, read from its JSON when given so (errors name the field)."""
    if isinstance(plan, Plan):
        return plan
    try:
        return plan_from_json(plan)
    except PlanError as exc:
        raise MapDataError(str(exc)) from None


def _stop_point(stop: Stop, index: _Index, where: str) -> tuple[float, float] | None:
    """Where a stop is, or None for stops without a place (breaks)."""
    if stop.site is not None:
        site = index.sites.get(stop.site)
        if site is None:
            msg = f"{where}.site: {stop.site!r} is not a site of the request."
            raise MapDataError(msg)
        return _latlon(site, f"{where}.site")
    if stop.point is not None:
        return (_round(stop.point.lat), _round(stop.point.lon))
    if stop.job is not None:
        job = index.jobs.get(stop.job)
        if job is None:
            msg = f"{where}.job: {stop.job!r} is not a job of the request."
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
