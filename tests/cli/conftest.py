"""Shared helpers of the command-line tests."""

from collections.abc import Callable

import pytest


@pytest.fixture
def one_line_error(capsys: pytest.CaptureFixture[str]) -> Callable[[], str]:
    """Read stderr and check it is one line without a traceback; return it."""

    def read() -> str:
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
        return err

    return read
