"""``mlm-book corpus``: write the built-in synthetic corpus as text, one paragraph per line."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from mlm_book.cli.args import UsageError, positive_int, whole_number
from mlm_book.utils.atomic import write_bytes_atomically


def add_corpus_command(sub: Any) -> None:
    """Add ``corpus`` to the subparsers ``sub``."""
    corpus = sub.add_parser("corpus", help="write the built-in corpus as text, one paragraph per line")
    corpus.add_argument("--out", required=True, type=Path, help="the text file to write")
    corpus.add_argument("--paragraphs", type=positive_int, default=10_000, help="how many (default 10000)")
    corpus.add_argument("--seed", type=whole_number, default=0, help="corpus seed (default 0)")
    corpus.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    corpus.set_defaults(run=run_corpus)


def check_output_file(path: Path, *, force: bool) -> None:
    """Refuse an output path that cannot be written or would silently replace a file."""
    if path.is_dir():
        raise UsageError(f"--out {path} is a directory; give a file name such as {path / 'corpus.txt'}")
    if not path.parent.is_dir():
        raise UsageError(f"the directory {path.parent} does not exist; create it first")
    if path.exists() and not force:
        raise UsageError(f"{path} already exists; pass --force to overwrite it")


def run_corpus(args: argparse.Namespace) -> int:
    """Generate the paragraphs and write them, atomically."""
    from mlm_book.corpus.synthetic.generate import generate_paragraphs

    check_output_file(args.out, force=args.force)
    paragraphs = generate_paragraphs(args.paragraphs, seed=args.seed)
    write_bytes_atomically(args.out, "".join(p + "\n" for p in paragraphs).encode("utf-8"))
    words = sum(len(p.split()) for p in paragraphs)
    print(f"wrote {len(paragraphs)} paragraphs ({words} words) to {args.out}")
    return 0
