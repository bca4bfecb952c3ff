"""Ed25519 signature verification (RFC 8032 section 5.1.7) in pure Python.

Verification only: the board never signs. Points are in extended coordinates (X:Y:Z:T,
x = X/Z, y = Y/Z, xy = T/Z; Hisil-Wong-Carter-Dawson 2008, the formulas RFC 8032 5.1.4
gives), and [S]B - [k]A is one joint double-and-add over both scalars (Shamir's trick), so a
verification costs about 253 doublings and 190 additions of 255-bit numbers. The check is the
cofactorless one (encode([S]B - [k]A) == R), as OpenSSL and `cryptography` do.
"""

from lg.sha512 import sha512

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493  # group order, RFC 8032 5.1
D = (-121665 * pow(121666, P - 2, P)) % P  # -121665/121666
SQRT_M1 = pow(2, (P - 1) // 4, P)  # a square root of -1 mod p


class BadSignature(Exception):
    pass


def _recover_x(y: int, sign: int) -> int:
    """RFC 8032 5.1.3: x from y and the sign bit; BadSignature if not on the curve."""
    if y >= P:
        raise BadSignature("y coordinate out of range")
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    if x2 == 0:
        if sign:
            raise BadSignature("x = 0 with sign bit set")
        return 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P:
        raise BadSignature("point not on the curve")
    if x & 1 != sign:
        x = P - x
    return x


def decode_point(b: bytes) -> tuple:
    y = int.from_bytes(b, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    return (x, y, 1, x * y % P)


def encode_point(p: tuple) -> bytes:
    x, y, z, _ = p
    zi = pow(z, P - 2, P)
    x, y = x * zi % P, y * zi % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def _add(p: tuple, q: tuple) -> tuple:
    x1, y1, z1, t1 = p
    x2, y2, z2, t2 = q
    a = (y1 - x1) * (y2 - x2) % P
    b = (y1 + x1) * (y2 + x2) % P
    c = 2 * t1 * t2 * D % P
    d = 2 * z1 * z2 % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _double(p: tuple) -> tuple:
    x1, y1, z1, _ = p
    a = x1 * x1 % P
    b = y1 * y1 % P
    c = 2 * z1 * z1 % P
    h = a + b
    e = h - (x1 + y1) * (x1 + y1) % P
    g = a - b
    f = c + g
    return (e * f % P, g * h % P, f * g % P, e * h % P)


_BY = 4 * pow(5, P - 2, P) % P
_BX = _recover_x(_BY, 0)
BASE = (_BX, _BY, 1, _BX * _BY % P)
ZERO = (0, 1, 1, 0)


def _neg(p: tuple) -> tuple:
    x, y, z, t = p
    return ((P - x) % P, y, z, (P - t) % P)


def verify(public: bytes, message: bytes, signature: bytes) -> bool:
    """True if `signature` is a valid Ed25519 signature of `message` by `public`."""
    if len(public) != 32 or len(signature) != 64:
        return False
    try:
        a = decode_point(public)
        r_enc = signature[:32]
        decode_point(r_enc)  # R must be a valid encoding too (RFC 8032 5.1.7 step 1)
    except BadSignature:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= L:
        return False  # non-canonical S is malleable: refused (RFC 8032 5.1.7)
    k = int.from_bytes(sha512(r_enc + public + message), "little") % L
    neg_a = _neg(a)
    both = _add(BASE, neg_a)
    q = ZERO
    for i in range(252, -1, -1):  # s, k < L < 2^253
        q = _double(q)
        sb, kb = (s >> i) & 1, (k >> i) & 1
        if sb and kb:
            q = _add(q, both)
        elif sb:
            q = _add(q, BASE)
        elif kb:
            q = _add(q, neg_a)
    return encode_point(q) == r_enc
