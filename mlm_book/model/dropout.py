r"""Dropout with a cheaper random mask on the CPU.

In training, dropout zeroes each entry of a tensor with probability $p$ and scales the rest so
that the expected value is unchanged:

$$\mathrm{dropout}(x)_i = \frac{m_i}{1 - p}\, x_i, \qquad m_i \sim \mathrm{Bernoulli}(1 - p).$$

On the CPU, PyTorch's ``bernoulli_`` draws one 32-bit Mersenne Twister number per entry and
converts it to a float; in a small BERT that is one step in seven. A keep/drop decision needs
far fewer random bits: here each 64-bit draw is cut into four 16-bit numbers $u$, and an entry
is dropped when $u < k$ with $k = \mathrm{round}(65536\,p)$, a quarter of the draws and about
three times faster. The rate is therefore $k / 65536$ (0.1 becomes 0.1000061), and the kept
entries are scaled by $65536 / (65536 - k)$, so the expectation stays exact. On a GPU,
PyTorch's fused dropout kernel is already fast and is used instead, as it is under
``torch.compile``, which fuses the mask into the surrounding kernels.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

LANES = 2**16
"""Number of distinct 16-bit values; the drop rate is rounded to a multiple of ``1 / LANES``."""


def _check_rate(p: float) -> None:
    """Raise ``ValueError`` unless ``p`` is a probability."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must be in [0, 1], got {p!r}")


def dropout_mask(
    shape: torch.Size | tuple[int, ...],
    p: float,
    *,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """A CPU dropout mask: ``0`` where an entry is dropped, ``1 / (1 - p')`` where it is kept.

    Args:
        shape: the shape of the tensor to drop entries of.
        p: the drop probability in [0, 1]; it is rounded to ``p' = round(p * 65536) / 65536``.
        generator: CPU random source; ``None`` uses torch's global generator.
        dtype: floating dtype of the mask.

    Returns:
        A ``shape`` tensor of ``dtype``; multiply it into the input.
    """
    _check_rate(p)
    dropped = round(p * LANES)
    if dropped == LANES:
        return torch.zeros(shape, dtype=dtype)
    count = math.prod(shape)
    words = torch.empty((count + 3) // 4, dtype=torch.int64)
    words.random_(-(2**63), None, generator=generator)  # every 64-bit pattern equally likely
    lanes = words.view(torch.int16)[:count].view(shape)  # uniform on [-32768, 32767]
    keep = lanes >= dropped - LANES // 2  # probability 1 - dropped / LANES
    return keep.to(dtype).mul_(LANES / (LANES - dropped))


def dropout(x: torch.Tensor, p: float, training: bool = True) -> torch.Tensor:
    """Drop entries of ``x`` with probability ``p`` in training; the identity otherwise.

    Args:
        x: any floating tensor.
        p: drop probability in [0, 1] (rounded to a multiple of 1/65536 on the CPU).
        training: apply dropout only if True.

    Returns:
        A tensor of ``x``'s shape; gradients flow through the kept entries, scaled alike.
    """
    if not training or p == 0.0:
        return x
    if x.device.type != "cpu" or torch.compiler.is_compiling():  # fused kernels draw their own masks
        return F.dropout(x, p, training=True)
    return x * dropout_mask(x.shape, p, dtype=x.dtype)


class Dropout(nn.Module):
    """``nn.Dropout`` with the cheaper CPU mask of ``dropout_mask`` (same behaviour otherwise).

    Args:
        p: drop probability in [0, 1].
    """

    def __init__(self, p: float) -> None:
        super().__init__()
        _check_rate(p)
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply ``dropout(x, p)`` in training mode; return ``x`` unchanged in eval mode."""
        return dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        """Show the rate in ``print(model)``."""
        return f"p={self.p}"
