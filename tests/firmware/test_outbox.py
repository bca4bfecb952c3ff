"""Outbox on the board's filesystem, in real MicroPython: durable, ordered, bounded, never
losing or corrupting a committed message, whatever instant the power fails."""

import json

from tests.firmware.mpy import result

SETUP = """
import json, os
from lg.outbox import Outbox, OutboxFull
from power_cut import CuttingFS, PowerCut
def msg(i):
    return {"schema": "liftguard.alarm/1", "n": i}
"""


def test_messages_survive_a_reset_in_commit_order(tmp_path):
    flash = tmp_path / "flash"
    result(SETUP + """
ob = Outbox('outbox')
for i in range(5):
    ob.put('alarm' if i % 2 else 'telemetry', msg(i), alarm=bool(i % 2))
print(json.dumps(len(ob)))
""", flash=flash)
    # a second MicroPython instance on the same flash: the board after a reset
    got = result(SETUP + """
ob = Outbox('outbox')
print(json.dumps([[ob.get(n)[0], json.loads(ob.get(n)[1])] for n in ob.pending()]))
""", flash=flash)
    assert [b["n"] for _, b in got] == [0, 1, 2, 3, 4]
    assert [c for c, _ in got] == ["telemetry", "alarm", "telemetry", "alarm", "telemetry"]


def test_seq_counts_per_channel_and_continues_after_a_reset(tmp_path):
    flash = tmp_path / "flash"
    script = SETUP + """
ob = Outbox('outbox')
seqs = []
for ch in ('alarm', 'telemetry', 'alarm'):
    n = ob.put(ch, msg(0), alarm=ch == 'alarm')
    seqs.append(json.loads(ob.get(n)[1])['seq'])
    ob.remove(n)
print(json.dumps(seqs))
"""
    assert result(script, flash=flash) == [1, 1, 2]
    assert result(script, flash=flash) == [3, 2, 4]


def test_acknowledged_message_is_gone_after_a_reset(tmp_path):
    flash = tmp_path / "flash"
    result(SETUP + """
ob = Outbox('outbox')
a = ob.put('alarm', msg(1), alarm=True)
ob.put('alarm', msg(2), alarm=True)
ob.remove(a)
print(1)
""", flash=flash)
    got = result(SETUP + """
ob = Outbox('outbox')
print(json.dumps([json.loads(ob.get(n)[1])['n'] for n in ob.pending()]))
""", flash=flash)
    assert got == [2]


def test_full_outbox_drops_oldest_telemetry_but_never_an_alarm(tmp_path):
    got = result(SETUP + """
ob = Outbox('outbox', max_messages=4)
ob.put('alarm', msg('a1'), alarm=True)
for i in range(6):
    ob.put('telemetry', msg(i))
ob.put('alarm', msg('a2'), alarm=True)
print(json.dumps([[json.loads(ob.get(n)[1])['n'] for n in ob.pending()], ob.evicted]))
""", flash=tmp_path / "f")
    assert got == [["a1", 4, 5, "a2"], 4]


def test_outbox_full_of_alarms_refuses_a_new_alarm_loudly_and_drops_telemetry(tmp_path):
    got = result(SETUP + """
ob = Outbox('outbox', max_messages=3)
for i in range(3):
    ob.put('alarm', msg(i), alarm=True)
dropped = ob.put('telemetry', msg('t'))
try:
    ob.put('alarm', msg('x'), alarm=True)
    refused = False
except OutboxFull:
    refused = True
print(json.dumps([refused, dropped, ob.dropped, len(ob)]))
""", flash=tmp_path / "f")
    assert got == [True, "", 1, 3]


CUT = SETUP + """
# Power fails after `budget` bytes (or filesystem operations) while committing message 3.
results = []
for budget in range(0, 400, 7):
    for kind in ('bytes', 'ops'):
        if kind == 'ops' and budget > 12:
            continue
        root = 'ob_%s_%d' % (kind, budget)
        ob = Outbox(root)
        ob.put('alarm', msg(1), alarm=True)
        ob.put('telemetry', msg(2))
        fs = CuttingFS(budget_bytes=budget) if kind == 'bytes' else CuttingFS(budget_ops=budget)
        ob.fs = fs
        try:
            ob.put('alarm', msg(3), alarm=True)
            committed = True
        except PowerCut:
            committed = False
        after = Outbox(root)  # the reset: a fresh outbox on what is on flash
        got = [json.loads(after.get(n)[1])['n'] for n in after.pending()]
        leftovers = [f for f in os.listdir(root) if f.endswith('.tmp')]
        results.append([kind, budget, committed, got, after.corrupt, leftovers])
print(json.dumps(results))
"""


def test_an_interrupted_write_never_corrupts_or_loses_committed_messages(tmp_path):
    cases = result(CUT, flash=tmp_path / "f")
    assert len(cases) > 50
    outcomes = set()
    for kind, budget, committed, got, corrupt, leftovers in cases:
        assert got in ([1, 2], [1, 2, 3]), (kind, budget, got)
        assert corrupt == 0 and leftovers == [], (kind, budget)
        if committed:
            assert got == [1, 2, 3], (kind, budget)
        outcomes.add(tuple(got))
    assert outcomes == {(1, 2), (1, 2, 3)}  # the cut points cover both sides of the commit


def test_a_torn_message_file_is_set_aside_not_sent(tmp_path):
    flash = tmp_path / "flash"
    result(SETUP + "ob = Outbox('outbox')\nob.put('alarm', msg(1), alarm=True)\n"
           "ob.put('alarm', msg(2), alarm=True)\nprint(1)", flash=flash)
    victim = sorted((flash / "outbox").glob("*.msg"))[1]
    victim.write_bytes(victim.read_bytes()[:-5])  # FAT without rename atomicity: torn tail
    got = result(SETUP + """
ob = Outbox('outbox')
print(json.dumps([[json.loads(ob.get(n)[1])['n'] for n in ob.pending()], ob.corrupt,
                  sorted(os.listdir('outbox'))]))
""", flash=flash)
    pending, corrupt, files = got
    assert pending == [1] and corrupt == 1
    assert any(f.endswith(".bad") for f in files)
    json.dumps(files)
