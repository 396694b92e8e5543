"""The one place where the command line turns an exception into one line on stderr and an exit status.

- exit 2, a user error: a bad value, config or corpus (``UsageError``, ``ValueError``), a
  path that is missing, of the wrong kind or not writable (``FileNotFoundError``,
  ``PermissionError``, a read-only file system...), a run directory locked by another process;
- exit 1, the environment failed: a full disk or another ``OSError``, or a training whose loss
  diverged;
- exit 130: interrupted (Ctrl-C).

Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import errno
import sys

from mlm_book.cli.args import EXIT_DIVERGED, EXIT_ENVIRONMENT, EXIT_INTERRUPTED, EXIT_USAGE, UsageError

_USER_ERRNOS = {errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.EEXIST, errno.EACCES, errno.EPERM, errno.EROFS}
_FULL_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def one_line(error: BaseException | str) -> str:
    """The text of ``error`` on one line."""
    return " ".join(str(error).split())


def _os_message(error: OSError) -> str:
    """Say which file, what happened, and what to do."""
    where = f" ({error.filename})" if error.filename else ""
    what = error.strerror or one_line(error) or type(error).__name__
    if error.errno in _FULL_ERRNOS:
        return f"{what}{where}; free some space or choose another --out (a run keeps its last complete checkpoint)"
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{what}{where}; choose a directory you can write, or fix its permissions"
    if error.strerror is None:  # an OSError raised with a message of our own
        return one_line(error)
    return f"{what}{where}"


def exit_status(command: str, error: BaseException) -> int:
    """Print ``error`` as one line for ``command`` and return the exit status it deserves.

    Args:
        command: the subcommand, for the prefix ``mlm-book COMMAND: error:``.
        error: the exception that ended the command.

    Returns:
        2, 1 or 130, see the module docstring.

    Raises:
        BaseException: ``error`` itself when it is none of the kinds above (a bug).
    """
    from mlm_book.training.step import TrainingDiverged

    if isinstance(error, KeyboardInterrupt):
        print(f"mlm-book {command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    if isinstance(error, TrainingDiverged):
        status, message = EXIT_DIVERGED, one_line(error)
    elif isinstance(error, (UsageError, ValueError)):
        status, message = EXIT_USAGE, one_line(error)
    elif isinstance(error, OSError):
        user = error.errno in _USER_ERRNOS or (error.errno is None and isinstance(error, FileNotFoundError))
        status, message = (EXIT_USAGE if user else EXIT_ENVIRONMENT), _os_message(error)
    else:
        raise error
    print(f"mlm-book {command}: error: {message}", file=sys.stderr)
    return status


def warning_printer(command: str):  # type: ignore[no-untyped-def]
    """A ``warnings.showwarning`` that prints ``mlm-book COMMAND: warning: ...`` as one line."""

    def show(message, category, filename, lineno, file=None, line=None) -> None:  # type: ignore[no-untyped-def]
        print(f"mlm-book {command}: warning: {one_line(message)}", file=sys.stderr)

    return show
