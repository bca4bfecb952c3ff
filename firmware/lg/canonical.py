"""The canonical JSON that command signatures cover (agent/commands/signing.py: sorted keys,
no whitespace, UTF-8, `json.dumps` forms), reproduced byte for byte on the board.

Numbers are the catch: the ESP32's floats are 32-bit, so a float parsed and printed again
would not give the sender's text back. `loads` therefore keeps every number as the exact text
it arrived as (`Num`), which is what Python's `json.dumps` wrote (repr of the float), and
`dumps` writes that text unchanged. `value()` turns the tree into plain values for handlers.
"""


class Num:
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def value(self):
        t = self.text
        return float(t) if ("." in t or "e" in t or "E" in t) else int(t)


class JSONError(ValueError):
    pass


_WS = " \t\n\r"
_ESC = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def loads(text: str):
    value, i = _value(text, _skip(text, 0))
    if _skip(text, i) != len(text):
        raise JSONError("trailing data after the JSON value")
    return value


def _skip(s: str, i: int) -> int:
    while i < len(s) and s[i] in _WS:
        i += 1
    return i


def _value(s: str, i: int):
    if i >= len(s):
        raise JSONError("unexpected end of JSON")
    c = s[i]
    if c == "{":
        out: dict = {}
        i = _skip(s, i + 1)
        if i < len(s) and s[i] == "}":
            return out, i + 1
        while True:
            if i >= len(s) or s[i] != '"':
                raise JSONError(f"expected a key at {i}")
            key, i = _string(s, i)
            i = _skip(s, i)
            if i >= len(s) or s[i] != ":":
                raise JSONError(f"expected ':' at {i}")
            out[key], i = _value(s, _skip(s, i + 1))
            i = _skip(s, i)
            if i < len(s) and s[i] == ",":
                i = _skip(s, i + 1)
                continue
            if i < len(s) and s[i] == "}":
                return out, i + 1
            raise JSONError(f"expected ',' or '}}' at {i}")
    if c == "[":
        arr: list = []
        i = _skip(s, i + 1)
        if i < len(s) and s[i] == "]":
            return arr, i + 1
        while True:
            v, i = _value(s, i)
            arr.append(v)
            i = _skip(s, i)
            if i < len(s) and s[i] == ",":
                i = _skip(s, i + 1)
                continue
            if i < len(s) and s[i] == "]":
                return arr, i + 1
            raise JSONError(f"expected ',' or ']' at {i}")
    if c == '"':
        return _string(s, i)
    for word, v in (("true", True), ("false", False), ("null", None)):
        if s.startswith(word, i):
            return v, i + len(word)
    j = i
    while j < len(s) and s[j] in "+-0123456789.eE":
        j += 1
    if j == i:
        raise JSONError(f"unexpected character {c!r} at {i}")
    num = Num(s[i:j])
    try:
        num.value()
    except ValueError:
        raise JSONError(f"bad number {s[i:j]!r}") from None
    return num, j


def _string(s: str, i: int):
    out = []
    i += 1
    while True:
        j = i
        while j < len(s) and s[j] != '"' and s[j] != "\\":
            j += 1
        if j >= len(s):
            raise JSONError("unterminated string")
        out.append(s[i:j])
        if s[j] == '"':
            return "".join(out), j + 1
        esc = s[j + 1:j + 2]
        if esc == "u":
            code = int(s[j + 2:j + 6], 16)
            if 0xD800 <= code < 0xDC00 and s[j + 6:j + 8] == "\\u":  # surrogate pair
                low = int(s[j + 8:j + 12], 16)
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                j += 6
            out.append(chr(code))
            i = j + 6
        elif esc in _ESC:
            out.append(_ESC[esc])
            i = j + 2
        else:
            raise JSONError(f"bad escape at {j}")


def _dump_str(s: str) -> str:
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif o < 0x20:
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}.get(
                ch, "\\u%04x" % o))  # noqa: UP031 - MicroPython-safe
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def dumps(v) -> str:
    """json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, Num):
        return v.text
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return _dump_str(v)
    if isinstance(v, list):
        return "[" + ",".join(dumps(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(_dump_str(k) + ":" + dumps(v[k]) for k in sorted(v)) + "}"
    raise TypeError(f"cannot encode {type(v).__name__} canonically")


def value(v):
    """The tree with every Num turned into an int or float."""
    if isinstance(v, Num):
        return v.value()
    if isinstance(v, list):
        return [value(x) for x in v]
    if isinstance(v, dict):
        return {k: value(x) for k, x in v.items()}
    return v
