"""Evaluation: pure metric functions, the two protocol variants, the predictions contract, and ``evaluate``."""
