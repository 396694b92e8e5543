"""Training state: optimizer, scheduler and generators survive a save/load exactly; bad files fail clearly."""

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from mlm_book.training.optim import Schedule, make_optimizer, make_scheduler
from mlm_book.training.state import TrainState, check_position, load_train_state, save_train_state


def _setup(width: int = 5) -> tuple[nn.Module, torch.optim.AdamW, torch.optim.lr_scheduler.LambdaLR]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, width), nn.LayerNorm(width), nn.Linear(width, 7))
    optimizer = make_optimizer(model, lr=0.05, betas=(0.9, 0.98))
    return model, optimizer, make_scheduler(optimizer, Schedule(total_steps=9, warmup_steps=2))


def _train(model: nn.Module, optimizer: torch.optim.Optimizer, scheduler, steps: int, seed: int) -> None:
    data = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        loss = model(torch.randn(4, 3, generator=data)).square().mean()
        loss.backward()
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()


def _state(step: int) -> TrainState:
    order = torch.Generator().manual_seed(11)
    masking = torch.Generator().manual_seed(12)
    torch.rand(3, generator=masking)  # advance so the two states differ
    return TrainState(step, 1, 2, 333, order.get_state(), masking.get_state())


def test_round_trip_continues_identically(tmp_path: Path) -> None:
    model, optimizer, scheduler = _setup()
    _train(model, optimizer, scheduler, 3, seed=1)
    saved = _state(3)
    save_train_state(tmp_path, saved, optimizer, scheduler)
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    _train(model, optimizer, scheduler, 4, seed=2)

    model2, optimizer2, scheduler2 = _setup()
    model2.load_state_dict(weights)
    loaded = load_train_state(tmp_path, optimizer2, scheduler2)
    assert (loaded.step, loaded.epoch, loaded.batch_in_epoch, loaded.tokens_seen) == (3, 1, 2, 333)
    for name in ("order_state", "masking_state"):
        assert torch.equal(getattr(loaded, name), getattr(saved, name))
    assert optimizer2.param_groups[0]["betas"] == (0.9, 0.98)
    assert scheduler2.last_epoch == 3
    _train(model2, optimizer2, scheduler2, 4, seed=2)
    for key, value in model.state_dict().items():
        assert torch.equal(value, model2.state_dict()[key]), key


def test_json_holds_no_tensors_and_keeps_integer_keys(tmp_path: Path) -> None:
    model, optimizer, scheduler = _setup()
    _train(model, optimizer, scheduler, 1, seed=1)
    save_train_state(tmp_path, _state(1), optimizer, scheduler)
    body = json.loads((tmp_path / "train_state.json").read_text())
    assert body["optimizer"]["state"]["__items__"][0][0] == 0
    assert body["rng"]["order"] == {"__tensor__": "rng.order"}


def test_longer_resumed_schedule_is_kept(tmp_path: Path) -> None:
    model, optimizer, scheduler = _setup()
    _train(model, optimizer, scheduler, 3, seed=1)
    save_train_state(tmp_path, _state(3), optimizer, scheduler)
    model2, optimizer2, _ = _setup()
    longer = make_scheduler(optimizer2, Schedule(total_steps=90, warmup_steps=2))
    load_train_state(tmp_path, optimizer2, longer)
    assert longer.lr_lambdas[0].total_steps == 90


def test_corrupt_and_mismatched_files_are_named(tmp_path: Path) -> None:
    model, optimizer, scheduler = _setup()
    _train(model, optimizer, scheduler, 1, seed=1)
    save_train_state(tmp_path, _state(1), optimizer, scheduler)
    _, wide_optimizer, wide_scheduler = _setup(width=6)
    with pytest.raises(ValueError, match=r"train_state.safetensors holds optimizer state 'exp_avg' of shape \(5, 3\)"):
        load_train_state(tmp_path, wide_optimizer, wide_scheduler)

    tensors = tmp_path / "train_state.safetensors"
    good = tensors.read_bytes()
    tensors.write_bytes(good[: len(good) // 2])
    with pytest.raises(ValueError, match="train_state.safetensors is corrupt or not a safetensors file"):
        load_train_state(tmp_path, *_setup()[1:])
    tensors.write_bytes(good)

    body = json.loads((tmp_path / "train_state.json").read_text())
    body["step"] = 7
    (tmp_path / "train_state.json").write_text(json.dumps(body))
    with pytest.raises(ValueError, match="is from step 1 but .*train_state.json from step 7; the two files come"):
        load_train_state(tmp_path, *_setup()[1:])
    body.update(step=1, version=99)
    (tmp_path / "train_state.json").write_text(json.dumps(body))
    with pytest.raises(ValueError, match="has format version 99; this mlm_book reads version 1"):
        load_train_state(tmp_path, *_setup()[1:])
    (tmp_path / "train_state.json").write_text('{"format": "other"}')
    with pytest.raises(ValueError, match="train_state.json is not a training state written by mlm_book"):
        load_train_state(tmp_path, *_setup()[1:])


def test_missing_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="train_state.json does not exist"):
        load_train_state(tmp_path, *_setup()[1:])
    model, optimizer, scheduler = _setup()
    save_train_state(tmp_path, _state(0), optimizer, scheduler)
    (tmp_path / "train_state.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="train_state.safetensors does not exist; the checkpoint is incomplete"):
        load_train_state(tmp_path, optimizer, scheduler)


def test_missing_tensor_and_group_mismatch(tmp_path: Path) -> None:
    model, optimizer, scheduler = _setup()
    _train(model, optimizer, scheduler, 1, seed=1)
    save_train_state(tmp_path, _state(1), optimizer, scheduler)
    body = json.loads((tmp_path / "train_state.json").read_text())
    body["rng"]["order"] = {"__tensor__": "rng.elsewhere"}
    (tmp_path / "train_state.json").write_text(json.dumps(body))
    with pytest.raises(ValueError, match="lacks the tensor 'rng.elsewhere'"):
        load_train_state(tmp_path, *_setup()[1:])
    save_train_state(tmp_path, _state(1), optimizer, scheduler)
    other = nn.Sequential(nn.Linear(3, 5), nn.Linear(5, 7))
    other_optimizer = make_optimizer(other, lr=0.1)
    with pytest.raises(ValueError, match=r"parameter groups of sizes \[2, 4\], but the model has \[2, 2\]"):
        load_train_state(tmp_path, other_optimizer, make_scheduler(other_optimizer, Schedule(9)))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"step": 500}, r"is at step 500 but its scheduler has taken 3 steps; the training state is corrupt or was"),
        ({"step": -1}, r"holds step=-1, not a whole number >= 0"),
        ({"epoch": "1"}, r"holds epoch='1', not a whole number >= 0"),
        ({"batch_in_epoch": True}, r"holds batch_in_epoch=True, not a whole number"),
        ({"tokens_seen": 2.5}, r"holds tokens_seen=2.5, not a whole number"),
    ],
)
def test_edited_positions_are_refused(tmp_path: Path, edit: dict, message: str) -> None:
    model, optimizer, scheduler = _setup()
    _train(model, optimizer, scheduler, 3, seed=1)
    save_train_state(tmp_path, _state(3), optimizer, scheduler)
    body = json.loads((tmp_path / "train_state.json").read_text())
    (tmp_path / "train_state.json").write_text(json.dumps(body | edit))
    if "step" in edit:  # keep the tensors' step in agreement, as a careful edit would
        from safetensors.torch import load_file, save_file

        tensors = load_file(str(tmp_path / "train_state.safetensors"))
        save_file(tensors, str(tmp_path / "train_state.safetensors"), metadata={"step": str(edit["step"])})
    _, optimizer2, scheduler2 = _setup()
    with pytest.raises(ValueError, match=message):
        load_train_state(tmp_path, optimizer2, scheduler2)


def test_check_position(tmp_path: Path) -> None:
    state = _state(12)  # epoch 1, batch 2: 10 batches per epoch
    check_position(state, steps=12, batches_per_epoch=10)
    check_position(state, steps=50, batches_per_epoch=10)
    with pytest.raises(ValueError, match=r"run is at step 12, beyond steps=11; pass --steps 12 or more to train on"):
        check_position(state, steps=11, batches_per_epoch=10, source="run")
    with pytest.raises(ValueError, match=r"step 12, epoch 1, batch 2, which does not fit 7 batches per epoch"):
        check_position(state, steps=50, batches_per_epoch=7)
    at_end = TrainState(10, 0, 10, 1, state.order_state, state.masking_state)  # saved after an epoch's last batch
    check_position(at_end, steps=10, batches_per_epoch=10)
    with pytest.raises(ValueError, match="does not fit 9 batches per epoch"):
        check_position(at_end, steps=10, batches_per_epoch=9)
