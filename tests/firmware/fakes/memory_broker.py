"""An in-memory MQTT 3.1.1 broker for one client, for the uplink tests in MicroPython.

`transport()` returns the client's end: send() feeds the broker, recv() returns what the
broker queued. The broker keeps what it received (published, will) and can be told to hold
PUBACKs, refuse a connection, or drop the link (then recv/send raise OSError, and the will
is "published" as a real broker would).
"""


def _s(body, i):
    n = body[i] << 8 | body[i + 1]
    return bytes(body[i + 2:i + 2 + n]), i + 2 + n


class Link:
    def __init__(self, broker):
        self.broker, self.out, self.buf, self.closed = broker, bytearray(), bytearray(), False

    def send(self, data):
        if self.closed or self.broker.down:
            raise OSError(104, "connection reset")
        if self.broker.mute:
            return
        self.buf.extend(data)
        self.broker.handle(self)

    def recv(self, n):
        if self.closed or self.broker.down:
            raise OSError(104, "connection reset")
        data = bytes(self.out[:n])
        self.out = self.out[n:]
        return data

    def close(self):
        self.closed = True


class MemoryBroker:
    def __init__(self):
        self.published = []  # (topic, payload, qos, retain), the latest `keep`
        self.keep = 10000
        self.retained = {}
        self.will = None
        self.hold_acks = False
        self.held = []
        self.refuse = 0  # CONNACK return code to answer with
        self.down = False
        self.mute = False  # a half-open connection: takes everything, answers nothing
        self.connects = 0
        self.link = None
        self.subscriptions = []
        self.packets = []

    def transport(self):
        if self.down:
            raise OSError(113, "no route to host")
        self.link = Link(self)
        return self.link

    def drop(self):
        """The network fails: the will is published, the link dies."""
        if self.will:
            self._publish(*self.will)
        self.down = True

    def restore(self):
        self.down = False

    def _publish(self, topic, payload, qos, retain):
        self.published.append((topic.decode(), bytes(payload), qos, retain))
        if len(self.published) > self.keep:
            del self.published[0]
        if retain:
            self.retained[topic.decode()] = bytes(payload)

    def release_acks(self):
        for pid in self.held:
            self.link.out.extend(bytes((0x40, 2, pid >> 8, pid & 255)))
        self.held = []

    def handle(self, link):
        buf = link.buf
        while len(buf) >= 2:
            n, shift, i = 0, 0, 1
            while True:
                b = buf[i]
                n |= (b & 0x7F) << shift
                i += 1
                if not b & 0x80:
                    break
                shift += 7
            if len(buf) < i + n:
                break
            first, body = buf[0], bytes(buf[i:i + n])
            buf = buf[i + n:]
            if len(self.packets) < self.keep:
                self.packets.append(first)
            self._packet(link, first, body)
        link.buf = buf

    def _packet(self, link, first, body):
        kind = first & 0xF0
        if kind == 0x10:
            self.connects += 1
            flags = body[7]
            _, i = _s(body, 10)  # client id
            self.will = None
            if flags & 0x04:
                topic, i = _s(body, i)
                msg, i = _s(body, i)
                self.will = (topic, msg, (flags >> 3) & 3, bool(flags & 0x20))
            link.out.extend(bytes((0x20, 2, 0, self.refuse)))
        elif kind == 0x30:
            qos, retain = (first >> 1) & 3, bool(first & 1)
            topic, i = _s(body, 0)
            pid = 0
            if qos:
                pid = body[i] << 8 | body[i + 1]
                i += 2
            self._publish(topic, body[i:], qos, retain)
            if qos == 1:
                if self.hold_acks:
                    self.held.append(pid)
                else:
                    link.out.extend(bytes((0x40, 2, pid >> 8, pid & 255)))
        elif kind == 0x80:
            pid = body[0] << 8 | body[1]
            topic, _ = _s(body, 2)
            self.subscriptions.append(topic.decode())
            link.out.extend(bytes((0x90, 3, pid >> 8, pid & 255, 1)))
        elif kind == 0xC0:
            link.out.extend(bytes((0xD0, 0)))
        elif kind == 0xE0:
            self.will = None  # clean DISCONNECT discards the will (3.1.2.5)
            link.closed = True
        elif kind == 0x40:
            pass

    def deliver(self, topic, payload, pid=7):
        """The broker forwards a QoS 1 message on a subscribed topic to the client."""
        t = topic.encode()
        body = bytes((len(t) >> 8, len(t) & 255)) + t + bytes((pid >> 8, pid & 255)) + payload
        self.link.out.extend(bytes((0x32, len(body))) + body)
