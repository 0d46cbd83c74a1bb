"""Coordinates, and the one place where (lat, lon) and (lon, lat) orders meet.

shapely and GeoJSON take ``(lon, lat)``; folium, geopy and buuta's JSON take ``(lat, lon)``.
Everything in buuta carries a :class:`LatLon` and converts here, at the edge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

# A generous box around Vietnam's mainland and islands (decimal degrees, WGS84). Used to catch
# swapped or mistyped coordinates in the default Cà Mau data; the code itself works anywhere.
VIETNAM_BOUNDS = (8.0, 102.0, 23.5, 117.5)  # (min_lat, min_lon, max_lat, max_lon)


@dataclass(frozen=True, slots=True)
class LatLon:
    """A point on the Earth in decimal degrees (WGS84), latitude first.

    Parameters
    ----------
    lat
        Latitude in degrees, within [-90, 90].
    lon
        Longitude in degrees, within [-180, 180].

    Raises
    ------
    ValueError
        If either value is not a finite number or is out of range.
    """

    lat: float
    lon: float

    def __post_init__(self) -> None:
        for name, value, limit in (("lat", self.lat, 90.0), ("lon", self.lon, 180.0)):
            if isinstance(value, bool) or not isinstance(value, int | float):
                msg = f"{name} must be a number of degrees, got {value!r}."
                raise ValueError(msg)
            if not math.isfinite(value):
                msg = f"{name} must be a finite number of degrees, got {value!r}."
                raise ValueError(msg)
            if abs(value) > limit:
                msg = f"{name} must be within [-{limit:g}, {limit:g}] degrees, got {value!r}."
                raise ValueError(msg)

    @classmethod
    def from_lonlat(cls, lon: float, lat: float) -> LatLon:
        """Build a point from GeoJSON / shapely order ``(lon, lat)``."""
        return cls(lat=lat, lon=lon)

    def as_lonlat(self) -> tuple[float, float]:
        """Return ``(lon, lat)``, the order of shapely and GeoJSON."""
        return (self.lon, self.lat)

    def as_latlon(self) -> tuple[float, float]:
        """Return ``(lat, lon)``, the order of folium, geopy and buuta's JSON."""
        return (self.lat, self.lon)

    def in_vietnam(self) -> bool:
        """Return whether the point lies in the rough bounding box of Vietnam."""
        min_lat, min_lon, max_lat, max_lon = VIETNAM_BOUNDS
        return min_lat <= self.lat <= max_lat and min_lon <= self.lon <= max_lon


def parse_latlon(lat: Any, lon: Any, *, where: str = "point") -> LatLon:
    """Build a :class:`LatLon` from untrusted values, naming ``where`` in any error.

    Parameters
    ----------
    lat, lon
        Values read from JSON, CSV or a form; numbers or numeric strings.
    where
        What the point is (``"jobs[3]"``), put at the start of the error message.

    Raises
    ------
    ValueError
        If a value is missing, not numeric, not finite or out of range.
    """
    try:
        lat_f = float(lat)
        lon_f = float(lon)
    except (TypeError, ValueError):
        msg = f"{where}: lat and lon must be numbers of degrees, got lat={lat!r}, lon={lon!r}."
        raise ValueError(msg) from None
    try:
        return LatLon(lat_f, lon_f)
    except ValueError as exc:
        msg = f"{where}: {exc}"
        raise ValueError(msg) from None
