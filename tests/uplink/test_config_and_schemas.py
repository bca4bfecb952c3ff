"""The pipeline's config sections, and the schemas shipped for platform developers."""

import json
import os
from pathlib import Path

import jsonschema
import pytest

from agent import config
from agent.errors import ConfigError
from agent.uplink import UplinkSettings
from agent.uplink.pipeline import AlarmPipeline
from tests.support.schemas import SCHEMA_DIR

ROOT = Path(__file__).resolve().parents[2]
BASE = '[device]\nsite = "s1"\nlift = "L1"\n'


def load(tmp_path, text):
    p = tmp_path / "lg.toml"
    p.write_text(BASE + text)
    return config.load(p)


def test_tls_without_a_ca_file_is_a_config_error_naming_the_key(tmp_path):
    with pytest.raises(ConfigError, match=r"mqtt.ca_file is required"):
        UplinkSettings.from_config(load(tmp_path, ""))


def test_private_key_readable_by_others_is_refused_at_load(tmp_path):
    key = tmp_path / "box.key"
    key.write_text("secret")
    os.chmod(key, 0o644)
    with pytest.raises(ConfigError, match=r"mqtt.key_file.*chmod 600"):
        load(tmp_path, f'[mqtt]\nkey_file = "{key}"\n')


@pytest.mark.parametrize("text, fragment", [
    ('[mqtt]\nprotocol = "4"\n', "mqtt.protocol"),
    ("[mqtt]\nport = 0\n", "mqtt.port = 0"),
    ("[storage]\nmax_bytes = 1000\n", "storage.max_bytes"),
    ("[alarms]\nresend_interval_s = 0\n", "alarms.resend_interval_s"),
])
def test_bad_values_name_their_key(tmp_path, text, fragment):
    with pytest.raises(ConfigError, match=fragment.replace(".", r"\.")):
        load(tmp_path, text)


def test_device_ids_must_be_single_topic_levels(tmp_path):
    cfg_text = '[device]\nsite = "s/1"\nlift = "L1"\n[mqtt]\ntls = false\n'
    p = tmp_path / "lg.toml"
    p.write_text(cfg_text)
    with pytest.raises(ConfigError, match="device.site"):
        UplinkSettings.from_config(config.load(p))


def test_relative_storage_paths_resolve_next_to_the_config(tmp_path):
    cfg = load(tmp_path, '[mqtt]\ntls = false\n[storage]\noutbox_path = "q/outbox.db"\n')
    (tmp_path / "q").mkdir()
    p = AlarmPipeline.from_config(cfg)
    try:
        assert p.outbox.path == tmp_path / "q" / "outbox.db"
        assert p.trail.path == tmp_path / "maintenance-trail.jsonl"
    finally:
        p.outbox.close()


@pytest.mark.parametrize("path", sorted(SCHEMA_DIR.glob("*.json")), ids=lambda p: p.name)
def test_every_schema_is_valid_and_linked_from_docs(path):
    schema = json.loads(path.read_text())
    jsonschema.validators.validator_for(schema).check_schema(schema)
    doc = ROOT / "docs" / "schemas" / path.name
    assert doc.read_text() == path.read_text()
