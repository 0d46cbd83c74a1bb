"""Travel times and distances between points: one small Protocol, three providers.

Every provider answers the same question, ``matrix(points, mode)``: the time in seconds and the
distance in metres from each point to each other point, as two ``(n, n)`` float64 arrays with a
zero diagonal. The optimizer and the plan checker only ever talk to :class:`TravelModel`.

- :class:`GreatCircleTravel` (the offline default): haversine distance × a circuity factor ÷ a
  speed per mode, plus a fixed overhead per leg. Parameters live in :data:`DEFAULT_MODE_PARAMS`.
- :class:`MatrixTravel`: a matrix the user computed elsewhere (CSV or JSON, keyed by point ids or
  by coordinates).
- :class:`OsrmTravel`: an OSRM-compatible ``/table/v1`` HTTP service, when one is configured.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import httpx
import numpy as np
import numpy.typing as npt

from geo.coords import LatLon, parse_latlon

FloatArray = npt.NDArray[np.float64]

EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius in metres (IUGG), the radius osmnx's ``great_circle`` uses too."""


class TravelMode(StrEnum):
    """How a courier moves: the modes a plan request may name."""

    MOTORBIKE = "motorbike"
    CAR = "car"
    BOAT = "boat"
    WALKING = "walking"


def parse_mode(value: Any) -> TravelMode:
    """Read a travel mode from untrusted input.

    Parameters
    ----------
    value
        A mode name such as ``"motorbike"`` (case and surrounding spaces are ignored), or a
        :class:`TravelMode`.

    Returns
    -------
    TravelMode
        The mode.

    Raises
    ------
    ValueError
        If the value is not one of the known modes; the message names the value and the choices.
    """
    if isinstance(value, TravelMode):
        return value
    if isinstance(value, str):
        try:
            return TravelMode(value.strip().lower())
        except ValueError:
            pass
    choices = ", ".join(m.value for m in TravelMode)
    msg = f"unknown travel mode {value!r}: expected one of {choices}."
    raise ValueError(msg)


@dataclass(frozen=True, eq=False)
class TravelMatrix:
    """Times and distances between ``n`` points, ``seconds[i, j]`` from point i to point j.

    Parameters
    ----------
    seconds
        Travel times in seconds, float64 array of shape ``(n, n)``, zero diagonal.
    metres
        Travel distances in metres, float64 array of shape ``(n, n)``, zero diagonal.

    Raises
    ------
    ValueError
        If the arrays are not square, differ in shape, or hold negative or non-finite values.
    """

    seconds: FloatArray
    metres: FloatArray

    def __post_init__(self) -> None:
        seconds = np.array(self.seconds, dtype=np.float64)
        metres = np.array(self.metres, dtype=np.float64)
        for name, arr in (("seconds", seconds), ("metres", metres)):
            if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
                msg = f"travel matrix {name} must be square (n, n), got shape {arr.shape}."
                raise ValueError(msg)
            if arr.size:
                lowest, highest = arr.min(), arr.max()  # NaN propagates: both tests fail
                if not (lowest >= 0 or math.isnan(lowest)):
                    msg = f"travel matrix {name} holds a negative value ({lowest!r})."
                    raise ValueError(msg)
                if not math.isfinite(highest) or not math.isfinite(lowest):
                    msg = f"travel matrix {name} holds a value that is not a finite number."
                    raise ValueError(msg)
            arr.flags.writeable = False
        if seconds.shape != metres.shape:
            msg = f"travel matrix shapes differ: seconds {seconds.shape}, metres {metres.shape}."
            raise ValueError(msg)
        object.__setattr__(self, "seconds", seconds)
        object.__setattr__(self, "metres", metres)

    @property
    def size(self) -> int:
        """Number of points ``n``."""
        return int(self.seconds.shape[0])


@runtime_checkable
class TravelModel(Protocol):
    """Anything that turns points and a mode into a :class:`TravelMatrix`."""

    def matrix(self, points: Sequence[LatLon], mode: str) -> TravelMatrix:
        """Return the travel times (s) and distances (m) between every pair of ``points``."""
        ...


def _check_points(points: Sequence[LatLon]) -> list[LatLon]:
    """Validate a point list: non-empty, each a :class:`LatLon` (re-checked, so NaN cannot pass)."""
    pts = list(points)
    if not pts:
        msg = "points: the point list is empty; a travel matrix needs at least one point."
        raise ValueError(msg)
    out: list[LatLon] = []
    for i, p in enumerate(pts):
        if isinstance(p, LatLon):
            # Re-validate: a LatLon built with object.__new__ or a subclass could skip checks.
            out.append(parse_latlon(p.lat, p.lon, where=f"points[{i}]"))
        elif isinstance(p, tuple | list) and len(p) == 2:
            out.append(parse_latlon(p[0], p[1], where=f"points[{i}]"))
        else:
            msg = f"points[{i}]: expected a LatLon or a (lat, lon) pair, got {p!r}."
            raise ValueError(msg)
    return out


def haversine_m(points: Sequence[LatLon]) -> FloatArray:
    """Great-circle distances in metres between every pair of points, vectorised.

    Parameters
    ----------
    points
        The points, latitude and longitude in decimal degrees.

    Returns
    -------
    numpy.ndarray
        float64 array of shape ``(n, n)``; symmetric with a zero diagonal.
    """
    pts = _check_points(points)
    n = len(pts)
    lat = np.radians(np.fromiter((p.lat for p in pts), dtype=np.float64, count=n))
    lon = np.radians(np.fromiter((p.lon for p in pts), dtype=np.float64, count=n))
    # sin((a - b) / 2) = sin(a/2)·cos(b/2) - cos(a/2)·sin(b/2): trigonometry on n values, not
    # on n² pairs. The (j, i) entry is the exact negation of the (i, j) one (same products,
    # swapped), so the squares are exactly symmetric and the diagonal exactly 0.
    s_lat, c_lat = np.sin(lat * 0.5), np.cos(lat * 0.5)
    s_lon, c_lon = np.sin(lon * 0.5), np.cos(lon * 0.5)
    h = np.multiply.outer(s_lat, c_lat)
    h -= np.multiply.outer(c_lat, s_lat)
    np.square(h, out=h)
    dlon = np.multiply.outer(s_lon, c_lon)
    dlon -= np.multiply.outer(c_lon, s_lon)
    np.square(dlon, out=dlon)
    cos_lat = np.cos(lat)
    dlon *= np.multiply.outer(cos_lat, cos_lat)
    h += dlon
    del dlon
    np.clip(h, 0.0, 1.0, out=h)
    np.sqrt(h, out=h)
    np.arcsin(h, out=h)
    h *= 2.0 * EARTH_RADIUS_M
    dist: FloatArray = h
    np.fill_diagonal(dist, 0.0)
    return dist


@dataclass(frozen=True, slots=True)
class ModeParams:
    """How one travel mode turns a straight-line distance into a road distance and a time.

    Parameters
    ----------
    speed_kmh
        Average speed over the whole leg in km/h (moving and short stops).
    circuity
        Road (or waterway) distance ÷ great-circle distance, ≥ 1.
    overhead_s
        Fixed seconds added to every leg between two different places (parking, mooring, finding
        the house). Not added on the diagonal nor between two points at the same place.
    """

    speed_kmh: float
    circuity: float
    overhead_s: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.speed_kmh) and self.speed_kmh > 0):
            msg = f"speed_kmh must be a positive number, got {self.speed_kmh!r}."
            raise ValueError(msg)
        if not (math.isfinite(self.circuity) and self.circuity >= 1.0):
            msg = f"circuity must be a number >= 1, got {self.circuity!r}."
            raise ValueError(msg)
        if not (math.isfinite(self.overhead_s) and self.overhead_s >= 0):
            msg = f"overhead_s must be a non-negative number, got {self.overhead_s!r}."
            raise ValueError(msg)


# The default model's parameters, in one place.
#
# Circuity (detour index, road distance ÷ straight-line distance). Published studies of road
# networks: Ballou, Rahardja & Sakai (2002), "Selected country circuity factors for road travel
# distance estimation", Transportation Research A 36(9), report factors of about 1.2-1.4 for the
# US and European countries; Boscoe, Henry & Zdeb (2012), "A nationwide comparison of driving
# distance versus straight-line distance to hospitals", Professional Geographer 64(2), find a
# mean detour index of about 1.4 in the US, higher for short trips. The rural Mekong delta is more
# winding than either: roads follow canal banks, bridges are few, and a home on the far bank of a
# canal is reached by going round. We therefore take the upper end and a little more: 1.5 for
# motorbikes and cars, 1.6 for boats (canals and rivers meander and the mangrove channels of Năm
# Căn and Ngọc Hiển twist), 1.4 on foot (footpaths on dikes cut some corners that roads do not).
#
# Speeds: a rural motorbike courier averages ~25-30 km/h on narrow concrete lanes (we take 28);
# a car ~40 km/h on provincial roads with ferries and villages; a small motor boat on canals
# ~10-15 km/h (we take 12); walking 4.5 km/h.
#
# Overhead per leg: parking and finding the house (motorbike 60 s), parking a car on a narrow
# lane (120 s), mooring a boat (180 s), walking (30 s).
DEFAULT_MODE_PARAMS: Mapping[TravelMode, ModeParams] = {
    TravelMode.MOTORBIKE: ModeParams(speed_kmh=28.0, circuity=1.5, overhead_s=60.0),
    TravelMode.CAR: ModeParams(speed_kmh=40.0, circuity=1.5, overhead_s=120.0),
    TravelMode.BOAT: ModeParams(speed_kmh=12.0, circuity=1.6, overhead_s=180.0),
    TravelMode.WALKING: ModeParams(speed_kmh=4.5, circuity=1.4, overhead_s=30.0),
}


@dataclass(frozen=True)
class GreatCircleTravel:
    """The offline default travel model: great circle × circuity ÷ speed, plus overhead per leg.

    ``metres[i, j] = circuity × haversine(i, j)`` and
    ``seconds[i, j] = metres[i, j] / speed + overhead_s`` for two different places, 0 for the same
    place. Both matrices are symmetric with a zero diagonal.

    The triangle inequality holds: haversine is a metric on the sphere, and scaling a metric by a
    positive constant keeps it one, so ``metres`` satisfies it. For ``seconds``, a detour
    i → j → k through a third place pays the overhead twice while the direct leg pays it once (or
    not at all when i and k are the same place), and when j is at the same place as i or k the
    detour costs exactly the direct leg (that leg has no overhead). So
    ``seconds[i, k] <= seconds[i, j] + seconds[j, k]`` in every case. Overhead on legs between
    coincident points would break this, which is why two jobs at the same house cost 0 s apart.

    Parameters
    ----------
    params
        Parameters per mode; defaults to :data:`DEFAULT_MODE_PARAMS`. Modes missing from the
        mapping are rejected when asked for.
    """

    params: Mapping[TravelMode, ModeParams] = field(default_factory=lambda: DEFAULT_MODE_PARAMS)

    def mode_params(self, mode: str) -> ModeParams:
        """Return the parameters of ``mode``, raising ValueError naming an unknown mode."""
        m = parse_mode(mode)
        try:
            return self.params[m]
        except KeyError:
            msg = f"travel mode {m.value!r} has no parameters in this travel model."
            raise ValueError(msg) from None

    def matrix(self, points: Sequence[LatLon], mode: str) -> TravelMatrix:
        """Return travel seconds and metres between every pair of points.

        Parameters
        ----------
        points
            The points (at least one).
        mode
            A :class:`TravelMode` name: ``motorbike``, ``car``, ``boat`` or ``walking``.

        Returns
        -------
        TravelMatrix
            Symmetric ``(n, n)`` matrices in seconds and metres with a zero diagonal.

        Raises
        ------
        ValueError
            For an empty point list, a NaN or out-of-range coordinate, or an unknown mode.
        """
        p = self.mode_params(mode)
        metres = haversine_m(points)
        metres *= p.circuity
        seconds = metres * (3.6 / p.speed_kmh)
        seconds += p.overhead_s
        np.fill_diagonal(seconds, 0.0)
        n = seconds.shape[0]
        if p.overhead_s and np.count_nonzero(metres) < n * n - n:
            # Some different points share a place: no overhead between them (see class doc).
            seconds[metres == 0.0] = 0.0
        return TravelMatrix(seconds=seconds, metres=metres)


# --------------------------------------------------------------------------------------------
# A user-supplied matrix


def _coord_key(lat: float, lon: float) -> tuple[int, int]:
    """Key a coordinate to 1e-6 degree (about 11 cm), so values read from text match."""
    return (round(lat * 1_000_000), round(lon * 1_000_000))


@dataclass(frozen=True, eq=False)
class MatrixTravel:
    """Travel times and distances the user computed elsewhere (their own road engine, a survey).

    The matrix is keyed either by ids (``locations`` then maps each id to its point, so that
    :meth:`matrix` can find the rows of the points it is given) or by coordinates. The same
    figures are used for every mode: a user's matrix describes the roads their couriers use.

    Parameters
    ----------
    keys
        The row/column labels: ids (str) or points (:class:`LatLon`).
    seconds, metres
        Square float arrays in the order of ``keys``.
    locations
        For id keys: the point of each id. Without it, :meth:`matrix_for_ids` still works.
    source
        Where the matrix came from (a file name), used in error messages.
    """

    keys: Sequence[str | LatLon]
    seconds: FloatArray
    metres: FloatArray
    locations: Mapping[str, LatLon] | None = None
    source: str = "travel matrix"
    _index: dict[Any, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        full = TravelMatrix(seconds=self.seconds, metres=self.metres)
        if full.size != len(self.keys):
            msg = (
                f"{self.source}: {len(self.keys)} keys but the matrix is {full.size} × {full.size}."
            )
            raise ValueError(msg)
        index: dict[Any, int] = {}
        for i, key in enumerate(self.keys):
            k = _coord_key(key.lat, key.lon) if isinstance(key, LatLon) else str(key)
            if k in index:
                msg = f"{self.source}: the point {key!r} appears twice."
                raise ValueError(msg)
            index[k] = i
        if self.locations is not None:
            for ident, point in self.locations.items():
                index.setdefault(_coord_key(point.lat, point.lon), index.get(ident, -1))
        object.__setattr__(self, "seconds", full.seconds)
        object.__setattr__(self, "metres", full.metres)
        object.__setattr__(self, "_index", index)

    def _take(self, rows: list[int]) -> TravelMatrix:
        idx = np.asarray(rows, dtype=np.intp)
        seconds = self.seconds[np.ix_(idx, idx)].copy()
        metres = self.metres[np.ix_(idx, idx)].copy()
        np.fill_diagonal(seconds, 0.0)
        np.fill_diagonal(metres, 0.0)
        return TravelMatrix(seconds=seconds, metres=metres)

    def matrix_for_ids(self, ids: Sequence[str]) -> TravelMatrix:
        """Return the sub-matrix for ``ids``, in that order.

        Raises
        ------
        ValueError
            If the list is empty or an id has no row in the matrix (the message names it).
        """
        if not ids:
            msg = "ids: the id list is empty; a travel matrix needs at least one point."
            raise ValueError(msg)
        rows = []
        for ident in ids:
            row = self._index.get(str(ident), -1)
            if row < 0:
                msg = f"{self.source} has no row for point id {ident!r}."
                raise ValueError(msg)
            rows.append(row)
        return self._take(rows)

    def matrix(self, points: Sequence[LatLon], mode: str) -> TravelMatrix:
        """Return the sub-matrix for ``points`` (matched to 1e-6 degree), in that order.

        Raises
        ------
        ValueError
            For an empty list, a bad point, an unknown mode, or a point with no row in the
            matrix (the message names the point).
        """
        parse_mode(mode)
        pts = _check_points(points)
        rows = []
        for i, p in enumerate(pts):
            row = self._index.get(_coord_key(p.lat, p.lon), -1)
            if row < 0:
                msg = f"{self.source} has no row for points[{i}] at lat={p.lat!r}, lon={p.lon!r}."
                raise ValueError(msg)
            rows.append(row)
        return self._take(rows)

    @classmethod
    def from_file(
        cls, path: str | Path, *, locations: Mapping[str, LatLon] | None = None
    ) -> MatrixTravel:
        """Read a matrix from a ``.json`` or ``.csv`` file.

        JSON: ``{"ids": [...]}`` or ``{"points": [[lat, lon], ...]}``, with ``"seconds"`` or
        ``"minutes"`` and ``"metres"`` or ``"km"`` as lists of rows (the ``travel`` block of a
        plan request has this shape).

        CSV: one row per ordered pair, with columns ``from,to`` (ids) or
        ``from_lat,from_lon,to_lat,to_lon``, then ``seconds`` or ``minutes``, and ``metres`` or
        ``km``. Pairs of a point with itself may be left out (they are 0); any other missing pair
        is an error naming it.

        Raises
        ------
        ValueError
            If the file is unreadable, of an unknown kind, or malformed; the message names the
            file and the field, row or pair.
        """
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8-sig")
        except OSError as exc:
            msg = f"cannot read travel matrix file {str(p)!r}: {exc.strerror or exc}."
            raise ValueError(msg) from None
        suffix = p.suffix.lower()
        if suffix == ".json":
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                msg = f"{p.name}: not valid JSON ({exc.msg} at line {exc.lineno})."
                raise ValueError(msg) from None
            return cls.from_json(data, locations=locations, source=p.name)
        if suffix == ".csv":
            return cls.from_csv_rows(csv.DictReader(text.splitlines()), locations, p.name)
        msg = f"travel matrix file {p.name!r}: expected a .json or .csv file."
        raise ValueError(msg)

    @classmethod
    def from_json(
        cls,
        data: Any,
        *,
        locations: Mapping[str, LatLon] | None = None,
        source: str = "travel matrix",
    ) -> MatrixTravel:
        """Build from the JSON shape described in :meth:`from_file` (already parsed)."""
        if not isinstance(data, Mapping):
            msg = f"{source}: expected a JSON object with ids or points and the matrices."
            raise ValueError(msg)
        keys: list[str | LatLon]
        if "ids" in data:
            if not isinstance(data["ids"], list):
                msg = f"{source}: ids must be a list of point ids."
                raise ValueError(msg)
            keys = [str(k) for k in data["ids"]]
        elif "points" in data:
            raw = data["points"]
            if not isinstance(raw, list):
                msg = f"{source}: points must be a list of [lat, lon] pairs."
                raise ValueError(msg)
            keys = []
            for i, pair in enumerate(raw):
                if not isinstance(pair, list | tuple) or len(pair) != 2:
                    msg = f"{source}: points[{i}] must be a [lat, lon] pair, got {pair!r}."
                    raise ValueError(msg)
                keys.append(parse_latlon(pair[0], pair[1], where=f"{source}: points[{i}]"))
        else:
            msg = f"{source}: expected an 'ids' or a 'points' list."
            raise ValueError(msg)
        seconds = _json_matrix(data, source, ("seconds", 1.0), ("minutes", 60.0), len(keys))
        metres = _json_matrix(data, source, ("metres", 1.0), ("km", 1000.0), len(keys))
        return cls(keys=keys, seconds=seconds, metres=metres, locations=locations, source=source)

    @classmethod
    def from_csv_rows(
        cls,
        rows: Iterable[Mapping[str, str | None]],
        locations: Mapping[str, LatLon] | None = None,
        source: str = "travel matrix",
    ) -> MatrixTravel:
        """Build from CSV rows (dicts) in the long format described in :meth:`from_file`."""
        keys: list[str | LatLon] = []
        index: dict[Any, int] = {}
        pairs: dict[tuple[int, int], tuple[float, float]] = {}

        def key_of(row: Mapping[str, str | None], end: str, line: int) -> int:
            if row.get(end) not in (None, ""):
                key: str | LatLon = str(row[end]).strip()
                k: Any = key
            else:
                key = parse_latlon(
                    row.get(f"{end}_lat"), row.get(f"{end}_lon"), where=f"{source} line {line}"
                )
                k = _coord_key(key.lat, key.lon)
            if k not in index:
                index[k] = len(keys)
                keys.append(key)
            return index[k]

        for line, row in enumerate(rows, start=2):
            a = key_of(row, "from", line)
            b = key_of(row, "to", line)
            t = _csv_value(row, source, line, ("seconds", 1.0), ("minutes", 60.0))
            d = _csv_value(row, source, line, ("metres", 1.0), ("km", 1000.0))
            pairs[(a, b)] = (t, d)
        n = len(keys)
        if n == 0:
            msg = f"{source}: the file has no rows."
            raise ValueError(msg)
        seconds = np.zeros((n, n))
        metres = np.zeros((n, n))
        for i in range(n):
            for j in range(n):
                if i == j:
                    continue
                if (i, j) not in pairs:
                    msg = f"{source}: no row from {keys[i]!r} to {keys[j]!r}."
                    raise ValueError(msg)
                seconds[i, j], metres[i, j] = pairs[(i, j)]
        return cls(keys=keys, seconds=seconds, metres=metres, locations=locations, source=source)


def _json_matrix(
    data: Mapping[str, Any],
    source: str,
    primary: tuple[str, float],
    alternative: tuple[str, float],
    n: int,
) -> FloatArray:
    for name, scale in (primary, alternative):
        if name in data:
            try:
                arr = np.array(data[name], dtype=np.float64)
            except (TypeError, ValueError):
                msg = f"{source}: {name} must be a list of rows of numbers."
                raise ValueError(msg) from None
            if arr.shape != (n, n):
                msg = f"{source}: {name} must be {n} × {n} (one row per point), got {arr.shape}."
                raise ValueError(msg)
            if not np.all(np.isfinite(arr)) or np.any(arr < 0):
                msg = f"{source}: {name} must hold finite, non-negative numbers."
                raise ValueError(msg)
            return arr * scale
    msg = f"{source}: missing {primary[0]!r} (or {alternative[0]!r})."
    raise ValueError(msg)


def _csv_value(
    row: Mapping[str, str | None],
    source: str,
    line: int,
    primary: tuple[str, float],
    alternative: tuple[str, float],
) -> float:
    for name, scale in (primary, alternative):
        raw = row.get(name)
        if raw not in (None, ""):
            try:
                value = float(str(raw))
            except ValueError:
                value = math.nan
            if not math.isfinite(value) or value < 0:
                msg = f"{source} line {line}: {name} must be a non-negative number, got {raw!r}."
                raise ValueError(msg)
            return value * scale
    msg = f"{source} line {line}: missing {primary[0]!r} (or {alternative[0]!r})."
    raise ValueError(msg)


# --------------------------------------------------------------------------------------------
# An OSRM-compatible table service


class TravelServiceError(RuntimeError):
    """The configured routing service failed or answered something unusable."""


DEFAULT_OSRM_PROFILES: Mapping[TravelMode, str] = {
    TravelMode.MOTORBIKE: "driving",
    TravelMode.CAR: "driving",
    TravelMode.WALKING: "foot",
}
"""OSRM profile per mode. OSRM has no boat profile: boat legs need another provider."""


@dataclass(frozen=True)
class OsrmTravel:
    """Travel times and distances from an OSRM-compatible ``table`` service.

    Requests ``GET {base_url}/table/v1/{profile}/{lon,lat;...}?annotations=duration,distance``
    (OSRM takes longitude first), splitting big matrices into blocks of sources × destinations so
    that no request holds more than ``max_locations`` coordinates (OSRM's default table limit is
    100).

    Parameters
    ----------
    base_url
        Root of the service, e.g. ``"http://localhost:5000"``.
    profiles
        OSRM profile name per mode; a mode without one is rejected.
    timeout_s
        Timeout of each HTTP request in seconds.
    max_locations
        Most coordinates in one request (at least 2).
    """

    base_url: str
    profiles: Mapping[TravelMode, str] = field(default_factory=lambda: DEFAULT_OSRM_PROFILES)
    timeout_s: float = 10.0
    max_locations: int = 100

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            msg = f"OSRM base_url must start with http:// or https://, got {self.base_url!r}."
            raise ValueError(msg)
        if self.max_locations < 2:
            msg = f"max_locations must be at least 2, got {self.max_locations!r}."
            raise ValueError(msg)
        if not (math.isfinite(self.timeout_s) and self.timeout_s > 0):
            msg = f"timeout_s must be a positive number of seconds, got {self.timeout_s!r}."
            raise ValueError(msg)

    def matrix(self, points: Sequence[LatLon], mode: str) -> TravelMatrix:
        """Ask the service for the travel times and distances between every pair of points.

        Raises
        ------
        ValueError
            For an empty point list, a bad point, or a mode with no OSRM profile.
        TravelServiceError
            When the service cannot be reached, answers an HTTP error, or sends a malformed
            table (the message says which).
        """
        m = parse_mode(mode)
        profile = self.profiles.get(m)
        if profile is None:
            msg = f"travel mode {m.value!r} has no OSRM profile configured."
            raise ValueError(msg)
        pts = _check_points(points)
        n = len(pts)
        seconds = np.zeros((n, n))
        metres = np.zeros((n, n))
        if n == 1:
            return TravelMatrix(seconds=seconds, metres=metres)
        half = max(1, self.max_locations // 2)
        blocks = [list(range(s, min(n, s + half))) for s in range(0, n, half)]
        if n <= self.max_locations:
            blocks = [list(range(n))]
        with httpx.Client(timeout=self.timeout_s) as client:
            for src in blocks:
                for dst in blocks:
                    self._fill(
                        client,
                        profile=profile,
                        pts=pts,
                        src=src,
                        dst=dst,
                        seconds=seconds,
                        metres=metres,
                    )
        np.fill_diagonal(seconds, 0.0)
        np.fill_diagonal(metres, 0.0)
        return TravelMatrix(seconds=seconds, metres=metres)

    def _fill(
        self,
        client: httpx.Client,
        *,
        profile: str,
        pts: list[LatLon],
        src: list[int],
        dst: list[int],
        seconds: FloatArray,
        metres: FloatArray,
    ) -> None:
        locs = list(dict.fromkeys(src + dst))
        pos = {g: k for k, g in enumerate(locs)}
        coords = ";".join(f"{pts[g].lon:.6f},{pts[g].lat:.6f}" for g in locs)
        url = f"{self.base_url.rstrip('/')}/table/v1/{profile}/{coords}"
        params = {"annotations": "duration,distance"}
        if locs != src or locs != dst:
            params["sources"] = ";".join(str(pos[g]) for g in src)
            params["destinations"] = ";".join(str(pos[g]) for g in dst)
        try:
            resp = client.get(url, params=params)
        except httpx.HTTPError as exc:
            msg = f"routing service at {self.base_url} could not be reached: {exc}."
            raise TravelServiceError(msg) from None
        if resp.status_code != 200:
            msg = (
                f"routing service at {self.base_url} answered HTTP {resp.status_code}: "
                f"{resp.text[:200]!r}."
            )
            raise TravelServiceError(msg)
        try:
            body = resp.json()
        except ValueError:
            msg = f"routing service at {self.base_url} answered something that is not JSON."
            raise TravelServiceError(msg) from None
        if not isinstance(body, dict) or body.get("code") != "Ok":
            code = body.get("code") if isinstance(body, dict) else None
            msg = f"routing service at {self.base_url} answered code {code!r}, not 'Ok'."
            raise TravelServiceError(msg)
        for key, out in (("durations", seconds), ("distances", metres)):
            table = body.get(key)
            if (
                not isinstance(table, list)
                or len(table) != len(src)
                or any(not isinstance(r, list) or len(r) != len(dst) for r in table)
            ):
                msg = (
                    f"routing service at {self.base_url}: '{key}' is missing or not a "
                    f"{len(src)} × {len(dst)} table."
                )
                raise TravelServiceError(msg)
            for a, row in zip(src, table, strict=True):
                for b, value in zip(dst, row, strict=True):
                    if a == b:
                        continue
                    if (
                        isinstance(value, bool)
                        or not isinstance(value, int | float)
                        or not math.isfinite(value)
                        or value < 0
                    ):
                        msg = (
                            f"routing service at {self.base_url}: no usable {key[:-1]} from "
                            f"points[{a}] to points[{b}] (got {value!r}; unreachable?)."
                        )
                        raise TravelServiceError(msg)
                    out[a, b] = float(value)
