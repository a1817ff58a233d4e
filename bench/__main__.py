"""Run every benchmark module and write ``bench/README.md``.

Adding a benchmark is one line in ``MODULES``: a module with a ``run()`` that
prints its progress and returns a ``bench.Section``.
"""

from __future__ import annotations

import datetime
import importlib
import os
import platform
import sys
from pathlib import Path

from bench import Section

#: The benchmark modules, run in this order.
MODULES = [
    "bench.encoding",
    "bench.provider",
    "bench.send_path",
    "bench.attack",
]

README = Path(__file__).with_name("README.md")
MARKER = "<!-- Everything below this line is written by `make bench`; edit the text above it. -->"
DEFAULT_INTRO = """# Benchmarks

Run with `make bench`."""


def environment() -> str:
    """One line describing where the figures were taken."""
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"Figures of {when}: {platform.python_implementation()} {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU(s)."
    )


def main() -> int:
    """Run the benchmarks, print them, and rewrite the generated part of the README."""
    sections: list[Section] = []
    for name in MODULES:
        print(f"== {name}", flush=True)
        sections.append(importlib.import_module(name).run())
    existing = README.read_text(encoding="utf-8") if README.exists() else ""
    intro = existing.split(MARKER)[0].rstrip() if MARKER in existing else DEFAULT_INTRO
    parts = [intro, MARKER, environment()]
    parts += [f"## {section.title}\n\n{section.body.strip()}" for section in sections]
    README.write_text("\n\n".join(parts) + "\n", encoding="utf-8")
    print(f"wrote {README.parent.name}/{README.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
