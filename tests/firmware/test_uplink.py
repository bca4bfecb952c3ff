"""MQTT packets byte-exact (MQTT 3.1.1) and the uplink's delivery rules, in real MicroPython."""

import json

import pytest

from tests.firmware.mpy import result
from tests.support.schemas import validate

PACKETS = """
import json
from lg import mqtt
"""


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        # 3.1.1 section 3.1: protocol name MQTT, level 4, clean session, keepalive 30, id "c"
        ("mqtt.connect_packet('c', 30)", "100d00044d5154540402001e000163"),
        # will flag, will QoS 1 (bits 3-4), will retain (bit 5): flags 0x2e
        ("mqtt.connect_packet('c', 60, will=('t', b'x', 1, True))",
         "101300044d51545404 2e 003c 000163 000174 000178"),
        # user name and password flags 0xc2
        ("mqtt.connect_packet('c', 30, user='u', password='p')",
         "101300044d515454 04 c2 001e 000163 000175 000170"),
        # PUBLISH QoS 1 retain: 0x33, packet id after the topic (3.3.2.2)
        ("mqtt.publish_packet('a/b', b'hi', 1, True, 10)", "3309 0003612f62 000a 6869"),
        ("mqtt.publish_packet('a/b', b'hi', 0)", "3007 0003612f62 6869"),
        ("mqtt.subscribe_packet(1, 'a/#', 1)", "8208 0001 0003612f23 01"),
        ("mqtt.puback_packet(258)", "40020102"),
    ],
)
def test_packets_are_byte_exact(expr, expected):
    assert result(PACKETS + f"print(json.dumps({expr}.hex()))") == expected.replace(" ", "")


@pytest.mark.parametrize(("n", "encoded"), [(0, "00"), (127, "7f"), (128, "8001"),
                                             (16383, "ff7f"), (16384, "808001"),
                                             (2097151, "ffff7f"), (268435455, "ffffff7f")])
def test_remaining_length_uses_the_spec_table(n, encoded):
    # MQTT 3.1.1 table 2.4: the boundaries of 1-4 byte remaining lengths
    assert result(PACKETS + f"print(json.dumps(mqtt._varint({n}).hex()))") == encoded


def test_reader_reassembles_packets_split_at_every_byte():
    script = PACKETS + """
data = mqtt.puback_packet(5) + mqtt.publish_packet('t', b'x' * 200, 1, False, 9) + bytes((0xd0, 0))
got = []
for cut in range(1, len(data)):
    r = mqtt.PacketReader()
    r.feed(data[:cut])
    out = []
    while True:
        p = r.next()
        if p is None:
            break
        out.append(p[0])
    r.feed(data[cut:])
    while True:
        p = r.next()
        if p is None:
            break
        out.append(p[0])
    got.append(out)
print(json.dumps(got))
"""
    for kinds in result(script):
        assert kinds == [0x40, 0x32, 0xD0]


LINK = """
import json
from fake_clock import FakeClock
from memory_broker import MemoryBroker
from lg.outbox import Outbox
from lg.uplink import Uplink
from lg import payloads
clock = FakeClock()
broker = MemoryBroker()
ob = Outbox('outbox')
commands = []
up = Uplink(ob, broker.transport, clock, 's1', 'L1', 'liftguard-s1-L1', backoff_min_s=1,
            backoff_max_s=8, on_command=commands.append)
def alarm(n):
    return payloads.envelope('alarm', clock.time(), alarm_id=payloads.new_id(), state='raised',
        kind='trapped_at_floor', source='controller', severity='critical', evidence={'n': n},
        raised_ts=payloads.rfc3339(clock.time()), revision=1, resend=0, acked=False, by=None)
"""


def test_connect_sets_a_retained_offline_will_and_publishes_retained_online(tmp_path):
    got = result(LINK + """
up.step(0.0)
t, p, q, r = broker.will
print(json.dumps([up.connected, t.decode(), p.decode(), q, r, broker.subscriptions,
                  broker.retained['liftguard/v1/s1/L1/state'].decode()]))
""", flash=tmp_path)
    connected, will_topic, will, qos, retain, subs, online = got
    assert connected and will_topic == "liftguard/v1/s1/L1/state" and (qos, retain) == (1, True)
    assert validate("state", will.encode())["state"] == "offline"
    assert validate("state", online.encode())["reason"] == "connected"
    assert subs == ["liftguard/v1/s1/L1/cmd"]


def test_alarm_is_deleted_from_flash_only_after_its_puback(tmp_path):
    got = result(LINK + """
broker.hold_acks = True
ob.put('alarm', alarm(1), alarm=True)
up.step(0.0)
before = len(ob)
broker.release_acks()
up.step(0.1)
print(json.dumps([before, len(ob), [p[0] for p in broker.published]]))
""", flash=tmp_path)
    before, after, topics = got
    assert before == 1 and after == 0
    assert "liftguard/v1/s1/L1/alarm" in topics


def test_published_alarm_validates_against_the_alarm_schema(tmp_path):
    got = result(LINK + """
ob.put('alarm', alarm(1), alarm=True)
up.step(0.0)
print(json.dumps([p[1].decode() for p in broker.published if p[0].endswith('/alarm')]))
""", flash=tmp_path)
    assert len(got) == 1
    validate("alarm", got[0].encode())


def test_unacknowledged_alarm_is_resent_after_reconnect_with_the_same_id(tmp_path):
    got = result(LINK + """
broker.hold_acks = True
ob.put('alarm', alarm(1), alarm=True)
up.step(0.0)
broker.drop()
up.step(0.1)
lost = up.connected
broker.restore()
broker.hold_acks = False
up.step(0.2)          # still backing off
early = up.connected
up.step(5.0)
up.step(5.1)          # reads the PUBACK
ids = [json.loads(p[1])['id'] for p in broker.published if p[0].endswith('/alarm')]
print(json.dumps([lost, early, up.connected, ids, len(ob)]))
""", flash=tmp_path)
    lost, early, connected, ids, pending = got
    assert (lost, early, connected) == (False, False, True)
    assert len(ids) == 2 and ids[0] == ids[1] and pending == 0


def test_reconnect_attempts_back_off_exponentially_up_to_the_cap(tmp_path):
    got = result(LINK + """
broker.down = True
attempts = []
t = 0.0
while t < 60:
    before = up.stats['failures']
    up.step(t)
    if up.stats['failures'] > before:
        attempts.append(t)
    t = round(t + 0.05, 2)
print(json.dumps(attempts))
""", flash=tmp_path)
    gaps = [b - a for a, b in zip(got, got[1:], strict=False)]
    # backoff 1, 2, 4, 8, 8... seconds, each stretched by the same 12.5 % jitter (rand absent)
    assert gaps[:4] == pytest.approx([1.125, 2.25, 4.5, 9.0], abs=0.06)
    assert all(g == pytest.approx(9.0, abs=0.06) for g in gaps[4:])


def test_broker_refusal_is_an_error_and_the_link_retries(tmp_path):
    got = result(LINK + """
broker.refuse = 5
up.step(0.0)
err = up.last_error
broker.refuse = 0
up.step(2.0)
print(json.dumps([err, up.connected]))
""", flash=tmp_path)
    assert "not authorised" in got[0] and got[1] is True


def test_command_on_the_cmd_topic_is_handed_over_and_acknowledged(tmp_path):
    got = result(LINK + """
up.step(0.0)
broker.deliver('liftguard/v1/s1/L1/cmd', b'{"x":1}', pid=77)
up.step(0.1)
print(json.dumps([[c.decode() for c in commands], broker.packets.count(0x40)]))
""", flash=tmp_path)
    assert got == [['{"x":1}'], 1]


def test_clean_shutdown_publishes_offline_and_discards_the_will(tmp_path):
    got = result(LINK + """
up.step(0.0)
up.close()
print(json.dumps([broker.will is None, json.loads(broker.retained['liftguard/v1/s1/L1/state'])]))
""", flash=tmp_path)
    no_will, state = got
    assert no_will and state["state"] == "offline" and state["reason"] == "shutdown"
    validate("state", json.dumps(state).encode())


def test_a_silent_half_open_connection_is_dropped_after_one_and_a_half_keepalives(tmp_path):
    got = result(LINK + """
up.step(0.0)
broker.mute = True
t = 0.0
lost_at = None
while t < 120 and lost_at is None:
    t += 1.0
    up.step(t)
    if not up.connected:
        lost_at = t
print(json.dumps([lost_at, up.last_error]))
""", flash=tmp_path)
    lost_at, error = got
    # the SUBACK/PUBACK of the connect are read at t = 1 s; with keepalive 30 s the link is
    # given up at the first turn more than 45 s after that, its PINGREQs unanswered
    assert lost_at == 47.0
    assert "nothing from the broker" in error
