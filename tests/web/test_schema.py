"""schemathesis against the served OpenAPI schema: generated requests (as an editor with an API
token) never make the server fail. Bounded: a few examples per operation, no deadline."""

from __future__ import annotations

import hypothesis
import schemathesis
from schemathesis.checks import not_a_server_error

from .conftest import World

SETTINGS = hypothesis.settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)


def test_no_operation_makes_a_server_error(world: World) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", world.client.app)
    # password/forgot answers 503 by design on a server without SMTP (test_ws_accounts.py)
    schema = schema.exclude(path_regex=r"^/api/(logout|signup|login|password/forgot)$")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 15
    for operation in operations:

        @SETTINGS
        @hypothesis.given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=world.editor.auth, checks=[not_a_server_error])

        check()
