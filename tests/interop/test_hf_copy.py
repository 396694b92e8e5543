"""A run's ``hf/`` folder: transformers loads it, and it follows every checkpoint."""

import dataclasses
from pathlib import Path

import datasets
import pytest
import torch
from transformers import AutoModelForMaskedLM, AutoTokenizer, pipeline

from mlm_book.corpus.synthetic.generate import generate_paragraphs
from mlm_book.interop.hf_copy import HF_DIR, refresh_hf_copy
from mlm_book.model.checkpoint import load_model, save_model
from mlm_book.model.config import ModelConfig
from mlm_book.model.mlm import MLMModel
from mlm_book.tokenization.tokenizer import train_tokenizer
from mlm_book.training.config import TrainConfig
from mlm_book.training.loop import train

MODEL = ModelConfig(vocab_size=300, d_model=32, n_heads=2, n_layers=2, d_ff=37, max_len=48, dropout=0.0)
CONFIG = TrainConfig(
    steps=4, batch_size=8, seq_len=48, eval_every=2, eval_sequences=8, warmup_ratio=0.25, lr=1e-3, probes_per_category=0
)


def _same_logits(run: Path) -> None:
    """The hf copy's logits equal the run's own checkpoint's."""
    ours = load_model(run)
    theirs = AutoModelForMaskedLM.from_pretrained(run / HF_DIR).eval()
    ids = torch.tensor([ours.tokenizer.encode("the cat sat on the mat .").ids])
    with torch.no_grad():
        torch.testing.assert_close(theirs(input_ids=ids).logits, ours.model(ids).logits, atol=1e-5, rtol=1e-5)


def test_the_hf_copy_follows_every_checkpoint(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    texts = generate_paragraphs(300, seed=0)
    corpus = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_dict({"text": texts[:280]}),
            "validation": datasets.Dataset.from_dict({"text": texts[280:]}),
        }
    )
    tokenizer = train_tokenizer(texts, vocab_size=300)
    run, steps = tmp_path / "run", []

    def on_save(out: Path, step: int) -> None:
        refresh_hf_copy(out)
        steps.append(step)
        _same_logits(out)  # in step with the checkpoint just written

    train(CONFIG, MODEL, dataset=corpus, tokenizer=tokenizer, out_dir=run, on_save=on_save)
    longer = dataclasses.replace(CONFIG, steps=6)
    train(longer, MODEL, dataset=corpus, out_dir=run, resume=True, on_save=on_save)
    assert steps == [2, 4, 6]
    assert sorted(p.name for p in (run / HF_DIR).iterdir()) == [
        "README.md", "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"
    ]  # fmt: skip
    assert not (run / "hf.new").exists() and not (run / "hf.old").exists()
    assert AutoTokenizer.from_pretrained(run / HF_DIR).mask_token == "[MASK]"
    predictions = pipeline("fill-mask", model=str(run / HF_DIR), device="cpu")("the cat [MASK] on the mat .")
    assert len(predictions) == 5 and all(p["sequence"] for p in predictions)


def test_an_interrupted_copy_is_cleaned_up(tiny_tokenizer, tiny_config: ModelConfig, tmp_path: Path) -> None:
    run = tmp_path / "model"
    save_model(MLMModel(tiny_config, generator=torch.Generator().manual_seed(0)), run, tiny_tokenizer)
    (run / "hf.new").mkdir(parents=True)  # a refresh that died while writing the new copy...
    (run / "hf.new" / "model.safetensors").write_bytes(b"half")
    (run / "hf.old").mkdir()  # ...and one that died between its two renames (no hf/ at all)
    refresh_hf_copy(run)
    assert not (run / "hf.new").exists() and not (run / "hf.old").exists()
    _same_logits(run)


def test_a_model_without_a_transformers_class_is_refused(
    tiny_tokenizer, tiny_config: ModelConfig, tmp_path: Path
) -> None:
    config = dataclasses.replace(tiny_config, norm="pre")  # pre-LN with BERT's other choices: neither class
    save_model(MLMModel(config, generator=torch.Generator().manual_seed(0)), tmp_path / "model", tiny_tokenizer)
    with pytest.raises(ValueError, match="this model has no transformers equivalent"):
        refresh_hf_copy(tmp_path / "model")
    assert not (tmp_path / "model" / HF_DIR).exists()
