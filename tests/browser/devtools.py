"""A headless Chromium driven over the DevTools protocol, on a pipe: no driver, no port, no download.

Chromium started with ``--remote-debugging-pipe`` reads protocol commands from its file
descriptor 3 and writes answers and events to descriptor 4, as JSON messages ended by a NUL
byte. ``DevTools`` starts the browser with a fresh profile, sends commands and waits for their
answers (``call``), records every event, and runs handlers that must answer at once (such as
``Fetch.requestPaused``) on the thread that reads the pipe.

The protocol is documented at chromedevtools.github.io/devtools-protocol.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Handler = Callable[["DevTools", dict[str, Any], str | None], None]

# The flags the book's browser test uses: headless, offline from Google's services, no sandbox
# (the test runs as root in a container), a fixed window size.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--window-size=1280,900",
)


class DevToolsError(RuntimeError):
    """The browser answered a command with an error, did not answer in time, or died."""


@dataclass(frozen=True)
class Event:
    """One protocol event: its method, its parameters and the session it belongs to."""

    method: str
    params: dict[str, Any]
    session: str | None


class DevTools:
    """A running Chromium and the pipe to it.

    Args:
        executable: the ``chromium`` program.
        profile: an empty directory for the browser's profile (``--user-data-dir``).
        handlers: protocol event method -> function called on the reading thread with
            ``(devtools, params, session)``; it may ``send`` but must not ``call``.
    """

    def __init__(self, executable: str, profile: Path, handlers: dict[str, Handler] | None = None) -> None:
        self._handlers = dict(handlers or {})
        self._events: list[Event] = []
        self._answers: dict[int, dict[str, Any]] = {}
        self._next_id = 0
        self._lock = threading.Lock()
        self._answered = threading.Condition(self._lock)
        self._write_lock = threading.Lock()
        commands_read, self._commands = os.pipe()
        self._replies, replies_write = os.pipe()
        commands_read, replies_write = _above_nine(commands_read), _above_nine(replies_write)
        # Chromium expects the pipe on descriptors 3 and 4: let bash move them there (dash, the
        # usual sh, cannot name descriptors above 9).
        redirect = f'exec "$@" 3<&{commands_read} 4>&{replies_write} {commands_read}<&- {replies_write}>&-'
        args = [executable, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"]
        self._log = open(profile.parent / f"{profile.name}.log", "wb")
        self.process = subprocess.Popen(
            ["bash", "-c", redirect, "bash", *args],
            pass_fds=(commands_read, replies_write),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
        )
        os.close(commands_read)
        os.close(replies_write)
        self._reader = threading.Thread(target=self._read, name="devtools-reader", daemon=True)
        self._reader.start()

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> int:
        """Send a command without waiting for its answer; return its id."""
        with self._lock:
            self._next_id += 1
            message_id = self._next_id
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        with self._write_lock:
            try:
                os.write(self._commands, data)
            except OSError as error:
                raise DevToolsError(f"cannot send {method}: the browser is gone ({error})") from error
        return message_id

    def call(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None, timeout: float = 30.0
    ) -> dict[str, Any]:
        """Send a command and wait for its result.

        Raises:
            DevToolsError: the browser answered with an error, or not within ``timeout`` seconds.
        """
        message_id = self.send(method, params, session)
        deadline = time.monotonic() + timeout
        with self._answered:
            while message_id not in self._answers:
                left = deadline - time.monotonic()
                if left <= 0 or not self._reader.is_alive():
                    raise DevToolsError(f"no answer to {method} within {timeout} s (browser alive: {self.alive})")
                self._answered.wait(min(left, 0.5))
            answer = self._answers.pop(message_id)
        if "error" in answer:
            raise DevToolsError(f"{method} failed: {answer['error'].get('message')} ({answer['error']})")
        return answer.get("result", {})

    def events(self, session: str | None = None) -> list[Event]:
        """Every event recorded so far (of one session, if given)."""
        with self._lock:
            return [e for e in self._events if session is None or e.session == session]

    def clear_events(self) -> None:
        """Forget the events recorded so far."""
        with self._lock:
            self._events.clear()

    def wait_for_event(
        self,
        method: str,
        session: str | None,
        timeout: float = 30.0,
        where: Callable[[dict[str, Any]], bool] | None = None,
    ) -> Event:
        """Wait until an event named ``method`` of ``session`` has been recorded; return the first.

        Args:
            method: the event's name, e.g. ``Page.lifecycleEvent``.
            session: the session it belongs to (``None``: the browser itself).
            timeout: seconds to wait at most.
            where: a test of the event's parameters that it must pass too.

        Raises:
            DevToolsError: no such event within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        with self._answered:
            while True:
                for event in self._events:
                    if event.method == method and event.session == session and (where is None or where(event.params)):
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [e.params for e in self._events if e.method == method and e.session == session]
                    raise DevToolsError(f"no matching {method} event within {timeout} s; seen: {seen[-10:]}")
                self._answered.wait(min(left, 0.5))

    @property
    def alive(self) -> bool:
        """Whether the browser process still runs."""
        return self.process.poll() is None

    def close(self) -> None:
        """Ask the browser to quit, then make sure it has (terminate, then kill)."""
        if self.alive:
            try:
                self.send("Browser.close")
                self.process.wait(timeout=10)
            except (DevToolsError, subprocess.TimeoutExpired):
                self.process.terminate()
                try:
                    self.process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        os.close(self._commands)
        self._reader.join(timeout=5)
        os.close(self._replies)
        self._log.close()

    def _read(self) -> None:
        """Read NUL-terminated JSON messages until the browser closes its end of the pipe."""
        buffer = b""
        while True:
            try:
                chunk = os.read(self._replies, 1 << 20)
            except OSError:
                chunk = b""
            if not chunk:
                with self._answered:
                    self._answered.notify_all()
                return
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for raw in messages:
                self._dispatch(json.loads(raw))

    def _dispatch(self, message: dict[str, Any]) -> None:
        """File an answer under its id, or record an event and run its handler."""
        if "id" in message:
            with self._answered:
                self._answers[message["id"]] = message
                self._answered.notify_all()
            return
        event = Event(message["method"], message.get("params", {}), message.get("sessionId"))
        handler = self._handlers.get(event.method)
        if handler is not None:
            handler(self, event.params, event.session)
        with self._answered:
            self._events.append(event)
            self._answered.notify_all()


def _above_nine(fd: int) -> int:
    """Move a descriptor to a number above 9, so that moving it to 3 or 4 in the child cannot clash."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved
