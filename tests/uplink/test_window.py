"""The in-flight window and the resend order, seen on the wire of a scripted MQTT 3.1.1 peer.

The peer speaks the packets an MQTT 3.1.1 broker sends (CONNACK, SUBACK, PUBACK, PINGRESP;
MQTT 3.1.1 sections 3.2, 3.9, 3.4, 3.13) but acknowledges publications only when the test
says so, which a real broker cannot be made to do.
"""

import contextlib
import json
import queue
import socket
import threading

from tests.uplink.conftest import settings_for


class ScriptedBroker:
    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.host, self.port, self.pki = "127.0.0.1", self.sock.getsockname()[1], None
        self.publishes = queue.Queue()  # (connection number, packet id, topic, payload)
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        n = 0
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn, n), daemon=True).start()
            n += 1

    def _serve(self, conn, n):
        f = conn.makefile("rb")
        try:
            while True:
                head = f.read(1)
                if not head:
                    return
                length, mult = 0, 1
                while True:
                    b = f.read(1)[0]
                    length += (b & 0x7F) * mult
                    mult *= 128
                    if not b & 0x80:
                        break
                body = f.read(length)
                kind = head[0] >> 4
                if kind == 1:
                    conn.sendall(b"\x20\x02\x00\x00")
                elif kind == 8:
                    conn.sendall(b"\x90\x03" + body[:2] + b"\x01")
                elif kind == 12:
                    conn.sendall(b"\xd0\x00")
                elif kind == 3:
                    tlen = int.from_bytes(body[:2], "big")
                    topic = body[2:2 + tlen].decode()
                    pid = int.from_bytes(body[2 + tlen:4 + tlen], "big")
                    self.publishes.put((n, pid, topic, json.loads(body[4 + tlen:])))
        except (OSError, IndexError):
            return

    def puback(self, conn_no, pid):
        self.conns[conn_no].sendall(b"\x40\x02" + pid.to_bytes(2, "big"))

    def next_publish(self, timeout=10.0):
        return self.publishes.get(timeout=timeout)

    def nothing_more(self, quiet_s=0.5):
        """True if no further PUBLISH arrives in `quiet_s` (a slow machine can only make this
        pass more easily, never fail)."""
        try:
            self.publishes.get(timeout=quiet_s)
        except queue.Empty:
            return True
        return False

    def close(self):
        self.sock.close()
        for c in self.conns:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)  # the reader's makefile keeps the fd alive
            c.close()


def outbox_alarms(broker, count):
    got = [broker.next_publish() for _ in range(count)]
    return [g for g in got if g[2].endswith("/alarm")], got


def test_no_more_than_the_window_is_unacknowledged_and_pubacks_slide_it(pipeline_for):
    broker = ScriptedBroker()
    p = pipeline_for(settings_for(broker, protocol="3.1.1", inflight=4), start=False)
    raised = [p.alarms.raise_("door_fault", f"d{i}", "warning").alarm_id for i in range(10)]
    p.start()
    # paho's own window (the same size) also counts the retained birth message.
    first = [broker.next_publish() for _ in range(4)]
    assert [f[2].rsplit("/", 1)[1] for f in first] == ["state", "alarm", "alarm", "alarm"]
    assert broker.nothing_more()
    conn, pid, _, body = first[1]
    broker.puback(conn, pid)
    nxt = broker.next_publish()
    assert nxt[3]["alarm_id"] == raised[3]
    assert broker.nothing_more()
    assert p.outbox.stats().durable == 9
    broker.close()


def test_after_a_reconnect_unacknowledged_rows_are_resent_from_the_oldest(pipeline_for):
    broker = ScriptedBroker()
    p = pipeline_for(settings_for(broker, protocol="3.1.1", inflight=4), start=False)
    raised = [p.alarms.raise_("door_fault", f"d{i}", "warning").alarm_id for i in range(6)]
    p.start()
    first = [broker.next_publish() for _ in range(4)]
    broker.puback(first[1][0], first[1][1])  # only the oldest alarm is acknowledged
    broker.next_publish()
    broker.conns[0].shutdown(socket.SHUT_RDWR)  # the connection drops
    again = []
    while len(again) < 3:
        n, pid, topic, body = broker.next_publish()
        if n == 1 and topic.endswith("/alarm"):
            again.append(body["alarm_id"])
    assert again == raised[1:4]
    broker.close()
