"""The model card of an export: ``README.md`` with what the model is, how it was trained, how it scored.

Written by ``interop.export_hf`` next to the weights, so that a directory handed to someone
else (or pushed to the Hub) says what it holds. The numbers come from the run's own files
(``train_config.json``, ``history.json``): the last evaluation's masked-LM loss, accuracy and
perplexity, and its probe accuracies when it scored probes. A saved model without a run
gets a card with the model alone.
"""

from __future__ import annotations

import os
from pathlib import Path

import mlm_book
from mlm_book.model.config import ModelConfig
from mlm_book.training.history import History
from mlm_book.training.run_dir import HISTORY_FILE, is_run, read_run


def model_card(model_dir: str | os.PathLike[str], config: ModelConfig, class_name: str, n_parameters: int) -> str:
    """The card of a model directory, as Markdown.

    Args:
        model_dir: the directory exported (a training run or a saved model).
        config: its model config.
        class_name: the transformers class of the export (e.g. ``"BertForMaskedLM"``).
        n_parameters: the model's parameter count.

    Returns:
        The text of ``README.md``.
    """
    model_dir = Path(model_dir)
    lines = [
        "---",
        "library_name: transformers",
        "pipeline_tag: fill-mask",
        "tags: [mlm-book, masked-language-model]",
        "---",
        "",
        f"# {model_dir.resolve().name}: a masked language model trained with mlm_book {mlm_book.__version__}",
        "",
        "## Model",
        "",
        f"- `{class_name}`: {config.n_layers} layers of width {config.d_model}, {config.n_heads} heads, "
        f"feed-forward {config.d_ff} ({config.feed_forward}), {config.norm}-LN, {config.positions} positions",
        f"- vocabulary {config.vocab_size:,} tokens, at most {config.max_len} tokens per sequence, "
        f"{n_parameters:,} parameters",
    ]
    if is_run(model_dir):
        run = read_run(model_dir)
        train = run.train_config
        corpus = f"`{train.corpus}`"
        if train.corpus == "builtin":
            corpus = f"the book's generated corpus ({train.corpus_paragraphs:,} paragraphs)"
        rate = train.curriculum.mask_rate
        trained_rate = f", trained at {rate.start:.0%} to {rate.end:.0%}" if rate else ""
        lines += [
            "",
            "## Training",
            "",
            f"- corpus: {corpus}",
            f"- {train.steps:,} steps of {train.batch_size} sequences of {train.seq_len} tokens, AdamW at a peak "
            f"learning rate of {train.lr:g}, warmup {train.warmup_ratio:.0%}, {train.decay} decay, seed {train.seed}",
            f"- masking: {train.masking.mask_prob:.0%} of the tokens ({train.masking.strategy}), split "
            f"{'/'.join(f'{p:g}' for p in train.masking.replace_probs)} (mask/random/keep){trained_rate}",
        ]
        history_path = model_dir / HISTORY_FILE
        history = History.load(history_path) if history_path.is_file() else None
        if history is not None and history.eval:
            last = history.eval[-1]
            lines += [
                "",
                "## Evaluation",
                "",
                f"At step {last.step:,}, on the run's validation batches ({train.masking.mask_prob:.0%} masked):",
                "",
                "| metric | value |",
                "| --- | --- |",
                f"| masked-LM loss | {last.loss:.4f} |",
                f"| accuracy | {last.accuracy:.4f} |",
                f"| perplexity | {last.perplexity:.2f} |",
                *(f"| probes: {name} | {value:.3f} |" for name, value in last.probes.items()),
            ]
    lines += [
        "",
        "## Use",
        "",
        "```python",
        "from transformers import pipeline",
        "",
        f'fill = pipeline("fill-mask", model="{model_dir.resolve().name}")  # this directory',
        'fill("the dogs [MASK] barking.")',
        "```",
        "",
        "## Intended use and limitations",
        "",
        "Made for teaching and for experiments on masked-language-model pretraining (The MLM Book).",
        "It is small and briefly trained: it knows only the vocabulary and the facts of its corpus",
        "(for the built-in corpus, a generated world with no real people or places), and it has not",
        "been evaluated for any use outside that corpus. Do not use it to make decisions about people.",
        "",
    ]
    return "\n".join(lines)
