"""The roster's page (DESIGN §8): couriers, offices and the shuttle timetable, as forms.

``/roster`` shows the stored roster to the staff roles and lets dispatchers and administrators
edit it: each courier (shift, breaks, skills, capacity, way of travelling, start and end
office), each site (kind, name, position, opening hours) and each shuttle run (from, to,
departs, arrives, hand-over margin), with an empty row to add one and a box to remove one.
Saving posts the whole roster through :func:`api.routes.requests.checked_roster`, the check of
``PUT /v1/roster``: on any error nothing is stored and each error is shown beside its field.
A first roster may be saved with its offices only, so that its couriers' offices can then be
picked from them; a save never leaves the roster without an office, or without couriers once
it has some.

Form fields are named ``<part>-<row>-<field>[-<item>[-<subfield>]]`` (``couriers-0-shift-1``,
``couriers-2-breaks-0-earliest``), so the errors of the API (``couriers[0].shift``) land on
them. Fields of a stored item that the form does not show are kept as they were.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.deps import ADMIN, DISPATCHER, role_of
from api.error_words import error_words
from api.i18n import N_
from api.i18n import gettext as _
from api.page_render import render
from api.pages import STAFF_ROLES, page_user
from api.routes.requests import RosterIn, checked_roster
from api.words import SITE_KINDS, site_kind_words
from geo.travel import TravelMode
from routing.request import MAX_ENTRIES, RequestError
from tracking.models import User
from tracking.requests import ROSTER_PARTS, get_roster, put_roster

__all__ = ["EDITORS", "router"]

router = APIRouter(include_in_schema=False, tags=["pages"])

EDITORS = frozenset({DISPATCHER, ADMIN})
"""Roles that change the roster (as ``PUT /v1/roster``); staff read it."""

SCALARS = {
    "couriers": ("id", "start_site", "end_site", "mode", "capacity"),
    "sites": ("id", "kind", "name", "lat", "lon"),
    "shuttles": ("id", "from_site", "to_site", "departs", "arrives", "handoff_min"),
}
"""The plain fields each part's form edits."""
PAIRS = {"couriers": "shift", "sites": "opening"}
"""The ``[from, to]`` field of each part."""
BREAK_FIELDS = ("earliest", "latest", "duration_min")
MODES = {
    TravelMode.MOTORBIKE.value: N_("Motorbike"),
    TravelMode.BOAT.value: N_("Boat"),
    TravelMode.WALKING.value: N_("On foot"),
}
_MAX_FIELDS = 20 * sum(MAX_ENTRIES[p] for p in ROSTER_PARTS)


@dataclass
class _Parsed:
    """A posted roster: the items, and where each list index came from in the form."""

    roster: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    rows: dict[str, list[int]] = field(default_factory=dict)
    breaks: dict[int, list[int]] = field(default_factory=dict)
    """Form break indices of each courier's list index."""
    values: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    """What was posted, row by row, to show again."""


def _text(value: Any) -> str:
    """A stored value as typed in a field (45.0 minutes as ``45``)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _flat(part: str, item: Mapping[str, Any]) -> dict[str, str]:
    """A stored item as the form's values (``shift-0``, ``breaks-1-latest``, ``skills``)."""
    values = {k: _text(item.get(k)) for k in SCALARS[part]}
    values["orig"] = str(item.get("id") or "")
    pair = PAIRS.get(part)
    if pair and isinstance(item.get(pair), list | tuple):
        for i, text in enumerate(item[pair][:2]):
            values[f"{pair}-{i}"] = str(text)
    if part == "couriers":
        for b, rule in enumerate(item.get("breaks") or []):
            for name in BREAK_FIELDS:
                values[f"breaks-{b}-{name}"] = _text(rule.get(name))
        values["skills"] = ", ".join(str(s) for s in item.get("skills") or [])
    return values


def _rows_of(roster: Mapping[str, Any]) -> dict[str, list[tuple[int, dict[str, str]]]]:
    return {
        part: [(i, _flat(part, item)) for i, item in enumerate(roster.get(part) or [])]
        for part in ROSTER_PARTS
    }


def _grouped(form: Iterable[tuple[str, Any]]) -> dict[str, dict[int, dict[str, str]]]:
    """The form's fields by part and row: ``{"couriers": {0: {"shift-1": "17:00", ...}}}``."""
    parts: dict[str, dict[int, dict[str, str]]] = {p: {} for p in ROSTER_PARTS}
    for key, value in form:
        part, _sep, rest = key.partition("-")
        index, _sep, name = rest.partition("-")
        if part in parts and index.isdigit() and name and isinstance(value, str):
            row = int(index)
            if row < MAX_ENTRIES[part] + 1:
                parts[part].setdefault(row, {})[name] = value.strip()
    return parts


def break_numbers(values: Mapping[str, str]) -> list[int]:
    """The form's break rows of one courier (``breaks-<n>-earliest`` …), in order."""
    numbers = set()
    for key in values:
        head, _sep, rest = key.partition("-")
        number = rest.partition("-")[0]
        if head == "breaks" and number.isdigit():
            numbers.add(int(number))
    return sorted(numbers)


def _item(
    part: str, values: Mapping[str, str], stored: Mapping[str, Any]
) -> tuple[dict[str, Any], list[int]]:
    """The roster item a form row describes, on top of the stored one it started from."""
    item = dict(stored)
    for name in SCALARS[part]:
        if values.get(name):
            item[name] = values[name]
        else:
            item.pop(name, None)
    pair = PAIRS.get(part)
    if pair:
        ends = [values.get(f"{pair}-0", ""), values.get(f"{pair}-1", "")]
        if any(ends):
            item[pair] = ends
        else:
            item.pop(pair, None)
    kept: list[int] = []
    if part == "couriers":
        rules = []
        numbers = break_numbers(values)
        for b in numbers:
            rule = {n: values.get(f"breaks-{b}-{n}", "") for n in BREAK_FIELDS}
            if any(rule.values()):
                rules.append({n: v for n, v in rule.items() if v})
                kept.append(b)
        item["breaks"] = rules
        skills = [s.strip() for s in values.get("skills", "").split(",") if s.strip()]
        item["skills"] = skills
    return item, kept


def _typed(values: Mapping[str, str]) -> bool:
    """Whether a form row holds anything typed (the way of travelling has no empty choice:
    it alone does not make a courier)."""
    return any(v for k, v in values.items() if k not in ("orig", "remove", "mode"))


def _shown(values: Mapping[str, str]) -> dict[str, str]:
    """A posted row as shown again: without its empty break rows (a new one is added)."""
    empty = [b for b in break_numbers(values)
             if not any(values.get(f"breaks-{b}-{n}") for n in BREAK_FIELDS)]  # fmt: skip
    return {k: v for k, v in values.items() if not any(k.startswith(f"breaks-{b}-") for b in empty)}


def _parse(form: Iterable[tuple[str, Any]], stored: Mapping[str, Any]) -> _Parsed:
    parsed = _Parsed()
    for part, rows in _grouped(form).items():
        by_id = {str(x.get("id")): x for x in stored.get(part) or [] if isinstance(x, Mapping)}
        parsed.roster[part], parsed.rows[part] = [], []
        parsed.values[part] = [(i, _shown(v)) for i, v in sorted(rows.items()) if _typed(v)]
        for index, values in sorted(rows.items()):
            if values.get("remove") or not _typed(values):
                continue  # removed, or the empty row left for adding one
            item, kept = _item(part, values, by_id.get(values.get("orig", ""), {}))
            if part == "couriers":
                parsed.breaks[len(parsed.roster[part])] = kept
            parsed.rows[part].append(index)
            parsed.roster[part].append(item)
    return parsed


def _key(parsed: _Parsed, loc: Sequence[int | str]) -> str:
    """The form field of an error's location in the roster (``couriers-3-shift-1``)."""
    bits = [str(b) for b in loc]
    if len(bits) >= 2 and bits[0] in parsed.rows and bits[1].isdigit():
        index = int(bits[1])
        rows = parsed.rows[bits[0]]
        bits[1] = str(rows[index]) if index < len(rows) else bits[1]
        if bits[0] == "couriers" and len(bits) >= 4 and bits[2] == "breaks" and bits[3].isdigit():
            kept = parsed.breaks.get(index, [])
            b = int(bits[3])
            bits[3] = str(kept[b]) if b < len(kept) else bits[3]
    return "-".join(bits)


def _request_error_loc(message: str) -> tuple[list[int | str], str]:
    """``couriers[0].breaks[1].earliest: is missing.`` as its location and its sentence."""
    where, _sep, what = message.partition(": ")
    loc: list[int | str] = []
    for piece in where.replace("]", "").split("."):
        name, _sep, index = piece.partition("[")
        loc.append(name)
        if index.isdigit():
            loc.append(int(index))
    return loc, what


def _check(
    parsed: _Parsed, stored: Mapping[str, Any]
) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    """The roster as ``PUT /v1/roster`` would store it, or its errors by form field."""
    errors: dict[str, list[str]] = {}
    # A form always shows every row: one with no office left, or no courier left of those
    # stored (or sent empty), would wipe the roster that every day is planned with. A first
    # roster may be saved with its offices alone: a courier's office is picked from them.
    if not parsed.roster.get("sites") or (
        stored.get("couriers") and not parsed.roster.get("couriers")
    ):
        return None, {"roster": [_("Keep at least one office and one courier.")]}
    try:
        return checked_roster(RosterIn.model_validate(parsed.roster)), {}
    except ValidationError as exc:
        for problem in exc.errors(include_url=False, include_input=False):
            errors.setdefault(_key(parsed, problem["loc"]), []).append(error_words(problem["msg"]))
    except RequestError as exc:
        loc, what = _request_error_loc(str(exc))
        errors.setdefault(_key(parsed, loc), []).append(error_words(what))
    return None, errors


def _page(
    user: User,
    values: Mapping[str, list[tuple[int, dict[str, str]]]],
    *,
    errors: Mapping[str, list[str]] | None = None,
    saved: bool = False,
    status: int = 200,
    updated_at: str | None = None,
) -> HTMLResponse:
    errors = errors or {}
    can_edit = role_of(user) in EDITORS
    rows = {part: list(values.get(part, [])) for part in ROSTER_PARTS}
    if can_edit:  # an empty row to add one of each
        for part in ROSTER_PARTS:
            last = max((i for i, _v in rows[part]), default=-1)
            rows[part].append((last + 1, {}))
    site_choices = sorted(
        {(v["id"], v.get("name") or v["id"]) for _i, v in rows["sites"] if v.get("id")},
        key=lambda c: c[1],
    )

    def err(key: str) -> list[str]:
        return [m for k, ms in errors.items() if k == key or k.startswith(key + "-") for m in ms]

    def breaks_of(values: Mapping[str, str]) -> list[int]:
        numbers = break_numbers(values)
        return [*numbers, max(numbers, default=-1) + 1] if can_edit else numbers

    known = {f"{p}-{i}" for p in ROSTER_PARTS for i, _v in rows[p]}
    general = [m for k, ms in errors.items() if "-".join(k.split("-")[:2]) not in known for m in ms]
    return render(
        "roster.html",
        status=status,
        title=_("Couriers, offices and shuttles"),
        body_class="wide",
        rows=rows,
        site_choices=site_choices,
        kind_choices=[(k, site_kind_words(k)) for k in SITE_KINDS],
        err=err,
        breaks_of=breaks_of,
        general=general,
        has_errors=bool(errors),
        saved=saved,
        can_edit=can_edit,
        updated_at=updated_at,
        modes=[(code, _(words)) for code, words in MODES.items()],
        user={"name": user.name},
        role=role_of(user),
    )


@router.get("/roster", response_class=HTMLResponse)
def roster_page(request: Request, saved: int | None = None) -> HTMLResponse:
    """The stored roster, as forms for dispatchers and administrators, as tables for staff."""
    with Session(request.app.state.engine) as session:
        user = page_user(request, session, STAFF_ROLES)
        stored = get_roster(session=session) or {}
    return _page(
        user, _rows_of(stored), saved=bool(saved), updated_at=stored.get("updated_at") or None
    )


@router.post("/roster", response_class=HTMLResponse)
async def save_roster(request: Request) -> Response:
    """Store the edited roster through ``PUT /v1/roster``'s check, or show its errors."""
    form = await request.form(max_files=0, max_fields=_MAX_FIELDS)
    items = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    return await run_in_threadpool(_save, request, items)


def _save(request: Request, items: list[tuple[str, str]]) -> Response:
    with Session(request.app.state.engine) as session:
        user = page_user(request, session, EDITORS)
        stored = get_roster(session=session) or {}
        parsed = _parse(items, stored)
        roster, errors = _check(parsed, stored)
        if roster is None:
            return _page(user, parsed.values, errors=errors, status=422)
        put_roster(session=session, roster=roster, actor=user.name)
    return RedirectResponse("/roster?saved=1", status_code=303)
