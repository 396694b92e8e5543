"""Tests of mlm_book.model.head: the formula and the weight tying."""

import torch
import torch.nn.functional as F
from torch import nn

from mlm_book.model.config import ModelConfig
from mlm_book.model.head import MLMHead

CONFIG = ModelConfig(vocab_size=99, d_model=32, n_heads=4, n_layers=1, d_ff=37, max_len=29)


def make_head():
    torch.manual_seed(0)
    embedding = nn.Embedding(99, 32)
    return MLMHead(CONFIG, embedding), embedding


def test_decoder_weight_is_the_embedding_tensor():
    head, embedding = make_head()
    assert head.decoder.weight is embedding.weight
    assert head.decoder.weight.data_ptr() == embedding.weight.data_ptr()
    assert head.decoder.bias.shape == (99,)


def test_head_computes_dense_gelu_layernorm_then_tied_decoder():
    head, embedding = make_head()
    with torch.no_grad():
        head.decoder.bias.uniform_(-1, 1)
    hidden = torch.randn(5, 32)
    transformed = F.layer_norm(F.gelu(hidden @ head.dense.weight.T + head.dense.bias), (32,), eps=1e-12)
    expected = transformed @ embedding.weight.T + head.decoder.bias  # LayerNorm starts as 1 and 0
    torch.testing.assert_close(head(hidden), expected, atol=1e-5, rtol=0)
    assert head(torch.randn(2, 3, 32)).shape == (2, 3, 99)


def test_tied_weight_gets_gradient_from_both_uses():
    head, embedding = make_head()
    token_ids = torch.tensor([7])
    head(embedding(token_ids)).sum().backward()
    gradient = embedding.weight.grad
    assert torch.count_nonzero(gradient.abs().sum(1)) == 99  # every row is scored by the decoder
    head.zero_grad()
    embedding.zero_grad()
    head(torch.randn(1, 32)).sum().backward()  # decoder only: still reaches the embedding
    assert embedding.weight.grad is not None and embedding.weight.grad.abs().sum() > 0
