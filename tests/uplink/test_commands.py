"""Signed commands: every kind of bad command is refused with its reason; good ones act."""

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.alarms import AlarmService
from agent.commands import (
    CommandProcessor,
    CommandTable,
    CommandVerifier,
    CounterFileCorrupt,
    CounterStore,
    Diagnostics,
    Param,
    ThresholdTable,
    VerifyPolicy,
    install_builtin,
    sign,
)
from agent.commands.signing import key_id
from agent.outbox import DURABLE, Outbox
from agent.trail import MaintenanceMode, TrailLog, verify_file
from tests.support.clock import FakeClock
from tests.support.schemas import validate

DEVICE = "s1/L1"
OPERATOR = Ed25519PrivateKey.generate()
STRANGER = Ed25519PrivateKey.generate()


class Box:
    """The command side of one box, wired as the pipeline wires it, on a fake clock."""

    def __init__(self, tmp_path, clock):
        self.clock = clock
        self.outbox = Outbox(tmp_path / "o.db", clock)
        self.alarms = AlarmService(self.outbox, clock, 60)
        self.trail_path = tmp_path / "trail.jsonl"
        self.maintenance = MaintenanceMode(TrailLog(self.trail_path, clock),
                                           self.outbox.enqueue_event)
        self.alarms.add_observer(self.maintenance.on_alarm)
        self.thresholds = ThresholdTable()
        self.applied = []
        self.thresholds.register("rope_wear", "score", lo=1.0, hi=50.0, value=5.0,
                                 apply=self.applied.append)
        self.diagnostics = Diagnostics()
        self.diagnostics.add_provider("features", lambda: {"rope_order_db": 3.2})
        self.table = CommandTable()
        install_builtin(self.table, alarms=self.alarms, maintenance=self.maintenance,
                        thresholds=self.thresholds, diagnostics=self.diagnostics,
                        publish_event=self.outbox.enqueue_event)
        self.counters = CounterStore(tmp_path / "counters.json")
        verifier = CommandVerifier(VerifyPolicy(DEVICE, max_bytes=4096, max_ttl_s=3600),
                                   {key_id(OPERATOR.public_key()): OPERATOR.public_key()},
                                   self.counters)
        self.processor = CommandProcessor(verifier, self.table, self.outbox, clock)
        self.counter = 0

    def command(self, command, args=None, key=OPERATOR, device=DEVICE, ttl=60.0, counter=None):
        self.counter += 1
        return sign(key, device=device, command=command, args=args or {},
                    counter=self.counter if counter is None else counter,
                    expires=self.clock() + ttl, now=self.clock())

    def send(self, cmd):
        raw = cmd if isinstance(cmd, bytes) else json.dumps(cmd).encode()
        result = self.processor.handle(raw)
        return validate("cmd/result", result)

    def events(self, kind):
        return [validate("event", p.payload) for p in self.outbox.pending(DURABLE, 0, 1000)
                if p.channel == "event" and json.loads(p.payload)["kind"] == kind]


@pytest.fixture
def box(tmp_path):
    return Box(tmp_path, FakeClock())


def resign(cmd, key=OPERATOR):
    from agent.commands.signing import canonical
    cmd["sig"] = base64.b64encode(key.sign(canonical(cmd))).decode()
    return cmd


def test_signed_command_is_accepted_and_acknowledges_the_alarm(box):
    a = box.alarms.raise_("overspeed", "controller", "critical")
    r = box.send(box.command("alarm.ack", {"alarm_id": a.alarm_id}))
    assert (r["status"], r["reason"]) == ("ok", "ok")
    assert box.alarms.get(a.alarm_id).acked
    assert box.alarms.get(a.alarm_id).acked_by == f"key:{key_id(OPERATOR.public_key())}"


def tampered_args(box):
    cmd = box.command("alarm.clear", {"alarm_id": "a"})
    cmd["args"]["alarm_id"] = "b"
    return cmd


def no_sig(box):
    cmd = box.command("diag.snapshot")
    del cmd["sig"]
    return cmd


def extra_field(box):
    return {**box.command("diag.snapshot"), "admin": True}


def wrong_seq(box):
    cmd = box.command("diag.snapshot")
    cmd["seq"] = 1234
    return cmd


@pytest.mark.parametrize("make, reason", [
    (lambda box: b"x" * 5000, "oversized"),
    (lambda box: b"{not json", "malformed"),
    (lambda box: b"[1, 2]", "malformed"),
    (lambda box: b"\xff\xfe", "malformed"),
    (no_sig, "unsigned"),
    (extra_field, "malformed"),
    (wrong_seq, "malformed"),
    (lambda box: box.command("diag.snapshot", key=STRANGER), "unknown_key"),
    (tampered_args, "bad_signature"),
    (lambda box: box.command("diag.snapshot", device="s1/L2"), "wrong_device"),
    (lambda box: box.command("diag.snapshot", ttl=-1), "expired"),
    (lambda box: box.command("diag.snapshot", ttl=7200), "malformed"),
    (lambda box: box.command("reboot.now"), "unknown_command"),
    (lambda box: box.command("alarm.ack", {}), "bad_args"),
    (lambda box: box.command("alarm.ack", {"alarm_id": 7}), "bad_args"),
    (lambda box: box.command("alarm.ack", {"alarm_id": "x", "force": True}), "bad_args"),
])
def test_bad_commands_are_rejected_with_their_reason(box, make, reason):
    r = box.send(make(box))
    assert (r["status"], r["reason"]) == ("rejected", reason)
    assert r["detail"]


def test_replayed_command_is_rejected_and_counters_survive_a_restart(box, tmp_path):
    cmd = box.command("diag.snapshot")
    assert box.send(cmd)["status"] == "ok"
    assert box.send(cmd)["reason"] == "replayed"
    older = box.command("diag.snapshot", counter=cmd["counter"] - 0)
    assert box.send(older)["reason"] == "replayed"
    assert CounterStore(tmp_path / "counters.json").last(cmd["key_id"]) == cmd["counter"]


def test_rejected_commands_do_not_spend_the_counter(box):
    bad = box.command("diag.snapshot", counter=100, device="s1/L2")
    assert box.send(bad)["reason"] == "wrong_device"
    assert box.send(box.command("diag.snapshot", counter=50))["status"] == "ok"


def test_corrupt_counter_file_refuses_to_start(tmp_path):
    (tmp_path / "c.json").write_text("{torn")
    with pytest.raises(CounterFileCorrupt, match="replays"):
        CounterStore(tmp_path / "c.json")


def test_result_names_the_command_it_answers(box):
    cmd = box.command("diag.snapshot")
    r = box.send(cmd)
    assert r["cmd_id"] == cmd["id"] and r["command"] == "diag.snapshot"
    assert r["result"]["features"] == {"rope_order_db": 3.2}
    assert "alarms" in r["result"] and "thresholds" in r["result"]


def test_clear_alarm_by_command_ends_it(box):
    a = box.alarms.raise_("door_fault", "door", "warning")
    assert box.send(box.command("alarm.clear", {"alarm_id": a.alarm_id}))["status"] == "ok"
    assert box.alarms.active() == []


def test_ack_of_unknown_alarm_fails_after_acceptance(box):
    r = box.send(box.command("alarm.ack", {"alarm_id": "no-such"}))
    assert (r["status"], r["reason"]) == ("failed", "failed")


@pytest.mark.parametrize("value, status, kept", [
    (12.5, "ok", 12.5),
    (0.5, "rejected", 5.0),
    (51.0, "rejected", 5.0),
    (float("nan"), "rejected", 5.0),
])
def test_threshold_changes_only_within_bounds(box, value, status, kept):
    cmd = box.command("detector.set_threshold",
                      {"detector": "rope_wear", "name": "score", "value": value})
    r = box.send(json.loads(json.dumps(cmd))) if value == value else box.send(cmd)
    assert r["status"] == status
    assert box.thresholds.get("rope_wear", "score") == kept


def test_threshold_change_is_applied_and_reported(box):
    box.send(box.command("detector.set_threshold",
                         {"detector": "rope_wear", "name": "score", "value": 8}))
    assert box.applied == [8.0]
    [ev] = box.events("threshold_changed")
    assert ev["detail"]["old"] == 5.0 and ev["detail"]["new"] == 8.0


def test_detector_refusing_a_value_keeps_the_last_good_one(box):
    def refuse(v):
        raise RuntimeError("not while learning")
    box.thresholds.register("noise", "dba", lo=40, hi=100, value=80, apply=refuse)
    r = box.send(box.command("detector.set_threshold",
                             {"detector": "noise", "name": "dba", "value": 70}))
    assert (r["status"], r["reason"]) == ("failed", "failed")
    assert box.thresholds.get("noise", "dba") == 80


def test_runtime_can_register_its_own_command(box):
    box.table.register("relay.test", lambda args, ctx: {"pulsed_s": args["seconds"]},
                       {"seconds": Param(float)})
    r = box.send(box.command("relay.test", {"seconds": 2}))
    assert r["status"] == "ok" and r["result"] == {"pulsed_s": 2}


def test_maintenance_visit_goes_on_the_trail_with_alarms_cleared_during_it(box):
    a = box.alarms.raise_("door_fault", "door", "warning")
    assert box.send(box.command("maintenance.start", {"technician": "li.wei",
                                                      "note": "door operator"}))["status"] == "ok"
    box.send(box.command("alarm.clear", {"alarm_id": a.alarm_id}))
    assert box.send(box.command("maintenance.end", {"work_done": "belt"}))["status"] == "ok"
    kinds = [e["detail"]["kind"] for e in box.events("maintenance")]
    assert kinds == ["check_in", "alarm_cleared", "check_out"]
    report = verify_file(box.trail_path)
    assert report.ok and report.records == 3


def test_maintenance_cannot_start_twice_or_end_when_not_started(box):
    assert box.send(box.command("maintenance.end"))["status"] == "failed"
    box.send(box.command("maintenance.start", {"technician": "a"}))
    assert box.send(box.command("maintenance.start", {"technician": "b"}))["status"] == "failed"


def test_a_flood_of_bad_commands_gets_limited_answers_and_one_summary_event(box):
    from agent.commands.processor import REJECTIONS_PER_WINDOW, WINDOW_S
    answers = [box.processor.handle(b"garbage") for _ in range(REJECTIONS_PER_WINDOW + 20)]
    assert sum(bool(a) for a in answers) == REJECTIONS_PER_WINDOW
    box.clock.advance(WINDOW_S)
    assert box.send(b"garbage")["reason"] == "malformed"
    [ev] = box.events("commands_suppressed")
    assert ev["detail"]["rejected_unanswered"] == 20


def test_good_commands_are_answered_even_during_a_flood(box):
    from agent.commands.processor import REJECTIONS_PER_WINDOW
    for _ in range(REJECTIONS_PER_WINDOW + 5):
        box.processor.handle(b"garbage")
    assert box.send(box.command("diag.snapshot"))["status"] == "ok"
