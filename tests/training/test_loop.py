"""The training loop: exact resume, accumulation, NaN guard, precisions, records and input errors."""

import dataclasses
import json
from pathlib import Path

import datasets
import pytest
import torch
from tokenizers import Tokenizer

import mlm_book.training.loop as training
from mlm_book.corpus.synthetic.generate import generate_paragraphs
from mlm_book.model.checkpoint import load_model
from mlm_book.model.config import ModelConfig
from mlm_book.model.mlm import MLMModel
from mlm_book.tokenization.tokenizer import train_tokenizer
from mlm_book.training.config import TrainConfig
from mlm_book.training.curriculum import Curriculum, LengthSchedule, MaskRateSchedule
from mlm_book.training.history import EvalRecord, History
from mlm_book.training.loop import train
from mlm_book.training.optim import Schedule
from mlm_book.training.step import TrainingDiverged

MODEL = ModelConfig(vocab_size=301, d_model=32, n_heads=2, n_layers=2, d_ff=37, max_len=48, dropout=0.1)
CONFIG = TrainConfig(
    steps=9,
    batch_size=24,
    grad_accum=2,
    seq_len=48,
    packing=False,
    eval_every=2,
    eval_sequences=16,
    log_every=1,
    warmup_ratio=0.2,
    probes_per_category=0,
)


@pytest.fixture(scope="module", autouse=True)
def _quiet() -> None:
    torch.set_num_threads(1)
    datasets.disable_progress_bars()


@pytest.fixture(scope="module")
def paragraphs() -> list[str]:
    return generate_paragraphs(120, seed=1)


@pytest.fixture(scope="module")
def tokenizer(paragraphs: list[str]) -> Tokenizer:
    return train_tokenizer(paragraphs, 300)


@pytest.fixture(scope="module")
def corpus(paragraphs: list[str]) -> datasets.DatasetDict:
    return datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_dict({"text": paragraphs[:100]}),
            "validation": datasets.Dataset.from_dict({"text": paragraphs[100:]}),
        }
    )


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def _without_rates(history: History) -> dict:
    data = history.to_dict()
    for record in data["train"]:
        record.pop("tokens_per_second")
    return data


@pytest.mark.parametrize("log_every", [1, 3])  # 3: the checkpoint of step 4 falls inside a history record
def test_interrupted_run_resumes_to_identical_weights(
    tmp_path: Path, corpus: datasets.DatasetDict, tokenizer: Tokenizer, monkeypatch: pytest.MonkeyPatch, log_every: int
) -> None:
    config = dataclasses.replace(CONFIG, log_every=log_every)
    whole = train(config, MODEL, dataset=corpus, tokenizer=tokenizer, out_dir=tmp_path / "whole")
    real_step, calls = training.train_step, []

    def crash_at_sixth_step(*args, **kwargs):
        calls.append(1)
        if len(calls) == 6:
            raise KeyboardInterrupt  # the process dies in step 6; the checkpoint of step 4 remains
        return real_step(*args, **kwargs)

    monkeypatch.setattr(training, "train_step", crash_at_sixth_step)
    with pytest.raises(KeyboardInterrupt):
        train(config, MODEL, dataset=corpus, tokenizer=tokenizer, out_dir=tmp_path / "cut")
    assert json.loads((tmp_path / "cut" / "train_state.json").read_text())["step"] == 4
    monkeypatch.setattr(training, "train_step", real_step)
    resumed = train(config, MODEL, dataset=corpus, out_dir=tmp_path / "cut", resume=True)
    assert resumed.step == whole.step == 9 and resumed.tokens_seen == whole.tokens_seen
    assert _same_weights(whole.model, resumed.model)
    assert [r.step for r in resumed.history.train] == ([*range(1, 10)] if log_every == 1 else [3, 6, 9])
    assert _without_rates(whole.history) == _without_rates(resumed.history)  # the step-6 record too
    assert _same_weights(load_model(tmp_path / "cut").model, whole.model)


def test_a_run_stopped_after_a_step_is_the_first_part_of_the_whole(
    tmp_path: Path, corpus: datasets.DatasetDict, tokenizer: Tokenizer
) -> None:
    config = dataclasses.replace(CONFIG, log_every=3)  # step 5: inside a history record, between evaluations
    whole = train(config, MODEL, dataset=corpus, tokenizer=tokenizer)
    part = train(config, MODEL, dataset=corpus, tokenizer=tokenizer, out_dir=tmp_path / "part", stop_after=5)
    assert part.step == 5 and json.loads((tmp_path / "part" / "train_state.json").read_text())["step"] == 5
    assert part.history.eval == [r for r in whole.history.eval if r.step <= 5]
    rest = train(config, MODEL, dataset=corpus, out_dir=tmp_path / "part", resume=True)
    assert rest.step == 9 and _same_weights(rest.model, whole.model)
    assert _without_rates(rest.history) == _without_rates(whole.history)
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="stop_after must be a positive step number"):
            train(config, MODEL, dataset=corpus, tokenizer=tokenizer, stop_after=bad)  # type: ignore[arg-type]


def test_resume_checks_the_saved_position_against_the_data(
    tmp_path: Path, corpus: datasets.DatasetDict, tokenizer: Tokenizer
) -> None:
    config = dataclasses.replace(CONFIG, steps=2)
    train(config, MODEL, dataset=corpus, tokenizer=tokenizer, out_dir=tmp_path)
    path = tmp_path / "train_state.json"
    body = json.loads(path.read_text())
    path.write_text(json.dumps({**body, "epoch": 1}))  # step 2 cannot be in epoch 1: an epoch has more batches
    with pytest.raises(ValueError, match=r"is at step 2, epoch 1, batch 2, which does not fit \d+ batches per epoch"):
        train(dataclasses.replace(config, steps=4), MODEL, dataset=corpus, out_dir=tmp_path, resume=True)
    path.write_text(json.dumps({**body, "window": {"loss": -1.0}}))
    with pytest.raises(ValueError, match=r"holds window=\{'loss': -1.0\}, not sums >= 0"):
        train(dataclasses.replace(config, steps=4), MODEL, dataset=corpus, out_dir=tmp_path, resume=True)


def test_history_records_schedule_and_fixed_evaluation(corpus: datasets.DatasetDict, tokenizer: Tokenizer) -> None:
    config = dataclasses.replace(CONFIG, steps=8, log_every=3, eval_every=4, packing=True, grad_accum=1)
    seen: list[EvalRecord] = []
    first = train(config, MODEL, dataset=corpus, tokenizer=tokenizer, on_evaluate=seen.append)
    assert [r.step for r in first.history.train] == [3, 6, 8]
    assert seen == first.history.eval  # the callback sees each evaluation's record as it is made
    assert [r.step for r in first.history.eval] == [4, 8]
    schedule = Schedule(8, config.warmup_steps, config.decay, config.final_lr_ratio)
    assert [r.lr for r in first.history.train] == pytest.approx([config.lr * schedule(s - 1) for s in (3, 6, 8)])
    assert first.tokens_seen == 8 * 24 * 48  # packed: every token is real
    assert first.history.eval[-1].loss < first.history.train[0].loss  # it learns something
    assert first.history.eval[-1].perplexity == pytest.approx(torch.tensor(first.history.eval[-1].loss).exp().item())
    again = train(config, MODEL, dataset=corpus, tokenizer=tokenizer)
    assert _without_rates(first.history) == _without_rates(again.history)


def test_gradient_accumulation_matches_one_big_batch(corpus: datasets.DatasetDict, tokenizer: Tokenizer) -> None:
    model = dataclasses.replace(MODEL, dropout=0.0)
    config = dataclasses.replace(CONFIG, steps=3, grad_accum=1, eval_sequences=0)
    one = train(config, model, dataset=corpus, tokenizer=tokenizer)
    four = train(dataclasses.replace(config, grad_accum=4), model, dataset=corpus, tokenizer=tokenizer)
    for (name, a), b in zip(one.model.state_dict().items(), four.model.state_dict().values()):
        assert torch.allclose(a, b, atol=2e-6), name
    assert one.history.train[-1].loss == pytest.approx(four.history.train[-1].loss, abs=1e-6)


def test_nan_guard_stops_and_keeps_the_last_good_checkpoint(
    tmp_path: Path, corpus: datasets.DatasetDict, tokenizer: Tokenizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_step = training.train_step

    def poison_third_step(model, micro_batches, n_predictions, tools, step):
        if step == 2:
            with torch.no_grad():
                next(model.parameters()).fill_(float("nan"))
        return real_step(model, micro_batches, n_predictions, tools, step)

    monkeypatch.setattr(training, "train_step", poison_third_step)
    out = tmp_path / "run"
    with pytest.raises(
        TrainingDiverged,
        match=r"the loss became nan at step 3; training stopped before that update "
        r"and the last good checkpoint \(step 2\) in .* is kept; lower the learning rate",
    ):
        train(dataclasses.replace(CONFIG, eval_every=1), MODEL, dataset=corpus, tokenizer=tokenizer, out_dir=out)
    saved = load_model(out).model
    assert all(bool(torch.isfinite(p).all()) for p in saved.parameters())
    assert json.loads((out / "train_state.json").read_text())["step"] == 2


def test_a_huge_learning_rate_diverges_cleanly(
    tmp_path: Path, corpus: datasets.DatasetDict, tokenizer: Tokenizer
) -> None:
    config = dataclasses.replace(CONFIG, lr=1e6, warmup_ratio=0.0, grad_clip=0.0, eval_every=1, steps=20)
    with pytest.raises(TrainingDiverged, match=r"the (loss|gradient norm) became (nan|inf) at step (\d+)"):
        train(config, MODEL, dataset=corpus, tokenizer=tokenizer, out_dir=tmp_path / "run")
    assert all(bool(torch.isfinite(p).all()) for p in load_model(tmp_path / "run").model.parameters())


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_low_precision_on_cpu_stays_close_to_fp32(
    precision: str, corpus: datasets.DatasetDict, tokenizer: Tokenizer
) -> None:
    config = dataclasses.replace(CONFIG, steps=4, eval_every=4)
    fp32 = train(config, MODEL, dataset=corpus, tokenizer=tokenizer, device="cpu")
    low = train(
        dataclasses.replace(config, precision=precision), MODEL, dataset=corpus, tokenizer=tokenizer, device="cpu"
    )
    assert low.history.eval[-1].loss == pytest.approx(fp32.history.eval[-1].loss, abs=0.05)


def test_probes_are_scored_at_each_evaluation(corpus: datasets.DatasetDict, tokenizer: Tokenizer) -> None:
    from mlm_book.corpus.synthetic.probes import make_probes

    config = dataclasses.replace(CONFIG, steps=2, eval_every=1)
    model = dataclasses.replace(MODEL, max_len=128)  # the reference probes are long
    result = train(config, model, dataset=corpus, tokenizer=tokenizer, probes=make_probes(2, seed=0))
    assert [sorted(r.probes) for r in result.history.eval] == [["agreement", "facts", "reference", "selection"]] * 2
    assert all(0.0 <= v <= 1.0 for r in result.history.eval for v in r.probes.values())


def test_resume_may_extend_a_finished_run(tmp_path: Path, corpus: datasets.DatasetDict, tokenizer: Tokenizer) -> None:
    config = dataclasses.replace(CONFIG, steps=2)
    train(config, MODEL, dataset=corpus, tokenizer=tokenizer, out_dir=tmp_path / "run")
    again = train(config, MODEL, dataset=corpus, out_dir=tmp_path / "run", resume=True)
    assert again.step == 2 and len(again.history.train) == 2  # nothing left to do
    saved: list[tuple[Path, int]] = []
    longer = train(
        dataclasses.replace(config, steps=4),
        MODEL,
        dataset=corpus,
        out_dir=tmp_path / "run",
        resume=True,
        on_save=lambda out, step: saved.append((out, step)),
    )
    assert longer.step == 4 and [r.step for r in longer.history.train] == [1, 2, 3, 4]
    assert saved == [(tmp_path / "run", 4)]  # once per committed checkpoint (eval_every=4 saves at 4)


@pytest.mark.parametrize(
    ("change", "model_change", "message"),
    [
        ({"seq_len": 64}, {}, "seq_len=64 exceeds the model's max_len=48; shorten the sequences"),
        ({}, {"vocab_size": 200}, "the tokenizer has 300 tokens but the model's vocab_size is 200"),
        (
            {"batch_size": 200, "grad_accum": 1},
            {},
            r"the corpus gives \d+ training sequences of up to 48 tokens, fewer than "
            "batch_size=200",
        ),
    ],
)
def test_inputs_that_do_not_fit(
    corpus: datasets.DatasetDict, tokenizer: Tokenizer, change: dict, model_change: dict, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        train(
            dataclasses.replace(CONFIG, **change),
            dataclasses.replace(MODEL, **model_change),
            dataset=corpus,
            tokenizer=tokenizer,
        )


def test_missing_pieces(tmp_path: Path, corpus: datasets.DatasetDict, tokenizer: Tokenizer) -> None:
    with pytest.raises(ValueError, match="a new run needs a tokenizer; pass tokenizer="):
        train(CONFIG, MODEL, dataset=corpus)
    with pytest.raises(ValueError, match="resume=True needs the out_dir of the run to continue"):
        train(CONFIG, MODEL, dataset=corpus, tokenizer=tokenizer, resume=True)
    empty = datasets.DatasetDict({"train": datasets.Dataset.from_dict({"text": []})})
    with pytest.raises(ValueError, match=r"the corpus has no training text \(splits: \['train'\]\)"):
        train(CONFIG, MODEL, dataset=empty, tokenizer=tokenizer)


CURRICULUM = Curriculum(LengthSchedule.stepwise((16, 24), until=(0.3, 0.6)), MaskRateSchedule(0.3, 0.15))


def test_curriculum_steps_have_the_planned_shapes_rates_and_tokens(
    corpus: datasets.DatasetDict, tokenizer: Tokenizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = dataclasses.replace(CONFIG, packing=True, curriculum=CURRICULUM, eval_every=9)
    real_step, seen = training.train_step, []

    def spy(model, micro_batches, n_predictions, tools, step):
        seen.append(([tuple(b["input_ids"].shape) for b in micro_batches], n_predictions))
        return real_step(model, micro_batches, n_predictions, tools, step)

    monkeypatch.setattr(training, "train_step", spy)
    result = train(config, MODEL, dataset=corpus, tokenizer=tokenizer)
    plans = [CURRICULUM.plan(t, 9, full_len=48, batch_size=24, divisor=2) for t in range(9)]
    assert [(p.length, p.batch_size) for p in plans[::3]] == [(16, 72), (24, 48), (48, 24)]
    assert [shapes for shapes, _ in seen] == [[(p.batch_size // 2, p.length)] * 2 for p in plans]
    assert result.tokens_seen == 9 * 24 * 48  # the same token budget as the fixed-length run
    shares = [n / (p.batch_size * (p.length - 1)) for (_, n), p in zip(seen, plans)]
    assert all(abs(share - p.mask_prob) < 0.06 for share, p in zip(shares, plans))  # [SEP]s are never masked
    assert shares[0] > shares[-1] + 0.08  # 30% at the start, 15% at the end


def test_training_can_predict_more_tokens_than_it_corrupts(
    corpus: datasets.DatasetDict, tokenizer: Tokenizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    keep_only = Curriculum(mask_rate=MaskRateSchedule.fixed(0.4), replace_probs=(0.0, 0.0, 1.0))
    config = dataclasses.replace(CONFIG, packing=True, steps=3, curriculum=keep_only)
    real_step, seen = training.train_step, []

    def spy(model, micro_batches, n_predictions, tools, step):
        seen.extend(micro_batches)
        return real_step(model, micro_batches, n_predictions, tools, step)

    monkeypatch.setattr(training, "train_step", spy)
    train(config, MODEL, dataset=corpus, tokenizer=tokenizer)
    for batch in seen:
        labelled = batch["labels"] != -100
        assert 0.3 < labelled.float().mean() < 0.5  # 40% of the tokens are predicted ...
        assert torch.equal(batch["input_ids"][labelled], batch["labels"][labelled])  # ... and none corrupted


def test_positions_beyond_the_curriculum_length_stay_untouched(
    corpus: datasets.DatasetDict, tokenizer: Tokenizer
) -> None:
    short = Curriculum(LengthSchedule.stepwise((16,), until=(1.0,)))
    config = dataclasses.replace(CONFIG, packing=True, steps=3, weight_decay=0.0, eval_sequences=0, curriculum=short)
    result = train(config, MODEL, dataset=corpus, tokenizer=tokenizer)
    initial = MLMModel(MODEL, generator=torch.Generator().manual_seed(config.seed)).embeddings.position.weight
    trained = result.model.embeddings.position.weight
    assert torch.equal(trained[16:], initial[16:]) and not torch.allclose(trained[:16], initial[:16])


def test_a_model_trained_at_changing_lengths_keeps_no_stale_state(
    corpus: datasets.DatasetDict, tokenizer: Tokenizer
) -> None:
    config = dataclasses.replace(CONFIG, packing=True, steps=6, eval_every=2, curriculum=CURRICULUM)
    model = train(config, MODEL, dataset=corpus, tokenizer=tokenizer).model.eval()
    fresh = MLMModel(MODEL).eval()
    fresh.load_state_dict(model.state_dict())
    ids = torch.randint(5, 300, (3, 48), generator=torch.Generator().manual_seed(1))
    for length in (48, 16, 24, 48):
        assert torch.equal(model(ids[:, :length]).logits, fresh(ids[:, :length]).logits)


def test_an_interrupted_curriculum_resumes_where_it_stopped(
    tmp_path: Path, corpus: datasets.DatasetDict, tokenizer: Tokenizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = dataclasses.replace(CONFIG, packing=True, curriculum=CURRICULUM)
    whole = train(config, MODEL, dataset=corpus, tokenizer=tokenizer, out_dir=tmp_path / "whole")
    real_step, calls = training.train_step, []

    def crash_at_fifth_step(*args, **kwargs):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt  # in the length-24 phase; the checkpoint of step 4 remains
        return real_step(*args, **kwargs)

    monkeypatch.setattr(training, "train_step", crash_at_fifth_step)
    with pytest.raises(KeyboardInterrupt):
        train(config, MODEL, dataset=corpus, tokenizer=tokenizer, out_dir=tmp_path / "cut")
    monkeypatch.setattr(training, "train_step", real_step)
    saved = json.loads((tmp_path / "cut" / "train_config.json").read_text())
    assert Curriculum.from_dict(saved["curriculum"]) == CURRICULUM
    resumed = train(config, MODEL, dataset=corpus, out_dir=tmp_path / "cut", resume=True)
    assert resumed.step == 9 and resumed.tokens_seen == whole.tokens_seen
    assert _same_weights(whole.model, resumed.model)
    assert _without_rates(whole.history) == _without_rates(resumed.history)
    other = dataclasses.replace(config, curriculum=Curriculum())
    with pytest.raises(ValueError, match=r"--resume: curriculum is .* but .*train_config.json has .*a resumed run may"):
        train(other, MODEL, dataset=corpus, out_dir=tmp_path / "cut", resume=True)


def test_log_unigram_decoder_bias_starts_training_at_the_unigram(
    corpus: datasets.DatasetDict, tokenizer: Tokenizer
) -> None:
    from mlm_book.evaluation.baselines import log_unigram_bias
    from mlm_book.training.data import prepare_data

    config = dataclasses.replace(CONFIG, steps=1, lr=1e-7, decoder_bias="log_unigram", eval_every=1)
    started = train(config, MODEL, dataset=corpus, tokenizer=tokenizer)
    expected = log_unigram_bias(prepare_data(corpus, tokenizer, config).train, MODEL.vocab_size)
    torch.testing.assert_close(started.model.head.decoder.bias.detach(), expected, atol=1e-5, rtol=0)
    plain = train(dataclasses.replace(config, decoder_bias="zero"), MODEL, dataset=corpus, tokenizer=tokenizer)
    assert plain.model.head.decoder.bias.abs().max() < 1e-5
    assert started.history.eval[0].loss < plain.history.eval[0].loss - 0.3  # ln V lies above the unigram
