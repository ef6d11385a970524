"""Benchmarks that print numbers: indexing, answering and the bot under load (`python -m bench`)."""
