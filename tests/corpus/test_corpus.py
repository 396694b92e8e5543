"""Tests of the public corpus API: golden output, the world accessor, re-exports."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from mlm_book import corpus
from mlm_book.corpus.loading import load_corpus
from mlm_book.corpus.synthetic.generate import generate_paragraphs
from mlm_book.corpus.synthetic.probes import make_probes  # the documented import

REPO = str(Path(__file__).resolve().parents[1])

# sha256 of the first 50 paragraphs of seed 0 joined by newlines. The generator uses only
# integer arithmetic and SHA-256, so this value is the same on every machine, Python and
# numpy version. It changes only when the grammar or the word lists change on purpose.
GOLDEN_SHA256 = "904a753f0fe4004b4ca139fb4354573abf1eb021b7791b8a8da775197940566a"
GOLDEN_FIRST = (
    "Vera is 25 years old and lives in Westmoor. Her goldfish played. She was helping a journalist "
    "behind the cinema. The textbooks were more interesting than the lists. She has a goldfish."
)


def test_golden_hash_of_seed_0():
    paragraphs = generate_paragraphs(50, seed=0)
    assert paragraphs[0] == GOLDEN_FIRST
    assert hashlib.sha256("\n".join(paragraphs).encode("utf-8")).hexdigest() == GOLDEN_SHA256


def test_golden_hash_in_a_fresh_interpreter_with_hash_randomisation():
    """No dependence on str hashing or set order: another process with another hash seed agrees."""
    code = (
        "import hashlib; from mlm_book.corpus import generate_paragraphs; "
        "print(hashlib.sha256('\\n'.join(generate_paragraphs(50, seed=0)).encode()).hexdigest())"
    )
    for hash_seed in ("1", "12345"):
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": hash_seed, "PYTHONPATH": REPO},
            cwd=REPO,
        )
        assert out.stdout.strip() == GOLDEN_SHA256


def test_world_accessor_shows_characters_and_facts():
    world = corpus.world()
    assert world is corpus.world(0) and world.seed == 0
    vera = world.character("Vera")
    assert (vera.age, vera.town) == (25, "Westmoor")
    assert corpus.world(1) != world


def test_public_names():
    assert corpus.PROBE_CATEGORIES == ("agreement", "selection", "reference", "facts")
    for name in corpus.__all__:
        assert getattr(corpus, name) is not None
    assert callable(load_corpus) and callable(make_probes)
    assert corpus.DEFAULT_N_PARAGRAPHS == 20_000


def test_generating_text_does_not_import_datasets():
    code = (
        "import sys; from mlm_book.corpus import generate_paragraphs; generate_paragraphs(2); "
        "print('datasets' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "False"
