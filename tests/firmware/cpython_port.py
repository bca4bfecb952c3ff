"""The two edges the firmware gets from `board.py` on an ESP32, for the firmware's modules
running under CPython: a UART (pyserial on a pty) and a TLS stream (ssl socket). Test support
for the end-to-end test; everything between the edges is the firmware's own code."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

import serial


class PySerialUart:
    """machine.UART's write/read/any/flush on a pyserial port opened by URL or path."""

    def __init__(self, url: str, baud: int) -> None:
        self.port = serial.serial_for_url(url, baudrate=baud, timeout=0)

    def write(self, data: bytes) -> int:
        return self.port.write(data) or 0

    def flush(self) -> None:
        self.port.flush()

    def any(self) -> int:
        return self.port.in_waiting

    def read(self, n: int = -1) -> bytes | None:
        data = self.port.read(n if n and n > 0 else self.port.in_waiting)
        return data or None

    def close(self) -> None:
        self.port.close()


class TlsStream:
    """The uplink transport: TLS with a client certificate, like board.TlsStream."""

    def __init__(self, host: str, port: int, ca: Path, cert: Path, key: Path) -> None:
        ctx = ssl.create_default_context(cafile=str(ca))
        ctx.load_cert_chain(str(cert), str(key))
        raw = socket.create_connection((host, port), timeout=5)
        self.s = ctx.wrap_socket(raw, server_hostname=host)
        self.s.setblocking(False)

    def send(self, data: bytes) -> None:
        self.s.setblocking(True)
        try:
            self.s.sendall(data)
        finally:
            self.s.setblocking(False)

    def recv(self, n: int) -> bytes:
        try:
            data = self.s.recv(n)
        except (ssl.SSLWantReadError, BlockingIOError):
            return b""
        if not data:
            raise OSError(104, "connection closed by the broker")
        return data

    def close(self) -> None:
        self.s.close()
