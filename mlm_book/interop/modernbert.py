"""Move modern-block models between this package and transformers' ``ModernBertForMaskedLM``.

A model built like ``ModelConfig.modern()`` (pre-LN with a normalised embedding, rotary
positions, GeGLU, global attention in every layer) *is* ModernBERT with other parameter names:
the fused projections have the same layouts (``Wqkv`` is ``[W_Q; W_K; W_V]``, ``Wi`` is
``[W_value; W_gate]``), the rotation pairs coordinates ``i`` and ``i + d/2`` in both, and the
decoder is tied to the token embeddings with its own output bias. ModernBERT's local
(sliding-window) layers have no counterpart here, so an import refuses them. Biases are one
switch here (``ModelConfig.bias``) and four in ModernBERT (attention, MLP, norms, head), which
must then agree. Dropout is placed alike except in the feed-forward network (ModernBERT drops
the gated hidden vector, this package the output); evaluation does not drop anything.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from tokenizers import Tokenizer

from mlm_book.interop.tokenizer import load_backend_tokenizer, to_transformers_tokenizer
from mlm_book.model.checkpoint import LoadedModel, load_model
from mlm_book.model.config import ModelConfig
from mlm_book.model.mlm import MLMModel
from mlm_book.utils.special_tokens import CLS_ID, PAD_ID, SEP_ID, SPECIAL_TOKENS

if TYPE_CHECKING:
    from transformers import ModernBertConfig, ModernBertForMaskedLM

MODERNBERT_NEEDS: dict[str, object] = {
    "norm": "pre",
    "normalises_embeddings": True,
    "positions": "rope",
    "feed_forward": "geglu",
    "n_segments": 0,
    "tie_decoder": True,
    "head_transform": True,
}
"""The config values ModernBERT's structure fixes (``normalises_embeddings``: ``embedding_norm=True``)."""

# (our name, ModernBERT's name) of every parameter; "{i}" is the layer index (layer 0 of
# ModernBERT has no attention norm, nor has ours after a normalised embedding).
_NAMES = (
    ("embeddings.token.", "model.embeddings.tok_embeddings."),
    ("embeddings.norm.", "model.embeddings.norm."),
    ("layers.{i}.attention_norm.", "model.layers.{i}.attn_norm."),
    ("layers.{i}.attention.qkv.", "model.layers.{i}.attn.Wqkv."),
    ("layers.{i}.attention.out.", "model.layers.{i}.attn.Wo."),
    ("layers.{i}.feed_forward_norm.", "model.layers.{i}.mlp_norm."),
    ("layers.{i}.feed_forward.up.", "model.layers.{i}.mlp.Wi."),
    ("layers.{i}.feed_forward.down.", "model.layers.{i}.mlp.Wo."),
    ("final_norm.", "model.final_norm."),
    ("head.dense.", "head.dense."),
    ("head.norm.", "head.norm."),
    ("head.decoder.", "decoder."),
)


def modernbert_blockers(config: ModelConfig) -> list[str]:
    """The options of ``config`` that ModernBERT cannot represent, as ``"name=value"`` strings.

    Args:
        config: any model config.

    Returns:
        An empty list when ``ModernBertForMaskedLM`` can hold the model exactly.
    """
    return [
        f"{'embedding_norm' if name == 'normalises_embeddings' else name}={getattr(config, name)!r}"
        for name, needed in MODERNBERT_NEEDS.items()
        if getattr(config, name) != needed
    ]


def to_modernbert_config(config: ModelConfig) -> ModernBertConfig:
    """Translate a modern-block ``ModelConfig`` into the equivalent ``transformers.ModernBertConfig``.

    Args:
        config: a config that ``modernbert_blockers`` does not object to.

    Returns:
        A ``ModernBertConfig`` with global attention in every layer and the book's special ids.
    """
    from transformers import ModernBertConfig

    blockers = modernbert_blockers(config)
    if blockers:
        raise ValueError(
            f"ModernBertForMaskedLM cannot represent {', '.join(blockers)}; build the model with "
            "ModelConfig.modern() (or its block options) to export it as ModernBERT"
        )
    theta = {"rope_type": "default", "rope_theta": config.rope_theta}
    return ModernBertConfig(
        vocab_size=config.vocab_size,
        hidden_size=config.d_model,
        intermediate_size=config.d_ff,
        num_hidden_layers=config.n_layers,
        num_attention_heads=config.n_heads,
        hidden_activation="gelu",
        max_position_embeddings=config.max_len,
        initializer_range=config.init_std,
        norm_eps=config.layer_norm_eps,
        norm_bias=config.bias,
        attention_bias=config.bias,
        mlp_bias=config.bias,
        classifier_bias=config.bias,
        decoder_bias=True,
        classifier_activation="gelu",
        embedding_dropout=config.dropout,
        attention_dropout=config.dropout,
        mlp_dropout=config.dropout,
        layer_types=["full_attention"] * config.n_layers,
        rope_parameters={"full_attention": dict(theta), "sliding_attention": dict(theta)},
        pad_token_id=PAD_ID,
        bos_token_id=CLS_ID,
        cls_token_id=CLS_ID,
        eos_token_id=SEP_ID,
        sep_token_id=SEP_ID,
        tie_word_embeddings=True,
    )


def from_modernbert_config(hf_config: ModernBertConfig) -> ModelConfig:
    """Translate a ``ModernBertConfig`` into a ``ModelConfig``, refusing what the package lacks.

    Args:
        hf_config: the config of a ``ModernBertForMaskedLM``.

    Returns:
        The equivalent modern-block config.
    """
    biases = {name: getattr(hf_config, name) for name in ("attention_bias", "mlp_bias", "norm_bias", "classifier_bias")}
    local = sorted(set(hf_config.layer_types) - {"full_attention"})
    rope = hf_config.rope_parameters["full_attention"]
    checks = {
        "layer_types": (local, [], "local attention layers have no counterpart; only global layers convert"),
        "hidden_activation": (hf_config.hidden_activation, "gelu", "only the exact GELU converts"),
        "classifier_activation": (hf_config.classifier_activation, "gelu", "only the exact GELU converts"),
        "decoder_bias": (hf_config.decoder_bias, True, "the decoder needs its output bias"),
        "tie_word_embeddings": (hf_config.tie_word_embeddings, True, "only a tied decoder converts"),
        "rope_type": (rope.get("rope_type", "default"), "default", "only plain rotary positions convert"),
        "biases": (len(set(biases.values())), 1, f"they must all be on or all off, got {biases}"),
    }
    for name, (value, supported, why) in checks.items():
        if value != supported:
            raise ValueError(f"ModernBertConfig {name}={value!r} is not supported: {why}")
    return ModelConfig(
        vocab_size=hf_config.vocab_size,
        d_model=hf_config.hidden_size,
        n_heads=hf_config.num_attention_heads,
        n_layers=hf_config.num_hidden_layers,
        d_ff=hf_config.intermediate_size,
        max_len=hf_config.max_position_embeddings,
        dropout=float(hf_config.attention_dropout),
        norm="pre",
        n_segments=0,
        layer_norm_eps=hf_config.norm_eps,
        init_std=hf_config.initializer_range,
        positions="rope",
        rope_theta=float(rope["rope_theta"]),
        feed_forward="geglu",
        bias=hf_config.norm_bias,
        embedding_norm=True,
    )


def _rename(name: str, *, to_modernbert: bool) -> str:
    """Translate one parameter name (ours to ModernBERT's, or back); raise if it has no counterpart."""
    for ours, theirs in _NAMES:
        source, target = (ours, theirs) if to_modernbert else (theirs, ours)
        pattern = "^" + re.escape(source).replace(re.escape("{i}"), r"(?P<i>\d+)")
        match = re.match(pattern, name)
        if match:
            return target.format(i=match.groupdict().get("i")) + name[match.end() :]
    raise ValueError(f"parameter {name!r} has no counterpart in {'ModernBERT' if to_modernbert else 'this package'}")


def to_modernbert_state_dict(model: MLMModel) -> dict[str, torch.Tensor]:
    """Return the model's weights under ``ModernBertForMaskedLM``'s names (the tied decoder included).

    Args:
        model: a model whose config ``modernbert_blockers`` does not object to.

    Returns:
        Every key of ``ModernBertForMaskedLM.state_dict()``, mapped to a tensor.
    """
    to_modernbert_config(model.config)  # refuses what ModernBERT cannot hold
    state = {_rename(name, to_modernbert=True): tensor for name, tensor in model.state_dict().items()}
    state["decoder.weight"] = state["model.embeddings.tok_embeddings.weight"]
    return state


def from_modernbert_state_dict(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename ``ModernBertForMaskedLM`` weights to ours (the inverse of ``to_modernbert_state_dict``).

    Args:
        state: a ``ModernBertForMaskedLM`` state dict.

    Returns:
        A state dict for ``MLMModel(config)`` without the tied decoder weight.
    """
    return {_rename(name, to_modernbert=False): tensor for name, tensor in state.items() if name != "decoder.weight"}


def to_transformers_model(model: MLMModel) -> ModernBertForMaskedLM:
    """Build a ``ModernBertForMaskedLM`` with the model's weights (in eval mode, same logits).

    Args:
        model: a modern-block model.

    Returns:
        The equivalent transformers model, on the CPU, with PyTorch's SDPA attention.
    """
    from transformers import ModernBertForMaskedLM

    hf_config = to_modernbert_config(model.config)
    hf_config._attn_implementation = "sdpa"  # flash attention would need a GPU package
    hf_model = ModernBertForMaskedLM(hf_config)
    state = {name: tensor.detach().cpu() for name, tensor in to_modernbert_state_dict(model).items()}
    hf_model.load_state_dict(state, strict=True)
    return hf_model.eval()


def from_transformers(hf_model_or_dir: ModernBertForMaskedLM | str | os.PathLike[str]) -> LoadedModel:
    """Import a ``ModernBertForMaskedLM``: an object, or a local directory (a Hub name when online).

    Args:
        hf_model_or_dir: the model, or where ``from_pretrained`` finds it (with its tokenizer, if any).

    Returns:
        ``LoadedModel`` with the equivalent model (eval mode) and the tokenizer or ``None``.
    """
    from transformers import ModernBertForMaskedLM

    tokenizer = None
    hf_model = hf_model_or_dir
    if not isinstance(hf_model_or_dir, ModernBertForMaskedLM):
        try:
            hf_model = ModernBertForMaskedLM.from_pretrained(str(hf_model_or_dir))
        except OSError as error:
            raise FileNotFoundError(
                f"cannot load a ModernBertForMaskedLM from {str(hf_model_or_dir)!r}: it is not a model directory, "
                f"and not a Hub model that can be downloaded now ({error.__class__.__name__}); check the path"
            ) from error
        tokenizer = load_backend_tokenizer(hf_model_or_dir)
    state = hf_model.state_dict()
    if not torch.equal(state["decoder.weight"], state["model.embeddings.tok_embeddings.weight"]):
        raise ValueError(
            "the ModernBertForMaskedLM decoder is not tied to its token embeddings; only tied models convert"
        )
    config = from_modernbert_config(hf_model.config)
    model = MLMModel(config)
    model.load_state_dict(from_modernbert_state_dict(state), strict=False)
    return LoadedModel(model=model.eval(), tokenizer=tokenizer)


def to_transformers(model: MLMModel, tokenizer: Tokenizer, out_dir: str | os.PathLike[str]) -> Path:
    """Export model and tokenizer as a ``ModernBertForMaskedLM`` directory (safetensors).

    ``AutoModelForMaskedLM.from_pretrained(out_dir)`` and ``pipeline("fill-mask", model=out_dir)``
    load the result.

    Args:
        model: a modern-block model.
        tokenizer: its ``tokenizers.Tokenizer`` (the book's special tokens in its vocabulary).
        out_dir: directory to write into; created if missing, files of the same name replaced.

    Returns:
        The directory, as a ``Path``.
    """
    missing = [token for token in SPECIAL_TOKENS if tokenizer.token_to_id(token) is None]
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


def export_hf(model_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str]) -> Path:
    """Export a model directory written by ``save_model`` (with its tokenizer) as ModernBERT.

    Args:
        model_dir: a directory holding ``config.json``, ``model.safetensors`` and ``tokenizer.json``.
        out_dir: where to write the ``ModernBertForMaskedLM`` directory.

    Returns:
        The export directory, as a ``Path``.
    """
    loaded = load_model(model_dir)
    if loaded.tokenizer is None:
        raise FileNotFoundError(
            f"{Path(model_dir) / 'tokenizer.json'} does not exist; save the model with its tokenizer to export it"
        )
    return to_transformers(loaded.model, loaded.tokenizer, out_dir)
