"""The checker's command line, and legs checked against the default great-circle travel model."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from geo.coords import LatLon
from geo.travel import GreatCircleTravel
from routing.checker import VIETNAM_TZ, check_plan
from tests.checker.tiny import plan, request, stop


def _run_cli(tmp_path: Path, req: Any, pl: Any) -> subprocess.CompletedProcess[str]:
    (tmp_path / "request.json").write_text(json.dumps(req), encoding="utf-8")
    (tmp_path / "plan.json").write_text(json.dumps(pl), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "routing.checker", "request.json", "plan.json"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_passes_a_valid_plan_with_exit_0(tmp_path: Path) -> None:
    """``python -m routing.checker`` prints 0 violations and exits 0 on the valid tiny plan."""
    done = _run_cli(tmp_path, request(), plan())
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("0 violation(s)")


def test_cli_lists_violations_and_exits_1(tmp_path: Path) -> None:
    """On a plan with a late hand-off the CLI prints the cutoff violation and exits 1."""
    req = request()
    req["shuttles"][0]["departs"] = "08:35"  # cut-off 08:25 < hand-off at 08:30
    done = _run_cli(tmp_path, req, plan())
    assert done.returncode == 1
    assert done.stdout.splitlines()[0].startswith("cutoff: Courier c1's handoff at po (stop 2)")


def test_cli_unreadable_files_exit_2_without_traceback(tmp_path: Path) -> None:
    """Broken JSON, or a request with a bad field, exits 2 with a one-line reason."""
    (tmp_path / "request.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "plan.json").write_text("{}", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "routing.checker", "request.json", "plan.json"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "cannot read request.json" in done.stderr
    assert "Traceback" not in done.stderr
    req = request()
    req["jobs"][0]["window"] = ["09:00", "08:00"]
    done = _run_cli(tmp_path, req, plan())
    assert done.returncode == 2
    assert "request.jobs[0].window" in done.stderr
    assert "Traceback" not in done.stderr


def _great_circle_plan(shave_s: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """The tiny day without a travel matrix, its legs timed by the default motorbike model.

    Each arrival is the previous departure plus the model's travel time rounded up to the
    second; ``shave_s`` seconds are taken off the first leg's arrival (and the rest of the day
    shifted with it) to make it too short.
    """
    req, pl = request(), plan()
    del req["travel"]
    req["jobs"][0]["window"] = ["07:00", "09:00"]
    req["jobs"][1]["window"] = ["07:00", "15:00"]
    req["jobs"][1]["ready_at"] = "07:00"
    stops = pl["routes"][0]["stops"]
    del stops[4]  # no lunch needed: the day is over before 11:00 (see below)
    sites = {"po": LatLon(9.0, 105.0)}
    places = [
        sites["po"],
        LatLon(9.01, 105.01),
        sites["po"],
        sites["po"],
        LatLon(9.02, 105.02),
        sites["po"],
    ]
    model = GreatCircleTravel()
    unique = [sites["po"], LatLon(9.01, 105.01), LatLon(9.02, 105.02)]
    matrix = model.matrix(unique, "motorbike")
    slot = {p: i for i, p in enumerate(unique)}
    service = [0, 600, 120, 120, 300, 0]
    clock = datetime(2026, 11, 23, 7, 40, tzinfo=VIETNAM_TZ)
    km = 0.0
    for index, current in enumerate(stops):
        if index > 0:
            i, j = slot[places[index - 1]], slot[places[index]]
            leg_s = float(matrix.seconds[i, j])
            km += float(matrix.metres[i, j]) / 1000
            clock += timedelta(seconds=-(-leg_s // 1))
            if index == 1:
                clock -= timedelta(seconds=shave_s)
        text = clock.isoformat()
        for key in ("arrive", "start", "depart"):
            if key in current:
                current[key] = text
        if "depart" in current:
            current["depart"] = (clock + timedelta(seconds=service[index])).isoformat()
            clock += timedelta(seconds=service[index])
    pl["routes"][0]["distance_km"] = round(km, 3)
    began = datetime(2026, 11, 23, 7, 40, tzinfo=VIETNAM_TZ)
    pl["routes"][0]["duration_min"] = round((clock - began).total_seconds() / 60, 1)
    pl["kpis"]["distance_km"] = round(km, 3)
    return req, pl


def test_great_circle_legs_pass_when_the_plan_allows_the_travel_time() -> None:
    """With no matrix, a plan timed by GreatCircleTravel for the courier's mode passes."""
    req, pl = _great_circle_plan(shave_s=0)
    assert stop(pl, 5)["arrive"] < "2026-11-23T11:00:00+07:00"  # lunch can follow the day
    assert check_plan(req, pl) == []


def test_great_circle_leg_two_seconds_short_is_a_travel_violation() -> None:
    """A first leg 2 s shorter than the model's travel time (tolerance 1 s) is flagged."""
    req, pl = _great_circle_plan(shave_s=2)
    found = check_plan(req, pl)
    assert [v.code for v in found] == ["travel"]
    assert "stop 0" in found[0].detail and "stop 1" in found[0].detail


def test_slower_travel_model_argument_is_used() -> None:
    """A travel model passed in replaces the default: boat legs make the motorbike plan late.

    Boats are slower (12 vs 28 km/h) and their circuity higher (1.6 vs 1.5), so both the leg
    times and the route's kilometres disagree with the plan timed for a motorbike.
    """

    class Slow:
        def matrix(self, points: Any, mode: str) -> Any:
            return GreatCircleTravel().matrix(points, "boat")

    req, pl = _great_circle_plan(shave_s=0)
    found = check_plan(req, pl, travel=Slow())
    assert {v.code for v in found} == {"travel", "distance"}


def test_cli_prints_a_later_journey_as_a_warning_and_exits_0(tmp_path: Path) -> None:
    """A hand-off at 08:30 naming run-1400 (arrives 14:40) when run-1000 (10:40) could be
    caught breaks no promise: the CLI prints a ``warning: later_journey`` line and exits 0."""
    pl = plan()
    stop(pl, 2)["shuttle"] = "run-1400"
    done = _run_cli(tmp_path, request(), pl)
    assert done.returncode == 0, done.stdout
    (warning,) = [line for line in done.stdout.splitlines() if line.startswith("warning:")]
    assert warning.startswith("warning: later_journey: Courier c1's handoff at stop 2")
    assert "10:40:00" in warning
