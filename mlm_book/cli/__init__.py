"""The command line: ``python -m mlm_book SUBCOMMAND`` (or the ``mlm-book`` script).

Subcommands:
    corpus     write the built-in synthetic corpus as text, one paragraph per line.
    train      train a model (``--preset tiny`` on the built-in corpus by default), or resume;
               the flags also take the names of transformers' ``run_mlm.py`` where they mean the
               same (``cli.settings``), and the scores of each evaluation are printed and, with
               ``--report-to tensorboard``, written for TensorBoard (``cli.report``).
    evaluate   score a training run on its fixed validation (or test) batches and probes, into
               its ``eval_results.json`` (``cli.results``), or a fine-tuned model on its task.
    finetune   fine-tune a trained run on a task of the world (ner, pos, classify, qa).
    fill-mask  let a trained model fill in the ``[MASK]`` of a sentence.
    export-hf  export a trained model as a transformers ``BertForMaskedLM`` directory.

Every failure is one line on stderr, never a traceback (``cli.errors``): exit status 2 for a
user error (a bad number, config, corpus or path, a run locked by another process), 1 when the
environment fails (a full disk) or a run's loss diverges, 130 when interrupted. Warnings are one
line too. Heavy libraries are imported inside the handlers, so ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Callable, Sequence

from mlm_book.cli.args import Parser
from mlm_book.cli.corpus import add_corpus_command
from mlm_book.cli.errors import exit_status, warning_printer
from mlm_book.cli.finetune import add_finetune_command
from mlm_book.cli.runs import add_run_commands
from mlm_book.cli.train import add_train_command


def build_parser() -> argparse.ArgumentParser:
    """Build the parser with every subcommand."""
    parser = Parser(prog="mlm-book", description="The MLM Book's command line.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    add_corpus_command(sub)
    add_train_command(sub)
    add_run_commands(sub)
    add_finetune_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    with warnings.catch_warnings():
        warnings.showwarning = warning_printer(args.command)
        try:
            return run(args)
        except (Exception, KeyboardInterrupt) as error:
            return exit_status(args.command, error)
