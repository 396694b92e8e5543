"""Tests of mlm_book.viz: heatmaps and the bertviz adapter."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from mlm_book.model.config import ModelConfig
from mlm_book.model.mlm import MLMModel
from mlm_book.viz import head_view, model_view, plot_attention, plot_attention_heads

TOKENS = ["[CLS]", "the", "cat", "[MASK]", "on", "the", "mat", "[SEP]"]


@pytest.fixture(scope="module")
def attentions():
    config = ModelConfig(vocab_size=99, d_model=32, n_heads=4, n_layers=2, d_ff=37, max_len=29)
    model = MLMModel(config, generator=torch.Generator().manual_seed(0)).eval()
    input_ids = torch.randint(5, 99, (2, 10), generator=torch.Generator().manual_seed(1))
    mask = torch.ones(2, 10, dtype=torch.bool)
    mask[0, 8:] = False  # the first example has 8 real tokens
    with torch.no_grad():
        return model(input_ids, mask, output_attentions=True).attentions


def test_plot_attention_draws_the_matrix_with_token_labels(attentions):
    weights = attentions[0][0, 1, :8, :8]
    ax = plot_attention(weights, TOKENS, title="layer 0, head 1")
    np.testing.assert_allclose(ax.images[0].get_array(), weights.numpy())
    assert [t.get_text() for t in ax.get_xticklabels()] == TOKENS
    assert [t.get_text() for t in ax.get_yticklabels()] == TOKENS
    assert ax.get_title() == "layer 0, head 1"
    _, given = plt.subplots()
    assert plot_attention(weights.numpy(), TOKENS, given) is given
    plt.close("all")


def test_plot_attention_heads_draws_a_grid_of_heads(attentions):
    fig = plot_attention_heads(attentions[1][0, :, :8, :8], TOKENS, ncols=3, title="layer 1")
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(fig.axes) == 6 and len(visible) == 4  # 2 rows of 3, two left empty
    assert [ax.get_title() for ax in visible] == ["head 0", "head 1", "head 2", "head 3"]
    assert fig._suptitle.get_text() == "layer 1"
    plt.close(fig)


@pytest.mark.parametrize("view", [head_view, model_view])
def test_bertviz_views_return_html_for_one_example(attentions, view):
    html = view(attentions, TOKENS).data
    assert "bertviz-" in html and '"[MASK]"' in html
    other = view(attentions, [f"t{i}" for i in range(10)], example=1).data
    assert '"t9"' in other


def test_bertviz_input_is_cut_to_the_tokens(attentions):
    from mlm_book.viz import _for_bertviz

    cut = _for_bertviz(attentions, TOKENS, 0)
    assert len(cut) == 2 and all(a.shape == (1, 4, 8, 8) for a in cut)
    torch.testing.assert_close(cut[0].sum(-1), torch.ones(1, 4, 8))  # padding had weight 0
    second = _for_bertviz(attentions, [f"t{i}" for i in range(10)], 1)
    assert all(torch.equal(mine, layer[1:2]) for mine, layer in zip(second, attentions))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda a: plot_attention(a[0][0, 0], TOKENS), r"weights have shape \(10, 10\) but there are 8 tokens"),
        (lambda a: plot_attention_heads(a[0][0, 0], TOKENS), r"weights have shape \(10, 10\); pass one layer's"),
        (lambda a: plot_attention_heads(a[0][0], TOKENS, ncols=0), r"ncols=0 must be at least 1"),
        (lambda a: head_view((), TOKENS), r"attentions must be a non-empty tuple of \(batch, heads, T, T\)"),
        (lambda a: head_view(tuple(x[0] for x in a), TOKENS), r"attentions must be a non-empty tuple"),
        (lambda a: model_view(a, TOKENS, example=2), r"example=2 is not in the batch of 2; choose 0 to 1"),
        (lambda a: head_view(a, TOKENS * 2), r"there are 16 tokens but the attentions cover 10 positions"),
    ],
)
def test_bad_inputs_are_rejected_with_a_message(attentions, call, message):
    with pytest.raises(ValueError, match=message):
        call(attentions)
    plt.close("all")


@pytest.mark.parametrize("view", [head_view, model_view])
def test_bertviz_views_draw_one_element_with_the_tokens(attentions, view):
    # Moved here from the self-attention chapter, whose cells should not check HTML ids.
    html = view(attentions, TOKENS).data
    assert html.count('id="bertviz-') == 1
    assert all(f'"{token}"' in html for token in TOKENS)
