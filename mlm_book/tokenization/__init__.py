"""Text to token ids: BERT's WordPiece from scratch, the ``tokenizers`` pipeline, batch encoding."""
