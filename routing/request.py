"""Reading a plan request (DESIGN §4 JSON) into validated, frozen domain data.

Every error is a :class:`RequestError` whose message starts with the field at fault, such as
``jobs[3].window: ends at 08:00, before it starts at 09:00.`` Times are kept as integer seconds
since midnight of the plan's date in Vietnam (UTC+07:00, no daylight saving time).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from geo.coords import LatLon, parse_latlon
from geo.travel import parse_mode
from routing.clock import DAY_S, LOCAL_TZ, hhmm, local_midnight

# Latest time a request may name: the end of the day after the plan's date (late shifts).
HORIZON_S = 2 * DAY_S
DEFAULT_SITE_SERVICE_MIN = 2.0
DEFAULT_TIME_LIMIT_S = 10.0
MAX_TIME_LIMIT_S = 3600.0
MAX_WORKERS = 64  # solver processes one plan may ask for (options.workers)


class RequestError(ValueError):
    """A plan request that cannot be planned as given; the message names the field."""


@dataclass(frozen=True, slots=True)
class Site:
    """A post office, the centre, a one-stop office or a department."""

    id: str
    kind: str
    name: str
    point: LatLon
    opening_s: tuple[int, int] | None


@dataclass(frozen=True, slots=True)
class Shuttle:
    """A fixed inter-agency run; a dossier must be at ``from_site`` by ``cutoff_s``."""

    id: str
    from_site: str
    to_site: str
    departs_s: int
    arrives_s: int
    handoff_min: float

    @property
    def cutoff_s(self) -> int:
        """Latest hand-off start (seconds) for a dossier to catch this run."""
        return self.departs_s - round(self.handoff_min * 60)


@dataclass(frozen=True, slots=True)
class BreakRule:
    """A break of ``duration_s`` to take inside ``[earliest_s, latest_s]``."""

    earliest_s: int
    latest_s: int
    duration_s: int


@dataclass(frozen=True, slots=True)
class Courier:
    """A courier and the day they work."""

    id: str
    start_site: str
    end_site: str
    mode: str
    capacity: int
    shift_s: tuple[int, int]
    breaks: tuple[BreakRule, ...]
    skills: frozenset[str]


@dataclass(frozen=True, slots=True)
class DossierJob:
    """A pickup (home → hand-off site) or a return (origin site → home).

    A return's result is ready at ``origin_site`` at ``ready_s``, or, when ``ready_site`` is
    given, at ``ready_site`` at ``ready_s`` and brought to ``origin_site`` by the shuttle runs
    (:func:`routing.journeys.ready_at_origin`).
    """

    id: str
    kind: str  # "pickup" or "return"
    dossier: str
    point: LatLon
    window_s: tuple[int, int]
    service_s: int
    size: int
    skills: frozenset[str]
    handoff_site: str | None = None
    destination_site: str | None = None
    origin_site: str | None = None
    ready_s: int = 0
    due: date | None = None
    courier: str | None = None  # locked to this courier by the dispatcher (checked in parse)
    ready_site: str | None = None  # a return: where the result is ready at ``ready_s``, upstream
    priority: str | None = None


@dataclass(frozen=True, slots=True)
class TravelTable:
    """A travel matrix given in the request: ids over sites and jobs, minutes and km."""

    ids: tuple[str, ...]
    minutes: tuple[tuple[float, ...], ...]
    km: tuple[tuple[float, ...], ...]


@dataclass(frozen=True, slots=True)
class PlanRequest:
    """A whole validated plan request."""

    day: date
    sites: Mapping[str, Site]
    shuttles: tuple[Shuttle, ...]
    couriers: tuple[Courier, ...]
    jobs: tuple[DossierJob, ...]
    travel: TravelTable | None
    time_limit_s: float
    seed: int
    site_service_s: int
    solution_limit: int | None = None
    workers: int | None = None
    """Processes that solve a large day's districts at once (``None``: one per core)."""


def _err(where: str, what: str) -> RequestError:
    return RequestError(f"{where}: {what}")


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _err(where, f"must be an object, got {type(value).__name__}.")
    return value


def _list(value: Any, where: str) -> Sequence[Any]:
    if not isinstance(value, list | tuple):
        raise _err(where, f"must be a list, got {type(value).__name__}.")
    return value


def _get(obj: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in obj or obj[key] is None:
        raise _err(f"{where}.{key}", "is missing.")
    return obj[key]


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _err(where, f"must be a non-empty text, got {value!r}.")
    return value.strip()


def _number(value: Any, where: str, *, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _err(where, f"must be a number, got {value!r}.")
    f = float(value)
    if not math.isfinite(f) or f < minimum:
        raise _err(where, f"must be a finite number ≥ {minimum:g}, got {value!r}.")
    return f


def _int(value: Any, where: str, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise _err(where, f"must be a whole number, got {value!r}.")
    if value < minimum:
        raise _err(where, f"must be ≥ {minimum}, got {value}.")
    return int(value)


def _skills(value: Any, where: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    items = _list(value, where)
    return frozenset(_str(s, f"{where}[{i}]") for i, s in enumerate(items))


def parse_time(value: Any, day: date, where: str) -> int:
    """Read ``"HH:MM"``, ``"HH:MM:SS"`` or an ISO datetime as seconds since the day's midnight.

    Parameters
    ----------
    value
        The time text. ``"HH:MM"`` is local time (UTC+07:00) on the plan's date; an ISO datetime
        with an offset is converted to local time; one without an offset is taken as local.
    day
        The plan's date.
    where
        The field, named in errors.

    Returns
    -------
    int
        Seconds since midnight (local) of ``day``; may exceed 86,400 for the next day.

    Raises
    ------
    RequestError
        If the text is not a time, or falls outside the plan's date and the day after.
    """
    if not isinstance(value, str) or not value.strip():
        raise _err(where, f"must be a time like '08:00' or an ISO datetime, got {value!r}.")
    text = value.strip()
    if "T" in text or len(text) > 8:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise _err(where, f"is not an ISO datetime: {text!r}.") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=LOCAL_TZ)
        seconds = (moment - local_midnight(day)).total_seconds()
        if seconds != int(seconds):
            seconds = math.floor(seconds)
        secs = int(seconds)
    else:
        parts = text.split(":")
        try:
            if len(parts) not in (2, 3):
                raise ValueError
            nums = [int(p) for p in parts]
        except ValueError:
            raise _err(where, f"must be a time like '08:00', got {text!r}.") from None
        h, m = nums[0], nums[1]
        s = nums[2] if len(nums) == 3 else 0
        if not (0 <= h <= 24 and 0 <= m < 60 and 0 <= s < 60) or (h == 24 and (m or s)):
            raise _err(where, f"is not a time of day: {text!r}.")
        secs = h * 3600 + m * 60 + s
    if not 0 <= secs <= HORIZON_S:
        raise _err(
            where, f"{text!r} is outside the plan's date {day.isoformat()} and the next day."
        )
    return secs


def _window(value: Any, day: date, where: str) -> tuple[int, int]:
    items = _list(value, where)
    if len(items) != 2:
        raise _err(where, f"must be [start, end], got {len(items)} values.")
    a = parse_time(items[0], day, f"{where}[0]")
    b = parse_time(items[1], day, f"{where}[1]")
    if b < a:
        raise _err(where, f"ends at {items[1]} before it starts at {items[0]}.")
    return a, b


def _parse_site(raw: Any, i: int, day: date) -> Site:
    where = f"sites[{i}]"
    obj = _mapping(raw, where)
    sid = _str(_get(obj, "id", where), f"{where}.id")
    try:
        point = parse_latlon(_get(obj, "lat", where), _get(obj, "lon", where), where=where)
    except ValueError as exc:
        raise RequestError(str(exc)) from None
    opening = None
    if obj.get("opening") is not None:
        opening = _window(obj["opening"], day, f"{where}.opening")
    kind = str(obj.get("kind") or "site")
    name = str(obj.get("name") or sid)
    return Site(sid, kind, name, point, opening)


def _parse_shuttle(raw: Any, i: int, day: date) -> Shuttle:
    where = f"shuttles[{i}]"
    obj = _mapping(raw, where)
    sid = _str(_get(obj, "id", where), f"{where}.id")
    frm = _str(_get(obj, "from_site", where), f"{where}.from_site")
    to = _str(_get(obj, "to_site", where), f"{where}.to_site")
    dep = parse_time(_get(obj, "departs", where), day, f"{where}.departs")
    arr = parse_time(_get(obj, "arrives", where), day, f"{where}.arrives")
    if arr < dep:
        raise _err(f"{where}.arrives", f"is before the run departs ({obj['departs']}).")
    margin = _number(obj.get("handoff_min", 0), f"{where}.handoff_min")
    return Shuttle(sid, frm, to, dep, arr, margin)


def _parse_courier(raw: Any, i: int, day: date, sites: Mapping[str, Site]) -> Courier:
    where = f"couriers[{i}]"
    obj = _mapping(raw, where)
    cid = _str(_get(obj, "id", where), f"{where}.id")
    start = _str(_get(obj, "start_site", where), f"{where}.start_site")
    end = _str(obj.get("end_site") or start, f"{where}.end_site")
    for key, site in (("start_site", start), ("end_site", end)):
        if site not in sites:
            raise _err(f"{where}.{key}", f"unknown site {site!r}.")
    try:
        mode = parse_mode(obj.get("mode", "motorbike")).value
    except ValueError as exc:
        raise _err(f"{where}.mode", str(exc)) from None
    capacity = _int(_get(obj, "capacity", where), f"{where}.capacity")
    shift = _window(_get(obj, "shift", where), day, f"{where}.shift")
    breaks = []
    for b, braw in enumerate(_list(obj.get("breaks") or [], f"{where}.breaks")):
        bw = f"{where}.breaks[{b}]"
        bobj = _mapping(braw, bw)
        early = parse_time(_get(bobj, "earliest", bw), day, f"{bw}.earliest")
        late = parse_time(_get(bobj, "latest", bw), day, f"{bw}.latest")
        dur = round(_number(_get(bobj, "duration_min", bw), f"{bw}.duration_min") * 60)
        if dur <= 0:
            raise _err(f"{bw}.duration_min", "must be more than 0 minutes.")
        lo, hi = max(early, shift[0]), min(late, shift[1])
        if lo + dur > hi:
            raise _err(
                bw,
                f"a {dur // 60}-minute break does not fit between {hhmm(early)} and "
                f"{hhmm(late)} inside the shift {hhmm(shift[0])}–{hhmm(shift[1])}.",
            )
        breaks.append(BreakRule(lo, hi, dur))
    skills = _skills(obj.get("skills"), f"{where}.skills")
    return Courier(cid, start, end, mode, capacity, shift, tuple(breaks), skills)


def _parse_job(raw: Any, i: int, day: date) -> DossierJob:
    where = f"jobs[{i}]"
    obj = _mapping(raw, where)
    jid = _str(_get(obj, "id", where), f"{where}.id")
    kind = _get(obj, "kind", where)
    if kind not in ("pickup", "return"):
        raise _err(f"{where}.kind", f"must be 'pickup' or 'return', got {kind!r}.")
    dossier = _str(obj.get("dossier") or jid, f"{where}.dossier")
    try:
        point = parse_latlon(_get(obj, "lat", where), _get(obj, "lon", where), where=where)
    except ValueError as exc:
        raise RequestError(str(exc)) from None
    window = _window(_get(obj, "window", where), day, f"{where}.window")
    service = round(_number(obj.get("service_min", 0), f"{where}.service_min") * 60)
    size = _int(obj.get("size", 1), f"{where}.size", minimum=1)
    skills = _skills(obj.get("skills"), f"{where}.skills")
    lock = obj.get("courier")
    courier = _str(lock, f"{where}.courier") if lock is not None else None
    priority = obj.get("priority")
    if priority not in (None, "high", "normal"):
        raise _err(f"{where}.priority", f"must be 'high' or 'normal', got {priority!r}.")
    if kind == "pickup":
        handoff = _str(_get(obj, "handoff_site", where), f"{where}.handoff_site")
        dest_raw = obj.get("destination_site")
        dest = _str(dest_raw, f"{where}.destination_site") if dest_raw is not None else None
        return DossierJob(
            jid,
            kind,
            dossier,
            point,
            window,
            service,
            size,
            skills,
            handoff_site=handoff,
            destination_site=dest,
            courier=courier,
            priority=priority,
        )
    origin = _str(_get(obj, "origin_site", where), f"{where}.origin_site")
    ready = 0
    if obj.get("ready_at") is not None:
        ready = parse_time(obj["ready_at"], day, f"{where}.ready_at")
    ready_site = None
    if obj.get("ready_site") is not None:
        ready_site = _str(obj["ready_site"], f"{where}.ready_site")
        if obj.get("ready_at") is None:
            raise _err(f"{where}.ready_at", "is missing (when the result is ready at ready_site).")
    due = None
    if obj.get("due") is not None:
        try:
            due = date.fromisoformat(str(obj["due"])[:10])
        except ValueError:
            raise _err(
                f"{where}.due", f"must be a date like 2026-11-23, got {obj['due']!r}."
            ) from None
    return DossierJob(
        jid,
        kind,
        dossier,
        point,
        window,
        service,
        size,
        skills,
        origin_site=origin,
        ready_s=ready,
        due=due,
        courier=courier,
        ready_site=ready_site,
        priority=priority,
    )


def _parse_travel(raw: Any) -> TravelTable:
    obj = _mapping(raw, "travel")
    ids = tuple(
        _str(x, f"travel.ids[{i}]")
        for i, x in enumerate(_list(_get(obj, "ids", "travel"), "travel.ids"))
    )
    if len(set(ids)) != len(ids):
        raise _err("travel.ids", "an id appears twice.")
    tables: list[tuple[tuple[float, ...], ...]] = []
    for key in ("minutes", "km"):
        rows = _list(_get(obj, key, "travel"), f"travel.{key}")
        if len(rows) != len(ids):
            raise _err(f"travel.{key}", f"has {len(rows)} rows for {len(ids)} ids.")
        out = []
        for r, row in enumerate(rows):
            vals = _list(row, f"travel.{key}[{r}]")
            if len(vals) != len(ids):
                raise _err(f"travel.{key}[{r}]", f"has {len(vals)} values for {len(ids)} ids.")
            out.append(tuple(_number(v, f"travel.{key}[{r}][{c}]") for c, v in enumerate(vals)))
        tables.append(tuple(out))
    return TravelTable(ids, tables[0], tables[1])


MAX_ENTRIES = {"sites": 1_000, "shuttles": 5_000, "couriers": 1_000, "jobs": 5_000}
"""Most entries of each list one plan request may hold. A province's busiest day is about 500
dossiers (DESIGN §1: ~480 a day in Quảng Nam), so 5,000 jobs leaves ten times the room while
keeping a solve within its time limit and memory on one machine; larger days are planned by
district, one request each."""


def _sized_list(value: Any, field: str) -> Sequence[Any]:
    items = _list(value or [], field)
    limit = MAX_ENTRIES[field]
    if len(items) > limit:
        raise _err(
            field,
            f"holds {len(items):,} entries, over the limit of {limit:,} in one plan request; "
            "plan the day district by district.",
        )
    return items


def _workers(value: Any) -> int | None:
    if value is None:
        return None
    workers = _int(value, "options.workers", minimum=1)
    if workers > MAX_WORKERS:
        raise _err("options.workers", f"must be at most {MAX_WORKERS}, got {workers}.")
    return workers


def parse_request(request: Mapping[str, Any], *, time_limit_s: float | None = None) -> PlanRequest:
    """Validate a plan request (DESIGN §4) and return it as domain data.

    Parameters
    ----------
    request
        The request JSON as plain dicts and lists.
    time_limit_s
        Overrides ``options.time_limit_s`` when given (seconds).

    Returns
    -------
    PlanRequest
        The validated request.

    Raises
    ------
    RequestError
        For any missing key, bad type, bad time, inverted window, duplicate id, unknown courier
        site, negative capacity or a list longer than :data:`MAX_ENTRIES` allows; the message
        names the field.
    """
    req = _mapping(request, "request")
    if req.get("date") is None:
        raise _err("date", "is missing (the plan's date, like 2026-11-23).")
    try:
        day = date.fromisoformat(str(req["date"]))
    except ValueError:
        raise _err("date", f"must be a date like 2026-11-23, got {req.get('date')!r}.") from None
    sites: dict[str, Site] = {}
    for i, raw in enumerate(_sized_list(req.get("sites"), "sites")):
        site = _parse_site(raw, i, day)
        if site.id in sites:
            raise _err(f"sites[{i}].id", f"duplicate site id {site.id!r}.")
        sites[site.id] = site
    shuttles = []
    seen: set[str] = set()
    for i, raw in enumerate(_sized_list(req.get("shuttles"), "shuttles")):
        run = _parse_shuttle(raw, i, day)
        if run.id in seen:
            raise _err(f"shuttles[{i}].id", f"duplicate shuttle id {run.id!r}.")
        seen.add(run.id)
        shuttles.append(run)
    couriers = []
    seen = set()
    for i, raw in enumerate(_sized_list(req.get("couriers"), "couriers")):
        c = _parse_courier(raw, i, day, sites)
        if c.id in seen:
            raise _err(f"couriers[{i}].id", f"duplicate courier id {c.id!r}.")
        seen.add(c.id)
        couriers.append(c)
    jobs = []
    seen = set()
    courier_ids = {c.id for c in couriers}
    for i, raw in enumerate(_sized_list(req.get("jobs"), "jobs")):
        j = _parse_job(raw, i, day)
        if j.id in seen:
            raise _err(f"jobs[{i}].id", f"duplicate job id {j.id!r}.")
        seen.add(j.id)
        if j.courier is not None and j.courier not in courier_ids:
            raise _err(f"jobs[{i}].courier", f"locked to courier {j.courier!r}, not in couriers.")
        jobs.append(j)
    travel = _parse_travel(req["travel"]) if req.get("travel") is not None else None
    options = _mapping(req.get("options") or {}, "options")
    limit = time_limit_s if time_limit_s is not None else options.get("time_limit_s")
    limit_f = DEFAULT_TIME_LIMIT_S if limit is None else _number(limit, "options.time_limit_s")
    if not 0 < limit_f <= MAX_TIME_LIMIT_S:
        raise _err(
            "options.time_limit_s", f"must be in (0, {MAX_TIME_LIMIT_S:g}] s, got {limit!r}."
        )
    seed = _int(options.get("seed", 0), "options.seed")
    solutions = options.get("solution_limit")
    solution_limit = (
        None if solutions is None else _int(solutions, "options.solution_limit", minimum=1)
    )
    workers = _workers(options.get("workers"))
    site_min = _number(
        options.get("site_service_min", DEFAULT_SITE_SERVICE_MIN), "options.site_service_min"
    )
    return PlanRequest(
        day,
        sites,
        tuple(shuttles),
        tuple(couriers),
        tuple(jobs),
        travel,
        limit_f,
        seed,
        round(site_min * 60),
        solution_limit,
        workers,
    )
