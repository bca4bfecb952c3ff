"""Control socket requests: what is accepted and the one-line reason for what is not."""

import pytest

from drivers.sim.control import ControlError, Request, parse_request


@pytest.mark.parametrize(
    ("line", "request_"),
    [
        (b'{"cmd": "status"}', Request("status")),
        (b'{"cmd": "faults"}', Request("faults")),
        (b'{"cmd": "inject", "faults": {"rope_wear": 0.4, "fan_failure": "on"}}',
         Request("inject", faults={"rope_wear": 0.4, "fan_failure": "on"})),
        (b'{"cmd": "clear", "names": ["rope_wear"]}', Request("clear", names=("rope_wear",))),
        (b'{"cmd": "call", "floor": 7}', Request("call", floor=7)),
    ],
)
def test_valid_requests_parse(line, request_):
    assert parse_request(line) == request_


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        (b"not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"cmd": "reboot"}', "unknown command 'reboot'"),
        (b'{"cmd": "inject"}', "non-empty object 'faults'"),
        (b'{"cmd": "inject", "faults": {}}', "non-empty object 'faults'"),
        (b'{"cmd": "inject", "faults": {"rope_wear": [1]}}', "value of 'rope_wear'"),
        (b'{"cmd": "clear", "names": "rope_wear"}', "list 'names'"),
        (b'{"cmd": "call", "floor": "3"}', "integer 'floor'"),
        (b'{"cmd": "call", "floor": true}', "integer 'floor'"),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_malformed_requests_are_refused_with_a_reason(line, fragment):
    with pytest.raises(ControlError, match=fragment):
        parse_request(line)
