"""Run every benchmark module and write ``bench/README.md``.

Each module listed in ``MODULES`` has ``run() -> str``: it prints its own
table and returns its section of the README (markdown).
"""

from __future__ import annotations

import importlib
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

MODULES = ["bench.provider"]

HEADER = """# Benchmarks

Written by `make bench` (`python -m bench`); figures depend on the machine.
Each section below states its settings.
"""


def _machine() -> str:
    cores = len(os.sched_getaffinity(0))
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"Last run {datetime.now(UTC):%Y-%m-%d} on {cores} core(s) {model}, "
        f"Python {platform.python_version()}."
    )


def main(argv: list[str]) -> int:
    """Run the modules named in ``argv`` (all by default) and write the README."""
    names = [f"bench.{name}" for name in argv] or MODULES
    sections = []
    for name in names:
        print(f"== {name}", flush=True)
        sections.append(importlib.import_module(name).run().strip())
    readme = Path(__file__).with_name("README.md")
    readme.write_text(HEADER + "\n" + _machine() + "\n\n" + "\n\n".join(sections) + "\n")
    print(f"wrote {readme.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
