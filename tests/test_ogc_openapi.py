"""The OpenAPI definition against the real server: every answer schemathesis provokes is a
documented status and none is a server error (bounded: a few examples per operation)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

pytest_plugins = ["web_fixtures"]

# Examples per operation: enough to vary every parameter, small enough for a minute.
EXAMPLES = 6


@pytest.fixture(scope="module")
def served_api(live_server):
    return schemathesis.openapi.from_url(f"{live_server}/openapi?f=json")


schema = schemathesis.pytest.from_fixture("served_api")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_server_error_and_no_undocumented_status(case):
    case.call_and_validate(checks=[not_a_server_error, status_code_conformance], timeout=60)
