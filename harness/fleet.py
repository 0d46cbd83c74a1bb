"""A simulated fleet of couriers and counters whose phones were offline, and the truth to check.

Used by the resilience tests and by ``benchmarks/sync.py`` / ``benchmarks/crash.py``.

The day
    :func:`make_fleet` lays out ``couriers`` couriers spread over a few post offices, each with
    ``dossiers_per_courier`` dossiers (about two pickups to one return). Each dossier follows a
    *script*: the scans its journey produces, by the courier on its route or by centre staff,
    each at least 15 minutes after the one before (more than the two phones' clock errors
    together, so device-time order is the true order). Some journeys stop part-way (the day is
    not over for them); about 1 % of dossiers also get a *mistake*: a second ``collected`` or
    ``out_for_delivery`` scan later in the day that the life cycle must keep but not apply.
    Returns end in ``delivered`` (proof: the last 4 digits of the citizen ID), in a failed
    attempt and a second try, or back at the agency (``returned``).

The records
    :func:`register_fleet` stores the day as district plans (ten couriers each) through
    :func:`tracking.plans.store_plan` (the same function ``POST /v1/plans`` ends in; the routes
    are laid out by hand here, since this checks the records, not the optimizer) and creates a
    user per courier and counter.

The phones
    :func:`make_outboxes` gives each courier's phone (and each counter) its events in shuffled
    order, each phone clock off by up to ±5 minutes, with a share of the events sent twice (a
    phone that did not see the answer). :func:`send_all` drains the outboxes over HTTP in
    batches, several phones at once, keeping every event that was not acknowledged for the next
    try, as a phone does when the server is down.

The truth
    :func:`verify` reads the database and compares each dossier's status and stored events with
    the scripts: events lost, rows duplicated, wrong statuses, unexpected events.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

VN = timezone(timedelta(hours=7))
"""Vietnam's offset (UTC+07:00 all year)."""

ACKED = frozenset({"stored", "duplicate", "flagged"})
"""Answers after which a phone may forget an event: the server has it durably."""

STEP_MIN = 15
"""Minutes at least between two scans of one dossier (more than twice the clock error)."""

CLOCK_ERROR_S = 300
"""Largest error of a phone's clock, in seconds (±5 minutes)."""


@dataclass(frozen=True)
class Scan:
    """One scan as the simulation made it.

    Attributes
    ----------
    event_id
        Made on the phone.
    sender
        The user name that sends it (a courier id, or a counter such as ``staff-0``).
    body
        The JSON event of ``POST /v1/scans`` (device time already includes the clock error).
    applies
        Whether the life cycle must apply it (``False`` for the simulated mistakes).
    """

    event_id: str
    sender: str
    body: dict[str, Any]
    applies: bool = True


@dataclass
class Journey:
    """One dossier: its code, direction, courier, and the scans the simulation made for it."""

    code: str
    direction: str
    courier: str
    job: str
    office: str
    id_number: str
    expected_status: str
    scans: list[Scan] = field(default_factory=list)


@dataclass
class Fleet:
    """A simulated day: the whole day's request, the district plans to store, the journeys.

    Attributes
    ----------
    request
        The whole day as one plan request (every courier and job).
    plans
        ``(request, plan)`` per district: the couriers of a few post offices each, as a
        dispatcher plans them.
    """

    date: str
    request: dict[str, Any]
    plans: list[tuple[dict[str, Any], dict[str, Any]]]
    couriers: list[str]
    counters: list[str]
    journeys: dict[str, Journey]

    def scans(self) -> list[Scan]:
        """Every scan of the day, in no particular order."""
        return [s for j in self.journeys.values() for s in j.scans]

    def users(self) -> dict[str, str]:
        """``{user name: role}`` of everyone who scans, plus a dispatcher."""
        users = dict.fromkeys(self.couriers, "courier")
        users.update(dict.fromkeys(self.counters, "staff"))
        users["dispatch-0"] = "dispatcher"
        return users


def yesterday_vn() -> str:
    """Yesterday's date in Vietnam: the day the offline phones recorded."""
    return (datetime.now(VN).date() - timedelta(days=1)).isoformat()


def _iso(day: str, minutes: float, skew_s: float) -> str:
    base = datetime.fromisoformat(f"{day}T00:00:00+07:00")
    return (base + timedelta(minutes=minutes, seconds=skew_s)).isoformat()


def make_fleet(
    *,
    couriers: int,
    dossiers_per_courier: int,
    seed: int = 0,
    date: str | None = None,
    counters: int = 4,
    mistake_share: float = 0.01,
    couriers_per_plan: int = 10,
) -> Fleet:
    """Lay out a simulated day (module docstring).

    Parameters
    ----------
    couriers
        Number of couriers (one phone each).
    dossiers_per_courier
        Dossiers on each courier's route.
    seed
        Seed of every random choice.
    date
        The day (``YYYY-MM-DD``, Vietnam); yesterday by default, so no device time lies in the
        server's future.
    counters
        Centre counters (staff users) that scan ``received``, ``result_ready`` and shuttles.
    mistake_share
        Share of dossiers that get one scan the life cycle must keep but not apply.
    couriers_per_plan
        Couriers per stored plan (a district's plan; a province's day is several).
    """
    rng = random.Random(seed)
    day = date or yesterday_vn()
    offices = max(1, min(8, couriers // 5 or 1))
    sites: list[dict[str, Any]] = [
        {"id": "centre", "kind": "centre", "name": "Trung tâm PVHCC", "lat": 9.1769,
         "lon": 105.1524},
    ]  # fmt: skip
    for k in range(offices):
        sites.append(
            {"id": f"po-{k}", "kind": "post_office", "name": f"Bưu điện {k}",
             "lat": 9.0 + 0.03 * k, "lon": 105.0 + 0.02 * k}
        )  # fmt: skip
    courier_ids = [f"c{n:03d}" for n in range(couriers)]
    counter_ids = [f"staff-{n}" for n in range(counters)]
    skew = {name: rng.uniform(-CLOCK_ERROR_S, CLOCK_ERROR_S) for name in courier_ids}
    skew.update(dict.fromkeys(counter_ids, 0.0))  # counters run on the centre's clock
    request: dict[str, Any] = {"date": day, "sites": sites, "shuttles": [], "couriers": [],
                               "jobs": []}  # fmt: skip
    routes: list[dict[str, Any]] = []
    journeys: dict[str, Journey] = {}
    stamp = day.replace("-", "")[2:]
    serial = 0
    for n, cid in enumerate(courier_ids):
        office = f"po-{n % offices}"
        request["couriers"].append(
            {"id": cid, "start_site": office, "end_site": office, "mode": "motorbike",
             "capacity": 200, "shift": ["07:00", "17:00"]}
        )  # fmt: skip
        stops: list[dict[str, Any]] = [{"type": "start", "site": office,
                                        "arrive": _iso(day, 420, 0), "depart": _iso(day, 420, 0),
                                        "load": 0}]  # fmt: skip
        for i in range(dossiers_per_courier):
            serial += 1
            code = f"H12.22-{stamp}-{serial:05d}"
            job = f"J{serial}"
            direction = "return" if rng.random() < 0.35 else "pickup"
            id_number = f"0960{rng.randrange(10**8):08d}"
            lat = 9.0 + rng.uniform(-0.08, 0.08)
            lon = 105.0 + rng.uniform(-0.08, 0.08)
            window = ["07:30", "16:30"]
            job_json: dict[str, Any] = {
                "id": job, "kind": direction, "dossier": code, "lat": round(lat, 5),
                "lon": round(lon, 5), "window": window, "service_min": 8,
                "citizen": {"name": f"Công dân {serial}", "phone": f"09{serial:08d}",
                            "id_number": id_number},
            }  # fmt: skip
            if direction == "pickup":
                job_json.update(handoff_site=office, destination_site="centre")
            else:
                job_json.update(origin_site=office, ready_at="07:00", due=day)
            request["jobs"].append(job_json)
            at = _iso(day, 450 + 5 * i, 0)
            stops.append(
                {"type": "pickup" if direction == "pickup" else "delivery", "job": job,
                 "lat": job_json["lat"], "lon": job_json["lon"], "arrive": at, "start": at,
                 "depart": at, "load": 0}
            )  # fmt: skip
            journey = Journey(code, direction, cid, job, office, id_number, "")
            _script(
                rng,
                journey=journey,
                day=day,
                skew=skew,
                counters=counter_ids,
                mistake_share=mistake_share,
            )
            journeys[code] = journey
        stops.append({"type": "end", "site": office, "arrive": _iso(day, 1000, 0)})
        routes.append({"courier": cid, "distance_km": 0.0, "duration_min": 0, "stops": stops})
    plans = []
    for start in range(0, len(routes), couriers_per_plan):
        group = routes[start : start + couriers_per_plan]
        ids = {r["courier"] for r in group}
        jobs = {s["job"] for r in group for s in r["stops"] if s.get("job")}
        part = {
            **request,
            "couriers": [c for c in request["couriers"] if c["id"] in ids],
            "jobs": [j for j in request["jobs"] if j["id"] in jobs],
        }
        plan = {
            "plan_id": f"fleet-{day}-{seed}-{start}-{uuid.uuid4().hex[:8]}",
            "date": day,
            "status": "complete",
            "routes": group,
            "unassigned": [],
            "kpis": {"jobs": len(jobs), "served": len(jobs), "distance_km": 0.0,
                     "runs_missed": 0},
        }  # fmt: skip
        plans.append((part, plan))
    return Fleet(day, request, plans, courier_ids, counter_ids, journeys)


def _script(
    rng: random.Random,
    *,
    journey: Journey,
    day: str,
    skew: dict[str, float],
    counters: Sequence[str],
    mistake_share: float,
) -> None:
    """Write the scans of one journey and its expected final status."""
    courier, office = journey.courier, journey.office
    counter = rng.choice(list(counters))
    steps: list[tuple[str, str, dict[str, Any]]] = []  # (sender, type, extra fields)
    if journey.direction == "pickup":
        steps = [
            (courier, "collected", {"job": journey.job}),
            (courier, "at_hub", {"site": office}),
            (courier, "on_shuttle", {"site": office}),
            (counter, "received", {"site": "centre"}),
        ]
        status_after = ["collected", "at_hub", "on_shuttle", "received"]
        initial = "requested"
    else:
        steps = [
            (counter, "result_ready", {"site": "centre"}),
            (counter, "on_shuttle", {"site": "centre"}),
            (courier, "at_hub", {"site": office}),
            (courier, "out_for_delivery", {"job": journey.job}),
        ]
        status_after = ["result_ready", "on_shuttle", "at_hub", "out_for_delivery"]
        ending = rng.random()
        proof = {"id_last4": journey.id_number[-4:]}
        if ending < 0.7:
            steps.append((courier, "delivered", {"job": journey.job, "proof": proof}))
            status_after.append("delivered")
        elif ending < 0.85:
            steps.append((courier, "delivery_failed", {"reason": "not at home"}))
            steps.append((courier, "out_for_delivery", {"job": journey.job}))
            steps.append((courier, "delivered", {"job": journey.job, "proof": proof}))
            status_after += ["delivery_failed", "out_for_delivery", "delivered"]
        else:
            steps.append((courier, "delivery_failed", {"reason": "address not found"}))
            steps.append((courier, "returned", {"site": office}))
            status_after += ["delivery_failed", "returned"]
        initial = "processing"
    # A third of the journeys are still under way at the end of the simulated day.
    done = len(steps) if rng.random() < 0.67 else rng.randrange(0, len(steps))
    minutes = 450.0 + rng.uniform(0, 60)
    for sender, kind, extra in steps[:done]:
        minutes += STEP_MIN + rng.uniform(0, 25)
        journey.scans.append(
            _scan(sender, kind=kind, code=journey.code, day=day, minutes=minutes, skew=skew,
                  extra=extra)
        )  # fmt: skip
    journey.expected_status = status_after[done - 1] if done else initial
    if done >= 2 and rng.random() < mistake_share:
        # A courier taps the first button again later on: kept for audit, never applied.
        first_sender, first_kind, first_extra = steps[0]
        if first_sender == courier:
            minutes += STEP_MIN
            journey.scans.append(
                _scan(
                    courier,
                    kind=first_kind,
                    code=journey.code,
                    day=day,
                    minutes=minutes,
                    skew=skew,
                    extra=first_extra,
                    applies=False,
                )
            )


def _scan(
    sender: str,
    *,
    kind: str,
    code: str,
    day: str,
    minutes: float,
    skew: dict[str, float],
    extra: dict[str, Any],
    applies: bool = True,
) -> Scan:
    event_id = str(uuid.uuid4())
    body: dict[str, Any] = {
        "event_id": event_id,
        "dossier": code,
        "type": kind,
        "at": _iso(day, minutes, skew[sender]),
        **extra,
    }
    return Scan(event_id, sender, body, applies)


def register_fleet(database_url: str, fleet: Fleet) -> dict[str, str]:
    """Store the fleet's district plans (registering their dossiers) and create its users.

    Parameters
    ----------
    database_url
        The database (upgraded to the current schema first).
    fleet
        From :func:`make_fleet`.

    Returns
    -------
    dict
        ``{user name: API token}`` for :meth:`Fleet.users`.
    """
    from sqlmodel import Session

    from harness.server import create_tokens
    from tracking.db import make_engine
    from tracking.plans import store_plan

    tokens = create_tokens(database_url, fleet.users())
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            for request, plan in fleet.plans:
                store_plan(session=session, request=request, plan=plan, created_by="dispatch-0")
    finally:
        engine.dispose()
    return tokens


@dataclass
class Outbox:
    """One phone's (or counter's) queue of events not yet acknowledged."""

    sender: str
    token: str
    pending: list[dict[str, Any]]
    lock: threading.Lock = field(default_factory=threading.Lock)


def make_outboxes(
    fleet: Fleet, tokens: dict[str, str], *, resend_share: float = 0.1, seed: int = 0
) -> tuple[list[Outbox], int]:
    """Give each sender its events shuffled, with ``resend_share`` of them queued twice.

    Returns
    -------
    tuple
        The outboxes and the number of event sends in them (events plus resends).
    """
    rng = random.Random(seed + 1)
    by_sender: dict[str, list[dict[str, Any]]] = {}
    for scan in fleet.scans():
        queue = by_sender.setdefault(scan.sender, [])
        queue.append(scan.body)
        if rng.random() < resend_share:
            queue.append(dict(scan.body))
    boxes = []
    sends = 0
    for sender, queue in sorted(by_sender.items()):
        rng.shuffle(queue)
        sends += len(queue)
        boxes.append(Outbox(sender, tokens[sender], queue))
    return boxes, sends


@dataclass
class SendStats:
    """What the phones saw: answers by status, failed requests, latencies in seconds."""

    answers: Counter[str] = field(default_factory=Counter)
    acked: set[str] = field(default_factory=set)
    failures: Counter[str] = field(default_factory=Counter)
    latencies_s: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _send_one(
    client: httpx.Client, base_url: Callable[[], str], box: Outbox, batch: int, stats: SendStats
) -> bool:
    """Send the next batch of ``box``; return whether it was acknowledged."""
    with box.lock:
        events = box.pending[:batch]
    if not events:
        return True
    started = time.perf_counter()
    try:
        answer = client.post(
            f"{base_url()}/v1/scans",
            json=events,
            headers={"Authorization": f"Bearer {box.token}"},
        )
    except httpx.HTTPError as exc:
        with stats.lock:
            stats.failures[type(exc).__name__] += 1
        return False
    elapsed = time.perf_counter() - started
    if answer.status_code != 200:
        with stats.lock:
            stats.failures[f"HTTP {answer.status_code}: {answer.text[:200]}"] += 1
        return False
    results = answer.json()["results"]
    if [r["event_id"] for r in results] != [e["event_id"] for e in events]:
        with stats.lock:
            stats.failures["answers out of order"] += 1
        return False
    done = {r["event_id"] for r in results if r["status"] in ACKED}
    with stats.lock:
        stats.latencies_s.append(elapsed)
        stats.answers.update(r["status"] for r in results)
        stats.acked.update(done)
    with box.lock:
        # Only the events of this batch leave the outbox: a resent copy queued later stays.
        box.pending = [e for e in box.pending[len(events) :]] + [
            e for e in events if e["event_id"] not in done
        ]
    return True


def send_all(
    base_url: Callable[[], str] | str,
    boxes: Sequence[Outbox],
    *,
    batch: int = 50,
    clients: int = 8,
    stop: threading.Event | None = None,
    stats: SendStats | None = None,
    deadline_s: float = 600.0,
    retry_pause_s: float = 0.05,
) -> SendStats:
    """Drain the outboxes over HTTP with ``clients`` threads, each serving a share of phones.

    A batch that fails (connection refused, server killed, an error answer) stays in its outbox
    and is sent again later, as a phone does. Returns when every outbox is empty, ``stop`` is
    set, or ``deadline_s`` has passed.

    Parameters
    ----------
    base_url
        The server's base URL, or a function returning it (the server may move).
    boxes
        From :func:`make_outboxes`.
    batch
        Most events per request.
    clients
        Threads sending at the same time.
    stop
        Set it to stop the senders (they finish the request in flight).
    stats
        Accumulate into an existing :class:`SendStats` (several rounds of one run).
    deadline_s
        Give up after this many seconds.
    retry_pause_s
        Pause after a failed request, in seconds.
    """
    url: Callable[[], str] = (lambda: base_url) if isinstance(base_url, str) else base_url
    stats = stats or SendStats()
    stop = stop or threading.Event()
    end = time.monotonic() + deadline_s

    def worker(mine: Sequence[Outbox]) -> None:
        with httpx.Client(timeout=30) as client:
            while not stop.is_set() and time.monotonic() < end:
                busy = [b for b in mine if b.pending]
                if not busy:
                    return
                for box in busy:
                    if stop.is_set():
                        return
                    if not _send_one(client, url, box, batch, stats):
                        time.sleep(retry_pause_s)

    threads = [
        threading.Thread(target=worker, args=(boxes[i::clients],), daemon=True)
        for i in range(clients)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return stats


@dataclass
class Verdict:
    """How the records compare with the simulation.

    Attributes
    ----------
    events
        Events the simulation made.
    stored
        Rows of scan events found for this fleet's dossiers.
    lost
        Events of the simulation with no row.
    duplicated
        Rows beyond the first for one ``event_id``.
    unexpected
        Rows whose ``event_id`` the simulation never made.
    wrong_status
        Dossiers whose status differs from the script's end (``{code: (found, expected)}``).
    wrong_applied
        Events whose applied/kept-only verdict differs from the script (checked on a sample
        through the staff API when one is given to :func:`verify_api`).
    """

    events: int
    stored: int
    lost: list[str]
    duplicated: int
    unexpected: list[str]
    wrong_status: dict[str, tuple[str, str]]
    wrong_applied: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether nothing was lost, duplicated, unexpected or wrong."""
        return not (
            self.lost
            or self.duplicated
            or self.unexpected
            or self.wrong_status
            or self.wrong_applied
        )

    def summary(self) -> str:
        """One line: lost / duplicated / wrong statuses, and the counts."""
        return (
            f"events {self.events}, rows {self.stored}: lost {len(self.lost)}, "
            f"duplicated {self.duplicated}, wrong statuses {len(self.wrong_status)}, "
            f"unexpected {len(self.unexpected)}, wrong applied/kept {len(self.wrong_applied)}"
        )


def verify(database_url: str, fleet: Fleet) -> Verdict:
    """Compare the database with the fleet's scripts (module docstring, "The truth")."""
    import sqlalchemy as sa

    from tracking.db import make_engine

    codes = list(fleet.journeys)
    engine = make_engine(database_url)
    rows: list[tuple[str, str]] = []
    statuses: dict[str, str] = {}
    try:
        with engine.connect() as conn:
            for start in range(0, len(codes), 500):
                chunk = codes[start : start + 500]
                found = conn.execute(
                    sa.text(
                        "SELECT e.event_id, d.code FROM scan_events e "
                        "JOIN dossiers d ON d.id = e.dossier_id WHERE d.code IN :codes"
                    ).bindparams(sa.bindparam("codes", expanding=True)),
                    {"codes": chunk},
                )
                rows.extend((str(r[0]), str(r[1])) for r in found)
                for code, status in conn.execute(
                    sa.text("SELECT code, status FROM dossiers WHERE code IN :codes").bindparams(
                        sa.bindparam("codes", expanding=True)
                    ),
                    {"codes": chunk},
                ):
                    statuses[str(code)] = str(status)
    finally:
        engine.dispose()
    made = {s.event_id for s in fleet.scans()}
    counts = Counter(event_id for event_id, _code in rows)
    lost = sorted(made - set(counts))
    duplicated = sum(n - 1 for n in counts.values() if n > 1)
    unexpected = sorted(set(counts) - made)
    wrong = {
        code: (statuses.get(code, "missing"), j.expected_status)
        for code, j in fleet.journeys.items()
        if statuses.get(code) != j.expected_status
    }
    return Verdict(len(made), len(rows), lost, duplicated, unexpected, wrong)


def verify_api(
    base_url: str, token: str, fleet: Fleet, verdict: Verdict, *, sample: int, seed: int = 0
) -> None:
    """Check ``sample`` dossiers through ``GET /v1/dossiers/{code}`` as staff, in ``verdict``.

    The staff view must show the scripted status, each scripted event exactly once, and each
    event applied exactly when the script says it counts (mistakes are kept, not applied).
    Disagreements are added to ``verdict.wrong_status`` / ``verdict.wrong_applied``.
    """
    rng = random.Random(seed)
    codes = sorted(fleet.journeys)
    chosen = rng.sample(codes, min(sample, len(codes)))
    # Always include the dossiers with a simulated mistake: they are the interesting ones.
    chosen += [c for c in codes if any(not s.applies for s in fleet.journeys[c].scans)]
    with httpx.Client(timeout=30) as client:
        for code in dict.fromkeys(chosen):
            journey = fleet.journeys[code]
            answer = client.get(
                f"{base_url}/v1/dossiers/{code}", headers={"Authorization": f"Bearer {token}"}
            )
            if answer.status_code != 200:
                verdict.wrong_status[code] = (f"HTTP {answer.status_code}", journey.expected_status)
                continue
            view = answer.json()
            if view["status"] != journey.expected_status:
                verdict.wrong_status[code] = (view["status"], journey.expected_status)
            history = {e["event_id"]: e for e in view["history"]}
            if len(history) != len(view["history"]):
                verdict.duplicated += len(view["history"]) - len(history)
            for scan in journey.scans:
                event = history.get(scan.event_id)
                if event is None:
                    if scan.event_id not in verdict.lost:
                        verdict.lost.append(scan.event_id)
                elif bool(event["applied"]) != scan.applies:
                    verdict.wrong_applied.append(scan.event_id)


def percentile(values: Iterable[float], q: float) -> float:
    """Return the ``q`` quantile (0–1) of ``values`` by nearest rank (0 when empty)."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[rank]
