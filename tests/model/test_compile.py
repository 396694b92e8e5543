"""The training forward pass compiles into one graph: no host sync, no graph break."""

import dataclasses

import pytest
import torch

from mlm_book.masking.corruption import masked_positions_of
from mlm_book.model.config import ModelConfig
from mlm_book.model.mlm import MLMModel

CONFIG = ModelConfig(vocab_size=99, d_model=32, n_heads=2, n_layers=2, d_ff=37, max_len=29, dropout=0.0)
MODERN = dataclasses.replace(
    CONFIG, norm="pre", embedding_norm=True, positions="rope", feed_forward="geglu", bias=False, layer_norm_eps=1e-5
)
BLOCKS = pytest.mark.parametrize("config", [CONFIG, MODERN], ids=["bert", "modern"])


def _batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(5, 99, (3, 17), generator=generator)
    labels = torch.full_like(ids, -100)
    labels[:, 1::4] = ids[:, 1::4]
    mask = torch.ones_like(ids)
    mask[1, 12:] = 0  # one padded row
    return ids, mask, labels, masked_positions_of(labels)


@BLOCKS
def test_training_forward_and_loss_compile_fullgraph_and_match_eager(config: ModelConfig) -> None:
    model = MLMModel(config, generator=torch.Generator().manual_seed(1)).train()
    ids, mask, labels, positions = _batch()

    def forward(ids, mask, labels, positions):  # type: ignore[no-untyped-def]
        out = model(ids, mask, labels, masked_positions=positions)
        return out.loss, out.logits

    torch._dynamo.reset()
    compiled_loss, compiled_logits = torch.compile(forward, fullgraph=True)(ids, mask, labels, positions)
    eager_loss, eager_logits = forward(ids, mask, labels, positions)
    assert compiled_logits.shape == (len(positions), CONFIG.vocab_size)
    torch.testing.assert_close(compiled_loss, eager_loss, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(compiled_logits, eager_logits, atol=1e-5, rtol=1e-5)


@BLOCKS
def test_training_forward_with_dropout_is_one_graph(config: ModelConfig) -> None:
    model = MLMModel(dataclasses.replace(config, dropout=0.1)).train()
    ids, mask, labels, positions = _batch()
    torch._dynamo.reset()
    explained = torch._dynamo.explain(lambda *a: model(a[0], a[1], a[2], masked_positions=a[3]).loss)(
        ids, mask, labels, positions
    )
    assert explained.graph_count == 1 and explained.graph_break_count == 0, explained.break_reasons
