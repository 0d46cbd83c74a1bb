"""The embedded geography of Cà Mau, read from the files shipped in ``geo/data``.

Two eras of administrative units:

- **2025** (from 2025-07-01): 64 commune-level units (*xã*, *phường*) of the enlarged Cà Mau
  province (old Cà Mau plus old Bạc Liêu), with polygons. There is no district level any more.
- **2024**: the 101 units of old Cà Mau province in their 9 districts (*huyện*, *thành phố*),
  with coarse points, postcodes and the crosswalk to the 2025 unit(s) that succeeded each.

See ``geo/data/PROVENANCE.md`` for sources, licences and accuracy. Load everything with
:func:`camau`, which reads the files once per process.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from geo.coords import LatLon

DATA_PACKAGE = "geo"
WARDS_FILE = "data/camau_wards_2025.geojson"
COMMUNES_FILE = "data/camau_communes.csv"
PROVINCE_NAME = "Cà Mau"


@dataclass(frozen=True, eq=False)
class Ward:
    """A commune-level unit of 2025 (*xã* or *phường*) with its polygon.

    Parameters
    ----------
    code
        GSO code (5 digits) of the unit in the 2025 list.
    name
        Name without the kind, e.g. ``"Tân Thành"``.
    kind
        ``"xã"`` or ``"phường"``.
    area_km2
        Area in km² as published.
    point
        Representative point (polygon centroid, or a point on the surface when the centroid
        falls outside); always inside :attr:`geometry`.
    geometry
        Polygon or multipolygon in ``(lon, lat)`` order (shapely), simplified to ~55 m.
    predecessors
        Codes of the 2024 units merged into it (including units of old Bạc Liêu, which
        :class:`Commune` does not list).
    """

    code: str
    name: str
    kind: str
    area_km2: float
    point: LatLon
    geometry: BaseGeometry
    predecessors: tuple[str, ...]

    @property
    def full_name(self) -> str:
        """Kind and name, e.g. ``"Phường Tân Thành"``."""
        return f"{self.kind.capitalize()} {self.name}"


@dataclass(frozen=True)
class Commune:
    """A commune-level unit of old Cà Mau in 2024, inside a district.

    Parameters
    ----------
    code
        GSO code (5 digits) in the 2024 list (codes were reused in 2025: compare with ``era``).
    name
        Name as listed; numbered wards keep the kind, e.g. ``"Phường 9"``.
    kind
        ``"xã"``, ``"phường"`` or ``"thị trấn"``.
    district
        Name of its district, e.g. ``"Huyện Trần Văn Thời"``.
    district_code
        GSO code of the district (3 digits).
    point
        Coarse point (see PROVENANCE: median 3.7 km from the unit's own centre).
    successors
        Codes of the 2025 ward(s) that took it over (more than one when it was split).
    postcode
        Vietnamese postcode of 2020, or ``None`` where the list has none.
    """

    code: str
    name: str
    kind: str
    district: str
    district_code: str
    point: LatLon
    successors: tuple[str, ...]
    postcode: str | None

    @property
    def full_name(self) -> str:
        """Kind and name, e.g. ``"Xã Khánh Bình"`` (numbered wards are not doubled)."""
        if self.name.lower().startswith(self.kind):
            return self.name
        return f"{self.kind.capitalize()} {self.name}"


@dataclass(frozen=True)
class District:
    """A district of old Cà Mau (2024), abolished as a level in 2025.

    Parameters
    ----------
    code
        GSO code (3 digits).
    name
        Full name, e.g. ``"Huyện Trần Văn Thời"`` or ``"Thành phố Cà Mau"``.
    communes
        Codes of its 2024 communes.
    seat
        Code of the 2024 unit at its seat: the *thị trấn* (town) of a rural district, or the
        central ward of the city.
    """

    code: str
    name: str
    communes: tuple[str, ...]
    seat: str

    @property
    def short_name(self) -> str:
        """Name without ``Huyện``/``Thành phố``, e.g. ``"Trần Văn Thời"``."""
        for prefix in ("Huyện ", "Thành phố ", "Thị xã "):
            if self.name.startswith(prefix):
                return self.name[len(prefix) :]
        return self.name


@dataclass(frozen=True, eq=False)
class Geography:
    """All embedded units: 2025 wards, 2024 communes and districts, and the crosswalk.

    Parameters
    ----------
    wards
        2025 wards by code.
    communes
        2024 communes by code.
    districts
        2024 districts by code.
    """

    wards: Mapping[str, Ward]
    communes: Mapping[str, Commune]
    districts: Mapping[str, District]

    def district_of(self, commune_code: str) -> District:
        """Return the district of a 2024 commune."""
        return self.districts[self.communes[commune_code].district_code]

    def district_by_name(self, name: str) -> District:
        """Return the district whose full or short name is ``name`` (exact, with diacritics).

        Raises
        ------
        ValueError
            If no district has that name.
        """
        for d in self.districts.values():
            if name in (d.name, d.short_name):
                return d
        msg = f"no district of old Cà Mau is named {name!r}."
        raise ValueError(msg)

    def ward_districts(self, ward_code: str) -> dict[str, int]:
        """Return the 2024 districts a 2025 ward was formed from, with their number of communes.

        Empty for wards of old Bạc Liêu province, whose 2024 units are not embedded.
        """
        counts: dict[str, int] = {}
        for code in self.wards[ward_code].predecessors:
            commune = self.communes.get(code)
            if commune is not None:
                counts[commune.district_code] = counts.get(commune.district_code, 0) + 1
        return counts

    def wards_of_district(self, district_code: str) -> list[Ward]:
        """Return the 2025 wards whose predecessors are mostly in ``district_code``.

        A ward formed from communes of two districts belongs to the one that gave it more
        communes (ties: the lower district code), so each ward belongs to one district at most.
        """
        out = []
        for code, ward in self.wards.items():
            counts = self.ward_districts(code)
            if counts and max(sorted(counts), key=lambda d: counts[d]) == district_code:
                out.append(ward)
        return out


def _read_text(name: str) -> str:
    return resources.files(DATA_PACKAGE).joinpath(name).read_text(encoding="utf-8")


def _split_codes(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return tuple(v for v in str(value or "").split(";") if v)


def load_wards() -> dict[str, Ward]:
    """Read the 64 wards of 2025 from the embedded GeoJSON.

    Returns
    -------
    dict
        Wards by GSO code, with their polygons (shapely, prepared for fast point tests).
    """
    data = json.loads(_read_text(WARDS_FILE))
    wards: dict[str, Ward] = {}
    for feature in data["features"]:
        props = feature["properties"]
        geom = shape(feature["geometry"])
        shapely.prepare(geom)
        point = LatLon(float(props["lat"]), float(props["lon"]))
        if not geom.contains(shapely.Point(point.as_lonlat())):
            rep = geom.representative_point()
            point = LatLon.from_lonlat(rep.x, rep.y)
        code = str(props["code"])
        wards[code] = Ward(
            code=code,
            name=str(props["name"]),
            kind=str(props["kind"]),
            area_km2=float(props["area_km2"]),
            point=point,
            geometry=geom,
            predecessors=_split_codes(props.get("predecessors_pre2025")),
        )
    return wards


def load_communes() -> tuple[dict[str, Commune], dict[str, District]]:
    """Read the 101 communes of 2024 and their 9 districts from the embedded CSV.

    Returns
    -------
    tuple
        Communes by code and districts by code.
    """
    communes: dict[str, Commune] = {}
    members: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for row in csv.DictReader(_read_text(COMMUNES_FILE).splitlines()):
        if row["era"] != "2024":
            continue
        commune = Commune(
            code=row["code"],
            name=row["name"],
            kind=row["kind"],
            district=row["district"],
            district_code=row["district_code"],
            point=LatLon(float(row["lat"]), float(row["lon"])),
            successors=_split_codes(row["successor_2025"]),
            postcode=row["postcode"] or None,
        )
        communes[commune.code] = commune
        members.setdefault(commune.district_code, []).append(commune.code)
        names[commune.district_code] = commune.district
    districts: dict[str, District] = {}
    for dcode, codes in members.items():
        towns = [c for c in codes if communes[c].kind == "thị trấn"]
        # The city has no town: its seat is Phường 2, the old centre where the provincial
        # offices stand (approximate: see PROVENANCE).
        city_centre = [c for c in codes if communes[c].name == "Phường 2"]
        seat = (towns or city_centre or codes)[0]
        districts[dcode] = District(code=dcode, name=names[dcode], communes=tuple(codes), seat=seat)
    return communes, districts


@functools.cache
def camau() -> Geography:
    """Return the embedded geography of Cà Mau, read once per process.

    Returns
    -------
    Geography
        The 64 wards of 2025, the 101 communes and 9 districts of 2024, and the crosswalk.
    """
    wards = load_wards()
    communes, districts = load_communes()
    # The two files list the crosswalk from both ends and disagree once: Phường 2 (32011) names
    # An Xuyên (32002) as its successor, as Resolution 1655/NQ-UBTVQH15 does, but An Xuyên's
    # predecessor list leaves it out. Take the union, so both directions agree.
    for commune in communes.values():
        for code in commune.successors:
            ward = wards[code]
            if commune.code not in ward.predecessors:
                wards[code] = dataclasses.replace(
                    ward, predecessors=(*ward.predecessors, commune.code)
                )
    return Geography(wards=wards, communes=communes, districts=districts)
