"""Folium maps of plans, of a day's progress and of one dossier's journey, drawn offline.

Every builder here is a pure function from plain data (the plan of DESIGN §4, typed
:class:`routing.plan.Plan` or its JSON, the plan request, lists of courier positions and scan
events as dicts) to a :class:`folium.Map`. Nothing here reads a database, the environment or
the network, so the pages of :mod:`api.pages`, the ``buuta demo`` command and the notebooks all
draw the same maps.

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

The package: :mod:`api.maps.base` (what every map shares), :mod:`api.maps.plan`,
:mod:`api.maps.progress`, :mod:`api.maps.journey` and :mod:`api.maps.output` (HTML).
"""

from api.maps.base import STATIC_DIR as STATIC_DIR
from api.maps.base import MapDataError as MapDataError
from api.maps.base import courier_colour as courier_colour
from api.maps.journey import journey_map as journey_map
from api.maps.output import NotebookMap as NotebookMap
from api.maps.output import inline_html as inline_html
from api.maps.output import notebook_view as notebook_view
from api.maps.output import render_html as render_html
from api.maps.output import save_map as save_map
from api.maps.plan import plan_map as plan_map
from api.maps.progress import progress_map as progress_map

__all__ = [
    "STATIC_DIR",
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
