"""Tests of mlm_book.model.checkpoint: the model directory round trip and its error messages."""

import dataclasses
import json

import pytest
import torch
from safetensors.torch import load_file

from mlm_book.model.checkpoint import (
    CONFIG_FILE,
    TOKENIZER_FILE,
    WEIGHTS_FILE,
    check_finite_weights,
    load_model,
    read_config,
    save_model,
)
from mlm_book.model.config import ModelConfig
from mlm_book.model.mlm import MLMModel

torch.set_num_threads(1)
CONFIG = ModelConfig(vocab_size=99, d_model=32, n_heads=4, n_layers=2, d_ff=37, max_len=29)


def make_model(config=CONFIG, seed=0):
    return MLMModel(config, generator=torch.Generator().manual_seed(seed)).eval()


def sample_ids():
    return torch.randint(0, 99, (3, 11), generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize(
    "config",
    [
        CONFIG,
        dataclasses.replace(CONFIG, norm="pre"),
        dataclasses.replace(CONFIG, n_segments=2, dropout=0.0),
        dataclasses.replace(
            ModelConfig.modern(), vocab_size=99, d_model=32, n_heads=4, n_layers=2, d_ff=37, max_len=29
        ),
        dataclasses.replace(CONFIG, positions="sinusoidal"),
        dataclasses.replace(CONFIG, tie_decoder=False, head_transform=False),
    ],
    ids=["bert", "pre-ln", "segments", "modern", "sinusoidal", "untied-no-transform"],
)
def test_round_trip_keeps_config_weights_and_logits(tiny_tokenizer, tmp_path, config):
    model = make_model(config)
    save_model(model, tmp_path / "run" / "model", tiny_tokenizer)
    loaded = load_model(tmp_path / "run" / "model")
    assert loaded.model.config == config
    assert not loaded.model.training
    torch.testing.assert_close(loaded.model.state_dict(), model.state_dict(), rtol=0, atol=0)
    torch.testing.assert_close(loaded.model(sample_ids()).logits, model(sample_ids()).logits, rtol=0, atol=0)
    assert loaded.tokenizer.encode("the cats sang").ids == tiny_tokenizer.encode("the cats sang").ids


def test_tied_weight_is_saved_once_and_tied_again(tmp_path):
    save_model(make_model(), tmp_path)
    tensors = load_file(str(tmp_path / WEIGHTS_FILE))
    assert "head.decoder.weight" not in tensors and "embeddings.token.weight" in tensors
    model = load_model(tmp_path).model
    assert model.head.decoder.weight is model.embeddings.token.weight


def test_config_file_names_format_version_and_fields(tmp_path):
    save_model(make_model(), tmp_path)
    body = json.loads((tmp_path / CONFIG_FILE).read_text())
    assert body == {"format": "mlm-book-model", "version": 1, "model": CONFIG.to_dict()}
    assert read_config(tmp_path / CONFIG_FILE) == CONFIG


def test_saving_leaves_no_temporary_files_and_keeps_other_files(tiny_tokenizer, tmp_path):
    (tmp_path / "train_state.json").write_text("{}")
    save_model(make_model(), tmp_path, tiny_tokenizer)
    save_model(make_model(seed=1), tmp_path)  # overwrite; the tokenizer stays
    assert sorted(p.name for p in tmp_path.iterdir()) == [CONFIG_FILE, WEIGHTS_FILE, TOKENIZER_FILE, "train_state.json"]
    loaded = load_model(tmp_path)
    torch.testing.assert_close(loaded.model.state_dict(), make_model(seed=1).state_dict(), rtol=0, atol=0)
    assert loaded.tokenizer is not None


def test_a_model_saved_without_tokenizer_loads_without_one(tmp_path):
    save_model(make_model(), tmp_path)
    assert load_model(tmp_path).tokenizer is None


def test_saving_into_a_file_path_is_an_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match=r"cannot save the model into .*file: it is a file"):
        save_model(make_model(), tmp_path / "file")


def test_saving_a_tokenizer_too_big_for_the_model_is_an_error(tiny_tokenizer, tmp_path):
    small = make_model(dataclasses.replace(CONFIG, vocab_size=50))
    with pytest.raises(ValueError, match="the tokenizer has 99 tokens but the model's vocab_size is 50"):
        save_model(small, tmp_path, tiny_tokenizer)


def test_missing_directory_and_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no model directory .*nowhere; save a model there"):
        load_model(tmp_path / "nowhere")
    save_model(make_model(), tmp_path)
    (tmp_path / WEIGHTS_FILE).unlink()
    with pytest.raises(FileNotFoundError, match=r"model.safetensors does not exist; the model directory is incomplete"):
        load_model(tmp_path)
    (tmp_path / CONFIG_FILE).unlink()
    with pytest.raises(FileNotFoundError, match=r"config.json does not exist; is this a directory written by"):
        load_model(tmp_path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", r"config.json is not valid JSON"),
        ('{"format": "bert"}', r"config.json is not a model config written by mlm_book"),
        ('{"format": "mlm-book-model", "version": 9}', r"config.json has format version 9; this mlm_book reads"),
        ('{"format": "mlm-book-model", "version": 1}', r"config.json holds an invalid model config: 'model'"),
        (
            '{"format": "mlm-book-model", "version": 1, "model": {"d_model": 30}}',
            r"config.json holds an invalid model config: ModelConfig.d_model=30 is not divisible",
        ),
    ],
)
def test_a_bad_config_file_is_named(tmp_path, content, message):
    save_model(make_model(), tmp_path)
    (tmp_path / CONFIG_FILE).write_text(content)
    with pytest.raises(ValueError, match=message):
        load_model(tmp_path)


def test_corrupt_weights_are_named(tmp_path):
    save_model(make_model(), tmp_path)
    (tmp_path / WEIGHTS_FILE).write_bytes(b"\x00\x01 not safetensors")
    with pytest.raises(ValueError, match=r"model.safetensors is corrupt or not a safetensors file"):
        load_model(tmp_path)


def test_weights_that_do_not_fit_the_config_are_named(tmp_path):
    save_model(make_model(), tmp_path)
    save_model(make_model(dataclasses.replace(CONFIG, d_ff=41, n_layers=3)), tmp_path / "other")
    (tmp_path / "other" / CONFIG_FILE).replace(tmp_path / CONFIG_FILE)
    with pytest.raises(ValueError, match=r"safetensors does not match .*config.json: missing \['layers.2") as info:
        load_model(tmp_path)
    assert "layers.0.feed_forward.down.weight (32, 37) vs (32, 41)" in str(info.value)


def test_a_bad_tokenizer_file_is_named(tiny_tokenizer, tmp_path):
    save_model(make_model(), tmp_path, tiny_tokenizer)
    (tmp_path / TOKENIZER_FILE).write_text("{}")
    with pytest.raises(ValueError, match=r"tokenizer.json is corrupt or not a tokenizers JSON file"):
        load_model(tmp_path)
    small = dataclasses.replace(CONFIG, vocab_size=50)
    save_model(make_model(small), tmp_path)
    save_model(make_model(), tmp_path / "big", tiny_tokenizer)
    (tmp_path / "big" / TOKENIZER_FILE).replace(tmp_path / TOKENIZER_FILE)
    with pytest.raises(ValueError, match=r"tokenizer.json has 99 tokens but .*config.json says vocab_size=50"):
        load_model(tmp_path)


def test_check_finite_weights_names_the_bad_tensor(tmp_path):
    model = make_model()
    check_finite_weights(model, tmp_path)
    with torch.no_grad():
        model.head.decoder.bias[:2] = float("inf")
    with pytest.raises(
        ValueError, match=r"holds non-finite weights \(2 NaN or infinite values in head\.decoder\.bias\)"
    ):
        check_finite_weights(model, tmp_path)
