"""Keep a transformers copy of a training run in its ``hf/`` folder, in step with each checkpoint.

A run directory holds the package's own checkpoint: its ``config.json`` is the package's
``ModelConfig``, which transformers cannot read. ``RUN/hf/`` holds the same weights as the
transformers class that can hold them (``export_hf``: ``BertForMaskedLM`` or
``ModernBertForMaskedLM``), with the tokenizer and a model card, so that
``AutoModelForMaskedLM.from_pretrained("RUN/hf")`` and ``pipeline("fill-mask", model="RUN/hf")``
work at any point of a run. ``mlm-book train`` refreshes it after every checkpoint.

The copy is written beside the run as ``hf.new`` and swapped in with two renames, so a reader
sees the previous copy or the new one, never a half-written one; a copy interrupted mid-write is
cleaned up by the next refresh.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

HF_DIR = "hf"
"""The transformers copy's folder inside a run directory."""


def refresh_hf_copy(run_dir: str | os.PathLike[str]) -> Path:
    """Write ``run_dir/hf`` from the run's current checkpoint, replacing the previous copy whole.

    Args:
        run_dir: a run directory (or a model directory written by ``save_model``) with its tokenizer.

    Returns:
        The ``hf`` folder, as a ``Path``.

    Raises:
        ValueError: if the model has no transformers class (``interop.transformers_class``).
    """
    from mlm_book.interop import export_hf

    run = Path(run_dir)
    final, new, old = run / HF_DIR, run / f"{HF_DIR}.new", run / f"{HF_DIR}.old"
    for stale in (new, old):
        shutil.rmtree(stale, ignore_errors=True)
    export_hf(run, new, progress=False)
    if final.exists():
        os.replace(final, old)
    os.replace(new, final)
    shutil.rmtree(old, ignore_errors=True)
    return final
