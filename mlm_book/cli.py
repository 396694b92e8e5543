"""The command line: ``python -m mlm_book SUBCOMMAND`` (or the ``mlm-book`` script).

Subcommands:
    corpus     write the built-in synthetic corpus as text, one paragraph per line.
    train      train a model (``--preset tiny`` on the built-in corpus by default), or resume.
    evaluate   score a training run on its fixed validation (or test) batches and probes.
    fill-mask  let a trained model fill in the ``[MASK]`` of a sentence.
    export-hf  export a trained model as a transformers ``BertForMaskedLM`` directory.

User mistakes (a bad number, a missing directory, a file that would be overwritten) print one
line to stderr and exit with status 2; no traceback. A run whose loss diverges prints one
line and exits with status 1.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

EXIT_USAGE = 2
EXIT_DIVERGED = 1


class UsageError(Exception):
    """A mistake in what the user asked for; printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def _positive_int(text: str) -> int:
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """Build the parser with every subcommand."""
    from mlm_book.cli_train import add_train_commands

    parser = _Parser(prog="mlm-book", description="The MLM Book's command line.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    corpus = sub.add_parser("corpus", help="write the built-in corpus as text, one paragraph per line")
    corpus.add_argument("--out", required=True, type=Path, help="the text file to write")
    corpus.add_argument("--paragraphs", type=_positive_int, default=10_000, help="how many (default 10000)")
    corpus.add_argument("--seed", type=_int, default=0, help="corpus seed (default 0)")
    corpus.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    corpus.set_defaults(run=_run_corpus)
    add_train_commands(sub)
    return parser


def _check_output_file(path: Path, *, force: bool) -> None:
    """Refuse an output path that cannot be written or would silently replace a file."""
    if path.is_dir():
        raise UsageError(f"--out {path} is a directory; give a file name such as {path / 'corpus.txt'}")
    if not path.parent.is_dir():
        raise UsageError(f"the directory {path.parent} does not exist; create it first")
    if path.exists() and not force:
        raise UsageError(f"{path} already exists; pass --force to overwrite it")


def write_text_atomically(path: Path, lines: Sequence[str]) -> None:
    """Write lines to ``path`` through a temporary file, so a crash leaves no half-written file.

    Args:
        path: destination file.
        lines: text lines, written with a newline after each.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            for line in lines:
                handle.write(line + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _run_corpus(args: argparse.Namespace) -> int:
    from mlm_book.corpus import generate_paragraphs

    _check_output_file(args.out, force=args.force)
    paragraphs = generate_paragraphs(args.paragraphs, seed=args.seed)
    write_text_atomically(args.out, paragraphs)
    words = sum(len(p.split()) for p in paragraphs)
    print(f"wrote {len(paragraphs)} paragraphs ({words} words) to {args.out}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    from mlm_book.train_step import TrainingDiverged

    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except (UsageError, ValueError, FileNotFoundError) as error:
        print(f"mlm-book {args.command}: error: {_one_line(error)}", file=sys.stderr)
        return EXIT_USAGE
    except TrainingDiverged as error:
        print(f"mlm-book {args.command}: error: {_one_line(error)}", file=sys.stderr)
        return EXIT_DIVERGED


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())
