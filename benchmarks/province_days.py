"""Province days side by side: this code against a baseline git ref, at several time limits.

Usage::

    .venv/bin/python benchmarks/province_days.py [--jobs 300,2000] [--time-limits 10,30,300]
        [--baseline c8c4728] [--runs 1] [--seed 0] [--fleet 2000=60] [--workers N]

For each generated Cà Mau day (:func:`routing.sample_day.camau_day`) and each time limit, the
same request is solved by the code of this checkout and by the code of ``--baseline`` (default
``c8c4728``, the main branch before issue 14), extracted with ``git archive REF | tar -x``
into a temporary folder. Both solves run the same way: a child process of the same Python, with
``PYTHONPATH`` set to the code it runs, so both share one process tree on the same machine.
The load average is printed before each solve; with ``--runs N`` each figure is the median of
N solves.

Printed per day, time limit and code: jobs served, dossiers reaching their destination today,
km, idle minutes, checker violations and the seconds the solve took. *Reaching today* is read
from the plan's hand-off stops: ``journeys[job].reaches`` not null when the plan has journeys,
else a ``shuttle`` caught; a dossier handed over at its destination (no run needed) has
reached it. *Idle* is ``kpis.idle_min`` when the plan reports it, and ``wait_min``, the minutes
between arriving at a stop and starting its service (``start`` − ``arrive``), is read the same
way from both plans so the two codes can be compared.

The issue's target: at 30 s, at least as many served and reaching today as the baseline at
300 s (moonshot: at 10 s). Run it long on a quiet machine; here, short runs only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from routing.checker import check_plan
from routing.sample_day import camau_day

ROOT = Path(__file__).resolve().parent.parent

# The child: plan the request file with the `routing` on PYTHONPATH, write the plan and the
# seconds it took. It uses only `routing.plan_request`, which every version of buuta has.
CHILD = """
import json, sys, time
import routing
request = json.load(open(sys.argv[1], encoding="utf-8"))
began = time.monotonic()
plan = routing.plan_request(request, time_limit_s=float(sys.argv[2]))
seconds = time.monotonic() - began
json.dump({"plan": plan, "seconds": seconds}, open(sys.argv[3], "w", encoding="utf-8"))
"""


def extract(ref: str, into: Path) -> Path:
    """Extract the tree of git ``ref`` of this repository into ``into``; return it."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", ref],
        check=True,
        capture_output=True,
    ).stdout
    into.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile() as tmp:
        tmp.write(archive)
        tmp.seek(0)
        with tarfile.open(fileobj=tmp) as tar:
            tar.extractall(into, filter="data")
    return into


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def reaching_today(request: Mapping[str, Any], plan: Mapping[str, Any]) -> int:
    """Dossiers handed over today that reach their destination today (see the module doc)."""
    jobs = {j["id"]: j for j in request["jobs"]}
    count = 0
    for route in plan["routes"]:
        for stop in route["stops"]:
            if stop["type"] != "handoff":
                continue
            journeys = stop.get("journeys")
            for job_id in stop["jobs"]:
                job = jobs[job_id]
                if job.get("destination_site") in (None, stop.get("site")):
                    count += 1  # handed over where it was going
                elif journeys is not None:
                    count += (journeys.get(job_id) or {}).get("reaches") is not None
                else:
                    count += stop.get("shuttle") is not None
    return count


def wait_min(plan: Mapping[str, Any]) -> float:
    """Minutes between arriving at a stop and starting its service, over every route."""
    total = 0.0
    for route in plan["routes"]:
        for stop in route["stops"]:
            arrive, start = _time(stop.get("arrive")), _time(stop.get("start"))
            if stop["type"] != "break" and arrive is not None and start is not None:
                total += max(0.0, (start - arrive).total_seconds() / 60.0)
    return round(total, 1)


def solve(code: Path, request_file: Path, limit: float) -> dict[str, Any]:
    """Plan the request in a child process running the code in ``code``."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "plan.json"
        env = {**os.environ, "PYTHONPATH": str(code)}
        cmd = [sys.executable, "-c", CHILD, str(request_file), str(limit), str(out)]
        done = subprocess.run(cmd, env=env, cwd=code, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            return {"error": done.stderr[-800:]}
        answer: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        return answer


def figures(request: Mapping[str, Any], answer: Mapping[str, Any]) -> dict[str, Any]:
    """The compared figures of one solve."""
    plan = answer["plan"]
    kpis = plan["kpis"]
    return {
        "served": kpis["served"],
        "reaching_today": reaching_today(request, plan),
        "km": round(kpis["distance_km"], 1),
        "idle_min": kpis.get("idle_min"),
        "wait_min": wait_min(plan),
        "violations": len(check_plan(request, plan)),
        "seconds": round(answer["seconds"], 1),
    }


def median_of(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Each figure's median over the runs (``None`` when a run lacks it)."""
    out: dict[str, Any] = {}
    for key in runs[0]:
        values = [r[key] for r in runs]
        out[key] = None if any(v is None for v in values) else statistics.median(values)
    return out


def _to_department(job: Mapping[str, Any]) -> bool:
    return str(job.get("destination_site") or "").startswith("dept")


def _fleet(text: str) -> dict[int, int]:
    pairs = (part.split("=") for part in text.split(",") if part.strip())
    return {int(jobs): int(couriers) for jobs, couriers in pairs}


def _row(label: str, limit: float, runs: list[dict[str, Any]]) -> str:
    good = [r for r in runs if "error" not in r]
    if not good:
        return f"{label:<10} {limit:>6g} s  error: {runs[0]['error'][-300:]!r}"
    m = median_of(good)
    idle = "-" if m["idle_min"] is None else f"{m['idle_min']:.0f}"
    return (
        f"{label:<10} {limit:>6g} s  served {m['served']:>5g}  reaching today "
        f"{m['reaching_today']:>5g}  km {m['km']:>8.1f}  idle_min {idle:>6}  wait_min "
        f"{m['wait_min']:>7.0f}  violations {m['violations']:g}  took {m['seconds']:.1f} s"
    )


def main(argv: list[str] | None = None) -> int:
    """Solve each day at each limit with both codes; print one line per code."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", default="300,2000")
    ap.add_argument("--time-limits", default="10,30,300")
    ap.add_argument("--baseline", default="c8c4728", help="git ref of the code to compare with")
    ap.add_argument("--runs", type=int, default=1, help="solves per figure (median)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fleet", default="2000=60", help="couriers of a day size: 2000=60,...")
    ap.add_argument("--workers", type=int, default=None, help="options.workers (this code)")
    ap.add_argument(
        "--departments",
        type=float,
        default=0.0,
        help="share of pickups bound for a provincial department (two runs: trunk, inter-agency)",
    )
    args = ap.parse_args(argv)
    fleet = _fleet(args.fleet)
    limits = [float(x) for x in args.time_limits.split(",") if x.strip()]
    with tempfile.TemporaryDirectory(prefix="buuta-baseline-") as tmp:
        baseline = extract(args.baseline, Path(tmp) / "baseline")
        codes = [("current", ROOT), (args.baseline, baseline)]
        for n in [int(x) for x in args.jobs.split(",") if x.strip()]:
            request = camau_day(
                jobs=n, seed=args.seed, couriers=fleet.get(n), department_share=args.departments
            )
            if args.workers is not None:
                request["options"] = {"workers": args.workers}
            request_file = Path(tmp) / f"day-{n}.json"
            request_file.write_text(json.dumps(request, ensure_ascii=False), encoding="utf-8")
            bound = sum(1 for j in request["jobs"] if _to_department(j))
            print(
                f"# {n} jobs, {len(request['couriers'])} couriers, seed {args.seed}, "
                f"{bound} bound for a department",
                flush=True,
            )
            for limit in limits:
                for label, code in codes:
                    runs = []
                    for _ in range(args.runs):
                        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
                        print(f"#   load average {load} before {label} at {limit:g} s", flush=True)
                        answer = solve(code, request_file, limit)
                        runs.append(answer if "error" in answer else figures(request, answer))
                        time.sleep(0.1)
                    print(_row(label, limit, runs), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
