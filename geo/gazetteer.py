"""An offline geocoder for Cà Mau addresses, with geopy's ``Geocoder`` interface.

:class:`Gazetteer` resolves Vietnamese administrative addresses such as
``"ấp 3, xã Khánh Bình, huyện Trần Văn Thời, Cà Mau"`` or ``"Phuong Tan Thanh, Ca Mau"`` to the
point of the unit named, using only the embedded geography: the 2025 wards and the 2024
communes and districts. It is as precise as its data: a ward (or old commune) at best, a district
when only the district is recognised. Hamlets (*ấp*, *khóm*), streets and house numbers are read
past, not located.

Where the network allows, :func:`make_geocoder` returns any geopy geocoder (Nominatim, a national
service) by name instead, so configuration can swap it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from geopy.adapters import URLLibAdapter
from geopy.exc import GeocoderNotFound
from geopy.geocoders import get_geocoder_for_service
from geopy.geocoders.base import Geocoder
from geopy.location import Location
from geopy.point import Point

from geo.areas import OutsideServiceArea, WardIndex
from geo.coords import LatLon, parse_latlon
from geo.geography import PROVINCE_NAME, Commune, District, Geography, Ward, camau

__all__ = ["Gazetteer", "make_geocoder", "normalize"]


def normalize(text: str) -> str:
    """Fold Vietnamese text for matching: no diacritics, ``đ`` → ``d``, casefolded, single spaces.

    Parameters
    ----------
    text
        Any text, e.g. ``"Xã Khánh Bình"``.

    Returns
    -------
    str
        The folded text, e.g. ``"xa khanh binh"``. Punctuation other than commas becomes a space.
    """
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    folded = stripped.replace("đ", "d").replace("Đ", "D").casefold()
    folded = re.sub(r"[^\w,]+", " ", folded)
    return re.sub(r"\s+", " ", folded).strip()


# Prefix words, folded, longest first within each level.
_WARD_PREFIXES: tuple[tuple[tuple[str, ...], str | None], ...] = (
    (("thi", "tran"), "thị trấn"),
    (("phuong",), "phường"),
    (("xa",), "xã"),
    (("tt",), "thị trấn"),
    (("p",), "phường"),
    (("x",), "xã"),
)
_DISTRICT_PREFIXES: tuple[tuple[str, ...], ...] = (
    ("thanh", "pho"),
    ("thi", "xa"),
    ("huyen",),
    ("tp",),
    ("tx",),
    ("h",),
)
_PROVINCE_PREFIXES: tuple[tuple[str, ...], ...] = (("tinh",), ("t",))
_BELOW_PREFIXES: tuple[tuple[str, ...], ...] = (
    ("khu", "pho"),
    ("so", "nha"),
    ("ap",),
    ("khom",),
    ("thon",),
    ("xom",),
    ("kp",),
    ("to",),
    ("duong",),
    ("hem",),
    ("so",),
)
_COUNTRY = {("viet", "nam"), ("vietnam",), ("vn",)}
_PROVINCES = {("ca", "mau"), ("bac", "lieu")}  # old Bạc Liêu was merged into Cà Mau in 2025


@dataclass(frozen=True)
class _Part:
    """One segment of an address: its level, the kind its prefix implied, and its folded name."""

    level: str  # "ward", "district", "province", "below" or "plain"
    kind: str | None
    name: tuple[str, ...]


def _starts(tokens: Sequence[str], prefix: tuple[str, ...]) -> bool:
    return tuple(tokens[: len(prefix)]) == prefix


def _tokens(text: str) -> list[str]:
    folded = normalize(text)
    # "p9", "p.9", "phuong09" → "p 9"; leading zeros of numbers dropped ("Phường 09").
    folded = re.sub(r"\b(p|phuong)(\d+)\b", r"\1 \2", folded)
    tokens = folded.replace(",", " , ").split()
    return [str(int(t)) if t.isdigit() else t for t in tokens]


def _parse(text: str) -> list[_Part]:
    """Split an address into parts at commas and before every administrative prefix word."""
    tokens = _tokens(text)
    prefixes: list[tuple[tuple[str, ...], str, str | None]] = []
    prefixes += [(p, "ward", k) for p, k in _WARD_PREFIXES]
    prefixes += [(p, "district", None) for p in _DISTRICT_PREFIXES]
    prefixes += [(p, "province", None) for p in _PROVINCE_PREFIXES]
    prefixes += [(p, "below", None) for p in _BELOW_PREFIXES]
    prefixes.sort(key=lambda item: -len(item[0]))
    parts: list[_Part] = []
    level: str = "plain"
    kind: str | None = None
    name: list[str] = []
    i = 0

    def flush() -> None:
        if name or level != "plain":
            parts.append(_Part(level, kind, tuple(name)))

    while i < len(tokens):
        tok = tokens[i]
        if tok == ",":
            flush()
            level, kind, name = "plain", None, []
            i += 1
            continue
        hit = next((p for p in prefixes if _starts(tokens[i:], p[0])), None)
        # A prefix word starts a new part, unless it is inside a name after a ward/district
        # prefix (no unit name contains these words, so this only guards "p"/"x"/"h"/"t").
        if hit is not None and (not name or len(hit[0][0]) > 1):
            flush()
            level, kind, name = hit[1], hit[2], []
            i += len(hit[0])
            continue
        name.append(tok)
        i += 1
    flush()
    return _split_trailing_province(parts)


def _split_trailing_province(parts: list[_Part]) -> list[_Part]:
    """Split ``"huyen tran van thoi ca mau"`` (no comma) into the district and the province."""
    out: list[_Part] = []
    for part in parts:
        for prov in _PROVINCES | _COUNTRY:
            n = len(prov)
            if part.level != "province" and len(part.name) > n and part.name[-n:] == prov:
                out.append(_Part(part.level, part.kind, part.name[:-n]))
                out.append(_Part("plain", None, prov))
                break
        else:
            out.append(part)
    return out


def _bare(name: str, kind: str) -> tuple[str, ...]:
    """Fold a unit's name, dropping a kind word it starts with (``"Phường 9"`` → ``("9",)``)."""
    tokens = _tokens(name)
    kind_tokens = tuple(normalize(kind).split())
    if _starts(tokens, kind_tokens) and len(tokens) > len(kind_tokens):
        tokens = tokens[len(kind_tokens) :]
    return tuple(tokens)


@dataclass(frozen=True)
class _Query:
    ward: _Part | None
    district: _Part | None
    bad_province: bool


class Gazetteer(Geocoder):  # type: ignore[misc]  # geopy ships no type information
    """Offline geocoder over the embedded Cà Mau units, usable wherever geopy expects one.

    ``geocode`` answers ``geopy.location.Location`` objects whose ``raw`` dict says:
    ``precision`` (``"ward"`` or ``"district"``), ``era`` (``"2025"`` for a current ward,
    ``"2024"`` for an old commune or district), ``code`` (GSO code in that era), ``name``,
    ``kind``, ``district`` and ``district_code`` (the old district, ``None`` when unknown) and
    ``wards_2025`` (codes of the current ward(s) covering the answer).

    Parameters
    ----------
    geography
        The units to search; defaults to the embedded Cà Mau data.
    index
        The ward index used by :meth:`reverse`; built from ``geography`` when omitted.
    """

    def __init__(self, geography: Geography | None = None, *, index: WardIndex | None = None):
        super().__init__(adapter_factory=URLLibAdapter)  # never used: no request is made
        self.geography = geography or camau()
        self.index = index or WardIndex(self.geography)
        geo = self.geography
        self._wards = [(_bare(w.name, w.kind), w) for w in geo.wards.values()]
        self._communes = [(_bare(c.name, c.kind), c) for c in geo.communes.values()]
        self._districts = [(_bare(d.short_name, ""), d) for d in geo.districts.values()]
        self._ward_district: dict[str, District | None] = {}
        for d in geo.districts.values():
            for w in geo.wards_of_district(d.code):
                self._ward_district[w.code] = d

    # ---------------------------------------------------------------------------- geocode

    def geocode(
        self, query: str, *, exactly_one: bool = True, timeout: float | None = None
    ) -> Location | list[Location] | None:
        """Resolve an address to the point of the unit it names.

        Parameters
        ----------
        query
            An address in Vietnamese, with or without diacritics, in the 2024 form (with a
            district) or the 2025 form (ward and province).
        exactly_one
            Return the best match only (default), or a list of all matches, best first.
        timeout
            Accepted for geopy compatibility; unused (no network).

        Returns
        -------
        Location, list of Location or None
            ``None`` when nothing matches (an unknown name, another province, a district that
            does not contain the named unit).

        Raises
        ------
        ValueError
            If ``query`` is not a string.
        """
        if not isinstance(query, str):
            msg = f"query must be an address string, got {query!r}."
            raise ValueError(msg)
        locations = self._resolve(query)
        if not locations:
            return None
        return locations[0] if exactly_one else locations

    def _classify(self, parts: list[_Part]) -> _Query:
        parts = [p for p in parts if p.level != "below" and p.name not in _COUNTRY]
        bad_province = False
        kept: list[_Part] = []
        for idx, part in enumerate(parts):
            if part.level == "province":
                bad_province |= part.name not in _PROVINCES
                continue
            is_last = idx == len(parts) - 1
            if part.level == "plain" and part.name in _PROVINCES and is_last and kept:
                continue  # a trailing "Cà Mau" is the province, not the old city district
            kept.append(part)
        ward: _Part | None = None
        district: _Part | None = None
        for part in kept:
            if part.level == "ward" and ward is None:
                ward = part
            elif part.level == "district" and district is None:
                district = part
            elif part.level == "plain":
                if ward is None and self._names_unit(part.name):
                    ward = part
                elif district is None and self._district_named(part.name):
                    district = part
                elif ward is not None and district is not None:
                    bad_province = True  # something after the unit we cannot place
                elif part is kept[-1] and not self._names_unit(part.name):
                    bad_province = True  # an unknown last part: most likely another province
        return _Query(ward=ward, district=district, bad_province=bad_province)

    def _names_unit(self, name: tuple[str, ...]) -> bool:
        return any(b == name for b, _ in self._wards) or any(b == name for b, _ in self._communes)

    def _district_named(self, name: tuple[str, ...]) -> District | None:
        return next((d for b, d in self._districts if b == name), None)

    def _resolve(self, query: str) -> list[Location]:
        q = self._classify(_parse(query))
        if q.bad_province:
            return []
        district: District | None = None
        if q.district is not None:
            district = self._district_named(q.district.name)
            if district is None:
                return []
        if q.ward is None:
            return [self._district_location(district)] if district is not None else []
        wards = self._match_wards(q.ward, district)
        communes = self._match_communes(q.ward, district)
        found: list[Location] = []
        for strict in (True, False):
            w = [x for x, ok in wards if ok == strict]
            c = [x for x, ok in communes if ok == strict]
            ranked: list[Location] = []
            ranked += [self._ward_location(x) for x in w]
            ranked += [self._commune_location(x) for x in c]
            if district is not None:  # an address with a district is in the 2024 form
                ranked = [loc for loc in ranked if loc.raw["era"] == "2024"] + [
                    loc for loc in ranked if loc.raw["era"] == "2025"
                ]
            found += ranked
        return found

    def _match_wards(self, part: _Part, district: District | None) -> list[tuple[Ward, bool]]:
        out = []
        for bare, ward in self._wards:
            if bare != part.name:
                continue
            if district is not None and district.code not in self.geography.ward_districts(
                ward.code
            ):
                continue
            out.append((ward, part.kind is None or part.kind == ward.kind))
        return out

    def _match_communes(self, part: _Part, district: District | None) -> list[tuple[Commune, bool]]:
        out = []
        for bare, commune in self._communes:
            if bare != part.name:
                continue
            if district is not None and commune.district_code != district.code:
                continue
            out.append((commune, part.kind is None or part.kind == commune.kind))
        return out

    def _ward_location(self, ward: Ward) -> Location:
        district = self._ward_district.get(ward.code)
        raw = {
            "precision": "ward",
            "era": "2025",
            "code": ward.code,
            "name": ward.name,
            "kind": ward.kind,
            "district": district.name if district else None,
            "district_code": district.code if district else None,
            "wards_2025": [ward.code],
            "source": "buuta gazetteer (embedded Cà Mau units)",
        }
        address = f"{ward.full_name}, {PROVINCE_NAME}"
        return Location(address, Point(ward.point.lat, ward.point.lon), raw)

    def _commune_location(self, commune: Commune) -> Location:
        raw = {
            "precision": "ward",
            "era": "2024",
            "code": commune.code,
            "name": commune.name,
            "kind": commune.kind,
            "district": commune.district,
            "district_code": commune.district_code,
            "wards_2025": list(commune.successors),
            "postcode": commune.postcode,
            "source": "buuta gazetteer (embedded Cà Mau units)",
        }
        address = f"{commune.full_name}, {commune.district}, {PROVINCE_NAME}"
        return Location(address, Point(commune.point.lat, commune.point.lon), raw)

    def _district_location(self, district: District) -> Location:
        seat = self.geography.communes[district.seat]
        wards = sorted(
            {w for c in district.communes for w in self.geography.communes[c].successors}
        )
        raw = {
            "precision": "district",
            "era": "2024",
            "code": district.code,
            "name": district.name,
            "kind": "district",
            "district": district.name,
            "district_code": district.code,
            "wards_2025": wards,
            "source": "buuta gazetteer (embedded Cà Mau units); point: the district seat",
        }
        address = f"{district.name}, {PROVINCE_NAME}"
        return Location(address, Point(seat.point.lat, seat.point.lon), raw)

    # ---------------------------------------------------------------------------- reverse

    def reverse(
        self, query: Any, *, exactly_one: bool = True, timeout: float | None = None
    ) -> Location | list[Location] | None:
        """Name the 2025 ward (and old district) at a point.

        Parameters
        ----------
        query
            A :class:`~geo.coords.LatLon`, a ``(lat, lon)`` pair, a geopy ``Point`` or a
            ``"lat, lon"`` string.
        exactly_one
            Return one Location (default) or a one-element list.
        timeout
            Accepted for geopy compatibility; unused.

        Returns
        -------
        Location, list of Location or None
            The ward's address at the query point, with ``raw`` as in :meth:`geocode` plus
            ``district_exact``; ``None`` when the point is outside every ward (geopy's "not
            found"; :func:`geo.areas.locate` raises :class:`~geo.areas.OutsideServiceArea`
            instead).

        Raises
        ------
        ValueError
            If the query is not a readable point (NaN, out of range, malformed).
        """
        point = _as_latlon(query)
        try:
            match = self.index.locate(point)
        except OutsideServiceArea:
            return None
        loc = self._ward_location(match.ward)
        raw = dict(loc.raw)
        raw["district"] = match.district.name if match.district else None
        raw["district_code"] = match.district.code if match.district else None
        raw["district_exact"] = match.district_exact
        result = Location(loc.address, Point(point.lat, point.lon), raw)
        return result if exactly_one else [result]


def _as_latlon(query: Any) -> LatLon:
    if isinstance(query, LatLon):
        return parse_latlon(query.lat, query.lon, where="reverse query")
    if isinstance(query, Point):
        return parse_latlon(query.latitude, query.longitude, where="reverse query")
    if isinstance(query, str):
        pieces = [p for p in re.split(r"[,\s]+", query.strip()) if p]
        if len(pieces) != 2:
            msg = f"reverse query: expected 'lat, lon', got {query!r}."
            raise ValueError(msg)
        return parse_latlon(pieces[0], pieces[1], where="reverse query")
    if isinstance(query, tuple | list) and len(query) == 2:
        return parse_latlon(query[0], query[1], where="reverse query")
    msg = f"reverse query: expected a point (lat, lon), got {query!r}."
    raise ValueError(msg)


def make_geocoder(name: str, **kwargs: Any) -> Any:
    """Return a geocoder by name: ``"gazetteer"`` (offline) or any geopy service.

    Parameters
    ----------
    name
        ``"gazetteer"`` for :class:`Gazetteer`, or a geopy service name such as
        ``"nominatim"`` (see ``geopy.geocoders.SERVICE_TO_GEOCODER``).
    **kwargs
        Passed to the geocoder's constructor (e.g. ``user_agent=`` for Nominatim).

    Returns
    -------
    geopy.geocoders.Geocoder
        An instance; a network geocoder makes requests only when called.

    Raises
    ------
    ValueError
        If no geocoder has that name.
    """
    key = str(name).strip().lower()
    if key in {"gazetteer", "offline", "buuta"}:
        return Gazetteer(**kwargs)
    try:
        cls = get_geocoder_for_service(key)
    except GeocoderNotFound:
        msg = f"unknown geocoder {name!r}: use 'gazetteer' or a geopy service name."
        raise ValueError(msg) from None
    return cls(**kwargs)
