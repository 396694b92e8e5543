"""The bridge to Hugging Face ``transformers``: models and tokenizers both ways.

A model goes out as the transformers class that can hold it exactly: a BERT block
(``ModelConfig.tiny()``, ``bert_base()``) as ``BertForMaskedLM`` (``interop.bert``), a
ModernBERT block (``ModelConfig.modern()``) as ``ModernBertForMaskedLM`` (``interop.modernbert``).
The functions here choose between the two; a block that neither class has is refused with
the options that block it. They import their modules when called, so that importing one
submodule (``interop.tokenizer``) does not load the others.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from tokenizers import Tokenizer
    from transformers import PreTrainedModel

    from mlm_book.model.checkpoint import LoadedModel
    from mlm_book.model.config import ModelConfig
    from mlm_book.model.mlm import MLMModel

BERT_NEEDS: dict[str, object] = {
    "norm": "post",
    "normalises_embeddings": True,
    "positions": "learned",
    "feed_forward": "gelu",
    "bias": True,
    "tie_decoder": True,
    "head_transform": True,
}
"""The config values BERT's structure fixes (``normalises_embeddings``: ``embedding_norm`` unset or True)."""

HFClass = Literal["BertForMaskedLM", "ModernBertForMaskedLM"]


def bert_blockers(config: ModelConfig) -> list[str]:
    """The options of ``config`` that ``BertForMaskedLM`` cannot represent, as ``"name=value"`` strings."""
    return [
        f"{'embedding_norm' if name == 'normalises_embeddings' else name}={getattr(config, name)!r}"
        for name, needed in BERT_NEEDS.items()
        if getattr(config, name) != needed
    ]


def transformers_class(config: ModelConfig) -> HFClass:
    """Name the transformers class that holds a model of this config exactly.

    Args:
        config: the model's config.

    Returns:
        ``"BertForMaskedLM"`` or ``"ModernBertForMaskedLM"``.

    Raises:
        ValueError: one line naming, for each class, the options that block it.
    """
    from mlm_book.interop.modernbert import modernbert_blockers

    for_bert, for_modern = bert_blockers(config), modernbert_blockers(config)
    if not for_bert:
        return "BertForMaskedLM"
    if not for_modern:
        return "ModernBertForMaskedLM"
    raise ValueError(
        f"this model has no transformers equivalent: BertForMaskedLM cannot represent {', '.join(for_bert)} and "
        f"ModernBertForMaskedLM cannot represent {', '.join(for_modern)}; change these options to export it"
    )


def to_transformers_model(model: MLMModel) -> PreTrainedModel:
    """Build the equivalent ``BertForMaskedLM`` or ``ModernBertForMaskedLM`` (eval mode, same logits)."""
    from mlm_book.interop import bert, modernbert

    if transformers_class(model.config) == "ModernBertForMaskedLM":
        return modernbert.to_transformers_model(model)
    return bert.to_transformers_model(model)


def to_transformers(model: MLMModel, tokenizer: Tokenizer, out_dir: str | os.PathLike[str]) -> Path:
    """Export model and tokenizer as a transformers directory of the class that holds the model.

    Args:
        model: the model.
        tokenizer: its ``tokenizers.Tokenizer``.
        out_dir: directory to write into (created if missing).

    Returns:
        The directory; ``AutoModelForMaskedLM`` and ``pipeline("fill-mask")`` load it.
    """
    from mlm_book.interop import bert, modernbert

    if transformers_class(model.config) == "ModernBertForMaskedLM":
        return modernbert.to_transformers(model, tokenizer, out_dir)
    return bert.to_transformers(model, tokenizer, out_dir)


def from_transformers(hf_model_or_dir: PreTrainedModel | str | os.PathLike[str]) -> LoadedModel:
    """Import a ``BertForMaskedLM`` or a ``ModernBertForMaskedLM``: an object or a directory.

    Args:
        hf_model_or_dir: the model, or a directory (or Hub name, when online) holding one.

    Returns:
        ``LoadedModel`` with the equivalent model (eval mode) and the tokenizer or ``None``.
    """
    from transformers import AutoConfig, PreTrainedModel

    from mlm_book.interop import bert, modernbert

    if isinstance(hf_model_or_dir, PreTrainedModel):
        model_type = hf_model_or_dir.config.model_type
    else:
        try:
            model_type = AutoConfig.from_pretrained(str(hf_model_or_dir)).model_type
        except (OSError, ValueError) as error:
            raise FileNotFoundError(
                f"cannot read a transformers config from {str(hf_model_or_dir)!r} ({error.__class__.__name__}); "
                "check the path"
            ) from error
    if model_type == "modernbert":
        return modernbert.from_transformers(hf_model_or_dir)  # type: ignore[arg-type]
    if model_type == "bert":
        return bert.from_transformers(hf_model_or_dir)  # type: ignore[arg-type]
    raise ValueError(f"cannot import a {model_type!r} model; only 'bert' and 'modernbert' masked LMs convert")


def export_hf(model_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str], *, progress: bool = True) -> Path:
    """Export a model directory written by ``save_model`` as the transformers class that holds it.

    Args:
        model_dir: a directory holding ``config.json``, ``model.safetensors`` and ``tokenizer.json``.
        out_dir: where to write the transformers directory.
        progress: leave transformers' progress bars on (``False`` turns them off for the process).

    Returns:
        The export directory, as a ``Path``; it also holds a model card, ``README.md``
        (``interop.model_card``).
    """
    from mlm_book.model.checkpoint import load_model

    if not progress:
        import transformers

        transformers.logging.disable_progress_bar()
    loaded = load_model(model_dir)
    if loaded.tokenizer is None:
        raise FileNotFoundError(
            f"{Path(model_dir) / 'tokenizer.json'} does not exist; save the model with its tokenizer to export it"
        )
    out = to_transformers(loaded.model, loaded.tokenizer, out_dir)
    from mlm_book.interop.model_card import model_card
    from mlm_book.model.mlm import count_parameters

    class_name = transformers_class(loaded.model.config)
    card = model_card(model_dir, loaded.model.config, class_name, count_parameters(loaded.model))
    (out / "README.md").write_text(card, encoding="utf-8")
    return out
