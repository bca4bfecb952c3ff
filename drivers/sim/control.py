"""Runtime control of a running virtual elevator over a Unix domain socket.

Protocol: JSON lines. The client sends one JSON object per line; the sim answers each with
one JSON object on one line, in order, on the same connection. The socket is mode 0600 and,
by default, in the sim's private directory; nothing listens on the network.

    {"cmd": "status"}                                  -> {"ok": true, "status": {...}}
    {"cmd": "inject", "faults": {"rope_wear": 0.4}}    -> {"ok": true, "active": {...}}
    {"cmd": "clear", "names": ["rope_wear"]}           -> {"ok": true, "active": {...}}
    {"cmd": "call", "floor": 7}                        -> {"ok": true}
    {"cmd": "faults"}                                  -> {"ok": true, "faults": [...]}

Any error -> {"ok": false, "error": "one line"}; the connection stays usable. An inject with
several faults is all or nothing: every value is validated before any is applied. Lines longer
than MAX_LINE bytes close the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from agent.errors import InputError, LiftguardError

MAX_LINE = 64 * 1024
COMMANDS = ("status", "inject", "clear", "call", "faults")


class ControlError(InputError):
    """A control request was malformed or refused; the message is one line."""


class SimUnreachable(LiftguardError):
    """No sim answers at the control socket path."""

    exit_code = 3


@dataclass(frozen=True)
class Request:
    cmd: str
    faults: dict[str, Any] = field(default_factory=dict)
    names: tuple[str, ...] = ()
    floor: int = 0


def parse_request(line: bytes) -> Request:
    """A validated request from one line, or ControlError saying what is wrong."""
    try:
        obj = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        raise ControlError("request is not valid JSON") from None
    if not isinstance(obj, dict):
        raise ControlError("request must be a JSON object")
    cmd = obj.get("cmd")
    if cmd not in COMMANDS:
        raise ControlError(f"unknown command {cmd!r} (known: {', '.join(COMMANDS)})")
    if cmd == "inject":
        faults = obj.get("faults")
        if not isinstance(faults, dict) or not faults:
            raise ControlError("inject needs a non-empty object 'faults': {name: value}")
        for k, v in faults.items():
            if not isinstance(v, str | int | float | bool):
                raise ControlError(f"inject: value of {k!r} must be a number, string or bool")
        return Request("inject", faults=dict(faults))
    if cmd == "clear":
        names = obj.get("names")
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise ControlError("clear needs a non-empty list 'names' of fault names")
        return Request("clear", names=tuple(names))
    if cmd == "call":
        floor = obj.get("floor")
        if isinstance(floor, bool) or not isinstance(floor, int):
            raise ControlError("call needs an integer 'floor'")
        return Request("call", floor=floor)
    return Request(cmd)


Handler = Callable[[Request], Awaitable[dict[str, Any]]]


class ControlServer:
    """Answers control requests with `handler`; lives in one asyncio loop."""

    def __init__(self, path: str, handler: Handler) -> None:
        self.path = path
        self._handler = handler
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_unix_server(self._serve, path=self.path, limit=MAX_LINE)
        os.chmod(self.path, 0o600)

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 1.0)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                if not line.strip():
                    continue
                reply = await self._answer(line)
                writer.write(json.dumps(reply, separators=(",", ":")).encode() + b"\n")
                await writer.drain()
        except (ValueError, ConnectionError, OSError):
            pass  # over-long line or client gone: drop the connection
        finally:
            writer.close()

    async def _answer(self, line: bytes) -> dict[str, Any]:
        try:
            request = parse_request(line)
            return {"ok": True, **await self._handler(request)}
        except LiftguardError as exc:
            return {"ok": False, "error": str(exc)}


def send(path: str, request: dict[str, Any], timeout: float = 5.0) -> dict[str, Any]:
    """One request to the sim at `path`; the reply, or ControlError with the sim's reason."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        try:
            s.connect(path)
        except (FileNotFoundError, ConnectionRefusedError):
            raise SimUnreachable(f"no sim is listening at control socket {path}") from None
        except OSError as exc:
            raise SimUnreachable(f"control socket {path}: {exc.strerror}") from None
        try:
            s.sendall(json.dumps(request).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except TimeoutError:
            raise SimUnreachable(f"the sim at {path} did not answer within {timeout} s") from None
    try:
        reply = json.loads(data)
    except ValueError:
        raise SimUnreachable(f"the sim at {path} sent an unreadable reply") from None
    if not reply.get("ok"):
        raise ControlError(str(reply.get("error", "request refused")))
    return dict(reply)
