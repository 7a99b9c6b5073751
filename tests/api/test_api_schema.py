"""schemathesis against the OpenAPI document, in process, signed in as a case owner:
no 5xx, and every response matches the document."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from svidok.api import create_app
from svidok.api.app import PREFIX, open_state
from svidok.api.uploads import OFFSET_MEDIA_TYPE

from .conftest import World


@pytest.fixture(scope="module")
def api_schema(world: World) -> Iterator[Any]:
    # tus PATCH bodies are raw bytes under tus' own media type
    schemathesis.serializer.alias(OFFSET_MEDIA_TYPE, "application/octet-stream")
    app = create_app(world.home_path)
    app.state.svidok = open_state(world.home_path, upload_limit=1 << 16)
    try:
        yield schemathesis.openapi.from_asgi(f"{PREFIX}/openapi.json", app)
    finally:
        app.state.svidok.auth.close()
        app.state.svidok.home.close()


def test_api_conforms(api_schema: Any, world: World) -> None:
    """Every operation, a few generated requests each (schemathesis' pytest plugin does
    not run on pytest 9 yet, so operations are driven here)."""
    headers = {"Authorization": f"Bearer {world.tokens['olena']}"}
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 30
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=5,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def run(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=checks)

        run()
