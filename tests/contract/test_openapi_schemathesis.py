"""Property-based contract test of the whole OpenAPI document with schemathesis.

A real ``tocsin serve`` process runs against its own database; schemathesis generates
requests for every operation (valid and invalid), authenticated by an API key with every
scope, and fails on any 5xx, any undocumented status code or content type, any response
that breaks its schema, and any schema-invalid request that is accepted.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import cloned_database
from tests.live_server import running_tocsin
from tocsin.domain.access import Scope

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live_server(
    server_url: str, template_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    with (
        cloned_database(server_url, template_database) as url,
        running_tocsin(url, tmp_path_factory.mktemp("schemathesis")) as server,
    ):
        scopes = [arg for scope in Scope for arg in ("--scope", scope.value)]
        key = server.cli("api-keys", "create", "--name", "schemathesis", *scopes).stdout.strip()
        yield server.base_url, key


# A body over the 1 MiB limit is refused 413 before it is read, whatever it holds: a
# rejection like the others (schemathesis' default list leaves it out).
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "negative_data_rejection": {
                "expected-statuses": [
                    *SchemathesisConfig().projects.default.checks.negative_data_rejection.expected_statuses,
                    "413",
                ]
            }
        }
    }
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


# schemathesis' own pytest integration (``from_fixture``) does not run on pytest 9 yet, so
# the test drives it directly: one Hypothesis run per operation and generation mode, every
# failure collected, so one report lists every broken operation.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_honours_its_contract(
    live_server: tuple[str, str], mode: GenerationMode
) -> None:
    base, key = live_server
    api_schema = schemathesis.openapi.from_url(f"{base}/openapi.json", config=CONFIG)
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 15

    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def exercise(case: schemathesis.Case) -> None:
            case.call_and_validate(
                base_url=base, headers={"Authorization": f"Bearer {key}"}, checks=CHECKS
            )

        try:
            exercise()
        except Unsatisfiable:
            # An operation without parameters or body has no invalid input to generate.
            assert mode is GenerationMode.NEGATIVE, operation.label
        except Exception as error:
            failures.append(f"{operation.label}: {error}")
    assert failures == [], "\n\n".join(failures)
