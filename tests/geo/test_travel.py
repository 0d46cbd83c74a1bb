"""The travel models: the great-circle default, a user's matrix file, and an OSRM table service."""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.coords import LatLon
from geo.travel import (
    DEFAULT_MODE_PARAMS,
    EARTH_RADIUS_M,
    GreatCircleTravel,
    MatrixTravel,
    ModeParams,
    OsrmTravel,
    TravelMatrix,
    TravelMode,
    TravelModel,
    TravelServiceError,
    haversine_m,
    parse_mode,
)

# Points around Cà Mau province (and a little beyond), where the default model is used.
lats = st.floats(min_value=8.4, max_value=9.8, allow_nan=False)
lons = st.floats(min_value=104.6, max_value=105.9, allow_nan=False)
points_st = st.lists(st.builds(LatLon, lats, lons), min_size=1, max_size=12)
modes_st = st.sampled_from(list(TravelMode))


@given(points=points_st, mode=modes_st)
@settings(max_examples=150, deadline=None)
def test_default_model_is_symmetric_non_negative_with_zero_diagonal(
    points: list[LatLon], mode: TravelMode
) -> None:
    """Seconds and metres are symmetric, non-negative, finite, and zero from a point to itself."""
    m = GreatCircleTravel().matrix(points, mode)
    n = len(points)
    for arr in (m.seconds, m.metres):
        assert arr.shape == (n, n)
        assert arr.dtype == np.float64
        assert np.array_equal(arr, arr.T)
        assert np.all(np.diag(arr) == 0.0)
        assert np.all(arr >= 0.0)
        assert np.all(np.isfinite(arr))


@given(points=points_st, mode=modes_st)
@settings(max_examples=150, deadline=None)
def test_default_model_keeps_the_triangle_inequality(
    points: list[LatLon], mode: TravelMode
) -> None:
    """No detour through a third point is shorter or quicker than the direct leg.

    The per-leg overhead is paid once on the direct leg and twice on a detour through a
    different place; legs between points at the same place carry no overhead, so a detour via a
    coincident point costs exactly the direct leg. A relative tolerance of 1e-9 covers rounding.
    """
    m = GreatCircleTravel().matrix(points, mode)
    for arr in (m.seconds, m.metres):
        via = arr[:, :, None] + arr[None, :, :]  # via[i, j, k] = arr[i, j] + arr[j, k]
        direct = arr[:, None, :]  # direct[i, _, k] = arr[i, k]
        assert np.all(direct <= via + 1e-9 * (1.0 + via))


@given(points=st.lists(st.builds(LatLon, lats, lons), min_size=2, max_size=2))
@settings(max_examples=50, deadline=None)
def test_triangle_inequality_with_a_coincident_middle_point(points: list[LatLon]) -> None:
    """A detour via a second job at the same house costs exactly the direct leg, not more."""
    a, b = points
    m = GreatCircleTravel().matrix([a, a, b], "motorbike")
    assert m.seconds[0, 1] == 0.0
    assert m.seconds[0, 2] <= m.seconds[0, 1] + m.seconds[1, 2]
    assert m.seconds[0, 2] == pytest.approx(m.seconds[1, 2])


def test_one_degree_of_latitude_worked_out() -> None:
    """One degree of latitude is R·π/180 metres; the motorbike figures follow from the table.

    R = 6,371,008.8 m, so 1° = 111,195.08 m. Motorbike: circuity 1.5 → 166,792.6 m; at 28 km/h
    (7.777… m/s) that is 21,444.8 s, plus the 60 s overhead = 21,504.8 s.
    """
    m = GreatCircleTravel().matrix([LatLon(0.0, 105.0), LatLon(1.0, 105.0)], "motorbike")
    one_degree_m = EARTH_RADIUS_M * math.pi / 180
    assert one_degree_m == pytest.approx(111_195.08, abs=0.01)
    assert m.metres[0, 1] == pytest.approx(166_792.6, abs=0.1)
    assert m.seconds[0, 1] == pytest.approx(21_504.8, abs=0.1)
    assert m.seconds[1, 0] == m.seconds[0, 1]


def test_modes_differ_as_their_speeds_say() -> None:
    """On the same 10 km leg a boat is slower than a motorbike, a car faster, walking slowest."""
    pts = [LatLon(9.17, 105.15), LatLon(9.26, 105.15)]
    t = {mode: GreatCircleTravel().matrix(pts, mode).seconds[0, 1] for mode in TravelMode}
    assert t[TravelMode.CAR] < t[TravelMode.MOTORBIKE] < t[TravelMode.BOAT] < t[TravelMode.WALKING]
    for mode, p in DEFAULT_MODE_PARAMS.items():
        assert 1.0 <= p.circuity <= 2.0, mode
    assert 25 <= DEFAULT_MODE_PARAMS[TravelMode.MOTORBIKE].speed_kmh <= 30
    assert 10 <= DEFAULT_MODE_PARAMS[TravelMode.BOAT].speed_kmh <= 15


def test_haversine_matches_osmnx_formula_on_a_known_pair() -> None:
    """Cà Mau centre to Năm Căn is about 45.6 km in a straight line (checked by hand with R)."""
    d = haversine_m([LatLon(9.1769, 105.1524), LatLon(8.7616, 104.9919)])
    dlat, dlon = math.radians(8.7616 - 9.1769), math.radians(104.9919 - 105.1524)
    h = (
        math.sin(dlat / 2) ** 2
        + math.cos(math.radians(9.1769)) * math.cos(math.radians(8.7616)) * math.sin(dlon / 2) ** 2
    )
    expected = 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))
    assert d[0, 1] == pytest.approx(expected, rel=1e-12)
    assert 45_000 < d[0, 1] < 50_000


def test_model_satisfies_the_protocol() -> None:
    """Each provider is a TravelModel that the optimizer can take."""
    assert isinstance(GreatCircleTravel(), TravelModel)
    assert isinstance(OsrmTravel("http://127.0.0.1:1"), TravelModel)


@pytest.mark.parametrize(
    ("points", "mode", "needle"),
    [
        ([], "motorbike", "empty"),
        ([(math.nan, 105.0)], "motorbike", "nan"),
        ([(9.1, 105.0), (9.2, math.inf)], "car", "points[1]"),
        ([(91.0, 105.0)], "car", "91"),
        ([(9.1, 105.0)], "hovercraft", "'hovercraft'"),
        ([(9.1, 105.0)], "", "''"),
        (["9.1,105.0"], "car", "points[0]"),
    ],
)
def test_bad_input_is_refused_with_the_value_named(points: Any, mode: str, needle: str) -> None:
    """An empty list, NaN/inf/out-of-range points and unknown modes raise ValueError naming them."""
    with pytest.raises(ValueError, match="(?i)" + needle.replace("[", r"\[").replace("]", r"\]")):
        GreatCircleTravel().matrix(points, mode)


def test_parse_mode() -> None:
    """Mode names are read case-insensitively; an unknown one is named in the error."""
    assert parse_mode(" Boat ") is TravelMode.BOAT
    assert parse_mode(TravelMode.CAR) is TravelMode.CAR
    with pytest.raises(ValueError, match=r"'bicycle'.*motorbike"):
        parse_mode("bicycle")
    with pytest.raises(ValueError, match="None"):
        parse_mode(None)


def test_mode_params_and_matrix_are_validated() -> None:
    """Impossible parameters and ill-shaped matrices are refused at construction."""
    with pytest.raises(ValueError, match="speed_kmh"):
        ModeParams(speed_kmh=0.0, circuity=1.2, overhead_s=0.0)
    with pytest.raises(ValueError, match="circuity"):
        ModeParams(speed_kmh=20.0, circuity=0.9, overhead_s=0.0)
    with pytest.raises(ValueError, match="square"):
        TravelMatrix(seconds=np.zeros((2, 3)), metres=np.zeros((2, 3)))
    with pytest.raises(ValueError, match="negative"):
        TravelMatrix(seconds=-np.ones((2, 2)), metres=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="metres holds a value that is not a finite number"):
        TravelMatrix(seconds=np.zeros((2, 2)), metres=np.array([[0.0, np.nan], [1.0, 0.0]]))
    with pytest.raises(ValueError, match="seconds holds a value that is not a finite number"):
        TravelMatrix(seconds=np.array([[0.0, np.inf], [1.0, 0.0]]), metres=np.zeros((2, 2)))
    model = GreatCircleTravel(params={TravelMode.BOAT: DEFAULT_MODE_PARAMS[TravelMode.BOAT]})
    with pytest.raises(ValueError, match="'car' has no parameters"):
        model.matrix([LatLon(9.0, 105.0)], "car")


def test_matrix_is_read_only() -> None:
    """A matrix handed to the solver cannot be changed behind its back."""
    m = GreatCircleTravel().matrix([LatLon(9.0, 105.0), LatLon(9.1, 105.0)], "car")
    with pytest.raises(ValueError, match="read-only"):
        m.seconds[0, 1] = 1.0


# ------------------------------------------------------------------------- user matrix

A, B, C = LatLon(9.1769, 105.1524), LatLon(9.0791, 104.9710), LatLon(8.7616, 104.9919)


def test_json_matrix_by_ids_in_the_request_travel_shape(tmp_path: Path) -> None:
    """A {ids, minutes, km} file is read, scaled to seconds and metres, and reordered by point."""
    path = tmp_path / "m.json"
    path.write_text(
        json.dumps(
            {
                "ids": ["a", "b", "c"],
                "minutes": [[0, 10, 20], [11, 0, 30], [21, 31, 0]],
                "km": [[0, 5, 9], [5, 0, 12.5], [9, 12.5, 0]],
            }
        )
    )
    model = MatrixTravel.from_file(path, locations={"a": A, "b": B, "c": C})
    m = model.matrix([C, A], "boat")
    assert m.seconds.tolist() == [[0.0, 21 * 60.0], [20 * 60.0, 0.0]]
    assert m.metres.tolist() == [[0.0, 9000.0], [9000.0, 0.0]]
    by_id = model.matrix_for_ids(["b", "c"])
    assert by_id.seconds[0, 1] == 30 * 60.0
    assert by_id.metres[1, 0] == 12_500.0


def test_json_matrix_by_points_names_a_missing_point(tmp_path: Path) -> None:
    """A point the file does not hold is named, with its coordinates, in the error."""
    path = tmp_path / "m.json"
    path.write_text(
        json.dumps(
            {
                "points": [[A.lat, A.lon], [B.lat, B.lon]],
                "seconds": [[0, 100], [120, 0]],
                "metres": [[0, 900], [950, 0]],
            }
        )
    )
    model = MatrixTravel.from_file(path)
    assert model.matrix([B, A], "car").seconds.tolist() == [[0.0, 120.0], [100.0, 0.0]]
    with pytest.raises(ValueError, match=r"m\.json has no row for points\[1\] at lat=8\.7616"):
        model.matrix([A, C], "car")
    with pytest.raises(ValueError, match="no row for point id 'zz'"):
        model.matrix_for_ids(["zz"])


def test_csv_matrix_by_ids_and_by_coordinates(tmp_path: Path) -> None:
    """Long-format CSV files keyed by ids or by coordinates give the same matrix."""
    by_ids = tmp_path / "ids.csv"
    by_ids.write_text("from,to,seconds,metres\na,b,100,900\nb,a,110,910\n")
    m = MatrixTravel.from_file(by_ids, locations={"a": A, "b": B}).matrix([A, B], "walking")
    assert m.seconds.tolist() == [[0.0, 100.0], [110.0, 0.0]]
    by_coords = tmp_path / "coords.csv"
    by_coords.write_text(
        "from_lat,from_lon,to_lat,to_lon,minutes,km\n"
        f"{A.lat},{A.lon},{B.lat},{B.lon},2,1.5\n{B.lat},{B.lon},{A.lat},{A.lon},3,1.6\n"
    )
    m2 = MatrixTravel.from_file(by_coords).matrix([B, A], "car")
    assert m2.seconds.tolist() == [[0.0, 180.0], [120.0, 0.0]]
    assert m2.metres.tolist() == [[0.0, 1600.0], [1500.0, 0.0]]


@pytest.mark.parametrize(
    ("name", "text", "needle"),
    [
        (
            "gap.csv",
            "from,to,seconds,metres\na,b,1,1\na,c,1,1\nb,a,1,1\n",
            "no row from 'b' to 'c'",
        ),
        ("neg.csv", "from,to,seconds,metres\na,b,-1,1\n", "line 2: seconds"),
        ("nokm.csv", "from,to,seconds\na,b,1\n", "line 2: missing 'metres'"),
        ("bad.json", "{not json", "not valid JSON"),
        (
            "shape.json",
            '{"ids": ["a", "b"], "seconds": [[0]], "metres": [[0, 1], [1, 0]]}',
            "seconds must be 2 × 2",
        ),
        ("keys.json", '{"seconds": [[0]]}', "'ids' or a 'points'"),
        ("m.txt", "", "expected a .json or .csv"),
    ],
)
def test_malformed_matrix_files_are_refused(
    tmp_path: Path, name: str, text: str, needle: str
) -> None:
    """Each kind of broken file gives an error naming the file and what is wrong."""
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ValueError, match=needle):
        MatrixTravel.from_file(path)


def test_missing_matrix_file_is_named(tmp_path: Path) -> None:
    """A file that does not exist is named in the error."""
    with pytest.raises(ValueError, match=r"cannot read travel matrix file .*nowhere\.json"):
        MatrixTravel.from_file(tmp_path / "nowhere.json")


# ------------------------------------------------------------------------- OSRM service


class _OsrmHandler(BaseHTTPRequestHandler):
    """Answers /table/v1 like OSRM, from the great-circle car model (the test's own table)."""

    server: _OsrmServer

    def do_GET(self) -> None:
        url = urlsplit(self.path)  # not urlparse: it would cut the ";" list
        self.server.requests.append(self.path)
        parts = url.path.split("/")
        if self.server.mode == "error":
            self._send(500, b"internal error")
            return
        if self.server.mode == "garbage":
            self._send(200, b"<html>not a table</html>")
            return
        if len(parts) != 5 or parts[1:3] != ["table", "v1"]:
            self._send(404, b'{"code": "InvalidUrl"}')
            return
        coords = [tuple(map(float, c.split(","))) for c in parts[4].split(";")]
        pts = [LatLon(lat=lat, lon=lon) for lon, lat in coords]
        assert len(pts) <= self.server.max_locations
        query = parse_qs(url.query)
        assert query["annotations"] == ["duration,distance"]
        src = [int(i) for i in query["sources"][0].split(";")] if "sources" in query else None
        dst = (
            [int(i) for i in query["destinations"][0].split(";")]
            if "destinations" in query
            else None
        )
        m = GreatCircleTravel().matrix(pts, "car")
        rows = src if src is not None else list(range(len(pts)))
        cols = dst if dst is not None else list(range(len(pts)))
        durations: list[list[Any]] = [[float(m.seconds[i, j]) for j in cols] for i in rows]
        distances = [[float(m.metres[i, j]) for j in cols] for i in rows]
        if self.server.mode == "null" and len(rows) > 1 and len(cols) > 1:
            durations[0][1] = None
        body = {"code": "Ok", "durations": durations, "distances": distances}
        if self.server.mode == "short":
            body["distances"] = distances[:-1]
        self._send(200, json.dumps(body).encode())

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""


class _OsrmServer(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _OsrmHandler)
        self.requests: list[str] = []
        self.mode = "ok"
        self.max_locations = 1000


@pytest.fixture
def osrm() -> Iterator[_OsrmServer]:
    """A real HTTP server on 127.0.0.1 answering OSRM table requests from a computed table."""
    server = _OsrmServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _url(server: _OsrmServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}"


PTS = [LatLon(9.0 + 0.05 * i, 105.0 + 0.03 * (i % 4)) for i in range(9)]


def test_osrm_table_is_read_in_one_request(osrm: _OsrmServer) -> None:
    """A small matrix is one GET; the figures are the server's table (lon,lat order on the wire)."""
    m = OsrmTravel(_url(osrm)).matrix(PTS, "motorbike")
    expected = GreatCircleTravel().matrix(PTS, "car")
    assert len(osrm.requests) == 1
    assert "/table/v1/driving/" in osrm.requests[0]
    assert f"{PTS[0].lon:.6f},{PTS[0].lat:.6f}" in osrm.requests[0]
    np.testing.assert_allclose(m.seconds, expected.seconds, rtol=1e-5, atol=0.05)
    np.testing.assert_allclose(m.metres, expected.metres, rtol=1e-5, atol=0.2)


def test_osrm_big_matrices_are_chunked(osrm: _OsrmServer) -> None:
    """With at most 4 locations a request, 9 points take 5 × 5 blocks of 2, all stitched right."""
    osrm.max_locations = 4
    m = OsrmTravel(_url(osrm), max_locations=4).matrix(PTS, "car")
    expected = GreatCircleTravel().matrix(PTS, "car")
    assert len(osrm.requests) == 25  # ceil(9 / 2) = 5 source blocks × 5 destination blocks
    # Blocks on the diagonal send their 2 points alone; the 20 others name sources/destinations.
    assert sum("sources=" in r and "destinations=" in r for r in osrm.requests) == 20
    np.testing.assert_allclose(m.seconds, expected.seconds, rtol=1e-5, atol=0.05)
    np.testing.assert_allclose(m.metres, expected.metres, rtol=1e-5, atol=0.2)


@pytest.mark.parametrize(
    ("mode", "needle"),
    [
        ("error", "HTTP 500"),
        ("garbage", "not JSON"),
        ("null", r"no usable duration from points\[0\] to points\[1\]"),
        ("short", "'distances' is missing or not a 9 × 9 table"),
    ],
)
def test_osrm_failures_are_clear(osrm: _OsrmServer, mode: str, needle: str) -> None:
    """HTTP errors and malformed or incomplete tables raise TravelServiceError saying which."""
    osrm.mode = mode
    with pytest.raises(TravelServiceError, match=needle):
        OsrmTravel(_url(osrm)).matrix(PTS, "car")


def test_osrm_unreachable_and_unsupported_mode(osrm: _OsrmServer) -> None:
    """A closed port is a TravelServiceError; a boat (no OSRM profile) is a ValueError."""
    url = _url(osrm)
    osrm.shutdown()
    osrm.server_close()
    with pytest.raises(TravelServiceError, match="could not be reached"):
        OsrmTravel(url, timeout_s=2).matrix(PTS, "car")
    with pytest.raises(ValueError, match="'boat' has no OSRM profile"):
        OsrmTravel(url).matrix(PTS, "boat")
    with pytest.raises(ValueError, match="base_url"):
        OsrmTravel("localhost:5000")
