"""The service layer: every front (admin API, web UI, fixture) gets the same effect
from the same operation, and a live provider closes what it opened."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from helpers.sends import FAIL_TWICE, post, sms

from sms_contract.exceptions import MagicRuleProtected
from sms_contract.mock_provider.service import ProviderState
from sms_contract.mock_provider.testing import LiveProvider, SmsProvider, provider_config


def clear_through_the_api(provider: SmsProvider) -> None:
    assert provider.clear() >= 1


def clear_through_the_ui(provider: SmsProvider) -> None:
    answer = requests.post(
        provider.base_url + "/clear",
        data={"namespace": provider.namespace},
        verify=provider.ca_bundle or True,
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302 and "cleared=" in answer.headers["Location"]


def statuses_of_three_attempts(provider: SmsProvider, body: dict[str, object]) -> list[int]:
    return [post(provider, body).status_code for _ in range(3)]


@pytest.mark.parametrize("clear", [clear_through_the_api, clear_through_the_ui])
def test_clearing_a_namespace_from_the_api_or_the_ui_starts_the_attempt_counts_again(
    sms_provider: SmsProvider, clear: Callable[[SmsProvider], None]
) -> None:
    body = sms(to=FAIL_TWICE)
    assert statuses_of_three_attempts(sms_provider, body) == [503, 503, 200]
    clear(sms_provider)
    assert sms_provider.messages() == []
    assert statuses_of_three_attempts(sms_provider, body) == [503, 503, 200]


@pytest.mark.parametrize("clear", [clear_through_the_api, clear_through_the_ui])
def test_clearing_a_namespace_from_the_api_or_the_ui_frees_its_rate_limit_slots(
    sms_provider: SmsProvider, clear: Callable[[SmsProvider], None]
) -> None:
    sms_provider.add_fault(rateLimit={"limit": 1, "window": 3600, "per": "namespace"})
    assert [post(sms_provider, sms()).status_code for _ in range(2)] == [200, 429]
    clear(sms_provider)
    assert [post(sms_provider, sms()).status_code for _ in range(2)] == [200, 429]


def test_clearing_one_namespace_keeps_the_counts_of_the_others(
    make_sms_provider: Callable[..., SmsProvider],
) -> None:
    first, second = make_sms_provider(), make_sms_provider()
    body = sms(to=FAIL_TWICE)
    assert post(first, body).status_code == post(second, body).status_code == 503
    first.clear()
    assert post(second, body).status_code == 503  # second's second attempt
    assert post(second, body).status_code == 200
    assert post(first, body).status_code == 503  # first starts again


def _open_files_under(folder: Path) -> list[str]:
    found = []
    for entry in os.scandir("/proc/self/fd"):
        try:
            target = os.readlink(entry.path)
        except OSError:
            continue
        if target.startswith(str(folder)):
            found.append(target)
    return found


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_stopping_a_live_provider_closes_every_database_connection_it_opened(
    tmp_path: Path,
) -> None:
    server = LiveProvider(provider_config(tmp_path))
    view = server.view()
    assert post(view, sms()).status_code == 200
    assert view.messages() and view.add_fault(status=503, to="+33600000000")
    assert _open_files_under(tmp_path), "the running server holds the database open"
    server.stop()
    assert _open_files_under(tmp_path) == []


def test_the_state_adds_lists_and_removes_rules_and_protects_the_magic_ones(
    tmp_path: Path,
) -> None:
    state = ProviderState(provider_config(tmp_path))
    try:
        rule = state.add_fault({"status": 503, "namespace": "a"})
        assert [r.id for r in state.fault_rules("a")] == [rule.id]
        assert state.fault_rules("b") == []
        assert state.fault_rule("magic-503") is not None
        with pytest.raises(MagicRuleProtected, match="built-in magic rule"):
            state.remove_fault("magic-503")
        assert state.remove_fault(str(rule.id)) is True
        assert state.remove_fault(str(rule.id)) is False
    finally:
        state.close()
