"""``metav1.Status``: every error the server answers with, shaped as the API server shapes it.

Mirrors ``k8s.io/apimachinery/pkg/api/errors/errors.go`` (``NewNotFound``, ``NewAlreadyExists``,
``NewConflict``, ``NewInvalid``, ``NewBadRequest``, ``NewRequestEntityTooLargeError``,
``NewGone``/``NewResourceExpired``, ``NewMethodNotSupported``) and the field-error reasons of
``k8s.io/apimachinery/pkg/util/validation/field/errors.go``: a kubesim :class:`~kubesim.errors.FieldError`
becomes one ``StatusCause`` whose ``field`` is its path and whose ``message`` is its body
without the path, so kubectl prints ``The Service "web" is invalid: spec.ports[0].port: ...``
exactly as against a real API server.

Everything here is pure and ``O(size of the error)``.

>>> from kubesim.errors import NotFound
>>> code, body = from_exception(NotFound("Endpoints", "web", "default"))
>>> code, body["reason"], body["message"], body["details"]
(404, 'NotFound', 'endpoints "web" not found', {'name': 'web', 'kind': 'endpoints'})
"""

from __future__ import annotations

from typing import Any

from kubesim import errors as _errors
from kubesim.kinds import KIND_INFO

__all__ = ["ApiError", "status", "from_exception", "success"]

#: field.ErrorType -> StatusCause reason (``field.ErrorType`` strings).
_CAUSE_REASONS = {
    "Invalid value": "FieldValueInvalid",
    "Required value": "FieldValueRequired",
    "Unsupported value": "FieldValueNotSupported",
    "Duplicate value": "FieldValueDuplicate",
    "Forbidden": "FieldValueForbidden",
    "Too many": "FieldValueTooMany",
    "Too long": "FieldValueTooLong",
    "Not found": "FieldValueNotFound",
    "Internal error": "InternalError",
    "Type error": "FieldValueTypeInvalid",
}


class ApiError(Exception):
    """An HTTP error answer: ``code`` and the ``Status`` body. Raised by the REST layer, turned
    into a response by the HTTP layer (never escapes to a client as a traceback)."""

    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.body = status(code, reason, message, details)
        self.headers = headers or {}


def status(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """A failure ``Status`` object (``kind``, ``apiVersion``, ``metadata``, ``status``,
    ``message``, ``reason``, ``details``, ``code`` in the API server's key order)."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
    }
    if reason:
        body["reason"] = reason
    if details:
        body["details"] = details
    body["code"] = code
    return body


def success(details: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``Status`` of a successful delete of a kind without graceful deletion."""
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
    if details:
        body["details"] = details
    return body


def _qualified(kind: str) -> tuple[str, str]:
    """(group, resource) of a kind: ``("apps", "deployments")``."""
    info = KIND_INFO.get(kind)
    if info is None:
        return "", kind.lower() + "s"
    return info.group, info.plural


def _details(kind: str, name: str, *, use_kind: bool = False) -> dict[str, Any]:
    group, resource = _qualified(kind)
    d: dict[str, Any] = {"name": name}
    if group:
        d["group"] = group
    d["kind"] = kind if use_kind else resource
    return d


def field_cause(e: _errors.FieldError) -> dict[str, Any]:
    """One ``StatusCause`` of a field error: ``message`` is the error without its path."""
    text = str(e)
    prefix = e.path + ": "
    message = text[len(prefix):] if text.startswith(prefix) else text
    return {"reason": _CAUSE_REASONS.get(e.type, "FieldValueInvalid"), "message": message, "field": e.path}


def from_exception(exc: BaseException) -> tuple[int, dict[str, Any]]:
    """The HTTP status code and ``Status`` body for a kubesim error (or an :class:`ApiError`).
    Anything unexpected is a 500 ``InternalError`` that names the exception type only."""
    if isinstance(exc, ApiError):
        return exc.code, exc.body
    if isinstance(exc, _errors.NotFound):
        return 404, status(404, "NotFound", str(exc), _details(exc.kind, exc.name))
    if isinstance(exc, _errors.AlreadyExists):
        return 409, status(409, "AlreadyExists", str(exc), _details(exc.kind, exc.name))
    if isinstance(exc, _errors.Conflict):
        return 409, status(409, "Conflict", str(exc), _details(exc.kind, exc.name))
    if isinstance(exc, _errors.InvalidObject):
        details = _details(exc.kind, exc.name, use_kind=True)
        details["causes"] = [field_cause(e) for e in exc.errors]
        return 422, status(422, "Invalid", str(exc), details)
    forbidden = getattr(_errors, "Forbidden", None)
    if forbidden is not None and isinstance(exc, forbidden):
        return 403, status(403, "Forbidden", str(exc), _details(exc.kind, exc.name))
    too_large = getattr(_errors, "RequestEntityTooLarge", None)
    if too_large is not None and isinstance(exc, too_large):
        return 413, status(413, "RequestEntityTooLarge", str(exc))
    if isinstance(exc, _errors.RequestTooLarge):
        return 413, status(413, "RequestEntityTooLarge", f"Request entity too large: {exc}")
    if isinstance(exc, _errors.ServerTimeout):
        return 504, status(504, "Timeout", str(exc), {"retryAfterSeconds": 1})
    if isinstance(exc, _errors.ServerError):
        return 500, status(500, "InternalError", str(exc), {"causes": [{"message": str(exc)}]})
    if isinstance(exc, (_errors.ManifestError, _errors.InvalidSelector, _errors.InvalidOption)):
        return 400, status(400, "BadRequest", str(exc))
    if isinstance(exc, _errors.KubesimError):
        return 400, status(400, "BadRequest", str(exc))
    message = f"Internal error occurred: {type(exc).__name__}"
    return 500, status(500, "InternalError", message, {"causes": [{"message": message}]})
