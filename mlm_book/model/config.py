"""The shape of a BERT-style masked language model, as one frozen, JSON-serialisable record.

A ``ModelConfig`` fixes every size the model needs: the vocabulary, the width ``d_model`` of
the token vectors, the number of attention heads and encoder layers, the width ``d_ff`` of the
feed-forward layers, the longest sequence ``max_len`` and the dropout rate. Named presets give
sensible starting points (``ModelConfig.tiny()`` trains on a laptop CPU, ``ModelConfig.bert_base()``
has the shape of Google's BERT-base); vary one with ``dataclasses.replace``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from mlm_book.utils.config import FrozenConfig, check_whole

NormPlacement = Literal["post", "pre"]
PositionInit = Literal["normal", "sinusoidal"]


TINY_VOCAB_SIZE = 3609
"""The built-in tokenizer's vocabulary: the tiny preset's embedding rows."""


@dataclass(frozen=True)
class ModelConfig(FrozenConfig):
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

    PRESETS: ClassVar[tuple[str, ...]] = ("tiny", "bert-base")

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

    def validate(self) -> None:
        """Check sizes and ranges."""
        for name in ("vocab_size", "d_model", "n_heads", "n_layers", "d_ff", "max_len"):
            check_whole(getattr(self, name), f"ModelConfig.{name}", 1)
        if self.d_model % self.n_heads:
            raise ValueError(
                f"ModelConfig.d_model={self.d_model} is not divisible by n_heads={self.n_heads}; "
                "choose n_heads that divides d_model"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"ModelConfig.dropout must be in [0, 1), got {self.dropout!r}")
        check_whole(self.n_segments, "ModelConfig.n_segments", 0)
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
        """The book's CPU preset: 4 layers of width 256, about 4.2 M parameters.

        The vocabulary has 3,609 rows, the size of the built-in tokenizer (``builtin_tokenizer``
        stops there whatever larger size it is asked for: every word of the built-in corpus is
        then whole), so no embedding row is left that is never an input or a label, and an
        untrained model starts at a loss of ln 3609. On another corpus, give ``vocab_size``.
        ``max_len`` is 128: the corpus chapters cut text into blocks of 128 tokens, which keeps
        a training step cheap on a laptop (attention costs grow with the square of the length).
        Position embeddings start as sinusoids (the training chapter shows them). What gets this
        model off the unigram plateau, knob by knob, is measured in the plateau chapter.
        """
        return cls(vocab_size=TINY_VOCAB_SIZE, position_init="sinusoidal")

    @classmethod
    def bert_base(cls, vocab_size: int = 30522) -> ModelConfig:
        """The shape of BERT-base (110 M parameters with its 30,522-token vocabulary)."""
        return cls(vocab_size=vocab_size, d_model=768, n_heads=12, n_layers=12, d_ff=3072, max_len=512, n_segments=2)
