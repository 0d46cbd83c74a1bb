"""Two dispatchers plan two districts at the same moment: both plans are stored (PostgreSQL).

Both requests carry the province's sites, so both stores register the same sites at once; on
PostgreSQL one insert loses with a unique violation and must be retried, not answered 500.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.api_day import auth
from routing.sample_day import camau_day
from tests.support.server import create_tokens, serve


def _new_sites(request: dict[str, Any], suffix: str) -> dict[str, Any]:
    """The same day with every site id suffixed, so that its sites are new to the database."""
    keys = ("from_site", "to_site", "start_site", "end_site", "handoff_site",
            "destination_site", "origin_site")  # fmt: skip

    def rename(item: dict[str, Any]) -> dict[str, Any]:
        out = dict(item)
        for key in keys:
            if isinstance(out.get(key), str):
                out[key] = out[key] + suffix
        return out

    sites = [{**s, "id": s["id"] + suffix} for s in request["sites"]]
    return {
        **request,
        "sites": sites,
        "shuttles": [rename(s) for s in request["shuttles"]],
        "couriers": [rename(c) for c in request["couriers"]],
        "jobs": [rename(j) for j in request["jobs"]],
    }


def _district(request: dict[str, Any], office: str) -> dict[str, Any]:
    """The jobs and couriers of one district's post office, with every site of the province."""
    jobs = [j for j in request["jobs"] if office in (j.get("handoff_site"), j.get("origin_site"))]
    couriers = [c for c in request["couriers"] if c["start_site"] == office]
    return {**request, "jobs": jobs, "couriers": couriers}


@pytest.mark.postgres
def test_two_districts_planned_at_once_are_both_stored(
    postgres_server: Any, tmp_path: Path
) -> None:
    """Four rounds of two simultaneous plan requests (two solver processes), each round with
    sites new to the database: every answer is 201 and every plan is readable afterwards."""
    from tests.support.postgres import fresh_database

    url = fresh_database(postgres_server, "api_concurrent_plans")
    env = {"BUUTA_SOLVER_WORKERS": "2"}
    with serve(url, env=env, log_path=tmp_path / "server.log") as server:
        headers = auth(create_tokens(url, {"d1": "dispatcher"})["d1"])
        statuses: list[int] = []
        plan_ids: list[str] = []
        for seed in (3, 4, 5, 6):
            day = camau_day(jobs=20, seed=seed, date=f"2026-11-{20 + seed:02d}")
            day = _new_sites(day, f"-r{seed}")
            day["options"] = {"time_limit_s": 30, "solution_limit": 10}  # the same on any machine
            offices = sorted({c["start_site"] for c in day["couriers"]})[:2]
            answers: list[httpx.Response] = []

            def post(request: dict[str, Any], answers: list[httpx.Response] = answers) -> None:
                answers.append(
                    httpx.post(
                        f"{server.base_url}/v1/plans", json=request, headers=headers, timeout=120
                    )
                )

            threads = [threading.Thread(target=post, args=(_district(day, o),)) for o in offices]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            statuses += [a.status_code for a in answers]
            plan_ids += [a.json()["plan_id"] for a in answers if a.status_code == 201]
        assert statuses == [201] * 8, server.log_tail()
        for plan_id in plan_ids:
            got = httpx.get(f"{server.base_url}/v1/plans/{plan_id}", headers=headers)
            assert got.status_code == 200
