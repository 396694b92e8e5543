"""The masked language model: its config, attention, the encoder block, the MLM head, checkpoints."""
