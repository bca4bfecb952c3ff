"""The board's command set against the Pi's: the same commands, signed by the Pi's tooling,
run through the board in real MicroPython and through agent/commands in CPython, give the
same status, reason and detail on `cmd/result`; an acknowledgement stops the re-sends; the
maintenance trail the board writes verifies with the Pi's chain checker."""

from __future__ import annotations

import json
import re
import sys

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.alarms import AlarmService
from agent.commands import (
    CommandProcessor,
    CommandTable,
    CommandVerifier,
    CounterStore,
    Diagnostics,
    ThresholdTable,
    VerifyPolicy,
    install_builtin,
)
from agent.commands.signing import key_id, public_line, sign
from agent.outbox import Outbox
from agent.trail import MaintenanceMode, TrailLog
from agent.trail.chain import verify_lines
from tests.firmware.mpy import FIRMWARE, result
from tests.support.schemas import validate

NOW = 1_800_000_000.0
DEVICE = "s1/L1"
OPERATOR = Ed25519PrivateKey.generate()

BOARD = """
import json
from fake_clock import FakeClock
from lg import payloads
from lg.alarms import AlarmBook
from lg.builtin import Commands, Thresholds
from lg.commands import Counters, Verifier, key_id, parse_public_line
from lg.outbox import Flash, Outbox
from lg.trail import Maintenance, Trail
clock = FakeClock(wall=NOW)
ob = Outbox('outbox')
book = AlarmBook(ob, clock, 300.0)
pub = parse_public_line(PUB)
v = Verifier('s1/L1', {key_id(pub): pub}, Counters('counters.json', Flash()))
th = Thresholds()
d = {'warning_score': 5.0, 'critical_score': 10.0}
for name in ('warning_score', 'critical_score'):
    th.register('wear', name, 1.0, 100.0, d[name], lambda x, name=name: d.__setitem__(name, x))
def event(kind, severity, detail):
    ob.put('event', payloads.envelope('event', clock.time(), kind=kind, severity=severity,
                                      detail=detail))
m = Maintenance(Trail('trail.jsonl', Flash(), clock), event)
book.observer = m.on_alarm
cmds = Commands(v, book, m, th, ob, clock, lambda: {'thresholds': th.snapshot()})
"""

# (command, args); "AID" stands for the id of the active trapped-passenger alarm
SEQUENCE = [
    ("alarm.ack", {"alarm_id": "AID"}),
    ("alarm.ack", {"alarm_id": 5}),
    ("alarm.ack", {}),
    ("alarm.ack", {"alarm_id": "AID", "force": True}),
    ("relay.test", {}),
    ("detector.set_threshold", {"detector": "wear", "name": "warning_score", "value": 500}),
    ("detector.set_threshold", {"detector": "wear", "name": "warning_score", "value": 7}),
    ("detector.set_threshold", {"detector": "wear", "name": "warning_score", "value": True}),
    ("detector.set_threshold", {"detector": "rope", "name": "x", "value": 1.5}),
    ("maintenance.end", {}),
    ("maintenance.start", {"technician": "li.wei", "note": "sheave check"}),
    ("maintenance.start", {"technician": "someone.else"}),
    ("alarm.clear", {"alarm_id": "AID"}),
    ("alarm.clear", {"alarm_id": "AID"}),
    ("maintenance.end", {"work_done": "grooves measured"}),
    ("diag.snapshot", {}),
]


def _signed(aid: str) -> list[bytes]:
    out = []
    for n, (command, args) in enumerate(SEQUENCE, 1):
        args = {k: (aid if v == "AID" else v) for k, v in args.items()}
        out.append(json.dumps(sign(OPERATOR, device=DEVICE, command=command, args=args,
                                   counter=n, expires=NOW + 600, now=NOW)).encode())
    out.append(out[0])  # a replay of the first
    return out


def _board(tmp_path) -> tuple[list[dict], list[dict], list[dict], str]:
    flash = tmp_path / "flash"
    head = f"NOW = {NOW}\nPUB = {public_line(OPERATOR.public_key())!r}\n"
    aid = result(head + BOARD + """
book.raise_('trapped_at_floor', 'controller', 'critical', {'floor': 3})
for n in ob.pending():
    ob.remove(n)
print(json.dumps(book.get('trapped_at_floor', 'controller')['alarm_id']))
""", flash=flash)
    for i, raw in enumerate(_signed(aid)):
        (flash / f"cmd{i}.json").write_bytes(raw)
    got = result(head + BOARD + f"""
out = []
for i in range({len(SEQUENCE) + 1}):
    out.append(cmds.handle(open('cmd%d.json' % i, 'rb').read()))
    clock.advance_ms(1000)
clock.advance_ms(3600000)
resent = book.tick()
msgs = [[ob.get(n)[0], json.loads(ob.get(n)[1])] for n in ob.pending()]
print(json.dumps([out, msgs, resent, open('trail.jsonl').read()]))
""", flash=flash)
    results, msgs, resent, trail = got
    assert resent == 0  # acknowledged, then cleared: nothing left to repeat
    for ch, body in msgs:
        validate(ch, body)
    return ([validate("cmd/result", r) for r in results], [b for c, b in msgs if c == "alarm"],
            [b for c, b in msgs if c == "event"], trail)


def _pi(tmp_path) -> list[dict]:
    clock = lambda: NOW  # noqa: E731 - the Pi's clock is a callable
    outbox = Outbox(tmp_path / "o.db", clock)
    alarms = AlarmService(outbox, clock, 300.0)
    maintenance = MaintenanceMode(TrailLog(tmp_path / "trail.jsonl", clock),
                                  outbox.enqueue_event)
    alarms.add_observer(maintenance.on_alarm)
    thresholds = ThresholdTable()
    for name, value in (("warning_score", 5.0), ("critical_score", 10.0)):
        thresholds.register("wear", name, lo=1.0, hi=100.0, value=value)
    table = CommandTable()
    install_builtin(table, alarms=alarms, maintenance=maintenance, thresholds=thresholds,
                    diagnostics=Diagnostics(), publish_event=outbox.enqueue_event)
    verifier = CommandVerifier(VerifyPolicy(DEVICE), {key_id(OPERATOR.public_key()):
                                                      OPERATOR.public_key()},
                               CounterStore(tmp_path / "counters.json"))
    processor = CommandProcessor(verifier, table, outbox, clock)
    aid = alarms.raise_("trapped_at_floor", "controller", "critical", {"floor": 3}).alarm_id
    return [processor.handle(raw) for raw in _signed(aid)]


def _ids(text: str) -> str:
    return re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "AID", text)


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    return _board(tmp_path_factory.mktemp("board")), _pi(tmp_path_factory.mktemp("pi"))


def test_the_board_knows_exactly_the_pis_commands_and_arguments():
    sys.path.insert(0, str(FIRMWARE))
    from lg.builtin import PARAMS  # the firmware's table, read under CPython

    table = CommandTable()
    install_builtin(table, alarms=None, maintenance=None, thresholds=ThresholdTable(),  # type: ignore[arg-type]
                    diagnostics=Diagnostics(), publish_event=lambda *a: None)
    assert sorted(PARAMS) == table.names()
    for name in table.names():
        pi = table._entries[name].params
        assert sorted(PARAMS[name]) == sorted(pi), name
        for arg, p in pi.items():
            types = p.type if isinstance(p.type, tuple) else (p.type,)
            assert set(PARAMS[name][arg][0]) >= set(types) and PARAMS[name][arg][1] == p.required


def test_every_answer_matches_the_pis_status_reason_and_detail(both):
    (board, _, _, _), pi = both
    for (command, args), b, p in zip([*SEQUENCE, SEQUENCE[0]], board, pi, strict=True):
        assert (b["status"], b["reason"], b["command"]) == (
            p["status"], p["reason"], p["command"]), (command, args, b["detail"], p["detail"])
        if command != "diag.snapshot":
            assert _ids(b["detail"]) == _ids(p["detail"]), command
        if command.startswith("alarm.") or command == "detector.set_threshold":
            assert b["result"].keys() == p["result"].keys(), command
            assert {k: v for k, v in b["result"].items() if k != "alarm_id"} == {
                k: v for k, v in p["result"].items() if k != "alarm_id"}, command
    assert [r["status"] for r in board][:2] == ["ok", "rejected"]
    assert board[-1]["reason"] == "replayed"


def test_ack_and_clear_are_published_as_the_pi_publishes_them(both):
    (_, alarms, events, _), _ = both
    assert [(a["state"], a["acked"], a["by"]) for a in alarms] == [
        ("acknowledged", True, f"key:{key_id(OPERATOR.public_key())}"),
        ("cleared", True, f"key:{key_id(OPERATOR.public_key())}")]
    assert [e["kind"] for e in events] == ["threshold_changed", "maintenance", "maintenance",
                                           "maintenance"]
    assert [e["detail"]["kind"] for e in events[1:]] == ["check_in", "alarm_cleared",
                                                         "check_out"]


def test_the_boards_maintenance_trail_verifies_with_the_pis_checker(both):
    (_, _, events, trail), _ = both
    report = verify_lines(trail.splitlines())
    assert report.ok and report.records == 3
    # the published copies are the records on flash, hash for hash
    assert [e["detail"]["hash"] for e in events[1:]] == [
        json.loads(line)["hash"] for line in trail.splitlines()]


def test_answers_to_rejected_commands_are_rate_limited_as_on_the_pi(tmp_path):
    got = result(f"NOW = {NOW}\nPUB = {public_line(OPERATOR.public_key())!r}\n" + BOARD + """
answered = [bool(cmds.handle(b'not json')) for _ in range(32)]
clock.advance_ms(61000)
answered.append(bool(cmds.handle(b'not json')))
msgs = [[ob.get(n)[0], json.loads(ob.get(n)[1])] for n in ob.pending()]
print(json.dumps([answered, msgs]))
""", flash=tmp_path / "flash")
    answered, msgs = got
    assert answered == [True] * 30 + [False, False, True]
    events = [validate(ch, b) for ch, b in msgs if ch == "event"]
    assert [(e["kind"], e["detail"]) for e in events] == [
        ("commands_suppressed", {"rejected_unanswered": 2, "window_s": 60.0})]
    assert sum(ch == "cmd/result" for ch, _ in msgs) == 31
