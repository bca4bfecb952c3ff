"""The same transaction interface as `RtuLink`, carried by pymodbus's sync serial client.

Kept as a selectable transport (`[controller] transport = "pymodbus"`) so the choice of our
own RTU layer stays a measured one: benchmarks/modbus_poll.py runs both. This is the only
module that imports pymodbus client classes; pymodbus is pinned (requirements.txt) because
its API moves between minor versions (REFERENCE.md section 3).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from drivers.controller.errors import ControllerTimeout, ExceptionResponse, FrameError, PortGone
from drivers.controller.rtu import READ_HOLDING, ReadRequest


class PymodbusLink:
    def __init__(
        self,
        url: str,
        *,
        baudrate: int,
        parity: str,
        stopbits: int,
        bytesize: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        from pymodbus.client import ModbusSerialClient  # heavy (+14 MiB): only when chosen

        self.clock = clock
        self.client: Any = ModbusSerialClient(
            url, baudrate=baudrate, parity=parity, stopbits=stopbits, bytesize=bytesize,
            retries=0, timeout=1.0, reconnect_delay=0,
        )
        if not self.client.connect():
            raise PortGone(f"{url}: pymodbus could not open the port")

    def transact(self, req: ReadRequest, deadline: float) -> tuple[int, ...]:
        from pymodbus.exceptions import ConnectionException, ModbusException

        # the sync client re-reads this for every recv, so it acts as our per-call deadline
        self.client.comm_params.timeout_connect = max(0.001, deadline - self.clock())
        read = (
            self.client.read_holding_registers
            if req.function == READ_HOLDING
            else self.client.read_input_registers
        )
        try:
            rr = read(req.address, count=req.count, device_id=req.device_id)
        except ConnectionException as exc:
            raise PortGone(str(exc)) from None
        except ModbusException as exc:
            raise ControllerTimeout(f"device {req.device_id}: {exc}") from None
        if rr.isError():
            code = getattr(rr, "exception_code", 0)
            raise ExceptionResponse(int(code), req.device_id, req.address)
        regs = tuple(rr.registers)
        if len(regs) != req.count:
            raise FrameError(f"asked {req.count} registers, got {len(regs)}")
        return regs

    def close(self) -> None:
        self.client.close()
