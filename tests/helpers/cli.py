"""Reading what a CLI command printed, shared by the CLI tests."""

from __future__ import annotations

from click.testing import Result


def one_error_line(result: Result) -> str:
    """The one ``error: ...`` line a failing command wrote on stderr."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]
