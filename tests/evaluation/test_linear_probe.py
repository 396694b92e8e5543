"""Linear probes: a probe per layer of a frozen encoder, beating the majority class, deterministically."""

import datasets
import pytest
import torch
from tokenizers import Tokenizer

from mlm_book.corpus.tasks import POS_TAGS, make_task_dataset
from mlm_book.data.tasks import encode_task, task_batches
from mlm_book.evaluation.linear_probe import fit_logistic, linear_probes
from mlm_book.model.config import ModelConfig
from mlm_book.model.mlm import MLMModel


def test_fit_logistic_separates_separable_classes() -> None:
    g = torch.Generator().manual_seed(0)
    centres = torch.tensor([[3.0, 0.0], [-3.0, 0.0], [0.0, 3.0]])
    labels = torch.randint(0, 3, (90,), generator=g)
    features = centres[labels] + 0.3 * torch.randn(90, 2, generator=g)
    probe = fit_logistic(features, labels, 3)
    assert bool((probe(features).argmax(dim=-1) == labels).all())
    with pytest.raises(ValueError, match="need \\(N, D\\) features and N labels"):
        fit_logistic(features[:0], labels[:0], 3)


def test_every_layer_of_a_frozen_encoder_beats_the_majority_class(tiny_tokenizer: Tokenizer) -> None:
    datasets.disable_progress_bars()
    config = ModelConfig(vocab_size=99, d_model=32, n_heads=2, n_layers=2, d_ff=37, max_len=97, dropout=0.1)
    model = MLMModel(config, generator=torch.Generator().manual_seed(1)).train()
    data = make_task_dataset("tagging", 60, 1, 40, unseen_in=0)
    batches = {
        s: task_batches(encode_task(data[s], tiny_tokenizer, "token", max_len=97, label_column="pos_tags"), 16)
        for s in ("train", "test")
    }
    before = {k: v.clone() for k, v in model.state_dict().items()}
    report = linear_probes(model, batches["train"], batches["test"], len(POS_TAGS))
    assert [probe.layer for probe in report.layers] == [0, 1, 2] and model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    for probe in report.layers:  # even random vectors of a word tell its tag better than the majority tag
        assert probe.interval[0] > report.majority_interval[1], (probe, report.majority)
    again = linear_probes(model, batches["train"], batches["test"], len(POS_TAGS))
    assert again == report
