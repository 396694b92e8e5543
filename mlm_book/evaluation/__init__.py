"""Judging a model: masked loss and accuracy, probes, context-free baselines, fill-mask."""
