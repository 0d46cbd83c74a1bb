"""Wire schemas of the HTTP API (pydantic), mirroring the JSON contracts of DESIGN §4 and §7.

These classes check the shape of what a client sends and document it in OpenAPI; the meaning
(known sites, windows inside shifts, life-cycle rules) is checked by ``routing`` and ``tracking``,
which receive plain dicts. Plan requests allow extra keys so that additions to the contract pass
through to the optimizer unchanged.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.dates import SaneDatetime

_ID = Field(min_length=1, max_length=100)
_MAX_SMALL_LIST = 50
"""Most skills or breaks of one courier or job: a longer list is refused before its items are
checked one by one (600,000 of them held the server for seconds, issue 15)."""
_MAX_PLACES = 6_000
"""Most ids of a travel matrix: every site and job of the largest plan request."""

EXAMPLE_REQUEST: dict[str, Any] = {
    "date": "2026-11-23",
    "sites": [
        {"id": "centre", "kind": "centre", "name": "Trung tâm PVHCC", "lat": 9.1769,
         "lon": 105.1524},
        {"id": "po-tvt", "kind": "post_office", "name": "Bưu điện Trần Văn Thời", "lat": 9.0809,
         "lon": 104.9716},
    ],
    "shuttles": [
        {"id": "run-1000", "from_site": "po-tvt", "to_site": "centre", "departs": "10:00",
         "arrives": "10:50", "handoff_min": 10},
    ],
    "couriers": [
        {"id": "c1", "start_site": "po-tvt", "end_site": "po-tvt", "mode": "motorbike",
         "capacity": 40, "shift": ["07:00", "17:00"],
         "breaks": [{"earliest": "11:00", "latest": "13:30", "duration_min": 60}]},
    ],
    "jobs": [
        {"id": "J1", "kind": "pickup", "dossier": "H12.22-241013-0001", "lat": 9.05, "lon": 104.98,
         "window": ["08:00", "09:30"], "service_min": 10, "handoff_site": "po-tvt",
         "destination_site": "centre"},
    ],
    "options": {"time_limit_s": 5},
}  # fmt: skip


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class SiteIn(_Open):
    """A centre, post office, one-stop office or department."""

    id: str = _ID
    kind: str | None = None
    name: str | None = None
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    opening: list[str] | None = Field(default=None, min_length=2, max_length=2)


class ShuttleIn(_Open):
    """A fixed run between two sites (times ``HH:MM`` on the plan's date, or ISO)."""

    id: str = _ID
    from_site: str
    to_site: str
    departs: str
    arrives: str
    handoff_min: float | None = Field(default=None, ge=0)


class BreakIn(_Open):
    """A break to take inside ``[earliest, latest]``."""

    earliest: str
    latest: str
    duration_min: float = Field(ge=0)


class CourierIn(_Open):
    """A courier: start and end site, travel mode, capacity, shift, breaks, skills."""

    id: str = _ID
    start_site: str
    end_site: str | None = None
    mode: str = "motorbike"
    capacity: int | None = Field(default=None, ge=0)
    shift: list[str] = Field(min_length=2, max_length=2)
    breaks: list[BreakIn] | None = Field(default=None, max_length=_MAX_SMALL_LIST)
    skills: list[str] | None = Field(default=None, max_length=_MAX_SMALL_LIST)


class CitizenIn(BaseModel):
    """The citizen's contact (personal data: stored protected, never copied into the plan)."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    id_number: str | None = Field(default=None, max_length=40)


class JobIn(_Open):
    """A home pickup (to a hand-off site) or a home return (from an origin site).

    A job without ``lat``/``lon`` is placed by its ``address`` with the configured geocoder
    (the offline gazetteer by default) at the point of the ward or district it names.
    """

    id: str = _ID
    kind: Literal["pickup", "return"]
    dossier: str = _ID
    lat: float | None = Field(
        default=None, ge=-90, le=90, description="Omit lat and lon to place the job by address."
    )
    lon: float | None = Field(default=None, ge=-180, le=180)
    window: list[str] = Field(min_length=2, max_length=2)
    service_min: float | None = Field(default=None, ge=0)
    handoff_site: str | None = None
    destination_site: str | None = None
    origin_site: str | None = None
    ready_at: str | None = None
    ready_site: str | None = Field(
        default=None,
        max_length=100,
        description="return: the site where the result is ready at ready_at, upstream of "
        "origin_site; the plan brings it to origin_site by the shuttle runs",
    )
    due: str | None = None
    size: int | None = Field(default=None, ge=1)
    skills: list[str] | None = Field(default=None, max_length=_MAX_SMALL_LIST)
    address: str | None = Field(default=None, max_length=500)
    procedure: str | None = Field(default=None, max_length=200)
    processing_days: int | None = Field(
        default=None,
        ge=0,
        le=365,
        description="The procedure's processing time in working days: sets the promised date.",
    )
    received_on: str | None = Field(
        default=None,
        pattern=r"^\d{4}-\d{2}-\d{2}$",
        description="When the agency received the dossier (default: the plan's day).",
    )
    citizen: CitizenIn | None = None
    courier: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="Lock the job to this courier (an id of ``couriers``): the plan puts it on "
        "that courier's route or leaves it unassigned with a reason naming the lock.",
        examples=["c1"],
    )
    priority: Literal["high", "normal"] | None = Field(
        default=None,
        description="`high`: the planner leaves this job out only as a last resort (carried "
        "over from an earlier day with its due date near).",
    )


class TravelIn(_Open):
    """A travel matrix over site and job ids that replaces the travel model."""

    ids: list[str] = Field(max_length=_MAX_PLACES)
    minutes: list[list[float]] = Field(max_length=_MAX_PLACES)
    km: list[list[float]] | None = Field(default=None, max_length=_MAX_PLACES)


class OptionsIn(_Open):
    """Solver options."""

    time_limit_s: float | None = Field(default=None, gt=0)
    solution_limit: int | None = Field(default=None, gt=0)
    seed: int | None = None
    workers: int | None = Field(
        default=None,
        ge=1,
        le=64,
        description="Processes that solve a large day's districts at once (default: the "
        "server's BUUTA_DISTRICT_WORKERS, or one per core); never more than that setting.",
    )


class PlanRequestIn(_Open):
    """A day's planning problem (DESIGN §4)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [EXAMPLE_REQUEST]})
    date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$", examples=["2026-11-23"])
    sites: list[SiteIn]
    shuttles: list[ShuttleIn] = Field(default_factory=list)
    couriers: list[CourierIn]
    jobs: list[JobIn]
    travel: TravelIn | None = None
    options: OptionsIn | None = None


class JourneyOut(_Open):
    """A dossier's journey through the timetable from its hand-off (DESIGN §4)."""

    runs: list[str] = Field(description="run ids in order, the hand-off's shuttle first")
    reaches: str | None = Field(
        description="arrival at the destination; null when no journey reaches it today",
        examples=["2026-11-23T14:20:00+07:00"],
    )


class StopOut(_Open):
    """One stop of a route (DESIGN §4); which fields it has depends on its ``type``."""

    type: Literal["start", "pickup", "handoff", "collect", "delivery", "break", "end"]
    site: str | None = Field(
        default=None, description="start, end, hand-off, collect; a break taken at a site"
    )
    job: str | None = Field(default=None, description="pickup and delivery")
    dossier: str | None = None
    lat: float | None = None
    lon: float | None = None
    jobs: list[str] | None = Field(default=None, description="hand-off and collect")
    shuttle: str | None = Field(default=None, description="hand-off: the run caught, or null")
    journeys: dict[str, JourneyOut] | None = Field(
        default=None, description="hand-off for a shuttle: each job's journey to its destination"
    )
    late: bool | None = Field(
        default=None,
        description="re-plan: a delivery past its window, a hand-off after its site closes, "
        "an end after the courier's shift (dossiers in the bag brought home)",
    )
    arrive: str | None = Field(
        default=None,
        examples=["2026-11-23T08:05:00+07:00"],
        description="when the courier reaches the stop's place (a break's place too)",
    )
    start: str | None = None
    depart: str | None = None
    load: int | None = None


class RouteOut(_Open):
    """The day of one courier: its stops in order (and, on a re-plan, those already done)."""

    courier: str
    mode: str | None = None
    distance_km: float
    duration_min: float | None = None
    idle_min: float | None = Field(
        default=None, description="Minutes waiting between stops: not riding, serving or resting."
    )
    stops: list[StopOut]
    done: list[StopOut] | None = None


class UnassignedOut(_Open):
    """A job in no route, with a reason a dispatcher understands."""

    job: str
    reason: str
    detail: str


class SolverOut(_Open):
    """How the search went."""

    status: str
    cost: int
    seconds: float
    solutions: int
    districts: int | None = None
    workers: int | None = Field(
        default=None, description="Processes that solved the districts (days by districts)."
    )
    lent: int | None = Field(
        default=None, description="Jobs served by a courier lent from another district."
    )


class IdleWhileUnservedOut(_Open):
    """A courier free for hours of its shift while jobs of its district wait for ``no_time``."""

    courier: str
    free_min: float
    unserved: int


class KpisOut(_Open):
    """The plan's figures."""

    jobs: int | None = None
    served: int | None = None
    unassigned: int | None = None
    unassigned_by_reason: dict[str, int] | None = None
    distance_km: float | None = None
    duration_min: float | None = None
    couriers_used: int | None = None
    runs_caught: int | None = None
    runs_missed: int | None = None
    reaching_today: int | None = Field(
        default=None, description="dossiers handed over whose journey reaches them today"
    )
    idle_min: float | None = Field(
        default=None, description="Minutes all couriers wait between their stops."
    )
    idle_while_unserved: list[IdleWhileUnservedOut] | None = Field(
        default=None,
        description="Couriers free for 2 hours or more while jobs of their district wait for "
        "no_time: a sign the search fell short (not on re-plans).",
    )
    solver: SolverOut | None = None


class ChangeOut(BaseModel):
    """What a re-plan changed for one job (``from``/``to``: courier ids, null if unassigned)."""

    model_config = ConfigDict(populate_by_name=True)

    job: str
    from_: str | None = Field(alias="from")
    to: str | None
    change: Literal["moved", "added", "cancelled", "dropped", "assigned", "late"]


class PlanOut(_Open):
    """A plan (DESIGN §4): routes of typed stops, unassigned jobs with reasons, KPIs.

    A re-plan adds ``changes``, ``replanned_at`` and ``previous_plan_id``. The JSON is written
    by :func:`routing.plan.plan_to_json`; this model describes it for the OpenAPI document.
    """

    plan_id: str
    date: str
    status: Literal["complete", "partial"]
    routes: list[RouteOut]
    unassigned: list[UnassignedOut]
    kpis: KpisOut
    changes: list[ChangeOut] | None = None
    replanned_at: str | None = None
    previous_plan_id: str | None = None
    state: Literal["draft", "published", "superseded"] | None = Field(
        default=None,
        description=(
            "A stored plan's state: a draft is seen by dispatchers only until it is published."
        ),
    )


class PlanSummary(BaseModel):
    """One stored plan in a list."""

    plan_id: str
    date: str
    status: str | None = None
    state: str = Field(
        default="published", description="draft, published or superseded", examples=["draft"]
    )
    created_by: str | None = None
    created_at: str | None = None
    kpis: dict[str, Any] | None = None


class PlanListOut(BaseModel):
    """Stored plans of a day."""

    data: list[PlanSummary]
    count: int


class ReplanIn(BaseModel):
    """Re-planning during the day.

    Done stops and couriers' positions are taken from the recorded scans and positions; the
    dispatcher adds or cancels jobs and says what time it is (default: now).
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "now": "2026-11-23T11:30:00+07:00",
                    "added_jobs": [
                        {"id": "J9", "kind": "pickup", "dossier": "H12.22-261123-0109",
                         "address": "ấp 3, xã Khánh Bình, huyện Trần Văn Thời, Cà Mau",
                         "window": ["14:00", "16:00"], "handoff_site": "po-tvt",
                         "destination_site": "centre"}
                    ],
                    "cancelled_jobs": ["J4"],
                    "time_limit_s": 10,
                }
            ]
        },
    )  # fmt: skip
    now: SaneDatetime | None = None
    added_jobs: list[JobIn] = Field(default_factory=list)
    cancelled_jobs: list[str] = Field(default_factory=list)
    time_limit_s: float | None = Field(default=None, gt=0)
    draft: bool = Field(
        default=False,
        description=(
            "Store the re-plan as a draft to review and publish (POST /v1/plans/{id}/publish); "
            "false publishes it at once, as before."
        ),
    )


class ScanEventIn(BaseModel):
    """A scan made on a courier's phone or at a counter (DESIGN §7)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "event_id": "7d7c2f36-5f43-4b55-9a55-5a8f0f3f2a11",
                    "dossier": "H12.22-241013-0001",
                    "type": "collected",
                    "at": "2026-11-23T08:12:00+07:00",
                    "site": None,
                    "lat": 9.05,
                    "lon": 104.98,
                    "job": "J1",
                    "proof": {"photo_sha256": "9f86d081884c7d659a2feaa0c55ad015"},
                }
            ]
        },
    )
    event_id: str = Field(min_length=1, max_length=100)
    dossier: str = _ID
    type: str = Field(min_length=1, max_length=40)
    at: SaneDatetime
    site: str | None = Field(default=None, max_length=100)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    job: str | None = Field(default=None, max_length=100)
    proof: dict[str, Any] | None = Field(
        default=None,
        description=(
            "For 'delivered': {'code': '123456'} (one-time code) or {'id_last4': '6789'}, plus "
            "'recipient_name' when someone other than the applicant receives the result."
        ),
    )
    reason: str | None = Field(
        default=None, max_length=300, description="Why a 'delivery_failed' happened."
    )


class ScanResultOut(BaseModel):
    """What happened to one event."""

    event_id: str
    status: Literal["stored", "duplicate", "conflict", "flagged"]
    reason: str | None = None
    first_status: str | None = Field(
        default=None, description="For a duplicate: the answer the event got the first time."
    )
    dossier_status: str | None = Field(
        default=None, description="The dossier's status after the batch."
    )


class ScanResultsOut(BaseModel):
    """One result per event, in the order sent."""

    results: list[ScanResultOut]


class PositionIn(BaseModel):
    """A courier's position at a time."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"at": "2026-11-23T08:05:00+07:00", "lat": 9.0712, "lon": 104.9893, "accuracy_m": 8}
            ]
        },
    )
    at: SaneDatetime
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    accuracy_m: float | None = Field(default=None, ge=0)


class PositionsOut(BaseModel):
    """How many positions were recorded."""

    recorded: int


class DeliveryCodeOut(BaseModel):
    """A one-time code to give the citizen (shown once; only its hash is kept)."""

    dossier: str
    code: str
