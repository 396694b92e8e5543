"""Move models between this package and Hugging Face ``transformers`` (``BertForMaskedLM``).

Our post-LN model *is* BERT with other parameter names, so the conversion renames tensors and
splits or joins the fused query-key-value projection: ``qkv.weight`` is ``[W_Q; W_K; W_V]``
stacked along the output dimension. BERT always has token-type (segment) embeddings; a model
without segments exports them as zeros, which adds nothing, and a BERT whose token-type table
is all zeros imports without segments. The decoder is tied to the word embeddings on both sides,
and its output bias is ``cls.predictions.bias``. A pre-LN model has no BERT equivalent.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from tokenizers import Tokenizer

from mlm_book.interop.tokenizer import load_backend_tokenizer, to_transformers_tokenizer
from mlm_book.model.checkpoint import LoadedModel
from mlm_book.model.config import ModelConfig
from mlm_book.model.mlm import MLMModel
from mlm_book.utils.special_tokens import CLS_TOKEN, MASK_TOKEN, PAD_ID, PAD_TOKEN, SEP_TOKEN, UNK_TOKEN

if TYPE_CHECKING:
    from transformers import BertConfig, BertForMaskedLM

# (our name, BERT's name) of the tensors that map one to one; "{i}" is the layer index.
_EMBEDDING_NAMES = (
    ("embeddings.token.weight", "bert.embeddings.word_embeddings.weight"),
    ("embeddings.position.weight", "bert.embeddings.position_embeddings.weight"),
    ("embeddings.norm.weight", "bert.embeddings.LayerNorm.weight"),
    ("embeddings.norm.bias", "bert.embeddings.LayerNorm.bias"),
    ("head.dense.weight", "cls.predictions.transform.dense.weight"),
    ("head.dense.bias", "cls.predictions.transform.dense.bias"),
    ("head.norm.weight", "cls.predictions.transform.LayerNorm.weight"),
    ("head.norm.bias", "cls.predictions.transform.LayerNorm.bias"),
    ("head.decoder.bias", "cls.predictions.bias"),
)
_LAYER_NAMES = (
    ("attention.out", "attention.output.dense"),
    ("attention_norm", "attention.output.LayerNorm"),
    ("feed_forward.up", "intermediate.dense"),
    ("feed_forward.down", "output.dense"),
    ("feed_forward_norm", "output.LayerNorm"),
)
_SEGMENT_NAME = "bert.embeddings.token_type_embeddings.weight"


def to_bert_config(config: ModelConfig) -> BertConfig:
    """Translate a post-LN ``ModelConfig`` into the equivalent ``transformers.BertConfig``.

    Args:
        config: a config with ``norm="post"``.

    Returns:
        A ``BertConfig`` (exact GELU, tied embeddings, at least 2 token types as in BERT).
    """
    from transformers import BertConfig

    if config.norm != "post":
        raise ValueError(
            f"a model with norm={config.norm!r} has no BERT equivalent (BERT is post-LN); "
            "export only models built with norm='post'"
        )
    return BertConfig(
        vocab_size=config.vocab_size,
        hidden_size=config.d_model,
        num_hidden_layers=config.n_layers,
        num_attention_heads=config.n_heads,
        intermediate_size=config.d_ff,
        hidden_act="gelu",
        hidden_dropout_prob=config.dropout,
        attention_probs_dropout_prob=config.dropout,
        max_position_embeddings=config.max_len,
        type_vocab_size=max(config.n_segments, 2),
        initializer_range=config.init_std,
        layer_norm_eps=config.layer_norm_eps,
        pad_token_id=PAD_ID,
        tie_word_embeddings=True,
    )


def from_bert_config(bert_config: BertConfig, *, segments: bool = True) -> ModelConfig:
    """Translate a ``BertConfig`` into a ``ModelConfig``, refusing features we do not have.

    Args:
        bert_config: the config of a ``BertForMaskedLM``.
        segments: keep the token-type embeddings (``n_segments = type_vocab_size``) or not (0).

    Returns:
        The equivalent post-LN config.
    """
    checks = {
        "hidden_act": (getattr(bert_config, "hidden_act", "gelu"), "gelu"),
        "is_decoder": (getattr(bert_config, "is_decoder", False), False),
        "add_cross_attention": (getattr(bert_config, "add_cross_attention", False), False),
        "position_embedding_type": (getattr(bert_config, "position_embedding_type", "absolute"), "absolute"),
        "tie_word_embeddings": (getattr(bert_config, "tie_word_embeddings", True), True),
    }
    for name, (value, supported) in checks.items():
        if value != supported:
            raise ValueError(f"BertConfig.{name}={value!r} is not supported; only {name}={supported!r} converts")
    return ModelConfig(
        vocab_size=bert_config.vocab_size,
        d_model=bert_config.hidden_size,
        n_heads=bert_config.num_attention_heads,
        n_layers=bert_config.num_hidden_layers,
        d_ff=bert_config.intermediate_size,
        max_len=bert_config.max_position_embeddings,
        dropout=bert_config.hidden_dropout_prob,
        norm="post",
        n_segments=bert_config.type_vocab_size if segments else 0,
        layer_norm_eps=bert_config.layer_norm_eps,
        init_std=bert_config.initializer_range,
    )


def to_hf_state_dict(model: MLMModel) -> dict[str, torch.Tensor]:
    """Return the model's weights under ``BertForMaskedLM``'s names (tied entries included).

    Args:
        model: a post-LN model.

    Returns:
        Every key of ``BertForMaskedLM.state_dict()``, mapped to a tensor.
    """
    bert_config = to_bert_config(model.config)
    ours = model.state_dict()
    state = {bert: ours[name] for name, bert in _EMBEDDING_NAMES}
    for i in range(model.config.n_layers):
        for name, bert in _LAYER_NAMES:
            for kind in ("weight", "bias"):
                state[f"bert.encoder.layer.{i}.{bert}.{kind}"] = ours[f"layers.{i}.{name}.{kind}"]
        for kind in ("weight", "bias"):
            fused = ours[f"layers.{i}.attention.qkv.{kind}"]  # (3 d_model, ...): W_Q, W_K, W_V stacked
            for part, tensor in zip(("query", "key", "value"), fused.chunk(3)):
                state[f"bert.encoder.layer.{i}.attention.self.{part}.{kind}"] = tensor
    segment = ours.get("embeddings.segment.weight")
    d_model = model.config.d_model
    state[_SEGMENT_NAME] = (
        segment
        if segment is not None
        else ours["embeddings.token.weight"].new_zeros(bert_config.type_vocab_size, d_model)
    )
    state["cls.predictions.decoder.weight"] = state["bert.embeddings.word_embeddings.weight"]
    state["cls.predictions.decoder.bias"] = state["cls.predictions.bias"]
    return state


def to_transformers_model(model: MLMModel) -> BertForMaskedLM:
    """Build a ``BertForMaskedLM`` with the model's weights (in eval mode, same logits).

    Args:
        model: a post-LN model.

    Returns:
        The equivalent transformers model, on the CPU.
    """
    from transformers import BertForMaskedLM

    hf_model = BertForMaskedLM(to_bert_config(model.config))
    state = {name: tensor.detach().cpu() for name, tensor in to_hf_state_dict(model).items()}
    hf_model.load_state_dict(state, strict=True)
    return hf_model.eval()


def from_hf_state_dict(state: dict[str, torch.Tensor], config: ModelConfig) -> dict[str, torch.Tensor]:
    """Rename ``BertForMaskedLM`` weights to ours (the inverse of ``to_hf_state_dict``).

    Args:
        state: a ``BertForMaskedLM`` state dict.
        config: the target config (from ``from_bert_config``).

    Returns:
        A state dict for ``MLMModel(config)`` without the tied decoder weight.
    """
    ours = {name: state[bert] for name, bert in _EMBEDDING_NAMES}
    for i in range(config.n_layers):
        prefix = f"bert.encoder.layer.{i}"
        for name, bert in _LAYER_NAMES:
            for kind in ("weight", "bias"):
                ours[f"layers.{i}.{name}.{kind}"] = state[f"{prefix}.{bert}.{kind}"]
        for kind in ("weight", "bias"):
            parts = [state[f"{prefix}.attention.self.{part}.{kind}"] for part in ("query", "key", "value")]
            ours[f"layers.{i}.attention.qkv.{kind}"] = torch.cat(parts)
    if config.n_segments:
        ours["embeddings.segment.weight"] = state[_SEGMENT_NAME]
    return ours


def from_transformers(hf_model_or_dir: BertForMaskedLM | str | os.PathLike[str]) -> LoadedModel:
    """Import a ``BertForMaskedLM``: an object, a local directory, or a Hub name (when online).

    Args:
        hf_model_or_dir: the model, or where ``from_pretrained`` finds it (with its tokenizer,
            if it has one), e.g. an export of ``to_transformers`` or ``"bert-base-uncased"``.

    Returns:
        ``LoadedModel`` with the equivalent model (eval mode) and the tokenizer or ``None``.
    """
    from transformers import BertForMaskedLM

    tokenizer = None
    hf_model = hf_model_or_dir
    if not isinstance(hf_model_or_dir, BertForMaskedLM):
        hf_model, tokenizer = _load_pretrained(hf_model_or_dir)
    state = hf_model.state_dict()
    zero_segments = bool(torch.all(state[_SEGMENT_NAME] == 0))
    config = from_bert_config(hf_model.config, segments=not zero_segments)
    decoder, embedding = state["cls.predictions.decoder.weight"], state["bert.embeddings.word_embeddings.weight"]
    if not torch.equal(decoder, embedding):
        raise ValueError("the BertForMaskedLM decoder is not tied to its word embeddings; only tied models convert")
    model = MLMModel(config)
    model.load_state_dict(from_hf_state_dict(state, config), strict=False)
    return LoadedModel(model=model.eval(), tokenizer=tokenizer)


def _load_pretrained(source: str | os.PathLike[str]) -> tuple[BertForMaskedLM, Tokenizer | None]:
    """``from_pretrained`` a model and, if present, its fast tokenizer's ``tokenizers.Tokenizer``."""
    from transformers import BertForMaskedLM

    try:
        hf_model = BertForMaskedLM.from_pretrained(str(source))
    except OSError as error:
        raise FileNotFoundError(
            f"cannot load a BertForMaskedLM from {str(source)!r}: it is not a model directory, and not a "
            f"Hub model that can be downloaded now ({error.__class__.__name__}); check the path or go online"
        ) from error
    return hf_model, load_backend_tokenizer(source)


def to_transformers(model: MLMModel, tokenizer: Tokenizer, out_dir: str | os.PathLike[str]) -> Path:
    """Export model and tokenizer as a ``BertForMaskedLM`` directory (safetensors).

    ``AutoModelForMaskedLM.from_pretrained(out_dir)``, ``AutoTokenizer.from_pretrained(out_dir)``
    and ``pipeline("fill-mask", model=out_dir)`` load the result.

    Args:
        model: a post-LN model.
        tokenizer: its ``tokenizers.Tokenizer`` (``[PAD] [UNK] [CLS] [SEP] [MASK]`` in its vocabulary).
        out_dir: directory to write into; created if missing, files of the same name replaced.

    Returns:
        The directory, as a ``Path``.
    """
    special = (PAD_TOKEN, UNK_TOKEN, CLS_TOKEN, SEP_TOKEN, MASK_TOKEN)
    missing = [token for token in special if tokenizer.token_to_id(token) is None]
    if missing:
        raise ValueError(f"the tokenizer lacks the special token(s) {missing}; train it with mlm_book.tokenization")
    hf_model = to_transformers_model(model)
    hf_tokenizer = to_transformers_tokenizer(tokenizer, model_max_length=model.config.max_len)
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory, prefix=".export-") as staging:
        hf_model.save_pretrained(staging)
        hf_tokenizer.save_pretrained(staging)
        for path in sorted(Path(staging).iterdir()):  # each file appears whole, or not at all
            os.replace(path, directory / path.name)
    return directory
