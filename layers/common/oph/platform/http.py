"""HTTP edge shared by the five functions: checks in contract order, problem+json, headers.

Each ``functions/<name>/app.py`` builds one :class:`Api` and exposes ``api.lambda_handler``.
Before the Powertools resolver runs (and validates bodies against the pydantic models of
the route signatures), :meth:`Api.handle` applies the contract's precedence: authentication
first (401, 403 ``account_disabled``), then body size (413), content type (415), JSON form
(400 ``malformed_json``, 422 on ``body`` for a non-object), then pydantic validation (422),
then the use case's own rules. Every error leaves through :func:`problem`, the one mapping
from typed exceptions to the contract's problem+json; every response gets ``X-Request-Id``.
"""

from __future__ import annotations

import base64
import contextvars
import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field

from oph.platform import errors
from oph.platform.observability import get_logger, get_metrics

MAX_BODY_BYTES = 64 * 1024
MAX_JSON_DEPTH = 32  # contract section 1: deeper is 400 malformed_json (and never a RecursionError)
JSON = "application/json; charset=utf-8"
PROBLEM = "application/problem+json"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Pydantic error types that carry one of our contract field codes as-is.
_CONTRACT_CODES = frozenset(errors.FIELD_MESSAGES)

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
_principal: contextvars.ContextVar[Any] = contextvars.ContextVar("principal", default=None)


# An e-mail address as the API takes it: documented as at most 254 characters (contract
# section 1); the use cases answer a longer one with 422 ``invalid_format``, so a form's other
# fields are still all checked and listed together.
EmailInput = Annotated[str, Field(json_schema_extra={"maxLength": 254}, examples=["jean.dupond@exemple.com"])]


class RequestModel(BaseModel):
    """Base of every JSON body: unknown fields are refused (a client typo never passes)."""

    model_config = ConfigDict(extra="forbid", str_max_length=4096)


def request_id() -> str:
    return _request_id.get()


def principal() -> Any:
    """The authenticated caller of the current request (set before the route runs)."""
    current = _principal.get()
    if current is None:  # a route marked public asked for a caller: a bug, not a client error
        raise errors.Unauthorized()
    return current


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(status_code=status, content_type=JSON, body=_dumps(body), headers=dict(headers or {}))


def empty_response(status: int = 204) -> Response:
    return Response(status_code=status, body="")


def _dumps(body: Any) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str)


def problem(exc: BaseException) -> Response:
    """The single mapping from an exception to the contract's problem+json answer."""
    if not isinstance(exc, errors.ApiError):
        get_logger().exception("unexpected error")
        exc = errors.InternalError()
    body: dict[str, Any] = {
        "type": "about:blank",
        "status": exc.status,
        "code": exc.code,
        "title": exc.title,
        "request_id": request_id(),
    }
    if exc.status == 422:
        body["errors"] = [e.as_dict() for e in exc.errors]
    headers = {}
    if exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    return Response(status_code=exc.status, content_type=PROBLEM, body=_dumps(body), headers=headers)


def _field_name(loc: tuple[Any, ...]) -> str:
    if loc and loc[0] == "header" and len(loc) > 1:
        return "-".join(part.capitalize() for part in str(loc[1]).split("-"))
    parts = (
        [str(p) for p in loc[1:] if not isinstance(p, int)]
        if loc and loc[0] in ("body", "query", "path")
        else [str(p) for p in loc]
    )
    return ".".join(parts) or "body"


def validation_problem(exc: RequestValidationError) -> Response:
    collected = errors.FieldErrors()
    for err in exc.errors():
        kind = str(err.get("type", ""))
        loc = tuple(err.get("loc", ()))
        field = _field_name(loc)
        if kind == "missing":
            collected.add(field, "required")
        elif kind == "extra_forbidden":
            collected.add(field, "unknown_field")
        elif kind in _CONTRACT_CODES:
            collected.add(field, kind, str(err.get("msg") or errors.FIELD_MESSAGES[kind]))
        elif field in ("body", "") or kind in ("model_attributes_type", "dict_type", "model_type"):
            collected.add("body", "invalid_format", "Le corps de la requête doit être un objet JSON.")
        else:
            collected.add(field, "invalid_format")
    return problem(errors.ValidationFailed(errors=collected.items))


def _header(event: Mapping[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return str(value)
    return None


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in a JSON text, counted without parsing it
    (brackets inside strings do not count), so a hostile body cannot exhaust the parser's stack."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def raw_body(event: Mapping[str, Any]) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body)
        except ValueError:
            return b"\xff"  # undecodable: treated as malformed below
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


class Api:
    """One function's resolver plus the shared edge behaviour.

    ``public`` lists the routes reachable without an access token, as ``"METHOD /path"``
    with the resolver's ``<param>`` syntax. Routes under ``/v1`` with a body method are JSON
    routes unless listed in ``form_routes`` (e.g. the gateway's form-encoded notification).
    """

    def __init__(
        self,
        *,
        public: Iterable[str] = (),
        form_routes: Iterable[str] = (),
        authenticate: Callable[[Mapping[str, Any]], Any] | None = None,
    ) -> None:
        self.resolver = APIGatewayRestResolver(enable_validation=True, serializer=_dumps)
        self.public = frozenset(public)
        self.form_routes = frozenset(form_routes)
        self._authenticate = authenticate
        self.resolver.exception_handler(RequestValidationError)(validation_problem)
        self.resolver.exception_handler(errors.ApiError)(self._error)
        self.resolver.exception_handler(NotFoundError)(lambda _exc: self._error(errors.NotFound()))
        self.resolver.exception_handler(Exception)(self._error)

    # -- error answers: problem+json on the API, a French HTML page on /links and /sandbox
    def _error(self, exc: BaseException, path: str | None = None) -> Response:
        if path is None:
            current = getattr(self.resolver, "current_event", None)
            path = str(current.path or "") if current is not None else ""
        if path.startswith(("/links/", "/sandbox/")):
            from oph.platform.pages import error_page

            if not isinstance(exc, errors.ApiError):
                get_logger().exception("unexpected error on a page")
                exc = errors.InternalError()
            return error_page(exc)
        return problem(exc)

    def _route_for(self, method: str, path: str) -> str | None:
        resolver = self.resolver
        for route in resolver._static_routes + resolver._dynamic_routes:
            if route.method == method and route.rule.match(path):
                return f"{route.method} {route.path}"
        return None

    def _authenticator(self) -> Callable[[Mapping[str, Any]], Any]:
        if self._authenticate is None:  # a function with private routes must say how to authenticate
            raise errors.Unauthorized()
        return self._authenticate

    def _precheck(self, event: Mapping[str, Any], route: str) -> None:
        method, path = route.split(" ", 1)
        if route not in self.public:
            _principal.set(self._authenticator()(event))
        body = raw_body(event)
        if len(body) > MAX_BODY_BYTES:
            raise errors.PayloadTooLarge()
        if method not in _BODY_METHODS or not path.startswith("/v1/") or route in self.form_routes:
            return
        content_type = (_header(event, "content-type") or "").split(";")[0].strip().lower()
        if content_type and content_type != "application/json":  # +json variants included (§1)
            raise errors.UnsupportedMediaType()
        try:
            text = body.decode("utf-8")
            if nesting_depth(text) > MAX_JSON_DEPTH:
                raise errors.MalformedJson()
            parsed = json.loads(text)
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise errors.MalformedJson() from None
        if not isinstance(parsed, dict):
            raise errors.ValidationFailed.single(
                "body", "invalid_format", "Le corps de la requête doit être un objet JSON."
            )

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        rid = str((event.get("requestContext") or {}).get("requestId") or uuid.uuid4())
        token_rid = _request_id.set(rid)
        token_principal = _principal.set(None)
        try:
            method = str(event.get("httpMethod", "GET")).upper()
            route = self._route_for(method, str(event.get("path") or "/"))
            early: Response | None = None
            if route is not None:
                try:
                    self._precheck(event, route)
                except errors.ApiError as exc:
                    early = self._error(exc, str(event.get("path") or ""))
            if early is not None:
                builder = self.resolver._response_builder_class(response=early, serializer=self.resolver._serializer)
                result = builder.build(self.resolver._to_proxy_event(event), None)
            else:
                result = self.resolver.resolve(event, context)
            return _finish(result, rid, exact_type=str(event.get("path") or "").startswith("/.well-known/"))
        finally:
            _request_id.reset(token_rid)
            _principal.reset(token_principal)

    def lambda_handler(self) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
        """The Lambda entry point with Powertools' logging and metrics decorators."""
        from aws_lambda_powertools.logging import correlation_paths

        logger, metrics = get_logger(), get_metrics()

        @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
        @metrics.log_metrics
        def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
            return self.handle(event, context)

        return lambda_handler


def _finish(result: dict[str, Any], rid: str, *, exact_type: bool = False) -> dict[str, Any]:
    """Headers every answer carries; JSON gets its charset, except the association files
    (``/.well-known/``), served exactly ``application/json`` as Apple and Google document."""
    headers = dict(result.get("headers") or {})
    multi = dict(result.get("multiValueHeaders") or {})
    for name, values in multi.items():
        if values and name not in headers and len(values) == 1:
            headers[name] = values[0]
    multi = {k: v for k, v in multi.items() if k not in headers}
    content_type = headers.get("Content-Type", "")
    if content_type == "application/json" and not exact_type:
        headers["Content-Type"] = JSON
    if not result.get("body") and result.get("statusCode") == 204:
        headers.pop("Content-Type", None)
    headers["X-Request-Id"] = rid
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Cache-Control", "no-store")
    result["headers"] = headers
    if multi:
        result["multiValueHeaders"] = multi
    else:
        result.pop("multiValueHeaders", None)
    return result
