"""The checker never crashes on a damaged plan: it reports, it does not raise."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from routing.checker import CODES, check_plan
from tests.checker.tiny import plan, request

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["2026-11-23T08:00:00+07:00", "po", "P1", "R1", "handoff", "break"]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside a JSON tree."""
    out = [path] if path else []
    if isinstance(node, dict):
        for key, value in node.items():
            out.extend(_paths(value, (*path, key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out.extend(_paths(value, (*path, i)))
    return out


PATHS = _paths(plan())


@settings(max_examples=150, derandomize=True, deadline=None, database=None)
@given(st.lists(st.tuples(st.sampled_from(PATHS), JSON), min_size=1, max_size=3))
def test_any_damaged_plan_gives_violations_not_exceptions(damage: list[Any]) -> None:
    """Replacing up to three values of the valid plan by arbitrary JSON never raises."""
    damaged = plan()
    for path, value in damage:
        target: Any = damaged
        try:
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier replacement removed this path
    found = check_plan(request(), damaged)
    assert all(v.code in CODES and v.detail for v in found)


REQUEST_PATHS = _paths(request())


@settings(max_examples=150, derandomize=True, deadline=None, database=None)
@given(st.lists(st.tuples(st.sampled_from(REQUEST_PATHS), JSON), min_size=1, max_size=3))
def test_any_damaged_request_is_read_or_refused_with_value_error(damage: list[Any]) -> None:
    """Damaging the request gives violations or a ValueError naming ``request.…``, nothing else."""
    damaged = request()
    for path, value in damage:
        target: Any = damaged
        try:
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    try:
        found = check_plan(damaged, plan())
    except ValueError as exc:
        assert str(exc).startswith("request"), str(exc)
    else:
        assert all(v.code in CODES and v.detail for v in found)
