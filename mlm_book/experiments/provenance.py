"""What a sweep table's numbers depend on, recorded beside them: the machine, the probes, the tokenizer.

A table is only comparable with another one, or with a chapter's live re-run, when these agree.
``machine_description`` says where it ran; the digests say what was measured, so that rows scored
on one probe set or tokenizer are never kept for another (``scripts/sweeps.py`` compares them).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import platform
from collections.abc import Sequence
from typing import Any

import torch
from tokenizers import Tokenizer

import mlm_book
from mlm_book.evaluation.probes import ProbeLike


def probe_digest(probes: Sequence[ProbeLike]) -> str:
    """A SHA-256 of everything that decides how probes score: each one's text, category, answers and distractors.

    Two probe sets with the same texts but other answers (say, a word no longer accepted) get
    different digests, so rows scored on one are never taken for rows scored on the other.
    """
    body = [[p.text, p.category, sorted(p.answers), sorted(p.distractors)] for p in probes]
    return hashlib.sha256(json.dumps(body).encode()).hexdigest()


def tokenizer_digest(tokenizer: Tokenizer) -> str:
    """A SHA-256 of the tokenizer's JSON (vocabulary, merges or pieces, normaliser and templates)."""
    return hashlib.sha256(tokenizer.to_str().encode()).hexdigest()


def machine_description(threads: int) -> dict[str, Any]:
    """What a sweep's numbers depend on: package, torch, Python, processor, cores and threads."""
    return {
        "mlm_book": mlm_book.__version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "machine": f"{platform.machine()} {platform.processor() or platform.system()}",
        "cpus": os.cpu_count(),
        "threads": threads,
        "date": datetime.date.today().isoformat(),
    }
