"""One writer per run directory: an exclusive ``fcntl.flock`` on ``DIR/.lock``, held for the whole run.

``mlm-book train`` (new or ``--resume``) takes the lock before it looks at the directory and
keeps it until it exits; a second writer fails at once with one line naming the process that
holds it. The lock file records the holder's process id and host for that message; the lock
itself is the kernel's, so it is released when the process dies, even by ``SIGKILL``, and a
stale file never blocks anyone. Readers (``evaluate``, ``fill-mask``, ``export-hf``) take no
lock and write nothing. POSIX only (``fcntl``); on other systems the lock is a no-op.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from types import TracebackType

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK_FILE = ".lock"


class RunLockedError(ValueError):
    """Another process holds the lock of a run directory."""


def _holder(path: Path) -> str:
    """Who holds the lock, as the lock file records it (best effort)."""
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        return f"process {int(body['pid'])} on {body['host']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


def _locked_message(directory: Path, holder: str) -> str:
    return (
        f"{directory} is in use by {holder} (it holds {directory / LOCK_FILE}); wait for it to finish "
        "or stop it, or choose another --out"
    )


class RunLock:
    """An exclusive lock on a run directory, as a context manager.

    Args:
        directory: the run directory; created (with its parents) if missing.

    Raises:
        RunLockedError: on entry, if another process holds the lock.
        OSError: on entry, if the directory cannot be created or written.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock now, or raise ``RunLockedError`` naming the holder."""
        if fcntl is None or self._fd is not None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / LOCK_FILE
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RunLockedError(_locked_message(self.directory, _holder(path))) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname()}).encode("utf-8"))
        self._fd = fd

    def release(self) -> None:
        """Give the lock back (the file stays; it is harmless without the lock)."""
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None


def check_not_locked(directory: Path) -> None:
    """Raise ``RunLockedError`` if a process other than this one holds the lock of ``directory``.

    Writes nothing: a missing or unreadable lock file means nobody holds the lock.

    Args:
        directory: a run directory.
    """
    path = Path(directory) / LOCK_FILE
    if fcntl is None or not path.is_file():
        return
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _holder(path)
        if not holder.startswith(f"process {os.getpid()} on "):  # this process holds it itself
            raise RunLockedError(_locked_message(Path(directory), holder)) from None
    finally:
        os.close(fd)  # releases the probe's lock (a flock belongs to its own open file)
