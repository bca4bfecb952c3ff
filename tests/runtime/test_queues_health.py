"""Bounded hand-over queues, part health and the status LED."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.runtime.health import HealthBoard, led_pattern
from agent.runtime.queues import DropOldestQueue
from tests.support.clock import FakeClock


@given(st.integers(1, 20), st.lists(st.integers(), max_size=100))
def test_queue_keeps_the_newest_items_in_order_and_counts_the_dropped(maxlen, items):
    q: DropOldestQueue[int] = DropOldestQueue(maxlen)
    for i in items:
        q.put(i)
    assert len(q) == min(maxlen, len(items))
    assert q.drain() == items[-maxlen:] if items else q.drain() == []
    assert q.dropped == max(0, len(items) - maxlen)
    assert len(q) == 0


def test_queue_must_hold_at_least_one_item():
    with pytest.raises(ValueError):
        DropOldestQueue(0)


def board() -> tuple[HealthBoard, list[tuple[str, str, dict]]]:
    events: list[tuple[str, str, dict]] = []
    return HealthBoard(lambda k, s, d: events.append((k, s, d)), FakeClock()), events


def test_start_up_states_are_not_events():
    b, events = board()
    b.set("controller", "ok")
    b.set("accel", "off")
    assert events == []


def test_degrading_and_recovering_are_events_with_the_reason():
    b, events = board()
    b.set("controller", "ok")
    b.set("controller", "degraded", "controller lost: no response")
    b.set("controller", "degraded", "still lost")  # same state: no new event
    b.set("controller", "ok")
    assert [(s, d["state"], d["previous"], d["reason"]) for _, s, d in events] == [
        ("warning", "degraded", "ok", "controller lost: no response"),
        ("info", "ok", "degraded", "")]


def test_state_values_are_flat_and_name_the_degraded_parts():
    b, _ = board()
    b.set("controller", "ok")
    b.set("uplink", "degraded", "broker unreachable for 31 s")
    assert b.values() == {"health": "degraded", "controller": "ok", "uplink": "degraded",
                          "uplink_reason": "broker unreachable for 31 s"}


def test_unknown_state_is_a_bug():
    b, _ = board()
    with pytest.raises(ValueError):
        b.set("controller", "fine")


@pytest.mark.parametrize(("maintenance", "alarms", "degraded", "pattern"), [
    (False, 0, False, "ok"),
    (False, 0, True, "degraded"),
    (False, 2, True, "alarm"),
    (True, 2, True, "maintenance"),
    (True, 0, False, "maintenance"),
])
def test_led_shows_the_most_important_state(maintenance, alarms, degraded, pattern):
    assert led_pattern(maintenance=maintenance, alarms=alarms, degraded=degraded) == pattern
