"""Learning-rate schedules: warmup, linear and cosine decay, and the LambdaLR wiring."""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from mlm_book.training.optim import Schedule, make_scheduler


def test_linear_warmup_then_linear_decay_values() -> None:
    schedule = Schedule(total_steps=7, warmup_steps=2, decay="linear", final_ratio=0.0)
    expected = [0.5, 1.0, 1.0, 0.75, 0.5, 0.25, 0.0]
    assert schedule.values() == pytest.approx(expected, abs=1e-12)


def test_cosine_decay_reaches_the_floor_and_passes_the_midpoint() -> None:
    schedule = Schedule(total_steps=12, warmup_steps=1, decay="cosine", final_ratio=0.1)
    values = schedule.values()
    assert values[0] == 1.0 and values[1] == pytest.approx(1.0)
    assert values[6] == pytest.approx(0.1 + 0.9 * 0.5)  # progress 1/2: cos(pi/2) = 0
    assert values[-1] == pytest.approx(0.1)
    reference = [0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (t - 1) / 10)) for t in range(1, 12)]
    assert values[1:] == pytest.approx(reference)


def test_constant_and_no_warmup() -> None:
    assert Schedule(total_steps=5, decay="constant").values() == [1.0] * 5
    assert Schedule(total_steps=3, decay="linear").values() == pytest.approx([1.0, 0.5, 0.0])
    assert Schedule(total_steps=1).values() == [1.0]


@given(
    total=st.integers(1, 300),
    warmup_fraction=st.floats(0, 1),
    decay=st.sampled_from(["linear", "cosine", "constant"]),
    final=st.floats(0, 1),
)
def test_multiplier_bounded_and_monotone_after_warmup(
    total: int, warmup_fraction: float, decay: str, final: float
) -> None:
    warmup = int(warmup_fraction * total)
    values = Schedule(total, warmup, decay, final).values()  # type: ignore[arg-type]
    assert all(min(final, 1 / max(warmup, 1)) - 1e-12 <= v <= 1.0 + 1e-12 for v in values)
    assert all(a <= b + 1e-12 for a, b in zip(values[:warmup], values[1 : warmup + 1]))
    assert all(a >= b - 1e-12 for a, b in zip(values[warmup:], values[warmup + 1 :]))


def test_lambda_lr_follows_the_schedule_and_round_trips_its_state() -> None:
    param = torch.nn.Parameter(torch.zeros(3))
    optimizer = torch.optim.SGD([param], lr=0.2)
    schedule = Schedule(total_steps=5, warmup_steps=2, decay="linear")
    scheduler = make_scheduler(optimizer, schedule)
    seen = []
    for _ in range(5):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert seen == pytest.approx([0.2 * v for v in schedule.values()])
    state = scheduler.state_dict()
    fresh = make_scheduler(torch.optim.SGD([param], lr=0.2), schedule)
    fresh.load_state_dict(state)
    assert fresh.last_epoch == 5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"total_steps": 0}, "total_steps must be a whole number >= 1, got 0"),
        ({"total_steps": 5, "warmup_steps": 6}, r"warmup_steps must be an integer in \[0, total_steps=5\], got 6"),
        ({"total_steps": 5, "decay": "step"}, "decay must be one of"),
        ({"total_steps": 5, "final_ratio": 1.5}, r"final_ratio must be in \[0, 1\], got 1.5"),
    ],
)
def test_bad_schedules_are_rejected(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Schedule(**kwargs)
