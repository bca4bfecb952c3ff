"""Controller register decoding from the compact profile that `liftguard firmware build` writes.

The compact form (profile.json on the board) is the same profile as drivers/profiles/*.toml,
flattened into lists so it parses in little RAM:

    {"name": "nice3000plus", "unit": 1,
     "fields": [[name, address, type, scale, word_order, bits], ...],
     "plan": [[address, count], ...],
     "faults": {"14": [code, severity, event], ...}, "fault_register": "fault_code"}

with bits = [[name, lsb, width, enum_or_null], ...]; enum is a list indexed by raw value.
Decoding matches drivers.controller.profile.Field.decode value for value.
"""

from lg.modbus_rtu import ModbusError

WORDS = {"u16": 1, "s16": 1, "u32": 2, "s32": 2, "bits": 1}


class ProfileError(Exception):
    pass


def check_profile(p: dict) -> dict:
    """Validate the compact profile; ProfileError names the field that is wrong."""
    for key in ("name", "fields", "plan"):
        if key not in p:
            raise ProfileError(f"profile.json: missing {key!r}")
    for f in p["fields"]:
        if len(f) != 6 or f[2] not in WORDS or not f[3] > 0:
            raise ProfileError("profile.json: bad field %r" % (f[0] if f else f))
    for blk in p["plan"]:
        if len(blk) != 2 or not 1 <= blk[1] <= 125:
            raise ProfileError(f"profile.json: bad read {blk!r}")
    return p


def decode(profile: dict, regs: dict) -> dict:
    """Readings from a register image {address: word}; fields not fully read are skipped."""
    out = {}
    for name, address, ftype, scale, order, bits in profile["fields"]:
        words = WORDS[ftype]
        if address not in regs or (words == 2 and address + 1 not in regs):
            continue
        if ftype == "bits":
            word = regs[address]
            out[name] = word
            for bname, lsb, width, enum in bits:
                raw = (word >> lsb) & ((1 << width) - 1)
                if enum is not None:
                    out[bname] = enum[raw] if raw < len(enum) and enum[raw] else f"unknown_{raw}"
                else:
                    out[bname] = bool(raw) if width == 1 else raw
            continue
        if words == 1:
            raw = regs[address] & 0xFFFF
        else:
            a, b = regs[address] & 0xFFFF, regs[address + 1] & 0xFFFF
            raw = (a << 16 | b) if order == "big" else (b << 16 | a)
        nbits = 16 * words
        if ftype[0] == "s" and raw >= 1 << (nbits - 1):
            raw -= 1 << nbits
        value = raw * scale
        out[name] = int(value) if scale == 1 and value == int(value) else value
    return out


def poll(profile: dict, master) -> tuple:
    """Read every block of the plan: (readings, first error or None). A failed block leaves
    its fields out; the others are still decoded, as the Pi agent's poller does."""
    regs = {}
    error = None
    unit = profile.get("unit", 1)
    for address, count in profile["plan"]:
        try:
            words = master.read_holding(unit, address, count)
        except ModbusError as exc:
            if error is None:
                error = exc
            continue
        for i, w in enumerate(words):
            regs[address + i] = w
    return decode(profile, regs), error
