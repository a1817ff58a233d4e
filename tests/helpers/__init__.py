"""Reusable test helpers (importable as ``helpers`` from the tests)."""
