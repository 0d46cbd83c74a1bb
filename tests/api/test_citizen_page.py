"""The citizen's page ``/tra-cuu`` on a real server, on SQLite and on PostgreSQL.

The small day of ``harness/api_day.py`` is planned; its citizens' names, phones, ID numbers and
addresses are the personal data no answer may show.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from harness.api_day import CITIZENS, USERS, small_request, today_vn
from tests.api.conftest import Day
from tests.support.server import create_tokens, serve, sqlite_url

P1_CODE = "H12.22-261123-0001"
P1_DIGITS = CITIZENS["P1"]["phone"][-4:]


def personal_data(day: Day) -> list[str]:
    """Every piece of personal data of the day's citizens (names, phones, IDs, addresses)."""
    found: list[str] = []
    for citizen in CITIZENS.values():
        found += [citizen["name"], citizen["phone"], citizen["id_number"]]
    found += [str(j["address"]) for j in day.request["jobs"] if j.get("address")]
    return found


def look_up(day: Day, code: str, digits: str, **headers: str) -> httpx.Response:
    """Post the look-up form as a browser does."""
    return day.client.post(
        f"{day.url}/tra-cuu", data={"code": code, "phone_last4": digits}, headers=headers
    )


def test_the_form_is_vietnamese_and_needs_no_login(day: Day) -> None:
    """GET /tra-cuu answers the form, in Vietnamese, without a token and without a script."""
    answer = day.client.get(f"{day.url}/tra-cuu")
    assert answer.status_code == 200
    assert '<html lang="vi">' in answer.text
    assert "Tra cứu hồ sơ" in answer.text
    assert 'name="code"' in answer.text and 'name="phone_last4"' in answer.text
    assert "<script" not in answer.text


def test_the_answer_says_status_and_next_step_and_nothing_personal(day: Day) -> None:
    """The right code and digits give the status and next step in words, nothing personal."""
    answer = look_up(day, P1_CODE, P1_DIGITS)
    assert answer.status_code == 200, answer.text
    assert "Chờ nhận hồ sơ" in answer.text  # "Awaiting pickup"
    assert "Bước tiếp theo" in answer.text
    for secret in personal_data(day):
        assert secret not in answer.text, secret


def test_a_lower_case_code_with_blanks_finds_the_dossier(day: Day) -> None:
    """A code typed in lower case, with blanks around, finds the dossier."""
    answer = look_up(day, f"  {P1_CODE.lower()} ", P1_DIGITS)
    assert answer.status_code == 200, answer.text
    assert P1_CODE in answer.text


def _without_echo(text: str) -> str:
    return re.sub(r'name="code" value="[^"]*"', 'name="code" value=""', text)


def test_unknown_code_and_wrong_digits_are_answered_alike(day: Day) -> None:
    """A wrong phone digit and an unknown code get the same status and the same page."""
    wrong_digits = look_up(day, P1_CODE, "0000" if P1_DIGITS != "0000" else "1111")
    unknown = look_up(day, "H12.22-999999-9999", P1_DIGITS)
    assert wrong_digits.status_code == unknown.status_code == 404
    assert _without_echo(wrong_digits.text) == _without_echo(unknown.text)
    assert "Trung tâm" not in wrong_digits.text  # nothing of the real dossier leaks


@pytest.mark.parametrize(
    ("code", "digits", "field"),
    [("", "5678", "Mã hồ sơ"), (P1_CODE, "56", "4 số cuối"), (P1_CODE, "５６７８", "4 số cuối")],
)
def test_bad_input_is_named_not_a_crash(day: Day, code: str, digits: str, field: str) -> None:
    """A missing code or digits that are not 4 ASCII digits get a 422 naming the field."""
    answer = look_up(day, code, digits)
    assert answer.status_code == 422
    assert field in answer.text


def test_english_on_request(day: Day) -> None:
    """The same answer in English with ?lang=en (a client of its own keeps the cookie)."""
    with httpx.Client(timeout=60) as client:
        answer = client.post(
            f"{day.url}/tra-cuu?lang=en", data={"code": P1_CODE, "phone_last4": P1_DIGITS}
        )
    assert answer.status_code == 200
    assert "Awaiting pickup" in answer.text


def test_the_page_and_the_api_share_one_limit(tmp_path: Path) -> None:
    """Look-ups on the page and on /v1/track count against the same per-client limit."""
    url = sqlite_url(tmp_path)
    env = {"BUUTA_TRACK_LOOKUPS_PER_MINUTE": "3", "BUUTA_SOLVE_TIME_LIMIT_S": "1"}
    with serve(url, env=env) as server, httpx.Client(timeout=60) as client:
        tokens = create_tokens(url, USERS)
        request = small_request(today_vn())
        planned = client.post(
            f"{server.base_url}/v1/plans",
            json=request,
            headers={"Authorization": f"Bearer {tokens['disp1']}"},
        )
        assert planned.status_code == 201
        form = {"code": P1_CODE, "phone_last4": P1_DIGITS}
        statuses = [client.post(f"{server.base_url}/tra-cuu", data=form).status_code]
        statuses.append(
            client.get(
                f"{server.base_url}/v1/track/{P1_CODE}", params={"phone_last4": P1_DIGITS}
            ).status_code
        )
        statuses.append(client.post(f"{server.base_url}/tra-cuu", data=form).status_code)
        limited = client.post(f"{server.base_url}/tra-cuu", data=form)
        api_limited = client.get(
            f"{server.base_url}/v1/track/{P1_CODE}", params={"phone_last4": P1_DIGITS}
        )
    assert statuses == [200, 200, 200]
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert "Quá nhiều" in limited.text
    assert api_limited.status_code == 429


def test_a_citizen_stops_the_messages_with_the_same_two_factors(day: Day) -> None:
    """The answer page offers to stop messages; wrong digits are answered like a look-up."""
    shown = look_up(day, P1_CODE, P1_DIGITS)
    assert 'action="/tra-cuu/ngung-tin-nhan"' in shown.text
    wrong = day.client.post(
        f"{day.url}/tra-cuu/ngung-tin-nhan", data={"code": P1_CODE, "phone_last4": "0000"}
    )
    assert wrong.status_code == 404
    stopped = day.client.post(
        f"{day.url}/tra-cuu/ngung-tin-nhan", data={"code": P1_CODE, "phone_last4": P1_DIGITS}
    )
    assert stopped.status_code == 200
    assert "không nhận thêm tin nhắn" in stopped.text
