"""The masking collator: pad a list of encoded examples into a batch and mask it.

Use it as a ``DataLoader`` ``collate_fn``. It returns the keys of transformers'
``DataCollatorForLanguageModeling``: ``input_ids``, ``attention_mask`` and ``labels``, which
hold -100 except at the selected positions. That is all a model needs to predict only there:
the positions are ``labels != -100`` (``MLMModel`` gathers them itself and runs its vocabulary
projection on those ~15% of positions only). On request (``return_masked_positions=True``)
the batch also holds ``masked_positions``: the same positions as flat indices in row-major
``(B * T)`` order, ``(labels.flatten() != -100).nonzero()``, for a model that wants them given.

Dynamic masking (default) draws a fresh mask every time a batch is built. Static masking
gives every example the same mask forever, as BERT's original data pipeline did: the mask of
an example is drawn alone, from a generator seeded by (seed, the example's ``example_id`` if
present, else a hash of its token ids), so it does not depend on the batch it lands in.

A batch may also be built in *shares* (``collate_share``), one per data-parallel process: each
share pads and masks only its own rows, yet draws the random numbers of the whole batch, so
the rows and the generator's final state are exactly those of collating the batch in one piece.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from torch.nn.functional import pad
from torch.nn.utils.rnn import pad_sequence

from mlm_book.masking.config import MaskingConfig
from mlm_book.masking.corruption import (
    MaskedBatch,
    apply_replacements,
    check_token_ids,
    check_vocabulary,
    masked_positions_of,
    select_positions,
)
from mlm_book.masking.strategies import WordUnits, span_length_probs, span_start_prob, word_units
from mlm_book.utils.seeding import derive_seed
from mlm_book.utils.special_tokens import IGNORE_INDEX, MASK_ID, PAD_ID, SPECIAL_IDS

Example = Mapping[str, Any] | Sequence[int] | Tensor

CountGather = Callable[[Tensor], Tensor]
"""Exchanges a few counts between the shares of a batch: every share passes its ``(k,)`` long
tensor and receives ``(n_shares, k)``, the counts of every share in the order of their rows
(``training.distributed.all_gather_counts`` for the processes of a run)."""


def alone(counts: Tensor) -> Tensor:
    """The ``CountGather`` of a batch built as a single share: ``(1, k)``."""
    return counts[None]


@dataclass(frozen=True)
class BatchShare:
    """One share of a padded, masked batch, and counts of the whole batch.

    Attributes:
        batch: this share's rows of what the collator returns for the whole batch:
            ``input_ids``, ``attention_mask`` and ``labels``, ``(b, T)`` with ``T`` the
            whole batch's padded length (and ``masked_positions`` if asked for, into these rows).
        n_predictions: selected positions in the whole batch, every share's.
        n_tokens: real (non-padding) tokens in the whole batch.
    """

    batch: dict[str, Tensor]
    n_predictions: int
    n_tokens: int


def _as_long(values: Any, name: str) -> Tensor:
    """Convert a list or tensor of ints to a 1-D long tensor (None in word ids becomes -1)."""
    if not isinstance(values, Tensor) and len(values) == 0:
        values = torch.zeros(0, dtype=torch.long)
    elif not isinstance(values, Tensor):
        values = torch.tensor([-1 if v is None else v for v in values])
    if values.is_floating_point() or values.is_complex():
        raise ValueError(f"{name} must hold integers, got dtype {values.dtype}; encode token ids as ints")
    if values.dim() != 1:
        raise ValueError(f"{name} of an example must be 1-D, got shape {tuple(values.shape)}")
    return values.long()


def _fields(example: Example, index: int) -> dict[str, Tensor]:
    """Read ``input_ids`` and the optional ``word_ids``/``special_tokens_mask`` of one example."""
    if not isinstance(example, Mapping):
        return {"input_ids": _as_long(example, "input_ids")}
    if "input_ids" not in example:
        raise ValueError(f"example {index} has no 'input_ids' (keys: {sorted(example)}); encode it first")
    fields = {"input_ids": _as_long(example["input_ids"], "input_ids")}
    for name in ("word_ids", "special_tokens_mask"):
        if example.get(name) is not None:
            fields[name] = _as_long(example[name], name)
            if len(fields[name]) != len(fields["input_ids"]):
                raise ValueError(
                    f"example {index} has {len(fields[name])} {name} for {len(fields['input_ids'])} "
                    "input_ids; give one per token"
                )
    return fields


class MaskingCollator:
    """Pads encoded examples and masks them; a ``DataLoader`` ``collate_fn``.

    Args:
        config: masking configuration (default: BERT's 15%, 80/10/10, per-token, dynamic).
        vocab_size: size of the vocabulary (random replacements are drawn from it).
        pad_id: id used to pad sequences to the longest in the batch.
        mask_token_id: id of ``[MASK]``.
        special_ids: ids never selected nor drawn as replacements (default: all five
            special tokens of ``utils.special_tokens``).
        generator: a ``torch.Generator`` or an int seed. Dynamic masking draws from it; static
            masking uses its seed (``initial_seed()``) as the base of per-example seeds.
        pad_to_multiple_of: if set, pad the length up to a multiple of it.
        return_masked_positions: add ``masked_positions`` to the batch (off by default, so that
            ``model(**batch)`` works with models that take only the transformers keys).
    """

    def __init__(
        self,
        config: MaskingConfig | None = None,
        *,
        vocab_size: int,
        pad_id: int = PAD_ID,
        mask_token_id: int = MASK_ID,
        special_ids: Iterable[int] = SPECIAL_IDS,
        generator: torch.Generator | int = 0,
        pad_to_multiple_of: int | None = None,
        return_masked_positions: bool = False,
    ) -> None:
        self.config = config if config is not None else MaskingConfig()
        self.special_ids = tuple(sorted({int(i) for i in special_ids}))
        self.replacement_ids = check_vocabulary(vocab_size, mask_token_id, self.special_ids)
        if not 0 <= pad_id < vocab_size:
            raise ValueError(f"pad_id {pad_id} is outside the vocabulary 0..{vocab_size - 1}")
        if pad_to_multiple_of is not None and pad_to_multiple_of < 1:
            raise ValueError(f"pad_to_multiple_of must be a positive integer or None, got {pad_to_multiple_of}")
        self.vocab_size, self.pad_id, self.mask_token_id = vocab_size, pad_id, mask_token_id
        self.pad_to_multiple_of, self.return_masked_positions = pad_to_multiple_of, return_masked_positions
        if isinstance(generator, torch.Generator):
            self.generator, self.seed = generator, generator.initial_seed()
        else:
            self.generator, self.seed = torch.Generator().manual_seed(int(generator)), int(generator)
        self._worker_seed: int | None = None

    def __call__(self, examples: Sequence[Example]) -> dict[str, Tensor]:
        """Pad and mask a batch.

        Args:
            examples: dicts with ``input_ids`` (list of ints or 1-D tensor) and optional
                ``word_ids`` (-1 or None at special tokens), ``special_tokens_mask`` (1 at
                special tokens) and ``example_id`` (static masking key); or bare id lists.

        Returns:
            ``input_ids`` ``(B, T)`` long (masked), ``attention_mask`` ``(B, T)`` long (1 at
            real tokens), ``labels`` ``(B, T)`` long (-100 except at selected positions), and
            if asked for, ``masked_positions`` ``(N,)`` long (flat indices of those positions).
        """
        if len(examples) == 0:
            raise ValueError("cannot collate an empty list of examples; the batch needs at least one")
        fields = self._read(examples)
        if self.config.static:
            batch = self._mask_statically(
                examples, fields, self._pad(fields, self.pad_to_multiple_of)["attention_mask"]
            )
        else:
            self._reseed_in_worker()
            padded = self._pad(fields, self.pad_to_multiple_of)
            result = self._mask(padded, self.generator)
            batch = {"input_ids": result.input_ids, "attention_mask": padded["attention_mask"], "labels": result.labels}
        if self.return_masked_positions:
            batch["masked_positions"] = masked_positions_of(batch["labels"])
        return batch

    def collate_share(self, examples: Sequence[Example], *, share: int = 0, gather: CountGather = alone) -> BatchShare:
        """Pad and mask one share of a batch: exactly its rows of what ``self(whole batch)`` returns.

        A batch's shares are consecutive runs of its rows (share ``i`` after share ``i - 1``),
        each built by a caller of its own, such as a data-parallel process, whose generator
        starts in the same state. A share pads and masks only its rows, but draws the random
        numbers of the whole batch and keeps those of its rows. What the draws' shapes depend
        on (rows, longest sequence, most words in a row) and the number of random replacements
        before its rows come from ``gather``, which every share calls twice. So every share's
        generator ends where ``self(whole batch)`` would leave it.

        Args:
            examples: this share's examples, as for ``__call__``; at least one.
            share: this share's index, ``0 .. n_shares - 1``.
            gather: exchanges counts with the other shares (``alone`` for a single share).

        Returns:
            This share's rows of the batch, and the whole batch's prediction and token counts.
        """
        if len(examples) == 0:
            raise ValueError("cannot collate an empty share of a batch; give every share at least one example")
        fields = self._read(examples)
        padded = self._pad(fields, None)  # (b, t): this share's rows, to their own longest
        maskable = self._maskable(padded)
        units = self._units(maskable, padded.get("word_ids"))
        most_units = int(units.count.max()) if units is not None else 0
        local = torch.tensor([len(fields), padded["input_ids"].shape[1], most_units])
        layout = _layout(local, share, gather, self.pad_to_multiple_of)
        if self.config.static:
            batch = self._mask_statically(examples, fields, padded["attention_mask"])
            counts = gather(_counts(0, batch["labels"] != IGNORE_INDEX, batch["attention_mask"]))
        else:
            self._reseed_in_worker()
            selected = self._select_share(maskable, units, layout)
            batch, counts = self._replace_share(padded, selected, layout, gather)
        batch = _widen(batch, layout.length, self.pad_id)
        if self.return_masked_positions:
            batch["masked_positions"] = masked_positions_of(batch["labels"])
        return BatchShare(batch, int(counts[:, 1].sum()), int(counts[:, 2].sum()))

    def _read(self, examples: Sequence[Example]) -> list[dict[str, Tensor]]:
        """The fields of every example, their ids checked against the vocabulary."""
        fields = [_fields(example, i) for i, example in enumerate(examples)]
        for field in fields:
            check_token_ids(field["input_ids"], self.vocab_size)
        return fields

    def _mask_statically(
        self, examples: Sequence[Example], fields: list[dict[str, Tensor]], attention_mask: Tensor
    ) -> dict[str, Tensor]:
        """Mask every example alone, with its own seed, and stack them padded like ``attention_mask``."""
        keys = [self._static_key(example, field) for example, field in zip(examples, fields)]
        masked = [self._mask(self._pad([f], 1), derive_seed(self.seed, key)) for f, key in zip(fields, keys)]
        return self._join(masked, attention_mask)

    def _pad(self, fields: list[dict[str, Tensor]], multiple_of: int | None) -> dict[str, Tensor]:
        """Right-pad every field to the longest length, rounded up to ``multiple_of``: ``(B, T)``."""
        lengths = torch.tensor([len(f["input_ids"]) for f in fields])
        length = int(lengths.max())
        if multiple_of:
            length = -(-length // multiple_of) * multiple_of
        ids = pad_sequence([f["input_ids"] for f in fields], batch_first=True, padding_value=self.pad_id)
        padded = {"input_ids": pad(ids, (0, length - ids.shape[1]), value=self.pad_id)}
        padded["attention_mask"] = (torch.arange(length)[None, :] < lengths[:, None]).long()  # (B, T)
        for name, fill in (("word_ids", -1), ("special_tokens_mask", 1)):
            present = sum(name in f for f in fields)
            if 0 < present < len(fields):
                raise ValueError(f"{present} of {len(fields)} examples have {name}; give it for all or none")
            if present:
                values = pad_sequence([f[name] for f in fields], batch_first=True, padding_value=fill)
                padded[name] = pad(values, (0, length - values.shape[1]), value=fill)
        return padded

    def _mask(self, padded: dict[str, Tensor], generator: torch.Generator | int) -> MaskedBatch:
        """Select positions with the configured strategy and corrupt them."""
        if isinstance(generator, int):
            generator = torch.Generator().manual_seed(generator)
        maskable = self._maskable(padded)
        selected = select_positions(maskable, self.config, word_ids=padded.get("word_ids"), generator=generator)
        return apply_replacements(
            padded["input_ids"],
            selected,
            mask_token_id=self.mask_token_id,
            replacement_ids=self.replacement_ids,
            replace_probs=self.config.replace_probs,
            generator=generator,
        )

    def _maskable(self, padded: dict[str, Tensor]) -> Tensor:
        """``(B, T)`` bool: real tokens that are not special (by id or by ``special_tokens_mask``)."""
        ids = padded["input_ids"]
        maskable = padded["attention_mask"].bool() & ~torch.isin(ids, torch.tensor(self.special_ids, dtype=ids.dtype))
        if "special_tokens_mask" in padded:
            maskable &= ~padded["special_tokens_mask"].bool()
        return maskable

    def _units(self, maskable: Tensor, word_ids: Tensor | None) -> WordUnits | None:
        """The units that word and span selection draw for, or ``None`` when nothing is drawn per unit."""
        if self.config.static or self.config.strategy == "token":
            return None
        if self.config.strategy == "word" and word_ids is None:
            raise ValueError("strategy 'word' needs word_ids; encode them with the tokenizer or use 'token'")
        return word_units(maskable, word_ids)

    def _select_share(self, maskable: Tensor, units: WordUnits | None, layout: _ShareLayout) -> Tensor:
        """This share's rows of ``select_positions`` on the whole batch: the same draws, its rows kept."""
        config, generator = self.config, self.generator
        if units is None:  # token: one draw per position, as select_tokens
            draws = torch.rand((layout.n_rows, layout.length), generator=generator)[layout.rows, : maskable.shape[1]]
            return maskable & (draws < config.mask_prob)
        if config.strategy == "word":  # one draw per unit, as select_whole_words
            chosen = torch.rand((layout.n_rows, layout.n_units), generator=generator)[layout.rows] < config.mask_prob
        else:
            chosen = _covered_units(config, layout, generator)
        return maskable & chosen.gather(1, units.index.clamp(min=0))

    def _replace_share(
        self, padded: dict[str, Tensor], selected: Tensor, layout: _ShareLayout, gather: CountGather
    ) -> tuple[dict[str, Tensor], Tensor]:
        """Corrupt this share's rows with the whole batch's draws of ``apply_replacements``.

        Returns:
            The share's batch, and every share's ``(random replacements, selected, tokens)``.
        """
        ids = padded["input_ids"]
        p_mask, p_random, _ = self.config.replace_probs
        draws = torch.rand((layout.n_rows, layout.length), generator=self.generator)[layout.rows, : ids.shape[1]]
        with_mask = selected & (draws < p_mask)
        with_random = selected & (draws >= p_mask) & (draws < p_mask + p_random)
        counts = gather(_counts(int(with_random.sum()), selected, padded["attention_mask"]))  # (S, 3)
        share = layout.share
        before, total = int(counts[:share, 0].sum()), int(counts[:, 0].sum())
        picks = torch.randint(len(self.replacement_ids), (total,), generator=self.generator)  # the whole batch's
        corrupted = ids.clone()  # (b, t)
        corrupted[with_mask] = self.mask_token_id
        corrupted[with_random] = self.replacement_ids[picks[before : before + int(counts[share, 0])]].to(ids.dtype)
        labels = torch.where(selected, ids, torch.full_like(ids, IGNORE_INDEX))  # (b, t)
        return {"input_ids": corrupted, "attention_mask": padded["attention_mask"], "labels": labels}, counts

    def _join(self, masked: list[MaskedBatch], attention_mask: Tensor) -> dict[str, Tensor]:
        """Stack examples masked one by one into a batch padded like ``attention_mask``."""
        length = attention_mask.shape[1]
        rows = [(m.input_ids[0], m.labels[0]) for m in masked]
        input_ids = torch.stack([pad(ids, (0, length - len(ids)), value=self.pad_id) for ids, _ in rows])
        labels = torch.stack([pad(lab, (0, length - len(lab)), value=IGNORE_INDEX) for _, lab in rows])
        return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}

    @staticmethod
    def _static_key(example: Example, field: dict[str, Tensor]) -> object:
        """The key of an example's fixed mask: its ``example_id``, else a hash of its ids."""
        if isinstance(example, Mapping) and example.get("example_id") is not None:
            return int(example["example_id"])
        return hashlib.blake2b(field["input_ids"].numpy().tobytes(), digest_size=16).hexdigest()

    def _reseed_in_worker(self) -> None:
        """In a DataLoader worker, give the copied generator a stream of its own.

        Every worker starts with a copy of the main process's generator, so without this all
        workers, and every epoch, would draw the same masks. The worker's ``seed`` differs per
        worker and per epoch (the DataLoader draws it from its own generator), so mixing it in
        keeps masking dynamic and reproducible.
        """
        info = torch.utils.data.get_worker_info()
        if info is not None and self._worker_seed != info.seed:
            base = int(torch.randint(0, 2**62, (1,), generator=self.generator))
            self.generator = torch.Generator().manual_seed(derive_seed(base, "worker", info.seed))
            self._worker_seed = info.seed


@dataclass(frozen=True)
class _ShareLayout:
    """Where a share's rows lie in the whole batch, and the shapes of the whole batch's draws."""

    share: int
    rows: slice
    n_rows: int
    length: int
    n_units: int


def _layout(local: Tensor, share: int, gather: CountGather, multiple_of: int | None) -> _ShareLayout:
    """Exchange ``(rows, longest, most units)`` with the other shares; this share's place in the batch."""
    counts = gather(local)  # (S, 3)
    if not 0 <= share < len(counts) or not torch.equal(counts[share], local):
        raise ValueError(
            f"share {share} is not where the gather put it among {len(counts)} shares; "
            "pass each share its own index and a gather that keeps the order of the shares"
        )
    start, length = int(counts[:share, 0].sum()), int(counts[:, 1].max())
    if multiple_of:
        length = -(-length // multiple_of) * multiple_of
    rows = slice(start, start + int(local[0]))
    return _ShareLayout(share, rows, int(counts[:, 0].sum()), length, max(int(counts[:, 2].max()), 1))


def _covered_units(config: MaskingConfig, layout: _ShareLayout, generator: torch.Generator) -> Tensor:
    """This share's rows of the units ``select_spans`` covers in the whole batch: ``(b, U)`` bool."""
    max_span, n_units = config.max_span, layout.n_units
    width = n_units + max_span - 1  # virtual starts before unit 0, as in select_spans
    rate = span_start_prob(float(config.mask_prob), float(config.span_p), int(max_span))
    starts = (torch.rand((layout.n_rows, width), generator=generator) < rate)[layout.rows]  # (b, U + L - 1)
    cdf = torch.cumsum(span_length_probs(config.span_p, max_span), 0).float()
    draws = torch.rand((layout.n_rows, width), generator=generator)[layout.rows]  # (b, U + L - 1)
    lengths = torch.searchsorted(cdf, draws, right=True).clamp(max=max_span - 1) + 1
    covered = torch.zeros((starts.shape[0], n_units), dtype=torch.bool)  # (b, U)
    for reach in range(max_span):
        offset = max_span - 1 - reach
        covered |= (starts & (lengths > reach))[:, offset : offset + n_units]
    return covered


def _counts(n_random: int, selected: Tensor, attention_mask: Tensor) -> Tensor:
    """``(3,)`` long: a share's random replacements, selected positions and real tokens."""
    return torch.tensor([n_random, int(selected.sum()), int(attention_mask.sum())])


def _widen(batch: dict[str, Tensor], length: int, pad_id: int) -> dict[str, Tensor]:
    """Right-pad a batch's ``(b, t)`` tensors to ``(b, length)``."""
    fills = {"input_ids": pad_id, "attention_mask": 0, "labels": IGNORE_INDEX}
    return {key: pad(value, (0, length - value.shape[1]), value=fills[key]) for key, value in batch.items()}
