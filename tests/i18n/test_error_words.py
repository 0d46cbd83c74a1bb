"""The request book's error sentences said in Vietnamese (``api.error_words``).

The sentences are produced here by the real checks (the book's request schema and meaning, the
planner's roster reader, the spreadsheet reader) from bad input, not copied: a test fails when
one of them drifts from the patterns, so a Vietnamese page never falls back to "this value is
not accepted" for an error it knows.
"""

from __future__ import annotations

from typing import Any

import pytest

from api.error_words import error_words
from api.i18n import use_locale
from api.request_import import UnreadableFile, read_rows
from api.routes.requests import RosterIn, _validated, checked_roster
from harness.api_day import small_request
from routing.request import RequestError
from tests.i18n.english import english_left
from tracking.requests import check_request

FALLBACK = "Giá trị này không hợp lệ."
DAY = "2026-12-01"


def _request(**change: Any) -> dict[str, Any]:
    item = {"id": "R1", "kind": "pickup", "dossier": "D1", "date": DAY, "lat": 9.1,
            "lon": 105.1, "window": ["08:00", "10:00"], "handoff_site": "po-cm"}  # fmt: skip
    item.update(change)
    return {k: v for k, v in item.items() if v is not None}


REQUESTS = [
    _request(dossier=None),
    _request(kind="visit"),
    _request(window=["10:00", "08:00"]),
    _request(window=["8 o'clock", "10:00"]),
    _request(window=["08:00"]),
    _request(window=[None, "10:00"]),
    _request(date="01/12/2026"),
    _request(lat=95),
    _request(lat="north"),
    _request(size=0),
    _request(dossier="x" * 101),
    _request(citizen={"nickname": "An"}),
]
"""Requests whose shape is wrong (the schema of ``POST /v1/requests``)."""

MEANINGS = [
    _request(lat=None),
    _request(lat=None, lon=None),
    _request(handoff_site=None),
    _request(kind="return", handoff_site=None),
    _request(due="soon"),
]
"""Requests whose shape is right and meaning wrong (``tracking.requests.check_request``)."""


def _roster(**change: Any) -> dict[str, Any]:
    roster = {k: small_request(DAY)[k] for k in ("sites", "shuttles", "couriers")}
    for path, value in change.items():
        part, index, name = path.split("__")
        roster[part][int(index)][name] = value
    return roster


ROSTERS = [
    _roster(couriers__0__start_site="po-nowhere"),
    _roster(couriers__0__shift=["17:00", "07:00"]),
    _roster(couriers__0__shift=["7 am", "17:00"]),
    _roster(couriers__0__mode="helicopter"),
    _roster(couriers__0__breaks=[{"earliest": "11:00", "latest": "11:30", "duration_min": 45}]),
    _roster(couriers__0__breaks=[{"earliest": "11:00", "latest": "13:00", "duration_min": 0}]),
    _roster(couriers__1__id="c1"),
    _roster(shuttles__0__arrives="09:00"),
    _roster(sites__0__lat="nine"),
    _roster(couriers__0__capacity=-1),
]
"""Rosters refused by ``PUT /v1/roster``'s check."""

FILES = [
    b"\xff\xfe\x00",
    b"",
    "Mã hồ sơ;Ngày\nH1;2026-12-01\n".encode(),
    b"id,id,kind,dossier,date,window_from,window_to\n",
    b"PK\x03\x04broken",
    b'id,kind,dossier,date,window_from,window_to\n"R1,pickup\n',
]
"""Files the import cannot read at all."""


def _sentences() -> list[str]:
    found = []
    for item in REQUESTS:
        checked, errors = _validated(item)
        assert checked is None, item
        found += [message for _field, message in errors]
    for item in MEANINGS:
        checked, errors = _validated(item)
        assert checked is not None, errors
        problems = check_request(checked)
        assert problems, item
        found += [message for _field, message in problems]
    for roster in ROSTERS:
        try:
            checked_roster(RosterIn.model_validate(roster))
        except RequestError as exc:
            found.append(str(exc).partition(": ")[2])
        except ValueError as exc:  # pydantic's ValidationError
            found += [e["msg"] for e in exc.errors()]  # type: ignore[attr-defined]
        else:
            raise AssertionError(roster)
    for data in FILES:
        with pytest.raises(UnreadableFile) as caught:
            read_rows(data, "file.csv")
        found.append(str(caught.value))
    return found


@pytest.mark.parametrize("sentence", _sentences())
def test_every_error_of_the_book_is_said_in_vietnamese(sentence: str) -> None:
    """Each sentence matches a pattern and its Vietnamese has no English word left."""
    with use_locale("vi"):
        words = error_words(sentence)
    assert words != FALLBACK, sentence
    assert english_left(words) == [], (sentence, words)


def test_english_pages_show_the_sentence_as_written() -> None:
    """On an English page the API's own sentence is shown."""
    with use_locale("en"):
        assert error_words("give an address, or lat and lon") == "give an address, or lat and lon"


def test_an_unknown_sentence_is_not_shown_in_english() -> None:
    """A sentence added to the API later is said as 'not accepted', never in English."""
    with use_locale("vi"):
        assert error_words("the moon is not in the service area") == FALLBACK
