"""The maps speak Vietnamese by default: legends, popups, layer names, tooltips (DESIGN §11).

The builders of ``api.maps`` are called directly on the tiny hand-made day of ``tests/maps``
(outside a request the language is Vietnamese, as in ``buuta demo`` and the notebooks).
"""

from __future__ import annotations

import copy
import html
import json
import re
from datetime import datetime

from api.i18n import use_locale
from api.maps import journey_map, plan_map, progress_map, render_html
from tests.i18n.english import english_left
from tests.maps.conftest import PLAN, REQUEST

NOW = datetime.fromisoformat("2026-11-23T09:30:00+07:00")
EVENTS = [
    {"type": "collected", "at": "2026-11-23T08:05:00+07:00", "lat": 9.05, "lon": 104.98,
     "custodian": "c1", "actor": "c1"},
    {"type": "at_hub", "at": "2026-11-23T08:40:00+07:00", "site": "po-tvt", "custodian": "po-tvt"},
]  # fmt: skip


_JS_STRING = r'("(?:[^"\\\n]|\\.)*")'


def shown_text(page: str) -> str:
    """What a person can read on a map page: the legend, each popup and tooltip, the names of
    the layers, the page title. Codes shown as data (``<code>``) are left out."""
    parts = re.findall(r'<details class="buuta-legend".*?</details>', page, flags=re.S)
    parts += re.findall(r"<title>(.*?)</title>", page, flags=re.S)
    for pattern in (r"\.bindPopup\(" + _JS_STRING, r"title:" + _JS_STRING,
                    _JS_STRING + r"\s*:\s*(?:feature_group|tile_layer)_"):  # fmt: skip
        parts += [json.loads(m) for m in re.findall(pattern, page)]
    text = re.sub(r"<code>.*?</code>", " ", " ".join(parts), flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


def maps() -> dict[str, str]:
    """The three maps of the tiny day, rendered in the current language."""
    scans = [{"dossier": "H12.22-261123-0001", "type": "collected", "at": "08:05"}]
    return {
        "plan": render_html(plan_map(copy.deepcopy(PLAN), copy.deepcopy(REQUEST))),
        "progress": render_html(
            progress_map(
                copy.deepcopy(PLAN),
                copy.deepcopy(REQUEST),
                positions=[{"courier": "c1", "at": "08:20", "lat": 9.07, "lon": 104.975}],
                scans=scans,
                now=NOW,
            )
        ),
        "journey": render_html(journey_map("H12.22-261123-0001", EVENTS, sites=REQUEST["sites"])),
    }


def test_maps_are_vietnamese_by_default() -> None:
    """lang="vi", Vietnamese legends and reason words, and no English interface word."""
    pages = maps()
    for name, page in pages.items():
        assert '<html lang="vi">' in page, name
        text = shown_text(page)
        assert english_left(text) == [], (name, english_left(text))
    assert "Không kịp giờ hẹn của người dân" in shown_text(pages["plan"])
    assert "kịp chuyến" in shown_text(pages["plan"])
    assert "Tiến độ 23/11/2026" in shown_text(pages["progress"])
    assert "Nhận hồ sơ từ người dân" in shown_text(pages["journey"])


def test_maps_in_english_on_request() -> None:
    """The same maps in English when the request asks for it."""
    with use_locale("en"):
        pages = maps()
    assert '<html lang="en">' in pages["plan"]
    assert "Cannot reach the citizen within the booked time" in shown_text(pages["plan"])
    assert "Collected from the citizen" in shown_text(pages["journey"])
    assert english_left(shown_text(pages["plan"]))  # the detector does find English
