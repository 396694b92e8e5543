"""TrainConfig: presets, JSON round trip, validation messages, resumable differences."""

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlm_book.masking.config import MaskingConfig
from mlm_book.training.config import TrainConfig
from mlm_book.training.curriculum import Curriculum, LengthSchedule, MaskRateSchedule


def test_presets_and_overrides() -> None:
    tiny = TrainConfig.from_preset("tiny", steps=7)
    assert tiny.steps == 7 and tiny == dataclasses.replace(TrainConfig.tiny(), steps=7)
    assert TrainConfig(steps=200, warmup_ratio=0.06).warmup_steps == 12
    base = TrainConfig.from_preset("bert-base")
    assert base.batch_size > tiny.batch_size and base.seq_len == 512
    with pytest.raises(ValueError, match="unknown TrainConfig preset 'huge'; choose one of tiny, bert-base"):
        TrainConfig.from_preset("huge")


@given(
    steps=st.integers(1, 10_000),
    accum=st.sampled_from([1, 2, 4]),
    lr=st.floats(1e-6, 1.0),
    packing=st.booleans(),
    strategy=st.sampled_from(["token", "word", "span"]),
    decay=st.sampled_from(["linear", "cosine", "constant"]),
)
def test_json_round_trip(steps: int, accum: int, lr: float, packing: bool, strategy: str, decay: str) -> None:
    config = TrainConfig(
        steps=steps,
        warmup_ratio=0.06,
        batch_size=8 * accum,
        grad_accum=accum,
        lr=lr,
        packing=packing,
        masking=MaskingConfig(strategy=strategy),
        decay=decay,  # type: ignore[arg-type]
    )
    again = TrainConfig.from_json(config.to_json())
    assert again == config and isinstance(again.masking, MaskingConfig)
    assert again.betas == config.betas and isinstance(again.betas, tuple)


def test_curriculum_round_trips_and_old_files_get_the_plain_one() -> None:
    curriculum = Curriculum(LengthSchedule.linear(32, 0.5, keep="batch"), MaskRateSchedule(0.4, 0.15))
    config = TrainConfig(curriculum=curriculum)
    again = TrainConfig.from_json(config.to_json())
    assert again == config and again.curriculum == curriculum
    old = config.to_dict()
    del old["curriculum"]  # a train_config.json written before curricula existed
    assert TrainConfig.from_dict(old).curriculum == Curriculum()


def test_micro_batch_size() -> None:
    config = TrainConfig(batch_size=12, grad_accum=3)
    assert config.micro_batch_size() == 4 and config.micro_batch_size(world_size=2) == 2
    with pytest.raises(ValueError, match=r"batch_size=12 is not divisible by grad_accum \* processes = 3 \* 5"):
        config.micro_batch_size(world_size=5)


def test_differences() -> None:
    a = TrainConfig()
    b = dataclasses.replace(a, seed=3, masking=MaskingConfig(mask_prob=0.2))
    assert sorted(a.differences(b)) == ["masking", "seed"]
    assert a.differences(b)["seed"] == (0, 3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"steps": 0}, "TrainConfig.steps must be a whole number >= 1, got 0"),
        ({"batch_size": 2.5}, "TrainConfig.batch_size must be a whole number, got 2.5"),
        ({"eval_sequences": -1}, "TrainConfig.eval_sequences must be a whole number >= 0, got -1"),
        ({"warmup_ratio": 1.5}, r"TrainConfig.warmup_ratio must be in \[0, 1\], got 1.5; try 0.1"),
        ({"batch_size": 10, "grad_accum": 4}, "batch_size=10 is not divisible by grad_accum=4"),
        ({"seq_len": 4}, "seq_len must be at least 8 tokens, got 4"),
        ({"corpus": " "}, "TrainConfig.corpus must name a corpus"),
        (
            {"masking": "bert"},
            r"TrainConfig.masking must be a MaskingConfig \(or a JSON object of its fields\), got 'bert'",
        ),
        ({"decay": "step"}, "TrainConfig.decay must be one of"),
        ({"precision": "fp8"}, "TrainConfig.precision must be one of"),
        ({"lr": 0.0}, "TrainConfig.lr must be positive, got 0.0"),
        ({"final_lr_ratio": 2.0}, r"final_lr_ratio must be in \[0, 1\], got 2.0"),
        ({"grad_clip": -1.0}, "weight_decay and grad_clip must be >= 0"),
        ({"betas": (0.9, 1.0)}, r"betas must be two numbers in \[0, 1\)"),
        ({"eps": 0.0}, "TrainConfig.eps must be at least 1e-30, got 0: float32 turns smaller values into 0"),
        ({"eps": 1e-320}, "TrainConfig.eps must be at least 1e-30"),
        ({"seed": 2**63}, r"TrainConfig.seed must be a whole number from 0 to 2\*\*63 - 1, got 9223372036854775808"),
        ({"weight_decay": float("inf")}, "TrainConfig.weight_decay must be a finite number, got inf"),
        ({"betas": (0.9, float("nan"))}, r"TrainConfig.betas\[1\] must be a finite number, got nan"),
        (
            {"curriculum": LengthSchedule()},
            r"TrainConfig.curriculum must be a Curriculum \(or a JSON object of its fields\), got LengthSchedule",
        ),
        (
            {"curriculum": Curriculum(LengthSchedule.linear(32, 0.5)), "packing": False},
            "a linear length curriculum cuts packed blocks; set packing=True or use LengthSchedule.fixed",
        ),
        (
            {"curriculum": Curriculum(LengthSchedule.stepwise((64,), (0.5,))), "seq_len": 48},
            r"the length curriculum reaches 64 tokens but the full length \(seq_len\) is 48",
        ),
    ],
)
def test_bad_values_are_named(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TrainConfig(**kwargs)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "TrainConfig JSON is not valid JSON"),
        ("[1]", "TrainConfig fields must be a JSON object, got list"),
        ('{"masking": {"mask_prob": 2.0}}', "mask_prob must be strictly between 0 and 1, got 2.0"),
        ('{"step": 3}', r"unknown TrainConfig field\(s\) \['step'\]"),
        ('{"masking": {"prob": 0.1}}', r"unknown MaskingConfig field\(s\) \['prob'\]"),
        ('{"curriculum": {"length": {"kind": "cubic"}}}', r"LengthSchedule.kind must be one of .* got 'cubic'"),
    ],
)
def test_bad_json(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TrainConfig.from_json(text)


def test_every_config_refuses_non_finite_numbers() -> None:
    with pytest.raises(ValueError, match="MaskingConfig.mask_prob must be a finite number, got nan"):
        MaskingConfig(mask_prob=float("nan"))
