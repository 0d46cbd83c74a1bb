"""The optimizer's English detail of an unassigned job, said in Vietnamese (api.words).

The optimizer (``routing.dossiers``, and ``routing.planner`` for a job the solver left out)
writes each detail as an English sentence with facts in it; ``api.words.DETAILS`` reads the
facts back. These tests fail when the optimizer's wording drifts from the patterns, so the
Vietnamese page never silently loses the explanation.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

import routing
from api.i18n import use_locale
from api.words import DETAILS, detail_words
from tests.i18n.english import english_left
from tests.maps.conftest import REQUEST

ROOT = Path(__file__).resolve().parents[2]

SENTENCES = [
    "The earliest any able courier can be at the home is 09:30, after the window 07:00–07:15 "
    "closes.",
    "No able courier can serve the window 08:00–08:10 and still reach po-tvt and the end of "
    "their shift in time.",
    "No courier could fit it among the other jobs: the couriers' time and capacity are used up "
    "around its window 13:00–17:00.",
    "Its window 18:00–19:00 lies outside every shift (07:00–17:00).",
    "It is ready at po-tvt only at 16:40, after the citizen's window 13:00–16:00 closes.",
    "Its size 50 exceeds every able courier's capacity (largest 40).",
    "It needs the skill(s) boat, which no courier has.",
    "po-tvt closes at 17:00, before the result is ready there (17:20).",
    "po-tvt is open 07:00–11:00; no courier can be there in that time for this job "
    "(window 13:00–14:00).",
]
"""One sentence of each kind, written as routing/dossiers.py and routing/planner.py write them."""


@pytest.mark.parametrize("sentence", SENTENCES)
def test_each_detail_reads_in_vietnamese_with_its_facts(sentence: str) -> None:
    """Vietnamese words, the same times and numbers, no English interface word left."""
    with use_locale("vi"):
        words = detail_words(sentence, {"po-tvt": "Bưu điện Trần Văn Thời"})
    assert words, f"no pattern reads {sentence!r}"
    assert "po-tvt" not in words  # the site by its name
    assert english_left(words) == [], words
    facts = re.compile(r"\d{2}:\d{2}–\d{2}:\d{2}|\d{2}:\d{2}|\d+")
    assert set(facts.findall(sentence)) <= set(facts.findall(words))  # the same facts
    with use_locale("en"):
        assert detail_words(sentence) == sentence  # the English page shows it as written


def test_every_pattern_is_still_written_by_the_optimizer() -> None:
    """The fixed words of each pattern still appear in the optimizer's modules that write
    details: routing/dossiers.py and routing/planner.py (the plan writer)."""
    source = "\n".join(
        re.sub(r'"\s*\n\s*f?"', "", (ROOT / "routing" / name).read_text("utf-8"))
        for name in ("dossiers.py", "planner.py")
    )
    for pattern, _ in DETAILS:
        fixed = re.split(r"\(\?P<|\\", pattern.pattern)[0].strip()
        if fixed:
            assert fixed in source, f"routing no longer writes {fixed!r}"
    assert len(DETAILS) == len(SENTENCES)


def test_unknown_details_are_left_out_not_shown_in_english() -> None:
    """A sentence the patterns do not know is not shown on a Vietnamese page."""
    with use_locale("vi"):
        assert detail_words("Something new the optimizer says.") == ""
        assert detail_words(None) == ""


def test_a_real_plan_explains_its_unassigned_job_in_vietnamese() -> None:
    """The optimizer's own detail for J9 (booked 07:00–07:15, too early to reach) reads back."""
    plan = routing.plan_request(copy.deepcopy(REQUEST), time_limit_s=2)
    details = {u["job"]: u["detail"] for u in plan["unassigned"]}
    assert "J9" in details
    with use_locale("vi"):
        words = detail_words(details["J9"])
    assert "07:00–07:15" in words and english_left(words) == []
