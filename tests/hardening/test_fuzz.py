"""Property-based fuzzing of every route in ``packages/api/openapi.json`` against `chalice local`.

Schemathesis generates valid and invalid parameters and bodies from the committed document and
runs all its checks on each answer: no 5xx, a documented status code and content type, a body
matching the documented schema, invalid input rejected and valid input accepted.
Bounded (examples per route, derandomized) so it takes about a minute on two cores.
"""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

OPENAPI = Path(__file__).resolve().parents[2] / "packages" / "api" / "openapi.json"
EXAMPLES_PER_ROUTE = 20

CONFIG = SchemathesisConfig.from_dict(
    {
        # chalice local is Python's http.server, which answers 501 to TRACE and QUERY before
        # the app sees them (API Gateway answers those itself); other undeclared methods get 405.
        "phases": {"coverage": {"unexpected-methods": ["get", "put", "post", "delete", "patch"]}},
        "operations": [
            {
                # The served model names change with each approved version, so the document
                # cannot enumerate them: a well-formed unknown name is a documented 400.
                "include-operation-id": "getRecommendations",
                "checks": {
                    "positive_data_acceptance": {"expected-statuses": ["2xx", "400", "404"]}
                },
            }
        ],
    }
)
schema = schemathesis.openapi.from_path(OPENAPI, config=CONFIG)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_ROUTE,
    deadline=None,
    derandomize=True,  # the same cases on every CI run; failures reproduce
    suppress_health_check=list(HealthCheck),
)
def test_api_honours_its_openapi_document(case: schemathesis.Case, api: str) -> None:
    case.call_and_validate(base_url=api, timeout=30)
