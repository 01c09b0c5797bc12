"""One-line configuration errors, from pydantic's validation errors.

A steward who mistypes a key in the run config or a `source.yaml` must see, on one
line, the file, the key path and what is allowed there — not a stack trace and not
pydantic's multi-line report. Both `settings.py` (the run config) and
`sources/registry.py` (every `source.yaml`) read their file with `read_validated`:
YAML into a pydantic model, every problem reported through `one_line`.
"""
from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any, TypeVar, Union

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

M = TypeVar("M", bound=BaseModel)
#: libyaml's safe loader when installed: the source files load several times faster.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ConfigError(ValueError):
    """The configuration file is unreadable, names something unknown or holds a value of
    the wrong type; the message is one line naming the file, the key path and what is allowed."""


def read_validated(path: Path, where: str, model: type[M]) -> M:
    """The YAML file `path` as a `model`; a file that cannot be read, is not YAML, is not
    a mapping or does not validate is a one-line `ConfigError` starting with `where`
    (an empty file is an empty mapping)."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    except OSError as e:
        raise ConfigError(f"{where}: cannot read the file ({e.strerror or e})") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ConfigError(f"{where}: not valid YAML{at} ({getattr(e, 'problem', None) or 'syntax error'})") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: (top level): expected a mapping of keys (allowed: {', '.join(model.model_fields)})")
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise ConfigError(one_line(where, e, model)) from None


# What a steward reads for pydantic's error types (a value of the wrong type).
_EXPECTED = {
    "bool_type": "expected true or false", "bool_parsing": "expected true or false",
    "string_type": "expected text", "list_type": "expected a list, e.g. [a, b]",
    "tuple_type": "expected a list, e.g. [a, b]", "set_type": "expected a list, e.g. [a, b]",
    "int_type": "expected a whole number", "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number", "float_parsing": "expected a number",
    "dict_type": "expected a mapping (key: value)", "model_type": "expected a mapping (key: value)",
    "model_attributes_type": "expected a mapping (key: value)",
}
_MAX_SHOWN = 60


def one_line(where: str, error: ValidationError, model: type[BaseModel], prefix: tuple[str | int, ...] = ()) -> str:
    """`where: key.path: what is wrong (allowed: …)` for the first error of `error`
    (validated against `model`, found under `prefix` in the file), plus how many more."""
    errors = error.errors(include_url=False)
    first = errors[0]
    loc = tuple(first["loc"])
    path = ".".join(str(p) for p in prefix + loc) or "(top level)"
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    return f"{where}: {path}: {describe(first, model, loc)}{more}"


def describe(error: ErrorDetails, model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    """What is wrong with one value, and what is allowed instead."""
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"unknown key (allowed: {', '.join(allowed_keys(model, loc[:-1])) or 'none'})"
    if kind == "missing":
        return "required key missing"
    if kind in ("literal_error", "enum"):
        expected = str(error.get("ctx", {}).get("expected", "")).replace("'", "")
        return f"{shown(error['input'])} is not allowed (allowed: {expected.replace(' or ', ', ')})"
    if kind in _EXPECTED:
        return f"{_EXPECTED[kind]}, got {shown(error['input'])}"
    message = error["msg"].removeprefix("Value error, ")
    return f"{message[:1].lower()}{message[1:]}, got {shown(error['input'])}"


def shown(value: Any) -> str:
    """A configured value as the steward wrote it (YAML-ish), cut short."""
    if isinstance(value, str):
        text = repr(value)
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = "null (empty)"
    elif isinstance(value, dict):
        text = "a mapping"
    else:
        text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN - 1] + "…"


def allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys the model accepts at `loc` (a path of keys and list indexes into it)."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return []
            current = field.annotation
        else:
            origin = typing.get_origin(current)
            args = typing.get_args(current)
            if origin in (dict, typing.Mapping) or origin is list or origin is tuple:
                current = args[-1] if args else Any  # dict values / list items
            else:
                return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or name for name, f in current.model_fields.items()]
    return []


def _unwrap(annotation: Any) -> Any:
    """`X | None` and `Annotated[X, …]` -> X."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            options = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(options) != 1:
                return annotation
            annotation = options[0]
        else:
            return annotation
