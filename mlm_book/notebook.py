"""Helpers the chapter notebooks share: deterministic set-up and showing package source.

Every chapter starts with ``setup_notebook(seed)`` so that its printed numbers are the same on
every run (the tests compare them with nbval), and shows package code with
``show_source(obj)`` so that a chapter goes stale, and fails its test, when the code changes.
"""

from __future__ import annotations

import inspect
import random
import warnings

import torch


def setup_notebook(seed: int = 0, *, threads: int = 1) -> torch.Generator:
    """Seed every random source, fix the thread count and quiet library chatter.

    Args:
        seed: seed for Python's ``random``, torch's global generator and the returned one.
        threads: torch intra-op threads. One thread makes float sums run in a fixed order,
            so printed numbers do not depend on the machine; training chapters may use more.

    Returns:
        A ``torch.Generator`` seeded with ``seed``, for the chapter's random functions.
    """
    random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.set_printoptions(precision=4, sci_mode=False)
    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm without ipywidgets
    _quiet_libraries()
    _png_figures()
    return torch.Generator().manual_seed(seed)


def show_source(obj: object) -> None:
    """Print the source code of a package function, class or module.

    Args:
        obj: anything ``inspect.getsource`` accepts.
    """
    print(inspect.getsource(obj).rstrip())


def _quiet_libraries() -> None:
    """Turn off progress bars and info logs of datasets and transformers, if installed."""
    try:
        import datasets

        datasets.disable_progress_bars()
        datasets.logging.set_verbosity_error()
    except ImportError:  # pragma: no cover - datasets is a dependency
        pass
    try:
        import transformers

        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()
    except ImportError:  # pragma: no cover - transformers is a dependency
        pass


def _png_figures() -> None:
    """Make matplotlib draw PNG figures of a fixed size and resolution."""
    import matplotlib

    matplotlib.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "figure.figsize": (6.4, 4.0)})
    try:
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("png")
    except ImportError:  # pragma: no cover - only outside Jupyter
        pass
