"""/openapi.json as a contract: one Problem component, every error a client can meet, and the
security schemes the routes really use.

FastAPI's generated document inlines or omits error bodies and documents its own
`HTTPValidationError`, which this app never sends (validation errors are problem+json). This
module rewrites the generated document once: every 4xx answer refers to
`#/components/schemas/Problem` under `application/problem+json`; the statuses each operation can
answer are added from what it is (a path id, a body, a session or a bank key, a rate limit);
the applications API's request bodies are published; and the session cookie plus the CSRF
header are described as security schemes beside the banks' bearer key.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from portal.web.api_bodies import AnswersUpdate, NewApplication, Submission, TransitionRequest
from portal.web.bank_api_models import LocalText, ProblemBody, publish_pack_enums
from portal.web.errors import PROBLEM_MEDIA_TYPE
from portal.web.security import CSRF_HEADER
from portal.web.session_store import SESSION_COOKIE

PROBLEM_REF: Final = {"$ref": "#/components/schemas/Problem"}
_UNSAFE: Final = frozenset({"post", "put", "patch", "delete"})
# Operations authenticated by the portal session (tag → scheme); the bank API has its key.
_SESSION_TAGS: Final = frozenset({"applications"})
_RATE_LIMITED_TAGS: Final = frozenset({"bank", "check"})
_BODIES: Final[dict[tuple[str, str], type[BaseModel]]] = {
    ("post", "/api/v1/applications"): NewApplication,
    ("put", "/api/v1/applications/{application_id}/answers"): AnswersUpdate,
    ("post", "/api/v1/applications/{application_id}/submit"): Submission,
    ("post", "/api/v1/applications/{application_id}/transitions"): TransitionRequest,
}
_DESCRIPTIONS: Final = {
    400: "The body is not JSON",
    401: "Not signed in, or a missing, unknown or revoked key",
    403: "Not allowed: the role, the scope, the consent, or (on an unsafe call) the CSRF token",
    404: "No such object, or none this caller may see",
    409: "A stale expected_version, or the workflow or a registration refuses the change",
    413: "The body is too large",
    415: "The body is not application/json",
    422: "A bad parameter or body member (named in `field` or `errors`), or a refused character",
    429: "Rate limit exceeded; see Retry-After",
    503: "Not ready to serve",
}
_UNUSED_SCHEMAS: Final = ("HTTPValidationError", "ValidationError", "ProblemBody")


def _statuses(method: str, path: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses this operation can answer, from what it is."""
    tags = set(operation.get("tags", []))
    found = {int(s) for s in operation.get("responses", {}) if s.isdigit() and int(s) >= 400}
    found.add(422)  # the input guard refuses control and bidi characters everywhere
    if "{" in path:
        found.add(404)
    if "requestBody" in operation:
        found |= {400, 413, 415}
    if tags & _SESSION_TAGS:
        found.add(401)
        if method in _UNSAFE:
            found |= {403, 404, 409}  # 404: a measure or an object the body names is unknown
    if tags & _RATE_LIMITED_TAGS:
        found.add(429)
    return found


def _error_response(status: int, existing: dict[str, Any] | None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": (existing or {}).get("description") or _DESCRIPTIONS[status],
        "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF}},
    }
    if status == 429:
        response["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
    return response


def _components(schemas: dict[str, Any], model: type[BaseModel], name: str | None = None) -> dict[str, Any]:
    """Add `model` (and the models it uses) to the components; returns a $ref to it."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for def_name, definition in schema.pop("$defs", {}).items():
        schemas[def_name] = definition
    schema["title"] = name or model.__name__
    schemas[name or model.__name__] = schema
    return {"$ref": f"#/components/schemas/{name or model.__name__}"}


def contract_openapi(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document, rewritten into the contract described above (cached)."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    spec = get_openapi(title=app.title, version=app.version, routes=app.routes)
    components = spec.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in _UNUSED_SCHEMAS:
        schemas.pop(name, None)
    _components(schemas, ProblemBody, "Problem")
    schemes = components.setdefault("securitySchemes", {})
    schemes["session"] = {
        "type": "apiKey",
        "in": "cookie",
        "name": SESSION_COOKIE,
        "description": "The portal session, set by signing in through /login.",
    }
    schemes["csrf"] = {
        "type": "apiKey",
        "in": "header",
        "name": CSRF_HEADER,
        "description": "The session's CSRF token (from GET /api/v1/session), required on unsafe calls.",
    }
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            model = _BODIES.get((method, path))
            if model is not None:
                operation["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": _components(schemas, model)}},
                }
            if set(operation.get("tags", [])) & _SESSION_TAGS:
                operation["security"] = [
                    {"session": [], "csrf": []} if method in _UNSAFE else {"session": []}
                ]
            responses = operation.setdefault("responses", {})
            for status in sorted(_statuses(method, path, operation)):
                responses[str(status)] = _error_response(status, responses.get(str(status)))
    # The bank API's product codes are the pack's: written in here, never named in the code.
    pack = app.state.portal.pack
    labels = {name: LocalText(zh=fact.label.zh, en=fact.label.en) for name, fact in pack.facts.specs.items()}
    publish_pack_enums(spec, app.state.portal.city.banking.products, labels)
    app.openapi_schema = spec
    return spec
