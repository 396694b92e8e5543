"""One base for every configuration record of the package: frozen, typed, JSON round trip.

A config is a frozen dataclass of plain values: booleans, whole numbers, numbers, strings,
tuples of them, choices (``Literal``), nested configs and ``None`` where the annotation allows
it. ``FrozenConfig`` gives each of them the same services:

- construction checks every field against its annotation (``packing="no"`` for a ``bool`` is a
  ``ValueError`` naming the field), turns JSON lists into tuples and whole numbers into floats
  where a float is asked for, then runs the class's own ``validate`` for value rules;
- ``to_dict``/``from_dict`` (strict: an unknown key is an error; nested configs are parsed from
  nested objects) and ``to_json``/``from_json``;
- ``from_preset(name)``: a preset is a classmethod named like the preset (``"bert-base"`` is
  ``bert_base``) and listed in ``PRESETS``;
- ``differences(other)``: the fields whose values differ.

The checks shared by configs and the command line (``check_whole``, ``check_number``) live here
too. This module imports no torch.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import types
import typing
from typing import Any, ClassVar, Literal, TypeVar, Union, get_args, get_origin

C = TypeVar("C", bound="FrozenConfig")


def check_whole(value: object, name: str, minimum: int | None = None, *, hint: str = "") -> int:
    """Return ``value`` if it is a whole number (not a bool) of at least ``minimum``.

    Args:
        value: the value to check.
        name: how to name it in the error, e.g. ``"TrainConfig.steps"``.
        minimum: the smallest value allowed, or ``None`` for any.
        hint: a suggestion appended to the error, e.g. ``"; pass e.g. seed=0"``.

    Returns:
        ``value``.

    Raises:
        ValueError: naming ``name``, the value and the rule.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number, got {value!r}{hint}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}{hint}")
    return value


def check_number(
    value: object,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    hint: str = "",
) -> float:
    """Return ``value`` as a float if it is a finite number within the given bounds.

    Args:
        value: the value to check (an int or a float, not a bool).
        name: how to name it in the error.
        low: the lower bound, or ``None``.
        high: the upper bound, or ``None``.
        low_open: exclude ``low`` itself.
        high_open: exclude ``high`` itself.
        hint: a suggestion appended to the error, e.g. ``"; try 0.1"``.

    Returns:
        ``float(value)``.

    Raises:
        ValueError: for a non-number, NaN, an infinity, or a value out of bounds.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, got {value!r}{hint}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {value!r}{hint}")
    too_low = low is not None and (number <= low if low_open else number < low)
    too_high = high is not None and (number >= high if high_open else number > high)
    if too_low or too_high:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        interval = f"{left}{'-inf' if low is None else f'{low:g}'}, {'inf' if high is None else f'{high:g}'}{right}"
        raise ValueError(f"{name} must be in {interval}, got {value!r}{hint}")
    return number


class FrozenConfig:
    """Base of the package's frozen dataclass configs (see the module docstring).

    Subclasses are ``@dataclass(frozen=True)`` classes; they put their value rules in
    ``validate`` and their presets in classmethods named in ``PRESETS``.
    """

    PRESETS: ClassVar[tuple[str, ...]] = ()
    """Preset names, e.g. ``("tiny", "bert-base")``; each is a classmethod (``-`` becomes ``_``)."""

    def __post_init__(self) -> None:
        hints = _type_hints(type(self))
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, field.name)
            checked = _conform(value, hints[field.name], f"{type(self).__name__}.{field.name}")
            if checked is not value:
                object.__setattr__(self, field.name, checked)
        self.validate()

    def validate(self) -> None:
        """Check rules between values (ranges, divisibility); raise ``ValueError`` naming the fix."""

    @classmethod
    def from_preset(cls: type[C], name: str, **overrides: Any) -> C:
        """Return a named preset with some fields replaced.

        Args:
            name: one of ``PRESETS``.
            **overrides: fields to change, e.g. ``steps=50``.

        Returns:
            The preset with ``overrides`` applied (and validated).
        """
        if name not in cls.PRESETS:
            raise ValueError(f"unknown {cls.__name__} preset {name!r}; choose one of {', '.join(cls.PRESETS)}")
        preset = getattr(cls, name.replace("-", "_"))()
        return dataclasses.replace(preset, **overrides)

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a plain, JSON-ready dict (nested configs as dicts, tuples as lists)."""
        return {field.name: _plain(getattr(self, field.name)) for field in dataclasses.fields(self)}  # type: ignore[arg-type]

    @classmethod
    def from_dict(cls: type[C], data: object) -> C:
        """Build a config from ``to_dict()`` output; unknown keys are an error, missing ones default.

        Args:
            data: field names mapped to values (nested configs as nested dicts).

        Returns:
            The validated config.

        Raises:
            ValueError: for a non-object, an unknown field or a value of the wrong type.
        """
        if not isinstance(data, dict):
            raise ValueError(f"{cls.__name__} fields must be a JSON object, got {type(data).__name__}")
        known = [field.name for field in dataclasses.fields(cls)]  # type: ignore[arg-type]
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ValueError(f"unknown {cls.__name__} field(s) {unknown}; known fields are {sorted(known)}")
        return cls(**data)

    def to_json(self) -> str:
        """Return the config as indented, key-sorted JSON."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls: type[C], text: str) -> C:
        """Parse a config from ``to_json()`` output.

        Args:
            text: a JSON object of config fields.

        Returns:
            The validated config.
        """
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"{cls.__name__} JSON is not valid JSON: {error}") from error
        return cls.from_dict(data)

    def differences(self, other: FrozenConfig) -> dict[str, tuple[Any, Any]]:
        """Return the fields whose values differ, as ``{name: (self's value, other's value)}``."""
        mine, theirs = self.to_dict(), other.to_dict()
        return {name: (mine[name], theirs.get(name)) for name in sorted(mine) if mine[name] != theirs.get(name)}


@functools.cache
def _type_hints(cls: type) -> dict[str, Any]:
    """The resolved annotations of a config class (computed once per class)."""
    return typing.get_type_hints(cls)


def _plain(value: Any) -> Any:
    """A JSON-ready copy: configs become dicts, tuples become lists."""
    if isinstance(value, FrozenConfig):
        return value.to_dict()
    if isinstance(value, (tuple, list)):
        return [_plain(item) for item in value]
    return value


def _conform(value: Any, annotation: Any, name: str) -> Any:
    """Check ``value`` against a field's annotation; return it, converted where JSON needs it."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        options = get_args(annotation)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in (o for o in options if o is not type(None)):
            try:
                return _conform(value, option, name)
            except ValueError as error:
                errors.append(str(error))
        raise ValueError(errors[0] if len(errors) == 1 else f"{name} has an invalid value {value!r}")
    if origin is Literal:
        choices = get_args(annotation)
        if value not in choices or isinstance(value, bool) != any(isinstance(c, bool) for c in choices):
            raise ValueError(f"{name} must be one of {', '.join(repr(c) for c in choices)}, got {value!r}")
        return value
    if origin is tuple:
        return _conform_tuple(value, get_args(annotation), name)
    if isinstance(annotation, type) and issubclass(annotation, FrozenConfig):
        if isinstance(value, annotation):
            return value
        if isinstance(value, dict):
            try:
                return annotation.from_dict(value)
            except TypeError as error:  # a dataclass refusing its arguments
                raise ValueError(f"{name}: {error}") from None
        raise ValueError(f"{name} must be a {annotation.__name__} (or a JSON object of its fields), got {value!r}")
    return _conform_scalar(value, annotation, name)


def _conform_tuple(value: Any, args: tuple[Any, ...], name: str) -> tuple[Any, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list)):
        raise ValueError(f"{name} must be a list of values, got {value!r}")
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(_conform(item, args[0], f"{name}[{i}]") for i, item in enumerate(value))
    if len(value) != len(args):
        raise ValueError(f"{name} must hold {len(args)} values, got {len(value)}: {value!r}")
    return tuple(_conform(item, arg, f"{name}[{i}]") for i, (item, arg) in enumerate(zip(value, args)))


def _conform_scalar(value: Any, annotation: Any, name: str) -> Any:
    if annotation is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false, got {value!r}")
        return value
    if annotation is int:
        return check_whole(value, name)
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{name} must be a number, got {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value}")
        return value if isinstance(value, float) else float(value)
    if annotation is str:
        if not isinstance(value, str):
            raise ValueError(f"{name} must be a string, got {value!r}")
        return value
    return value  # other annotations are the subclass's to check in validate()
