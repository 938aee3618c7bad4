"""One OpenAPI 3 document for the whole API, merged from the five resolvers (Powertools
``OpenAPIMerge``), completed with the contract's shared parts: bearer security on the
authenticated operations and the problem+json error schema.

``--write`` refreshes ``docs/openapi.json``; ``--check`` fails when it is stale (run by
``make test``, so the committed spec never drifts from the code).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import sys
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "docs" / "openapi.json"
FUNCTIONS = ["register", "auth", "account", "notices", "payments"]

PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "status", "code", "title", "request_id"],
    "properties": {
        "type": {"type": "string", "example": "about:blank"},
        "status": {"type": "integer"},
        "code": {"type": "string", "example": "validation_error"},
        "title": {"type": "string", "example": "Certains champs sont invalides."},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "code", "message"],
                "properties": {"field": {"type": "string"}, "code": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}


def build() -> dict[str, Any]:
    sys.path[:0] = [str(ROOT / "layers" / "common"), str(ROOT)]
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-3")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge

    merge = OpenAPIMerge(
        title="Mon espace locataire — API",
        version="1.0.0",
        description=(
            "API of the tenant app of the Office Public de l'Habitat d'Aubervilliers. "
            "Errors are application/problem+json (RFC 9457) with a stable `code`; see CONTRACT.md."
        ),
        security_schemes={"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},  # type: ignore[dict-item]
        on_conflict="error",
    )
    public: set[tuple[str, str]] = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in FUNCTIONS:
            merge.add_file(ROOT / "functions" / name / "app.py", resolver_name="app")
            api = importlib.import_module(f"functions.{name}.app").api
            for route in api.public:
                method, path = route.split(" ", 1)
                public.add((method.lower(), re.sub(r"<([^>]+)>", r"{\1}", path)))
        spec = merge.get_openapi_schema()
    spec = json.loads(json.dumps(spec, default=str))
    spec.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            if (method, path) not in public:
                operation["security"] = [{"bearerAuth": []}]
            responses = operation.setdefault("responses", {})
            for status in ("422",):
                responses[status] = {
                    "description": "Validation error",
                    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
                }
            responses.setdefault(
                "default",
                {
                    "description": "Error (problem+json)",
                    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
                },
            )
    return spec


def render(spec: dict[str, Any]) -> str:
    return json.dumps(spec, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser()
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", action="store_true")
    group.add_argument("--check", action="store_true")
    args = parser.parse_args()
    text = render(build())
    if args.write:
        SPEC.write_text(text, encoding="utf-8")
        print(f"wrote {SPEC.relative_to(ROOT)} ({len(text)} bytes)")
        return 0
    if not SPEC.exists() or SPEC.read_text(encoding="utf-8") != text:
        print("docs/openapi.json is stale: run `make openapi` and commit it.", file=sys.stderr)
        return 1
    print("docs/openapi.json is up to date.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
