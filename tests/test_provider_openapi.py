"""Schemathesis against the fake provider's own ``/openapi.json``, served live over HTTPS.

Positive and negative data for every operation; the answers must match the
document: status codes, content types and response schemas, and never a 5xx.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from sms_contract.mock_provider.openapi import mock_openapi
from sms_contract.mock_provider.testing import LiveProvider, provider_config

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
#: Per operation and generation mode: enough to find disagreements, quick on 2 cores.
MAX_EXAMPLES = 25


#: The provider under test; its document is loaded at import, its server started later.
CONFIG_OPTIONS: dict[str, Any] = {"max_wait": 0.2, "max_messages": 500}


def _schema() -> Any:
    document = mock_openapi(provider_config(Path("unused"), **CONFIG_OPTIONS))
    loaded = schemathesis.openapi.from_dict(document)
    loaded.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        max_examples=MAX_EXAMPLES,
        deterministic=True,
    )
    return loaded


schema = _schema()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveProvider]:
    """An HTTPS provider whose longest wait is short (schemathesis tries the maximum)."""
    folder = tmp_path_factory.mktemp("openapi")
    server = LiveProvider(provider_config(folder, **CONFIG_OPTIONS), tls_dir=folder / "tls")
    yield server
    server.stop()


@schema.parametrize()
def test_every_answer_matches_the_openapi_document(case: Any, live: LiveProvider) -> None:
    case.call_and_validate(base_url=live.base_url, verify=live.verify, checks=CHECKS)


def test_the_live_server_serves_the_document_the_cases_were_drawn_from(
    live: LiveProvider,
) -> None:
    served = requests.get(live.base_url + "/openapi.json", verify=live.verify, timeout=10)
    assert served.status_code == 200
    assert served.json() == schema.raw_schema
