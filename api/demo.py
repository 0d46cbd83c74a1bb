"""``buuta demo``: a day in Cà Mau, from the request list to where every dossier is.

1. Generate a sample day (``routing.sample_day.camau_day``) and plan it on the embedded
   defaults (great-circle travel, no network).
2. Store the plan in a fresh SQLite file in the demo directory, with users for the dispatcher,
   the centre staff and every courier.
3. Simulate the day up to ``until`` (local time): scans and positions are sent in half-hour
   windows, each sender's consecutive scans in one batch, as phones that sync now and then do;
   centre staff scan results ready, shuttle departures and receptions at the times of the fixed
   runs; results are handed over with one-time codes (one delivery in ten fails: the citizen is
   not at home, and the result goes back to the post office at the end of the round).
   Everything goes through ``tracking``'s ingestion, as over HTTP.
4. Write the maps (plan, progress, one dossier's journey) and print where the dossiers are.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date as date_cls
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

import routing
import tracking
from api.planning import ProgressLine, summary_lines
from routing.clock import parse_day_time
from routing.plan import Plan, Route, Stop
from routing.request import parse_request
from routing.sample_day import camau_day

SYNC_EVERY = timedelta(minutes=30)
"""How often a phone sends what it scanned (the simulation's batch period)."""
FAILED_EVERY = 10
"""One return delivery in this many fails (the citizen is not at home)."""
DISPATCHER, STAFF = "dispatcher", "centre-staff"


@dataclass(order=True)
class _Scan:
    at: datetime
    actor: str
    event: dict[str, Any] = field(compare=False)


@dataclass
class _Day:
    """What the simulation produces: scans by time, positions, codes to issue."""

    scans: list[_Scan] = field(default_factory=list)
    positions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    codes: list[tuple[datetime, str]] = field(default_factory=list)  # (issue at, dossier)

    def add(self, at: datetime, actor: str, **event: Any) -> None:
        n = len(self.scans)
        event_id = f"demo-{n:05d}-{event['type']}"
        self.scans.append(_Scan(at, actor, {"event_id": event_id, "at": at, **event}))


def _hhmm(date: str, value: str) -> datetime:
    moment = parse_day_time(date_cls.fromisoformat(date), value)
    if moment is None:
        msg = f"not a plan time: {value!r}"
        raise ValueError(msg)
    return moment


def _until(date: str, until: str) -> datetime:
    try:
        return _hhmm(date, until)
    except ValueError:
        msg = f"until: expected a local time as HH:MM, got {until!r}"
        raise ValueError(msg) from None


def _when(stop: Stop) -> datetime:
    """When a stop's service begins (its ``start``, else its arrival)."""
    moment = stop.begins
    assert moment is not None, "the optimizer times every stop of a route"
    return moment


@dataclass
class _Simulation:
    """A plan turned into the scans and positions of a day that goes as planned (mostly)."""

    request: Mapping[str, Any]
    date: str
    day: _Day = field(default_factory=_Day)
    returns_seen: int = 0

    def __post_init__(self) -> None:
        self.sites = {s["id"]: s for s in self.request["sites"]}
        self.jobs = {j["id"]: j for j in self.request["jobs"]}
        self.shuttles = {s["id"]: s for s in self.request.get("shuttles", [])}

    def place(self, stop: Stop) -> tuple[float, float]:
        """Where a stop is: its site, or its home."""
        if stop.site is not None:
            site = self.sites[stop.site]
            return float(site["lat"]), float(site["lon"])
        assert stop.point is not None, "a stop away from a site has its point"
        return stop.point.lat, stop.point.lon

    def route(self, route: Route) -> None:
        """The courier's trace along its route, and the scans of each stop."""
        courier = route.courier
        trace = self.day.positions.setdefault(courier, [])
        failed_here: list[str] = []
        previous: tuple[float, float, datetime] | None = None
        for stop in route.stops:
            if stop.kind == "break":
                continue
            place = self.place(stop)
            arrive = stop.arrive or _when(stop)
            depart = stop.depart or arrive
            if previous is not None:  # a point half-way along the leg
                mid = previous[2] + (arrive - previous[2]) / 2
                lat = (previous[0] + place[0]) / 2
                lon = (previous[1] + place[1]) / 2
                trace.append({"at": mid, "lat": lat, "lon": lon})
            trace.append({"at": arrive, "lat": place[0], "lon": place[1]})
            if depart > arrive:
                trace.append({"at": depart, "lat": place[0], "lon": place[1]})
            previous = (place[0], place[1], depart)
            self.scans(courier, stop, place, arrive, failed_here)

    def scans(
        self,
        courier: str,
        stop: Stop,
        place: tuple[float, float],
        arrive: datetime,
        failed_here: list[str],
    ) -> None:
        """The scans made at one stop."""
        day = self.day
        if stop.kind == "pickup":
            job = self.jobs[stop.job]
            photo = hashlib.sha256(f"photo:{job['dossier']}".encode()).hexdigest()
            day.add(
                _when(stop) + timedelta(minutes=3), courier, dossier=job["dossier"],
                type="collected", lat=place[0], lon=place[1], job=job["id"],
                proof={"photo_sha256": photo},
            )  # fmt: skip
        elif stop.kind == "handoff":
            for job_id in stop.jobs:
                job = self.jobs[job_id]
                day.add(arrive, courier, dossier=job["dossier"], type="at_hub",
                        site=stop.site, job=job_id)  # fmt: skip
                _onward(day, date=self.date, job=job, stop=stop, shuttles=self.shuttles,
                        arrive=arrive)  # fmt: skip
        elif stop.kind == "collect":
            for job_id in stop.jobs:
                job = self.jobs[job_id]
                _result_arrives(day, self.date, job, self.shuttles)
                day.codes.append((_when(stop) - timedelta(minutes=1), job["dossier"]))
                # scanned out once loaded, just after the result's arrival is scanned in
                day.add(_when(stop) + timedelta(minutes=1), courier,
                        dossier=job["dossier"], type="out_for_delivery", site=stop.site,
                        job=job_id)  # fmt: skip
        elif stop.kind == "delivery":
            self.delivery(courier, stop, place, failed_here)
        elif stop.kind == "end":
            for code in failed_here:  # brought back to the post office
                day.add(arrive, courier, dossier=code, type="at_hub", site=stop.site)

    def delivery(
        self, courier: str, stop: Stop, place: tuple[float, float], failed_here: list[str]
    ) -> None:
        """A delivery: one in :data:`FAILED_EVERY` fails (the citizen is not at home)."""
        job = self.jobs[stop.job]
        self.returns_seen += 1
        at = _when(stop) + timedelta(minutes=2)
        if self.returns_seen % FAILED_EVERY == 0:
            self.day.add(at, courier, dossier=job["dossier"], type="delivery_failed",
                         lat=place[0], lon=place[1], job=job["id"],
                         reason="citizen not at home")  # fmt: skip
            failed_here.append(job["dossier"])
        else:
            self.day.add(
                at,
                courier,
                dossier=job["dossier"],
                type="delivered",
                lat=place[0],
                lon=place[1],
                job=job["id"],
                proof={"code": None},
            )  # the code is filled in when issued


def _simulate(request: Mapping[str, Any], plan: Plan) -> _Day:
    """Turn a plan into the scans and positions of a day that goes as planned (mostly)."""
    sim = _Simulation(request, plan.date.isoformat())
    for route in plan.routes:
        sim.route(route)
    sim.day.scans.sort()
    return sim.day


def _onward(
    day: _Day,
    *,
    date: str,
    job: Mapping[str, Any],
    stop: Stop,
    shuttles: Mapping[str, Mapping[str, Any]],
    arrive: datetime,
) -> None:
    """Centre staff's scans of a collected dossier after its hand-off: the run and reception."""
    run = shuttles.get(stop.shuttle or "")
    if run is not None:
        day.add(_hhmm(date, run["departs"]), STAFF, dossier=job["dossier"], type="on_shuttle",
                site=run["from_site"])  # fmt: skip
        day.add(_hhmm(date, run["arrives"]) + timedelta(minutes=5), STAFF,
                dossier=job["dossier"], type="received", site=run["to_site"])  # fmt: skip
    elif stop.site == job.get("destination_site"):
        day.add(arrive + timedelta(minutes=5), STAFF, dossier=job["dossier"], type="received",
                site=stop.site)  # fmt: skip


def _result_arrives(
    day: _Day, date: str, job: Mapping[str, Any], shuttles: Mapping[str, Mapping[str, Any]]
) -> None:
    """Centre staff's scans of a result before the courier collects it: ready, run, at hub."""
    origin = job["origin_site"]
    ready = _hhmm(date, job.get("ready_at") or "07:00")
    run = next(
        (
            s
            for s in shuttles.values()
            if s["to_site"] == origin and _hhmm(date, s["arrives"]) == ready
        ),
        None,
    )
    if run is None:
        day.add(ready - timedelta(minutes=5), STAFF, dossier=job["dossier"],
                type="result_ready", site=origin)  # fmt: skip
        return
    departs = _hhmm(date, run["departs"])
    day.add(departs - timedelta(minutes=20), STAFF, dossier=job["dossier"], type="result_ready",
            site=run["from_site"])  # fmt: skip
    day.add(departs, STAFF, dossier=job["dossier"], type="on_shuttle", site=run["from_site"])
    day.add(ready, STAFF, dossier=job["dossier"], type="at_hub", site=origin)


def _fresh_sqlite(path: Path) -> str:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def _windows(start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
    t = start
    while t < end:
        yield t, min(t + SYNC_EVERY, end)
        t += SYNC_EVERY


@dataclass
class DemoResult:
    """What the demo produced (paths and figures), for its printout and tests."""

    database_url: str
    plan: Plan
    maps: dict[str, Path]
    scans: Counter[str]
    statuses: Counter[str]
    last_positions: dict[str, dict[str, Any]]
    tokens: dict[str, str]


def _replay(
    engine: Engine, day: _Day, users: Mapping[str, Any], start: datetime, until: datetime
) -> Counter[str]:
    """Send the simulated scans and positions in sync windows up to ``until``."""
    answers: Counter[str] = Counter()
    issued: dict[str, str] = {}
    pending = [s for s in day.scans if s.at <= until]
    for lo, hi in _windows(start, until):
        now = hi + timedelta(minutes=1)
        with Session(engine) as session:
            for at, code in day.codes:
                if at < hi and code not in issued:
                    issued[code] = tracking.issue_delivery_code(session=session, code=code, now=at)
            # Consecutive scans of one sender form one batch, and batches go in time order,
            # so each event arrives after the ones it follows (a hand-off's at_hub before the
            # staff's on_shuttle of the same dossier).
            batches: list[tuple[str, list[tracking.ScanInput]]] = []
            for scan in pending:
                if lo <= scan.at < hi or (scan.at == until and hi == until):
                    event = dict(scan.event)
                    proof = event.get("proof")
                    if event["type"] == "delivered" and isinstance(proof, dict):
                        event["proof"] = {"code": issued.get(event["dossier"], "")}
                    if not batches or batches[-1][0] != scan.actor:
                        batches.append((scan.actor, []))
                    batches[-1][1].append(tracking.ScanInput(**event))
            for actor, events in batches:
                results = tracking.ingest_scans(
                    session=session, events=events, actor=users[actor], now=now
                )
                answers.update(r.status for r in results)
            for courier, trace in day.positions.items():
                batch = [
                    tracking.PositionInput(at=p["at"], lat=p["lat"], lon=p["lon"])
                    for p in trace
                    if lo <= p["at"] < hi
                ]
                if batch:
                    tracking.record_positions(
                        session=session, courier_id=courier, positions=batch, now=now
                    )
    return answers


def _write_maps(
    out: Path,
    *,
    request: Mapping[str, Any],
    plan: Plan,
    day: _Day,
    until: datetime,
    journey: tuple[str, dict[str, Any]] | None,
) -> dict[str, Path]:
    """Write the plan, progress and journey maps as HTML files that open offline."""
    from api import maps  # noqa: PLC0415 (folium only when maps are drawn)

    written = {"plan": maps.save_map(maps.plan_map(plan, request), out / "plan.html")}
    positions = [
        {"courier": c, "at": p["at"].isoformat(), "lat": p["lat"], "lon": p["lon"]}
        for c, trace in day.positions.items()
        for p in trace
        if p["at"] <= until
    ]
    scans = [
        {**{k: v for k, v in s.event.items() if k != "proof"}, "at": s.at.isoformat()}
        for s in day.scans
        if s.at <= until
    ]
    progress = maps.progress_map(plan, request, positions=positions, scans=scans, now=until)
    written["progress"] = maps.save_map(progress, out / "progress.html")
    if journey is not None:
        code, view = journey
        fmap = maps.journey_map(
            code, view["history"], sites=request["sites"], status=view.get("status")
        )
        written["journey"] = maps.save_map(fmap, out / f"dossier-{code}.html")
    return written


def _plan_sample(
    request: Mapping[str, Any], *, jobs: int, time_limit_s: float, echo: Callable[[str], None]
) -> Plan:
    """Plan the sample day, showing the search's progress and the plan's summary."""
    date = str(request["date"])
    echo(f"A day in Cà Mau, {date}: {jobs} home pickups and returns, {len(request['couriers'])} "
         f"couriers, {len(request['shuttles'])} shuttle runs.")  # fmt: skip
    echo(f"Planning (great-circle travel, time limit {time_limit_s:g} s) ...")
    progress = ProgressLine()
    req = parse_request(request, time_limit_s=time_limit_s)
    plan = routing.plan_day(req, on_progress=progress)
    progress.done()
    for line in summary_lines(plan):
        echo("  " + line)
    return plan


def _store_day(
    engine: Engine, request: Mapping[str, Any], plan: Plan
) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """Create the day's users and store the plan: the public request, the users, their tokens."""
    with Session(engine) as session:
        tokens: dict[str, str] = {}
        names = {DISPATCHER: "dispatcher", STAFF: "staff"}
        names.update({str(c["id"]): "courier" for c in request["couriers"]})
        for name, role in names.items():
            _user, tokens[name] = tracking.create_user(session=session, name=name, role=role)
        stored = tracking.store_plan(
            session=session, request=request, plan=plan, created_by=DISPATCHER
        )
        public_request = dict(stored.request_json)  # without the citizens' personal data
        users = {u.name: u for u in session.exec(select(tracking.User))}
        for u in users.values():
            session.expunge(u)
    return public_request, users, tokens


@dataclass
class _Seen:
    """Where the dossiers and couriers are at the end of the simulation."""

    dossiers: int
    statuses: Counter[str]
    journey: tuple[str, dict[str, Any]] | None
    last: dict[str, dict[str, Any]]


def _where_they_are(engine: Engine, day: _Day, date: str, until_at: datetime) -> _Seen:
    with Session(engine) as session:
        dossiers = list(session.exec(select(tracking.Dossier)))
        statuses = Counter(d.status for d in dossiers)
        journey_code = next(
            (d.code for d in dossiers if d.status in ("received", "delivered")),
            dossiers[0].code if dossiers else None,
        )
        journey = None
        if journey_code is not None:
            view = tracking.dossier_view(session=session, code=journey_code, now=until_at)
            journey = (journey_code, view) if view is not None else None
        last: dict[str, dict[str, Any]] = {}
        for courier in sorted(day.positions):
            track = tracking.courier_track(session=session, courier_id=courier, date=date)
            if track["positions"]:
                last[courier] = track["positions"][-1]
    return _Seen(len(dossiers), statuses, journey, last)


def _report(
    echo: Callable[[str], None], until: str, seen: _Seen, maps_written: Mapping[str, Path]
) -> None:
    echo(f"Where the dossiers are at {until} ({seen.dossiers} dossiers):")
    for status, n in seen.statuses.most_common():
        echo(f"  {status:<17} {n}")
    echo("Couriers' last positions:")
    for courier, pos in seen.last.items():
        echo(f"  {courier:<8} {pos['lat']:.5f}, {pos['lon']:.5f} at {pos['at'][11:16]}")
    echo("Maps (open in a browser, no internet needed):")
    for name, path in maps_written.items():
        echo(f"  {name:<8} {path}")


def run_demo(
    *,
    jobs: int = 60,
    out: Path = Path("out/demo"),
    time_limit_s: float = 10.0,
    until: str = "15:00",
    seed: int = 0,
    echo: Callable[[str], None] = print,
) -> DemoResult:
    """Plan a sample Cà Mau day, simulate it up to ``until``, write maps, report the dossiers.

    Parameters
    ----------
    jobs
        Pickup and return jobs in the sample day.
    out
        Directory for the demo's SQLite file and maps (replaced at each run).
    time_limit_s
        Solver time limit in seconds.
    until
        Local time (``HH:MM``) the simulation runs to; scans after it have not happened yet.
    seed
        Seed of the sample day.
    echo
        Where to print progress and the report.

    Returns
    -------
    DemoResult
        The database URL, the plan, the map files and the figures printed.

    Raises
    ------
    ValueError
        If ``until`` is not a time or the sample day cannot be planned.
    """
    out.mkdir(parents=True, exist_ok=True)
    request = camau_day(jobs=jobs, seed=seed)
    date = str(request["date"])
    until_at = _until(date, until)
    plan = _plan_sample(request, jobs=jobs, time_limit_s=time_limit_s, echo=echo)
    url = _fresh_sqlite(out / "buuta-demo.sqlite")
    engine = tracking.make_engine(url)
    try:
        tracking.upgrade(engine)
        public_request, users, tokens = _store_day(engine, request, plan)
        echo(f"Simulating the couriers' and the centre's scans up to {until} ...")
        day = _simulate(request, plan)
        start = min([s.at for s in day.scans] + [until_at]) - timedelta(minutes=1)
        answers = _replay(engine, day, users, start, until_at)
        echo(f"  {sum(answers.values())} scans sent: " + ", ".join(
            f"{n} {status}" for status, n in sorted(answers.items())))  # fmt: skip
        seen = _where_they_are(engine, day, date, until_at)
    finally:
        engine.dispose()
    maps_written = _write_maps(
        out, request=public_request, plan=plan, day=day, until=until_at, journey=seen.journey
    )
    _report(echo, until, seen, maps_written)
    echo(f"Serve this day: BUUTA_DATABASE_URL={url} buuta serve")
    echo(f"  dispatcher token: {tokens[DISPATCHER]}")
    return DemoResult(url, plan, maps_written, answers, seen.statuses, seen.last, tokens)
