"""Ask a masked language model to fill in the blanks: the ``[MASK]`` tokens of a text.

The model scores every vocabulary entry at each ``[MASK]``; a softmax turns the scores into
probabilities and the ``top_k`` most likely tokens are the answers. Each ``[MASK]`` is filled on
its own (the others stay masked), as in transformers' ``pipeline("fill-mask")``, whose answers
these match.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
from tokenizers import Tokenizer

from mlm_book.model.checkpoint import TOKENIZER_FILE, check_finite_weights, load_model
from mlm_book.model.mlm import MLMModel
from mlm_book.utils.special_tokens import CLS_TOKEN, MASK_TOKEN, PAD_TOKEN, SEP_TOKEN


@dataclass(frozen=True)
class MaskPrediction:
    """One candidate for one ``[MASK]``.

    Attributes:
        token: the token as text (a ``##`` continuation piece without its ``##``).
        token_id: its id.
        score: the model's probability for it, in [0, 1].
        sequence: the text with this ``[MASK]`` replaced by the token (other masks kept).
        mask_index: which ``[MASK]`` of the text it fills: 0 for the first, 1 for the second...
    """

    token: str
    token_id: int
    score: float
    sequence: str
    mask_index: int


def fill_mask(model: MLMModel, tokenizer: Tokenizer, text: str, top_k: int = 5) -> list[MaskPrediction]:
    """Predict the ``top_k`` most likely tokens for every ``[MASK]`` in ``text``.

    The model runs in eval mode without gradients; its previous mode is restored afterwards.
    A model whose vocabulary is larger than its tokenizer's (rows kept free, e.g. a vocabulary
    size rounded up) never proposes those spare ids: no text could contain them.

    Args:
        model: the masked language model.
        tokenizer: its ``tokenizers.Tokenizer`` (or a transformers fast tokenizer).
        text: text with one or several ``[MASK]`` tokens, e.g. ``"the cat [MASK] on the mat."``.
        top_k: how many candidates per mask.

    Returns:
        ``top_k`` predictions per mask, masks in text order, each mask's best first.
    """
    tokenizer = getattr(tokenizer, "backend_tokenizer", tokenizer)  # accept a transformers wrapper
    mask_id = tokenizer.token_to_id(MASK_TOKEN)
    if mask_id is None:
        raise ValueError(f"the tokenizer has no {MASK_TOKEN} token; use the tokenizer the model was trained with")
    known = min(model.config.vocab_size, tokenizer.get_vocab_size())  # ids beyond the tokenizer's are never text
    if not 1 <= top_k <= known:
        raise ValueError(f"top_k={top_k} must be between 1 and the vocabulary size {known}")
    encoding = tokenizer.encode(text)
    ids = [token_id for token_id, real in zip(encoding.ids, encoding.attention_mask) if real]  # drop any padding
    positions = [i for i, token_id in enumerate(ids) if token_id == mask_id]
    if not positions:
        raise ValueError(f"no {MASK_TOKEN} in {text!r}; write {MASK_TOKEN} where the model should fill in a word")
    if len(ids) > model.config.max_len:
        raise ValueError(f"the text is {len(ids)} tokens long but the model reads at most {model.config.max_len}")
    probabilities = _mask_probabilities(model, ids, positions)  # (N_masks, V)
    scores, token_ids = probabilities[:, :known].topk(top_k, dim=-1)  # (N_masks, top_k)
    return [
        MaskPrediction(
            token=tokenizer.decode([token_id], skip_special_tokens=False),
            token_id=token_id,
            score=score,
            sequence=_fill(tokenizer, ids, position, token_id),
            mask_index=index,
        )
        for index, position in enumerate(positions)
        for score, token_id in zip(scores[index].tolist(), token_ids[index].tolist())
    ]


def _mask_probabilities(model: MLMModel, ids: list[int], positions: list[int]) -> torch.Tensor:
    """Softmax over the vocabulary at ``positions``: ``(len(positions), vocab_size)``."""
    device = model.embeddings.token.weight.device
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            hidden = model.encode(torch.tensor([ids], device=device)).hidden_states[0]  # (T, D)
            logits = model.head(hidden[positions])  # only the masked positions: (N_masks, V)
            return logits.float().softmax(dim=-1).cpu()
    finally:
        model.train(was_training)


def _fill(tokenizer: Tokenizer, ids: list[int], position: int, token_id: int) -> str:
    """Decode ``ids`` with ``ids[position]`` replaced, without [CLS], [SEP] and [PAD]."""
    framing = {tokenizer.token_to_id(token) for token in (CLS_TOKEN, SEP_TOKEN, PAD_TOKEN)}
    filled = [token_id if i == position else old for i, old in enumerate(ids)]
    return tokenizer.decode([i for i in filled if i not in framing], skip_special_tokens=False)


def fill_mask_from_dir(model_dir: str | os.PathLike[str], text: str, top_k: int = 5) -> list[MaskPrediction]:
    """Load a model directory written by ``save_model`` (with its tokenizer) and fill in ``text``.

    Args:
        model_dir: a directory holding ``config.json``, ``model.safetensors`` and ``tokenizer.json``.
        text: text with one or several ``[MASK]`` tokens.
        top_k: how many candidates per mask.

    Returns:
        As ``fill_mask``.

    Raises:
        ValueError: for a file instead of a directory, a tokenizer without ``[MASK]``, or
            non-finite weights.
        FileNotFoundError: if the directory or its tokenizer is missing.
    """
    if Path(model_dir).is_file():
        raise ValueError(f"{model_dir} is a file; give the directory of a training run or a saved model")
    loaded = load_model(model_dir)
    if loaded.tokenizer is None:
        raise FileNotFoundError(
            f"{Path(model_dir) / TOKENIZER_FILE} does not exist; save the model with its tokenizer to fill masks"
        )
    check_finite_weights(loaded.model, model_dir)
    return fill_mask(loaded.model, loaded.tokenizer, text, top_k)
