"""The board's alarm lifecycle in real MicroPython: re-sent until acknowledged (EN 81-28), the
same message id on every re-send, escalation needs a new acknowledgement, and the book of
active alarms survives a reset and a power cut between its two flash writes. Every message
validates against agent/schemas/alarm.json."""

from __future__ import annotations

import pytest

from tests.firmware.mpy import result
from tests.support.schemas import validate

SETUP = """
import json
from fake_clock import FakeClock
from lg.alarms import AlarmBook, AlarmNotFound
from lg.outbox import Outbox
clock = FakeClock(wall=WALL)
ob = Outbox('outbox')
book = AlarmBook(ob, clock, 300.0)
log = []
def sent():
    # a broker that acknowledges everything: what was queued, in order, then deleted
    names = ob.pending()
    log.append([json.loads(ob.get(n)[1]) for n in names])
    for n in names:
        ob.remove(n)
"""


def _run(flash, body: str, wall: float = 1_800_000_000.0) -> list[list[dict]]:
    got = result(f"WALL = {wall}\n" + SETUP + body + "\nprint(json.dumps(log))\n", flash=flash)
    for batch in got:
        for m in batch:
            if isinstance(m, dict):  # the tests also log plain figures
                validate("alarm", m)
    return got


def test_an_unacknowledged_alarm_is_re_sent_with_the_same_id_until_acked(tmp_path):
    got = _run(tmp_path / "flash", """
book.raise_('trapped_at_floor', 'controller', 'critical', {'floor': 3})
sent()
clock.advance_ms(299000); book.tick(); sent()          # not due yet
clock.advance_ms(1000); book.tick(); sent()            # 1st re-send
clock.advance_ms(300000); book.tick(); sent()          # 2nd re-send
aid = book.get('trapped_at_floor', 'controller')['alarm_id']
book.ack(aid, 'key:0011223344556677'); sent()
clock.advance_ms(3600000); book.tick(); sent()         # acknowledged: silent
book.raise_('trapped_at_floor', 'controller', 'critical', {'floor': 3}); sent()  # de-dup
book.raise_('trapped_at_floor', 'controller', 'critical', {'floor': 4}); sent()  # new evidence
clock.advance_ms(600000); book.tick(); sent()          # still acknowledged: silent
book.clear('trapped_at_floor', 'controller'); sent()
clock.advance_ms(600000); book.tick(); sent()          # cleared: nothing to repeat
""")
    raised, early, r1, r2, ack, quiet, dedup, upd, quiet2, clear, after = got
    assert early == quiet == dedup == quiet2 == after == []
    first = raised[0]
    assert (first["state"], first["resend"], first["revision"], first["acked"]) == (
        "raised", 0, 1, False)
    for n, copy in ((1, r1[0]), (2, r2[0])):
        # the same publication repeated: receivers de-duplicate on `id`
        assert copy["id"] == first["id"] and copy["alarm_id"] == first["alarm_id"]
        assert (copy["state"], copy["revision"], copy["resend"]) == ("raised", 1, n)
        assert copy["ts"] > first["ts"]
    a = ack[0]
    assert a["state"] == "acknowledged" and a["acked"] and a["by"] == "key:0011223344556677"
    assert a["id"] != first["id"] and a["revision"] == 2 and a["resend"] == 0
    u = upd[0]
    assert u["state"] == "updated" and u["acked"] and u["evidence"] == {"floor": 4}
    c = clear[0]
    assert c["state"] == "cleared" and c["by"] == "rule" and c["revision"] == 4
    assert len({m["alarm_id"] for batch in got for m in batch}) == 1


def test_an_escalation_after_the_ack_needs_a_new_ack_and_is_re_sent_again(tmp_path):
    got = _run(tmp_path / "flash", """
book.raise_('rope_wear', 'detectors', 'warning', {'score': 6.0})
aid = book.get('rope_wear', 'detectors')['alarm_id']
book.ack(aid, 'key:0011223344556677')
book.raise_('rope_wear', 'detectors', 'critical', {'score': 12.0})
sent()
clock.advance_ms(300000); book.tick(); sent()
""")
    changes, resent = got
    assert [m["state"] for m in changes] == ["raised", "acknowledged", "updated"]
    assert changes[2]["acked"] is False and changes[2]["severity"] == "critical"
    assert resent[0]["id"] == changes[2]["id"] and resent[0]["resend"] == 1


def test_a_copy_still_waiting_for_the_broker_is_not_queued_twice(tmp_path):
    got = _run(tmp_path / "flash", """
book.raise_('comm_lost', 'controller', 'major', {})
clock.advance_ms(900000)
log.append([book.tick(), len(ob)])   # broker away: the first copy is still on flash
sent()
clock.advance_ms(300000)
log.append([book.tick()])
""")
    assert got[0] == [0, 1]
    assert [m["state"] for m in got[1]] == ["raised"]
    assert got[2] == [1]


def test_ack_of_an_alarm_that_is_not_active_is_a_typed_error(tmp_path):
    got = result("WALL = 1.8e9\n" + SETUP + """
try:
    book.ack('00000000-0000-4000-8000-000000000000', 'key:x')
except AlarmNotFound as exc:
    print(json.dumps(str(exc)))
""", flash=tmp_path / "flash")
    assert got == "no active alarm 00000000-0000-4000-8000-000000000000"


def test_active_alarms_survive_a_reset_and_the_unacked_one_is_re_sent(tmp_path):
    flash = tmp_path / "flash"
    before = _run(flash, """
book.raise_('trapped_at_floor', 'controller', 'critical', {'floor': 3})
book.raise_('overspeed', 'controller:1', 'critical', {'speed_mps': 2.1})
book.ack(book.get('overspeed', 'controller:1')['alarm_id'], 'key:0011223344556677')
sent()
""")
    ids = {m["kind"]: m for m in before[0] if m["state"] != "acknowledged"}
    # the board after a reset, 10 minutes later: the same book, from flash
    after = _run(flash, """
log.append([sorted([k[0], k[1], a['acked']] for k, a in book.active.items())])
book.tick(); sent()
""", wall=1_800_000_600.0)
    assert after[0][0] == [["overspeed", "controller:1", True],
                           ["trapped_at_floor", "controller", False]]
    (resent,) = after[1]
    assert resent["alarm_id"] == ids["trapped_at_floor"]["alarm_id"]
    assert resent["id"] == ids["trapped_at_floor"]["id"] and resent["resend"] == 1


CUT = """
from power_cut import CuttingFS, PowerCut
ob = Outbox('outbox', fs=CuttingFS())
book = AlarmBook(ob, clock, 300.0)
book.raise_('trapped_at_floor', 'controller', 'critical', {'floor': 3})
ob.fs.budget_ops = OPS
try:
    CHANGE
except PowerCut:
    pass
"""


@pytest.mark.parametrize(("change", "ops"), [("raise", 4), ("ack", 5), ("clear", 4)])
def test_a_power_cut_between_outbox_and_book_loses_no_change(tmp_path, ops, change):
    # An outbox commit is 4 filesystem operations (counters and message, each written and
    # renamed); the cut falls before the book's write (4) or before its rename (5).
    code = {"raise": "book.raise_('overspeed', 'controller:1', 'critical', {'speed_mps': 2})",
            "ack": "book.ack(book.get('trapped_at_floor', 'controller')['alarm_id'], 'key:k')",
            "clear": "book.clear('trapped_at_floor', 'controller')"}[change]
    flash = tmp_path / "flash"
    result("WALL = 1.8e9\n" + SETUP + CUT.replace("OPS", str(ops)).replace("CHANGE", code)
           + "print(1)\n", flash=flash)
    got = _run(flash, """
log.append([sorted([k[0], a['state'], a['acked'], a['revision']] for k, a in
                   book.active.items())])
sent()
""")
    book = got[0][0]
    if change == "raise":
        assert book == [["overspeed", "raised", False, 1], ["trapped_at_floor", "raised", False, 1]]
    elif change == "ack":
        assert book == [["trapped_at_floor", "acknowledged", True, 2]]
    else:
        assert book == []
    assert [m["state"] for m in got[1]][-1] == {"raise": "raised", "ack": "acknowledged",
                                                "clear": "cleared"}[change]
