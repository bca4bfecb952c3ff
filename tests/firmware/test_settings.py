"""config.json and baseline.json on the board: every bad value is refused with a message that
names the key, in real MicroPython, before the loop starts."""

from __future__ import annotations

import json

import pytest

from tests.firmware.box_scenario import board_cfg
from tests.firmware.mpy import result

CASES = [
    ("controller.baud", "fast", "wrong type"),
    ("controller.unit", 0, "outside 1..247"),
    ("controller.unit", True, "wrong type"),
    ("accel.fft_n", 1000, "power of two"),
    ("mqtt.port", 70000, "outside 1..65535"),
    ("device.site", "a/b", "not a valid MQTT topic level"),
    ("device.lift", "", "not a valid MQTT topic level"),
    ("outbox.max_messages", 1, "outside 10..5000"),
    ("wdt_timeout_ms", 100, "outside 1000..60000"),
    ("detectors.critical_score", 4.0, "must be above detectors.warning_score"),
    ("detectors.release", 1.5, "outside 0.1..1.0"),  # optional keys: checked when present
    ("detectors.clear_count", 2.5, "wrong type"),
    ("detectors.noise_running_dba", 10, "outside 20.0..140.0"),
    ("mqtt.heartbeat_s", "often", "wrong type"),
]


def _set(cfg: dict, path: str, value) -> dict:
    node = cfg
    *parents, last = path.split(".")
    for p in parents:
        node = node[p]
    node[last] = value
    return cfg


def test_bad_config_values_are_refused_naming_the_key(tmp_path):
    flash = tmp_path / "flash"
    flash.mkdir()
    for i, (path, value, _) in enumerate(CASES):
        (flash / f"c{i}.json").write_text(json.dumps(_set(board_cfg(), path, value)))
    (flash / "missing.json").write_text(json.dumps({k: v for k, v in board_cfg().items()
                                                    if k != "mqtt"}))
    (flash / "broken.json").write_text('{"device": ')
    got = result(f"""
import json
from lg.settings import check_config, load_json, SettingsError
out = []
for name in ['c%d.json' % i for i in range({len(CASES)})] + ['missing.json', 'broken.json',
                                                              'absent.json']:
    try:
        check_config(load_json(name), name)
        out.append('accepted')
    except SettingsError as exc:
        out.append(str(exc))
print(json.dumps(out))
""", flash=flash)
    for (path, _, words), msg in zip(CASES, got, strict=False):
        assert path in msg and words in msg, msg
    assert "mqtt.host is missing" in got[len(CASES)]
    assert "broken.json: not valid JSON" in got[len(CASES) + 1]
    assert "absent.json: cannot read" in got[len(CASES) + 2]


def test_a_valid_config_is_accepted_unchanged(tmp_path):
    flash = tmp_path / "flash"
    flash.mkdir()
    cfg = board_cfg()
    (flash / "config.json").write_text(json.dumps(cfg))
    got = result("""
import json
from lg.settings import check_config, load_json
print(json.dumps(check_config(load_json('config.json'))))
""", flash=flash)
    assert got == cfg


@pytest.mark.parametrize(
    ("baseline", "words"),
    [({"schema": "liftguard.baseline/0"}, "schema must be"),
     ({"schema": "liftguard.baseline/1", "min_count": 8, "features": {}}, "speed_bin_mps"),
     ({"schema": "liftguard.baseline/1", "speed_bin_mps": 0.25, "min_count": 8,
       "features": {"rope.strand_prom": {"spec": ["rope_wear", 0.5], "bins": {}}}},
      "rope.strand_prom: bad spec")],
)
def test_bad_baseline_files_are_refused_naming_the_problem(tmp_path, baseline, words):
    flash = tmp_path / "flash"
    flash.mkdir()
    (flash / "baseline.json").write_text(json.dumps(baseline))
    got = result("""
import json
from lg.baseline import Baseline, BaselineError
try:
    Baseline(json.loads(open('baseline.json').read()))
    print(json.dumps('accepted'))
except BaselineError as exc:
    print(json.dumps(str(exc)))
""", flash=flash)
    assert words in got
