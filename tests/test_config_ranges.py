"""Every number of every typed config is finite and inside its declared range, from YAML and from flags.

The configs are discovered, not listed: every dataclass in a `speechnb` module whose name ends in `Config` or
`Settings`, and every section nested in one. A field is numeric when its type (without null, or the items of a
list) is `int` or `float`. For each such field the test checks that a range is declared (`speechnb.config.bounded`),
that the default lies inside it, and that NaN, +inf, -inf and a value just outside each bound are refused by the
config layer, both as a YAML value (`from_mapping`) and as a command-line flag (`add_config_arguments` +
`apply_arguments`). A new field is covered as soon as it is declared; a new numeric field without a range fails
here with the fix named.
"""

import argparse
import dataclasses
import importlib
import math
import pkgutil
import types
import typing

import pytest

import speechnb
from speechnb.config import add_config_arguments, apply_arguments, config_fields, from_mapping
from speechnb.core import SpeechnbError


def _modules() -> list:
    "Every speechnb module, in the subpackages too (speechnb.judge, speechnb.speechworthy, speechnb.speech_prompt)."
    return [
        importlib.import_module(m.name)
        for m in pkgutil.walk_packages(speechnb.__path__, prefix="speechnb.")
        if not m.ispkg and not m.name.rsplit(".", 1)[1].startswith("_")
    ]


def _plain(tp):
    "The type without null (`int | None` -> int)."
    args = typing.get_args(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return rest[0] if len(rest) == 1 else typing.Union[tuple(rest)]
    return tp


def _sections(cls) -> list:
    "`cls` and the config dataclasses nested in it."
    found = [cls]
    for f in config_fields(cls):
        if dataclasses.is_dataclass(_plain(f.type)):
            found += _sections(_plain(f.type))
    return found


def config_classes() -> list:
    "Every config dataclass of the package: names ending in Config or Settings, and their sections."
    classes = {}
    for module in _modules():
        for name, value in vars(module).items():
            if (
                isinstance(value, type)
                and dataclasses.is_dataclass(value)
                and value.__module__ == module.__name__
                and name.endswith(("Config", "Settings"))
            ):
                for cls in _sections(value):
                    classes[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return [classes[k] for k in sorted(classes)]


def _numeric(tp):
    "(number type, is a list) for a numeric field type, else None."
    tp = _plain(tp)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (list, tuple) and args:
        inner = _plain(args[0])
        return (inner, True) if inner in (int, float) else None
    return (tp, False) if tp in (int, float) else None


NUMERIC = [(cls, f) for cls in config_classes() for f in config_fields(cls) if _numeric(f.type)]
IDS = [f"{cls.__name__}.{f.name}" for cls, f in NUMERIC]


def test_discovery_finds_the_configs():
    names = {cls.__name__ for cls in config_classes()}
    assert {
        "GenerateConfig",
        "JudgeConfig",
        "CompareConfig",
        "StudyConfig",
        "RewardTrainingConfig",
        "LoraSettings",
    } <= names
    assert len(NUMERIC) >= 40, len(NUMERIC)


def test_every_dataclass_with_checks_is_discovered():
    "A dataclass with a `validate` method is a config; it must be named so that the range test finds it."
    found = set(config_classes())
    for module in _modules():
        for name, value in vars(module).items():
            if isinstance(value, type) and dataclasses.is_dataclass(value) and value.__module__ == module.__name__:
                if callable(getattr(value, "validate", None)):
                    assert value in found, f"{module.__name__}.{name} has validate(): name it ...Config or ...Settings"


@pytest.mark.parametrize("cls,field", NUMERIC, ids=IDS)
def test_numeric_field_declares_a_range(cls, field):
    assert field.range is not None, (
        f"{cls.__module__}.{cls.__name__}.{field.name} is a number without a declared range: "
        f"write `{field.name}: ... = bounded(<default>, ge=..., le=...)` (speechnb.config.bounded)"
    )
    default = field.default
    values = default if isinstance(default, (list, tuple)) else [default]
    for value in values:
        assert value is None or value in field.range, f"default {value!r} is not {field.range}"


def _bad_values(field) -> list:
    kind, _ = _numeric(field.type)
    values = [math.nan, math.inf, -math.inf]
    if field.range is not None:
        values += field.range.outside(whole=kind is int)
    return values


def _data(field, value):
    _, is_list = _numeric(field.type)
    return {field.name: [value] if is_list else value}


@pytest.mark.parametrize("cls,field", NUMERIC, ids=IDS)
def test_yaml_value_refused(cls, field):
    for value in _bad_values(field):
        with pytest.raises(SpeechnbError) as caught:
            from_mapping(cls, _data(field, value), "settings.yaml")
        message = str(caught.value)
        assert message.startswith(f"settings.yaml: {field.name}: ") and "\n" not in message, message


@pytest.mark.parametrize("cls,field", NUMERIC, ids=IDS)
def test_flag_value_refused(cls, field):
    parser = argparse.ArgumentParser(prog="test", exit_on_error=False)
    add_config_arguments(parser, cls)
    flag = f"--{field.name.replace('_', '-')}"
    if field.range is not None:
        assert str(field.range) in " ".join(parser.format_help().split()), f"{flag}: range not shown in --help"
    for value in _bad_values(field):
        try:
            args = parser.parse_args([f"{flag}={value}"])
        except argparse.ArgumentError:
            continue  # refused by the flag's type (a whole number expected)
        with pytest.raises(SpeechnbError) as caught:
            apply_arguments(cls(), args)
        assert str(caught.value).startswith(f"{flag}: "), caught.value
