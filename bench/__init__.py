"""Benchmarks of sms-contract: ``make bench`` (``python -m bench``) runs them all."""
