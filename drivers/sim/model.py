"""The virtual elevator: one physics model behind the registers, the vibration and the sound.

`ElevatorModel.advance(dt)` moves simulated time; it needs no clock and runs as fast as the
machine allows (the served mode paces it in real time). Inside, time is kept in integer
microseconds and stepped on fixed grids so that results do not depend on how the caller
slices time:

- every 10 ms (CONTROL_US) the controller logic runs (calls, doors, run sequence, faults);
- every 1 ms (STEP_US) the drive and the DC link are stepped (the heatsink, with minutes of
  time constant, every control period); readings between grid points show the drive state
  of the last completed millisecond, as a controller's 1 ms scan would;
- vibration and sound are synthesised, as `SampleBlock`s, for the samples due since the last
  synthesis: whenever SYNTH_US have accumulated, before a fault changes, and on
  drain_blocks(). Synthesis cost has a fixed part per call, so batching it keeps real-time
  serving cheap however finely the caller steps time.

Sample n of a stream at rate fs belongs to time n/fs; blocks cover the samples up to the last
completed millisecond (at most 1 ms behind `t`), contiguous from one drain to the next.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from agent.errors import InputError
from drivers.blocks import SampleBlock
from drivers.controller.profile import Profile, load_profile
from drivers.sim import faults as fault_catalogue
from drivers.sim.calls import RandomCalls, ScriptedCalls
from drivers.sim.car import Car
from drivers.sim.electrical import DcLink, DriveState, drive_state
from drivers.sim.panel import controller_readings, live_status
from drivers.sim.params import SimParams
from drivers.sim.signals import Vibration
from drivers.sim.sound import Sound
from drivers.sim.thermal import Heatsink

CONTROL_US = 10_000
STEP_US = 1_000
SYNTH_US = 250_000
MAX_PENDING_S = 120.0  # undrained sensor data kept; older blocks are dropped and counted
E09_UNDERVOLTAGE, E14_OVERHEAT = 9, 14
OVERHEAT_RESET_K = 10.0  # module must cool this far below the trip point before a reset


class ElevatorModel:
    def __init__(self, params: SimParams | None = None, seed: int = 0, *,
                 profile: Profile | None = None, synthesize: bool = True,
                 script: Iterable[tuple[float, int, int]] | None = None) -> None:
        self.params = params or SimParams()
        self.seed = seed
        self.profile = profile or load_profile("nice3000plus")
        self.synthesize = synthesize
        traffic_seed, vib_seed, sound_seed = np.random.SeedSequence(seed).spawn(3)
        traffic_rng = np.random.default_rng(traffic_seed)
        lift, tr = self.params.lift, self.params.traffic
        self.car = Car(lift)
        self.faults: dict[str, Any] = {}
        self.car.faults = self.faults
        self.dc = DcLink(self.params.electrical)
        self.heatsink = Heatsink(self.params.thermal)
        self.vibration = Vibration(self.params, vib_seed)
        self.sound = Sound(self.params, sound_seed)
        self._calls: RandomCalls | ScriptedCalls | None = None
        if script is not None:
            self._calls = ScriptedCalls(script, lift.floors)
        elif tr.random_calls and tr.calls_per_minute > 0:
            self._calls = RandomCalls(lift.floors, tr.calls_per_minute, tr.lobby_fraction,
                                      traffic_rng)
        self._us = 0  # requested time
        self._phys_us = 0  # physics done up to here (a multiple of STEP_US, <= _us)
        self._synth_us = 0
        self.drive = DriveState(0.0, 0.0, 0.0, 0.0)
        self.controller_powered = True
        self.fan_output = False
        self._last_run_t = -math.inf
        self._track: list[tuple[float, float, float, float]] = [(0.0, 0.0, 0.0, 0.0)]
        self._pending: list[SampleBlock] = []
        self._seq = {"accel": 0, "audio": 0}
        self._dropped = {"accel": 0, "audio": 0}
        self._events: dict[str, list[tuple[float, str]]] = {"accel": [], "audio": []}

    # time -------------------------------------------------------------------------------------
    @property
    def t(self) -> float:
        """Simulated time in seconds."""
        return self._us / 1e6

    def advance(self, dt: float) -> None:
        """Step the physics by dt seconds (resolution 1 us) and synthesise the samples."""
        if not (isinstance(dt, int | float) and math.isfinite(dt) and dt >= 0):
            raise InputError(f"advance: dt must be a finite number >= 0 seconds, not {dt!r}")
        self._us += int(round(dt * 1e6))
        # physics runs on the fixed grid only; a partial millisecond waits for the next call,
        # so the result never depends on how the caller slices time
        while self._phys_us + STEP_US <= self._us:
            now = self._phys_us
            if now % CONTROL_US == 0:
                self._control(now)
            self._step(now, now + STEP_US)
            self._phys_us = now + STEP_US
            if self._phys_us - self._synth_us >= SYNTH_US:
                self._synthesise()

    def _control(self, us: int) -> None:
        t = us / 1e6
        if self._calls is not None:
            for arrival in self._calls.due(t):
                self.car.add_passenger(arrival.origin, arrival.destination)
        p, v, _ = self.car.motion.scalar(t)
        dt = CONTROL_US / 1e6
        self.car.tick(t, dt, p, v)
        current = self.drive.current_a if self.car.drive_on and self.controller_powered else 0.0
        self.heatsink.step(dt, current, self.fan_output)

    def _step(self, us0: int, us1: int) -> None:
        dt, t = (us1 - us0) / 1e6, us1 / 1e6
        car, lift, ep, tp = self.car, self.params.lift, self.params.electrical, self.params.thermal
        p, v, a = self.car.motion.scalar(t)
        enabled = car.drive_on and self.controller_powered
        self.drive = drive_state(lift, ep, car.load_kg, v, a, enabled)
        losses = self.heatsink.losses(self.drive.current_a) if enabled else 0.0
        self.dc.step(dt, self.drive.dc_power_w + losses)
        v_bus = self.dc.v_bus
        if self.controller_powered and v_bus < ep.control_dropout_v:
            self.controller_powered = False  # the switch-mode supply drops out
        elif not self.controller_powered and v_bus > ep.undervoltage_v:
            self.controller_powered = True
        if car.drive_on:
            self._last_run_t = t
        self.fan_output = self.controller_powered and (
            car.drive_on or t - self._last_run_t < tp.fan_after_run_s
            or self.heatsink.temp_c > tp.fan_on_c)
        if self.controller_powered:
            self._protect(t, p, v, v_bus)
        self._track.append((t, self.drive.current_a, 1.0 if enabled else 0.0,
                            self.heatsink.fan_speed))

    def _protect(self, t: float, p: float, v: float, v_bus: float) -> None:
        """The drive's own protections: undervoltage (E09) and module overheat (E14)."""
        car, ep, tp = self.car, self.params.electrical, self.params.thermal
        hot = self.heatsink.temp_c
        if v_bus < ep.undervoltage_v:
            car.trip(t, p, v, E09_UNDERVOLTAGE)
        if hot > tp.trip_c:
            car.trip(t, p, v, E14_OVERHEAT)
        car.external_hold = (v_bus < ep.undervoltage_v
                             or (car.fault_code == E14_OVERHEAT
                                 and hot > tp.trip_c - OVERHEAT_RESET_K))

    # sensor data --------------------------------------------------------------------------------
    def _synthesise(self) -> None:
        us0, us1 = self._synth_us, self._phys_us
        if us1 <= us0:
            return
        if not self.synthesize:
            self.car.events.clear()
            self._track = self._track[-1:]
            self._synth_us = us1
            return
        for queue in self._events.values():
            queue.extend(self.car.events)
        self.car.events = []
        track = np.array(self._track)
        self._track = self._track[-1:]
        sp = self.params.sensor
        channels: tuple[str, ...]
        for stream, fs in (("accel", sp.accel_fs), ("audio", sp.audio_fs)):
            n0 = -(-us0 * fs // 1_000_000)
            n1 = -(-us1 * fs // 1_000_000)
            if n1 <= n0:
                continue
            t = np.arange(n0, n1) / fs
            pos, vel, acc = self.car.motion.state(t)
            # an event acts from the first sample at or after it
            queue = self._events[stream]
            events = [(math.ceil(te * fs - 1e-6) - n0, kind) for te, kind in queue
                      if math.ceil(te * fs - 1e-6) < n1]
            self._events[stream] = [e for e in queue if math.ceil(e[0] * fs - 1e-6) >= n1]
            events = [(max(0, i), kind) for i, kind in events]
            if stream == "accel":
                data = self.vibration.render(t, pos, vel, acc, events, self.faults)
                channels, units = ("x", "y", "z"), "m/s^2"
            else:
                cur, on, fan = (np.interp(t, track[:, 0], track[:, k]) for k in (1, 2, 3))
                data = self.sound.render(t, pos, vel, cur, on, fan, events, self.faults)
                channels, units = ("p",), "Pa"
            self._pending.append(SampleBlock(stream, self._seq[stream], n0 / fs, float(fs),
                                             channels, units, data, self._dropped[stream]))
            self._seq[stream] += 1
            self._dropped[stream] = 0
        self._synth_us = us1
        self._bound_pending()

    def _bound_pending(self) -> None:
        while self._pending and self.t - self._pending[0].t0 > MAX_PENDING_S:
            old = self._pending.pop(0)
            self._dropped[old.stream] += old.n

    def drain_blocks(self) -> list[SampleBlock]:
        """Sensor blocks for all samples up to now not yet drained, oldest first."""
        self._synthesise()
        out, self._pending = self._pending, []
        return out

    # controller view ------------------------------------------------------------------------------
    def readings(self) -> dict[str, Any]:
        """Canonical readings (the profile's field and bit names) plus truth values."""
        return controller_readings(self)

    def status(self) -> dict[str, Any]:
        """A compact snapshot for a live view."""
        return live_status(self)

    # commands -------------------------------------------------------------------------------------
    def call(self, floor: int) -> None:
        """A car call to `floor` (1..floors)."""
        self.car.call(int(floor))

    def passenger(self, origin: int, destination: int) -> None:
        """A passenger arrives at `origin` wanting `destination`."""
        self.car.add_passenger(int(origin), int(destination))

    def set_running(self, running: bool) -> None:
        """Stop (finish the trip, park with doors shut, serve no calls) or start service."""
        self.car.in_service = bool(running)

    def set_inspection(self, on: bool) -> None:
        """Inspection mode: calls are driven at inspection speed, doors stay shut."""
        self.car.inspection = bool(on)

    # faults ---------------------------------------------------------------------------------------
    def inject(self, name: str, value: Any = True) -> None:
        """Inject a fault from drivers.sim.faults.FAULTS; FaultError if name or value is bad."""
        val = fault_catalogue.validate(name, value, self.profile.faults)
        self._synthesise()  # samples before the injection keep the old condition
        if val is False:
            self.clear(name)
            return
        self.faults[name] = val
        self._apply(name, val)

    def clear(self, name: str) -> None:
        """Remove an injected fault; the controller resets once nothing holds the car."""
        fault_catalogue.check_name(name)
        self._synthesise()
        self.faults.pop(name, None)
        self._apply(name, None)

    def _apply(self, name: str, val: Any) -> None:
        on = val is not None
        if name == "capacitor_ageing":
            lvl = float(val) if on else 0.0
            self.dc.set_ageing(1 - (1 - fault_catalogue.CAP_C_AT_1) * lvl,
                               1 + (fault_catalogue.CAP_ESR_AT_1 - 1) * lvl)
        elif name == "thermal_ageing":
            self.heatsink.ageing = float(val) if on else 0.0
        elif name == "fan_failure":
            self.heatsink.fan_failed = on
        elif name == "power_loss":
            self.dc.mains_on = not on
        elif name in ("top_overrun", "bottom_overrun") and on:
            self.car.arm_overrun()

    @property
    def active_faults(self) -> dict[str, Any]:
        return dict(self.faults)
