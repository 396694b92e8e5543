"""What every subcommand shares: exit statuses, the one-line error, argument types, the parser.

User mistakes (a bad number, a missing directory, a file that would be overwritten) print one
line to stderr and exit with status 2; no traceback.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from mlm_book.utils.config import FrozenConfig, check_whole

C = TypeVar("C", bound=FrozenConfig)

EXIT_USAGE = 2
"""A user error: a bad value, config, corpus or path."""
EXIT_ENVIRONMENT = 1
"""The environment failed (a full disk, an I/O error)."""
EXIT_DIVERGED = 1
"""The training's loss diverged."""
EXIT_INTERRUPTED = 130
"""Interrupted by Ctrl-C (128 + SIGINT)."""


class UsageError(Exception):
    """A mistake in what the user asked for; printed as one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def whole_number(text: str) -> int:
    """Argument type: a whole number."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def positive_int(text: str) -> int:
    """Argument type: a whole number >= 1."""
    return _checked(lambda: check_whole(whole_number(text), "the value", 1))


def non_negative_int(text: str) -> int:
    """Argument type: a whole number >= 0."""
    return _checked(lambda: check_whole(whole_number(text), "the value", 0))


def positive_float(text: str) -> float:
    """Argument type: a finite number > 0."""
    value = _number(text)
    if not 0.0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def non_negative_float(text: str) -> float:
    """Argument type: a finite number >= 0."""
    value = _number(text)
    if not 0.0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text}")
    return value


def fraction(text: str) -> float:
    """Argument type: a number in [0, 1] (a share of the run's steps)."""
    value = _number(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {text}")
    return value


def probability(text: str) -> float:
    """Argument type: a number strictly between 0 and 1 (a masking rate)."""
    value = _number(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a number strictly between 0 and 1, got {text}")
    return value


def step_interval(minimum: int) -> Callable[[str], int]:
    """Argument type: a whole number of steps >= ``minimum``.

    transformers reads an interval below 1 (``--eval_steps 0.1``) as a fraction of the run; that
    is refused with a line that says so, rather than read as something else.

    Args:
        minimum: the smallest interval allowed (0 where 0 has a meaning of its own).

    Returns:
        The argument type.
    """

    def parse(text: str) -> int:
        try:
            is_fraction = 0.0 < float(text) < 1.0
        except ValueError:
            is_fraction = False
        if is_fraction:
            raise argparse.ArgumentTypeError(
                f"expected a whole number of steps, got {text} (a fraction of the run, as transformers "
                "reads a number below 1, is not supported: give the steps)"
            )
        return _checked(lambda: check_whole(whole_number(text), "the value", minimum))

    return parse


def _number(text: str) -> float:
    """``float(text)``, or an argparse error naming the text."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def _checked(check):  # type: ignore[no-untyped-def]
    """Run a check from ``utils.config`` and turn its ValueError into an argparse error."""
    try:
        return check()
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error).replace("the value must be", "expected")) from None


def read_config_file(path: Path | None, cls: type[C], base: C) -> C:
    """``base`` with the fields of a JSON file of ``cls`` fields replaced (``base`` for no file).

    Args:
        path: the ``--config`` file, or ``None``.
        cls: the config class, e.g. ``TrainConfig``.
        base: the config the file's fields change.

    Returns:
        The validated config.

    Raises:
        UsageError: for a directory, a JSON value that is not an object, or a bad field.
    """
    from mlm_book.utils.atomic import read_json

    if path is None:
        return base
    if path.is_dir():
        raise UsageError(f"--config {path} is a directory; give a JSON file of {cls.__name__} fields")
    fields: Any = read_json(path)
    if not isinstance(fields, dict):
        raise UsageError(f"--config {path} must hold a JSON object of {cls.__name__} fields")
    try:
        return cls.from_dict({**base.to_dict(), **fields})
    except ValueError as error:
        raise UsageError(f"--config {path}: {error}") from None
