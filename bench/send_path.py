"""The send path in-process, and ``serve`` at scale.

* In-process: the WSGI app called directly, one thread, no server: an accepted
  send to ``serve``'s app against the bare Flask route of ``bench/bare_flask.py``,
  microseconds per send (best and median of the repeats, the two taking turns),
  then the top of a cProfile of the send path.
* At scale: ``serve`` (2 workers, HTTPS) fed by wrk until it has stored
  ``SCALE_SENDS`` sends; then the resident memory of each worker and the time
  of the inbox page, the list API and ``/metrics`` (each asked ``ASKS`` times
  on one keep-alive connection: median and slowest).
"""

from __future__ import annotations

import cProfile
import http.client
import io
import itertools
import os
import pstats
import shutil
import ssl
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from bench import Section, markdown_table
from bench.bare_flask import create_bare_app
from bench.provider import (
    BODY_TEMPLATE,
    free_port,
    running_server,
    sms_contract_command,
    wrk_load,
)
from sms_contract.mock_provider.app import create_app
from sms_contract.mock_provider.config import ProviderConfig
from sms_contract.mock_provider.state import state_of
from sms_contract.mock_provider.storage.inbox import Received, Respond, Stored

#: Sends per repeat, repeats (the two apps take turns), and warm-up sends.
SENDS = 2000
REPEATS = 9
WARMUP = 300
#: Sends profiled, and the functions shown (by their own time).
PROFILED = 5000
PROFILE_TOP = 15
#: The in-process target of the issue: an accepted send at most this many times
#: the bare route.
TARGET_RATIO = 2.5
#: Sends stored before the scale figures, and how often each page is asked.
SCALE_SENDS = 100_000
ASKS = 10
#: wrk's load while filling the inbox (seconds per burst).
FILL_BURST = 10
SCALE_PAGES = {
    "inbox page (`GET /`)": "/",
    "list API (`GET /api/messages`)": "/api/messages",
    "`GET /metrics`": "/metrics",
}
RSS_LIMIT_MB = 80
LATENCY_LIMIT_MS = 100


# -- in-process ---------------------------------------------------------------------------


def _sender(app: Any) -> Callable[[], None]:
    """A function POSTing one valid send to ``app`` (a new retId and recipient each)."""
    counter = itertools.count()

    def start_response(status: str, _headers: Any, _exc_info: Any = None) -> None:
        if not status.startswith("200"):
            raise RuntimeError(f"the send was answered {status}")

    def send() -> None:
        n = next(counter)
        body = (BODY_TEMPLATE % (n * 7919 % 100_000_000, f"inproc-{n}")).encode()
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/sms",
            "QUERY_STRING": "",
            "SERVER_NAME": "localhost",
            "SERVER_PORT": "8443",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "localhost:8443",
            "HTTP_ACCEPT": "application/json",
            "HTTP_USER_AGENT": "bench",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "https",
            "wsgi.version": (1, 0),
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        for chunk in app(environ, start_response):
            del chunk

    return send


@dataclass(frozen=True)
class InProcess:
    """Microseconds per send (best, median) of both apps and of the parts of ours,
    and the profile's top."""

    ours: tuple[float, float]
    bare: tuple[float, float]
    #: ``serve``'s app with the storage step answering without storing.
    without_storage: tuple[float, float]
    #: The storage step alone (``ProviderState.record``), on sends the pipeline built.
    storage_alone: tuple[float, float]
    #: The top parts of the profile: (part, µs per send under the profiler, share).
    profile: list[tuple[str, float, float]]
    total_us: float


def _repeat(sends: dict[str, Callable[[], None]]) -> dict[str, tuple[float, float]]:
    timings: dict[str, list[float]] = {name: [] for name in sends}
    for send in sends.values():
        for _ in range(WARMUP):
            send()
    for _ in range(REPEATS):
        for name, send in sends.items():
            started = time.perf_counter()
            for _ in range(SENDS):
                send()
            timings[name].append((time.perf_counter() - started) / SENDS * 1e6)
    return {name: (min(t), statistics.median(t)) for name, t in timings.items()}


def _profile(send: Callable[[], None]) -> tuple[list[tuple[str, float, float]], float]:
    """Where the send path spends its time, by part (own time of the functions of
    each module or package): (part, µs per send, share), and the total."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(PROFILED):
        send()
    profiler.disable()
    stats: dict[Any, Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    parts: dict[str, float] = {}
    for (filename, _line, function), (_, _, own, _, _) in stats.items():
        part = _part(filename, function)
        parts[part] = parts.get(part, 0.0) + own
    total = sum(parts.values())
    rows = sorted(parts.items(), key=lambda item: -item[1])[:PROFILE_TOP]
    return [(part, own / PROFILED * 1e6, own / total) for part, own in rows], (
        total / PROFILED * 1e6
    )


#: Built-in functions (no file) named for the library they belong to.
_BUILT_IN_PARTS = {
    "sqlite3": "SQLite (the statements themselves)",
    "pydantic_core": "pydantic-core (the contract's model)",
    "orjson": "orjson",
    "re.Pattern": "regular expressions",
    "_hashlib": "hashlib",
}


def _part(filename: str, function: str) -> str:
    if filename == "~":
        return next(
            (part for key, part in _BUILT_IN_PARTS.items() if key in function),
            "other built-ins",
        )
    if "/sms_contract/" in filename:
        return "sms_contract/" + filename.split("/sms_contract/", 1)[1]
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0]
    if "bench/" in filename:
        return "the benchmark's own client"
    return "stdlib " + Path(filename).parent.name + "/" + Path(filename).name


def in_process(folder: Path) -> InProcess:
    """Time both apps in this process (and ours without its storage step, and that
    step alone), then profile ours."""
    app = create_app(ProviderConfig(db_path=folder / "inbox.sqlite3"))
    unstored = create_app(ProviderConfig(db_path=folder / "unstored.sqlite3"))
    captured: list[tuple[Received, Respond]] = []
    state_of(unstored).record = partial(_not_stored, captured)  # type: ignore[method-assign]
    ours, bare = _sender(app), _sender(create_bare_app())
    timings = _repeat({"ours": ours, "bare": bare, "without storage": _sender(unstored)})
    storage = _storage_alone(folder, captured)
    profile, total = _profile(ours)
    for each in (app, unstored):
        state_of(each).close()
    return InProcess(
        timings["ours"], timings["bare"], timings["without storage"], storage, profile, total
    )


def _not_stored(
    captured: list[tuple[Received, Respond]], item: Received, respond: Respond
) -> tuple[Stored, dict[str, Any]]:
    """The storage step answering as if it had stored the send (it keeps it aside)."""
    captured.append((item, respond))
    stored = Stored(len(captured))
    return stored, respond(item, stored)


def _storage_alone(folder: Path, captured: list[tuple[Received, Respond]]) -> tuple[float, float]:
    """The storage step alone, best and median µs per send: the sends the pipeline
    built above, stored again in a fresh inbox in runs of ``SENDS``."""
    app = create_app(ProviderConfig(db_path=folder / "storage.sqlite3"))
    record = state_of(app).record
    sends = iter(captured)
    for item, respond in itertools.islice(sends, WARMUP):
        record(item, respond)
    timings = []
    for _ in range(REPEATS):
        batch = list(itertools.islice(sends, SENDS))
        started = time.perf_counter()
        for item, respond in batch:
            record(item, respond)
        timings.append((time.perf_counter() - started) / len(batch) * 1e6)
    state_of(app).close()
    return min(timings), statistics.median(timings)


# -- at scale -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    """``serve`` holding ``stored`` messages: RSS per worker, and page timings."""

    stored: int
    rss_mb: list[float]
    pages: dict[str, tuple[float, float]]


def _connection(port: int, ca: Path) -> http.client.HTTPSConnection:
    context = ssl.create_default_context(cafile=str(ca))
    return http.client.HTTPSConnection("localhost", port, timeout=60, context=context)


def _get(connection: http.client.HTTPSConnection, path: str) -> bytes:
    connection.request("GET", path)
    answer = connection.getresponse()
    body = answer.read()
    if answer.status != 200:
        raise RuntimeError(f"GET {path}: {answer.status}")
    return body


def _received(port: int, ca: Path) -> int:
    # A connection of its own: one left idle through a burst would be closed.
    connection = _connection(port, ca)
    text = _get(connection, "/metrics").decode()
    connection.close()
    return sum(
        int(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("sms_contract_received_total{")
    )


def _workers(master: int) -> Iterator[int]:
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", encoding="ascii") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                yield int(entry.name)


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _fill(url: str, port: int, ca: Path) -> int:
    """Load ``serve`` with wrk until it has received ``SCALE_SENDS`` sends."""
    burst = itertools.count()
    while (stored := _received(port, ca)) < SCALE_SENDS:
        print(f"    {stored:,} stored", flush=True)
        if not shutil.which("wrk"):
            raise RuntimeError("the scale figures need wrk")
        wrk_load(url, FILL_BURST, f"scale{next(burst)}-")
    return stored


def at_scale(folder: Path) -> Scale:
    """Fill a fresh ``serve`` with ``SCALE_SENDS`` sends; measure RSS and pages."""
    port = free_port()
    state_dir = folder / "scale"
    command = [sms_contract_command(), "serve", "--port", str(port), "--workers", "2"]
    command += ["--state-dir", str(state_dir)]
    ca = state_dir / "tls" / "ca.pem"
    url = f"https://localhost:{port}/sms"
    with running_server(command, url, ca) as running:
        stored = _fill(url, port, ca)
        connection = _connection(port, ca)
        pages: dict[str, tuple[float, float]] = {}
        for label, path in SCALE_PAGES.items():
            seconds = []
            for _ in range(ASKS):
                started = time.perf_counter()
                _get(connection, path)
                seconds.append(time.perf_counter() - started)
            pages[label] = (statistics.median(seconds) * 1000, max(seconds) * 1000)
        connection.close()
        rss = sorted(_rss_mb(pid) for pid in _workers(running.pgid))
    return Scale(stored, rss, pages)


# -- report -------------------------------------------------------------------------------


def run() -> Section:
    """Measure in-process and at scale; return the README section."""
    with tempfile.TemporaryDirectory(prefix="sms-send-path-") as folder:
        measured = in_process(Path(folder))
        print(
            f"  in-process µs per send (best / median): ours {measured.ours[0]:.1f} / "
            f"{measured.ours[1]:.1f}, bare Flask {measured.bare[0]:.1f} / "
            f"{measured.bare[1]:.1f}; ours without its storage step "
            f"{measured.without_storage[0]:.1f} / {measured.without_storage[1]:.1f}, "
            f"the storage step alone {measured.storage_alone[0]:.1f} / "
            f"{measured.storage_alone[1]:.1f}",
            flush=True,
        )
        scale = at_scale(Path(folder))
        print(f"  at {scale.stored:,}: RSS per worker {scale.rss_mb} MB, {scale.pages}")
    return Section("The send path: in-process, and at scale", _markdown(measured, scale))


def _verdict(met: bool) -> str:
    return "**met**" if met else "missed"


def _markdown(measured: InProcess, scale: Scale) -> str:
    best, median = (measured.ours[i] / measured.bare[i] for i in (0, 1))
    bare = measured.bare[0]
    timing = markdown_table(
        ["app, called in-process", "µs per send (best)", "µs per send (median)", "x bare"],
        [
            [
                "`serve`'s app: an accepted send, validated and committed",
                *_pair(measured.ours),
                f"**{best:.2f}x**",
            ],
            [
                "the same app, its storage step answering without storing",
                *_pair(measured.without_storage),
                f"{measured.without_storage[0] / bare:.2f}x",
            ],
            [
                "the storage step alone (`ProviderState.record`: one SQLite transaction)",
                *_pair(measured.storage_alone),
                f"{measured.storage_alone[0] / bare:.2f}x",
            ],
            ["bare Flask route (fixed answer)", *_pair(measured.bare), "1x"],
        ],
    )
    profile = markdown_table(
        ["part (own time of its functions)", "µs per send, profiled", "share"],
        [[f"`{name}`", f"{us:.1f}", f"{share:.0%}"] for name, us, share in measured.profile],
    )
    pages = markdown_table(
        ["with the inbox full", "median ms", "slowest ms", f"under {LATENCY_LIMIT_MS} ms"],
        [
            [label, f"{mid:.1f}", f"{worst:.1f}", _verdict(worst < LATENCY_LIMIT_MS)]
            for label, (mid, worst) in scale.pages.items()
        ],
    )
    rss = ", ".join(f"{mb:.0f} MB" for mb in scale.rss_mb)
    return f"""**In-process.** Both WSGI apps called directly in this process, one thread,
no server: {REPEATS} repeats of {SENDS:,} sends each, the two apps taking turns
(after {WARMUP} sends of warm-up), every send a valid one with a new retId and
recipient, as under wrk. Goal: `serve`'s app at most {TARGET_RATIO:g}x the bare
route: {_verdict(best <= TARGET_RATIO)} ({best:.2f}x best, {median:.2f}x median).
The second and third rows take the send apart: the app with its storage step
answering as if it had stored (every other step as served), then that step
alone on the sends the pipeline built (their retIds new to a fresh inbox).

{timing}

Top of a cProfile of {PROFILED:,} more sends to `serve`'s app (the profiler
makes every call slower: {measured.total_us:.0f} µs per send in all; read the
shares):

{profile}

**At scale.** `serve` (2 workers, HTTPS) filled with wrk until it had received
{scale.stored:,} sends (the inbox keeps 100,000): resident memory per worker
{rss} (goal: under {RSS_LIMIT_MB} MB: {_verdict(max(scale.rss_mb) < RSS_LIMIT_MB)}).
Each page asked {ASKS} times on one keep-alive connection:

{pages}
"""


def _pair(timing: tuple[float, float]) -> list[str]:
    return [f"{timing[0]:.1f}", f"{timing[1]:.1f}"]
