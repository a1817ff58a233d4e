"""The inbox pages: the live list of messages, one message, and clearing.

The list updates live through server-sent events from ``/api/events``, which
polls the database's count of commits (a shared integer: free, and it sees
the commits of every gunicorn worker) and ends each stream after ``STREAM_SECONDS``; the browser
then reconnects on its own. Streams showing the same filter share one page
(``_Pages``), and at most ``max_streams`` are open per process: past that the
UI polls ``/api/events?once=1`` instead.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from flask import Response, current_app, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from sms_contract.mock_provider.namespaces import NAMESPACE_RULE, is_namespace
from sms_contract.mock_provider.problems import problem
from sms_contract.mock_provider.service import ProviderState
from sms_contract.mock_provider.state import provider
from sms_contract.mock_provider.storage.inbox import MessageFilter
from sms_contract.mock_provider.ui.blueprint import blueprint
from sms_contract.mock_provider.ui.render import (
    annotate,
    attempt_views,
    findings,
    pretty,
    safe_headers,
    summary,
    text_view,
)
from sms_contract.mock_provider.upstream import OUTCOMES

#: Messages per inbox page.
PAGE_SIZE = 100
#: Longest life of one event stream; the browser reconnects after it.
STREAM_SECONDS = 15.0
#: How often a stream looks at the inbox, and sends a comment when idle.
POLL_SECONDS = 0.2
KEEPALIVE_SECONDS = 5.0
#: How long the browser waits before reconnecting an ended stream.
RETRY_MILLISECONDS = 500
#: The Retry-After of a stream refused because too many are open.
STREAM_RETRY_SECONDS = 5
#: Distinct filters whose page is kept (streams use a handful).
_MAX_CACHED_PAGES = 64
_PAGES_EXTENSION = "sms_contract.ui.pages"
_PAGES_LOCK = threading.Lock()

_STATUSES = ("accepted", "rejected")
_FILTER_FIELDS = ("namespace", "to", "retId", "status", "upstream")


def _filters() -> tuple[dict[str, Any], list[str]]:
    """The inbox filters of the query string (empty ones dropped) and their errors."""
    values: dict[str, Any] = {}
    errors = []
    for name in _FILTER_FIELDS:
        value = request.args.get(name, "").strip()
        if not value:
            continue
        if len(value) > 200:
            errors.append(f"{name} is longer than 200 characters; ignored")
        elif name == "namespace" and not is_namespace(value):
            errors.append(f"{NAMESPACE_RULE}; ignored")
        elif name == "status" and value not in _STATUSES:
            errors.append("status is accepted or rejected; ignored")
        elif name == "upstream" and value not in OUTCOMES:
            errors.append(f"upstream is one of {', '.join(OUTCOMES)}; ignored")
        else:
            values[name] = value
    return values, errors


def _where(filters: dict[str, Any], offset: int = 0) -> MessageFilter:
    return MessageFilter(
        namespace=filters.get("namespace"),
        to=filters.get("to"),
        ret_id=filters.get("retId"),
        status=filters.get("status"),
        upstream=filters.get("upstream"),
        limit=PAGE_SIZE,
        offset=offset,
    )


def snapshot(state: ProviderState, where: MessageFilter) -> dict[str, Any]:
    """What the inbox page shows for ``where``: rows, counts, namespaces."""
    messages, by_status = state.overview(where)
    total = by_status[where.status or "all"]
    counts: dict[str, int] = dict(by_status)
    if state.config.upstream is not None:  # a proxy counts by upstream outcome too
        for outcome in OUTCOMES:
            _rows, counts[f"upstream-{outcome}"] = state.messages(
                replace(where, upstream=outcome, limit=0)
            )
    last = where.offset + len(messages)
    showing = f"Showing {where.offset + 1}–{last} of {total}" if messages else f"0 of {total}"
    return {
        "messages": [summary(message) for message in messages],
        "total": total,
        "counts": counts,
        "namespaces": state.namespaces(),
        "showing": showing,
    }


def _tag(data: dict[str, Any]) -> str:
    encoded = json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()[:20]


@blueprint.get("/messages")
@blueprint.get("/")
def index() -> str:
    """The messages, newest first, filtered; live when on the first page."""
    filters, errors = _filters()
    offset = min(max(0, request.args.get("offset", 0, type=int) or 0), 10**9)
    state = provider()
    data = snapshot(state, _where(filters, offset))
    cleared = request.args.get("cleared", type=int)
    live = offset == 0
    tabs = []
    for key, label in (("all", "All"), ("accepted", "Accepted"), ("rejected", "Rejected")):
        args = {name: value for name, value in filters.items() if name != "status"}
        if key != "all":
            args["status"] = key
        active = filters.get("status", "all") == key
        tabs.append(
            {"key": key, "label": label, "url": url_for("ui.index", **args), "active": active}
        )
    outcomes = []
    if state.config.upstream is not None:
        for outcome in OUTCOMES:
            args = {name: value for name, value in filters.items() if name != "upstream"}
            active = filters.get("upstream") == outcome
            url = (
                url_for("ui.index", **args)
                if active
                else url_for("ui.index", **args, upstream=outcome)
            )
            outcomes.append({"key": outcome, "url": url, "active": active})
    return render_template(
        "inbox.html",
        active="inbox",
        data=data,
        filters=filters,
        tabs=tabs,
        outcomes=outcomes,
        proxy=state.config.upstream,
        errors=errors,
        offset=offset,
        page_size=PAGE_SIZE,
        notice=None if cleared is None else f"Deleted {cleared} message(s).",
        live=live,
        events_url=url_for("ui.events", **filters, last=_tag(data)) if live else "",
        message_base=url_for("ui.message", message_id=0)[:-1],
    )


@blueprint.post("/clear")
def clear() -> BaseResponse:
    """Delete every message, or those of the namespace posted."""
    namespace = request.form.get("namespace", "").strip() or None
    if namespace is not None and not is_namespace(namespace):
        return redirect(url_for("ui.index"))
    deleted = provider().clear(namespace)
    args: dict[str, Any] = {"namespace": namespace} if namespace else {}
    return redirect(url_for("ui.index", cleared=deleted, **args))


@blueprint.get("/api/events")
def events() -> Response:
    """Server-sent events: an ``inbox`` event with the first page each time it changes.

    ``?once=1`` answers the page once as JSON: the UI polls that when its
    stream is refused (503 past ``max_streams`` open streams).
    """
    filters, _errors = _filters()
    state = provider()
    pages = _pages(state)
    where = _where(filters)
    if request.args.get("once"):
        return jsonify(pages.page(where, time.monotonic())[0])
    if not state.streams.take():
        return problem(
            "over-capacity",
            f"{state.streams.limit} event streams are open already; poll with ?once=1",
            headers={"Retry-After": str(STREAM_RETRY_SECONDS)},
        )
    last = request.headers.get("Last-Event-ID") or request.args.get("last")
    response = Response(
        _stream(state, pages, where, last),
        mimetype="text/event-stream",
        headers={"X-Accel-Buffering": "no"},
    )
    response.call_on_close(state.streams.give_back)
    return response


def _stream(
    state: ProviderState, pages: _Pages, where: MessageFilter, last: str | None
) -> Iterator[str]:
    """Send the page when the inbox changes, for ``STREAM_SECONDS`` at most."""
    yield f"retry: {RETRY_MILLISECONDS}\n\n"
    started = time.monotonic()
    quiet_since = started
    seen = None
    while True:
        looked = time.monotonic()
        version = state.changes()
        if version != seen:
            data, tag, fresh = pages.page(where, looked)
            # A page computed before the change was seen may predate it (a clear,
            # say): never send it; ask again next time.
            if fresh:
                seen = version
                if tag != last:
                    last = tag
                    quiet_since = time.monotonic()
                    yield f"id: {tag}\nevent: inbox\ndata: {json.dumps(data)}\n\n"
        now = time.monotonic()
        if now - started >= STREAM_SECONDS:
            return
        if now - quiet_since >= KEEPALIVE_SECONDS:
            quiet_since = now
            yield ": still here\n\n"
        time.sleep(POLL_SECONDS)


class _Pages:
    """The inbox pages the streams of one process show: each computed at most once
    per ``POLL_SECONDS`` however many streams show it, so many open tabs cost
    about what one does."""

    def __init__(self, state: ProviderState) -> None:
        self._state = state
        self._lock = threading.Lock()
        #: filter -> (when computed, page, tag)
        self._cache: dict[MessageFilter, tuple[float, dict[str, Any], str]] = {}

    def page(self, where: MessageFilter, since: float) -> tuple[dict[str, Any], str, bool]:
        """The page for ``where``, its tag, and whether it was computed after ``since``."""
        with self._lock:
            now = time.monotonic()
            cached = self._cache.get(where)
            if cached is not None and now - cached[0] < POLL_SECONDS:
                return cached[1], cached[2], cached[0] >= since
            if len(self._cache) >= _MAX_CACHED_PAGES:
                self._cache.clear()
            data = snapshot(self._state, where)
            tag = _tag(data)
            self._cache[where] = (now, data, tag)
            return data, tag, True


def _pages(state: ProviderState) -> _Pages:
    """The ``_Pages`` of this app (one per app, made on first use)."""
    with _PAGES_LOCK:
        pages: _Pages | None = current_app.extensions.get(_PAGES_EXTENSION)
        if pages is None:
            pages = current_app.extensions[_PAGES_EXTENSION] = _Pages(state)
        return pages


# -- one message ----------------------------------------------------------------------


@blueprint.get("/messages/<int:message_id>")
def message(message_id: int) -> tuple[str, int] | str:
    """Everything recorded about one send."""
    state = provider()
    item = state.message(message_id)
    if item is None:
        return render_template("missing.html", message_id=message_id, active="inbox"), 404
    found = findings(item["violations"], item["warnings"])
    payload = item["payload"]
    text = payload.get("text") if isinstance(payload, dict) else None
    return render_template(
        "message.html",
        active="inbox",
        m=item,
        s=summary(item),
        annotated=annotate(payload, found) if payload is not None else None,
        found=found,
        text=text_view(text, payload) if isinstance(text, str) else None,
        response=pretty(item["response"]) if item["response"] is not None else None,
        faults=[pretty(fault) for fault in item["faults"] or []],
        headers=safe_headers(item["headers"]),
        proxy=state.config.upstream,
        attempts=attempt_views(item),
    )
