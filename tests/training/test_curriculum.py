"""Curriculum schedules: lengths and batches at their boundaries, mask rates, JSON round trip, errors."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlm_book.training.curriculum import Curriculum, LengthSchedule, MaskRateSchedule, StepPlan


def test_fixed_schedule_is_always_the_full_length() -> None:
    schedule = LengthSchedule.fixed()
    assert [schedule.length_at(t, 7, 96) for t in range(9)] == [96] * 9
    assert Curriculum().is_plain and not Curriculum(mask_rate=MaskRateSchedule.fixed(0.3)).is_plain
    assert not Curriculum(replace_probs=(0.8, 0.1, 0.1)).is_plain


def test_stepwise_switches_exactly_at_its_fractions() -> None:
    schedule = LengthSchedule.stepwise((32, 64), until=(0.3, 0.6))
    lengths = [schedule.length_at(t, 10, 128) for t in range(12)]
    # step t uses length k while t < until_k * steps: 3 steps at 32, 3 at 64, the rest (and beyond) at 128
    assert lengths == [32, 32, 32, 64, 64, 64, 128, 128, 128, 128, 128, 128]
    bert = LengthSchedule.stepwise((128,), until=(0.9,))  # BERT: 90% of the steps at 128, then 512
    assert [bert.length_at(t, 10, 512) for t in (0, 8, 9)] == [128, 128, 512]
    whole = LengthSchedule.stepwise((40,), until=(1.0,))
    assert {whole.length_at(t, 5, 64) for t in range(5)} == {40}


def test_linear_warmup_values_at_the_boundaries() -> None:
    schedule = LengthSchedule.linear(start_len=32, warmup=0.5)
    lengths = [schedule.length_at(t, 100, 128) for t in range(100)]
    assert lengths[0] == 32 and lengths[49] == 120 and lengths[50:] == [128] * 50
    assert lengths[25] == 80  # halfway through the warmup: 32 + 96 / 2
    assert lengths[4] == 32 and lengths[5] == 40  # 32 + 96 * 4 / 50 = 39.7 rounds down to 32; 41.6 to 40
    assert all(length % 8 == 0 for length in lengths)
    odd = LengthSchedule.linear(start_len=13, warmup=1.0, multiple_of=8)
    assert [odd.length_at(t, 4, 61) for t in range(4)] == [13, 24, 32, 48]
    assert odd.length_at(4, 4, 61) == 61  # after the warmup: the full length, even if not a multiple of 8


@given(
    steps=st.integers(1, 400),
    start=st.integers(2, 64),
    extra=st.integers(0, 200),
    warmup=st.floats(0.01, 1.0),
    multiple=st.sampled_from([1, 8, 16]),
)
def test_linear_warmup_is_monotone_and_bounded(
    steps: int, start: int, extra: int, warmup: float, multiple: int
) -> None:
    full = start + extra
    schedule = LengthSchedule.linear(start_len=start, warmup=warmup, multiple_of=multiple)
    lengths = [schedule.length_at(t, steps, full) for t in range(steps + 2)]
    assert lengths[0] == start and lengths[-1] == full
    assert all(a <= b for a, b in zip(lengths, lengths[1:]))
    assert all(length == start or length == full or length % multiple == 0 for length in lengths)


def test_constant_tokens_per_step_when_the_length_divides() -> None:
    schedule = LengthSchedule.stepwise((16, 32, 64), until=(0.25, 0.5, 0.75))
    curriculum = Curriculum(schedule)
    plans = [curriculum.plan(t, 8, full_len=128, batch_size=12, divisor=4) for t in range(8)]
    assert [p.length for p in plans] == [16, 16, 32, 32, 64, 64, 128, 128]
    assert [p.batch_size for p in plans] == [96, 96, 48, 48, 24, 24, 12, 12]
    assert {p.tokens for p in plans} == {12 * 128}
    assert all(p.mask_prob is None for p in plans)


@given(
    batch_parts=st.integers(1, 40),
    divisor=st.sampled_from([1, 2, 3, 4, 8]),
    full=st.integers(8, 300),
    length_share=st.floats(0.0, 1.0),
)
def test_constant_tokens_rounding_stays_within_one_piece_per_part(
    batch_parts: int, divisor: int, full: int, length_share: float
) -> None:
    batch, length = batch_parts * divisor, max(2, round(length_share * full))
    sequences = LengthSchedule.linear(2, 0.5).batch_at(length, full, batch, divisor)
    assert sequences % divisor == 0 and sequences >= batch
    assert batch * full - divisor * length < sequences * length <= batch * full


def test_keep_batch_holds_the_number_of_sequences() -> None:
    curriculum = Curriculum(LengthSchedule.stepwise((24,), until=(0.5,), keep="batch"))
    plans = [curriculum.plan(t, 4, full_len=96, batch_size=10) for t in range(4)]
    assert [(p.length, p.batch_size, p.tokens) for p in plans] == [(24, 10, 240)] * 2 + [(96, 10, 960)] * 2


def test_mask_rate_moves_linearly_from_start_to_end() -> None:
    schedule = MaskRateSchedule(start=0.4, end=0.2)
    rates = [schedule.rate_at(t, 5) for t in range(7)]
    assert rates == pytest.approx([0.4, 0.35, 0.3, 0.25, 0.2, 0.2, 0.2])
    assert MaskRateSchedule.fixed(0.3).rate_at(3, 9) == 0.3
    assert MaskRateSchedule(0.3, 0.1).rate_at(0, 1) == pytest.approx(0.1)  # a one-step run is at its end
    plan = Curriculum(mask_rate=schedule).plan(2, 5, full_len=64, batch_size=4)
    assert plan == StepPlan(length=64, batch_size=4, mask_prob=pytest.approx(0.3))


@pytest.mark.parametrize(
    "curriculum",
    [
        Curriculum(),
        Curriculum(LengthSchedule.stepwise((16, 48), until=(0.2, 0.7), keep="batch"), MaskRateSchedule(0.3, 0.15)),
        Curriculum(LengthSchedule.linear(24, 0.35, multiple_of=16), MaskRateSchedule.fixed(0.4)),
        Curriculum(mask_rate=MaskRateSchedule.fixed(0.4), replace_probs=(0.3, 0.0375, 0.6625)),
    ],
)
def test_json_round_trip(curriculum: Curriculum) -> None:
    text = json.dumps(curriculum.to_dict())
    again = Curriculum.from_dict(json.loads(text))
    assert again == curriculum
    assert again.plan(3, 10, full_len=64, batch_size=8) == curriculum.plan(3, 10, full_len=64, batch_size=8)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: LengthSchedule(kind="cubic"), r"LengthSchedule.kind must be one of .* got 'cubic'"),
        (lambda: LengthSchedule(keep="flops"), r"LengthSchedule.keep must be one of .* got 'flops'"),
        (lambda: LengthSchedule.linear(1, 0.5), r"LengthSchedule.start_len must be a whole number >= 2, got 1"),
        (lambda: LengthSchedule.linear(32, 0.0), r"LengthSchedule.warmup must be in \(0, 1\], got 0.0; try 0.5"),
        (lambda: LengthSchedule.linear(32, 0.5, multiple_of=0), r"multiple_of must be a whole number >= 1, got 0"),
        (lambda: LengthSchedule.stepwise((32,), until=()), r"as many lengths as until fractions.*lengths=\(32,\)"),
        (lambda: LengthSchedule.stepwise((64, 32), (0.2, 0.4)), r"stepwise lengths must increase, got \(64, 32\)"),
        (lambda: LengthSchedule.stepwise((32, 64), (0.5, 0.5)), r"until fractions must increase within \(0, 1\]"),
        (lambda: LengthSchedule.stepwise((32,), (1.5,)), r"until fractions must increase within .* got \(1.5,\)"),
        (
            lambda: LengthSchedule.stepwise((32.0,), (0.5,)),
            r"LengthSchedule.lengths\[0\] must be a whole number, got 32.0",
        ),
        (lambda: MaskRateSchedule(0.0, 0.15), r"MaskRateSchedule.start must be strictly between 0 and 1, got 0.0"),
        (lambda: MaskRateSchedule(0.15, True), r"MaskRateSchedule.end must be a number, got True"),
        (
            lambda: Curriculum(length="linear"),
            r"Curriculum.length must be a LengthSchedule \(or a JSON object of its fields\), got 'linear'",
        ),
        (
            lambda: Curriculum(replace_probs=(0.5, 0.5, 0.5)),
            r"replace_probs must sum to 1, got \(0.5, 0.5, 0.5\)",
        ),
        (
            lambda: Curriculum(mask_rate=0.3),
            r"Curriculum.mask_rate must be a MaskRateSchedule \(or a JSON object of its fields\), got 0.3",
        ),
    ],
)
def test_bad_schedules_are_rejected_with_the_fix(make, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_steps_and_lengths_are_rejected() -> None:
    schedule = LengthSchedule.stepwise((32, 96), until=(0.3, 0.6))
    with pytest.raises(ValueError, match=r"reaches 96 tokens but the full length \(seq_len\) is 64; use shorter"):
        schedule.length_at(0, 10, 64)
    with pytest.raises(ValueError, match=r"step must be a whole number >= 0, got -1"):
        schedule.length_at(-1, 10, 128)
    with pytest.raises(ValueError, match=r"total_steps must be a whole number >= 1, got 0"):
        MaskRateSchedule().rate_at(0, 0)
    with pytest.raises(ValueError, match=r"length=129 must be in \[1, full_len=128\]"):
        schedule.batch_at(129, 128, 8)
    with pytest.raises(ValueError, match=r"batch_size=10 is not a multiple of divisor=4; choose one that is"):
        schedule.batch_at(32, 128, 10, divisor=4)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], r"Curriculum fields must be a JSON object, got list"),
        (
            {"lenght": {}},
            r"unknown Curriculum field\(s\) \['lenght'\]; known fields are \['length', 'mask_rate', 'replace_probs'\]",
        ),
        ({"length": {"kind": "linear", "start": 8}}, r"unknown LengthSchedule field\(s\) \['start'\]"),
        ({"mask_rate": {"rate": 0.3}}, r"unknown MaskRateSchedule field\(s\) \['rate'\]"),
        (
            {"length": "linear"},
            r"Curriculum.length must be a LengthSchedule \(or a JSON object of its fields\), got 'linear'",
        ),
    ],
)
def test_bad_json_is_rejected(data: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Curriculum.from_dict(data)  # type: ignore[arg-type]
