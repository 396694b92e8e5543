"""The bridge to Hugging Face ``transformers``: models and tokenizers both ways."""
