"""Maps as HTML: for the server (assets under ``/static``), for files and for notebooks."""

from __future__ import annotations

import base64
import html
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import folium

from api.i18n import current_locale
from api.maps.base import (
    _ASSET_FILES,
    _ASSETS_CSS,
    _ASSETS_JS,
    _STATIC_MARK,
    STATIC_DIR,
    MapDataError,
)

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
