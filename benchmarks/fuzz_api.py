"""Fuzz buuta's HTTP API with schemathesis, from its own OpenAPI schema, as every role.

Usage::

    python benchmarks/fuzz_api.py --cases 10000 [--seed 0] [--database sqlite|postgres]

A real ``buuta serve`` runs on loopback with a planned sample day in Cà Mau (solved through
``POST /v1/plans``). Users of every role are made with the real ``buuta user add`` command.
Schemathesis reads ``/openapi.json`` from the server and generates requests for every
operation, valid ones and invalid ones (wrong types, missing fields, strings where numbers
belong ...), sent as each role (admin, dispatcher, staff, a courier of the plan) and with no
token. Path parameters are sometimes the real ids of the day (its plan id, a courier, a
dossier code), so that generated requests also reach past the "not found" answers.

Each answer is checked with schemathesis's ``not_a_server_error`` (no 5xx), and
``response_schema_conformance`` and ``content_type_conformance`` (the body matches what the
schema documents for that status). It prints the cases run, answers by status, the 5xx count
and the schema violations, with the first few examples of each, and exits 1 unless both are 0.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from harness.postgres import fresh_database, run_postgres_server
from harness.server import RunningServer, add_user, create_tokens, sqlite_url
from routing.sample_day import camau_day

ROLES = ("admin", "dispatcher", "staff", "courier", "anonymous")

SERVER_ENV = {
    "PYTHONDONTWRITEBYTECODE": "",
    # Generated plan requests that are valid get solved: keep each solve short.
    "BUUTA_SOLVE_TIME_LIMIT_S": "0.5",
    "BUUTA_SOLVE_TIME_LIMIT_CAP_S": "1",
    "BUUTA_SOLVE_GRACE_S": "10",
}


@dataclass
class FuzzReport:
    """What a fuzzing run saw."""

    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    transport_errors: list[str] = field(default_factory=list)
    by_operation: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        """Whether there was no 5xx, no schema violation and no broken connection."""
        return not (self.server_errors or self.violations or self.transport_errors)

    def lines(self, examples: int = 5) -> list[str]:
        """The figures, one per line, with a few examples of each failure."""
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(self.statuses.items()))
        out = [
            f"cases {self.cases} over {len(self.by_operation)} operation/role pairs",
            f"answers by status: {statuses}",
            f"5xx answers: {len(self.server_errors)}",
            f"schema violations: {len(self.violations)}",
            f"transport errors: {len(self.transport_errors)}",
        ]
        for title, items in (
            ("5xx", self.server_errors),
            ("violation", self.violations),
            ("transport", self.transport_errors),
        ):
            out += [f"  {title}: {item}" for item in items[:examples]]
        return out


@dataclass
class Target:
    """The server under test, its users' tokens, and real ids of its day."""

    base_url: str
    tokens: dict[str, str]
    ids: dict[str, list[str]]


def prepare(server: RunningServer, *, jobs: int = 6, users_by_cli: bool = True) -> Target:
    """Create a user of each role with ``buuta user add`` and plan a small sample day.

    Parameters
    ----------
    server
        The running server.
    jobs
        Jobs of the sample day.
    users_by_cli
        Make the users with the ``buuta user add`` command (else with the same library call
        in this process, which is quicker).

    Returns
    -------
    Target
        Tokens by role, and real ``plan_id``, ``courier_id`` and ``code`` values.
    """
    today = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 7 * 3600))
    request = camau_day(jobs=jobs, seed=5, date=today)
    request["options"] = {"time_limit_s": 1}
    courier = str(request["couriers"][0]["id"])
    names = {"admin": "fuzz-admin", "dispatcher": "fuzz-dispatcher", "staff": "fuzz-staff"}
    names["courier"] = courier
    if users_by_cli:
        tokens = {role: add_user(server.database_url, name, role) for role, name in names.items()}
    else:
        made = create_tokens(server.database_url, {name: role for role, name in names.items()})
        tokens = {role: made[name] for role, name in names.items()}
    answer = httpx.post(
        f"{server.base_url}/v1/plans",
        json=request,
        headers={"Authorization": f"Bearer {tokens['dispatcher']}"},
        timeout=120,
    )
    if answer.status_code != 201:
        msg = f"planning the sample day failed: {answer.status_code} {answer.text[:500]}"
        raise RuntimeError(msg)
    plan = answer.json()
    ids = {
        "plan_id": [str(plan["plan_id"])],
        "courier_id": [str(c["id"]) for c in request["couriers"]],
        "code": [str(j["dossier"]) for j in request["jobs"]],
    }
    return Target(server.base_url, tokens, ids)


def fuzz(target: Target, *, cases: int, seed: int = 0) -> FuzzReport:
    """Run about ``cases`` generated requests against ``target`` (module docstring).

    Cases are shared evenly over every (operation, role) pair; within each pair half are
    generated as valid for the schema and half as invalid.
    """
    schema = schemathesis.openapi.from_url(f"{target.base_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    pairs = [(op, role) for op in operations for role in ROLES]
    report = FuzzReport()
    checks = [not_a_server_error, response_schema_conformance, content_type_conformance]
    session = requests.Session()
    rng = random.Random(seed)
    # Operations with few inputs (``/healthz``) run out of distinct cases early: go round again
    # with new seeds until the total is reached.
    for _round in range(10):
        missing = cases - report.cases
        if missing <= 0:
            break
        per_pair = max(2, -(-missing // len(pairs)))
        for op, role in pairs:
            _fuzz_pair(
                target,
                op,
                role,
                examples=per_pair,
                rng=rng,
                session=session,
                report=report,
                checks=checks,
            )
    return report


def _fuzz_pair(
    target: Target,
    op: Any,
    role: str,
    *,
    examples: int,
    rng: random.Random,
    session: requests.Session,
    report: FuzzReport,
    checks: list[Any],
) -> None:
    """Run up to ``examples`` generated cases of operation ``op`` as ``role``."""
    known = {p.name: target.ids[p.name] for p in op.path_parameters if p.name in target.ids}
    headers = {} if role == "anonymous" else {"Authorization": f"Bearer {target.tokens[role]}"}
    strategies = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        strategies.append(op.as_strategy(generation_mode=mode))
        if known:
            fixed = {name: rng.choice(values) for name, values in known.items()}
            strategies.append(op.as_strategy(generation_mode=mode, path_parameters=fixed))
    label = f"{op.label} as {role}"
    send = _sender(target, session, report, label=label, headers=headers, checks=checks)
    run = settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )(given(case=st.one_of(*strategies))(send))
    hypothesis_seed(rng.randrange(2**32))(run)()


def _sender(
    target: Target,
    session: requests.Session,
    report: FuzzReport,
    *,
    label: str,
    headers: dict[str, str],
    checks: list[Any],
) -> Any:
    """Return the function that sends one generated case and records what came back."""

    def send(case: Any) -> None:
        report.cases += 1
        report.by_operation[label] += 1
        try:
            response = case.call(
                base_url=target.base_url, session=session, headers=headers, timeout=60
            )
        except requests.RequestException as exc:
            report.transport_errors.append(f"{label}: {type(exc).__name__}: {exc}")
            return
        report.statuses[response.status_code] += 1
        where = f"{label}: {case.method} {case.formatted_path}"
        if response.status_code >= 500:
            report.server_errors.append(f"{where} -> {response.status_code} {response.text[:300]}")
            return
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except Exception as exc:
            text = " ".join(str(exc).split())[:400]
            report.violations.append(f"{where} -> {response.status_code}: {text}")

    return send


@contextlib.contextmanager
def running_server(backend: str) -> Iterator[RunningServer]:
    """Run a server on a new empty database (SQLite file or throw-away PostgreSQL)."""
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="buuta-fuzz-")))
        if backend == "sqlite":
            url = sqlite_url(tmp)
        else:
            url = fresh_database(stack.enter_context(run_postgres_server()), "fuzz_api")
        server = RunningServer(url, env=SERVER_ENV, log_path=tmp / "server.log")
        server.start()
        stack.callback(server.stop)
        yield server


def main(argv: list[str] | None = None) -> int:
    """Run the fuzzer and print its figures; exit 1 on any 5xx or schema violation."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args(argv)
    started = time.monotonic()
    with running_server(args.database) as server:
        target = prepare(server)
        report = fuzz(target, cases=args.cases, seed=args.seed)
        log = server.log_tail(100_000)
    for line in report.lines():
        print(line)
    tracebacks = log.count("Traceback (most recent call last)")
    print(f"tracebacks in the server log: {tracebacks}")
    print(f"took {time.monotonic() - started:.1f} s")
    return 0 if report.ok and tracebacks == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
