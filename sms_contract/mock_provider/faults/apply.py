"""Applying a fault plan to a send over HTTP: answer in the provider's place, or
let the normal answer through late or cut short (docs/faults.md says where this
sits among the checks)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

from sms_contract.mock_provider.answer import Answer, status_line
from sms_contract.mock_provider.faults.rules import FaultPlan, FaultRule
from sms_contract.mock_provider.faults.wire import ClientConnection
from sms_contract.mock_provider.problems import PROBLEM_CONTENT_TYPE, problem_body

if TYPE_CHECKING:  # the service stores what a fault decides; faults never call back into it
    from sms_contract.mock_provider.service import ProviderState
    from sms_contract.mock_provider.storage.inbox import Received

#: The status logged for a request answered with no HTTP answer at all.
NO_ANSWER = 444


def _pause(fault_plan: FaultPlan) -> None:
    """Wait the plan's delay (the sum of the delay rules applied)."""
    if fault_plan.delay > 0:
        time.sleep(fault_plan.delay)


def let_through(fault_plan: FaultPlan) -> tuple[dict[str, Any], ...]:
    """For a send answered normally: wait the delay; return the faults to record on
    the send (``finish`` then cuts its answer short when the plan truncates)."""
    _pause(fault_plan)
    return tuple(fault_plan.entries)


def answer(
    state: ProviderState,
    environ: Mapping[str, Any],
    item: Received,
    fault_plan: FaultPlan,
    started: float,
    challenge: dict[str, str],
) -> Answer:
    """Answer a send (its WSGI ``environ``) in the provider's place; the send is
    recorded as not accepted. ``challenge`` is the ``WWW-Authenticate`` header a 401
    carries."""
    rule = fault_plan.rule
    assert rule is not None
    _pause(fault_plan)
    connection = ClientConnection.of(environ)
    if rule.status is None and rule.rate_limit is None and connection is None:
        # No raw socket (e.g. Flask's test client): say so with a 502.
        fault_plan.entries[-1]["fallback"] = "the server hides its sockets; answered 502"
        rule = FaultRule(status=502, detail=f"{rule.action} is not possible on this server")
    item = replace(
        item,
        status="rejected",
        http_status=429 if rule.rate_limit else (rule.status or 0),
        faults=tuple(fault_plan.entries),
        duration_ms=(time.perf_counter() - started) * 1000,
    )
    headers: dict[str, str] = {}
    if fault_plan.retry_after is not None:
        headers["Retry-After"] = str(fault_plan.retry_after)
    if item.http_status == 401:
        headers.update(challenge)
    if item.http_status == 0:
        assert connection is not None
        # No answer goes out, so the recorded response is null.
        stored, _ = state.record(item, lambda _item, _stored: cast("dict[str, Any]", None))
        return _without_answer(state, stored.id, fault_plan, rule, connection)
    final_rule = rule
    stored, body = state.record(item, lambda it, st: _problem(it, fault_plan, final_rule, st.id))
    return Answer.json(item.http_status, body, PROBLEM_CONTENT_TYPE, headers)


def _problem(item: Received, fault_plan: FaultPlan, rule: FaultRule, message_id: int) -> Any:
    slug = "rate-limited" if rule.rate_limit else "injected-fault"
    if rule.rate_limit:
        limit = rule.rate_limit
        detail = f"at most {limit.limit} sends per {limit.window:g} s per {limit.per}"
    else:
        detail = rule.detail or rule.description or f"fault rule {rule.id} answers {rule.status}"
    body = problem_body(
        slug,
        detail,
        id=message_id,
        retId=item.field_text("retId"),
        fault=fault_plan.entries[-1],
    )
    body["status"] = item.http_status
    return body


def _without_answer(
    state: ProviderState,
    message_id: int,
    fault_plan: FaultPlan,
    rule: FaultRule,
    conn: ClientConnection,
) -> Answer:
    if rule.reset:
        conn.reset()
    elif rule.empty:
        conn.close()
    else:
        limit = float(fault_plan.entries[-1]["limit"])
        held = time.monotonic()
        client_closed = conn.wait_for_peer_close(limit)
        fault_plan.entries[-1].update(
            heldSeconds=round(time.monotonic() - held, 3),
            endedBy="client" if client_closed else "server-limit",
        )
        # Recorded before the close, so a client that sees the close can read it.
        state.update_faults(message_id, fault_plan.entries)
        conn.close()
    # The server's write of this answer fails quietly: the connection is gone.
    return Answer(status_line(NO_ANSWER))


def finish(environ: Mapping[str, Any], response: Answer, fault_plan: FaultPlan) -> Answer:
    """The answer of a send let through: ``response`` itself, or, when the plan
    truncates, ``response`` sent with its body cut short, then the connection closed."""
    rule = fault_plan.rule
    if rule is None or not fault_plan.truncates:
        return response
    connection = ClientConnection.of(environ)
    if connection is None:
        return response
    body = response.body
    keep = len(body) // 2 if rule.truncate is True else min(int(rule.truncate or 0), len(body))
    keep = min(keep, max(len(body) - 1, 0))
    head = [f"HTTP/1.1 {response.status}"]
    head += [f"{name}: {value}" for name, value in response.headers]
    head += [f"Content-Length: {len(body)}", "Connection: close"]
    connection.send(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body[:keep])
    connection.close()
    return Answer(status_line(NO_ANSWER))
