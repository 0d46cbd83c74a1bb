"""``GET /v1/slots`` on a real server, with SQLite and PostgreSQL.

The day: one courier, c1, works 07:00–09:40 from the Cà Mau post office (po-cm) and has one
pickup, Q, booked 09:00–09:10 near the office; Q's dossier must catch run-0930 (cut-off 09:20).
The solver's route: leave po-cm, serve Q 09:00–09:10, hand over at po-cm at 09:10 + t (t, the
ride between Q's home and po-cm, about 7¾ minutes), end there.

The slots asked are for a second citizen living in Q's very house (no ride between the two), with
the windows 08:00–08:30, 09:05–09:25 and 09:30–09:40 (``BUUTA_SLOT_WINDOWS``):

* 08:00–08:30 fits before Q: leave po-cm, serve 08:00–08:10, wait for Q. The ride there replaces
  the ride to Q, so the extra is the 10 minutes of service alone;
* 09:05–09:25 fits nowhere: before Q, Q would begin after 09:10; after Q (09:10–09:20) the
  hand-off would come at 09:20 + t, after run-0930's cut-off 09:20; after the hand-off the
  courier would reach the house at 09:19:43 + 2 min + t, after 09:25;
* 09:30–09:40 would bring c1 back after its shift ends at 09:40.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.api_day import auth, today_vn
from tests.support.server import create_tokens, serve

USERS = {"disp": "dispatcher", "staff": "staff", "c1": "courier"}
WINDOWS = "08:00-08:30,09:05-09:25,09:30-09:40"
HOME = {"lat": 9.1702, "lon": 105.1610}


def _day(day: str) -> dict[str, Any]:
    return {
        "date": day,
        "sites": [
            {"id": "centre", "kind": "centre", "lat": 9.1769, "lon": 105.1524},
            {"id": "po-cm", "kind": "post_office", "lat": 9.1795, "lon": 105.1445},
        ],
        "shuttles": [{"id": "run-0930", "from_site": "po-cm", "to_site": "centre",
                      "departs": "09:30", "arrives": "09:50", "handoff_min": 10}],
        "couriers": [{"id": "c1", "start_site": "po-cm", "end_site": "po-cm", "capacity": 10,
                      "shift": ["07:00", "09:40"]}],
        "jobs": [{"id": "Q", "kind": "pickup", "dossier": "H12.22-SLOT-0001", **HOME,
                  "window": ["09:00", "09:10"], "service_min": 10, "handoff_site": "po-cm",
                  "destination_site": "centre"}],
        "options": {"time_limit_s": 5, "solution_limit": 20},
    }  # fmt: skip


class Slots:
    """A running server with the day planned for today, and its users."""

    def __init__(self, url: str, tokens: dict[str, str], client: httpx.Client) -> None:
        self.url, self.tokens, self.client = url, tokens, client
        self.today = today_vn()
        self.plan: dict[str, Any] = {}

    def get(self, user: str = "staff", **params: Any) -> httpx.Response:
        query = {"date": self.today, "kind": "pickup", "handoff_site": "po-cm", **HOME}
        query.update(params)
        query = {k: v for k, v in query.items() if v is not None}
        return self.client.get(
            f"{self.url}/v1/slots", params=query, headers=auth(self.tokens[user])
        )

    def stop(self, kind: str) -> dict[str, Any]:
        [route] = self.plan["routes"]
        return next(s for s in route["stops"] if s["type"] == kind)


@pytest.fixture(scope="module")
def slots(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slots]:
    log = Path(tmp_path_factory.mktemp("slots-log")) / "server.log"
    env = {"BUUTA_SLOT_WINDOWS": WINDOWS}
    with (
        serve(database_url, env=env, log_path=log) as server,
        httpx.Client(timeout=60) as client,
    ):
        s = Slots(server.base_url, create_tokens(database_url, USERS), client)
        day = _day(s.today)
        planned = client.post(f"{s.url}/v1/plans", json=day, headers=auth(s.tokens["disp"]))
        assert planned.status_code == 201, planned.text
        s.plan = planned.json()
        roster = {k: day[k] for k in ("sites", "shuttles", "couriers")}
        stored = client.put(f"{s.url}/v1/roster", json=roster, headers=auth(s.tokens["disp"]))
        assert stored.status_code == 200, stored.text
        yield s


def _at(day: str, hhmm: str) -> str:
    return f"{day}T{hhmm}:00+07:00"


def _minutes(later: str, earlier: str) -> float:
    return (datetime.fromisoformat(later) - datetime.fromisoformat(earlier)).total_seconds() / 60


def test_the_plan_s_windows_by_hand_checked_numbers(slots: Slots) -> None:
    """Before the day begins, each window is answered as worked out in the module docstring."""
    pickup, handoff = slots.stop("pickup"), slots.stop("handoff")
    assert pickup["start"] == _at(slots.today, "09:00")
    assert handoff["shuttle"] == "run-0930"
    ride = _minutes(handoff["arrive"], pickup["depart"])  # t, about 7.7 minutes
    # After the hand-off the house is reached at 09:19:43 + 2 + t: after 09:25.
    assert _minutes(handoff["depart"], _at(slots.today, "09:25")) + ride > 0

    answer = slots.get(now=_at(slots.today, "06:00"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["basis"], body["plan_id"], body["kind"]) == (
        "plan",
        slots.plan["plan_id"],
        "pickup",
    )
    fits, broken, late = body["windows"]
    assert fits["window"] == ["08:00", "08:30"]
    assert (fits["available"], fits["courier"], fits["extra_min"]) == (True, "c1", 10.0)
    assert (fits["arrive"], fits["run"]) == (_at(slots.today, "08:00"), "run-0930")
    assert broken["window"] == ["09:05", "09:25"]
    assert (broken["available"], broken["reason"]) == (False, "later_stop_late")
    assert "run-0930" in broken["detail"] and "09:20" in broken["detail"]
    assert (late["available"], late["reason"]) == (False, "shift_end")
    assert "09:40" in late["detail"]


def test_windows_begun_today_are_left_out(slots: Slots) -> None:
    """At 08:40 today the 08:00–08:30 window is over: only the two later ones are answered."""
    body = slots.get(now=_at(slots.today, "08:40")).json()
    assert [w["window"] for w in body["windows"]] == [["09:05", "09:25"], ["09:30", "09:40"]]
    assert body["now"] == _at(slots.today, "08:40")
    evening = slots.get(now=_at(slots.today, "18:00")).json()
    assert evening["windows"] == []


def test_a_day_without_a_plan_is_answered_from_the_roster(slots: Slots) -> None:
    """Tomorrow has no plan: c1 rides from po-cm at 07:00, serves, and comes back.

    08:00–08:30: there and back (2 t), 10 minutes of service and 2 at the hand-off, in time for
    run-0930; 09:30–09:40: back at 09:40 + t, after the shift.
    """
    pickup, handoff = slots.stop("pickup"), slots.stop("handoff")
    ride = _minutes(handoff["arrive"], pickup["depart"])
    tomorrow = (date.fromisoformat(slots.today) + timedelta(days=1)).isoformat()
    body = slots.get(date=tomorrow).json()
    assert (body["basis"], body["plan_id"]) == ("roster", None)
    early, middle, late = body["windows"]
    assert (early["available"], early["courier"]) == (True, "c1")
    assert early["extra_min"] == pytest.approx(2 * ride + 10 + 2, abs=0.1)  # 2: the hand-off
    assert early["run"] == "run-0930"
    assert middle["available"] is True
    assert (late["available"], late["reason"]) == (False, "shift_end")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lat": 91}, "lat"),
        ({"lon": "east"}, "lon"),
        ({"kind": "boat"}, "kind"),
        ({"lat": None}, "lat"),
        ({"date": "23/11/2026"}, "date"),
        ({"service_min": -5}, "service_min"),
        ({"now": "yesterday"}, "now"),
    ],
)
def test_bad_fields_answer_422_naming_them(
    slots: Slots, params: dict[str, Any], field: str
) -> None:
    """A malformed or missing query field is refused with a 422 that names it."""
    answer = slots.get(**params)
    assert answer.status_code == 422, answer.text
    assert field in {f["field"].rsplit(".", 1)[-1] for f in answer.json()["fields"]}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"handoff_site": "po-nowhere"}, "handoff_site"),
        ({"handoff_site": None}, "handoff_site"),
        ({"kind": "return", "handoff_site": None}, "origin_site"),
        ({"kind": "return", "origin_site": "po-cm", "ready_at": "25:99"}, "ready_at"),
        ({"destination_site": "dept-x"}, "destination_site"),
        ({"date": "2099-01-05"}, "date"),
        ({"date": "2026-13-01"}, "date"),
        ({"lat": 0, "lon": 0}, "lat"),
    ],
)
def test_meaningless_fields_answer_422_naming_them(
    slots: Slots, params: dict[str, Any], field: str
) -> None:
    """Unknown sites, a pickup with no hand-off site, a far date: 422 whose message names them."""
    answer = slots.get(**params)
    assert answer.status_code == 422, answer.text
    assert answer.json()["message"].startswith(field), answer.json()


def test_only_the_office_s_roles_may_ask(slots: Slots) -> None:
    """Dispatchers and staff may ask; a courier may not, nor anyone without a token."""
    assert slots.get("disp").status_code == 200
    assert slots.get("c1").status_code == 403
    anonymous = slots.client.get(f"{slots.url}/v1/slots", params={"date": slots.today})
    assert anonymous.status_code == 401


def test_a_return_needs_its_result_at_the_office_before_the_window(slots: Slots) -> None:
    """The route passes po-cm at the start only; a result ready at 09:00 misses 08:00–08:30."""
    ready_now = slots.get(
        kind="return", handoff_site=None, origin_site="po-cm", now=_at(slots.today, "06:00")
    ).json()
    assert ready_now["windows"][0]["available"] is True
    later = slots.get(
        kind="return", handoff_site=None, origin_site="po-cm", ready_at="09:00",
        now=_at(slots.today, "06:00"),
    ).json()  # fmt: skip
    assert (later["windows"][0]["available"], later["windows"][0]["reason"]) == (
        False,
        "no_collect",
    )


def test_a_window_promised_is_kept_when_the_day_is_planned_again(slots: Slots) -> None:
    """The optimizer agrees: a day with Q and a second pickup booked in the window the slots
    offered (08:00–08:30, at Q's house) is planned with both served by c1, in time for run-0930."""
    body = slots.get(now=_at(slots.today, "06:00")).json()
    offered = next(w for w in body["windows"] if w["available"])
    later = (date.fromisoformat(slots.today) + timedelta(days=2)).isoformat()  # tomorrow: roster
    day = _day(later)
    day["jobs"][0]["dossier"] = "H12.22-SLOT-0002"
    day["jobs"].append({**day["jobs"][0], "id": "NEW", "dossier": "H12.22-SLOT-0003",
                        "window": offered["window"]})  # fmt: skip
    answer = slots.client.post(
        f"{slots.url}/v1/plans", json=day, headers=auth(slots.tokens["disp"])
    )
    assert answer.status_code == 201, answer.text
    plan = answer.json()
    assert plan["unassigned"] == []
    [route] = plan["routes"]
    assert route["courier"] == offered["courier"]
    handoffs = [s for s in route["stops"] if s["type"] == "handoff"]
    assert {h["shuttle"] for h in handoffs} == {offered["run"]}
