"""The shape of a masked language model, as one frozen, JSON-serialisable record.

A ``ModelConfig`` fixes every size the model needs: the vocabulary, the width ``d_model`` of
the token vectors, the number of attention heads and encoder layers, the width ``d_ff`` of the
feed-forward layers, the longest sequence ``max_len`` and the dropout rate, and the options of
the encoder block: how positions enter, where LayerNorm goes, which feed-forward network, and
whether layers have biases. Named presets give sensible starting points (``ModelConfig.tiny()``
trains on a laptop CPU, ``ModelConfig.bert_base()`` has the shape of Google's BERT-base,
``ModelConfig.modern()`` is the tiny sizes with ModernBERT's block); vary one with
``dataclasses.replace``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from mlm_book.utils.config import FrozenConfig, check_whole

NormPlacement = Literal["post", "pre"]
PositionInit = Literal["normal", "sinusoidal"]
Positions = Literal["learned", "sinusoidal", "rope", "none"]
FeedForwardKind = Literal["gelu", "geglu"]


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
            the first step; they are still trained). Used only with ``positions="learned"``.
        positions: how the model knows where a token is: ``"learned"`` (a trained table added to
            the token vectors, as in BERT), ``"sinusoidal"`` (the same table fixed to the
            sinusoids of the original Transformer, scaled by ``init_std``, never trained),
            ``"rope"`` (rotary: queries and keys rotated by an angle proportional to their
            position, as in ModernBERT) or ``"none"`` (the encoder is then permutation
            equivariant: it cannot tell word order).
        rope_theta: the base of the rotary frequencies ``rope_theta ** (-2 i / d_head)``.
        feed_forward: ``"gelu"`` (``W_2 GELU(W_1 x)``, as in BERT) or ``"geglu"`` (the gated
            ``W_2 (GELU(W_1 x) * W_3 x)`` of ModernBERT). GeGLU has three ``d_model x d_ff``
            matrices instead of two, so ``d_ff = 2/3`` of the GELU width matches the parameters.
        bias: biases in every linear layer and LayerNorm (as in BERT); ``False`` drops them all
            except the output bias of the decoder (as in ModernBERT).
        embedding_norm: LayerNorm on the embeddings before the first layer. ``None`` means what
            the norm placement implies: yes for post-LN (BERT), no for pre-LN. ``True`` with
            pre-LN is ModernBERT's choice; its first layer then skips its own attention norm,
            which would normalise an already normalised vector.
        tie_decoder: the decoder's weight is the token embedding matrix (as in BERT); ``False``
            gives the decoder a ``vocab_size x d_model`` matrix of its own.
        head_transform: the head's dense layer, GELU and LayerNorm before the decoder (as in BERT);
            ``False`` scores the encoder's final vectors directly (Cramming's
            ``skip_head_transform``). Only the defaults of these two export to transformers.
    """

    PRESETS: ClassVar[tuple[str, ...]] = ("tiny", "bert-base", "modern")

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
    positions: Positions = "learned"
    rope_theta: float = 10000.0
    feed_forward: FeedForwardKind = "gelu"
    bias: bool = True
    embedding_norm: bool | None = None
    tie_decoder: bool = True
    head_transform: bool = True

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
        if not self.rope_theta > 1.0:
            raise ValueError(f"ModelConfig.rope_theta must be > 1, got {self.rope_theta!r}; ModernBERT uses 10000")
        if self.positions == "rope" and self.d_head % 2:
            raise ValueError(
                f"positions='rope' rotates pairs of coordinates, but the head width d_model / n_heads = "
                f"{self.d_head} is odd; choose d_model and n_heads with an even quotient"
            )

    @property
    def d_head(self) -> int:
        """Width of one attention head, ``d_model // n_heads``."""
        return self.d_model // self.n_heads

    @property
    def normalises_embeddings(self) -> bool:
        """Whether a LayerNorm follows the embeddings (``embedding_norm``, or post-LN if unset)."""
        return self.norm == "post" if self.embedding_norm is None else self.embedding_norm

    @classmethod
    def tiny(cls) -> ModelConfig:
        """The book's CPU preset: 2 layers of width 128 with 4 heads, about 0.9 M parameters.

        The vocabulary has 3,609 rows, the size of the built-in tokenizer (``builtin_tokenizer``
        stops there whatever larger size it is asked for: every word of the built-in corpus is
        then whole), so no embedding row is left that is never an input or a label, and an
        untrained model starts at a loss of ln 3609. On another corpus, give ``vocab_size``.
        ``max_len`` is 128: the corpus chapters cut text into blocks of 128 tokens, which keeps
        a training step cheap on a laptop (attention costs grow with the square of the length).
        Position embeddings start as sinusoids (the training chapter shows them). No dropout, and
        a model smaller than the plateau chapter's 4 layers of width 256: the plateau chapter
        measured what gets a model off the unigram plateau, knob by knob, and the training chapter
        measured the helpful knobs together and then smaller models trained for more steps, with
        five paired seeds (``scripts/sweeps.py recipe``). Width 128 trained twice the steps of
        width 256 in less time and ended lower; 2 layers trained twice the steps of 4 in about the
        same time (1.19 times the work; ``TrainConfig.tiny``) and ended lower, with agreement and
        selection higher (paired intervals above zero); reference and facts stay at the baseline.
        Its runs read the built-in corpus about six times (6.1 M tokens of 1.07 M); dropout 0 was
        measured at width 256, whose runs read it 1.4 times.
        """
        return cls(
            vocab_size=TINY_VOCAB_SIZE, d_model=128, n_layers=2, d_ff=512, position_init="sinusoidal", dropout=0.0
        )

    @classmethod
    def bert_base(cls, vocab_size: int = 30522) -> ModelConfig:
        """The shape of BERT-base (110 M parameters with its 30,522-token vocabulary)."""
        return cls(vocab_size=vocab_size, d_model=768, n_heads=12, n_layers=12, d_ff=3072, max_len=512, n_segments=2)

    @classmethod
    def modern(cls) -> ModelConfig:
        """The tiny sizes with ModernBERT's block (Warner et al. 2024, section 2.1.1).

        Pre-LN with a LayerNorm on the embeddings, rotary positions, a GeGLU feed-forward
        network, no biases, LayerNorm epsilon 1e-5 and no segment embeddings: the structure of
        ``transformers.ModernBertForMaskedLM`` with global attention in every layer (ModernBERT
        itself alternates with local layers, which pay off only on long sequences). ``d_ff`` is
        341, about 2/3 of the tiny preset's 512, so the feed-forward networks have the same
        number of parameters; the rotary base is 10,000, ModernBERT's for its 128-token local
        layers (its global layers use 160,000 for 8,192-token contexts). No dropout, as in the
        tiny preset, so the two presets differ in the block alone.
        """
        return cls(
            vocab_size=TINY_VOCAB_SIZE,
            d_model=128,
            n_layers=2,
            dropout=0.0,
            d_ff=341,
            norm="pre",
            embedding_norm=True,
            positions="rope",
            feed_forward="geglu",
            bias=False,
            layer_norm_eps=1e-5,
        )
