"""The virtual controller's Modbus RTU slave: pymodbus 3.16's serial server, wrapped.

pymodbus is pinned (3.16.1) and its server datastore API moves (SimData/SimDevice replace the
old contexts in 4.0), so only this module touches it. What a master sees is what a real
NICE3000+ would show:
- the registers of the profile, read at request time from the model's latest register image
  (`image()` returns a Mapping address -> word, swapped atomically by the model thread);
- exception 02 (illegal data address) for any address the profile does not map, as a
  controller answers for a hole in its table;
- FC03 (read holding registers) and FC04 (read input registers) read the same image (the
  profile's `function` is "holding"; some integrators configure FC04, and the controller
  answers both); writes to these monitoring registers get exception 02 (read-only), other
  function codes exception 01;
- requests for another device id, and broadcasts, get no answer at all, as on a shared bus.

pymodbus's RTU server has no t3.5 timer, so in the served sim its port carries only whole,
CRC-valid frames: the wire relay's RTU receiver (drivers/sim/receiver.py) delimits and
checks them first, as a real controller's stack does.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping

from pymodbus.constants import ExcCodes
from pymodbus.framer import FramerType
from pymodbus.pdu import ModbusPDU
from pymodbus.pdu.device import ModbusDeviceIdentification
from pymodbus.server import ModbusSerialServer
from pymodbus.simulator import DataType, SimData, SimDevice

from agent.errors import InputError

READ_FUNCTION_CODES = frozenset({3, 4})

RegisterImage = Mapping[int, int]


def register_runs(addresses: Iterable[int]) -> list[tuple[int, int]]:
    """Contiguous (start, count) runs of the mapped addresses, sorted."""
    runs: list[tuple[int, int]] = []
    for a in sorted(set(addresses)):
        if runs and runs[-1][0] + runs[-1][1] == a:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((a, 1))
    return runs


class ControllerSlave:
    """A Modbus RTU slave on `port` serving `image()` at the given addresses.

    Lives in one asyncio loop: `await start()` opens the port and serves in the background,
    `await stop()` closes it.
    """

    def __init__(
        self,
        port: str,
        image: Callable[[], RegisterImage],
        addresses: Iterable[int],
        *,
        device_id: int = 1,
        title: str = "virtual elevator controller",
    ) -> None:
        if not 1 <= device_id <= 247:  # Modbus over Serial Line V1.02 2.2: unicast 1..247
            raise InputError(f"device id {device_id} must be 1..247")
        self.port = port
        self.device_id = device_id
        self._image = image
        self._runs = register_runs(addresses)
        if not self._runs:
            raise InputError("the slave needs at least one mapped register")
        self._title = title
        self._server: ModbusSerialServer | None = None
        self.requests_served = 0

    def _device(self) -> SimDevice:
        blocks = [
            SimData(start, count=count, values=0, datatype=DataType.REGISTERS, readonly=True)
            for start, count in self._runs
        ]
        identity = ModbusDeviceIdentification(
            info_name={"VendorName": "liftguard", "ProductName": self._title,
                       "ModelName": "virtual elevator"}
        )
        return SimDevice(self.device_id, simdata=blocks, identity=identity, action=self._fill)

    async def _fill(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        """pymodbus calls this after its address check, before it answers: copy the image
        into its register list for the requested range."""
        if function_code not in READ_FUNCTION_CODES:
            return ExcCodes.ILLEGAL_FUNCTION
        image = self._image()
        for a in range(address, address + count):
            registers[a - start_address] = image.get(a, 0) & 0xFFFF
        self.requests_served += 1
        return None

    def _filter(self, sending: bool, pdu: ModbusPDU) -> ModbusPDU:
        # Returning None (typed loosely by pymodbus) makes its server drop the request.
        if not sending and pdu.dev_id != self.device_id:
            return None  # type: ignore[return-value]
        return pdu

    async def start(self) -> None:
        self._server = ModbusSerialServer(
            self._device(),
            framer=FramerType.RTU,
            port=self.port,
            baudrate=19200,  # a pty ignores the rate; the wire emulator sets the pace
            parity="N",  # ptys reject PARENB (REFERENCE 3); the wire charges parity time
            stopbits=1,
            bytesize=8,
            trace_pdu=self._filter,
        )
        await self._server.serve_forever(background=True)

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            await server.shutdown()
            await asyncio.sleep(0)


def quiet_pymodbus() -> None:
    """pymodbus logs every garbled frame at ERROR; on a noisy bus that is expected traffic."""
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
