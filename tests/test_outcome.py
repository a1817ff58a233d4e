"""CONTRACT reading 9 in one place: how a provider's answer is read, and Retry-After."""

import random
from email.utils import formatdate

import pytest

from sms_contract.core.outcome import Outcome, classify, retry_after_seconds
from sms_contract.exceptions import ConfigurationError
from sms_contract.sender.client import RetryPolicy


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_any_2xx_is_accepted(status):
    assert classify(status) is Outcome.ACCEPTED


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 415, 422, 499])
def test_4xx_other_than_408_and_429_is_permanent(status):
    assert classify(status) is Outcome.PERMANENT


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504, 599, None])
def test_408_429_5xx_and_network_failures_are_retryable(status):
    assert classify(status) is Outcome.RETRYABLE


@pytest.mark.parametrize("status", [100, 301, 302, 307, 308, 600])
def test_redirects_and_odd_statuses_are_permanent_since_no_redirect_is_followed(status):
    assert classify(status) is Outcome.PERMANENT


def test_retry_after_in_seconds():
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds(" 0 ") == 0.0


def test_retry_after_as_http_date_is_measured_from_now():
    now = 1_700_000_000.0
    assert retry_after_seconds(formatdate(now + 30, usegmt=True), now=now) == 30.0


def test_retry_after_date_in_the_past_means_no_wait():
    now = 1_700_000_000.0
    assert retry_after_seconds(formatdate(now - 30, usegmt=True), now=now) == 0.0


@pytest.mark.parametrize("header", [None, "", "soon", "-5", "1.5", "Mon, 99 Foo 2024"])
def test_retry_after_absent_or_unreadable_gives_none(header):
    assert retry_after_seconds(header) is None


class _Ceiling(random.Random):
    """Always draws the top of the range, to see the ceilings."""

    def uniform(self, a: float, b: float) -> float:
        return b


def test_backoff_ceiling_doubles_from_base_up_to_max():
    policy = RetryPolicy(max_attempts=10, backoff_base=0.5, backoff_max=3.0)
    assert [policy.backoff(n, _Ceiling()) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_backoff_is_full_jitter_between_zero_and_the_ceiling():
    policy = RetryPolicy(backoff_base=1.0, backoff_max=8.0)
    draws = [policy.backoff(3, random.Random(seed)) for seed in range(200)]
    assert all(0.0 <= draw <= 4.0 for draw in draws)
    assert min(draws) < 0.5 and max(draws) > 3.5


def test_backoff_of_a_huge_retry_number_stays_at_the_max():
    assert RetryPolicy(backoff_max=8.0).backoff_ceiling(10_000) == 8.0


@pytest.mark.parametrize(
    "kwargs",
    [{"max_attempts": 0}, {"backoff_base": -1}, {"backoff_max": -1}, {"total_timeout": 0}],
)
def test_retry_policy_refuses_nonsense(kwargs):
    with pytest.raises(ConfigurationError):
        RetryPolicy(**kwargs)
