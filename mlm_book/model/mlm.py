r"""A BERT-style masked language model: embeddings, a stack of encoder layers, the MLM head.

The model reads a batch of token ids, some replaced by ``[MASK]``, and predicts the original
token at each masked position. Its loss is the cross-entropy over the masked positions only,

$$\mathcal{L} = -\frac{1}{|M|} \sum_{i \in M} \log p_\theta(x_i \mid \tilde{x}),$$

where $M$ is the set of positions whose label is not ``IGNORE_INDEX``. Since only those
positions count, the head (the most expensive single matmul, ``d_model x vocab_size`` per
token) runs on them alone: *sparse prediction*. ``dense_head=True`` runs it everywhere, for
comparison; both give the same loss.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from mlm_book.masking.corruption import masked_positions_of
from mlm_book.model.config import ModelConfig
from mlm_book.model.encoder import Embeddings, EncoderLayer, layer_norm
from mlm_book.model.head import MLMHead
from mlm_book.model.positions import sinusoidal_positions
from mlm_book.utils.special_tokens import IGNORE_INDEX

TIED_WEIGHTS: dict[str, str] = {"head.decoder.weight": "embeddings.token.weight"}
"""State-dict keys that name the same tensor as another key (the tied decoder weight)."""


def tied_weights(config: ModelConfig) -> dict[str, str]:
    """``TIED_WEIGHTS`` for a model of ``config``: empty when the decoder has a weight of its own."""
    return TIED_WEIGHTS if config.tie_decoder else {}


@dataclass
class EncoderOutput:
    """What the encoder stack returns.

    Attributes:
        hidden_states: ``(B, T, d_model)`` final token vectors (what the head reads).
        attentions: one ``(B, n_heads, T, T)`` tensor per layer (bertviz's layout), or ``None``.
        layer_states: with ``output_hidden_states``, the ``n_layers + 1`` tensors ``(B, T, d_model)``
            entering and leaving each layer: the embeddings' output, then each layer's output
            (for pre-LN, before the final norm that ``hidden_states`` has); else ``None``.
    """

    hidden_states: torch.Tensor
    attentions: tuple[torch.Tensor, ...] | None
    layer_states: tuple[torch.Tensor, ...] | None = None


@dataclass
class MLMOutput:
    """What ``MLMModel.forward`` returns.

    Attributes:
        loss: mean cross-entropy over labelled positions (a scalar), or ``None`` without labels.
            NaN if no position is labelled (PyTorch's mean over nothing).
        logits: ``(B, T, vocab_size)`` without labels or with ``dense_head=True``; with labels
            (sparse prediction) ``(N_masked, vocab_size)``, one row per labelled position in
            row-major order, i.e. matching ``labels[labels != IGNORE_INDEX]``.
        hidden_states: ``(B, T, d_model)`` final token vectors.
        attentions: one ``(B, n_heads, T, T)`` tensor per layer, or ``None``.

    Like a transformers ``ModelOutput`` it can also be read by key or by position, skipping the
    fields that are ``None``: ``out["loss"]``, ``out[0]`` (the loss when there is one, else the
    logits), ``out.keys()``, ``out.to_tuple()``. That is what ``transformers.Trainer`` needs to
    train this model directly (its ``compute_loss`` reads ``outputs[0]``); mind that with labels
    the logits are the sparse ``(N_masked, V)``, not ``(B, T, V)``.
    """

    loss: torch.Tensor | None
    logits: torch.Tensor
    hidden_states: torch.Tensor
    attentions: tuple[torch.Tensor, ...] | None

    def keys(self) -> list[str]:
        """The names of the fields that are not ``None``, in order."""
        return [name for name in ("loss", "logits", "hidden_states", "attentions") if getattr(self, name) is not None]

    def to_tuple(self) -> tuple[object, ...]:
        """The fields that are not ``None``, in order."""
        return tuple(getattr(self, name) for name in self.keys())

    def __getitem__(self, key: str | int | slice) -> object:
        """A field by name (``KeyError`` if it is ``None`` or unknown) or by position among the set ones."""
        if isinstance(key, str):
            if key not in self.keys():
                raise KeyError(f"{key!r} is not set in this output; set fields: {self.keys()}")
            return getattr(self, key)
        return self.to_tuple()[key]


class MLMModel(nn.Module):
    """A BERT-style encoder with a masked-language-model head (decoder tied to the embeddings by default).

    Args:
        config: sizes and options.
        generator: random source for the initial weights (normal, std ``config.init_std``,
            as in BERT); ``None`` uses torch's global generator.
    """

    def __init__(self, config: ModelConfig, *, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.config = config
        self.embeddings = Embeddings(config)
        # After a normalised embedding (ModernBERT), a pre-LN first layer skips its attention norm.
        normalised = self.embeddings.norm is not None
        self.layers = nn.ModuleList(
            EncoderLayer(config, input_normalised=i == 0 and normalised) for i in range(config.n_layers)
        )
        # Pre-LN leaves the last residual sum unnormalised; BERT's post-LN needs nothing here.
        self.final_norm = layer_norm(config) if config.norm == "pre" else None
        self.head = MLMHead(config, self.embeddings.token)
        if not config.bias:  # the head's transform loses its biases; the decoder keeps its output bias
            for module in (self.head.dense, self.head.norm):
                if module is not None:
                    module.register_parameter("bias", None)
        self.reset_parameters(generator)

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Initialise like BERT: weights ~ N(0, init_std²), biases 0, LayerNorm 1 and 0, [PAD] row 0.

        With ``config.position_init == "sinusoidal"`` the learned position embeddings (if any)
        are then set to ``init_std`` times ``sinusoidal_positions`` (the other weights are the
        same either way).

        Args:
            generator: random source; ``None`` uses torch's global generator.
        """
        for module in self.modules():
            tied = module is self.head.decoder and self.config.tie_decoder  # its weight is the embedding's
            if isinstance(module, (nn.Linear, nn.Embedding)) and not tied:
                nn.init.normal_(module.weight, std=self.config.init_std, generator=generator)
            if isinstance(module, nn.Embedding) and module.padding_idx is not None:
                module.weight[module.padding_idx].zero_()
            if isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
            if isinstance(module, (nn.Linear, nn.LayerNorm)) and module.bias is not None:
                nn.init.zeros_(module.bias)
        if self.config.position_init == "sinusoidal" and self.embeddings.position is not None:
            position = self.embeddings.position.weight  # (max_len, D)
            position.copy_(self.config.init_std * sinusoidal_positions(*position.shape))

    def encode(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        *,
        segment_ids: torch.Tensor | None = None,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
    ) -> EncoderOutput:
        """Run embeddings and encoder layers (no head).

        Args:
            input_ids: ``(B, T)`` int64 token ids, ``T <= max_len``.
            attention_mask: ``(B, T)`` 1/True for real tokens, 0/False for padding; ``None``
                means no padding (the fastest path: pass ``None`` rather than a mask of ones).
                Every row needs at least one real token.
            segment_ids: ``(B, T)`` segment ids (only if ``n_segments > 0``).
            output_attentions: also return every layer's attention weights.
            output_hidden_states: also return the vectors between layers (``layer_states``).

        Returns:
            ``EncoderOutput`` with ``(B, T, d_model)`` hidden states, the attentions and the layer states.

        Only the shapes are checked here (checking the values would wait for the device); see
        ``check_inputs`` for a full check of ids and masks.
        """
        check_shapes(self.config, input_ids, attention_mask, segment_ids)
        mask = None if attention_mask is None else attention_mask.bool()  # (B, T)
        x = self.embeddings(input_ids, segment_ids)  # (B, T, D)
        attentions, states = [], [x]
        for layer in self.layers:
            layer_output = layer(x, mask, output_attentions=output_attentions)
            x = layer_output.output
            attentions.append(layer_output.weights)
            states.append(x)
        if self.final_norm is not None:
            x = self.final_norm(x)
        return EncoderOutput(
            hidden_states=x,
            attentions=tuple(attentions) if output_attentions else None,
            layer_states=tuple(states) if output_hidden_states else None,
        )

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        *,
        masked_positions: torch.Tensor | None = None,
        segment_ids: torch.Tensor | None = None,
        output_attentions: bool = False,
        dense_head: bool = False,
    ) -> MLMOutput:
        """Predict tokens; with ``labels``, also the masked-LM loss.

        Args:
            input_ids: ``(B, T)`` int64 token ids (some of them ``[MASK]``).
            attention_mask: ``(B, T)`` 1/True for real tokens, 0/False for padding, or ``None``.
            labels: ``(B, T)`` int64 original ids at the positions to predict and
                ``IGNORE_INDEX`` (-100) elsewhere, or ``None``.
            masked_positions: ``(N,)`` int64 flat indices (row-major, into ``B * T``) of the
                labelled positions, ``(labels.flatten() != -100).nonzero()``, as the collator
                gives them (``return_masked_positions=True``). With them the forward pass never
                waits for the device; without them it finds the positions itself (a host sync).
            segment_ids: ``(B, T)`` segment ids (only if ``n_segments > 0``).
            output_attentions: also return every layer's ``(B, n_heads, T, T)`` weights.
            dense_head: with labels, run the head at every position (logits ``(B, T, V)``)
                instead of only the labelled ones (logits ``(N_masked, V)``); same loss.

        Returns:
            ``MLMOutput``; see its docstring for the shape of ``logits`` in each case.
        """
        if labels is not None and labels.shape != input_ids.shape:
            raise ValueError(
                f"labels have shape {tuple(labels.shape)}; they must match input_ids {tuple(input_ids.shape)}"
            )
        if masked_positions is not None and (labels is None or masked_positions.dim() != 1):
            raise ValueError("masked_positions must be a 1-D tensor of flat indices, given together with labels")
        encoded = self.encode(input_ids, attention_mask, segment_ids=segment_ids, output_attentions=output_attentions)
        hidden = encoded.hidden_states  # (B, T, D)
        loss = None
        if labels is None or dense_head:
            logits = self.head(hidden)  # (B, T, V)
            if labels is not None:
                loss = F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=IGNORE_INDEX)
        else:
            flat_labels = labels.flatten()  # (B*T,)
            positions = masked_positions if masked_positions is not None else masked_positions_of(labels)  # (N,)
            logits = self.head(hidden.flatten(0, 1).index_select(0, positions))  # (N, V)
            loss = F.cross_entropy(logits, flat_labels.index_select(0, positions))
        return MLMOutput(loss=loss, logits=logits, hidden_states=hidden, attentions=encoded.attentions)


def check_shapes(
    config: ModelConfig,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor | None = None,
    segment_ids: torch.Tensor | None = None,
) -> None:
    """Raise ``ValueError`` naming the problem if the shapes or dtypes do not fit the model.

    Looks at shapes only, never at values, so it costs nothing and compiles into the graph.
    """
    if input_ids.dim() != 2 or input_ids.dtype not in (torch.int64, torch.int32):
        raise ValueError(
            f"input_ids must be a (batch, length) integer tensor, got shape {tuple(input_ids.shape)} "
            f"and dtype {input_ids.dtype}; add a batch dimension with input_ids[None] if needed"
        )
    length = input_ids.size(1)
    if not 1 <= length <= config.max_len:
        raise ValueError(f"sequence length {length} must be between 1 and max_len={config.max_len}; cut the text")
    for name, tensor in (("attention_mask", attention_mask), ("segment_ids", segment_ids)):
        if tensor is not None and tensor.shape != input_ids.shape:
            raise ValueError(
                f"{name} has shape {tuple(tensor.shape)}; it must match input_ids {tuple(input_ids.shape)}"
            )


def check_inputs(
    config: ModelConfig,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor | None = None,
    segment_ids: torch.Tensor | None = None,
) -> None:
    """Check a batch fully before it reaches the model: shapes, id range, non-empty rows.

    ``MLMModel.forward`` checks shapes only, so that it never waits for the device; call this
    where the batch is built (the collator and ``fill_mask`` do the same checks) when the ids
    come from outside.

    Args:
        config: the model's config.
        input_ids: ``(B, T)`` token ids.
        attention_mask: ``(B, T)`` padding mask, or ``None``.
        segment_ids: ``(B, T)`` segment ids, or ``None``.

    Raises:
        ValueError: naming the first problem and the fix.
    """
    check_shapes(config, input_ids, attention_mask, segment_ids)
    low, high = torch.aminmax(input_ids)
    if int(low) < 0 or int(high) >= config.vocab_size:
        raise ValueError(
            f"input_ids range over [{int(low)}, {int(high)}] but vocab_size={config.vocab_size}; "
            "use the tokenizer the model was built for"
        )
    if attention_mask is not None and not bool(attention_mask.bool().any(dim=1).all()):
        raise ValueError("attention_mask has a row of zeros; every sequence needs at least one real token")


def count_parameters(model: nn.Module, *, trainable_only: bool = False) -> int:
    """Count a model's parameters, each shared (tied) tensor once.

    Args:
        model: any module.
        trainable_only: count only parameters with ``requires_grad``.

    Returns:
        The number of scalar parameters.
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def flops_per_token(config: ModelConfig, seq_len: int | None = None, predicted_fraction: float = 1.0) -> int:
    r"""Forward-pass FLOPs per token (a multiply-add counts 2), from the matmuls alone.

    Per layer, the projections cost $2(4 d^2 + m\,d\,d_{ff})$ (Q, K, V, output; $m = 2$
    feed-forward matmuls, or $m = 3$ for GeGLU) and attention $2 \cdot 2\,T d$ (scores
    $QK^\top$ and the weighted sum of values). The head costs $2(d^2 + d V)$ at each predicted
    position ($2 d V$ without the transform):

    $$F = n_\text{layers}\big(8d^2 + 2m\,d\,d_{ff} + 4Td\big) + f\,(2d^2 + 2dV)$$

    with $f$ the fraction of positions the head runs on (1 for the dense head, the masking
    rate, e.g. 0.15, for sparse prediction). Embedding look-ups, LayerNorm, softmax and biases
    are lower-order terms left out, and so are the rotations of rotary positions. A training
    step (forward + backward) costs about $3F$.

    Args:
        config: the model's sizes.
        seq_len: sequence length ``T``; defaults to ``config.max_len``.
        predicted_fraction: fraction ``f`` of positions the head runs on, in [0, 1].

    Returns:
        FLOPs per token, rounded to an integer.
    """
    length = config.max_len if seq_len is None else seq_len
    if not 1 <= length <= config.max_len:
        raise ValueError(f"seq_len={length} must be between 1 and max_len={config.max_len}")
    if not 0.0 <= predicted_fraction <= 1.0:
        raise ValueError(f"predicted_fraction={predicted_fraction} must be in [0, 1]")
    d, d_ff, vocab = config.d_model, config.d_ff, config.vocab_size
    matrices = 3 if config.feed_forward == "geglu" else 2
    per_layer = 8 * d * d + 2 * matrices * d * d_ff + 4 * length * d
    head = 2 * d * d * config.head_transform + 2 * d * vocab
    return round(config.n_layers * per_layer + predicted_fraction * head)
