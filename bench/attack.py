"""Capacity of ``sms-contract serve`` under connections that try to hold it.

For each worker class (``gthread``, the former default, and ``gevent``, the
default now), in one run and with the same settings otherwise (2 workers,
HTTPS, the local CA):

* saturation: wrk (or the Python client) with keep-alive connections, as in
  bench/provider.py: requests/s, p50, p99, server CPU per send;
* the attack mix: 100 inbox event streams, 300 idle TCP connections, 50
  connections sending their head a line every 2 s and 50 trickling a body a
  byte a second, all open at once; meanwhile 20 valid sends one after the
  other, each on a new connection with a 2 s limit.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench import Section, markdown_table
from bench.provider import Result, free_port, measure_load, running_server, sms_contract_command

# The attackers are the tests' own (tests/helpers/attacks.py): one definition of the mix.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers.attacks import AttackMix, Mix, Probe, probe_sends

WORKER_CLASSES = ("gthread", "gevent")
MIX = Mix(streams=100, idle=300, slow_heads=50, slow_bodies=50, pause=2.0)
#: The slow bodies send a byte a second (their pauses stay under the read timeout).
BODY_PAUSE = 1.0
PROBES = 20
#: Saturation rounds; the worker classes take turns, and the table shows medians.
ROUNDS = 3
LIMIT_SECONDS = 2.0
#: Time for every attacker to connect before the probes start.
SETTLE_SECONDS = 5.0


def _serve(state_dir: Path, worker_class: str) -> tuple[list[str], str]:
    port = free_port()
    command = [sms_contract_command(), "serve", "--port", str(port), "--workers", "2"]
    command += ["--state-dir", str(state_dir), "--worker-class", worker_class]
    return command, f"https://localhost:{port}"


def _under_attack(base_url: str, ca: Path) -> Probe:
    with (
        AttackMix(base_url, Mix(slow_bodies=MIX.slow_bodies, pause=BODY_PAUSE), ca),
        AttackMix(base_url, Mix(MIX.streams, MIX.idle, MIX.slow_heads, 0, MIX.pause), ca),
    ):
        time.sleep(SETTLE_SECONDS)
        return probe_sends(base_url, PROBES, ca, LIMIT_SECONDS)


def run() -> Section:
    """Measure both worker classes (saturation in interleaved rounds); return the section."""
    rounds: dict[str, list[Result]] = {name: [] for name in WORKER_CLASSES}
    attacked: dict[str, Probe] = {}
    with tempfile.TemporaryDirectory(prefix="sms-attack-") as folder:
        for round_number in range(1, ROUNDS + 1):
            print(f"  round {round_number} of {ROUNDS}", flush=True)
            for worker_class in WORKER_CLASSES:
                state_dir = Path(folder) / f"{worker_class}-{round_number}"
                command, base_url = _serve(state_dir, worker_class)
                ca = state_dir / "tls" / "ca.pem"
                with running_server(command, base_url + "/sms", ca) as running:
                    name = f"serve --worker-class {worker_class}"
                    rounds[worker_class].append(
                        measure_load(name, base_url + "/sms", ca, running.pgid)
                    )
                    if round_number == ROUNDS:
                        probe = attacked[worker_class] = _under_attack(base_url, ca)
                        print(
                            f"    under attack: {probe.answered_within(LIMIT_SECONDS)} of "
                            f"{PROBES} sends answered 200 within {LIMIT_SECONDS:g} s",
                            flush=True,
                        )
    saturation = {name: _median(results) for name, results in rounds.items()}
    title = "Capacity under attack (`serve`, gthread vs gevent)"
    return Section(title, _markdown(saturation, attacked))


def _median(results: list[Result]) -> Result:
    """Each figure's median over the rounds."""
    return Result(
        results[0].name,
        statistics.median(r.requests_per_s for r in results),
        statistics.median(r.p50_ms for r in results),
        statistics.median(r.p99_ms for r in results),
        sum(r.failures for r in results),
        statistics.median(r.cpu_ms for r in results),
    )


def _ms(values: list[float], share: float) -> str:
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000:.1f}"


def _markdown(saturation: dict[str, Result], attacked: dict[str, Probe]) -> str:
    rows = []
    for worker_class in WORKER_CLASSES:
        result, probe = saturation[worker_class], attacked[worker_class]
        rows.append(
            [
                worker_class + (" (default)" if worker_class == "gevent" else ""),
                f"{result.requests_per_s:,.0f}",
                f"{result.p50_ms:.2f}",
                f"{result.p99_ms:.2f}",
                f"{result.cpu_ms:.3f}",
                f"{probe.answered_within(LIMIT_SECONDS)} of {PROBES}",
                _ms(probe.seconds, 0.5),
                f"{max(probe.seconds) * 1000:.0f}",
            ]
        )
    table = markdown_table(
        [
            "worker class",
            "requests/s",
            "p50 ms",
            "p99 ms",
            "server CPU ms/send",
            "sends answered 200 within 2 s, under attack",
            "p50 ms under attack",
            "slowest ms under attack",
        ],
        rows,
    )
    gevent, gthread = saturation["gevent"], saturation["gthread"]
    return f"""Settings: 2 workers (gthread: 8 threads each; gevent: 1,000 connections each),
HTTPS with the local CA, every other option at its default. Saturation is
measured as in the provider benchmark above ({ROUNDS} rounds taking turns, medians;
{gevent.failures + gthread.failures} failures in all). The attack mix holds
{MIX.streams} inbox event streams (reconnecting like browser tabs), {MIX.idle} idle
TCP connections, {MIX.slow_heads} connections sending a head line every {MIX.pause:g} s
and {MIX.slow_bodies} trickling a body byte every {BODY_PAUSE:g} s,
all open at once; each attacker reconnects as soon as it is cut off. Meanwhile
{PROBES} valid sends go one after the other, each on a new connection with a
{LIMIT_SECONDS:g} s limit.

{table}

- gevent vs gthread at saturation: {gevent.requests_per_s / gthread.requests_per_s:.0%} of the
  throughput, p99 {gevent.p99_ms / gthread.p99_ms:.2f}x, CPU per send
  {gevent.cpu_ms / gthread.cpu_ms:.2f}x; median of the probes under attack
  {statistics.median(attacked["gevent"].seconds) * 1000:.0f} ms (gevent) against
  {statistics.median(attacked["gthread"].seconds) * 1000:.0f} ms (gthread, mostly the 2 s limit).
"""
