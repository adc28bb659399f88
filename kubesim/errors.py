"""Every error kubesim raises, in one module.

All are subclasses of :class:`KubesimError`. Errors about an object carry the API server's
wording, including the field path (``spec.ports[0].port``), and a failed call changes nothing.

>>> err = InvalidObject("Service", "web", [FieldError("spec.ports[0].port", "Invalid value", 70000,
...     "must be between 1 and 65535, inclusive")])
>>> str(err)
'Service "web" is invalid: spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive'
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import attrs

__all__ = [
    "KubesimError",
    "FieldError",
    "InvalidObject",
    "InvalidOption",
    "NotFound",
    "AlreadyExists",
    "Conflict",
    "Forbidden",
    "RequestTooLarge",
    "RequestEntityTooLarge",
    "InvalidArgument",
    "ReentrancyError",
    "ServerError",
    "ServerTimeout",
    "ManifestError",
    "InvalidSelector",
    "NoEndpoints",
    "NXDomain",
    "KubectlError",
]


class KubesimError(Exception):
    """Base class of every error kubesim raises on purpose."""


def _render_value(value: Any) -> str:
    # The API server prints strings quoted (Go %q) and numbers bare.
    if isinstance(value, str):
        return json.dumps(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@attrs.frozen
class FieldError:
    """One ``field.Error``: a path, a type (``Invalid value``, ``Required value``,
    ``Unsupported value``, ``Duplicate value``, ``Forbidden``, ``Too many``, ``Too long``),
    an optional bad value and a detail message."""

    path: str
    type: str
    value: Any = None
    detail: str = ""
    has_value: bool = True

    def __str__(self) -> str:
        if self.type in ("Required value", "Forbidden") or not self.has_value:
            head = f"{self.path}: {self.type}"
        else:
            head = f"{self.path}: {self.type}: {_render_value(self.value)}"
        return f"{head}: {self.detail}" if self.detail else head


class InvalidObject(KubesimError):
    """The API server rejected an object (HTTP 422). ``errors`` lists every field error."""

    def __init__(self, kind: str, name: str, errors: Sequence[FieldError]) -> None:
        self.kind = kind
        self.name = name
        self.errors = tuple(errors)
        if len(self.errors) == 1:
            body = str(self.errors[0])
        else:
            body = "[" + ", ".join(str(e) for e in self.errors) + "]"
        super().__init__(f'{kind} "{name}" is invalid: {body}')

    @property
    def fields(self) -> tuple[str, ...]:
        """The field paths at fault."""
        return tuple(e.path for e in self.errors)


class InvalidOption(KubesimError, ValueError):
    """A keyword option (of :class:`~kubesim.Cluster`, a scenario, a report) is out of range."""


class NotFound(KubesimError, LookupError):
    """``Endpoints "web" not found`` (HTTP 404)."""

    def __init__(self, kind: str, name: str, namespace: str = "") -> None:
        self.kind, self.name, self.namespace = kind, name, namespace
        super().__init__(f'{_resource(kind)} "{name}" not found')


class AlreadyExists(KubesimError):
    """``services "web" already exists`` (HTTP 409)."""

    def __init__(self, kind: str, name: str, namespace: str = "") -> None:
        self.kind, self.name, self.namespace = kind, name, namespace
        super().__init__(f'{_resource(kind)} "{name}" already exists')


class Conflict(KubesimError):
    """An update carried a stale ``metadata.resourceVersion`` (HTTP 409), or a
    ``metadata.uid`` that is not the stored object's (``detail`` then carries the storage
    layer's ``Precondition failed: UID in precondition: …``)."""

    def __init__(self, kind: str, name: str, namespace: str = "", detail: str | None = None) -> None:
        self.kind, self.name, self.namespace = kind, name, namespace
        if detail is None:
            detail = "the object has been modified; please apply your changes to the latest version and try again"
        super().__init__(f'Operation cannot be fulfilled on {_resource(kind)} "{name}": {detail}')


class Forbidden(KubesimError):
    """An admission plugin refused the request (HTTP 403), in ``apierrors.NewForbidden``'s
    words: ``pods "web" is forbidden: unable to create new content in namespace prod because it
    is being terminated`` (``pods is forbidden: ...`` when the name is not known yet).
    ``reason`` is the cause after ``forbidden:``."""

    def __init__(self, kind: str, name: str, reason: str, namespace: str = "") -> None:
        self.kind, self.name, self.namespace, self.reason = kind, name, namespace, reason
        who = f'{_resource(kind)} "{name}"' if name else _resource(kind)
        super().__init__(f"{who} is forbidden: {reason}")


class RequestTooLarge(KubesimError):
    """etcd refused the write: ``etcdserver: request is too large``."""

    def __init__(self, kind: str, name: str, size: int, limit: int) -> None:
        self.kind, self.name, self.size, self.limit = kind, name, size, limit
        super().__init__(
            f"etcdserver: request is too large ({kind} {name!r}: {size} bytes > {limit} bytes)"
        )


class RequestEntityTooLarge(KubesimError):
    """The API server refused a request body larger than its cap (HTTP 413, ``Request entity
    too large: limit is 3145728``): kube-apiserver reads at most ``--max-request-body-bytes``
    (3 MiB) of a write; kubesim reads no more of a manifest than that."""

    def __init__(self, limit: int, what: str = "") -> None:
        self.limit = limit
        detail = f" ({what})" if what else ""
        super().__init__(f"Request entity too large: limit is {limit}{detail}")


class InvalidArgument(KubesimError, TypeError):
    """A public function was called with an argument of the wrong type (a path that is not a
    path, a name that is not a string); nothing was touched."""


class ReentrancyError(KubesimError, RuntimeError):
    """A callback tried to do what cannot be done while the API server is in the middle of
    something: advance virtual time (``run()``) during a write, a watch delivery, a change-log
    subscriber call or an open transaction. Writes from callbacks are allowed (they are
    committed in order and their watch events queued behind the ones being delivered)."""


class ServerError(KubesimError):
    """An injected internal server error (HTTP 500); nothing was written."""


class ServerTimeout(KubesimError):
    """An injected timeout. ``committed`` tells whether the write landed before the timeout."""

    def __init__(self, message: str, committed: bool) -> None:
        self.committed = committed
        super().__init__(message)


class ManifestError(KubesimError, ValueError):
    """YAML or a manifest that cannot be read: bad syntax, wrong types, unknown kind or
    apiVersion. ``path`` names the field (``spec.ports[0].port``) when there is one."""

    def __init__(self, message: str, path: str = "", document: int | None = None) -> None:
        self.path = path
        self.document = document
        where = f"{path}: " if path else ""
        doc = f"document {document}: " if document is not None else ""
        super().__init__(f"{doc}{where}{message}")


class InvalidSelector(KubesimError, ValueError):
    """A label selector string that does not parse (``unable to parse requirement: ...``)."""


class NoEndpoints(KubesimError, ConnectionError):
    """A client connected to a Service with no usable endpoints (``connection refused``)."""


class NXDomain(KubesimError, LookupError):
    """Cluster DNS has no such name."""


class KubectlError(KubesimError):
    """A ``kubectl`` command that kubectl itself would refuse; the message is kubectl's."""


_RESOURCE_NAMES = {
    "Pod": "pods",
    "Service": "services",
    "Node": "nodes",
    "Namespace": "namespaces",
    "Endpoints": "endpoints",
    "EndpointSlice": "endpointslices.discovery.k8s.io",
    "Deployment": "deployments.apps",
    "ReplicaSet": "replicasets.apps",
}


def _resource(kind: str) -> str:
    name = _RESOURCE_NAMES.get(kind)
    if name is not None:
        return name
    from kubesim.kinds import KIND_INFO  # kinds imports this module

    info = KIND_INFO.get(kind)
    if info is None:
        return kind.lower() + "s"
    return f"{info.plural}.{info.group}" if info.group else info.plural
