"""The configuration schema, as data: one table of keys per TOML section.

A section is added here by the issue that needs it. `path=True` resolves a relative path
against the config file's folder; `secret=True` also checks the file's permissions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

REQUIRED: Any = object()


@dataclass(frozen=True)
class Key:
    type: type | tuple[type, ...]
    default: Any = REQUIRED
    choices: tuple[Any, ...] = ()
    min: float | None = None
    max: float | None = None
    path: bool = False
    secret: bool = False
    help: str = ""


SCHEMA: dict[str, dict[str, Key]] = {
    "device": {
        "site": Key(str, help="site id, used in MQTT topics"),
        "lift": Key(str, help="lift id within the site, used in MQTT topics"),
        "box_id": Key(str, "", help="hardware serial of the box (defaults to site-lift)"),
    },
    "lift": {
        "floors": Key(int, 10, min=2, max=200),
        "floor_height_m": Key(float, 3.0, min=2.0, max=20.0),
        "rated_speed_mps": Key(float, 1.75, min=0.1, max=12.0),
        "roping": Key(int, 2, choices=(1, 2, 4)),
        "sheave_diameter_m": Key(float, 0.40, min=0.1, max=2.0),
        "rope_strands": Key(int, 8, min=3, max=36),
        "rope_lay_length_m": Key(float, 0.065, min=0.01, max=0.5),
    },
    "detectors": {
        "baseline": Key(str, "", path=True, help="baseline JSON from `liftguard baseline learn`"),
        "state": Key(str, "", path=True, help="detector state file (trends, severity levels)"),
        "warning_score": Key(float, 5.0, min=1.0, max=100.0, help="baseline units"),
        "critical_score": Key(float, 10.0, min=1.0, max=1000.0, help="baseline units"),
        "release": Key(float, 0.7, min=0.1, max=1.0, help="leave a level below release x enter"),
        "clear_count": Key(int, 3, min=1, max=100, help="evaluations below release to step down"),
        "trend_alpha": Key(float, 0.25, min=0.01, max=1.0, help="EWMA weight of a new score"),
        "ride_vertical_max_pk_pk": Key(float, 0.30, min=0.0, help="m/s^2, Wk weighted"),
        "ride_vertical_a95": Key(float, 0.20, min=0.0, help="m/s^2, Wk weighted"),
        "ride_horizontal_max_pk_pk": Key(float, 0.20, min=0.0, help="m/s^2, Wd weighted"),
        "ride_horizontal_a95": Key(float, 0.15, min=0.0, help="m/s^2, Wd weighted"),
        "noise_running_dba": Key(float, 80.0, min=20.0, max=140.0, help="L_Aeq limit, trip"),
        "noise_rest_dba": Key(float, 80.0, min=20.0, max=140.0, help="L_Aeq limit, at rest"),
    },
    "controller": {
        "backend": Key(str, "modbus", choices=("modbus", "sim"),
                       help="modbus: a real port; sim: the virtual elevator's pty link"),
        "port": Key(str, "/dev/ttyAMA0", help="path or pyserial URL (loop://, spy://...)"),
        "baudrate": Key(int, 19200, choices=(1200, 2400, 4800, 9600, 19200, 38400, 57600,
                                             115200)),
        "parity": Key(str, "E", choices=("N", "E", "O"), help="MOSL default is E"),
        "stopbits": Key(int, 1, choices=(1, 2)),
        "device_id": Key(int, 1, min=1, max=247),
        "profile": Key(str, "nice3000plus", help="shipped profile name or a .toml path"),
        "poll_period_s": Key(float, 0.2, min=0.0, max=60.0),
        "timeout_s": Key(float, 0.3, min=0.01, max=10.0, help="per transaction"),
        "retries": Key(int, 1, min=0, max=10),
        "direction": Key(str, "auto", choices=("auto", "kernel", "gpio"),
                         help="RS-485 driver enable: transceiver, TIOCSRS485, or a DE/RE pin"),
        "de_pin": Key(int, -1, min=-1, max=27, help="BCM pin for direction = gpio"),
        "rts_delay_before_s": Key(float, 0.0, min=0.0, max=0.1),
        "rts_delay_after_s": Key(float, 0.0, min=0.0, max=0.1),
        "echo": Key(bool, False, help="adapter hears its own transmission: swallow it"),
        "transport": Key(str, "native", choices=("native", "pymodbus")),
    },
    "events": {
        "trapped_at_floor_s": Key(float, 20.0, min=0.0, max=3600.0),
        "trapped_between_floors_s": Key(float, 15.0, min=0.0, max=3600.0),
        "stopped_outside_door_zone_s": Key(float, 45.0, min=0.0, max=3600.0),
        "door_open_while_running_s": Key(float, 0.3, min=0.0, max=60.0),
        "overspeed_s": Key(float, 0.3, min=0.0, max=60.0),
        "overspeed_level1": Key(float, 1.2, min=1.0, max=3.0, help="x rated speed"),
        "overspeed_level2": Key(float, 1.4, min=1.0, max=3.0, help="x rated speed"),
        "overspeed_hysteresis": Key(float, 0.05, min=0.0, max=0.5, help="x rated speed"),
        "overrun_s": Key(float, 0.0, min=0.0, max=60.0),
        "safety_circuit_s": Key(float, 0.5, min=0.0, max=60.0),
        "door_timeout_s": Key(float, 15.0, min=0.0, max=600.0),
        "controller_fault_s": Key(float, 0.0, min=0.0, max=600.0),
        "clear_s": Key(float, 2.0, min=0.0, max=600.0, help="cause gone this long to end"),
        "comm_lost_polls": Key(int, 3, min=1, max=1000),
        "comm_recover_polls": Key(int, 2, min=1, max=1000),
        "moving_speed_mps": Key(float, 0.05, min=0.0, max=1.0),
        "door_open_speed_mps": Key(float, 0.1, min=0.0, max=2.0),
        "relevel_max_speed_mps": Key(float, 0.3, min=0.0, max=0.8),
        "occupied_load_pct": Key(float, 5.0, min=0.0, max=100.0),
        "top_level_m": Key(float, -1.0, help="position of the top floor; < 0: not checked"),
        "bottom_level_m": Key(float, -1.0, help="position of the bottom floor; < 0: not checked"),
        "overrun_margin_m": Key(float, 0.15, min=0.0, max=5.0),
    },
    "accel": {
        "backend": Key(str, "sim", choices=("sim", "adxl345", "adxl355", "replay", "none")),
        "interface": Key(str, "spi", choices=("spi", "i2c"), help="adxl345 only; adxl355: spi"),
        "spi_bus": Key(int, 0, min=0, max=6),
        "spi_device": Key(int, 0, min=0, max=3, help="chip select: 0 = CE0"),
        "spi_hz": Key(int, 5_000_000, min=100_000, max=10_000_000,
                      help="<= 5 MHz for adxl345, <= 10 MHz for adxl355"),
        "spi_3wire": Key(bool, False),
        "i2c_bus": Key(int, 1, min=0, max=22),
        "i2c_address": Key(int, 0x53, choices=(0x53, 0x1D), help="ALT ADDRESS low / high"),
        "odr_hz": Key(float, 3200.0, min=3.9, max=4000.0),
        "range_g": Key(int, 16, choices=(2, 4, 8, 16)),
        "watermark": Key(int, 16, min=1, max=32, help="FIFO samples per drain"),
        "socket": Key(str, "", path=True, help="sim: the virtual elevator's sensor socket"),
        "replay_file": Key(str, "", path=True, help="replay: WAV with a sidecar JSON"),
        "replay_loop": Key(bool, False),
        "replay_realtime": Key(bool, True, help="false: as fast as the agent reads"),
    },
    "noise": {
        "backend": Key(str, "sim", choices=("sim", "modbus", "alsa", "replay", "none")),
        "modbus_device_id": Key(int, 2, min=1, max=247, help="meter's id on the controller bus"),
        "modbus_register": Key(int, 0, min=0, max=0xFFFF),
        "modbus_function": Key(int, 3, choices=(3, 4), help="3 holding, 4 input registers"),
        "modbus_scale": Key(float, 0.1, min=0.0001, max=100.0, help="dB per count"),
        "poll_period_s": Key(float, 1.0, min=0.1, max=3600.0),
        "alsa_device": Key(str, "default", help="ALSA PCM name, e.g. hw:1,0 or plughw:1,0"),
        "sample_rate": Key(int, 48000, min=8000, max=192000),
        "period_frames": Key(int, 1024, min=32, max=65536),
        "sensitivity_dbfs": Key(float, -26.0, min=-80.0, max=0.0,
                                help="dBFS at 94 dB SPL; calibration refines it"),
        "socket": Key(str, "", path=True, help="sim: the virtual elevator's sensor socket"),
        "replay_file": Key(str, "", path=True, help="replay: WAV with a sidecar JSON"),
        "replay_loop": Key(bool, False),
        "replay_realtime": Key(bool, True, help="false: as fast as the agent reads"),
    },
    "gpio": {
        "backend": Key(str, "sim", choices=("sim", "rpigpio", "none")),
        "relay_pin": Key(int, 17, min=-1, max=27, help="BCM; -1 = not fitted"),
        "relay_energised": Key(str, "healthy", choices=("healthy", "alarm"),
                               help="healthy: fail-safe, a dead box opens the contact"),
        "led_pin": Key(int, 27, min=-1, max=27),
        "buzzer_pin": Key(int, 22, min=-1, max=27),
        "button_pin": Key(int, 5, min=-1, max=27, help="to ground, internal pull-up"),
        "door_pin": Key(int, -1, min=-1, max=27, help="optional door contact"),
        "door_open_level": Key(str, "high", choices=("high", "low")),
        "debounce_ms": Key(float, 30.0, min=1.0, max=1000.0),
        "long_press_s": Key(float, 3.0, min=0.5, max=60.0),
    },
    "mqtt": {
        "host": Key(str, "127.0.0.1", help="broker host name or address"),
        "port": Key(int, 8883, min=1, max=65535, help="8883 = MQTT over TLS"),
        "tls": Key(bool, True, help="false only for a broker on this machine"),
        "ca_file": Key(str, "", path=True, help="CA certificate(s) that signed the broker's"),
        "cert_file": Key(str, "", path=True, help="this box's client certificate"),
        "key_file": Key(str, "", path=True, secret=True, help="its private key (mode 0600)"),
        "username": Key(str, "", help="only if the broker uses passwords, not certificates"),
        "password_file": Key(str, "", path=True, secret=True),
        "client_id": Key(str, "", help="unique per box; default liftguard-SITE-LIFT"),
        "protocol": Key(str, "auto", choices=("auto", "5", "3.1.1"),
                        help="auto: MQTT 5, falling back to 3.1.1"),
        "keepalive_s": Key(int, 30, min=5, max=3600),
        "connect_timeout_s": Key(float, 5.0, min=0.5, max=60.0),
        "backoff_min_s": Key(float, 0.5, min=0.05, max=60.0),
        "backoff_max_s": Key(float, 30.0, min=0.1, max=3600.0, help="reconnect delay cap"),
        "inflight": Key(int, 20, min=1, max=1000, help="unacknowledged messages on the wire"),
        "heartbeat_s": Key(float, 60.0, min=1.0, max=86400.0),
    },
    "storage": {
        "outbox_path": Key(str, "outbox.db", path=True, help="SQLite outbox (WAL)"),
        "max_bytes": Key(int, 64 << 20, min=64 << 10, help="outbox size bound"),
        "telemetry_max_rows": Key(int, 10_000, min=1, max=10_000_000),
        "telemetry_share": Key(float, 0.5, min=0.05, max=0.95,
                               help="share of max_bytes telemetry may use"),
        "counter_path": Key(str, "cmd-counters.json", path=True,
                            help="last accepted command counter per key"),
        "trail_path": Key(str, "maintenance-trail.jsonl", path=True),
    },
    "alarms": {
        "resend_interval_s": Key(float, 300.0, min=1.0, max=86400.0,
                                 help="re-send an unacknowledged alarm this often"),
    },
    "commands": {
        "trusted_keys": Key(str, "", path=True,
                            help="file of 'ed25519 BASE64 name' lines; empty: no commands"),
        "max_bytes": Key(int, 4096, min=256, max=65536),
        "max_ttl_s": Key(float, 86400.0, min=10.0, max=604800.0,
                         help="refuse commands valid for longer than this"),
    },
    # The ESP32 box (firmware/): `liftguard firmware build` turns this config into the board's
    # config.json. Pins are GPIO numbers of the ESP32 / ESP32-S3 module.
    "firmware": {
        "wifi_ssid": Key(str, "", help="WLAN the board joins"),
        "wifi_password_file": Key(str, "", path=True, secret=True),
        "uart_id": Key(int, 1, choices=(1, 2), help="UART0 is the REPL"),
        "uart_tx": Key(int, 17, min=0, max=48),
        "uart_rx": Key(int, 16, min=0, max=48),
        "de_pin": Key(int, 4, min=-1, max=48, help="RS-485 DE/RE; -1: auto-direction transceiver"),
        "spi_id": Key(int, 2, choices=(1, 2)),
        "spi_sck": Key(int, 18, min=0, max=48),
        "spi_mosi": Key(int, 23, min=0, max=48),
        "spi_miso": Key(int, 19, min=0, max=48),
        "accel_cs": Key(int, 5, min=0, max=48),
        "accel_odr_hz": Key(int, 1600, choices=(400, 800, 1600, 3200),
                            help="ADXL345 output data rate (datasheet table 7)"),
        "fft_n": Key(int, 1024, choices=(256, 512, 1024, 2048)),
        "frames_per_segment": Key(int, 8, min=1, max=64, help="Welch frames per feature set"),
        "i2s_id": Key(int, 0, choices=(0, 1)),
        "i2s_sck": Key(int, 26, min=-1, max=48, help="-1: no microphone"),
        "i2s_ws": Key(int, 25, min=-1, max=48),
        "i2s_sd": Key(int, 33, min=-1, max=48),
        "mic_rate_hz": Key(int, 16000, choices=(8000, 16000, 22050, 44100, 48000)),
        "outbox_max_messages": Key(int, 200, min=10, max=5000),
        "telemetry_s": Key(float, 60.0, min=1.0, max=86400.0),
        "wdt_timeout_ms": Key(int, 8000, min=1000, max=60000),
    },
}
