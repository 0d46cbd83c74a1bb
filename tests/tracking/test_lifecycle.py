"""The dossier life cycle as a pure state machine (tracking/lifecycle.py)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.tracking.helpers import VN
from tracking.lifecycle import (
    EVENT_ROLES,
    FINAL_STATUSES,
    LEGAL_STATUSES,
    TRANSITIONS,
    Direction,
    DossierState,
    EventType,
    LifecycleEvent,
    Role,
    Status,
    access_reason,
    apply_event,
    derive_status,
    future_reason,
)

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=VN)


def ev(
    type_: EventType,
    minute: int,
    *,
    role: Role = Role.COURIER,
    actor: str = "c1",
    site: str | None = "po-tvt",
    seq: int = 0,
) -> LifecycleEvent:
    return LifecycleEvent(
        type=type_,
        at=T0 + timedelta(minutes=minute),
        actor=actor,
        role=role,
        site=site,
        seq=seq,
        key=f"{type_}-{minute}-{seq}",
    )


def test_pickup_journey_moves_status_and_custody() -> None:
    """A pickup goes requested → collected → at_hub → on_shuttle → received, custody following."""
    state = DossierState.initial(Direction.PICKUP, assigned_courier="c1")
    assert state.status is Status.REQUESTED
    steps = [
        (ev(EventType.COLLECTED, 0, site=None), Status.COLLECTED, "courier:c1"),
        (ev(EventType.AT_HUB, 30), Status.AT_HUB, "site:po-tvt"),
        (
            ev(EventType.ON_SHUTTLE, 90, role=Role.STAFF, actor="staff"),
            Status.ON_SHUTTLE,
            "shuttle:po-tvt",
        ),
        (
            ev(EventType.RECEIVED, 130, role=Role.STAFF, actor="staff", site="centre"),
            Status.RECEIVED,
            "site:centre",
        ),
    ]
    for event, status, custodian in steps:
        outcome = apply_event(state, event)
        assert outcome.applied, outcome.reason
        state = outcome.state
        assert (state.status, state.custodian) == (status, custodian)
    assert state.at == T0 + timedelta(minutes=130)


def test_return_journey_with_a_failed_attempt_then_returned() -> None:
    """A result fails delivery once, is retried, fails again and is returned to the agency."""
    state = DossierState.initial(Direction.RETURN, assigned_courier="c1")
    assert state.status is Status.PROCESSING
    staff = {"role": Role.STAFF, "actor": "staff"}
    events = [
        ev(EventType.RESULT_READY, 0, site="centre", **staff),
        ev(EventType.ON_SHUTTLE, 10, site="centre", **staff),
        ev(EventType.AT_HUB, 50, **staff),
        ev(EventType.OUT_FOR_DELIVERY, 60),
        ev(EventType.DELIVERY_FAILED, 90, site=None),
        ev(EventType.OUT_FOR_DELIVERY, 120, site=None),
        ev(EventType.DELIVERY_FAILED, 150, site=None),
        ev(EventType.RETURNED, 200, site="centre"),
    ]
    for event in events:
        outcome = apply_event(state, event)
        assert outcome.applied, outcome.reason
        state = outcome.state
    assert state.status is Status.RETURNED
    assert state.failed_attempts == 2
    assert state.custodian == "site:centre"


def test_breaking_event_is_refused_with_a_reason_and_state_unchanged() -> None:
    """A pickup cannot be 'delivered'; skipping 'collected' is refused; nothing changes."""
    state = DossierState.initial(Direction.PICKUP, assigned_courier="c1")
    outcome = apply_event(state, ev(EventType.AT_HUB, 5))
    assert not outcome.applied
    assert outcome.state == state
    assert outcome.reason == "'at_hub' cannot follow 'requested' for a pickup dossier"
    outcome = apply_event(state, ev(EventType.DELIVERED, 5, site=None))
    assert not outcome.applied and "cannot follow" in (outcome.reason or "")


def test_final_status_is_never_left() -> None:
    """After 'received', any further event is refused with the final status named."""
    state = DossierState(direction=Direction.PICKUP, status=Status.RECEIVED)
    for event_type in EventType:
        outcome = apply_event(state, ev(event_type, 1, role=Role.ADMIN, actor="root"))
        assert not outcome.applied
        assert outcome.state.status is Status.RECEIVED
    assert "final status" in (apply_event(state, ev(EventType.AT_HUB, 1)).reason or "")


def test_returned_from_hub_needs_a_failed_attempt() -> None:
    """'returned' from at_hub is refused before any failed attempt and allowed after one."""
    fresh = DossierState(direction=Direction.RETURN, status=Status.AT_HUB)
    staff = ev(EventType.RETURNED, 1, role=Role.STAFF, actor="staff")
    assert apply_event(fresh, staff).reason == (
        "'returned' from 'at_hub' needs a failed delivery attempt first"
    )
    tried = DossierState(direction=Direction.RETURN, status=Status.AT_HUB, failed_attempts=1)
    assert apply_event(tried, staff).state.status is Status.RETURNED


def test_roles_per_event_type() -> None:
    """Staff cannot collect at homes, couriers cannot mark results ready, dispatchers scan none."""
    state = DossierState.initial(Direction.PICKUP, assigned_courier="c1")
    assert apply_event(state, ev(EventType.COLLECTED, 0, role=Role.STAFF)).reason == (
        "the staff role may not scan 'collected'"
    )
    ret = DossierState.initial(Direction.RETURN, assigned_courier="c1")
    assert not apply_event(ret, ev(EventType.RESULT_READY, 0)).applied
    assert all(Role.DISPATCHER not in roles for roles in EVENT_ROLES.values())


def test_access_courier_only_own_or_held_dossiers() -> None:
    """A courier may scan a dossier assigned to it or in its custody, not another's."""
    state = DossierState.initial(Direction.RETURN, assigned_courier="c1")
    kwargs = {"role": Role.COURIER, "event_type": EventType.OUT_FOR_DELIVERY}
    assert access_reason(state, actor="c1", **kwargs) is None
    assert access_reason(state, actor="c2", **kwargs) == (
        "courier c2 is neither assigned this dossier nor holding it"
    )
    held = DossierState(
        direction=Direction.RETURN,
        status=Status.DELIVERY_FAILED,
        assigned_courier="c1",
        custodian="courier:c2",
    )
    assert access_reason(held, actor="c2", **kwargs) is None
    assert (
        access_reason(state, actor="staff", role=Role.STAFF, event_type=EventType.RESULT_READY)
        is None
    )


def test_out_of_order_events_fold_in_device_time_order() -> None:
    """Events recorded late (offline phone) still fold to the right status and custody."""
    initial = DossierState.initial(Direction.PICKUP, assigned_courier="c1")
    collected = ev(EventType.COLLECTED, 0, site=None, seq=3)
    hub = ev(EventType.AT_HUB, 30, seq=1)
    shuttle = ev(EventType.ON_SHUTTLE, 90, role=Role.STAFF, actor="staff", seq=2)
    fold = derive_status(initial, [hub, shuttle, collected])
    assert fold.state.status is Status.ON_SHUTTLE
    assert fold.order == (collected.key, hub.key, shuttle.key)
    assert all(reason is None for reason in fold.outcomes.values())


def test_equal_device_times_break_ties_by_record_order() -> None:
    """Two events with the same device time fold in the server's record order (seq)."""
    initial = DossierState.initial(Direction.PICKUP, assigned_courier="c1")
    first = ev(EventType.COLLECTED, 0, site=None, seq=1)
    second = ev(EventType.AT_HUB, 0, seq=2)
    assert derive_status(initial, [second, first]).state.status is Status.AT_HUB
    swapped_first = ev(EventType.COLLECTED, 0, site=None, seq=2)
    swapped_second = ev(EventType.AT_HUB, 0, seq=1)
    fold = derive_status(initial, [swapped_first, swapped_second])
    assert fold.state.status is Status.COLLECTED
    assert fold.outcomes[swapped_second.key] is not None


def test_future_device_time_reason() -> None:
    """More than 10 minutes ahead of the server clock is flagged; 9 minutes is tolerated."""
    assert future_reason(T0 + timedelta(minutes=9), T0) is None
    reason = future_reason(T0 + timedelta(minutes=45), T0)
    assert reason is not None and "45 min ahead" in reason


event_strategy = st.builds(
    lambda type_, minute, role, actor, seq: ev(type_, minute, role=role, actor=actor, seq=seq),
    st.sampled_from(list(EventType)),
    st.integers(min_value=0, max_value=600),
    st.sampled_from(list(Role)),
    st.sampled_from(["c1", "c2", "staff"]),
    st.integers(min_value=0, max_value=10_000),
)


@settings(max_examples=300, deadline=None)
@given(direction=st.sampled_from(list(Direction)), events=st.lists(event_strategy, max_size=25))
def test_apply_event_never_reaches_an_illegal_status(
    direction: Direction, events: list[LifecycleEvent]
) -> None:
    """Any sequence of events keeps the status legal for the direction; final is final."""
    state = DossierState.initial(direction, assigned_courier="c1")
    for event in events:
        before = state
        outcome = apply_event(state, event)
        state = outcome.state
        assert state.status in LEGAL_STATUSES[direction]
        if outcome.applied:
            assert TRANSITIONS[(direction, before.status, event.type)] is state.status
            assert event.role in EVENT_ROLES[event.type]
            assert before.status not in FINAL_STATUSES
        else:
            assert state == before and outcome.reason


@settings(max_examples=150, deadline=None)
@given(
    direction=st.sampled_from(list(Direction)),
    events=st.lists(event_strategy, max_size=15, unique_by=lambda e: e.seq),
    shuffle_seed=st.integers(0, 2**32 - 1),
)
def test_derive_status_does_not_depend_on_arrival_order(
    direction: Direction, events: list[LifecycleEvent], shuffle_seed: int
) -> None:
    """The fold is the same whichever order the events arrive in (device time, then seq)."""
    initial = DossierState.initial(direction, assigned_courier="c1")
    shuffled = list(events)
    random.Random(shuffle_seed).shuffle(shuffled)
    assert derive_status(initial, events) == derive_status(initial, shuffled)
