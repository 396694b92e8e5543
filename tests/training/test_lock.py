"""The run lock: one writer per run directory, the holder named, released when its process dies."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlm_book.training.lock import LOCK_FILE, RunLock, RunLockedError, check_not_locked

HOLD = """
import sys, time
from pathlib import Path
from mlm_book.training.lock import RunLock
with RunLock(Path(sys.argv[1])):
    Path(sys.argv[2]).write_text("held")
    time.sleep(120)
"""


def _holder(directory: Path, tmp_path: Path) -> subprocess.Popen:
    """Start another process that takes the lock of ``directory`` and keeps it."""
    ready = tmp_path / "ready"
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(directory), str(ready)])
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert process.poll() is None and time.monotonic() < deadline, "the lock holder did not start"
        time.sleep(0.05)
    return process


def test_a_second_writer_is_refused_with_the_holders_pid(tmp_path: Path) -> None:
    run = tmp_path / "run"
    process = _holder(run, tmp_path)
    try:
        with pytest.raises(RunLockedError, match=rf"{run} is in use by process {process.pid} on .*; wait for it"):
            RunLock(run).acquire()
        with pytest.raises(RunLockedError, match=rf"process {process.pid}"):
            check_not_locked(run)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    with RunLock(run):  # the kernel released the lock of the killed process; the stale file is harmless
        assert json.loads((run / LOCK_FILE).read_text())["pid"] == os.getpid()
        check_not_locked(run)  # this process holds it itself: no error


def test_lock_creates_the_directory_and_is_released_on_exit(tmp_path: Path) -> None:
    run = tmp_path / "a" / "run"
    check_not_locked(run)  # nothing there: nothing locked, nothing written
    assert not run.exists()
    with RunLock(run) as lock:
        assert (run / LOCK_FILE).is_file() and lock.directory == run
    process = _holder(run, tmp_path)  # another process gets it after the release
    process.send_signal(signal.SIGKILL)
    process.wait()


def test_the_lock_file_follows_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        with RunLock(tmp_path / "run"):
            assert (tmp_path / "run" / LOCK_FILE).stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(old)
