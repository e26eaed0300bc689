"""Matching articles to topics with sentence embeddings."""
