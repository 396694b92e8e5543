"""Utilities every layer may use: special tokens, the config base, atomic files, seeds, numerics."""
