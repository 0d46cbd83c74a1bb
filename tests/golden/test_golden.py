"""The plan JSON of DESIGN §4 does not change by a byte: golden plans recorded from the sample day.

The golden files were written by ``tests/golden/record.py`` before the typed plan model existed.
The optimizer's plan writer is replayed on the core solutions the solver found then (the search
itself is not repeated, so the test does not depend on the machine's speed), and each golden
plan, re-plans included, must read back and write out to the very same bytes.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from api.schemas import PlanOut
from routing.dossiers import build_problem
from routing.model import Route, RouteStep, Solution
from routing.plan import plan_from_json
from routing.planner import _merge, plan_from_solution
from routing.replan import finish_replan, prepare_replan
from routing.request import parse_request
from tests.golden.record import dump

HERE = Path(__file__).parent
DAYS = ["day12-seed1", "day30-seed2"]


def _read(name: str) -> Any:
    return json.loads((HERE / f"{name}.json").read_text(encoding="utf-8"))


def _text(name: str) -> str:
    return (HERE / f"{name}.json").read_text(encoding="utf-8")


def solution_of(raw: dict[str, Any]) -> Solution:
    """A core solution from its recorded JSON (``dataclasses.asdict`` of it)."""
    routes = tuple(
        Route(
            vehicle=r["vehicle"],
            depart_s=r["depart_s"],
            steps=tuple(RouteStep(**s) for s in r["steps"]),
            breaks=tuple((b[0], b[1]) for b in r["breaks"]),
            end_s=r["end_s"],
        )
        for r in raw["routes"]
    )
    fields = {f.name for f in dataclasses.fields(Solution)} - {"routes", "dropped"}
    return Solution(routes=routes, dropped=tuple(raw["dropped"]), **{k: raw[k] for k in fields})


@pytest.mark.parametrize("day", DAYS)
def test_the_optimizer_writes_the_golden_plan_from_the_recorded_solution(day: str) -> None:
    """Replaying the recorded solver answer through the plan writer gives the golden bytes.

    Only ``plan_id`` is new on every plan (a random id); it is taken from the golden file.
    """
    golden = _read(f"{day}.plan")
    req = parse_request(_read(f"{day}.request"))
    (raw,) = _read(f"{day}.solutions")
    plan = plan_from_solution(build_problem(req, None), solution_of(raw))
    written = plan.to_json()
    written["plan_id"] = golden["plan_id"]
    assert dump(written) == _text(f"{day}.plan")


def test_a_day_planned_by_districts_merges_into_the_golden_plan() -> None:
    """The district plans of a 170-job day merge into the golden plan, KPIs written once."""
    golden = _read("day170-seed3.plan")
    req = parse_request(_read("day170-seed3.request"))
    parts = [plan_from_json(p) for p in _read("day170-seed3.parts")]
    written = _merge(req, parts, 2.0).to_json()
    written["plan_id"] = golden["plan_id"]
    assert dump(written) == _text("day170-seed3.plan")


PLANS = sorted(p.name.removesuffix(".json") for p in HERE.glob("*.plan.json"))


@pytest.mark.parametrize("name", PLANS)
def test_the_typed_plan_reads_and_writes_the_golden_plan_byte_for_byte(name: str) -> None:
    """Each golden plan (re-plans with done stops, changes and late stops included) reads into
    the typed model and writes back to the very same text."""
    text = _text(name)
    assert dump(plan_from_json(json.loads(text)).to_json()) == text


def test_the_district_plans_read_and_write_back_byte_for_byte() -> None:
    """The plans of single districts, before merging, also keep their bytes."""
    for part in _read("day170-seed3.parts"):
        assert dump(plan_from_json(part).to_json()) == dump(part)


REPLANS = ["day30-seed2.replan-midday", "day30-seed2.replan-late", "tiny.replan-late"]


@pytest.mark.parametrize("name", REPLANS)
def test_a_replan_writes_the_golden_plan_from_the_recorded_solution(name: str) -> None:
    """Re-planning, replayed on the recorded solver answer, writes the golden re-plan: done
    stops kept as they were, routes with only done stops, changes, late deliveries."""
    day = name.split(".", maxsplit=1)[0]
    golden = _read(f"{name}.plan")
    prep = prepare_replan(_read(f"{day}.request"), _read(f"{day}.plan"), **_read(f"{name}.args"))
    (raw,) = _read(f"{name}.solutions")
    written = finish_replan(prep, solution_of(raw)).to_json()
    written["plan_id"] = golden["plan_id"]
    assert dump(written) == _text(f"{name}.plan")


@pytest.mark.parametrize("name", PLANS)
def test_the_api_schema_describes_every_golden_plan(name: str) -> None:
    """``PlanOut`` (the OpenAPI description of a plan) accepts each golden plan, re-plans
    included, and gives back the same JSON: it types the plan without changing it."""
    golden = _read(name)
    out = PlanOut.model_validate(golden).model_dump(mode="json", by_alias=True, exclude_unset=True)
    assert out == golden
