"""A register-level model of the ADXL345 behind the fake SPI bus (datasheet Rev. G).

Implements what the driver relies on: DEVID reads 0xE5; register writes land in the register
file; a read of DATAX0 with the multi-byte bit returns the oldest FIFO entry (6 bytes, little
endian x, y, z) and pops it; FIFO_STATUS reports the entries (at most 32, FIFO_CTL stream mode
drops the oldest and sets OVERRUN in INT_SOURCE, which a read clears). `produce(n)` is the
sensor sampling n times from the `signal(i)` callable, which returns raw counts (x, y, z).
"""


class ADXL345Model:
    def __init__(self, signal=None, devid=0xE5):
        self.regs = bytearray(64)
        self.regs[0] = devid
        self.fifo = []
        self.signal = signal or (lambda i: (0, 0, 256))
        self.t = 0
        self.overrun = False
        self.writes = []

    def produce(self, n):
        for _ in range(n):
            sample = self.signal(self.t)
            self.t += 1
            if not self.regs[0x2D] & 0x08:
                continue  # standby: no conversions
            if len(self.fifo) == 32:
                self.fifo.pop(0)
                self.overrun = True
            self.fifo.append(sample)

    def transfer(self, data):
        addr = data[0] & 0x3F
        if not data[0] & 0x80:  # write
            for i, v in enumerate(data[1:]):
                self.regs[addr + i] = v
                if len(self.writes) < 64:
                    self.writes.append((addr + i, v))
            return bytes(len(data))
        out = bytearray(len(data))
        if addr == 0x32 and data[0] & 0x40:
            if self.fifo:
                x, y, z = self.fifo.pop(0)
            else:
                x = y = z = 0
            raw = b"".join(bytes((v & 0xFF, (v >> 8) & 0xFF)) for v in (x, y, z))
            out[1:1 + min(6, len(data) - 1)] = raw[:len(data) - 1]
            return bytes(out)
        for i in range(1, len(data)):
            reg = addr + i - 1
            if reg == 0x39:
                out[i] = len(self.fifo)
            elif reg == 0x30:
                out[i] = (0x02 if len(self.fifo) >= (self.regs[0x38] & 0x1F) else 0) | \
                    (0x01 if self.overrun else 0)
                self.overrun = False
            else:
                out[i] = self.regs[reg]
        return bytes(out)
