"""The package's own model under ``transformers.Trainer``, without exporting it first.

``Trainer`` calls ``model(**batch)`` and reads the loss as ``outputs[0]`` (``MLMOutput`` reads
like a ``ModelOutput``), and the package's ``MaskingCollator`` gives it the batches it needs
(``input_ids``, ``attention_mask``, ``labels``). One thing stands in the way: ``Trainer``
*writes* ``model.config.use_cache``, and the package's configs are frozen. :class:`TrainerModel`
wraps the model so that ``Trainer`` finds no config to write; the weights stay the model's own
(``wrapped.mlm is model``), so after ``trainer.train()`` the original model is trained.

    trainer = Trainer(model=TrainerModel(model), args=args, train_dataset=rows,
                      data_collator=MaskingCollator(MaskingConfig(), vocab_size=V, generator=g))

With labels, the logits are the sparse ``(N_masked, V)`` of ``MLMModel.forward``; metrics that
expect ``(B, T, V)`` need ``dense_head=True``.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from mlm_book.model.mlm import MLMModel, MLMOutput
from mlm_book.utils.special_tokens import IGNORE_INDEX


class TrainerModel(nn.Module):
    """An ``MLMModel`` as ``transformers.Trainer`` wants it.

    Args:
        model: the model to train; it is wrapped, not copied.
    """

    def __init__(self, model: MLMModel) -> None:
        super().__init__()
        if not isinstance(model, MLMModel):
            raise ValueError(f"TrainerModel wraps an MLMModel, got {type(model).__name__}")
        self.mlm = model

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        num_items_in_batch: torch.Tensor | int | None = None,
        **kwargs: object,
    ) -> MLMOutput:
        """``MLMModel.forward`` with the same arguments.

        ``Trainer`` passes ``num_items_in_batch``, the labelled tokens of the whole accumulated
        step; the loss is then this micro-batch's sum over that count, so that accumulated
        micro-batches add up to the step's mean (without it, the micro-batch's own mean).
        """
        out = self.mlm(input_ids, attention_mask, labels, **kwargs)
        if labels is None or num_items_in_batch is None or out.loss is None:
            return out
        n = (labels != IGNORE_INDEX).sum()
        return dataclasses.replace(out, loss=out.loss * n / num_items_in_batch)
