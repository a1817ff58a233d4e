"""The benchmarks: ``python -m bench`` (``make bench``) runs every module listed in
``bench.__main__.MODULES`` and writes ``bench/README.md`` from their sections."""

from __future__ import annotations

import statistics
import timeit
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    """What one benchmark module contributes to ``bench/README.md`` (markdown body)."""

    title: str
    body: str


@dataclass(frozen=True)
class Timing:
    """Microseconds per call: the best and the median of the repeats."""

    best: float
    median: float
    loops: int


def measure(function: Callable[[], object], repeat: int = 7, budget: float = 0.2) -> Timing:
    """Time ``function``: enough loops to last ``budget`` seconds, ``repeat`` times."""
    timer = timeit.Timer(function)
    loops, _ = timer.autorange()
    loops = max(loops, int(loops * budget / 0.2))
    per_call = [total / loops * 1e6 for total in timer.repeat(repeat=repeat, number=loops)]
    return Timing(min(per_call), statistics.median(per_call), loops)


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A markdown table (cells are escaped for ``|``)."""

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    return "\n".join([line(header), line(["---"] * len(header)), *map(line, rows)])
