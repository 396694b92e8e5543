"""The command line: ``python -m mlm_book SUBCOMMAND`` (or the ``mlm-book`` script).

Subcommands:
    corpus     write the built-in synthetic corpus as text, one paragraph per line.
    train      train a model (``--preset tiny`` on the built-in corpus by default), or resume.
    evaluate   score a training run on its fixed validation (or test) batches and probes.
    fill-mask  let a trained model fill in the ``[MASK]`` of a sentence.
    export-hf  export a trained model as a transformers ``BertForMaskedLM`` directory.

User mistakes (a bad number, a missing directory, a file that would be overwritten) print one
line to stderr and exit with status 2; no traceback. A run whose loss diverges prints one
line and exits with status 1. Heavy libraries are imported inside the handlers, so ``--help``
is instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from mlm_book.cli.args import EXIT_DIVERGED, EXIT_USAGE, Parser, UsageError
from mlm_book.cli.corpus import add_corpus_command
from mlm_book.cli.runs import add_run_commands
from mlm_book.cli.train import add_train_command


def build_parser() -> argparse.ArgumentParser:
    """Build the parser with every subcommand."""
    parser = Parser(prog="mlm-book", description="The MLM Book's command line.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    add_corpus_command(sub)
    add_train_command(sub)
    add_run_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    from mlm_book.training.step import TrainingDiverged

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
