"""The ``/_dev`` endpoints of the local server (contract section 7), one small function each.

Each endpoint takes the server and the request and returns ``(status, headers, body)``; the
table at the bottom routes them. They only exist in the local server, never in AWS.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from devserver import outbox, push_outbox
from devserver import template as tpl

Answer = tuple[int, dict[str, str], bytes]

SWAGGER_HTML = """<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Mon espace locataire — API</title>
<link rel="stylesheet" href="/_dev/swagger/swagger-ui.min.css"></head><body><div id="swagger-ui"></div>
<script src="/_dev/swagger/swagger-ui-bundle.min.js"></script>
<script src="/_dev/swagger/init.js"></script></body></html>"""
SWAGGER_INIT = b"window.ui = SwaggerUIBundle({url: '/_dev/openapi.json', dom_id: '#swagger-ui'});"
IMPORT_KINDS = ("tenants", "notices", "movements", "mandates")
# POST /_dev/jobs/{name} -> the "job" of the scheduler's event (template.yaml, PaymentJobsFunction).
JOBS = {
    "expire-payments": "expire_payments",
    "payments-export": "export_payments",
    "direct-debit-export": "direct_debit_export",
}


@dataclass
class DevRequest:
    method: str
    path: str
    params: dict[str, str]
    body: bytes
    request_id: str
    data: dict[str, Any] = field(default_factory=dict)


def problem(status: int, code: str, title: str, request_id: str, extra: dict[str, Any] | None = None) -> Answer:
    body = {"type": "about:blank", "status": status, "code": code, "title": title, "request_id": request_id}
    body.update(extra or {})
    return status, {"Content-Type": "application/problem+json"}, json.dumps(body, ensure_ascii=False).encode()


def invalid(request: DevRequest, field_name: str, message: str) -> Answer:
    errors = [{"field": field_name, "code": "invalid_format", "message": message}]
    return problem(422, "validation_error", "Certains champs sont invalides.", request.request_id, {"errors": errors})


def as_json(body: Any, status: int = 200) -> Answer:
    return status, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(body, ensure_ascii=False).encode()


def _swagger_file(name: str) -> bytes:
    from pathlib import Path

    import aws_lambda_powertools.event_handler.openapi.swagger_ui as swagger

    return (Path(swagger.__file__).parent / name).read_bytes()


# -- endpoints that answer before the seed is ready ------------------------------------------


def health(server: Any, request: DevRequest) -> Answer:
    if server.ready:
        return as_json({"status": "ok"})
    return problem(503, "service_unavailable", "Le serveur local démarre.", request.request_id)


def openapi(server: Any, request: DevRequest) -> Answer:
    return 200, {"Content-Type": "application/json; charset=utf-8"}, (tpl.ROOT / "docs" / "openapi.json").read_bytes()


def docs(server: Any, request: DevRequest) -> Answer:
    return 200, {"Content-Type": "text/html; charset=utf-8"}, SWAGGER_HTML.encode()


def swagger_asset(server: Any, request: DevRequest) -> Answer:
    name = request.path.rsplit("/", 1)[-1]
    if name == "init.js":
        return 200, {"Content-Type": "text/javascript"}, SWAGGER_INIT
    if name in ("swagger-ui.min.css", "swagger-ui-bundle.min.js"):
        kind = "text/css" if name.endswith(".css") else "text/javascript"
        return 200, {"Content-Type": kind, "Cache-Control": "max-age=3600"}, _swagger_file(name)
    return problem(404, "not_found", "Ressource introuvable.", request.request_id)


# -- endpoints of the running server ---------------------------------------------------------


def outbox_messages(server: Any, request: DevRequest) -> Answer:
    server.pump_if_queued()
    return as_json({"messages": outbox.messages()})


def push_messages(server: Any, request: DevRequest) -> Answer:
    server.pump_if_queued()
    return as_json({"messages": push_outbox.messages()})


def import_file(server: Any, request: DevRequest) -> Answer:
    kind = request.path.rsplit("/", 1)[-1]
    name = request.params.get("name", "")
    if kind not in IMPORT_KINDS or not name or "/" in name or not name.endswith(".csv"):
        return invalid(request, "name", f"Nom de fichier .csv attendu (kind = {' ou '.join(IMPORT_KINDS)}).")
    return as_json(server.import_file(kind, name, request.body))


def is_day(value: Any) -> bool:
    from oph.platform.validation import is_valid_date  # the layer's path is set by devserver.runtime

    return isinstance(value, str) and is_valid_date(value)


def run_job(server: Any, request: DevRequest) -> Answer:
    """Run a scheduled job now, as the scheduler would; ``day``: the Paris day an export covers
    (default: the job's own, yesterday in Paris by the server's clock)."""
    name = request.path.rsplit("/", 1)[-1]
    if name not in JOBS:
        return problem(404, "not_found", f"Tâche inconnue (attendu {', '.join(JOBS)}).", request.request_id)
    day = request.data.get("day")
    if day is not None and not is_day(day):
        return invalid(request, "day", "Jour attendu au format AAAA-MM-JJ.")
    return as_json({"written": server.run_job(JOBS[name], day)})


def bucket_file(server: Any, request: DevRequest) -> Answer:
    """An object of the local bucket as it is stored, with its content type."""
    key = unquote(request.path[len("/_dev/files/") :])
    found = server.read_file(key) if key and ".." not in key.split("/") else None
    if found is None:
        return problem(404, "not_found", "Aucun fichier à cette clé.", request.request_id)
    body, content_type = found
    return 200, {"Content-Type": content_type}, body


def move_clock(server: Any, request: DevRequest) -> Answer:
    offset = request.data.get("offset_seconds")
    if not isinstance(offset, int | float) or isinstance(offset, bool):
        return invalid(request, "offset_seconds", "Nombre de secondes attendu.")
    server.offset = float(offset)
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + server.offset))
    return as_json({"offset_seconds": offset, "now": now})


def reset(server: Any, request: DevRequest) -> Answer:
    server.reset()
    return as_json({"status": "reset"})


def ses_event(server: Any, request: DevRequest) -> Answer:
    data = request.data
    if data.get("type") not in ("Bounce", "Complaint") or not isinstance(data.get("email"), str):
        return invalid(request, "type", "Bounce ou Complaint, avec email.")
    server.ses_event(data["type"], data["email"])
    return as_json({"status": "delivered"})


def account_status(server: Any, request: DevRequest) -> Answer:
    data = request.data
    if not isinstance(data.get("email"), str) or not isinstance(data.get("disabled"), bool):
        return invalid(request, "disabled", "email et disabled (booléen) attendus.")
    # What the runbook does in the AWS console: invoke the account-admin function (Test).
    result = server.invoke("AccountAdminFunction", {"email": data["email"], "disabled": data["disabled"]})
    if not result.get("found"):
        return problem(404, "not_found", "Aucun compte pour cette adresse.", request.request_id)
    return as_json({"email": data["email"].strip().lower(), "disabled": data["disabled"]})


Endpoint = Callable[[Any, DevRequest], Answer]
BEFORE_READY: dict[tuple[str, str], Endpoint] = {
    ("GET", "/_dev/health"): health,
    ("GET", "/_dev/openapi.json"): openapi,
    ("GET", "/_dev/docs"): docs,
    ("GET", "/_dev/swagger/"): swagger_asset,
}
WHEN_READY: dict[tuple[str, str], Endpoint] = {
    ("GET", "/_dev/outbox"): outbox_messages,
    ("GET", "/_dev/push"): push_messages,
    ("POST", "/_dev/imports/"): import_file,
    ("POST", "/_dev/clock"): move_clock,
    ("POST", "/_dev/reset"): reset,
    ("POST", "/_dev/ses-events"): ses_event,
    ("POST", "/_dev/accounts/status"): account_status,
    ("POST", "/_dev/jobs/"): run_job,
    ("GET", "/_dev/files/"): bucket_file,
}


def _find(table: dict[tuple[str, str], Endpoint], method: str, path: str) -> Endpoint | None:
    for (route_method, route), endpoint in table.items():
        if route_method == method and (path == route or (route.endswith("/") and path.startswith(route))):
            return endpoint
    return None


def dispatch(server: Any, request: DevRequest) -> Answer:
    endpoint = _find(BEFORE_READY, request.method, request.path)
    if endpoint is not None:
        return endpoint(server, request)
    if not server.ready:
        return problem(503, "service_unavailable", "Le serveur local démarre.", request.request_id)
    endpoint = _find(WHEN_READY, request.method, request.path)
    if endpoint is None:
        return problem(404, "not_found", "Ressource introuvable.", request.request_id)
    if request.body and not request.path.startswith("/_dev/imports/"):
        try:
            data = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return problem(
                400, "malformed_json", "Le corps de la requête n'est pas un JSON valide.", request.request_id
            )
        request.data = data if isinstance(data, dict) else {}
    return endpoint(server, request)
