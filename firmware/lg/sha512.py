"""SHA-512 (FIPS 180-4 section 6.4) in pure Python: MicroPython's hashlib has no SHA-512 and
Ed25519 (RFC 8032 section 5.1) needs it. Fast enough for the few hundred bytes of a command."""

_M = 0xFFFFFFFFFFFFFFFF

# FIPS 180-4 4.2.3: first 64 bits of the fractional parts of the cube roots of the first 80
# primes; computed here rather than typed in (integer cube root, exact).


def _primes(n: int) -> list:
    out: list = []
    k = 2
    while len(out) < n:
        if all(k % p for p in out if p * p <= k):
            out.append(k)
        k += 1
    return out


def _iroot(x: int, r: int) -> int:
    """floor(x ** (1/r)) by Newton's method from above (it decreases monotonically to the
    root): a few steps, where bisection took ~200 big-number powers per constant at boot."""
    bits, t = 0, x
    while t:
        t >>= 1
        bits += 1
    y = 1 << (bits // r + 1)
    while True:
        z = ((r - 1) * y + x // y ** (r - 1)) // r
        if z >= y:
            return y
        y = z


_P = _primes(80)
_K = [_iroot(p << 192, 3) & _M for p in _P]  # frac(cbrt(p)) * 2^64
_H0 = [_iroot(p << 128, 2) & _M for p in _P[:8]]  # 5.3.5: frac(sqrt(p)) * 2^64


def _rotr(x: int, n: int) -> int:
    return ((x >> n) | (x << (64 - n))) & _M


def _compress(h: list, block: bytes) -> None:
    w = [int.from_bytes(block[i:i + 8], "big") for i in range(0, 128, 8)]
    for t in range(16, 80):
        a, b = w[t - 15], w[t - 2]
        s0 = _rotr(a, 1) ^ _rotr(a, 8) ^ (a >> 7)
        s1 = _rotr(b, 19) ^ _rotr(b, 61) ^ (b >> 6)
        w.append((w[t - 16] + s0 + w[t - 7] + s1) & _M)
    a, b, c, d, e, f, g, hh = h
    k = _K
    for t in range(80):
        t1 = (hh + (_rotr(e, 14) ^ _rotr(e, 18) ^ _rotr(e, 41)) + ((e & f) ^ (~e & g))
              + k[t] + w[t]) & _M
        t2 = ((_rotr(a, 28) ^ _rotr(a, 34) ^ _rotr(a, 39)) + ((a & b) ^ (a & c) ^ (b & c))) & _M
        hh, g, f, e, d, c, b, a = g, f, e, (d + t1) & _M, c, b, a, (t1 + t2) & _M
    for i, v in enumerate((a, b, c, d, e, f, g, hh)):
        h[i] = (h[i] + v) & _M


def sha512(data: bytes) -> bytes:
    h = list(_H0)
    n = len(data)
    # 5.1.2 padding: 0x80, zeros, then the 128-bit big-endian bit length
    pad = b"\x80" + bytes((111 - n) % 128) + (8 * n).to_bytes(16, "big")
    msg = bytes(data) + pad
    for i in range(0, len(msg), 128):
        _compress(h, msg[i:i + 128])
    return b"".join(v.to_bytes(8, "big") for v in h)
