"""Tests of mlm_book.utils.seeding: one derivation of stream seeds for the corpus and for training."""

import hashlib

import torch

from mlm_book.utils.seeding import derive_seed


def test_derive_seed_is_stable_and_label_sensitive():
    assert derive_seed(0, "paragraph", 0) == derive_seed(0, "paragraph", 0)
    seeds = {derive_seed(s, label, i) for s in (0, 1) for label in ("paragraph", "probe") for i in range(50)}
    assert len(seeds) == 200
    assert derive_seed(0, "world") == 0x1DFEA39A2B518388  # golden value: the corpus depends on it
    assert derive_seed(0, "world") == int.from_bytes(hashlib.sha256(b"0:world").digest()[:8], "little")
    assert 0 <= derive_seed(123, "x") < 2**64


def test_labels_are_joined_not_nested():
    assert derive_seed(7, "dropout", 0, 5) == int.from_bytes(hashlib.sha256(b"7:dropout:0:5").digest()[:8], "little")
    assert derive_seed(7, "dropout", 0, 5) != derive_seed(7, "dropout", 5, 0)


def test_every_derived_seed_seeds_a_torch_generator():
    for key in ("order", "masking", "eval"):
        seed = derive_seed(2**40, key)
        assert torch.Generator().manual_seed(seed).initial_seed() == seed
