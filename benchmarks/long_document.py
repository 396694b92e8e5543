"""Long documents: a corpus whose whole text is one line, from file to training sequences.

Book-per-line corpora (a Gutenberg book or a Wikipedia dump per line) give one document of
many megabytes. The script writes such a corpus (the built-in paragraphs joined into a single
line of ``--megabytes`` MB), then times each stage of a run's data path: loading the file,
training the WordPiece tokenizer, the raw ``tokenizers`` encode, and ``prepare_split`` (batch
encoding and packing). It also times ``encode_examples`` at 1x and 4x of a shorter text and
prints the ratio, which is about 4 for a cost linear in the length (16 if it were quadratic).

    python benchmarks/long_document.py                  # 10 MB
    python benchmarks/long_document.py --megabytes 50

Not a test: the times depend on the machine.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from mlm_book.corpus import load_corpus
from mlm_book.corpus.synthetic.generate import generate_paragraphs
from mlm_book.data.sequences import prepare_split
from mlm_book.tokenization.encoding import encode_examples
from mlm_book.tokenization.tokenizer import train_tokenizer


def one_line(n_bytes: int) -> str:
    """Built-in paragraphs joined by spaces and repeated up to ``n_bytes`` characters (ASCII)."""
    base = " ".join(generate_paragraphs(2000, seed=3))
    return (base + " ") * (n_bytes // (len(base) + 1)) + base[: n_bytes % (len(base) + 1)]


def timed(label: str, function, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Run ``function`` once and print how long it took."""
    start = time.perf_counter()
    result = function(*args, **kwargs)
    print(f"{label:<32} {time.perf_counter() - start:8.2f} s", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--megabytes", type=float, default=10.0, help="size of the single line (default 10)")
    args = parser.parse_args()
    text = one_line(int(args.megabytes * 1e6))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "book.txt"
        path.write_text(text + "\n", encoding="utf-8")
        print(f"one line of {len(text) / 1e6:.1f} MB ({len(text.split()):,} words)")
        corpus = timed("load_corpus", load_corpus, str(path), validation_fraction=0.0, test_fraction=0.0)
        tokenizer = timed("train_tokenizer (vocab 1000)", train_tokenizer, corpus["train"]["text"], 1000)
        timed("raw tokenizers encode", tokenizer.encode_batch, [text])
        sequences = timed(
            "prepare_split (seq_len 128)", prepare_split, corpus["train"], tokenizer, seq_len=128, packing=True
        )
        print(f"{len(sequences):,} blocks of 128 tokens")
    short = one_line(250_000)
    times = []
    for piece in (short, short * 4):
        start = time.perf_counter()
        encode_examples([piece], tokenizer)
        times.append(time.perf_counter() - start)
    print(f"encode_examples: 4x the text takes {times[1] / times[0]:.1f}x the time (linear: ~4, quadratic: ~16)")


if __name__ == "__main__":
    main()
