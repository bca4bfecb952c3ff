"""Alarm lifecycle: one active alarm per (kind, source), de-dup, updates, re-send until ack."""

import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.alarms import AlarmBook, AlarmNotFound, AlarmService
from agent.outbox import DURABLE, Outbox
from tests.support.clock import FakeClock
from tests.support.schemas import validate


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def outbox(tmp_path, clock):
    ob = Outbox(tmp_path / "o.db", clock)
    yield ob
    ob.close()


@pytest.fixture
def alarms(outbox, clock):
    return AlarmService(outbox, clock, resend_interval_s=60)


def sent(outbox):
    """Every alarm payload queued so far, schema-checked."""
    return [validate("alarm", p.payload) for p in outbox.pending(DURABLE, 0, 10_000)
            if p.channel == "alarm"]


def test_raise_queues_one_message_with_a_stable_alarm_id(alarms, outbox):
    a = alarms.raise_("overspeed", "controller", "critical", {"speed_mps": 2.3})
    [msg] = sent(outbox)
    assert msg["alarm_id"] == a.alarm_id and msg["state"] == "raised"
    assert msg["evidence"] == {"speed_mps": 2.3} and msg["resend"] == 0


def test_raising_the_same_alarm_again_changes_nothing(alarms, outbox):
    a = alarms.raise_("overspeed", "controller", "critical", {"speed_mps": 2.3})
    b = alarms.raise_("overspeed", "controller", "critical", {"speed_mps": 2.3})
    assert a == b and len(sent(outbox)) == 1


@pytest.mark.parametrize("severity, evidence", [
    ("warning", {"speed_mps": 2.3}),
    ("critical", {"speed_mps": 2.6}),
])
def test_new_severity_or_evidence_is_an_update_of_the_same_alarm(
        alarms, outbox, severity, evidence):
    a = alarms.raise_("overspeed", "controller", "critical", {"speed_mps": 2.3})
    alarms.raise_("overspeed", "controller", severity, evidence)
    first, second = sent(outbox)
    assert second["state"] == "updated" and second["alarm_id"] == a.alarm_id
    assert second["id"] != first["id"] and second["revision"] == 2


def test_different_sources_are_different_alarms(alarms):
    a = alarms.raise_("door_fault", "door:front", "warning")
    b = alarms.raise_("door_fault", "door:rear", "warning")
    assert a.alarm_id != b.alarm_id and len(alarms.active()) == 2


def test_unacknowledged_alarm_is_resent_at_the_interval_with_the_same_id(alarms, outbox, clock):
    alarms.raise_("trapped_at_floor", "car", "critical")
    first = outbox.pending(DURABLE, 0, 1)[0]
    outbox.delete(DURABLE, first.row)  # the broker acknowledged the first copy
    clock.advance(59)
    assert alarms.tick() == 0
    clock.advance(1)
    assert alarms.tick() == 1
    [resent] = sent(outbox)
    assert resent["id"] == json.loads(first.payload)["id"] and resent["resend"] == 1


def test_resend_is_skipped_while_the_previous_copy_is_still_queued(alarms, outbox, clock):
    alarms.raise_("trapped_at_floor", "car", "critical")
    clock.advance(600)
    assert alarms.tick() == 0 and len(sent(outbox)) == 1


def test_acknowledged_alarm_is_not_resent_but_stays_active(alarms, outbox, clock):
    a = alarms.raise_("trapped_at_floor", "car", "critical")
    alarms.ack(a.alarm_id, by="operator:ops1")
    for p in outbox.pending(DURABLE, 0, 100):
        outbox.delete(DURABLE, p.row)
    clock.advance(3600)
    assert alarms.tick() == 0
    assert [x.alarm_id for x in alarms.active()] == [a.alarm_id]


def test_escalation_after_ack_needs_a_new_ack(alarms, clock):
    a = alarms.raise_("noise_level", "mic", "warning", {"db": 81})
    alarms.ack(a.alarm_id, by="op")
    b = alarms.raise_("noise_level", "mic", "critical", {"db": 90})
    assert not b.acked
    c = alarms.raise_("noise_level", "mic", "warning", {"db": 82})
    assert not c.acked


def test_clear_ends_the_alarm_and_a_new_raise_gets_a_new_id(alarms, outbox):
    a = alarms.raise_("comm_lost", "controller", "warning")
    cleared = alarms.clear("comm_lost", "controller")
    assert cleared is not None and cleared.state == "cleared"
    assert sent(outbox)[-1]["state"] == "cleared"
    b = alarms.raise_("comm_lost", "controller", "warning")
    assert b.alarm_id != a.alarm_id


def test_clearing_an_inactive_alarm_is_a_no_op(alarms, outbox):
    assert alarms.clear("comm_lost", "controller") is None and sent(outbox) == []


def test_ack_or_clear_of_unknown_id_is_a_typed_error(alarms):
    with pytest.raises(AlarmNotFound):
        alarms.ack("0" * 36, by="op")
    with pytest.raises(AlarmNotFound):
        alarms.clear_id("0" * 36, by="tech")


def test_active_alarms_survive_a_restart(outbox, clock, tmp_path):
    first = AlarmService(outbox, clock, 60)
    a = first.raise_("overspeed", "controller", "critical")
    first.ack(a.alarm_id, by="op")
    again = AlarmService(outbox, clock, 60)
    [b] = again.active()
    assert b.alarm_id == a.alarm_id and b.acked


def test_observers_see_committed_changes(alarms):
    seen = []
    alarms.add_observer(lambda t: seen.append((t.state, t.by)))
    a = alarms.raise_("door_fault", "door", "warning")
    alarms.ack(a.alarm_id, by="op")
    alarms.clear_id(a.alarm_id, by="technician:li")
    assert seen == [("raised", None), ("acknowledged", "op"), ("cleared", "technician:li")]


def test_bad_severity_is_refused():
    book = AlarmBook(60)
    with pytest.raises(ValueError, match="severity"):
        book.plan_raise("x", "y", "apocalyptic", {}, 0.0)


ops = st.lists(st.tuples(st.sampled_from(["raise", "clear", "ack", "tick"]),
                         st.sampled_from(["a", "b"]), st.sampled_from(["warning", "critical"])),
               max_size=30)


@settings(max_examples=60, deadline=None)
@given(ops)
def test_at_most_one_active_alarm_per_key_and_ids_never_reused(sequence):
    ids = itertools.count()
    book = AlarmBook(10, new_id=lambda: f"id{next(ids)}")
    now = 0.0
    retired: set[str] = set()
    for op, source, severity in sequence:
        now += 7
        if op == "raise":
            t = book.plan_raise("k", source, severity, {}, now)
        elif op == "clear":
            t = book.plan_clear("k", source, "rule", now)
        elif op == "ack":
            a = book.get("k", source)
            t = None if a is None else book.plan_ack(a.alarm_id, "op", now)
        else:
            for r in book.plan_resends(now):
                book.apply(r)
            t = None
        if t is not None:
            assert t.alarm.alarm_id not in retired
            if t.state == "cleared":
                retired.add(t.alarm.alarm_id)
            book.apply(t)
        keys = [a.key for a in book.active()]
        assert len(keys) == len(set(keys))


def test_due_resends_of_many_alarms_are_queued_together(alarms, outbox, clock):
    ids = [alarms.raise_("door_fault", f"door:{i}", "warning").alarm_id for i in range(5)]
    for p in outbox.pending(DURABLE, 0, 100):
        outbox.delete(DURABLE, p.row)
    clock.advance(60)
    assert alarms.tick() == 5
    assert sorted(m["alarm_id"] for m in sent(outbox)) == sorted(ids)
    assert all(m["resend"] == 1 for m in sent(outbox))
