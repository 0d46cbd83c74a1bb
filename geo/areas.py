"""Which ward a point is in, and which post office serves it.

Points are located in the 2025 wards with a shapely STRtree over prepared polygons. A point in no
ward gets :class:`OutsideServiceArea`, never the nearest ward: the only slack is a tolerance of a
few tens of metres (default :data:`BORDER_TOLERANCE_M`) that covers the slivers the ~55 m
simplification of the embedded polygons leaves between neighbouring wards.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geo.coords import LatLon
from geo.geography import Commune, District, Geography, Ward, camau

BORDER_TOLERANCE_M = 60.0
"""Slack at ward borders in metres: the polygons were simplified by 0.0005° (~55 m)."""

METRES_PER_DEGREE = 111_320.0


class OutsideServiceArea(ValueError):  # noqa: N818 (the name says what the answer is)
    """A point lies outside every ward (or every office's area) buuta knows."""


@dataclass(frozen=True)
class WardMatch:
    """Where a point is: its 2025 ward and the 2024 district it was in.

    Parameters
    ----------
    ward
        The 2025 ward containing the point.
    district
        The old (2024) district, or ``None`` for wards of old Bạc Liêu (no 2024 data embedded).
    district_exact
        ``False`` when the ward was formed from communes of two districts and the district was
        chosen by the nearest predecessor commune (coarse: see PROVENANCE).
    commune
        The 2024 commune guessed the same way (nearest predecessor point), or ``None``.
    """

    ward: Ward
    district: District | None
    district_exact: bool
    commune: Commune | None


def _point_error(point: LatLon, what: str) -> OutsideServiceArea:
    msg = (
        f"lat={point.lat!r}, lon={point.lon!r} is outside the service area: {what}. "
        "Check the coordinates (latitude first) or the province."
    )
    return OutsideServiceArea(msg)


@dataclass(frozen=True, eq=False)
class WardIndex:
    """A spatial index over the 2025 wards.

    Parameters
    ----------
    geography
        The units to index; defaults to the embedded Cà Mau data.
    tolerance_m
        Border slack in metres (see :data:`BORDER_TOLERANCE_M`); 0 for strict containment.
    """

    geography: Geography = field(default_factory=camau)
    tolerance_m: float = BORDER_TOLERANCE_M
    _codes: list[str] = field(init=False, repr=False)
    _tree: shapely.STRtree = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.tolerance_m) and self.tolerance_m >= 0):
            msg = f"tolerance_m must be a non-negative number of metres, got {self.tolerance_m!r}."
            raise ValueError(msg)
        codes = list(self.geography.wards)
        geoms = [self.geography.wards[c].geometry for c in codes]
        object.__setattr__(self, "_codes", codes)
        object.__setattr__(self, "_tree", shapely.STRtree(geoms))

    def ward_at(self, point: LatLon) -> Ward | None:
        """Return the 2025 ward containing ``point``, or ``None`` if it is in none."""
        geom = shapely.Point(point.as_lonlat())
        hits = self._tree.query(geom, predicate="intersects")
        if len(hits):
            return self.geography.wards[self._codes[int(min(hits))]]
        if self.tolerance_m <= 0:
            return None
        tol_deg = self.tolerance_m / METRES_PER_DEGREE
        near = self._tree.query(geom, predicate="dwithin", distance=tol_deg)
        if not len(near):
            return None
        best = min(
            (int(i) for i in near),
            key=lambda i: (self.geography.wards[self._codes[i]].geometry.distance(geom), i),
        )
        return self.geography.wards[self._codes[best]]

    def wards_at(self, points: Sequence[LatLon]) -> list[Ward | None]:
        """Locate many points at once (strict containment, vectorised); ``None`` where outside."""
        if not points:
            return []
        xs = np.array([p.lon for p in points], dtype=np.float64)
        ys = np.array([p.lat for p in points], dtype=np.float64)
        geoms = shapely.points(xs, ys)
        pairs = self._tree.query(geoms, predicate="intersects")
        out: list[Ward | None] = [None] * len(points)
        for pi, wi in zip(pairs[0], pairs[1], strict=True):
            if out[int(pi)] is None:
                out[int(pi)] = self.geography.wards[self._codes[int(wi)]]
        return out

    def locate(self, point: LatLon) -> WardMatch:
        """Return the 2025 ward and the old district of ``point``.

        Raises
        ------
        OutsideServiceArea
            If the point lies in no ward (beyond the border tolerance).
        """
        ward = self.ward_at(point)
        if ward is None:
            raise _point_error(point, "it is in none of the wards of Cà Mau province")
        geo = self.geography
        counts = geo.ward_districts(ward.code)
        preds = [geo.communes[c] for c in ward.predecessors if c in geo.communes]
        if not preds:
            return WardMatch(ward=ward, district=None, district_exact=False, commune=None)
        nearest = min(
            preds,
            key=lambda c: ((c.point.lat - point.lat) ** 2 + (c.point.lon - point.lon) ** 2, c.code),
        )
        if len(counts) == 1:
            district = geo.districts[next(iter(counts))]
            return WardMatch(ward=ward, district=district, district_exact=True, commune=nearest)
        district = geo.districts[nearest.district_code]
        return WardMatch(ward=ward, district=district, district_exact=False, commune=nearest)


@functools.cache
def default_ward_index() -> WardIndex:
    """Return a process-wide :class:`WardIndex` over the embedded data (built once)."""
    return WardIndex()


def locate(point: LatLon) -> WardMatch:
    """Return the 2025 ward and old district of ``point`` in the embedded Cà Mau data.

    Raises
    ------
    OutsideServiceArea
        If the point lies in no ward of the province.
    """
    return default_ward_index().locate(point)


# --------------------------------------------------------------------------------------------
# Post offices' service areas

DISTRICT_OFFICES: Mapping[str, str] = {
    "964": "po-cm",  # Thành phố Cà Mau
    "966": "po-um",  # Huyện U Minh
    "967": "po-tb",  # Huyện Thới Bình
    "968": "po-tvt",  # Huyện Trần Văn Thời
    "969": "po-cn",  # Huyện Cái Nước
    "970": "po-dd",  # Huyện Đầm Dơi
    "971": "po-nc",  # Huyện Năm Căn
    "972": "po-pt",  # Huyện Phú Tân
    "973": "po-nh",  # Huyện Ngọc Hiển
}
"""Site id of the post office of each old district (by GSO district code)."""


@dataclass(frozen=True, eq=False)
class ServiceArea:
    """A post office's area: a union of 2025 wards.

    Parameters
    ----------
    office
        Site id of the post office, e.g. ``"po-tvt"``.
    ward_codes
        Codes of the 2025 wards it serves (at least one).
    geometry
        The union of their polygons (built from ``ward_codes`` by :meth:`from_wards`).
    """

    office: str
    ward_codes: tuple[str, ...]
    geometry: BaseGeometry

    @classmethod
    def from_wards(
        cls, office: str, ward_codes: Iterable[str], geography: Geography | None = None
    ) -> ServiceArea:
        """Build the area of ``office`` from ward codes.

        Raises
        ------
        ValueError
            If the list is empty or names a ward that does not exist.
        """
        geo = geography or camau()
        codes = tuple(dict.fromkeys(str(c) for c in ward_codes))
        if not codes:
            msg = f"service area of {office!r}: no wards given."
            raise ValueError(msg)
        for code in codes:
            if code not in geo.wards:
                msg = f"service area of {office!r}: no 2025 ward has code {code!r}."
                raise ValueError(msg)
        union = shapely.union_all([geo.wards[c].geometry for c in codes])
        shapely.prepare(union)
        return cls(office=office, ward_codes=codes, geometry=union)

    def contains(self, point: LatLon) -> bool:
        """Return whether ``point`` lies inside the area (strictly, no border tolerance)."""
        return bool(self.geometry.intersects(shapely.Point(point.as_lonlat())))


@dataclass(frozen=True, eq=False)
class ServiceAreas:
    """The post offices of a province and the wards each serves.

    Parameters
    ----------
    areas
        One :class:`ServiceArea` per office; a ward may belong to one office only.
    index
        The ward index used to locate points.

    Raises
    ------
    ValueError
        If two areas share a ward or an office appears twice.
    """

    areas: Sequence[ServiceArea]
    index: WardIndex = field(default_factory=default_ward_index)
    _office_of_ward: dict[str, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        office_of: dict[str, str] = {}
        seen: set[str] = set()
        for area in self.areas:
            if area.office in seen:
                msg = f"service areas: office {area.office!r} appears twice."
                raise ValueError(msg)
            seen.add(area.office)
            for code in area.ward_codes:
                if code in office_of:
                    msg = (
                        f"service areas: ward {code!r} is served by both "
                        f"{office_of[code]!r} and {area.office!r}."
                    )
                    raise ValueError(msg)
                office_of[code] = area.office
        object.__setattr__(self, "_office_of_ward", office_of)

    def area(self, office: str) -> ServiceArea:
        """Return the area of ``office``, raising ValueError naming an unknown office."""
        for a in self.areas:
            if a.office == office:
                return a
        msg = f"no service area for office {office!r}."
        raise ValueError(msg)

    def office_for(self, point: LatLon) -> str:
        """Return the id of the post office serving ``point``.

        Raises
        ------
        OutsideServiceArea
            If the point is in no ward, or in a ward no office of this list serves.
        """
        ward = self.index.ward_at(point)
        if ward is None:
            raise _point_error(point, "it is in none of the wards of Cà Mau province")
        office = self._office_of_ward.get(ward.code)
        if office is None:
            raise _point_error(point, f"no post office here serves {ward.full_name}")
        return office


def district_service_areas(geography: Geography | None = None) -> ServiceAreas:
    """Return one service area per old district of Cà Mau, served by its district post office.

    Each 2025 ward goes to the district that gave it most of its communes (see
    :meth:`Geography.wards_of_district`). Wards of old Bạc Liêu have no office here.
    """
    geo = geography or camau()
    areas = [
        ServiceArea.from_wards(office, [w.code for w in geo.wards_of_district(dcode)], geo)
        for dcode, office in DISTRICT_OFFICES.items()
    ]
    index = default_ward_index() if geography is None else WardIndex(geo)
    return ServiceAreas(areas=areas, index=index)
