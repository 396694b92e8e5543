"""Shared test set-up: offline Hugging Face libraries and reproducible hypothesis runs."""

import os

from hypothesis import settings

for _name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
    os.environ.setdefault(_name, "1")

settings.register_profile("book", derandomize=True, deadline=None, max_examples=60, print_blob=True)
settings.load_profile("book")

import matplotlib  # noqa: E402

matplotlib.use("Agg")  # unit tests draw figures off screen; notebooks keep their inline backend
