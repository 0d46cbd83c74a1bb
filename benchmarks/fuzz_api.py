"""Fuzz buuta's HTTP API with schemathesis, from its own OpenAPI schema, as every role.

Usage::

    python benchmarks/fuzz_api.py --cases 10000 [--seed 0] [--database sqlite|postgres]
        [--abuse-share 0.2]

A real ``buuta serve`` runs on loopback with a planned sample day in Cà Mau (solved through
``POST /v1/plans``). Users of every role are made with the real ``buuta user add`` command.
Schemathesis reads ``/openapi.json`` from the server and generates requests for every
operation, valid ones and invalid ones (wrong types, missing fields, strings where numbers
belong ...), sent as each role (admin, dispatcher, staff, a courier of the plan) and with no
token. Path parameters are sometimes the real ids of the day (its plan id, a courier, a
dossier code), so that generated requests also reach past the "not found" answers.

Besides the schema's own strategies, a share of the cases (``--abuse-share``, 20 % by default)
come from strategies aimed at what issue 15 found: **calendar edges** (years 1 and 9999 with
offsets of ±14 h, in scans, positions, a re-plan's ``now``, plan dates and job windows; the
schema's ``date-time`` format also draws them), **huge arrays** (up to 700,000 items, under
and over the byte limit, for scans and positions) and **forwarded or forged headers**
(``X-Forwarded-For``, ``Forwarded``, ``Origin``, ``Referer``, ``Sec-Fetch-Site``, with and
without the session cookie) on the public lookup and on state-changing routes.

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


EDGE_TIMES = (
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-12:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59+00:00",
    "1969-12-31T23:59:59Z",
    "2199-12-31T23:59:59+14:00",
)
EDGE_DATES = ("0001-01-01", "9999-12-31", "1970-01-01", "2200-01-01", "2026-02-29")


def edge_times() -> st.SearchStrategy[str]:
    """ISO times at and near the ends of the calendar, with offsets up to ±14 h."""
    offsets = st.integers(-14 * 60, 14 * 60).map(
        lambda m: f"{'+' if m >= 0 else '-'}{abs(m) // 60:02d}:{abs(m) % 60:02d}"
    )
    years = st.sampled_from([1, 2, 1969, 1970, 2026, 2199, 2200, 9998, 9999])
    built = st.builds(
        lambda y, mo, d, h, off: f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:59:59{off}",
        years, st.integers(1, 12), st.integers(1, 28), st.integers(0, 23), offsets,
    )  # fmt: skip
    return st.one_of(st.sampled_from(EDGE_TIMES), built)


def _huge_array(item: bytes) -> st.SearchStrategy[bytes]:
    counts = st.one_of(st.integers(0, 1_000), st.integers(499, 502), st.integers(1, 700_000))
    return counts.map(lambda n: b"[" + b",".join([item] * n) + b"]")


def _forged_headers(target: Target) -> st.SearchStrategy[dict[str, str]]:
    hosts = st.one_of(
        st.ip_addresses().map(str),
        st.text(alphabet="0123456789abcdef.:,; []", max_size=60),
        st.lists(st.ip_addresses().map(str), min_size=1, max_size=5).map(", ".join),
    ).map(str.strip)  # a header value may not start or end with spaces (HTTP/1.1)
    origins = st.sampled_from(
        ["null", "http://evil.example", target.base_url, "http://127.0.0.1:1", "", "ftp://x"]
    )
    sites = st.sampled_from(["same-origin", "same-site", "cross-site", "none", "bogus"])
    cookie = st.sampled_from(["", f"buuta_token={target.tokens['staff']}", "buuta_token=x"])
    return st.fixed_dictionaries(
        {},
        optional={
            "X-Forwarded-For": hosts,
            "Forwarded": hosts.map(lambda h: f"for={h}"),
            "X-Real-IP": hosts,
            "Origin": origins,
            "Referer": origins.map(lambda o: f"{o}/page"),
            "Sec-Fetch-Site": sites,
            "Cookie": cookie,
        },
    )


def abuse_requests(target: Target) -> st.SearchStrategy[dict[str, Any]]:
    """Requests aimed at issue 15: calendar edges, huge arrays, forged headers (docstring)."""
    plan_id = target.ids["plan_id"][0]
    courier = target.ids["courier_id"][0]
    code = st.sampled_from([*target.ids["code"], "H00-0000"])
    role = st.sampled_from(["admin", "staff", "courier", "dispatcher"])
    scan = st.fixed_dictionaries(
        {"event_id": st.uuids().map(str), "dossier": code,
         "type": st.sampled_from(["at_hub", "delivered", "collected"]), "at": edge_times()},
        optional={"site": st.sampled_from(["po-tvt", "centre"]),
                  "proof": st.fixed_dictionaries({"id_last4": st.text("0123456789", max_size=5)})},
    )  # fmt: skip
    position = st.fixed_dictionaries(
        {"at": edge_times(), "lat": st.just(9.1), "lon": st.just(105.1)}
    )
    window = st.lists(edge_times(), min_size=2, max_size=2)
    job = st.fixed_dictionaries(
        {"id": st.just("J1"), "kind": st.just("pickup"), "dossier": st.just("H0-1"),
         "lat": st.just(9.12), "lon": st.just(105.12), "handoff_site": st.just("s"),
         "window": window},
    )  # fmt: skip
    plan = st.fixed_dictionaries(
        {"date": st.one_of(st.sampled_from(EDGE_DATES), st.dates().map(str)),
         "sites": st.just([{"id": "s", "lat": 9.1, "lon": 105.1}]),
         "couriers": st.just([{"id": "c", "start_site": "s", "shift": ["07:00", "17:00"]}]),
         "jobs": st.lists(job, max_size=1),
         "options": st.just({"time_limit_s": 0.2})},
    )  # fmt: skip
    positions = f"/v1/couriers/{courier}/positions"
    replan = f"/v1/plans/{plan_id}/replan"
    digits = st.text("0123456789", min_size=4, max_size=4)
    one_position = b'{"at":"2026-11-23T08:00:00+07:00","lat":9.1,"lon":105.1}'

    def req(method: str, path: str, kwargs: dict[str, Any], who: str) -> tuple[Any, ...]:
        return (method, path, kwargs, who)

    kinds = [
        st.builds(lambda b, r: req("POST", "/v1/scans", {"json": b}, r),
                  st.lists(scan, max_size=3), role),
        st.builds(lambda b: req("POST", positions, {"json": b}, "courier"),
                  st.lists(position, max_size=3)),
        st.builds(lambda t: req("POST", replan, {"json": {"now": t, "time_limit_s": 0.2}},
                                "dispatcher"), edge_times()),
        st.builds(lambda b: req("POST", "/v1/plans", {"json": b}, "dispatcher"), plan),
        st.builds(lambda b, r: req("POST", "/v1/scans", {"content": b}, r),
                  _huge_array(b"{}"), role),
        st.builds(lambda b: req("POST", positions, {"content": b}, "courier"),
                  _huge_array(one_position)),
        st.builds(lambda c, d: req("GET", f"/v1/track/{c}", {"params": {"phone_last4": d}},
                                   "anonymous"), code, digits),
        st.builds(lambda c: req("POST", f"/v1/dossiers/{c}/delivery-code", {}, "anonymous"),
                  code),
        st.just(req("POST", "/login", {"content": b"token=x"}, "anonymous")),
    ]  # fmt: skip
    return st.builds(
        lambda k, h: {"method": k[0], "path": k[1], "kwargs": k[2], "role": k[3], "headers": h},
        st.one_of(*kinds), _forged_headers(target),
    )  # fmt: skip


def fuzz_abuse(target: Target, *, cases: int, seed: int, report: FuzzReport) -> None:
    """Send ``cases`` requests from :func:`abuse_requests`; any 5xx is recorded."""
    client = httpx.Client(base_url=target.base_url, timeout=120)

    def send(request: dict[str, Any]) -> None:
        headers = dict(request["headers"])
        if request["role"] != "anonymous" and "Cookie" not in headers:
            headers["Authorization"] = f"Bearer {target.tokens[request['role']]}"
        label = f"abuse {request['method']} {'/'.join(request['path'].split('/')[:3])}"
        report.cases += 1
        report.by_operation[label] += 1
        try:
            answer = client.request(
                request["method"], request["path"], headers=headers, **request["kwargs"]
            )
        except httpx.HTTPError as exc:
            report.transport_errors.append(f"{label}: {type(exc).__name__}: {exc}")
            return
        report.statuses[answer.status_code] += 1
        if answer.status_code >= 500:
            report.server_errors.append(f"{label} -> {answer.status_code} {answer.text[:300]}")

    run = settings(
        max_examples=cases,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )(given(request=abuse_requests(target))(send))
    hypothesis_seed(seed)(run)()
    client.close()


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


def _iso(moment: Any) -> str:
    offset = random.Random(moment.toordinal()).randint(-14, 14)
    return f"{moment.isoformat()}{'+' if offset >= 0 else '-'}{abs(offset):02d}:00"


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
    parser.add_argument(
        "--abuse-share", type=float, default=0.2, help="share of cases from abuse_requests()"
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    schemathesis.openapi.format("date-time", st.one_of(st.datetimes().map(_iso), edge_times()))
    abuse = round(args.cases * args.abuse_share)
    with running_server(args.database) as server:
        target = prepare(server)
        report = fuzz(target, cases=args.cases - abuse, seed=args.seed)
        fuzz_abuse(target, cases=abuse, seed=args.seed, report=report)
        log = server.log_tail(100_000)
    for line in report.lines():
        print(line)
    tracebacks = log.count("Traceback (most recent call last)")
    print(f"tracebacks in the server log: {tracebacks}")
    print(f"took {time.monotonic() - started:.1f} s")
    return 0 if report.ok and tracebacks == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
