"""The request book over HTTP (DESIGN §8), on a real server with SQLite and PostgreSQL.

Requests are booked as JSON and imported from CSV (with and without BOM, English and
Vietnamese headers) and XLSX written here with openpyxl; the roster is stored and read back; a
day is planned from the book (a draft, published here) and the plan passes the independent
checker.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import Workbook

from harness.api_day import CITIZENS, auth, small_request, today_vn
from routing.checker import check_plan
from tests.support.server import create_tokens, serve

USERS = {"disp": "dispatcher", "staff": "staff", "c1": "courier"}
ADDRESS = "Ấp 3, xã Khánh Bình Tây, huyện Trần Văn Thời, Cà Mau"
"""An address the offline gazetteer places at its commune."""


class Book:
    """A running server with a dispatcher, a staff user and a courier."""

    def __init__(self, url: str, tokens: dict[str, str], client: httpx.Client) -> None:
        self.url, self.tokens, self.client = url, tokens, client

    def post(self, path: str, user: str = "disp", **kwargs: Any) -> httpx.Response:
        return self.client.post(f"{self.url}{path}", headers=auth(self.tokens[user]), **kwargs)

    def get(self, path: str, user: str = "staff", **kwargs: Any) -> httpx.Response:
        return self.client.get(f"{self.url}{path}", headers=auth(self.tokens[user]), **kwargs)

    def put(self, path: str, user: str = "disp", **kwargs: Any) -> httpx.Response:
        return self.client.put(f"{self.url}{path}", headers=auth(self.tokens[user]), **kwargs)

    def requests_of(self, day: str) -> dict[str, dict[str, Any]]:
        answer = self.get("/v1/requests", params={"date": day})
        assert answer.status_code == 200, answer.text
        return {r["id"]: r for r in answer.json()["data"]}

    def import_file(
        self, data: bytes, name: str = "book.csv", *, dry_run: bool = False
    ) -> httpx.Response:
        return self.post(
            "/v1/requests/import",
            params={"dry_run": "true"} if dry_run else None,
            files={"file": (name, data)},
        )


@pytest.fixture(scope="module")
def book(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Book]:
    log = Path(tmp_path_factory.mktemp("book-log")) / "server.log"
    with serve(database_url, log_path=log) as server, httpx.Client(timeout=60) as client:
        yield Book(server.base_url, create_tokens(database_url, USERS), client)


def day_after(days: int) -> str:
    """A day ``days`` after today in Vietnam (each test books its own day)."""
    return (date.fromisoformat(today_vn()) + timedelta(days=days)).isoformat()


def roster() -> dict[str, Any]:
    """The small day's sites, shuttles and couriers."""
    day = small_request(today_vn())
    return {k: day[k] for k in ("sites", "shuttles", "couriers")}


def jobs_as_requests(day: str, prefix: str) -> list[dict[str, Any]]:
    """The small day's jobs as requests of ``day``, with ids and dossiers made unique."""
    items = []
    for job in small_request(day)["jobs"]:
        item = {**job, "id": f"{prefix}-{job['id']}", "date": day}
        item["dossier"] = f"{prefix}-{job['dossier']}"
        items.append(item)
    return items


def test_roster_round_trip_and_refusals(book: Book) -> None:
    stored = book.put("/v1/roster", json=roster())
    assert stored.status_code == 200, stored.text
    back = book.get("/v1/roster").json()
    for part in ("sites", "shuttles", "couriers"):
        assert [x["id"] for x in back[part]] == [x["id"] for x in roster()[part]]
    assert back["couriers"][0]["breaks"][0]["duration_min"] == 45
    assert back["updated_at"]

    bad = roster()
    bad["couriers"][1]["start_site"] = "po-nowhere"
    refused = book.put("/v1/roster", json=bad)
    assert refused.status_code == 422
    assert "couriers[1].start_site" in refused.json()["message"]
    assert book.put("/v1/roster", "staff", json=roster()).status_code == 403
    assert book.get("/v1/roster").json()["couriers"][1]["start_site"] == "po-tvt"


def test_requests_are_idempotent_by_id(book: Book) -> None:
    day = day_after(1)
    items = jobs_as_requests(day, "idem")[:2]
    first = book.post("/v1/requests", json=items)
    assert first.status_code == 200, first.text
    assert [r["status"] for r in first.json()["results"]] == ["created", "created"]
    again = book.post("/v1/requests", json=items).json()["results"]
    assert [r["status"] for r in again] == ["unchanged", "unchanged"]
    items[1] = {**items[1], "window": ["13:30", "16:00"]}
    changed = book.post("/v1/requests", json=items).json()["results"]
    assert [r["status"] for r in changed] == ["unchanged", "updated"]
    stored = book.requests_of(day)
    assert stored["idem-R1"]["window"] == ["13:30", "16:00"]
    assert stored["idem-R1"]["status"] == "open"


def test_personal_data_is_kept_as_contacts_are(book: Book) -> None:
    day = day_after(2)
    item = {**jobs_as_requests(day, "pd")[0], "lat": None, "lon": None, "address": ADDRESS}
    answer = book.post("/v1/requests", json=[item])
    assert answer.json()["results"][0]["status"] == "created", answer.text
    listed = book.get("/v1/requests", params={"date": day})
    row = listed.json()["data"][0]
    assert row["citizen"]["name"] == CITIZENS["P1"]["name"]
    assert row["citizen"]["has_id_number"] is True
    assert CITIZENS["P1"]["id_number"] not in listed.text  # only its salted hashes are kept
    assert row["geocoded"] == {"precision": "ward", "name": "Khánh Bình Tây"}
    assert 8.5 < row["lat"] < 9.5 and 104.5 < row["lon"] < 105.5
    assert book.get("/v1/requests", "c1", params={"date": day}).status_code == 403
    assert book.post("/v1/requests", "staff", json=[item]).status_code == 403


def test_bad_requests_name_their_fields_and_are_not_stored(book: Book) -> None:
    day = day_after(3)
    good, *rest = jobs_as_requests(day, "bad")
    no_site = {**rest[0], "kind": "pickup", "handoff_site": None}
    bad_window = {**rest[1], "window": ["25:00", "11:00"]}
    nowhere = {**rest[2], "lat": None, "lon": None, "address": "số 1 phố Không Có"}
    results = book.post("/v1/requests", json=[good, no_site, bad_window, nowhere, 7]).json()
    statuses = [(r["status"], [e["field"] for e in r["errors"]]) for r in results["results"]]
    assert statuses == [
        ("created", []),
        ("error", ["handoff_site"]),
        ("error", ["window_from"]),
        ("error", ["address"]),
        ("error", ["row"]),
    ]
    assert "Không Có" not in str(results)  # the address is not echoed
    assert list(book.requests_of(day)) == ["bad-P1"]
    not_a_list = book.post("/v1/requests", json={"id": "x"})
    assert not_a_list.status_code == 422
    too_many = book.post("/v1/requests", json=[good] * 501)  # the default MAX_BATCH is 500
    assert too_many.status_code == 413
    assert book.post("/v1/requests", json=[]).json() == {"results": []}


def test_a_dossier_booked_twice_is_flagged(book: Book) -> None:
    day = day_after(4)
    first = jobs_as_requests(day, "twice")[0]
    second = {**first, "id": "twice-again"}
    results = book.post("/v1/requests", json=[first, second]).json()["results"]
    assert [r["status"] for r in results] == ["created", "created"]
    assert results[0]["duplicate_of"] == ["twice-again"]
    assert results[1]["duplicate_of"] == ["twice-P1"]

    assert book.put("/v1/roster", json=roster()).status_code == 200
    refused = book.post(f"/v1/days/{day}/plan")
    assert refused.status_code == 422
    assert "twice-P1 and twice-again" in refused.json()["message"]
    cancelled = book.post("/v1/requests/twice-again/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert book.post("/v1/requests/twice-again/cancel").json()["status"] == "cancelled"
    assert book.post("/v1/requests/nobody/cancel").status_code == 404
    assert book.post("/v1/requests/twice-again/cancel", "staff").status_code == 403
    again = book.post("/v1/requests", json=[first]).json()["results"][0]
    assert again["status"] == "unchanged" and again["duplicate_of"] == []
    planned = book.post(f"/v1/days/{day}/plan", json={"options": {"solution_limit": 20}})
    assert planned.status_code == 201, planned.text
    published = book.post(f"/v1/plans/{planned.json()['plan_id']}/publish")
    assert published.status_code == 200, published.text
    assert book.post("/v1/requests/twice-P1/cancel").status_code == 422  # planned now


def test_client_cannot_write_the_book_s_own_fields(book: Book) -> None:
    day = day_after(5)
    item = {**jobs_as_requests(day, "own")[0], "status": "done", "plan_id": "x", "geocoded": 1}
    assert book.post("/v1/requests", json=[item]).json()["results"][0]["status"] == "created"
    stored = book.requests_of(day)["own-P1"]
    assert (stored["status"], stored["plan_id"], stored["geocoded"]) == ("open", None, None)


ENGLISH = ["id", "kind", "dossier", "date", "window_from", "window_to", "address", "lat", "lon",
           "handoff_site", "destination_site", "origin_site", "ready_at", "due", "service_min",
           "citizen_name", "citizen_phone", "citizen_id", "procedure"]  # fmt: skip
VIETNAMESE = ["Mã yêu cầu", "Loại", "Mã hồ sơ", "Ngày", "Từ giờ", "Đến giờ", "Địa chỉ",
              "Vĩ độ", "Kinh độ", "Điểm bàn giao", "Nơi nhận hồ sơ", "Nơi lấy kết quả",
              "Giờ có kết quả", "Hạn trả", "Số phút phục vụ", "Họ tên", "Số điện thoại",
              "Số CCCD", "Thủ tục"]  # fmt: skip


def sheet_rows(day: str, prefix: str) -> list[list[Any]]:
    """The small day's four jobs as spreadsheet rows (columns in :data:`ENGLISH` order)."""
    rows = []
    for job in jobs_as_requests(day, prefix):
        citizen = job["citizen"]
        rows.append([
            job["id"], "nhận" if job["kind"] == "pickup" else "trả", job["dossier"], day,
            job["window"][0], job["window"][1], "", job["lat"], job["lon"],
            job.get("handoff_site", ""), job.get("destination_site", ""),
            job.get("origin_site", ""), job.get("ready_at", ""), job.get("due", ""),
            job["service_min"], citizen["name"], citizen["phone"], citizen["id_number"],
            job.get("procedure", ""),
        ])  # fmt: skip
    return rows


def as_csv(header: list[str], rows: list[list[Any]], *, bom: bool, delimiter: str = ",") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" if bom else "").encode() + out.getvalue().encode("utf-8")


def as_xlsx(header: list[str], rows: list[list[Any]], *, title: str | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    if title is not None:  # a title and a blank row above the header, as hotlines write them
        sheet.append([title])
        sheet.append([])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def typed_cells(rows: list[list[Any]]) -> list[list[Any]]:
    """Rows as a spreadsheet program stores them: a date cell, time cells, numbers."""
    typed = []
    for row in rows:
        hours = [time.fromisoformat(t) for t in row[4:6]]
        typed.append([*row[:3], date.fromisoformat(row[3]), *hours, *row[6:]])
    return typed


def plain_header(name: str) -> str:
    """A header typed without diacritics, in capitals, as some hotlines do."""
    bare = unicodedata.normalize("NFD", name.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in bare if not unicodedata.combining(c)).upper()


FILES: dict[str, Any] = {
    "csv-english-bom": lambda d, r: as_csv(ENGLISH, r, bom=True),
    "csv-vietnamese": lambda d, r: as_csv(VIETNAMESE, r, bom=False, delimiter=";"),
    "csv-no-diacritics": lambda d, r: as_csv([plain_header(h) for h in VIETNAMESE], r, bom=True),
    "xlsx-vietnamese": lambda d, r: as_xlsx(VIETNAMESE, r),
    "xlsx-typed-cells": lambda d, r: as_xlsx(ENGLISH, typed_cells(r)),
    "xlsx-titled": lambda d, r: as_xlsx(VIETNAMESE, r, title=f"DANH SÁCH YÊU CẦU {d}"),
}
"""Ways a hotline hands over its requests: ``(day, rows) -> file bytes``."""


@pytest.mark.parametrize(("kind", "make"), list(FILES.items()))
def test_import_stores_every_good_row_once(book: Book, kind: str, make: Any) -> None:
    day = day_after(10 + list(FILES).index(kind))  # each kind of file books its own day
    rows = sheet_rows(day, kind)
    data = make(day, rows)
    name = "book.xlsx" if kind.startswith("xlsx") else "book.csv"

    preview = book.import_file(data, name, dry_run=True)
    assert preview.status_code == 200, preview.text
    assert preview.json()["counts"] == {"created": 4, "updated": 0, "unchanged": 0, "error": 0}
    assert book.requests_of(day) == {}  # a dry run stores nothing

    first = book.import_file(data, name).json()
    header_at = 3 if kind == "xlsx-titled" else 1
    assert [(r["row"] - header_at, r["id"], r["status"]) for r in first["rows"]] == [
        (1, f"{kind}-P1", "created"),
        (2, f"{kind}-R1", "created"),
        (3, f"{kind}-P2", "created"),
        (4, f"{kind}-P3", "created"),
    ]
    stored = book.requests_of(day)
    assert stored[f"{kind}-R1"]["kind"] == "return"
    assert stored[f"{kind}-R1"]["window"] == ["13:00", "16:00"]
    assert stored[f"{kind}-P1"]["citizen"]["phone"] == CITIZENS["P1"]["phone"]
    assert stored[f"{kind}-P1"]["service_min"] == 10
    again = book.import_file(data, name).json()
    assert again["counts"] == {"created": 0, "updated": 0, "unchanged": 4, "error": 0}


def test_bad_rows_name_their_column_and_the_rest_is_stored(book: Book) -> None:
    day = day_after(20)
    rows = sheet_rows(day, "rows")
    rows[0][4] = "sáng sớm"  # window_from: "early morning" is no time
    rows[1][13] = "2026-02-30"  # due
    rows[2][7], rows[2][8] = "", ""  # no lat/lon and no address
    rows.append(["rows-P5", "thu hộ", "rows-D5", day, "08:00", "09:00", ADDRESS, "", "",
                 "po-tvt", "centre", "", "", "", "10", "", "", "", ""])  # fmt: skip
    rows.append(["rows-P6", "pickup", "rows-D6", day, "08:00", "09:00", ADDRESS, "", "",
                 "po-tvt", "centre", "", "", "", "10", "", "12", "", ""])  # fmt: skip
    rows.append(["rows-P7", "pickup", "rows-D7", day, "7h30", "9 giờ", ADDRESS, "", "",
                 "po-tvt", "centre", "", "", "", "10", "", "", "", ""])  # fmt: skip
    rows.append(["rows-P8", "pickup", "rows-D8", day, "10:00", "9:00", ADDRESS, "", "",
                 "po-tvt", "centre", "", "", "", "10", "", "", "", ""])  # fmt: skip
    answer = book.import_file(as_csv(ENGLISH, rows, bom=False))
    assert answer.status_code == 200, answer.text
    got = [
        (r["row"], r["status"], [e["column"] for e in r["errors"]]) for r in answer.json()["rows"]
    ]
    assert got == [
        (2, "error", ["window_from"]),
        (3, "error", ["due"]),
        (4, "error", ["address"]),
        (5, "created", []),
        (6, "error", ["kind"]),
        (7, "error", ["citizen_phone"]),
        (8, "created", []),
        (9, "error", ["window_to"]),
    ]
    stored = book.requests_of(day)
    assert list(stored) == ["rows-P3", "rows-P7"]
    assert stored["rows-P7"]["window"] == ["07:30", "09:00"]


def test_unreadable_files_store_nothing(book: Book) -> None:
    day = day_after(21)
    no_date = as_csv(
        [h for h in ENGLISH if h != "date"],
        [r[:3] + r[4:] for r in sheet_rows(day, "u")],
        bom=False,
    )
    for data, name, words in [
        (no_date, "book.csv", "date (Ngày)"),
        ("Mã yêu cầu,Loại\n".encode("utf-16"), "book.csv", "UTF-8"),
        (b"PK\x03\x04 not really a workbook", "book.xlsx", "XLSX"),
        (b"", "book.csv", "empty"),
    ]:
        answer = book.import_file(data, name)
        assert answer.status_code == 422, answer.text
        assert words in answer.json()["message"]
    assert book.requests_of(day) == {}
    assert book.import_file(b"id,kind\n", "book.csv", dry_run=True).status_code == 422


def test_too_many_rows_answer_413(book: Book) -> None:
    day = day_after(22)
    row = sheet_rows(day, "many")[0]
    rows = [[f"many-{i}", *row[1:]] for i in range(10_001)]
    answer = book.import_file(as_csv(ENGLISH[:6], [r[:6] for r in rows], bom=False))
    assert answer.status_code == 413, answer.text
    assert book.requests_of(day) == {}
    over_the_byte_limit = as_csv(ENGLISH[:6], [r[:6] for r in rows * 4], bom=False)
    assert len(over_the_byte_limit) > 2_000_000  # the server's default MAX_BODY_BYTES
    assert book.import_file(over_the_byte_limit).status_code == 413


def checked_request(book: Book, day: str, plan: dict[str, Any]) -> dict[str, Any]:
    """The plan request the day was planned from, rebuilt from the stored roster and book."""
    keys = ("id", "kind", "dossier", "lat", "lon", "window", "service_min", "handoff_site",
            "destination_site", "origin_site", "ready_at", "due")  # fmt: skip
    jobs = [
        {k: r[k] for k in keys if r.get(k) is not None}
        for r in book.requests_of(day).values()
        if r["plan_id"] == plan["plan_id"] or r["status"] == "open"
    ]
    stored = book.get("/v1/roster").json()
    return {"date": day, **{k: stored[k] for k in ("sites", "shuttles", "couriers")}, "jobs": jobs}


def test_plan_the_day_from_the_book(book: Book) -> None:
    day = day_after(30)
    assert book.put("/v1/roster", json=roster()).status_code == 200
    empty = book.post(f"/v1/days/{day}/plan", json={"options": {"solution_limit": 20}})
    assert empty.status_code == 422
    assert "no open request" in empty.json()["message"]

    items = jobs_as_requests(day, "plan")
    items[3] = {**items[3], "lat": None, "lon": None, "address": ADDRESS}
    other_day = {**items[0], "id": "plan-other-day", "date": day_after(31)}
    booked = book.post("/v1/requests", json=[*items, other_day]).json()["results"]
    assert {r["status"] for r in booked} == {"created"}

    answer = book.post(f"/v1/days/{day}/plan", json={"options": {"solution_limit": 20}})
    assert answer.status_code == 201, answer.text
    plan = answer.json()
    assert plan["date"] == day and plan["state"] == "draft"
    assert plan["kpis"]["jobs"] == 4
    assert check_plan(checked_request(book, day, plan), plan) == []
    # A draft changes nothing in the book until it is published (tests/api/test_drafts.py).
    assert {r["status"] for r in book.requests_of(day).values()} == {"open"}
    published = book.post(f"/v1/plans/{plan['plan_id']}/publish")
    assert published.status_code == 200, published.text
    routed = {s["job"] for r in plan["routes"] for s in r["stops"] if s.get("job")}
    stored = book.requests_of(day)
    assert {rid for rid, r in stored.items() if r["status"] == "planned"} == routed
    assert all(r["plan_id"] == plan["plan_id"] for r in stored.values() if r["status"] == "planned")
    assert book.requests_of(day_after(31))["plan-other-day"]["status"] == "open"
    by_status = book.get("/v1/requests", params={"date": day, "status": "planned"}).json()
    assert {r["id"] for r in by_status["data"]} == routed
    assert book.get("/v1/requests", params={"status": "bogus"}).status_code == 422
    assert book.get(f"/v1/plans/{plan['plan_id']}").json()["plan_id"] == plan["plan_id"]

    # The planned dossiers carry the citizen's ID check and the public lookup's phone digits.
    code = items[0]["dossier"]
    assert book.get(f"/v1/dossiers/{code}").json()["identity_check"] is not None
    tracked = book.client.get(f"{book.url}/v1/track/{code}", params={"phone_last4": "5678"})
    assert tracked.status_code == 200, tracked.text
    wrong = book.client.get(f"{book.url}/v1/track/{code}", params={"phone_last4": "0000"})
    assert wrong.status_code == 404

    moved = {**items[0], "window": ["09:00", "10:00"]}
    refused = book.post("/v1/requests", json=[moved]).json()["results"][0]
    assert refused["status"] == "error" and refused["errors"][0]["field"] == "id"
    assert book.post("/v1/requests", json=[items[0]]).json()["results"][0]["status"] == "unchanged"
    if routed == set(stored):
        again = book.post(f"/v1/days/{day}/plan", json={"options": {"solution_limit": 20}})
        assert again.status_code == 422
    assert book.post(f"/v1/days/{day}/plan", "staff").status_code == 403
    assert book.post("/v1/days/2026-02-30/plan").status_code == 422


def test_two_imports_of_the_same_requests_at_once_store_each_once(book: Book) -> None:
    day = day_after(40)
    template = jobs_as_requests(day, "race")[0]
    items = [{**template, "id": f"race-{i}", "dossier": f"race-D{i}"} for i in range(60)]

    def post() -> httpx.Response:
        with httpx.Client(timeout=60) as client:
            headers = auth(book.tokens["disp"])
            return client.post(f"{book.url}/v1/requests", json=items, headers=headers)

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda _: post(), range(2)))
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    for i in range(60):
        statuses = sorted(a.json()["results"][i]["status"] for a in answers)
        assert statuses == ["created", "unchanged"], (i, statuses)
    assert len(book.requests_of(day)) == 60
