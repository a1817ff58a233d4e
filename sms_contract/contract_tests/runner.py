"""Run the selected checks against one endpoint, within the send budget.

Order: a TCP connection (unreachable -> the run stops), the TLS handshakes,
then each check in catalogue order. Before a check runs, the probes it needs
that have not run yet are planned; if their sends do not fit in what is left
of ``--max-sends`` the check is skipped for budget and nothing is sent.

Credentials never travel over plain http (the rule ``send`` follows: only to
a loopback host with ``--allow-http``): a check whose requests carry them is
skipped. An endpoint that accepts connections but leaves its first requests
unanswered is unreachable: the run stops there, after at most two timeouts
(or at the end, when the only requests it got went unanswered).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sms_contract.contract_tests.catalogue import DEFAULT_MAX_SENDS, CheckSpec, Level, select
from sms_contract.contract_tests.checks import IMPLEMENTATIONS, Status, Verdict
from sms_contract.contract_tests.evidence import Exchange
from sms_contract.contract_tests.fuzz import FuzzResult, run_fuzz
from sms_contract.contract_tests.probes import (
    RequestSpec,
    Setup,
    Target,
    carries_credentials,
    new_run_id,
    plan,
    safe_url,
)
from sms_contract.contract_tests.targets import Connector, TargetMode
from sms_contract.contract_tests.tls import TlsFacts, Trust, Unreachable, connect, probe_legacy
from sms_contract.contract_tests.tls import probe as probe_tls
from sms_contract.exit_codes import EXIT_INVALID, EXIT_OK, EXIT_UNREACHABLE
from sms_contract.sender.transport import plain_http_refusal


@dataclass(frozen=True)
class Options:
    """Everything a run needs; the password is never part of ``repr``."""

    url: str
    to: str
    long_to: str | None = None
    login: str | None = None
    password: str | None = field(default=None, repr=False)
    cacert: str | None = None
    insecure: bool = False
    allow_http: bool = False
    max_sends: int = DEFAULT_MAX_SENDS
    timeout: float = 10.0
    latency: float = 5.0
    fuzz: int = 0
    fuzz_seed: int | None = None
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    #: The readings of the contract in force (name -> the interpretation chosen), for reports.
    readings: Mapping[str, str] = field(default_factory=dict)
    #: ``public``: connect to public addresses only (``contract_tests.targets``).
    targets: TargetMode = "any"


@dataclass
class Result:
    """One check's outcome."""

    spec: CheckSpec
    verdict: Verdict
    elapsed: float = 0.0

    @property
    def status(self) -> Status:
        """pass, fail, info or skip."""
        return self.verdict.status

    @property
    def must_failed(self) -> bool:
        """True for a failed MUST check."""
        return self.spec.level == Level.MUST and self.status == Status.FAIL


@dataclass
class PlannedCheck:
    """A check as a dry run sees it: the requests it would add, or why it is skipped."""

    spec: CheckSpec
    requests: list[RequestSpec]
    sends: int = 0
    extra: str = ""
    skipped: str | None = None


@dataclass
class Report:
    """The outcome of a run (or of a dry run: ``plan`` set, no results)."""

    options: Options
    run_id: str
    started: datetime
    finished: datetime | None = None
    results: list[Result] = field(default_factory=list)
    sends: int = 0
    unreachable: str | None = None
    plan: list[PlannedCheck] | None = None

    @property
    def exit_code(self) -> int:
        """0: no MUST failed; 1: a MUST failed; 3: unreachable."""
        if self.unreachable:
            return EXIT_UNREACHABLE
        return EXIT_INVALID if any(r.must_failed for r in self.results) else EXIT_OK

    @property
    def failed_ids(self) -> set[str]:
        """The ids of every failed check (MUST or SHOULD)."""
        return {r.spec.id for r in self.results if r.status == Status.FAIL}

    def count(self, status: Status, level: Level | None = None) -> int:
        """How many results have ``status`` (and ``level``)."""
        return sum(
            1
            for r in self.results
            if r.status == status and (level is None or r.spec.level == level)
        )

    @property
    def verdict(self) -> str:
        """A one-line verdict."""
        if self.plan is not None:
            planned = sum(p.sends for p in self.plan)
            return f"DRY RUN: {planned} send(s) planned, nothing sent"
        if self.unreachable:
            return f"UNREACHABLE: {self.unreachable}"
        must = self.count(Status.FAIL, Level.MUST)
        should = self.count(Status.FAIL, Level.SHOULD)
        skipped = self.count(Status.SKIP)
        tail = f"{should} SHOULD advice" + (f", {skipped} skipped" if skipped else "")
        if must:
            return f"FAIL: {must} MUST check(s) failed; {tail}"
        return f"PASS: every MUST check passed; {tail}"


ProgressCallback = Callable[[Result], None]
StartCallback = Callable[[CheckSpec], None]


class Runner:
    """Runs the selected checks against ``options.url``; also the ``Evidence`` checks read."""

    def __init__(self, options: Options, *, openapi: dict[str, Any] | None = None) -> None:
        self.options = options
        self.specs = select(options.only, options.skip)
        self.run_id = new_run_id()
        self.setup = Setup(options.to, options.long_to, options.login, self.run_id)
        self.url = safe_url(options.url)
        self.latency = options.latency
        self.tls: TlsFacts | None = None
        self.legacy: dict[str, str] = {}
        self.fuzz: FuzzResult | None = None
        self.openapi = openapi
        self._done: dict[str, list[Exchange]] = {}
        self._order: list[Exchange] = []
        self._blocked: str | None = None
        self._reached = False
        self.connector = Connector(options.targets)
        parts = urlsplit(options.url)
        self.https = parts.scheme.lower() == "https"
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if self.https else 80)
        verify: str | bool = True
        if options.insecure:
            verify = False
        elif options.cacert:
            verify = options.cacert
        refusal = plain_http_refusal(options.url, allow_http_loopback=options.allow_http)
        self.target = Target(
            options.url,
            login=options.login,
            password=options.password,
            verify=verify,
            timeout=options.timeout,
            max_sends=options.max_sends,
            credentials_refused=refusal if options.login else None,
            connector=self.connector,
        )

    # -- the Evidence view ---------------------------------------------------------------

    def exchanges(self, probe: str) -> list[Exchange]:
        """The exchanges of ``probe``."""
        return self._done.get(probe, [])

    def all_exchanges(self) -> list[Exchange]:
        """Every exchange so far."""
        return list(self._order)

    # -- planning ------------------------------------------------------------------------

    def _unmet(self, spec: CheckSpec) -> str | None:
        options = self.options
        for need in spec.requires:
            if need == "https" and not self.https:
                return "not applicable: the URL is not https"
            if need == "http" and self._blocked:
                return self._blocked
            if need == "login" and not options.login:
                return "no --login given: the endpoint is checked without credentials"
            if need == "long_to" and not options.long_to:
                return "needs --long-to NUMBER, a 15-digit number of yours"
            if need == "fuzz" and not options.fuzz:
                return "not requested: add --fuzz N"
        return self._in_clear(spec)

    def _in_clear(self, spec: CheckSpec) -> str | None:
        refusal = self.target.credentials_refused
        if refusal is None or not any(carries_credentials(p, self.setup) for p in spec.probes):
            return None
        return f"not sent, so the credentials do not travel in clear: {refusal}"

    def _cost(self, probes: list[str], sends_left: int) -> int:
        cost = sum(r.sends for p in probes for r in plan(p, self.setup))
        if "fuzz" in probes:
            cost += max(1, min(self.options.fuzz, sends_left - cost))
        return cost

    def _budget_refusal(self, cost: int, sends_left: int) -> str | None:
        if cost <= sends_left:
            return None
        return (
            f"send budget: needs {cost} more send(s), {sends_left} left "
            f"of --max-sends {self.options.max_sends}"
        )

    def plan(self) -> Report:
        """What a live run would do, sending nothing and opening no connection."""
        report = Report(self.options, self.run_id, datetime.now(UTC), plan=[])
        assert report.plan is not None
        done: set[str] = set()
        sends_left = self.options.max_sends
        for spec in self.specs:
            missing = [p for p in spec.probes if p not in done]
            skipped = self._unmet(spec)
            cost = self._cost(missing, sends_left)
            skipped = skipped or self._budget_refusal(cost, sends_left)
            requests = [] if skipped else [r for p in missing for r in plan(p, self.setup)]
            extra = ""
            if skipped:
                cost = 0
            else:
                done.update(missing)
                sends_left -= cost
                if "fuzz" in missing:
                    extra = f"up to {cost} generated POST(s) from the provider OpenAPI"
                elif "tls" in missing or "tls-legacy" in missing:
                    extra = "TLS handshakes only (nothing sent)"
            report.plan.append(PlannedCheck(spec, requests, cost, extra, skipped))
            why = skipped or f"dry run: {cost} send(s) planned, nothing sent"
            report.results.append(Result(spec, Verdict(Status.SKIP, why)))
        report.finished = datetime.now(UTC)
        return report

    # -- running -------------------------------------------------------------------------

    def reach(self) -> None:
        """The first steps of a run: a TCP connection and, for https, the TLS handshakes.

        ``Unreachable`` when the endpoint cannot be reached (``TargetRefused`` when
        its address may not be); afterwards ``tls`` holds the handshakes' facts.
        ``run`` does not repeat what this did.
        """
        connect(self.host, self.port, self.options.timeout, self.connector).close()
        if self.https:
            self._handshakes()
        self._reached = True

    def run(
        self, progress: ProgressCallback | None = None, starting: StartCallback | None = None
    ) -> Report:
        """Run every selected check; ``starting`` is called before each, ``progress`` after."""
        report = Report(self.options, self.run_id, datetime.now(UTC))
        try:
            if not self._reached:
                self.reach()
        except Unreachable as error:
            report.unreachable = str(error)
            for spec in self.specs:
                report.results.append(Result(spec, Verdict(Status.SKIP, f"unreachable: {error}")))
            report.finished = datetime.now(UTC)
            return report
        for index, spec in enumerate(self.specs):
            if starting is not None:
                starting(spec)
            try:
                result = self._run_one(spec)
            except Unreachable as error:
                report.unreachable = str(error)
                report.results += [
                    Result(rest, Verdict(Status.SKIP, f"unreachable: {error}"))
                    for rest in self.specs[index:]
                ]
                break
            report.results.append(result)
            if progress is not None:
                progress(result)
        else:
            # Over plain http most checks may be skipped: one timeout, nothing answered.
            report.unreachable = self.target.silence(enough=1)
        report.sends = self.target.sent
        report.finished = datetime.now(UTC)
        return report

    def _handshakes(self) -> None:
        trust = Trust.from_verify(self._trust_source())
        self.tls = probe_tls(self.host, self.port, trust, self.options.timeout, self.connector)
        if self.tls.handshake_error:
            self._blocked = "no TLS connection (see tls.version)"
        elif self.tls.verify_error and not self.options.insecure:
            self._blocked = (
                "the certificate is not valid (see tls.certificate): give --cacert FILE "
                "for a private CA, or --insecure to check the rest anyway"
            )

    def _trust_source(self) -> str | bool:
        """What requests would trust for this URL (``--cacert``, the environment, certifi)."""
        verify = self.options.cacert or True
        settings = self.target.session.merge_environment_settings(
            self.options.url, {}, None, verify, None
        )
        chosen: str | bool | None = settings["verify"]
        return True if chosen is None else chosen

    def _run_one(self, spec: CheckSpec) -> Result:
        started = time.perf_counter()
        reason = self._unmet(spec)
        if reason is None:
            missing = [p for p in spec.probes if p not in self._done]
            reason = self._budget_refusal(
                self._cost(missing, self.target.sends_left), self.target.sends_left
            )
            if reason is None:
                for probe in missing:
                    self._run_probe(probe)
                silence = self.target.silence()
                if silence is not None:
                    raise Unreachable(silence)
        if reason is not None:
            return Result(spec, Verdict(Status.SKIP, reason), time.perf_counter() - started)
        verdict = IMPLEMENTATIONS[spec.id](self)
        if spec.level == Level.INFO and verdict.status == Status.FAIL:
            verdict.status = Status.INFO
        return Result(spec, verdict, time.perf_counter() - started)

    def _run_probe(self, probe: str) -> None:
        exchanges: list[Exchange] = []
        if probe == "tls-legacy":
            self.legacy = probe_legacy(self.host, self.port, self.options.timeout, self.connector)
        elif probe == "fuzz":
            openapi = self.openapi
            if openapi is None:
                from sms_contract.contract_tests.fuzz import load_provider_openapi

                openapi = load_provider_openapi()
            self.fuzz = run_fuzz(
                self.target, openapi, self.options.fuzz, self.setup, self.options.fuzz_seed
            )
        for spec in plan(probe, self.setup):
            exchange = self.target.send(spec)
            exchanges.append(exchange)
            if spec.method == "GET" and exchange.status == 405:
                head = RequestSpec(spec.label + " (HEAD)", "HEAD", spec.auth)
                exchanges.append(self.target.send(head))
        self._done[probe] = exchanges
        self._order.extend(exchanges)
