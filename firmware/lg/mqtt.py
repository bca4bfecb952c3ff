"""MQTT 3.1.1 client for the board (OASIS MQTT 3.1.1; umqtt-style, driven from our loop).

Packets are built and parsed by pure functions; `MQTTClient` runs them over a transport with
`send(bytes)` (whole buffer) and `recv(n)` (up to n bytes, b"" if nothing has arrived yet,
OSError when the connection is gone), so tests replace the socket with an in-memory broker.
QoS 1 publications are tracked by packet id until their PUBACK; QoS 1 messages received (the
`cmd` topic) are acknowledged after the handler ran, so a command is handled at least once.
"""

TYPE_CHECKING = False
if TYPE_CHECKING:  # mypy only; MicroPython has no typing module
    from typing import Any

CONNECT, CONNACK, PUBLISH, PUBACK = 0x10, 0x20, 0x30, 0x40
SUBSCRIBE, SUBACK, PINGREQ, PINGRESP, DISCONNECT = 0x82, 0x90, 0xC0, 0xD0, 0xE0

CONNACK_REASONS = {1: "unacceptable protocol version", 2: "client id rejected",
                   3: "server unavailable", 4: "bad user name or password", 5: "not authorised"}


class MQTTError(Exception):
    pass


def _varint(n: int) -> bytes:
    """Remaining Length (3.1.1 section 2.2.3): 7 bits per byte, high bit = more follows."""
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | 0x80 if n else b)
        if not n:
            return bytes(out)


def _str(s) -> bytes:
    b = s.encode() if isinstance(s, str) else bytes(s)
    return bytes((len(b) >> 8, len(b) & 0xFF)) + b


def packet(first: int, body: bytes) -> bytes:
    return bytes((first,)) + _varint(len(body)) + body


def connect_packet(client_id: str, keepalive: int, clean: bool = True, will=None,
                   user=None, password=None) -> bytes:
    flags = 0x02 if clean else 0
    payload = _str(client_id)
    if will is not None:  # (topic, message, qos, retain), section 3.1.2.5-3.1.2.7
        topic, msg, qos, retain = will
        flags |= 0x04 | (qos << 3) | (0x20 if retain else 0)
        payload += _str(topic) + _str(msg)
    if user is not None:
        flags |= 0x80
        payload += _str(user)
        if password is not None:
            flags |= 0x40
            payload += _str(password)
    head = _str("MQTT") + bytes((4, flags, keepalive >> 8, keepalive & 0xFF))
    return packet(CONNECT, head + payload)


def publish_packet(topic: str, payload: bytes, qos: int = 0, retain: bool = False,
                   pid: int = 0, dup: bool = False) -> bytes:
    first = PUBLISH | (0x08 if dup else 0) | (qos << 1) | (1 if retain else 0)
    body = _str(topic) + (bytes((pid >> 8, pid & 0xFF)) if qos else b"") + bytes(payload)
    return packet(first, body)


def subscribe_packet(pid: int, topic: str, qos: int = 1) -> bytes:
    return packet(SUBSCRIBE, bytes((pid >> 8, pid & 0xFF)) + _str(topic) + bytes((qos,)))


def puback_packet(pid: int) -> bytes:
    return bytes((PUBACK, 2, pid >> 8, pid & 0xFF))


class PacketReader:
    """Reassembles packets from a byte stream that arrives in arbitrary pieces."""

    def __init__(self, limit: int = 8192) -> None:
        self.buf = bytearray()
        self.limit = limit

    def feed(self, data: bytes) -> None:
        self.buf.extend(data)

    def next(self):
        """(first byte, body) of the next complete packet, or None."""
        buf = self.buf
        if len(buf) < 2:
            return None
        n, shift, i = 0, 0, 1
        while True:
            if i >= len(buf):
                return None
            b = buf[i]
            n |= (b & 0x7F) << shift
            i += 1
            if not b & 0x80:
                break
            shift += 7
            if shift > 21:
                raise MQTTError("malformed remaining length")
        if n > self.limit:
            raise MQTTError(f"packet of {n} bytes exceeds the {self.limit}-byte limit")
        if len(buf) < i + n:
            return None
        first, body = buf[0], bytes(buf[i:i + n])
        self.buf = buf[i + n:]
        return first, body


class MQTTClient:
    def __init__(self, client_id: str, keepalive: int = 30, will=None, user=None,
                 password=None) -> None:
        self.client_id, self.keepalive, self.will = client_id, keepalive, will
        self.user, self.password = user, password
        self.transport: Any = None
        self.reader = PacketReader()
        self.pid = 0
        self.inflight: dict = {}  # pid -> caller's handle, until PUBACK
        self.on_puback: Any = None  # f(handle)
        self.on_message: Any = None  # f(topic: str, payload: bytes)
        self.suback: set = set()

    def _next_pid(self) -> int:
        self.pid = self.pid % 0xFFFF + 1  # ids 1..65535 (section 2.3.1: non-zero)
        return self.pid

    def connect(self, transport, wait, tries: int = 500) -> bool:
        """Send CONNECT and wait for CONNACK, calling `wait()` (the caller's pacing, e.g. 10 ms)
        between reads at most `tries` times. Returns session-present; MQTTError names the
        broker's refusal or the missing answer."""
        self.transport = transport
        self.reader = PacketReader()
        self.inflight = {}
        transport.send(connect_packet(self.client_id, self.keepalive, True, self.will,
                                      self.user, self.password))
        while True:
            pkt = self._read_one()
            if pkt is None:
                tries -= 1
                if tries < 0:
                    raise MQTTError("no CONNACK from the broker")
                wait()
                continue
            first, body = pkt
            if first != CONNACK or len(body) != 2:
                raise MQTTError(f"expected CONNACK, got packet type {first >> 4}")
            if body[1]:
                raise MQTTError("broker refused: " + CONNACK_REASONS.get(body[1], str(body[1])))
            return bool(body[0] & 1)

    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False,
                handle=None) -> int:
        pid = self._next_pid() if qos else 0
        if qos:
            self.inflight[pid] = handle
        self.transport.send(publish_packet(topic, payload, qos, retain, pid))
        return pid

    def subscribe(self, topic: str, qos: int = 1) -> int:
        pid = self._next_pid()
        self.transport.send(subscribe_packet(pid, topic, qos))
        return pid

    def ping(self) -> None:
        self.transport.send(bytes((PINGREQ, 0)))

    def disconnect(self) -> None:
        self.transport.send(bytes((DISCONNECT, 0)))

    def _read_one(self):
        pkt = self.reader.next()
        if pkt is None:
            data = self.transport.recv(1024)
            if data:
                self.reader.feed(data)
                pkt = self.reader.next()
        return pkt

    def poll(self) -> int:
        """Handle every packet that has arrived; returns how many."""
        count = 0
        while True:
            pkt = self._read_one()
            if pkt is None:
                return count
            count += 1
            first, body = pkt
            kind = first & 0xF0
            if kind == PUBACK:
                pid = body[0] << 8 | body[1]
                if pid in self.inflight:
                    handle = self.inflight.pop(pid)
                    if self.on_puback:
                        self.on_puback(handle)
            elif kind == PUBLISH:
                self._incoming(first, body)
            elif kind == SUBACK:
                self.suback.add(body[0] << 8 | body[1])
                if body[2] == 0x80:
                    raise MQTTError("subscription refused by the broker")
            elif kind == PINGRESP:
                pass
            else:
                raise MQTTError(f"unexpected packet type {first >> 4}")

    def _incoming(self, first: int, body: bytes) -> None:
        qos = (first >> 1) & 3
        tlen = body[0] << 8 | body[1]
        topic = body[2:2 + tlen].decode()
        pos = 2 + tlen
        pid = 0
        if qos:
            pid = body[pos] << 8 | body[pos + 1]
            pos += 2
        if self.on_message:
            self.on_message(topic, body[pos:])
        if qos == 1:
            self.transport.send(puback_packet(pid))
