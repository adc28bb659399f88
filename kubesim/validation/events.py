"""Validation of a core/v1 Event (:mod:`kubesim.events`), as the event registry runs it on
create and update (``pkg/apis/core/validation/events.go``, ``ValidateEventCreate`` /
``ValidateEventUpdate`` for ``v1``): the metadata as an inert kind's (a DNS-subdomain name) plus
``legacyValidateEvent``: an Event without ``eventTime`` must live in its involved object's
namespace (an involved object without one: the event in ``default``); and, since kubesim keeps
an Event's body as plain JSON where the API server would decode it into the typed struct, each
field of the body must have its Go type (strings, an int32 ``count``, RFC 3339 times), else the
field is reported as ``Invalid value`` (the API server refuses such a body while decoding it).
Fields an Event does not have are kept as sent, as for the other inert kinds (the API server
would drop them with a warning); such an Event's protobuf size is then an estimate
(:func:`kubesim.inert.exact_sizes` says which). ``O(size of the event)``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kubesim.validation.base import _Errs

__all__ = ["validate_event"]

_REF = ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")
_STRINGS = ("reason", "message", "type", "action", "reportingComponent", "reportingInstance")
_TIMES = ("firstTimestamp", "lastTimestamp", "eventTime")
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})", re.ASCII)


def _ref(e: _Errs, path: str, v: Any) -> None:
    if not isinstance(v, Mapping):
        e.invalid(path, v, "must be an object")
        return
    for k in _REF:
        if v.get(k) is not None and not isinstance(v[k], str):
            e.invalid(f"{path}.{k}", v[k], "must be a string")


def validate_event(e: _Errs, obj: Any, body: Mapping[str, Any]) -> None:
    """Collect the field errors of the Event ``obj`` whose body (the fields after ``metadata``)
    is ``body``; its metadata is checked by :func:`kubesim.validation.inert.validate_inert`."""
    ref = body.get("involvedObject")
    if ref is not None:
        _ref(e, "involvedObject", ref)
    if body.get("related") is not None:
        _ref(e, "related", body["related"])
    for k in _STRINGS:
        if body.get(k) is not None and not isinstance(body[k], str):
            e.invalid(k, body[k], "must be a string")
    for k in _TIMES:
        v = body.get(k)
        if v is not None and not (isinstance(v, str) and _RFC3339.fullmatch(v)):
            e.invalid(k, v, "must be an RFC 3339 time")
    count = body.get("count")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or not -(2**31) <= count < 2**31):
        e.invalid("count", count, "must be a 32-bit integer")
    src = body.get("source")
    if src is not None:
        if not isinstance(src, Mapping):
            e.invalid("source", src, "must be an object")
        else:
            for k in ("component", "host"):
                if src.get(k) is not None and not isinstance(src[k], str):
                    e.invalid(f"source.{k}", src[k], "must be a string")
    # legacyValidateEvent: an event without eventTime lives in its involved object's namespace
    ns = obj.metadata.namespace
    ref_ns = ref.get("namespace") if isinstance(ref, Mapping) else None
    if body.get("eventTime") is None:
        if not ref_ns:
            if ns not in ("", "default"):
                e.invalid("involvedObject.namespace", ref_ns or "", "does not match event.namespace")
        elif ns != ref_ns:
            e.invalid("involvedObject.namespace", ref_ns, "does not match event.namespace")
