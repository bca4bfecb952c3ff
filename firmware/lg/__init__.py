"""liftguard ESP32 firmware: the box's job in MicroPython (also importable under CPython).

Data path, one module per step: modbus_rtu (controller link) -> registers (profile decode) ->
rules (events); adxl345 / mic (sensors) -> fft -> features -> baseline; alarms go through
payloads -> outbox (flash) -> mqtt / uplink; commands (signed, ed25519) come back the same way.
`board` is the only module that imports `machine`.
"""
