"""The OpenAPI definition against the real server: every answer schemathesis provokes is a
documented status and none is a server error (bounded: a few examples per operation)."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

pytest_plugins = ["web_fixtures"]

# Examples per operation: enough to vary every parameter, few enough for about a minute.
EXAMPLES = 12


def test_no_server_error_and_no_undocumented_status(live_server):
    schema = schemathesis.openapi.from_url(f"{live_server}/openapi?f=json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate(checks=[not_a_server_error, status_code_conformance],
                                   timeout=60)

        check()
