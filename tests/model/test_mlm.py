"""Tests of mlm_book.model.mlm: sparse vs dense head, masking, padding, attentions, init, helpers."""

import dataclasses

import pytest
import torch
import torch.nn.functional as F

from mlm_book.model.config import ModelConfig
from mlm_book.model.mlm import TIED_WEIGHTS, MLMModel, check_inputs, count_parameters, flops_per_token
from mlm_book.model.positions import sinusoidal_positions
from mlm_book.utils.special_tokens import IGNORE_INDEX, MASK_ID, PAD_ID

torch.set_num_threads(1)
CONFIG = ModelConfig(vocab_size=99, d_model=32, n_heads=4, n_layers=2, d_ff=37, max_len=29, dropout=0.1)
ATOL = 1e-5


def make_model(config=CONFIG, seed=0):
    return MLMModel(config, generator=torch.Generator().manual_seed(seed)).eval()


def batch(batch_size=3, length=13, seed=0, rate=0.3):
    """Random ids with about ``rate`` of the positions masked and labelled."""
    g = torch.Generator().manual_seed(seed)
    original = torch.randint(5, 99, (batch_size, length), generator=g)
    chosen = torch.rand(batch_size, length, generator=g) < rate
    chosen[0, 1] = True  # at least one labelled position
    input_ids = original.masked_fill(chosen, MASK_ID)
    labels = original.masked_fill(~chosen, IGNORE_INDEX)
    return input_ids, labels


def test_sparse_and_dense_heads_give_the_same_loss_and_logits():
    model = make_model()
    input_ids, labels = batch()
    sparse = model(input_ids, labels=labels)
    dense = model(input_ids, labels=labels, dense_head=True)
    n_masked = int((labels != IGNORE_INDEX).sum())
    assert sparse.logits.shape == (n_masked, 99)
    assert dense.logits.shape == (3, 13, 99)
    torch.testing.assert_close(sparse.loss, dense.loss, atol=ATOL, rtol=0)
    torch.testing.assert_close(sparse.logits, dense.logits[labels != IGNORE_INDEX], atol=ATOL, rtol=0)


def test_sparse_and_dense_heads_give_the_same_gradients():
    model = make_model(dataclasses.replace(CONFIG, dropout=0.0))
    input_ids, labels = batch()
    model(input_ids, labels=labels).loss.backward()
    sparse = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    model(input_ids, labels=labels, dense_head=True).loss.backward()
    for a, p in zip(sparse, model.parameters()):
        torch.testing.assert_close(a, p.grad, atol=1e-6, rtol=1e-4)


def test_loss_is_the_mean_cross_entropy_over_masked_positions_only():
    model = make_model()
    input_ids, labels = batch()
    out = model(input_ids, labels=labels)
    logits = model(input_ids).logits  # (B, T, V), no labels: dense
    chosen = labels != IGNORE_INDEX
    expected = F.cross_entropy(logits[chosen], labels[chosen])
    torch.testing.assert_close(out.loss, expected, atol=ATOL, rtol=0)
    assert out.loss.item() == pytest.approx(torch.log(torch.tensor(99.0)).item(), abs=0.5)  # near-uniform at init


def test_loss_with_no_labelled_position_is_nan_like_pytorch():
    model = make_model()
    input_ids, _ = batch()
    nothing = torch.full_like(input_ids, IGNORE_INDEX)
    assert torch.isnan(model(input_ids, labels=nothing).loss)
    assert model(input_ids, labels=nothing).logits.shape == (0, 99)


def test_padding_does_not_change_the_real_positions():
    model = make_model()
    input_ids, _ = batch(batch_size=1, length=9)
    padded = torch.cat([input_ids, torch.full((1, 6), PAD_ID)], dim=1)
    mask = torch.cat([torch.ones(1, 9), torch.zeros(1, 6)], dim=1).long()
    alone = model(input_ids).logits
    torch.testing.assert_close(model(padded, mask).logits[:, :9], alone, atol=ATOL, rtol=0)
    torch.testing.assert_close(model(padded, mask, output_attentions=True).logits[:, :9], alone, atol=ATOL, rtol=0)


def test_an_all_ones_mask_is_the_same_as_no_mask():
    model = make_model()
    input_ids, _ = batch()
    torch.testing.assert_close(model(input_ids, torch.ones_like(input_ids)).logits, model(input_ids).logits)


def test_attentions_come_in_bertviz_layout_and_do_not_change_the_result():
    model = make_model()
    input_ids, labels = batch(batch_size=2, length=8)
    mask = torch.ones(2, 8, dtype=torch.bool)
    mask[1, 5:] = False
    plain = model(input_ids, mask, labels)
    out = model(input_ids, mask, labels, output_attentions=True)
    assert plain.attentions is None
    assert isinstance(out.attentions, tuple) and len(out.attentions) == 2
    assert all(a.shape == (2, 4, 8, 8) for a in out.attentions)
    for weights in out.attentions:
        torch.testing.assert_close(weights.sum(-1), torch.ones(2, 4, 8))
        assert torch.all(weights[1, :, :, 5:] == 0)
    torch.testing.assert_close(out.loss, plain.loss, atol=ATOL, rtol=0)


def test_hidden_states_are_the_final_token_vectors():
    model = make_model()
    input_ids, _ = batch()
    out = model(input_ids)
    assert out.hidden_states.shape == (3, 13, 32)
    torch.testing.assert_close(model.head(out.hidden_states), out.logits)
    torch.testing.assert_close(model.encode(input_ids).hidden_states, out.hidden_states)


def test_pre_ln_model_normalises_at_the_end_and_trains():
    model = make_model(dataclasses.replace(CONFIG, norm="pre")).train()
    assert model.final_norm is not None and make_model().final_norm is None
    input_ids, labels = batch()
    model(input_ids, labels=labels).loss.backward()
    assert all(p.grad is not None for p in model.parameters())


def test_segments_are_optional_inputs():
    model = make_model(dataclasses.replace(CONFIG, n_segments=2))
    input_ids, _ = batch()
    segments = torch.zeros_like(input_ids)
    segments[:, 7:] = 1
    assert not torch.allclose(model(input_ids, segment_ids=segments).logits, model(input_ids).logits)
    zeros = torch.zeros_like(input_ids)
    torch.testing.assert_close(model(input_ids, segment_ids=zeros).logits, model(input_ids).logits)


def test_forward_does_not_change_its_inputs():
    model = make_model()
    input_ids, labels = batch()
    copies = input_ids.clone(), labels.clone()
    model(input_ids, torch.ones_like(input_ids), labels)
    assert torch.equal(input_ids, copies[0]) and torch.equal(labels, copies[1])


def test_dropout_is_active_only_in_training_mode():
    model = make_model()
    input_ids, _ = batch()
    torch.testing.assert_close(model(input_ids).logits, model(input_ids).logits)
    model.train()
    assert not torch.allclose(model(input_ids).logits, model(input_ids).logits)


def test_weights_are_tied_and_counted_once():
    model = make_model()
    assert model.head.decoder.weight is model.embeddings.token.weight
    state = model.state_dict()
    for tied, source in TIED_WEIGHTS.items():
        assert state[tied].data_ptr() == state[source].data_ptr()
    d, v, f, t = 32, 99, 37, 29
    per_layer = (3 * d * d + 3 * d) + (d * d + d) + (d * f + f) + (f * d + d) + 4 * d
    expected = v * d + t * d + 2 * d + 2 * per_layer + (d * d + d) + 2 * d + v
    assert count_parameters(model) == expected
    assert sum(p.numel() for p in state.values()) == expected + v * d  # the state dict lists it twice
    model.embeddings.position.weight.requires_grad_(False)
    assert count_parameters(model, trainable_only=True) == expected - t * d


def test_an_untied_decoder_has_its_own_matrix_and_no_transform_scores_the_final_vectors():
    d, v = 32, 99
    untied = make_model(dataclasses.replace(CONFIG, tie_decoder=False))
    assert untied.head.decoder.weight is not untied.embeddings.token.weight
    assert count_parameters(untied) == count_parameters(make_model()) + v * d
    assert untied.head.decoder.weight.std().item() == pytest.approx(CONFIG.init_std, rel=0.1)  # initialised too
    tied_state = make_model().state_dict()  # the tied model's draws are not shifted by the option
    assert all(torch.equal(tied_state[k], t) for k, t in untied.state_dict().items() if k != "head.decoder.weight")

    bare = make_model(dataclasses.replace(CONFIG, head_transform=False))
    assert bare.head.dense is None and bare.head.norm is None
    assert count_parameters(bare) == count_parameters(make_model()) - (d * d + d) - 2 * d
    input_ids, _ = batch()
    hidden = bare.encode(input_ids).hidden_states  # (B, T, d)
    expected = hidden @ bare.embeddings.token.weight.T + bare.head.decoder.bias  # (B, T, V)
    torch.testing.assert_close(bare(input_ids).logits, expected)
    config = dataclasses.replace(CONFIG, head_transform=False)
    assert flops_per_token(CONFIG) - flops_per_token(config) == 2 * d * d
    assert make_model(dataclasses.replace(config, bias=False)).head.dense is None  # bias=False needs no transform


def test_initialisation_is_bert_like_and_reproducible():
    config = dataclasses.replace(CONFIG, vocab_size=2000, d_model=64, d_ff=64)
    model = make_model(config)
    weight = model.embeddings.token.weight
    assert torch.all(weight[PAD_ID] == 0)
    assert weight[1:].std().item() == pytest.approx(0.02, rel=0.02)  # 127,936 draws: sd error ~0.2%
    assert weight[1:].mean().abs().item() < 0.001
    assert torch.all(model.layers[0].attention.qkv.bias == 0) and torch.all(model.head.decoder.bias == 0)
    assert torch.all(model.layers[1].attention_norm.weight == 1)
    torch.testing.assert_close(make_model(config).state_dict(), model.state_dict(), rtol=0, atol=0)
    assert not torch.equal(make_model(config, seed=1).embeddings.token.weight, weight)


def test_sinusoidal_position_init_changes_only_the_position_embeddings():
    normal = MLMModel(CONFIG, generator=torch.Generator().manual_seed(4))
    config = dataclasses.replace(CONFIG, position_init="sinusoidal")
    sinusoidal = MLMModel(config, generator=torch.Generator().manual_seed(4))
    expected = config.init_std * sinusoidal_positions(config.max_len, config.d_model)
    torch.testing.assert_close(sinusoidal.embeddings.position.weight, expected, atol=0, rtol=0)
    assert sinusoidal.embeddings.position.weight.requires_grad
    for (name, a), (_, b) in zip(normal.state_dict().items(), sinusoidal.state_dict().items()):
        if name != "embeddings.position.weight":
            torch.testing.assert_close(a, b, atol=0, rtol=0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: m(torch.arange(5, 9)), r"input_ids must be a \(batch, length\) integer tensor, got shape \(4,\)"),
        (lambda m: m(torch.ones(1, 4)), r"dtype torch.float32; add a batch dimension"),
        (lambda m: m(torch.ones(1, 30, dtype=torch.long)), r"sequence length 30 must be between 1 and max_len=29"),
        (lambda m: m(torch.ones(1, 0, dtype=torch.long)), r"sequence length 0 must be between 1 and max_len=29"),
        (
            lambda m: check_inputs(m.config, torch.tensor([[5, 99]])),
            r"input_ids range over \[5, 99\] but vocab_size=99",
        ),
        (lambda m: check_inputs(m.config, torch.tensor([[-1, 9]])), r"input_ids range over \[-1, 9\]"),
        (lambda m: check_inputs(m.config, torch.ones(1, 30, dtype=torch.long)), r"sequence length 30 must be between"),
        (lambda m: m(torch.ones(2, 4, dtype=torch.long), torch.ones(2, 5)), r"attention_mask has shape \(2, 5\)"),
        (lambda m: m(torch.ones(2, 4, dtype=torch.long), labels=torch.ones(4)), r"labels have shape \(4,\)"),
        (
            lambda m: check_inputs(
                m.config, torch.ones(2, 4, dtype=torch.long), torch.tensor([[1, 1, 0, 0], [0, 0, 0, 0]])
            ),
            "a row of zeros",
        ),
        (
            lambda m: m(
                torch.ones(2, 4, dtype=torch.long),
                labels=torch.ones(2, 4, dtype=torch.long),
                masked_positions=torch.zeros(1, 2, dtype=torch.long),
            ),
            "masked_positions must be a 1-D tensor",
        ),
        (
            lambda m: m(torch.ones(2, 4, dtype=torch.long), segment_ids=torch.zeros(2, 3, dtype=torch.long)),
            r"segment_ids has shape \(2, 3\); it must match input_ids \(2, 4\)",
        ),
    ],
)
def test_bad_inputs_are_rejected_with_a_message(call, message):
    with pytest.raises(ValueError, match=message):
        call(make_model())


def test_flops_per_token_follows_the_documented_formula():
    d, f, v, t, layers = 32, 37, 99, 29, 2
    per_layer = 2 * (4 * d * d + 2 * d * f) + 4 * t * d
    head = 2 * d * d + 2 * d * v
    assert flops_per_token(CONFIG) == layers * per_layer + head
    assert flops_per_token(CONFIG, seq_len=10, predicted_fraction=0.15) == round(
        layers * (per_layer - 4 * 19 * d) + 0.15 * head
    )
    wide = ModelConfig(vocab_size=8192)  # 4 x 256: a dense head is a large share of the cost
    assert flops_per_token(wide, predicted_fraction=0.0) / flops_per_token(wide) == pytest.approx(0.6, abs=0.03)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"seq_len": 30}, r"seq_len=30 must be between 1 and max_len=29"),
        ({"seq_len": 0}, r"seq_len=0 must be between 1"),
        ({"predicted_fraction": 1.5}, r"predicted_fraction=1.5 must be in \[0, 1\]"),
    ],
)
def test_flops_per_token_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        flops_per_token(CONFIG, **kwargs)


def test_flops_per_token_counts_three_feed_forward_matrices_for_geglu():
    geglu = dataclasses.replace(CONFIG, feed_forward="geglu")
    assert flops_per_token(geglu) - flops_per_token(CONFIG) == CONFIG.n_layers * 2 * 32 * 37


MODERN = dataclasses.replace(
    CONFIG, norm="pre", embedding_norm=True, positions="rope", feed_forward="geglu", bias=False, layer_norm_eps=1e-5
)
BLOCKS = {
    "bert": CONFIG,
    "modern": MODERN,
    "pre-ln": dataclasses.replace(CONFIG, norm="pre"),
    "sinusoidal": dataclasses.replace(CONFIG, positions="sinusoidal"),
    "odd-one-head-one-layer": dataclasses.replace(MODERN, d_model=30, n_heads=1, n_layers=1, d_ff=41),
    "odd-bert": dataclasses.replace(CONFIG, d_model=30, n_heads=1, n_layers=1, d_ff=41),
}


@pytest.mark.parametrize("config", BLOCKS.values(), ids=BLOCKS.keys())
def test_every_block_ignores_padding_and_trains(config):
    model = make_model(config)
    input_ids, labels = batch(batch_size=1, length=9)
    padded = torch.cat([input_ids, torch.full((1, 6), PAD_ID)], dim=1)
    mask = torch.cat([torch.ones(1, 9), torch.zeros(1, 6)], dim=1).long()
    alone = model(input_ids).logits
    assert alone.shape == (1, 9, 99)
    torch.testing.assert_close(model(padded, mask).logits[:, :9], alone, atol=ATOL, rtol=0)
    torch.testing.assert_close(model(padded, mask, output_attentions=True).logits[:, :9], alone, atol=ATOL, rtol=0)
    model.train()(input_ids, labels=labels).loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_without_positions_the_encoder_is_permutation_equivariant():
    permutation = torch.randperm(13, generator=torch.Generator().manual_seed(3))
    input_ids, _ = batch()
    for positions in ("none", "learned", "rope", "sinusoidal"):
        model = make_model(dataclasses.replace(MODERN, positions=positions))
        hidden = model.encode(input_ids).hidden_states  # (B, T, D)
        shuffled = model.encode(input_ids[:, permutation]).hidden_states
        equivariant = torch.allclose(shuffled, hidden[:, permutation], atol=ATOL)
        assert equivariant == (positions == "none"), positions


def test_the_modern_model_has_modernberts_parts():
    model = make_model(MODERN)
    assert model.embeddings.position is None and model.embeddings.norm is not None
    assert isinstance(model.layers[0].attention_norm, torch.nn.Identity)
    assert isinstance(model.layers[1].attention_norm, torch.nn.LayerNorm) and model.final_norm is not None
    biases = sorted(name for name, _ in model.named_parameters() if "bias" in name)
    assert biases == ["head.decoder.bias"]


def test_modern_preset_has_about_the_parameters_of_tiny():
    tiny, modern = MLMModel(ModelConfig.tiny()), MLMModel(ModelConfig.modern())
    assert (
        abs(count_parameters(modern) / count_parameters(tiny) - 1) < 0.03
    )  # no position table and no biases: 2% fewer at these sizes
    assert count_parameters(modern) < count_parameters(tiny)  # no position table, no biases


def test_a_pre_ln_model_saved_before_embedding_norm_keeps_its_parameter_names():
    old_names = {"embeddings.token.weight", "embeddings.position.weight", "final_norm.weight", "final_norm.bias"}
    names = set(make_model(dataclasses.replace(CONFIG, norm="pre")).state_dict())
    assert old_names <= names and not any(name.startswith("embeddings.norm") for name in names)
