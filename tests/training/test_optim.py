"""AdamW parameter groups: decay on weight matrices only, none on biases and LayerNorm."""

import pytest
import torch
from torch import nn

from mlm_book.training.optim import make_optimizer, split_parameters


class _Toy(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(11, 6)
        self.linear = nn.Linear(6, 5)
        self.norm = nn.LayerNorm(5)
        self.head = nn.Linear(5, 11, bias=False)
        self.frozen = nn.Linear(2, 2)
        self.frozen.requires_grad_(False)


def test_split_parameters_by_role() -> None:
    groups = split_parameters(_Toy())
    assert groups.decay == ("embed.weight", "linear.weight", "head.weight")
    assert groups.no_decay == ("linear.bias", "norm.weight", "norm.bias")


def test_tied_weights_appear_once() -> None:
    model = _Toy()
    model.head = nn.Linear(6, 11, bias=False)
    model.head.weight = model.embed.weight
    groups = split_parameters(model)
    assert groups.decay.count("embed.weight") == 1 and "head.weight" not in groups.decay


def test_make_optimizer_groups_and_decay_effect() -> None:
    torch.manual_seed(0)
    model = _Toy()
    optimizer = make_optimizer(model, lr=0.1, weight_decay=0.5, betas=(0.9, 0.98), eps=1e-6)
    assert [g["weight_decay"] for g in optimizer.param_groups] == [0.5, 0.0]
    assert optimizer.param_groups[0]["betas"] == (0.9, 0.98)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    for p in model.parameters():  # zero gradients: only weight decay moves parameters
        p.grad = torch.zeros_like(p)
    optimizer.step()
    after = dict(model.named_parameters())
    assert torch.allclose(after["linear.weight"], before["linear.weight"] * (1 - 0.1 * 0.5))
    assert torch.equal(after["norm.weight"], before["norm.weight"])
    assert torch.equal(after["linear.bias"], before["linear.bias"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": 0.0}, "lr must be positive, got 0.0"),
        ({"lr": 1e-3, "weight_decay": -1.0}, "weight_decay must be >= 0, got -1.0"),
        ({"lr": 1e-3, "betas": (0.9, 1.0)}, r"betas must be two numbers in \[0, 1\), got \(0.9, 1.0\)"),
        ({"lr": 1e-3, "eps": 0.0}, "eps must be positive, got 0.0"),
    ],
)
def test_bad_optimizer_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_optimizer(_Toy(), **kwargs)
