"""Load a text corpus as a ``datasets.DatasetDict`` with ``train``/``validation``/``test`` splits.

One function, :func:`load_corpus`, reads three kinds of source and returns the same shape,
one document per row in a single ``text`` column:

* ``"builtin"`` -- the book's synthetic English (:mod:`mlm_book.corpus.synthetic`), generated here;
* local files or globs -- ``.txt`` (one document per non-empty line), ``.jsonl``/``.json``
  and ``.parquet`` (a text column); files named ``train``/``validation``/``test`` keep
  their split, otherwise rows are split at random with a seed;
* ``"hub:NAME[:CONFIG]"`` -- a Hugging Face Hub dataset, e.g. ``hub:roneneldan/TinyStories``
  (needs the internet; asked through ``huggingface_hub``, so its endpoint, proxies, token and
  offline variables apply; fails at once, with one sentence, when the Hub is unreachable or
  the dataset is missing or gated).

Builtin and local data go through the same ``datasets`` code path. ``streaming=True`` gives
an ``IterableDatasetDict`` whose rows are assigned to splits by a seeded hash of their index.
"""

from __future__ import annotations

import os
import warnings
from itertools import islice

import datasets
from datasets.exceptions import DatasetGenerationError

from mlm_book.corpus.files import resolve_files
from mlm_book.corpus.synthetic.generate import DEFAULT_N_PARAGRAPHS, iter_paragraphs
from mlm_book.corpus.synthetic.rng import SplitMix64
from mlm_book.utils.config import check_number, check_whole
from mlm_book.utils.seeding import derive_seed

SPLITS = ("train", "validation", "test")
_SPLIT_ALIASES = {"valid": "validation", "dev": "validation", "val": "validation", "eval": "validation"}
_HUB_UNREACHABLE = (
    "The Hugging Face Hub cannot be reached from here ({why}); use source='builtin' "
    "or local files (.txt, .jsonl, .parquet) instead."
)
_HUB_TIMEOUT_S = 10.0


class HubUnavailableError(ConnectionError, ValueError):
    """The Hugging Face Hub cannot be reached (offline mode or no connection)."""


def load_corpus(
    source: str = "builtin",
    *,
    n_paragraphs: int = DEFAULT_N_PARAGRAPHS,
    seed: int = 0,
    validation_fraction: float = 0.05,
    test_fraction: float = 0.05,
    streaming: bool = False,
    text_column: str = "text",
    world_seed: int = 0,
) -> datasets.DatasetDict | datasets.IterableDatasetDict:
    """Load a corpus with ``train``, ``validation`` and ``test`` splits and a ``text`` column.

    Args:
        source: ``"builtin"``, a file, a directory, a glob (``"data/*.txt"``), or
            ``"hub:NAME"``/``"hub:NAME:CONFIG"``.
        n_paragraphs: paragraphs to generate for ``"builtin"`` (ignored otherwise).
        seed: seed of the builtin text and of the split of data that has none.
        validation_fraction: share of rows for validation, when the data has no such split.
        test_fraction: share of rows for test, when the data has no such split.
        streaming: return an ``IterableDatasetDict`` that reads rows lazily.
        text_column: column holding the text in ``.jsonl``/``.parquet``/Hub data; it is
            renamed ``text``. Plain ``.txt`` files always have ``text``.
        world_seed: world of the builtin corpus (see :func:`mlm_book.corpus.world`).

    Returns:
        Splits ``train``, ``validation``, ``test``, each with the single column ``text``
        and no empty rows. Splits never share a row.

    Raises:
        ValueError: for a bad argument, or empty, binary or non-UTF-8 files.
        FileNotFoundError: when a file, directory or glob matches nothing.
        HubUnavailableError: when a ``hub:`` source is asked for and the Hub is unreachable.
    """
    _check_arguments(source, n_paragraphs, seed, validation_fraction, test_fraction, text_column)
    fractions = (validation_fraction, test_fraction)
    if source == "builtin":
        raw = _builtin(n_paragraphs, seed, world_seed, streaming)
    elif source.startswith("hub:"):
        raw = _hub(source, streaming)
    else:
        raw = _local(source, streaming)
    raw = datasets.IterableDatasetDict(raw) if streaming else datasets.DatasetDict(raw)
    raw = type(raw)({_SPLIT_ALIASES.get(name, name): split for name, split in raw.items()})
    for name, split in raw.items():
        raw[name] = _only_text(split, text_column if source != "builtin" else "text", source)
    return _complete_splits(raw, seed, fractions, streaming, source)


def _check_arguments(
    source: object,
    n_paragraphs: object,
    seed: object,
    validation_fraction: object,
    test_fraction: object,
    text_column: object,
) -> None:
    if not isinstance(source, str) or not source.strip():
        raise ValueError(f"source must be 'builtin', a path or glob, or 'hub:NAME', got {source!r}")
    check_whole(n_paragraphs, "n_paragraphs", 1)
    check_whole(seed, "seed", 0)
    for name, value in (("validation_fraction", validation_fraction), ("test_fraction", test_fraction)):
        check_number(value, name, low=0.0, high=1.0, high_open=True)
    if validation_fraction + test_fraction >= 1:  # type: ignore[operator]
        raise ValueError(
            f"validation_fraction + test_fraction must be below 1 to leave rows for training, "
            f"got {validation_fraction} + {test_fraction}"
        )
    if not isinstance(text_column, str) or not text_column:
        raise ValueError(f"text_column must be a non-empty column name, got {text_column!r}")


def _local(source: str, streaming: bool) -> dict:
    """Load checked local files; a line ``datasets`` cannot parse is a ValueError naming the source."""
    files = resolve_files(source)
    try:
        return dict(datasets.load_dataset(files.builder, data_files=files.data_files, streaming=streaming))
    except (ValueError, TypeError, DatasetGenerationError) as error:
        cause = error.__cause__ if isinstance(error, DatasetGenerationError) and error.__cause__ else error
        why = " ".join(str(cause).split())[:300]
        raise ValueError(
            f"cannot read {source!r} as {files.builder} data ({type(cause).__name__}: {why}); "
            "fix or remove the malformed line or file"
        ) from None


def _builtin(n_paragraphs: int, seed: int, world_seed: int, streaming: bool) -> dict:
    """The synthetic corpus as one ``train`` split (before splitting), without duplicates."""
    if streaming:
        split = datasets.IterableDataset.from_generator(
            _builtin_rows,
            features=datasets.Features({"text": datasets.Value("string")}),
            gen_kwargs={"n_paragraphs": n_paragraphs, "seed": seed, "world_seed": world_seed},
        )
        return {"train": split}
    texts = list(dict.fromkeys(islice(iter_paragraphs(seed=seed, world_seed=world_seed), n_paragraphs)))
    return {"train": datasets.Dataset.from_dict({"text": texts})}


def _builtin_rows(n_paragraphs: int, seed: int, world_seed: int):
    for text in islice(iter_paragraphs(seed=seed, world_seed=world_seed), n_paragraphs):
        yield {"text": text}


def _hub_offline_reason() -> str | None:
    """Why the Hub may not be used: offline mode from the standard variables, or None."""
    from huggingface_hub import constants

    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        if os.environ.get(name, "").strip().upper() in ("1", "ON", "YES", "TRUE"):
            return f"{name} is set"
    if constants.is_offline_mode():  # set when huggingface_hub was imported
        return "huggingface_hub is in offline mode"
    return None


def _check_hub_dataset(name: str) -> None:
    """Ask the Hub for ``name`` through ``huggingface_hub`` (its endpoint, proxies and token); one line if not."""
    from huggingface_hub import HfApi, errors

    try:
        HfApi().dataset_info(name, timeout=_HUB_TIMEOUT_S)
    except errors.GatedRepoError:
        raise ValueError(
            f"the Hub dataset {name!r} is gated; accept its terms on its page and log in (`hf auth login`)"
        ) from None
    except errors.RepositoryNotFoundError:
        raise ValueError(f"the Hub has no dataset {name!r} (or it is private); check the name") from None
    except (errors.HTTPError, OSError) as error:  # HTTPError: every transport and HTTP error of huggingface_hub
        raise HubUnavailableError(_HUB_UNREACHABLE.format(why=_why(error))) from None


def _why(error: BaseException) -> str:
    """``TypeName: first line of the message`` (short), for one-line errors."""
    first = str(error).strip().splitlines()[0][:120] if str(error).strip() else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


def _hub(source: str, streaming: bool) -> dict:
    """Load ``hub:NAME[:CONFIG]`` with ``datasets.load_dataset``, failing fast when offline."""
    from huggingface_hub import errors

    _, _, rest = source.partition(":")
    name, _, config = rest.partition(":")
    if not name:
        raise ValueError(f"hub source needs a dataset name, e.g. 'hub:roneneldan/TinyStories', got {source!r}")
    reason = _hub_offline_reason()
    if reason is not None:
        raise HubUnavailableError(_HUB_UNREACHABLE.format(why=reason))
    _check_hub_dataset(name)
    try:
        loaded = datasets.load_dataset(name, config or None, streaming=streaming)
    except (ConnectionError, TimeoutError, errors.HTTPError) as error:
        raise HubUnavailableError(_HUB_UNREACHABLE.format(why=_why(error))) from None
    return dict(loaded)


def _only_text(split, text_column: str, source: str):
    """Keep one column named ``text`` with non-empty strings only."""
    columns = split.column_names
    if columns is not None and text_column not in columns:
        raise ValueError(
            f"{source!r} has no column {text_column!r}; its columns are {sorted(columns)}: "
            f"pass text_column=<one of them>"
        )
    split = split.select_columns([text_column])
    if text_column != "text":
        split = split.rename_column(text_column, "text")
    if isinstance(split, datasets.Dataset):
        strings = split.filter(lambda texts: [isinstance(t, str) for t in texts], batched=True, input_columns="text")
        dropped = len(split) - len(strings)
        if dropped:
            example = next(t for t in split["text"] if not isinstance(t, str))
            warnings.warn(
                f"{source!r}: dropped {dropped} of {len(split)} rows whose {text_column!r} is not a string "
                f"(e.g. {example!r}); give every row a string of text",
                stacklevel=3,
            )
        if dropped:  # a column of mixed JSON types: keep it as plain strings
            text_only = datasets.Features({"text": datasets.Value("string")})
            strings = strings.map(lambda texts: {"text": texts}, batched=True, input_columns="text", features=text_only)
        split = strings
    return split.filter(lambda row: isinstance(row["text"], str) and row["text"].strip() != "")


def _complete_splits(raw, seed: int, fractions: tuple[float, float], streaming: bool, source: str):
    """Return train/validation/test: keep the data's own splits, carve missing ones from train."""
    if "train" not in raw:
        raise ValueError(f"{source!r} has no 'train' split (it has {sorted(raw)}); name a training file 'train'")
    missing = [name for name in SPLITS[1:] if name not in raw]
    wanted = {name: f for name, f in zip(SPLITS[1:], fractions) if name in missing}
    train = raw["train"]
    carved = _carve_stream(train, seed, wanted) if streaming else _carve(train, seed, wanted, source)
    out = {name: raw[name] for name in SPLITS[1:] if name in raw} | carved
    for name in SPLITS[1:]:
        if name not in out:  # fraction 0: an empty split of the same type
            out[name] = train.take(0) if streaming else train.select([])
    result = {name: out[name] for name in SPLITS}
    if not streaming and len(result["train"]) == 0:
        raise ValueError(f"{source!r} has no non-empty text to train on")
    return datasets.IterableDatasetDict(result) if streaming else datasets.DatasetDict(result)


def _carve(train: datasets.Dataset, seed: int, wanted: dict[str, float], source: str) -> dict:
    """Split ``train`` by a seeded permutation into train plus the ``wanted`` splits."""
    n = len(train)
    if n == 0:
        raise ValueError(f"{source!r} has no non-empty text to train on")
    order = SplitMix64(derive_seed(seed, "split")).shuffled(range(n))
    out, start = {}, 0
    for name, fraction in wanted.items():
        size = max(1, round(n * fraction)) if fraction > 0 and n >= 3 else 0
        out[name] = train.select(sorted(order[start : start + size]))
        start += size
    if start >= n:
        raise ValueError(f"{source!r} has only {n} rows, too few to split; lower the fractions or add data")
    out["train"] = train.select(sorted(order[start:]))
    return out


def _bucket(index: int, seed: int, wanted: tuple[tuple[str, float], ...]) -> str:
    """The split of row ``index`` in a stream: a seeded uniform number against the fractions."""
    u = SplitMix64(derive_seed(seed, "split", index)).next_u64() / 2**64
    for name, fraction in wanted:
        if u < fraction:
            return name
        u -= fraction
    return "train"


def _carve_stream(train: datasets.IterableDataset, seed: int, wanted: dict[str, float]) -> dict:
    pairs = tuple(wanted.items())
    return {
        name: train.filter(lambda _, i, name=name: _bucket(i, seed, pairs) == name, with_indices=True)
        for name in ("train", *wanted)
    }
