"""Evaluation and fitting, apart from what serves answers."""
