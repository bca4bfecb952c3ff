"""Load and validate the agent's TOML configuration.

The schema is data (agent/config_schema.py). Validation is complete before anything is used:
an unknown section or key, a wrong type, a value out of range or a missing secret file is a
`ConfigError` naming the file and the dotted key, and the caller keeps its last good config.
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from agent.config_schema import REQUIRED, SCHEMA, Key
from agent.errors import ConfigError


class Section(Mapping[str, Any]):
    """A validated, read-only config section; keys are also attributes."""

    def __init__(self, name: str, values: dict[str, Any]) -> None:
        self._name = name
        self._values = values

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __getattr__(self, key: str) -> Any:
        try:
            return self._values[key]
        except KeyError:
            raise AttributeError(f"config section [{self._name}] has no key {key!r}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Section({self._name!r}, {self._values!r})"


class Config(Mapping[str, Section]):
    """All sections of a validated configuration; `path` is where it came from."""

    def __init__(self, sections: dict[str, Section], path: Path | None) -> None:
        self._sections = sections
        self.path = path

    def __getitem__(self, key: str) -> Section:
        return self._sections[key]

    def __getattr__(self, key: str) -> Section:
        try:
            return self._sections[key]
        except KeyError:
            raise AttributeError(f"no config section [{key}]") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._sections)

    def __len__(self) -> int:
        return len(self._sections)


def load(path: str | os.PathLike[str]) -> Config:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read config: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from None
    return validate(data, source=str(p), base_dir=p.parent, path=p)


def from_dict(data: Mapping[str, Any], base_dir: Path | None = None) -> Config:
    """Validate a config given as a dict (tests, the demo and the bench build configs this way)."""
    return validate(data, source="<config>", base_dir=base_dir or Path.cwd(), path=None)


def validate(
    data: Mapping[str, Any], *, source: str, base_dir: Path, path: Path | None
) -> Config:
    for name in data:
        if name not in SCHEMA:
            known = ", ".join(sorted(SCHEMA))
            raise ConfigError(f"{source}: unknown section [{name}] (known: {known})")
    sections = {}
    for name, keys in SCHEMA.items():
        given = data.get(name, {})
        if not isinstance(given, Mapping):
            raise ConfigError(f"{source}: [{name}] must be a table")
        sections[name] = Section(name, _validate_section(name, keys, given, source, base_dir))
    return Config(sections, path)


def _validate_section(
    name: str, keys: Mapping[str, Key], given: Mapping[str, Any], source: str, base_dir: Path
) -> dict[str, Any]:
    for k in given:
        if k not in keys:
            raise ConfigError(f"{source}: unknown key {name}.{k}")
    out: dict[str, Any] = {}
    for k, spec in keys.items():
        where = f"{source}: {name}.{k}"
        if k not in given:
            if spec.default is REQUIRED:
                raise ConfigError(f"{where} is required")
            out[k] = spec.default
            if spec.path and isinstance(spec.default, str) and spec.default:
                # A default file name means "next to the config", like a given relative one.
                out[k] = str((base_dir / spec.default).resolve())
            continue
        out[k] = _check_value(where, spec, given[k], base_dir)
    return out


def _check_value(where: str, spec: Key, value: Any, base_dir: Path) -> Any:
    types = spec.type if isinstance(spec.type, tuple) else (spec.type,)
    # TOML integers are acceptable where a float is expected; bools are never numbers.
    if float in types and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, bool) and bool not in types:
        raise ConfigError(f"{where} = {value!r}: expected {_type_names(types)}")
    if not isinstance(value, types):
        raise ConfigError(f"{where} = {value!r}: expected {_type_names(types)}")
    if spec.choices and value not in spec.choices:
        allowed = ", ".join(map(str, spec.choices))
        raise ConfigError(f"{where} = {value!r}: must be one of {allowed}")
    num: Any = value  # isinstance() above narrowed the type to `object` for mypy
    if spec.min is not None and num < spec.min:
        raise ConfigError(f"{where} = {value!r}: must be >= {spec.min}")
    if spec.max is not None and num > spec.max:
        raise ConfigError(f"{where} = {value!r}: must be <= {spec.max}")
    if spec.path and isinstance(value, str) and value:
        value = value if os.path.isabs(value) else str((base_dir / value).resolve())
        if spec.secret:
            check_secret_file(value, where)
    return value


def check_secret_file(path: str, where: str) -> None:
    """A secret (private key, password file) must exist and not be readable by group/others."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise ConfigError(f"{where}: secret file {path}: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(f"{where}: secret file {path} is not a regular file")
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{where}: secret file {path} is accessible by group/others "
            f"(mode {stat.S_IMODE(st.st_mode):o}); run chmod 600 {path}"
        )


def _type_names(types: tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true/false",
             list: "a list", dict: "a table"}
    return " or ".join(names.get(t, t.__name__) for t in types)
