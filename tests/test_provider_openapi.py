"""Schemathesis, with every check, against the fake provider's own ``/openapi.json``.

Positive and negative data for every documented operation, over HTTPS: the
answers must match the document (statuses, content types, headers, schemas,
``Allow``), schema-valid requests must be accepted and schema-violating ones
refused. The fault-rule operations run against a server of their own, since a
rule they add would change how the other server answers sends. A proxy in front
of a fake provider is held to its own document the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig

from sms_contract.mock_provider.openapi import mock_openapi
from sms_contract.mock_provider.testing import LiveProvider, provider_config
from sms_contract.mock_provider.upstream import UpstreamConfig

#: The document does not name the upstream: any URL gives it.
SOME_UPSTREAM = "https://localhost/sms"

#: Per operation and generation mode: enough to find disagreements, quick on 2 cores.
MAX_EXAMPLES = 25
#: The provider under test: a short longest wait, since the cases try the maximum.
CONFIG_OPTIONS: dict[str, Any] = {"max_wait": 0.2, "max_messages": 500}

#: A schema-valid send may still break the rules JSON Schema cannot state (isUnicode
#: and credits must match the text: 422, SPEC.md), and a retId the generator reuses
#: with another body is a conflict (409). Both are documented answers.
SETTINGS = """
# A body over the size limit is refused before it is read (413): a refusal too.
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422",
                     "428", "429", "5xx"]

[[operations]]
include-path-regex = "/sms$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "404", "409", "422"]
"""

FAULTS_API = "^/api/faults"
#: Starting a verify run: a schema-valid request makes the server reach the URL it names
#: (DNS, TCP, TLS) before answering, so positive data would connect to generated hosts
#: on the network. Only negative data is generated for it: the server refuses a request
#: that breaks the schema before it connects anywhere.
START_RUN = "^/api/verify/runs$"


def _only(loaded: Any, path_regex: str, method: str | None = None) -> Any:
    """``loaded`` limited to the operations on paths matching ``path_regex`` (anchored
    with ``^``), and of ``method`` when given. Not ``include``: the ``[[operations]]``
    entry of the settings is an include filter too, and include filters add up."""
    narrowed = loaded.exclude(path_regex=f"^(?!{path_regex.removeprefix('^')})")
    if method is not None:
        narrowed = narrowed.exclude(method_regex=f"^(?!{method}$)")
    return narrowed


def _schema(*modes: GenerationMode, **options: Any) -> Any:
    document = mock_openapi(provider_config(Path("unused"), **CONFIG_OPTIONS, **options))
    loaded = schemathesis.openapi.from_dict(document, config=SchemathesisConfig.from_str(SETTINGS))
    loaded.config.generation.update(
        modes=list(modes), max_examples=MAX_EXAMPLES, deterministic=True
    )
    return loaded


schema = _schema(GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
negative_schema = _schema(GenerationMode.NEGATIVE)
proxy_schema = _schema(GenerationMode.POSITIVE, GenerationMode.NEGATIVE, upstream=SOME_UPSTREAM)


def _live(folder: Path) -> LiveProvider:
    return LiveProvider(provider_config(folder, **CONFIG_OPTIONS), tls_dir=folder / "tls")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveProvider]:
    """The provider whose sends, inbox and documents are tested."""
    server = _live(tmp_path_factory.mktemp("openapi"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def live_for_faults(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveProvider]:
    """A provider of its own for the fault-rule operations."""
    server = _live(tmp_path_factory.mktemp("openapi-faults"))
    yield server
    server.stop()


@schema.exclude(path_regex=FAULTS_API).exclude(method="POST", path_regex=START_RUN).parametrize()
def test_every_answer_matches_the_openapi_document(case: Any, live: LiveProvider) -> None:
    case.call_and_validate(base_url=live.base_url, verify=live.verify)


@_only(negative_schema, START_RUN, "POST").parametrize()
def test_a_verify_run_request_that_breaks_the_schema_is_refused_as_documented(
    case: Any, live: LiveProvider
) -> None:
    case.call_and_validate(base_url=live.base_url, verify=live.verify)


@_only(schema, FAULTS_API).parametrize()
def test_every_fault_rule_answer_matches_the_openapi_document(
    case: Any, live_for_faults: LiveProvider
) -> None:
    case.call_and_validate(base_url=live_for_faults.base_url, verify=live_for_faults.verify)


def test_the_live_server_serves_the_document_the_cases_were_drawn_from(
    live: LiveProvider,
) -> None:
    served = requests.get(live.base_url + "/openapi.json", verify=live.verify, timeout=10)
    assert served.status_code == 200
    assert served.json() == schema.raw_schema


@pytest.fixture(scope="module")
def live_proxy(
    tmp_path_factory: pytest.TempPathFactory, live: LiveProvider
) -> Iterator[LiveProvider]:
    """A proxy whose upstream is ``live``."""
    folder = tmp_path_factory.mktemp("openapi-proxy")
    upstream = UpstreamConfig(f"{live.base_url}/sms", ca_bundle=Path(str(live.ca_bundle)))
    config = provider_config(folder, **CONFIG_OPTIONS, upstream=upstream)
    server = LiveProvider(config, tls_dir=folder / "tls")
    yield server
    server.stop()


#: The operation a proxy answers otherwise than the fake provider: the send.
PROXIED = "^/sms$"


@_only(proxy_schema, PROXIED).parametrize()
def test_every_proxy_answer_matches_the_proxy_openapi_document(
    case: Any, live_proxy: LiveProvider
) -> None:
    case.call_and_validate(base_url=live_proxy.base_url, verify=live_proxy.verify)


def test_the_live_proxy_serves_the_document_its_cases_were_drawn_from(
    live_proxy: LiveProvider,
) -> None:
    served = requests.get(
        live_proxy.base_url + "/openapi.json", verify=live_proxy.verify, timeout=10
    )
    assert served.json() == proxy_schema.raw_schema
