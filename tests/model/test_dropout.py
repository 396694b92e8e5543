"""Tests of mlm_book.model.dropout: the 16-bit-lane mask's rate, scale, independence and randomness."""

import pytest
import torch

from mlm_book.model.dropout import LANES, Dropout, dropout, dropout_mask

torch.set_num_threads(1)


def test_mask_holds_zero_or_the_exact_inverse_keep_rate():
    mask = dropout_mask((3, 5, 7), 0.1, generator=torch.Generator().manual_seed(0))  # 105 entries: not a multiple of 4
    dropped = round(0.1 * LANES)
    assert dropped == 6554
    assert mask.shape == (3, 5, 7) and mask.dtype == torch.float32
    kept = torch.tensor(LANES / (LANES - dropped), dtype=torch.float32).item()  # 1.1111187, not 1/0.9
    assert set(mask.unique().tolist()) <= {0.0, kept}


@pytest.mark.parametrize("p", [0.1, 0.5, 0.03])
def test_drop_rate_and_mean_match_the_rounded_rate(p):
    n = 1_000_000
    mask = dropout_mask((n,), p, generator=torch.Generator().manual_seed(1))
    rate = round(p * LANES) / LANES
    tolerance = 5 * (rate * (1 - rate) / n) ** 0.5  # 5 standard deviations
    assert abs(float((mask == 0).float().mean()) - rate) < tolerance
    assert abs(float(mask.double().mean()) - 1.0) < tolerance / (1 - rate)


def test_the_four_lanes_of_a_random_word_are_independent():
    p = 0.3
    mask = dropout_mask((250_000, 4), p, generator=torch.Generator().manual_seed(2)) == 0  # a row = one 64-bit word
    rate = round(p * LANES) / LANES
    for a, b in [(0, 1), (1, 2), (2, 3), (0, 3)]:
        both = float((mask[:, a] & mask[:, b]).float().mean())
        assert abs(both - rate**2) < 5 * (rate**2 * (1 - rate**2) / 250_000) ** 0.5


def test_a_generator_makes_the_mask_reproducible_and_the_global_one_is_used_otherwise():
    first = dropout_mask((64, 9), 0.2, generator=torch.Generator().manual_seed(3))
    again = dropout_mask((64, 9), 0.2, generator=torch.Generator().manual_seed(3))
    other = dropout_mask((64, 9), 0.2, generator=torch.Generator().manual_seed(4))
    assert torch.equal(first, again) and not torch.equal(first, other)
    torch.manual_seed(5)
    global_first = dropout_mask((64, 9), 0.2)
    torch.manual_seed(5)
    assert torch.equal(dropout_mask((64, 9), 0.2), global_first)  # what resuming a run relies on


def test_rates_zero_and_one():
    assert torch.equal(dropout_mask((4, 4), 0.0), torch.ones(4, 4))
    assert torch.equal(dropout_mask((4, 4), 1.0), torch.zeros(4, 4))


def test_dropout_multiplies_by_the_mask_and_its_gradient_is_the_mask():
    x = torch.randn(6, 11, generator=torch.Generator().manual_seed(6), requires_grad=True)
    torch.manual_seed(7)
    out = dropout(x, 0.25)
    torch.manual_seed(7)
    mask = dropout_mask((6, 11), 0.25)
    torch.testing.assert_close(out, x.detach() * mask, atol=0, rtol=0)
    out.sum().backward()
    torch.testing.assert_close(x.grad, mask, atol=0, rtol=0)


def test_dropout_is_the_identity_in_evaluation_or_at_rate_zero():
    x = torch.randn(3, 4)
    assert dropout(x, 0.5, training=False) is x
    assert dropout(x, 0.0) is x
    module = Dropout(0.5).eval()
    assert module(x) is x
    assert not torch.equal(module.train()(x), x)
    assert repr(module) == "Dropout(p=0.5)"


def test_the_mask_follows_the_input_dtype():
    x = torch.ones(8, 8, dtype=torch.float64)
    assert dropout(x, 0.5).dtype == torch.float64


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_bad_rates_are_refused(p):
    with pytest.raises(ValueError, match=r"dropout probability must be in \[0, 1\]"):
        dropout_mask((2,), p)
    with pytest.raises(ValueError, match=r"dropout probability must be in \[0, 1\]"):
        Dropout(p)
