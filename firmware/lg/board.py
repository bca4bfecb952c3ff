"""The hardware of the ESP32 box: the only module that imports `machine`, `network` and `ssl`.

Builds the buses from config.json and hands them to the drivers; opens the TLS connection to
the broker for the uplink. Nothing here decides anything.
"""

import time

import machine


def pin(n, mode=None):
    return machine.Pin(n, machine.Pin.OUT if mode is None else mode)


def rs485(c: dict):
    parity = {"N": None, "E": 0, "O": 1}[c.get("parity", "E")]
    uart = machine.UART(c["uart_id"], baudrate=c["baud"], bits=8, parity=parity,
                        stop=c.get("stopbits", 1), tx=c["tx"], rx=c["rx"],
                        timeout=0, timeout_char=2, rxbuf=512)
    de = pin(c["de_pin"]) if c["de_pin"] >= 0 else None
    return uart, de


def accel_bus(a: dict):
    # ADXL345: SPI mode 3, at most 5 MHz (datasheet p. 15)
    spi = machine.SPI(a["spi_id"], baudrate=5_000_000, polarity=1, phase=1,
                      sck=machine.Pin(a["sck"]), mosi=machine.Pin(a["mosi"]),
                      miso=machine.Pin(a["miso"]))
    return spi, pin(a["cs"])


def mic_bus(m: dict):
    if m["sck"] < 0:
        return None
    return machine.I2S(m["i2s_id"], sck=machine.Pin(m["sck"]), ws=machine.Pin(m["ws"]),
                       sd=machine.Pin(m["sd"]), mode=machine.I2S.RX, bits=32,
                       format=machine.I2S.MONO, rate=m["rate_hz"], ibuf=8192)


def watchdog(timeout_ms: int):
    return machine.WDT(timeout=timeout_ms)


def wifi(ssid: str, password: str, wdt=None, timeout_s: int = 30) -> None:
    import network

    wlan = network.WLAN(network.STA_IF)
    wlan.active(True)
    if not wlan.isconnected():
        wlan.connect(ssid, password)
        for _ in range(timeout_s * 10):
            if wlan.isconnected():
                break
            if wdt is not None:
                wdt.feed()
            time.sleep_ms(100)


def sync_time() -> None:
    import ntptime

    try:  # noqa: SIM105 - MicroPython has no contextlib
        ntptime.settime()
    except OSError:
        pass  # keep the RTC; timestamps are late until the next sync, not wrong in order


class TlsStream:
    """A connected TCP (+ TLS) socket as the uplink's transport: send all, recv what is there."""

    def __init__(self, host: str, port: int, tls: bool, ca: bytes, cert, key) -> None:
        import socket
        import ssl

        addr = socket.getaddrinfo(host, port)[0][-1]
        s = socket.socket()
        s.settimeout(5)
        s.connect(addr)
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            # modtls has verify_mode; the stub lacks it
            ctx.verify_mode = ssl.CERT_REQUIRED  # type: ignore[attr-defined]
            ctx.load_verify_locations(cadata=ca)
            if cert is not None:
                ctx.load_cert_chain(cert, key)
            s = ctx.wrap_socket(s, server_hostname=host)
        s.setblocking(False)
        self.s = s

    def send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            n = self.s.write(view)
            if n is None:
                time.sleep_ms(1)
                continue
            view = view[n:]

    def recv(self, n: int) -> bytes:
        data = self.s.read(n)
        if data is None:
            return b""
        if data == b"":
            raise OSError(104, "connection closed by the broker")
        return data

    def close(self) -> None:
        self.s.close()
