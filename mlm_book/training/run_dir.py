"""A training run's directory: one complete checkpoint, replaced atomically as a whole.

The directory holds ``model.safetensors`` and ``config.json`` (the model, loadable with
``model.checkpoint.load_model``), ``tokenizer.json``, ``train_config.json``, ``train_state.safetensors``
and ``train_state.json`` (optimizer, scheduler, data position, generators) and ``history.json``.
A checkpoint is first written whole into a staging folder, marked complete, then moved into
place file by file. If the process dies while moving, the next start finishes the move (the
staging folder is complete); if it dies while writing, the incomplete staging folder is
deleted. Either way the directory holds one consistent checkpoint.

Only a writer recovers, and only under the run's lock (``training.lock``): reading a run
(``read_run``, ``evaluate``, ``fill-mask``, ``export-hf``) never changes its checkpoint, so a reader
cannot disturb a training that is writing its staging folder right now (``evaluate`` writes its
scores beside it, in ``eval_results.json``; ``mlm-book train`` keeps a transformers copy in ``hf/``).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from tokenizers import Tokenizer

from mlm_book.model.checkpoint import CONFIG_FILE, TOKENIZER_FILE, WEIGHTS_FILE, read_config, save_model
from mlm_book.model.config import ModelConfig
from mlm_book.model.mlm import MLMModel
from mlm_book.training.config import RESUMABLE_CHANGES, TrainConfig
from mlm_book.training.lock import LOCK_FILE, check_not_locked
from mlm_book.training.state import STATE_JSON, STATE_TENSORS
from mlm_book.utils.atomic import read_json, write_json_atomically

TRAIN_CONFIG_FILE = "train_config.json"
HISTORY_FILE = "history.json"
RUN_FILES: tuple[str, ...] = (
    WEIGHTS_FILE,
    TOKENIZER_FILE,
    HISTORY_FILE,
    STATE_TENSORS,
    STATE_JSON,
    CONFIG_FILE,
    TRAIN_CONFIG_FILE,
)
"""Every file of a checkpoint, in the order they are moved into place."""
STAGING = ".checkpoint-staging"
COMPLETE = "COMPLETE"
CORPUS_FILE = "corpus.json"
"""The fingerprint of the corpus a run trains on, written when it starts (``corpus.fingerprint``)."""
NOT_A_CHECKPOINT: frozenset[str] = frozenset({LOCK_FILE, CORPUS_FILE})
"""Files a run directory may hold before its first checkpoint; a directory with only these is empty."""


@dataclass(frozen=True)
class RunFiles:
    """What a run directory holds, read without loading any tensor.

    Attributes:
        directory: the run directory.
        model_config: from ``config.json``.
        train_config: from ``train_config.json``.
    """

    directory: Path
    model_config: ModelConfig
    train_config: TrainConfig


def recover(directory: Path) -> None:
    """Finish or discard a checkpoint that a crash interrupted.

    Call it only while holding the run's lock: it moves and deletes files.

    Args:
        directory: a run directory (nothing happens if it has no staging folder).

    Raises:
        ValueError: if the staging folder is a symbolic link (its files would come from outside).
    """
    staging = Path(directory) / STAGING
    if staging.is_symlink():
        raise ValueError(f"{staging} is a symbolic link, not a staging folder of this run; remove the link")
    if not staging.is_dir():
        return
    if (staging / COMPLETE).is_file():
        _move_into_place(staging, Path(directory))
    else:
        shutil.rmtree(staging)


def _move_into_place(staging: Path, directory: Path) -> None:
    for name in RUN_FILES:
        if (staging / name).exists():
            os.replace(staging / name, directory / name)
    shutil.rmtree(staging)


def is_run(directory: Path) -> bool:
    """True if ``directory`` holds a training run (a ``train_config.json``)."""
    return (Path(directory) / TRAIN_CONFIG_FILE).is_file()


def read_run(directory: Path) -> RunFiles:
    """Read a run directory's configs; never writes, moves or deletes anything.

    Args:
        directory: a directory written by ``save_checkpoint``.

    Returns:
        Its model and training configs.

    Raises:
        FileNotFoundError: if it is not a run directory.
        ValueError: if a config file is corrupt.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory} does not exist; give the --out directory of a training run")
    if not is_run(directory):
        raise FileNotFoundError(f"{directory} is not a training run (no {TRAIN_CONFIG_FILE}); give the --out of a run")
    data = read_json(directory / TRAIN_CONFIG_FILE)
    try:
        train_config = TrainConfig.from_dict(data)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{directory / TRAIN_CONFIG_FILE}: {error}") from error
    return RunFiles(directory, read_config(directory / CONFIG_FILE), train_config)


def check_out_dir(
    directory: Path, train_config: TrainConfig, model_config: ModelConfig, *, resume: bool
) -> RunFiles | None:
    """Decide whether a run may write to ``directory``; never harms what is there.

    A new run needs a missing or empty directory (``NOT_A_CHECKPOINT`` files aside). ``resume``
    needs a run whose model config is equal and whose training config differs at most in
    ``RESUMABLE_CHANGES``. A checkpoint that a crash interrupted is finished or discarded first
    (``recover``), unless another process holds the run's lock.

    Args:
        directory: the ``--out`` directory.
        train_config: the config of the run about to start.
        model_config: the model config of the run about to start.
        resume: continue the run in ``directory``.

    Returns:
        The saved run to resume, or ``None`` for a new run.

    Raises:
        ValueError: if the directory may not be used, with the reason and the fix.
        training.lock.RunLockedError: if another process holds the run's lock.
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"--out {directory} is a file; give a directory for the run")
    if directory.is_dir():
        check_not_locked(directory)
        recover(directory)
    if not directory.is_dir() or all(p.name in NOT_A_CHECKPOINT for p in directory.iterdir()):
        if resume:
            raise ValueError(f"--resume: {directory} holds no run to resume; drop --resume to start a new run")
        return None
    if not is_run(directory):
        raise ValueError(
            f"--out {directory} is not empty and holds no training run (no {TRAIN_CONFIG_FILE}); "
            "choose a new or empty directory"
        )
    if not resume:
        raise ValueError(f"--out {directory} already holds a run; pass --resume to continue it or choose another --out")
    saved = read_run(directory)
    _check_same_run(saved, train_config, model_config)
    return saved


def _check_same_run(saved: RunFiles, train_config: TrainConfig, model_config: ModelConfig) -> None:
    if saved.model_config != model_config:
        mine, theirs = model_config.to_dict(), saved.model_config.to_dict()
        name = next(k for k in sorted(mine) if mine[k] != theirs[k])
        raise ValueError(
            f"--resume: the model's {name} is {mine[name]!r} but {saved.directory / CONFIG_FILE} has "
            f"{theirs[name]!r}; resume with the run's own settings or choose another --out"
        )
    changed = {k: v for k, v in train_config.differences(saved.train_config).items() if k not in RESUMABLE_CHANGES}
    if changed:
        name, (mine, theirs) = next(iter(changed.items()))
        raise ValueError(
            f"--resume: {name} is {mine!r} but {saved.directory / TRAIN_CONFIG_FILE} has {theirs!r}; "
            f"a resumed run may only change {', '.join(sorted(RESUMABLE_CHANGES))}"
        )


def stage_checkpoint(directory: Path, model: MLMModel, tokenizer: Tokenizer, train_config: TrainConfig) -> Path:
    """Start a checkpoint: write the model, tokenizer and training config into a fresh staging folder.

    The caller then writes the training state and history into the returned folder and calls
    ``commit_checkpoint``.

    Args:
        directory: the run directory (created if missing).
        model: the model (unwrapped from DDP or ``torch.compile``).
        tokenizer: the run's tokenizer.
        train_config: the run's training config.

    Returns:
        The staging folder.
    """
    staging = Path(directory) / STAGING
    if staging.is_symlink():
        raise ValueError(f"{staging} is a symbolic link, not a staging folder of this run; remove the link")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    save_model(model, staging, tokenizer)
    write_json_atomically(staging / TRAIN_CONFIG_FILE, train_config.to_dict())
    return staging


def commit_checkpoint(staging: Path) -> None:
    """Mark a staged checkpoint complete and move it into its run directory.

    Args:
        staging: the folder returned by ``stage_checkpoint``, holding every file of ``RUN_FILES``.
    """
    missing = [name for name in RUN_FILES if not (staging / name).is_file()]
    if missing:
        raise ValueError(f"the staged checkpoint in {staging} lacks {missing}; it was not committed")
    write_json_atomically(staging / COMPLETE, {"files": list(RUN_FILES)})
    _move_into_place(staging, staging.parent)
