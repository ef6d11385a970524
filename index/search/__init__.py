"""Answering a question: parsing it, features, the ranker, the searcher, sources."""
