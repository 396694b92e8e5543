"""The shape of a BERT-style masked language model, as one frozen, JSON-serialisable record.

A ``ModelConfig`` fixes every size the model needs: the vocabulary, the width ``d_model`` of
the token vectors, the number of attention heads and encoder layers, the width ``d_ff`` of the
feed-forward layers, the longest sequence ``max_len`` and the dropout rate. Named presets give
sensible starting points (``ModelConfig.tiny()`` trains on a laptop CPU, ``ModelConfig.bert_base()``
has the shape of Google's BERT-base); vary one with ``dataclasses.replace``.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, Literal

NormPlacement = Literal["post", "pre"]
PositionInit = Literal["normal", "sinusoidal"]
PRESET_NAMES: tuple[str, ...] = ("tiny", "bert-base")


@dataclass(frozen=True)
class ModelConfig:
    """Sizes and options of an ``MLMModel``.

    Attributes:
        vocab_size: number of token ids the embedding table and the output layer cover.
        d_model: width of every token vector between layers (BERT calls it ``hidden_size``).
        n_heads: attention heads per layer; must divide ``d_model``.
        n_layers: encoder layers stacked on top of each other.
        d_ff: width of the hidden layer of each feed-forward block (usually ``4 * d_model``).
        max_len: longest sequence, in tokens, the learned position embeddings cover.
        dropout: dropout rate after embeddings, attention weights and every sub-layer.
        norm: ``"post"`` puts LayerNorm after each residual sum, as in BERT;
            ``"pre"`` puts it before each sub-layer and once more after the last layer.
        n_segments: rows of the segment (BERT: token type) embedding; 0 turns it off.
        layer_norm_eps: the epsilon of every LayerNorm (BERT uses 1e-12).
        init_std: standard deviation of the normal initialisation of weights (BERT: 0.02).
        position_init: how the learned position embeddings start: ``"normal"`` (random, as in
            BERT) or ``"sinusoidal"`` (the fixed sinusoids of the original Transformer, scaled by
            ``init_std``, which give every offset between two positions the same signature from
            the first step; they are still trained).
    """

    vocab_size: int = 8192
    d_model: int = 256
    n_heads: int = 4
    n_layers: int = 4
    d_ff: int = 1024
    max_len: int = 128
    dropout: float = 0.1
    norm: NormPlacement = "post"
    n_segments: int = 0
    layer_norm_eps: float = 1e-12
    init_std: float = 0.02
    position_init: PositionInit = "normal"

    def __post_init__(self) -> None:
        for name in ("vocab_size", "d_model", "n_heads", "n_layers", "d_ff", "max_len"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"ModelConfig.{name} must be a positive integer, got {value!r}")
        if self.d_model % self.n_heads:
            raise ValueError(
                f"ModelConfig.d_model={self.d_model} is not divisible by n_heads={self.n_heads}; "
                "choose n_heads that divides d_model"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"ModelConfig.dropout must be in [0, 1), got {self.dropout!r}")
        if self.norm not in ("post", "pre"):
            raise ValueError(f"ModelConfig.norm must be 'post' or 'pre', got {self.norm!r}")
        if self.position_init not in ("normal", "sinusoidal"):
            raise ValueError(
                f"ModelConfig.position_init must be 'normal' or 'sinusoidal', got {self.position_init!r}"
            )
        if isinstance(self.n_segments, bool) or not isinstance(self.n_segments, int) or self.n_segments < 0:
            raise ValueError(f"ModelConfig.n_segments must be an integer >= 0, got {self.n_segments!r}")
        if not self.layer_norm_eps > 0 or not self.init_std > 0:
            raise ValueError(
                f"ModelConfig.layer_norm_eps and init_std must be positive, got "
                f"{self.layer_norm_eps!r} and {self.init_std!r}"
            )

    @property
    def d_head(self) -> int:
        """Width of one attention head, ``d_model // n_heads``."""
        return self.d_model // self.n_heads

    @classmethod
    def tiny(cls) -> ModelConfig:
        """The book's CPU preset: 4 layers of width 256, about 5.4 M parameters.

        ``max_len`` is 128: the corpus chapters cut text into blocks of 128 tokens, which keeps
        a training step cheap on a laptop (attention costs grow with the square of the length).
        Position embeddings start as sinusoids: in a few CPU minutes, randomly initialised ones
        left the model guessing from word frequencies alone (see the training chapter).
        """
        return cls(position_init="sinusoidal")

    @classmethod
    def bert_base(cls, vocab_size: int = 30522) -> ModelConfig:
        """The shape of BERT-base (110 M parameters with its 30,522-token vocabulary)."""
        return cls(
            vocab_size=vocab_size, d_model=768, n_heads=12, n_layers=12, d_ff=3072, max_len=512, n_segments=2
        )

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> ModelConfig:
        """Return a named preset (one of ``PRESET_NAMES``), with some fields replaced.

        Args:
            name: ``"tiny"`` or ``"bert-base"``.
            **overrides: fields to change, e.g. ``vocab_size=5000``.

        Returns:
            The preset's config with ``overrides`` applied (and validated).
        """
        if name == "tiny":
            config = cls.tiny()
        elif name == "bert-base":
            config = cls.bert_base()
        else:
            raise ValueError(f"unknown model preset {name!r}; choose one of {', '.join(PRESET_NAMES)}")
        return dataclasses.replace(config, **overrides)

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a plain dict (JSON-ready)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        """Build a config from ``to_dict()`` output; unknown keys are an error, missing ones default.

        Args:
            data: field names mapped to values.

        Returns:
            The validated config.
        """
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown ModelConfig field(s) {unknown}; known fields are {sorted(known)}")
        return cls(**data)

    def to_json(self) -> str:
        """Return the config as an indented JSON string."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelConfig:
        """Parse a config from ``to_json()`` output.

        Args:
            text: a JSON object of config fields.

        Returns:
            The validated config.
        """
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"ModelConfig JSON is not valid JSON: {error}") from error
        if not isinstance(data, dict):
            raise ValueError(f"ModelConfig JSON must be an object of fields, got {type(data).__name__}")
        return cls.from_dict(data)
