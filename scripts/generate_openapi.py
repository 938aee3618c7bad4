"""One OpenAPI 3 document for the whole API, merged from the five resolvers (Powertools
``OpenAPIMerge``), completed with the contract's shared parts, so that a client generator or
a fuzzer (schemathesis, ``tests/e2e/test_fuzz.py``) can take it at its word:

- only the JSON API under ``/v1`` is described. The ``/links/*`` and ``/sandbox/*`` HTML pages
  opened from e-mails and by the payment page are not JSON API: their routes are declared with
  ``include_in_schema=False``, and anything outside ``/v1`` is left out here as well;
- path parameters are named as in ``template.yaml`` (the contract's ``{id}``), whatever the
  route function calls them; an operation without a template route is an error;
- bearer security on the authenticated operations (those not listed in ``Api(public=...)``);
- every operation declares its real success status (200/201/202/204; a 204 has no body) and
  the problem+json errors it can give (RFC 9457, schema ``Problem``): 401/403 when
  authenticated, 400/413/415/422 when it takes a JSON body, 422 for parameters, 404 for a
  path parameter, the use case's own codes (409, 429, ...), and 500/503 everywhere. Powertools'
  own 422 ``HTTPValidationError`` is replaced by ``Problem`` and its schemas are removed.
  There is no ``default`` response, so an undocumented status is a conformance failure;
- every response carries ``X-Request-Id``; 429 and 503 carry ``Retry-After``.

The result is validated against the OpenAPI 3.1 schema (openapi-spec-validator) before it is
written or compared. ``--write`` refreshes ``docs/openapi.json``; ``--check`` fails when it is
stale (run by ``make test``, so the committed spec never drifts from the code).
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
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
# Powertools' validation error shapes, replaced by Problem (removed once unreferenced).
POWERTOOLS_SCHEMAS = ("HTTPValidationError", "ValidationError", "ResponseValidationError")

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

ERROR_TEXT = {
    400: "`malformed_json`, or the use case's own: `token_invalid`, `token_expired`, `identity_mismatch`, "
    "`notification_rejected`",
    401: "`unauthorized` (missing, expired or revoked access token; refused refresh token) or `invalid_credentials`",
    403: "`account_disabled`, `email_not_verified` or `current_password_invalid`",
    404: "`not_found` (also another tenant's resource: existence is never revealed)",
    409: "`account_exists`, `email_taken`, `idempotency_conflict` or `direct_debit_exists`",
    413: "`payload_too_large`: body over 64 KiB",
    415: "`unsupported_media_type`: not application/json",
    422: "`validation_error`, with `errors[]` listing every failing field",
    429: "`too_many_requests`, with `Retry-After` in seconds",
    500: "`internal_error` (generic body; details only in the logs)",
    503: "`service_unavailable`: a dependency is throttling or down, with `Retry-After` in seconds",
}
# The use cases' own errors, beyond the ones derived from the operation's shape.
OWN_ERRORS: dict[tuple[str, str], set[int]] = {
    ("post", "/v1/registrations/identity"): {409, 429},
    ("post", "/v1/auth/login"): {401, 403, 429},
    ("post", "/v1/auth/refresh"): {401, 403},
    ("post", "/v1/account/email/confirm"): {409},
    ("post", "/v1/documents/receipts"): {404},
    ("post", "/v1/payments"): {409, 429},  # 10 creations per account per hour
    # Routes that check a current password obey the login lock (contract section 3).
    ("delete", "/v1/account"): {429},
    ("put", "/v1/account/password"): {429},
    ("post", "/v1/account/email"): {429},
    ("put", "/v1/payments/direct-debit"): {409, 429},
    ("delete", "/v1/payments/direct-debit"): {404, 429},
    ("post", "/v1/payments/notifications/{provider}"): {400, 413},
}
# Request bodies a resolver cannot describe: the gateway posts a signed vads_* form.
FORM_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/v1/payments/notifications/{provider}"): {
        "required": True,
        "description": "The gateway's IPN: `vads_*` fields and their `signature` (Systempay/PayZen protocol)",
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {"type": "object", "additionalProperties": {"type": "string"}}
            }
        },
    },
}
REQUEST_ID = {"description": "Equals the error body's `request_id`", "required": True, "schema": {"type": "string"}}
RETRY_AFTER = {"description": "Whole seconds, at least 1", "required": True, "schema": {"type": "integer"}}


def _template_paths() -> dict[tuple[str, str], str]:
    """(method, path with anonymous parameters) -> the template's path, e.g. ``/v1/payments/{id}``."""
    from devserver import template

    paths = {}
    for function in template.functions():
        for route in function.routes:
            paths[(route.method.lower(), re.sub(r"\{[^}]+\}", "{}", route.path))] = route.path
    return paths


def _rename_path_parameters(spec: dict[str, Any]) -> None:
    template_paths = _template_paths()
    renamed: dict[str, Any] = {}
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            target = template_paths.get((method, re.sub(r"\{[^}]+\}", "{}", path)))
            if target is None:
                raise SystemExit(f"{method.upper()} {path} has no route in template.yaml")
            names = dict(zip(re.findall(r"\{([^}]+)\}", path), re.findall(r"\{([^}]+)\}", target), strict=True))
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path" and parameter["name"] in names:
                    parameter["name"] = names[parameter["name"]]
                    parameter.get("schema", {}).pop("title", None)
            renamed.setdefault(target, {})[method] = operation
    spec["paths"] = renamed


def _problem(status: int) -> dict[str, Any]:
    """The shared error response (``components/responses/Error<status>``)."""
    headers: dict[str, Any] = {"X-Request-Id": {"$ref": "#/components/headers/RequestId"}}
    if status in (429, 503):
        headers["Retry-After"] = {"$ref": "#/components/headers/RetryAfter"}
    return {
        "description": ERROR_TEXT[status],
        "headers": headers,
        "content": {"application/problem+json": {"schema": PROBLEM_REF}},
    }


def _complete(method: str, path: str, operation: dict[str, Any], public: bool) -> None:
    if not public:
        operation["security"] = [{"bearerAuth": []}]
    if (method, path) in FORM_BODIES:
        operation["requestBody"] = FORM_BODIES[(method, path)]
    parameters = operation.get("parameters", [])
    json_body = "application/json" in operation.get("requestBody", {}).get("content", {})
    errors = {500, 503} | OWN_ERRORS.get((method, path), set())
    if not public:
        errors |= {401, 403}
    if json_body:
        errors |= {400, 413, 415, 422}
    if parameters:
        errors.add(422)
    if any(p.get("in") == "path" for p in parameters):
        errors.add(404)
    responses = operation.setdefault("responses", {})
    responses.pop("default", None)
    for status in list(responses):
        if int(status) >= 400:
            del responses[status]
        else:
            responses[status].setdefault("headers", {})["X-Request-Id"] = {"$ref": "#/components/headers/RequestId"}
            if status == "204":
                responses[status].pop("content", None)
    for status in sorted(errors):
        responses[str(status)] = {"$ref": f"#/components/responses/Error{status}"}


def _number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() else value


def _referenced(spec: dict[str, Any]) -> set[str]:
    text = json.dumps({k: v for k, v in spec.items() if k != "components"})
    names = set(re.findall(r"#/components/schemas/([^\"]+)", text))
    schemas = spec["components"]["schemas"]
    pending = list(names)
    while pending:
        for ref in re.findall(r"#/components/schemas/([^\"]+)", json.dumps(schemas.get(pending.pop(), {}))):
            if ref not in names:
                names.add(ref)
                pending.append(ref)
    return names


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
                public.add((method.lower(), re.sub(r"<[^>]+>", "{}", path)))
        # Through pydantic, so enums (e.g. a parameter's `in`) become their JSON values; bounds
        # typed as floats by Powertools' models (100.0) are written back as the integers they are.
        spec = json.loads(merge.get_openapi_json_schema(), parse_float=_number)
    spec["paths"] = {path: ops for path, ops in spec.get("paths", {}).items() if path.startswith("/v1/")}
    _rename_path_parameters(spec)
    components = spec.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    components["headers"] = {"RequestId": REQUEST_ID, "RetryAfter": RETRY_AFTER}
    components["responses"] = {f"Error{status}": _problem(status) for status in ERROR_TEXT}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            _complete(method, path, operation, (method, re.sub(r"\{[^}]+\}", "{}", path)) in public)
    used = _referenced(spec)
    for name in POWERTOOLS_SCHEMAS:
        if name not in used:
            schemas.pop(name, None)
    from openapi_spec_validator import validate

    validate(spec)  # a document that tools (and the fuzzer) can load, or no document at all
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
