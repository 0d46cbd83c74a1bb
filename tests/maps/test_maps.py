"""The map builders of api.maps, checked on the rendered HTML of a tiny hand-made day.

Each stop is one line of JavaScript (``L.marker(...)``), so the tests read the markers back
from the page and check positions, numbers, classes and popups.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from folium.plugins import Fullscreen

from api.i18n import use_locale
from api.maps import (
    MapDataError,
    courier_colour,
    inline_html,
    journey_map,
    notebook_view,
    plan_map,
    progress_map,
    render_html,
    save_map,
)


@pytest.fixture(autouse=True)
def english() -> Any:
    """These tests read the English maps (the Vietnamese ones: tests/i18n/test_maps_vi.py)."""
    with use_locale("en"):
        yield


_MARKER = re.compile(
    r"^L\.marker\((?P<loc>\[[^\]]*\]),\{icon:L\.divIcon\((?P<icon>\{.*?\})\),"
    r"title:(?P<title>\".*?\")\}\)\.bindPopup\((?P<popup>\".*\")\)\.addTo\((?P<parent>\w+)\);$"
)
_LINE = re.compile(
    r"^L\.polyline\((?P<points>\[.*?\]\]),(?P<options>\{.*?\})\)(?:\.bindPopup\(.*\))?"
    r"\.addTo\((?P<parent>\w+)\);$"
)


def markers(page: str) -> list[dict[str, Any]]:
    """Every buuta marker of a page: location, CSS class, label, title, popup, parent layer."""
    found = []
    for line in page.splitlines():
        match = _MARKER.match(line.strip())
        if match:
            icon = json.loads(match["icon"])
            label = re.sub(r"<[^>]+>", "", icon["html"])
            found.append(
                {
                    "loc": json.loads(match["loc"]),
                    "class": icon["className"],
                    "label": label,
                    "title": json.loads(match["title"]),
                    "popup": json.loads(match["popup"]),
                    "parent": match["parent"],
                }
            )
    return found


def lines(page: str) -> list[dict[str, Any]]:
    """Every buuta polyline of a page: its points and Leaflet options."""
    found = []
    for line in page.splitlines():
        match = _LINE.match(line.strip())
        if match:
            found.append(
                {"points": json.loads(match["points"]), "options": json.loads(match["options"])}
            )
    return found


def test_plan_map_one_line_per_courier_and_stops_numbered_in_visiting_order(
    plan_day: dict[str, Any], request_day: dict[str, Any]
) -> None:
    """Two routes give two coloured lines; c1's stops are numbered 1-4 along its route."""
    page = render_html(plan_map(plan_day, request_day))
    routes = [ln for ln in lines(page) if "buuta-route" in ln["options"]["className"]]
    assert [r["options"]["color"] for r in routes] == [courier_colour(0), courier_colour(1)]
    assert courier_colour(0) != courier_colour(1)
    # c1 goes po-tvt → J1 → po-tvt (hand-off) → po-tvt (collect) → J2 → po-tvt; the break
    # has no place, so the line has 6 points.
    assert routes[0]["points"] == [
        [9.0806, 104.9744],
        [9.05, 104.98],
        [9.0806, 104.9744],
        [9.0806, 104.9744],
        [9.02, 105.01],
        [9.0806, 104.9744],
    ]
    stops = [m for m in markers(page) if m["class"].startswith("buuta-stop ")]
    c1 = [m for m in stops if m["title"].startswith("c1 ")]
    c2 = [m for m in stops if m["title"].startswith("c2 ")]
    assert [m["label"] for m in c1] == ["1", "2", "3", "4"]
    kinds = [re.sub(r".*buuta-stop-(\w+).*", r"\1", m["class"]) for m in c1]
    assert kinds == ["pickup", "handoff", "collect", "delivery"]
    # The run shows when hovering.
    assert c1[1]["title"] == "c1 #2 Hand-over at the office → run-1000"
    assert c1[0]["loc"] == [9.05, 104.98]
    assert c1[3]["loc"] == [9.02, 105.01]
    assert [m["label"] for m in c2] == ["1", "2"]
    # Popups carry planned times in Vietnam time (start 08:00 for J1 after waiting).
    assert "start 08:00" in c1[0]["popup"]
    assert "H12.22-261123-0001" in c1[0]["popup"]


def test_plan_map_handoff_names_its_run_and_sites_are_drawn_by_kind(
    plan_day: dict[str, Any], request_day: dict[str, Any]
) -> None:
    """A hand-off popup names the run it catches and its departure; both sites are marked."""
    page = render_html(plan_map(plan_day, request_day))
    handoffs = [m for m in markers(page) if "buuta-stop-handoff" in m["class"]]
    assert len(handoffs) == 2
    assert all("catches run <b>run-1000</b> departing 10:00" in m["popup"] for m in handoffs)
    # Staff read the codes on the papers: J3's dossier, not the job's id.
    j3 = next(m for m in handoffs if "H12.22-261123-0003" in m["popup"])
    assert "hand over 1 dossier: H12.22-261123-0003" in j3["popup"]
    assert "J3" not in j3["popup"]
    sites = {m["label"]: m for m in markers(page) if m["class"].startswith("buuta-site")}
    assert set(sites) == {"C", "P"}
    assert "buuta-site-centre" in sites["C"]["class"]
    assert "buuta-site-post_office" in sites["P"]["class"]
    assert "open 07:00–17:00" in sites["P"]["popup"]


def test_plan_map_shows_unassigned_jobs_apart_with_their_reason(
    plan_day: dict[str, Any], request_day: dict[str, Any]
) -> None:
    """J9 is drawn in its own layer with its reason, and the legend counts it by reason."""
    page = render_html(plan_map(plan_day, request_day))
    unassigned = [m for m in markers(page) if "buuta-unassigned" in m["class"]]
    assert len(unassigned) == 1
    assert unassigned[0]["loc"] == [8.7, 104.8]
    assert "window_unreachable" in unassigned[0]["popup"]
    assert "earliest arrival is 07:52" in unassigned[0]["popup"]
    routed_parents = {m["parent"] for m in markers(page) if m["title"].startswith("c1 ")}
    assert unassigned[0]["parent"] not in routed_parents
    assert (
        "<li data-reason=window_unreachable>Cannot reach the citizen within the booked time: 1"
        in page
    )
    assert "3 of 4 jobs served" in page
    assert "32.5 km" in page and "c1 · 4 stops · 20.5 km" in page


def test_plan_map_never_shows_citizens_personal_data(
    plan_day: dict[str, Any], request_day: dict[str, Any]
) -> None:
    """The citizen's name, phone and ID number in the request never reach the map page."""
    page = render_html(plan_map(plan_day, request_day))
    for secret in ("Nguyễn Văn An", "0912345678", "096123456789"):
        assert secret not in page
        assert json.dumps(secret)[1:-1] not in page


def test_map_pages_load_assets_only_from_buuta(
    plan_day: dict[str, Any], request_day: dict[str, Any]
) -> None:
    """Script and style links point at /static; no CDN, no jQuery; wards form the base layer."""
    page = render_html(plan_map(plan_day, request_day))
    links = re.findall(r"<(?:script|link)\b[^>]*(?:src|href)=\"([^\"]+)\"", page)
    assert links == [
        "/static/leaflet/leaflet.js",
        "/static/leaflet/leaflet.css",
        "/static/buuta-map.css",
    ]
    for url in links:
        assert (Path("api") / url.removeprefix("/")).is_file(), url
    assert "$(" not in page
    assert "L.tileLayer" not in page
    assert page.count('"type": "Feature"') == 64  # the 64 wards of Cà Mau (2025)
    assert "Bạc Liêu" in page


def test_tile_layer_only_when_configured(
    plan_day: dict[str, Any], request_day: dict[str, Any]
) -> None:
    """A tiles URL adds one tile layer on top of the ward base layer; a bad URL is refused."""
    url = "https://tiles.example.vn/{z}/{x}/{y}.png"
    page = render_html(plan_map(plan_day, request_day, tiles_url=url, tiles_attribution="VN"))
    assert page.count("L.tileLayer") == 1
    assert url in page
    with pytest.raises(MapDataError, match="tiles_url"):
        plan_map(plan_day, request_day, tiles_url="tiles.example.vn")


def test_render_refuses_a_map_that_would_load_from_a_cdn(
    plan_day: dict[str, Any], request_day: dict[str, Any]
) -> None:
    """A folium plugin that brings its own CDN script (Fullscreen) is caught at render."""
    fmap = plan_map(plan_day, request_day)
    Fullscreen().add_to(fmap)
    with pytest.raises(MapDataError, match="internet"):
        render_html(fmap)


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("routes", 0, "stops", 2, "site"), "po-nowhere", r"plan\.routes\[0\]\.stops\[2\]\.site"),
        (("routes", 1, "stops", 1, "lat"), "nine", r"plan\.routes\[1\]\.stops\[1\]"),
        (("routes", 0, "stops", 1, "start"), "8h", r"plan\.routes\[0\]\.stops\[1\]\.start: '8h'"),
        (("routes",), {"c1": []}, r"plan\.routes: expected a list"),
        (("date",), "23/11/2026", r"plan\.date"),
    ],
)
def test_plan_map_bad_input_names_the_field(
    plan_day: dict[str, Any],
    request_day: dict[str, Any],
    path: tuple[Any, ...],
    value: Any,
    field: str,
) -> None:
    """Malformed plans raise MapDataError (a ValueError) naming the field, not a KeyError."""
    target: Any = plan_day
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(MapDataError, match=field):
        plan_map(plan_day, request_day)


def test_request_site_without_coordinates_is_named(
    plan_day: dict[str, Any], request_day: dict[str, Any]
) -> None:
    """A site with a latitude out of range is refused with its index."""
    request_day["sites"][1]["lat"] = 123.0
    with pytest.raises(MapDataError, match=r"request\.sites\[1\]"):
        plan_map(plan_day, request_day)


NOW = datetime.fromisoformat("2026-11-23T09:40:00+07:00")
SCANS = [
    {"dossier": "H12.22-261123-0001", "type": "at_hub", "at": "2026-11-23T08:40:00+07:00"},
    {"dossier": "H12.22-261123-0001", "type": "collected", "at": "2026-11-23T08:05:00+07:00"},
]
POSITIONS = [
    {"courier": "c1", "at": "2026-11-23T09:30:00+07:00", "lat": 9.0812, "lon": 104.9751},
    {"courier": "c1", "at": "2026-11-23T08:02:00+07:00", "lat": 9.05, "lon": 104.98},
    {"courier": "c1", "at": "2026-11-23T08:35:00+07:00", "lat": 9.08, "lon": 104.974},
]


def test_progress_map_styles_done_pending_and_at_risk_stops(
    plan_day: dict[str, Any], request_day: dict[str, Any]
) -> None:
    """At 09:40 c1's first two stops are done; c2, 80 min late, is at risk at both stops.

    c2's pickup J3 was planned at 08:20 and is not scanned at 09:40: its delay is 80 min, so
    it is expected at 09:40, after J3's window closes at 09:30; its hand-off planned at 08:45
    is expected at 10:05, after run-1000's cut-off 10:00 - 10 min = 09:50.
    """
    page = render_html(
        progress_map(plan_day, request_day, positions=POSITIONS, scans=SCANS, now=NOW)
    )
    stops = [m for m in markers(page) if m["class"].startswith("buuta-stop ")]
    status = {m["title"].rsplit(" ", 2)[0] + " " + m["label"]: m for m in stops}
    c1 = [m for m in stops if m["title"].startswith("c1 ")]
    assert [m["title"].split()[-1] for m in c1] == ["done", "done", "pending", "pending"]
    assert "done at 08:05" in c1[0]["popup"]
    assert "done at 08:40" in c1[1]["popup"]
    assert not any("buuta-risk" in m["class"] for m in c1)
    c2 = [m for m in stops if m["title"].startswith("c2 ")]
    assert all("buuta-pending" in m["class"] and "buuta-risk" in m["class"] for m in c2)
    assert "after the booked time ends at 09:30" in c2[0]["popup"]
    assert "after the hand-off cut-off 09:50 of run run-1000" in c2[1]["popup"]
    assert len(status) == 6
    assert "4 pending · 0 failed · 2 at risk" in page


def test_progress_map_traces_positions_and_marks_the_last_one_with_its_age(
    plan_day: dict[str, Any], request_day: dict[str, Any]
) -> None:
    """c1's trace follows its positions in time order; its last position is 10 min old."""
    page = render_html(
        progress_map(plan_day, request_day, positions=POSITIONS, scans=SCANS, now=NOW)
    )
    traces = [ln for ln in lines(page) if ln["options"]["className"] == "buuta-trace"]
    assert len(traces) == 1
    assert traces[0]["points"] == [[9.05, 104.98], [9.08, 104.974], [9.0812, 104.9751]]
    planned = [ln for ln in lines(page) if "buuta-planned" in ln["options"]["className"]]
    assert len(planned) == 2
    assert all(ln["options"]["dashArray"] for ln in planned)
    last = [m for m in markers(page) if m["class"] == "buuta-position"]
    assert len(last) == 1
    assert last[0]["loc"] == [9.0812, 104.9751]
    assert "last seen 09:30, 10 min ago" in last[0]["popup"]
    assert "c2: 0 done, 2 pending, 0 failed, 2 at risk · no position yet" in page


def test_progress_map_marks_a_failed_delivery(
    plan_day: dict[str, Any], request_day: dict[str, Any]
) -> None:
    """A delivery_failed scan makes the delivery stop failed; the collect before it is done."""
    scans = [
        *SCANS,
        {"dossier": "H12.22-261101-0107", "type": "out_for_delivery", "at": "2026-11-23T11:00"},
        {"dossier": "H12.22-261101-0107", "type": "delivery_failed", "at": "2026-11-23T13:10"},
    ]
    scans[2]["at"] += ":00+07:00"
    scans[3]["at"] += ":00+07:00"
    now = datetime.fromisoformat("2026-11-23T14:00:00+07:00")
    page = render_html(
        progress_map(plan_day, request_day, positions=[], scans=scans, now=now, courier="c1")
    )
    c1 = [m for m in markers(page) if m["title"].startswith("c1 ")]
    assert [m["title"].split()[-1] for m in c1] == ["done", "done", "done", "failed"]
    assert "failed at 13:10" in c1[3]["popup"]
    assert not [m for m in markers(page) if m["title"].startswith("c2 ")]


def test_progress_map_bad_input(plan_day: dict[str, Any], request_day: dict[str, Any]) -> None:
    """A naive 'now', an unknown courier and a scan without a time are refused by name."""
    with pytest.raises(MapDataError, match="now"):
        progress_map(
            plan_day, request_day, positions=[], scans=[], now=datetime(2026, 11, 23, 9, 0)
        )
    with pytest.raises(MapDataError, match="courier: 'c7'"):
        progress_map(plan_day, request_day, positions=[], scans=[], now=NOW, courier="c7")
    with pytest.raises(MapDataError, match=r"scans\[0\]\.at"):
        progress_map(
            plan_day,
            request_day,
            positions=[],
            scans=[{"dossier": "X", "type": "collected", "at": "08:00:00+07:00"}],
            now=NOW,
        )
    with pytest.raises(MapDataError, match=r"positions\[0\]\.at"):
        progress_map(
            plan_day,
            request_day,
            positions=[{"courier": "c1", "at": "2026-11-23T08:00:00", "lat": 9, "lon": 105}],
            scans=[],
            now=NOW,
        )


def test_journey_map_numbers_scans_in_time_order_with_custodian(
    request_day: dict[str, Any],
) -> None:
    """Scans given out of order are drawn 1..n by device time; a site scan sits at the site."""
    events = [
        {"type": "at_hub", "at": "2026-11-23T08:40:00+07:00", "site": "po-tvt",
         "custodian": "po-tvt"},
        {"type": "collected", "at": "2026-11-23T08:05:00+07:00", "lat": 9.05, "lon": 104.98,
         "custodian": "c1", "actor": "c1"},
        {"type": "on_shuttle", "at": "2026-11-23T09:55:00+07:00", "site": "po-tvt",
         "custodian_after": "run-1000"},
        {"type": "received", "at": "2026-11-23T10:50:00+07:00", "site": "centre",
         "custodian": "centre"},
    ]  # fmt: skip
    page = render_html(journey_map("H12.22-261123-0001", events, sites=request_day["sites"]))
    scans = [m for m in markers(page) if "buuta-scan" in m["class"]]
    assert [m["title"] for m in scans] == [
        "1. Collected from the citizen",
        "2. Handed over at the post office",
        "3. Put on the shuttle",
        "4. Received by the agency",
    ]
    assert scans[1]["loc"] == [9.0806, 104.9744]
    assert scans[3]["loc"] == [9.1769, 105.1524]
    assert "held by: c1" in scans[0]["popup"]
    assert "held by: run-1000" in scans[2]["popup"]
    assert "23/11 08:05" in scans[0]["popup"]
    journey = [ln for ln in lines(page) if "buuta-journey" in ln["options"]["className"]]
    assert journey[0]["points"][0] == [9.05, 104.98]
    assert len(journey[0]["points"]) == 4
    with pytest.raises(MapDataError, match=r"events\[0\]\.site"):
        journey_map("X", [{"type": "at_hub", "at": "2026-11-23T08:40:00+07:00", "site": "po-x"}])


def test_save_map_copies_assets_beside_the_file(
    tmp_path: Path, plan_day: dict[str, Any], request_day: dict[str, Any]
) -> None:
    """A saved map refers to ./static assets that exist next to it, with Leaflet's licence."""
    out = save_map(plan_map(plan_day, request_day), tmp_path / "maps" / "plan.html")
    page = out.read_text(encoding="utf-8")
    assert '<script src="static/leaflet/leaflet.js">' in page
    assert (tmp_path / "maps" / "static" / "leaflet" / "leaflet.js").stat().st_size > 100_000
    assert (tmp_path / "maps" / "static" / "leaflet" / "LICENSE").is_file()
    assert (tmp_path / "maps" / "static" / "buuta-map.css").is_file()


def test_inline_html_is_one_self_contained_page(
    plan_day: dict[str, Any], request_day: dict[str, Any]
) -> None:
    """The inlined page links no file at all (Leaflet, CSS and icons are inside it)."""
    page = inline_html(plan_map(plan_day, request_day))
    assert not re.search(r"<(?:script|link)\b[^>]*(?:src|href)=", page)
    assert "url(images/" not in page
    assert "data:image/png;base64," in page
    assert page.count("L.polyline(") == 2
    view = notebook_view(plan_map(plan_day, request_day), height_px=420)
    assert view._repr_html_().startswith("<iframe srcdoc=")
    assert "height:420px" in view._repr_html_()


def test_idle_courier_gets_no_route_line(
    plan_day: dict[str, Any], request_day: dict[str, Any]
) -> None:
    """A courier whose route is only start → end draws no line and no numbered stop."""
    plan_day["routes"].append(
        {
            "courier": "c3",
            "distance_km": 0.0,
            "duration_min": 0,
            "stops": [
                {"type": "start", "site": "po-tvt", "arrive": "2026-11-23T07:00:00+07:00"},
                {"type": "end", "site": "po-tvt", "arrive": "2026-11-23T07:00:00+07:00"},
            ],
        }
    )
    page = render_html(plan_map(plan_day, request_day))
    assert len([ln for ln in lines(page) if "buuta-route" in ln["options"]["className"]]) == 2
    assert not [m for m in markers(page) if m["title"].startswith("c3 ")]
    assert "c3 · 0 stops" in page


def test_journey_legend_lists_each_scan_once_numbered_by_the_list(
    request_day: dict[str, Any],
) -> None:
    """The legend's ordered list carries the scans without a second, typed number."""
    events = [
        {"type": "collected", "at": "2026-11-23T08:05:00+07:00", "lat": 9.05, "lon": 104.98},
        {"type": "at_hub", "at": "2026-11-23T08:40:00+07:00", "site": "po-tvt"},
    ]
    page = render_html(journey_map("H1", events, sites=request_day["sites"]))
    legend = page[page.index('<ol class="buuta-journey-list">') :]
    legend = legend[: legend.index("</ol>")]
    assert legend.count("<li>") == 2
    assert "<li><b>Collected from the citizen</b>" in legend
    assert "1. Collected" not in legend


def test_names_from_requests_cannot_inject_markup_or_script(
    plan_day: dict[str, Any], request_day: dict[str, Any]
) -> None:
    """Hostile courier, site and reason texts are escaped in popups, titles and the legend."""
    evil = "</script><img src=x onerror=alert(1)>"
    plan_day["routes"][0]["courier"] = evil
    plan_day["unassigned"][0]["detail"] = evil
    request_day["sites"][1]["name"] = evil
    page = render_html(plan_map(plan_day, request_day))
    assert "<img src=x" not in page
    assert page.count("</script>") == page.count("<script")
    stops = [m for m in markers(page) if m["title"].startswith(evil)]
    assert len(stops) == 4
    assert "&lt;img src=x" in stops[0]["popup"]  # shown as text once Leaflet sets the popup
    # Leaflet's layer control sets layer names as HTML: they must arrive escaped.
    assert "Courier &lt;/script&gt;&lt;img src=x" in page.replace("\\u0026", "&")
