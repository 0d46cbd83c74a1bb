"""A realistic, seeded planning day in Cà Mau, as a plan request (DESIGN §4 JSON).

Used by ``make demo``, the notebooks, the tests and the benchmarks::

    python -m routing.sample_day --jobs 300 --seed 1 -o day.json

The day has the provincial centre, a few provincial departments, a post office per old (2024)
district, the fixed shuttle runs between them, couriers at each office, and pickup and return
jobs at homes drawn uniformly inside the wards each office serves (2025 ward polygons). Citizens'
names, phones and ID numbers are fake.

Positions of the centre, the departments and the post offices are approximate: they are not
open data (see ``geo/data/PROVENANCE.md``). The centre is at the position the team agreed on;
each rural post office is at the coarse point of its district's seat town (*thị trấn*); the
departments and the city post office are placed by hand in central Cà Mau city.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import shapely

from geo.areas import DISTRICT_OFFICES, district_service_areas, locate
from geo.coords import LatLon
from geo.geography import PROVINCE_NAME, Geography, Ward, camau
from geo.travel import GreatCircleTravel

# --------------------------------------------------------------------------------------------
# Sizing, from the published figures of DESIGN §1.
#
# - Cà Mau's provincial centre received 48,895 dossiers in a year: ≈ 196 a working day
#   (÷ WORKING_DAYS_PER_YEAR). Most are filed at counters or online; only some travel by courier.
# - 5,187 results were carried back to homes in that year: ≈ 21 home returns a working day.
# - Home pickups by the post: no published figure for Cà Mau; we take as many pickups as returns
#   (RETURN_SHARE = 0.5), so a typical province-wide day is ≈ 42 home jobs (TYPICAL_DAY_JOBS).
# - Quảng Nam's post carried 331,000 dossiers in about 23 months: ≈ 480 a day province-wide, the
#   scale of a busy province's whole flow (a `jobs=480` day; benchmarks go to thousands).
CENTRE_DOSSIERS_PER_YEAR = 48_895
HOME_RETURNS_PER_YEAR = 5_187
WORKING_DAYS_PER_YEAR = 250  # 52 weeks × 5 days minus about 10 public holidays
HOME_RETURNS_PER_DAY = round(HOME_RETURNS_PER_YEAR / WORKING_DAYS_PER_YEAR)  # 21
RETURN_SHARE = 0.5
TYPICAL_DAY_JOBS = round(HOME_RETURNS_PER_DAY / RETURN_SHARE)  # 42
# Couriers scale with jobs so the day is servable. A rural courier's legs are long (a home every
# 20-30 min of riding, 5-12 min at the door, trips back to the office for the runs): we assume
# about 12 home jobs in a 9-hour working day, and 20 in the city where homes are close together.
JOBS_PER_COURIER_RURAL = 12
JOBS_PER_COURIER_CITY = 20
# Canal and mangrove districts (BOAT_OFFICES: U Minh, Năm Căn, Ngọc Hiển) have the longest legs.
# Measured on the 300-job day of benchmarks/scale.py with 12 jobs a courier: their couriers rode
# 105-165 km in near-full shifts and served 4-10 homes each, and a 60 s search of Năm Căn alone
# served no more than a 10 s one (15 of 20): 12 a courier is more than such a day holds, not a
# weak search. We assume 8 there.
JOBS_PER_COURIER_CANAL = 8
COURIER_CAPACITY = 30  # dossiers in a motorbike's top box and panniers
# Demand per office: proportional to the number of 2024 communes it serves, the city's counting
# double (denser population, most of the centre's walk-in neighbours).
CITY_DEMAND_WEIGHT = 2.0

CITY_OFFICE = "po-cm"
BOAT_OFFICES = ("po-um", "po-nc", "po-nh")  # U Minh forest canals, Năm Căn and Ngọc Hiển mangroves
BOAT_JOB_SHARE = 0.15

CENTRE_POINT = LatLon(9.1769, 105.1524)  # the position the team agreed on (approximate)
CENTRE_NAME = "Trung tâm Phục vụ hành chính công tỉnh Cà Mau"
# Approximate positions in central Cà Mau city (placed by hand; not open data).
DEPARTMENTS = (
    ("dept-justice", "Sở Tư pháp", 9.1781, 105.1497),
    ("dept-construction", "Sở Xây dựng", 9.1802, 105.1553),
    ("dept-natural-resources", "Sở Nông nghiệp và Môi trường", 9.1748, 105.1569),
    ("dept-planning-investment", "Sở Tài chính (Kế hoạch và Đầu tư)", 9.1822, 105.1510),
    ("dept-home-affairs", "Sở Nội vụ", 9.1737, 105.1488),
)
CITY_OFFICE_POINT = (9.1795, 105.1475)  # Bưu điện tỉnh Cà Mau, central city (approximate)

DEPT_RUNS = ("08:00", "10:00", "14:00", "16:00")  # DESIGN §1: out and back at these times
OFFICE_RUNS = ("07:30", "09:30", "13:30", "15:30")  # office → centre, back after unloading
DEPT_HANDOFF_MIN = 10
OFFICE_HANDOFF_MIN = 15
TURNAROUND_MIN = 30  # a shuttle unloads and loads before it heads back

SHIFT = ("07:00", "17:00")
LUNCH = {"earliest": "11:00", "latest": "13:30", "duration_min": 60}
DAY_START_MIN = 7 * 60
DAY_END_MIN = 17 * 60

FAMILY_NAMES = (
    "Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Hoàng", "Võ", "Phan", "Trương", "Bùi",
    "Đặng", "Đỗ", "Ngô", "Hồ", "Dương", "Lý", "Lâm", "Tô", "Quách", "Danh",
)  # fmt: skip
MIDDLE_NAMES = ("Văn", "Thị", "Minh", "Ngọc", "Thanh", "Hoàng", "Kim", "Quốc", "Hữu", "Thu")
GIVEN_NAMES = (
    "An", "Bình", "Cường", "Dũng", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa", "Hùng", "Hương",
    "Khánh", "Lan", "Linh", "Long", "Mai", "Nam", "Nga", "Phúc", "Quang", "Tâm", "Thảo",
    "Trang", "Tuấn", "Vy", "Yến", "Sơn", "Phương", "Tài", "Nhi",
)  # fmt: skip
PROCEDURES = (
    "Cấp đổi giấy chứng nhận quyền sử dụng đất",
    "Đăng ký biến động đất đai",
    "Cấp phiếu lý lịch tư pháp",
    "Cấp giấy phép xây dựng nhà ở riêng lẻ",
    "Đăng ký khai sinh",
    "Đăng ký kết hôn",
    "Chứng thực bản sao từ bản chính",
    "Cấp giấy chứng nhận đăng ký hộ kinh doanh",
    "Xác nhận tình trạng hôn nhân",
    "Cấp giấy phép lái xe (đổi)",
)
CENTRE_CODE = "H12.22"  # prefix of dossier codes at Cà Mau's centre, as in DESIGN §4


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def _ceil_to(value: float, step: int) -> int:
    return int(math.ceil(value / step) * step)


def _drive_min(a: LatLon, b: LatLon) -> int:
    """Minutes a shuttle car takes from a to b (default model), rounded up to 5, at least 10."""
    seconds = GreatCircleTravel().matrix([a, b], "car").seconds[0, 1]
    return max(10, _ceil_to(seconds / 60.0, 5))


def _offices(geo: Geography) -> list[dict[str, Any]]:
    sites = []
    for dcode, office in DISTRICT_OFFICES.items():
        district = geo.districts[dcode]
        if office == CITY_OFFICE:
            lat, lon = CITY_OFFICE_POINT
        else:
            seat = geo.communes[district.seat].point
            lat, lon = seat.lat, seat.lon
        sites.append(
            {
                "id": office,
                "kind": "post_office",
                "name": f"Bưu điện {district.short_name}",
                "lat": lat,
                "lon": lon,
                "opening": list(SHIFT),
            }
        )
    return sites


def _shuttles(centre: LatLon, sites: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []

    def add(rid: str, frm: str, to: str, departs: int, *, drive: int, handoff: int) -> int:
        runs.append(
            {
                "id": rid,
                "from_site": frm,
                "to_site": to,
                "departs": _hhmm(departs),
                "arrives": _hhmm(departs + drive),
                "handoff_min": handoff,
            }
        )
        return departs + drive

    for site in sites:
        sid = site["id"]
        drive = _drive_min(centre, LatLon(site["lat"], site["lon"]))
        if site["kind"] == "department":  # centre → department at 08:00 … and back
            times, frm, to, handoff = DEPT_RUNS, "centre", sid, DEPT_HANDOFF_MIN
        elif site["kind"] == "post_office":  # office → centre at 07:30 … and back
            times, frm, to, handoff = OFFICE_RUNS, sid, "centre", OFFICE_HANDOFF_MIN
        else:
            continue
        for t in times:
            tag = t.replace(":", "")
            arrived = add(f"run-{tag}-{sid}", frm, to, _minutes(t), drive=drive, handoff=handoff)
            back_departs = arrived + TURNAROUND_MIN
            add(f"run-{tag}-{sid}-back", to, frm, back_departs, drive=drive, handoff=handoff)
    return runs


def _sample_home(rng: random.Random, wards: Sequence[Ward]) -> tuple[Ward, LatLon]:
    """A point uniform over the union of ``wards``: a ward by area, then rejection sampling."""
    ward = rng.choices(wards, weights=[w.geometry.area for w in wards])[0]
    minx, miny, maxx, maxy = ward.geometry.bounds
    for _ in range(10_000):
        lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if shapely.contains_xy(ward.geometry, lon, lat):
            return ward, LatLon(round(lat, 6), round(lon, 6))
    msg = f"could not draw a home inside {ward.full_name}"  # pragma: no cover (thin polygons)
    raise RuntimeError(msg)


def _citizen(rng: random.Random) -> dict[str, str]:
    female = rng.random() < 0.5
    middle = "Thị" if female and rng.random() < 0.6 else rng.choice(MIDDLE_NAMES)
    name = f"{rng.choice(FAMILY_NAMES)} {middle} {rng.choice(GIVEN_NAMES)}"
    phone = "09" + "".join(str(rng.randrange(10)) for _ in range(8))
    born_2000s = rng.random() < 0.25
    century_sex = (2 if born_2000s else 0) + (1 if female else 0)
    year = rng.randrange(0, 8) if born_2000s else rng.randrange(45, 100)
    # Citizen ID (CCCD): province code (096 = Cà Mau), century/sex digit, year of birth, 6 digits.
    id_number = f"096{century_sex}{year:02d}" + "".join(str(rng.randrange(10)) for _ in range(6))
    return {"name": name, "phone": phone, "id_number": id_number}


def _address(rng: random.Random, home: LatLon, ward: Ward, geo: Geography) -> str:
    """A 2025-style address, or (3 in 10) the 2024 style citizens still write, with the district."""
    hamlet = "khóm" if ward.kind == "phường" else "ấp"
    number = rng.randrange(1, 12)
    if rng.random() < 0.3:
        match = locate(home)
        if match.commune is not None and match.district is not None:
            commune = match.commune
            old_hamlet = "khóm" if commune.kind == "phường" else "ấp"
            return (
                f"{old_hamlet} {number}, {_lower_first(commune.full_name)}, "
                f"{_lower_first(match.district.name)}, {PROVINCE_NAME}"
            )
    return f"{hamlet} {number}, {ward.kind} {ward.name}, {PROVINCE_NAME}"


def _lower_first(text: str) -> str:
    """``"Huyện Trần Văn Thời"`` → ``"huyện Trần Văn Thời"``, as addresses are written."""
    return text[:1].lower() + text[1:]


def _working_days_after(day: date, n: int) -> date:
    d = day
    while n > 0:
        d += timedelta(days=1)
        if d.weekday() < 5:
            n -= 1
    return d


def _window(rng: random.Random, earliest: int, spread_min: int) -> tuple[int, int]:
    """A booked window of 2-4 h, ending by 17:00.

    It starts on a half hour between ``earliest`` (rounded up) and ``spread_min`` later, and
    never later than 15:00 so that it lasts at least 2 h.
    """
    latest_start = DAY_END_MIN - 120
    start = min(latest_start, _ceil_to(earliest, 30) + 30 * rng.randrange(spread_min // 30 + 1))
    length = rng.choice((120, 150, 180, 210, 240))
    return start, min(DAY_END_MIN, start + length)


def _office_demand(geo: Geography) -> dict[str, float]:
    weights = {}
    for dcode, office in DISTRICT_OFFICES.items():
        n = len(geo.districts[dcode].communes)
        weights[office] = n * (CITY_DEMAND_WEIGHT if office == CITY_OFFICE else 1.0)
    return weights


def _allocate(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Split ``total`` by weight with the largest-remainder method (deterministic)."""
    whole = sum(weights.values())
    exact = {k: total * w / whole for k, w in weights.items()}
    counts = {k: int(v) for k, v in exact.items()}
    left = total - sum(counts.values())
    for k in sorted(exact, key=lambda k: (-(exact[k] - counts[k]), k))[:left]:
        counts[k] += 1
    return counts


def camau_day(
    *,
    jobs: int,
    seed: int = 0,
    date: str = "2026-11-23",
    couriers: int | None = None,
    department_share: float = 0.0,
) -> dict[str, Any]:
    """Build a realistic plan request for one working day of the post in Cà Mau.

    Parameters
    ----------
    jobs
        Number of home jobs (pickups and returns, about half each), at least 1. A typical day
        province-wide is :data:`TYPICAL_DAY_JOBS` (≈ 42); tests use a few dozen, benchmarks
        thousands. Couriers scale with it.
    seed
        Seed of the random draws: the same seed (and arguments) gives identical JSON.
    date
        The plan's day, ``YYYY-MM-DD`` (local time, UTC+07:00).
    couriers
        Total couriers of the province, shared out among the offices in proportion to their
        jobs (at least one an office with jobs). By default each office has enough for its
        jobs (:data:`JOBS_PER_COURIER_RURAL`, :data:`JOBS_PER_COURIER_CITY`); a fixed fleet
        smaller than that makes an over-demanding day, as in a benchmark of 2,000 jobs for
        60 couriers.
    department_share
        Share (0 to 1) of pickups bound for a provincial department rather than the centre:
        they ride the trunk run to the centre, then an inter-agency run (a two-run journey,
        DESIGN §4). 0 by default, which keeps every day drawn before it the same.

    Returns
    -------
    dict
        A plan request in the JSON shape of DESIGN §4 with the agreed extensions (job ``size``,
        ``skills``, ``address``, ``procedure``, ``citizen``; courier ``skills``; site
        ``opening``; ``options``).

    Raises
    ------
    ValueError
        If ``jobs`` is not a positive integer, ``seed`` not an integer, ``date`` not an ISO
        date, or ``couriers`` fewer than the offices that have jobs.
    """
    day = _checked_arguments(jobs, seed, date, couriers)
    if not 0.0 <= department_share <= 1.0:
        msg = f"department_share must be between 0 and 1, got {department_share!r}."
        raise ValueError(msg)
    rng = random.Random(seed)
    geo = camau()
    sites = _sites(geo)
    shuttles = _shuttles(CENTRE_POINT, sites)
    per_office = _allocate(jobs, _office_demand(geo))
    fleet = _fleet(couriers, per_office) if couriers is not None else {}
    areas = district_service_areas()
    crew: list[dict[str, Any]] = []
    job_list: list[dict[str, Any]] = []
    for office in DISTRICT_OFFICES.values():
        if per_office[office] == 0:
            continue
        wards = [geo.wards[c] for c in areas.area(office).ward_codes]
        office_jobs = _office_jobs(
            rng,
            geo,
            office=office,
            wards=wards,
            n_jobs=per_office[office],
            shuttles=shuttles,
            day=day,
            first_number=len(job_list) + 1,
            department_share=department_share,
        )
        job_list += office_jobs
        crew += _couriers(office, office_jobs, fleet.get(office))
    return {
        "date": day.isoformat(),
        "sites": sites,
        "shuttles": shuttles,
        "couriers": crew,
        "jobs": job_list,
        "options": {"time_limit_s": 10, "seed": seed},
    }


def _checked_arguments(jobs: int, seed: int, day_iso: str, couriers: int | None) -> date:
    """Refuse bad arguments of :func:`camau_day` with a plain sentence; return the day."""
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        msg = f"jobs must be a positive whole number, got {jobs!r}."
        raise ValueError(msg)
    if couriers is not None and (
        isinstance(couriers, bool) or not isinstance(couriers, int) or couriers < 1
    ):
        msg = f"couriers must be a positive whole number, got {couriers!r}."
        raise ValueError(msg)
    if isinstance(seed, bool) or not isinstance(seed, int):
        msg = f"seed must be a whole number, got {seed!r}."
        raise ValueError(msg)
    try:
        return _parse_date(day_iso)
    except ValueError:
        msg = f"date must be an ISO date like 2026-11-23, got {day_iso!r}."
        raise ValueError(msg) from None


def _sites(geo: Geography) -> list[dict[str, Any]]:
    """The centre, the provincial departments, then a post office per old district."""
    sites: list[dict[str, Any]] = [
        {
            "id": "centre",
            "kind": "centre",
            "name": CENTRE_NAME,
            "lat": CENTRE_POINT.lat,
            "lon": CENTRE_POINT.lon,
            "opening": list(SHIFT),
        }
    ]
    sites += [
        {"id": i, "kind": "department", "name": n, "lat": lat, "lon": lon, "opening": list(SHIFT)}
        for i, n, lat, lon in DEPARTMENTS
    ]
    return sites + _offices(geo)


def _office_jobs(
    rng: random.Random,
    geo: Geography,
    *,
    office: str,
    wards: Sequence[Ward],
    n_jobs: int,
    shuttles: Sequence[dict[str, Any]],
    day: date,
    first_number: int,
    department_share: float = 0.0,
) -> list[dict[str, Any]]:
    """An office's jobs, about half returns when a run brings results back early enough."""
    # Results that reach the office early enough to be delivered in a 2-hour window.
    usable = [
        r
        for r in shuttles
        if r["from_site"] == "centre"
        and r["to_site"] == office
        and _minutes(r["arrives"]) <= DAY_END_MIN - 150
    ]
    n_returns = round(n_jobs * RETURN_SHARE) if usable else 0
    kinds = ["return"] * n_returns + ["pickup"] * (n_jobs - n_returns)
    rng.shuffle(kinds)
    return [
        _job(
            rng,
            geo,
            kind=kind,
            job_id=f"J{first_number + k:04d}",
            office=office,
            wards=wards,
            usable_runs=usable,
            day=day,
            department_share=department_share,
        )
        for k, kind in enumerate(kinds)
    ]


def _job(
    rng: random.Random,
    geo: Geography,
    *,
    kind: str,
    job_id: str,
    office: str,
    wards: Sequence[Ward],
    usable_runs: Sequence[dict[str, Any]],
    day: date,
    department_share: float = 0.0,
) -> dict[str, Any]:
    """One home job of ``office``: a pickup handed off there, or a return collected there."""
    ward, home = _sample_home(rng, wards)
    serial = job_id.removeprefix("J")
    job: dict[str, Any] = {"id": job_id, "kind": kind}
    if kind == "return":
        run = rng.choice(usable_runs)
        window = _window(rng, _minutes(run["arrives"]) + 30, spread_min=120)
        received = day - timedelta(days=rng.randrange(5, 21))
        due = day if rng.random() < 0.4 else _working_days_after(day, rng.randrange(1, 6))
        job.update(
            dossier=f"{CENTRE_CODE}-{received:%y%m%d}-{serial}",
            origin_site=office,
            ready_at=run["arrives"],
            due=due.isoformat(),
        )
    else:
        # Citizens book pickups mostly in the morning, so dossiers catch a run the same day.
        earliest = DAY_START_MIN + 30 * rng.choice((1, 1, 2, 3, 4, 6, 8, 10, 12))
        window = _window(rng, earliest, spread_min=0)
        # Drawn only when asked for, so days without departments keep their random draws.
        to_department = department_share > 0 and rng.random() < department_share
        job.update(
            dossier=f"{CENTRE_CODE}-{day:%y%m%d}-{serial}",
            handoff_site=office,
            destination_site=rng.choice(DEPARTMENTS)[0] if to_department else "centre",
        )
    job.update(
        lat=home.lat,
        lon=home.lon,
        window=[_hhmm(window[0]), _hhmm(window[1])],
        service_min=rng.randint(5, 12),
        size=rng.choices((1, 2, 3), weights=(85, 12, 3))[0],
        address=_address(rng, home, ward, geo),
        procedure=rng.choice(PROCEDURES),
        citizen=_citizen(rng),
    )
    if office in BOAT_OFFICES and rng.random() < BOAT_JOB_SHARE:
        job["skills"] = ["boat"]
    return job


def _fleet(total: int, per_office: dict[str, int]) -> dict[str, int]:
    """Share ``total`` couriers among the offices with jobs: one each, the rest by jobs."""
    busy = {office: n for office, n in per_office.items() if n}
    if total < len(busy):
        msg = f"couriers must be at least {len(busy)} (one for each office with jobs), got {total}."
        raise ValueError(msg)
    extra = _allocate(total - len(busy), {o: float(n) for o, n in busy.items()})
    return {office: 1 + extra[office] for office in busy}


def _couriers(
    office: str, jobs: Sequence[dict[str, Any]], n_couriers: int | None = None
) -> list[dict[str, Any]]:
    """Motorbike couriers for ``jobs`` (enough for them unless ``n_couriers`` is given); in
    canal districts some also take a boat."""
    per_courier = JOBS_PER_COURIER_CITY if office == CITY_OFFICE else JOBS_PER_COURIER_RURAL
    if office in BOAT_OFFICES:
        per_courier = JOBS_PER_COURIER_CANAL
    if n_couriers is None:
        n_couriers = max(1, math.ceil(len(jobs) / per_courier))
    n_boat_jobs = sum("boat" in j.get("skills", ()) for j in jobs)
    n_boat = min(n_couriers, math.ceil(n_boat_jobs / per_courier))
    couriers = []
    for k in range(n_couriers):
        courier: dict[str, Any] = {
            "id": f"{office.removeprefix('po-')}-{k + 1}",
            "start_site": office,
            "end_site": office,
            "mode": "motorbike",
            "capacity": COURIER_CAPACITY,
            "shift": list(SHIFT),
            "breaks": [dict(LUNCH)],
        }
        if k < n_boat:
            courier["skills"] = ["boat"]
        couriers.append(courier)
    return couriers


def _parse_date(value: Any) -> date:
    if not isinstance(value, str):
        raise ValueError(value)
    return date.fromisoformat(value)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: write a sample day as JSON (``python -m routing.sample_day --help``)."""
    parser = argparse.ArgumentParser(
        prog="python -m routing.sample_day",
        description="Write a realistic, seeded plan request for a day in Cà Mau.",
    )
    parser.add_argument("--jobs", type=int, default=TYPICAL_DAY_JOBS, help="home jobs (≥ 1)")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--date", default="2026-11-23", help="the day, YYYY-MM-DD")
    parser.add_argument(
        "--couriers", type=int, default=None, help="total couriers (default: enough per office)"
    )
    parser.add_argument(
        "--departments",
        type=float,
        default=0.0,
        help="share of pickups bound for a provincial department, via the centre (0 to 1)",
    )
    parser.add_argument("-o", "--output", help="file to write (default: standard output)")
    args = parser.parse_args(argv)
    try:
        request = camau_day(
            jobs=args.jobs,
            seed=args.seed,
            date=args.date,
            couriers=args.couriers,
            department_share=args.departments,
        )
    except ValueError as exc:
        parser.error(str(exc))
    text = json.dumps(request, ensure_ascii=False, indent=2) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
        print(
            f"wrote {args.output}: {len(request['jobs'])} jobs, "
            f"{len(request['couriers'])} couriers, {len(request['shuttles'])} shuttle runs",
            file=sys.stderr,
        )
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
