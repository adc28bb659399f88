"""API-server validation of every kind in :mod:`kubesim.objects`.

:func:`validate` is what the API server runs on each create and update, after defaulting. It
raises :class:`~kubesim.errors.InvalidObject` listing *all* field errors, with the API
server's field paths and wording::

    Service "web" is invalid: spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive

Sources mirrored (behaviour only, no code copied): apimachinery
``pkg/api/validation/objectmeta.go``, ``pkg/apis/meta/v1/validation/validation.go``,
``pkg/util/validation``; kubernetes ``pkg/apis/core/validation/validation.go``,
``pkg/apis/discovery/validation/validation.go``, ``pkg/apis/apps/validation/validation.go``.

Deliberate choices, documented:

* Fields the API server *defaults* before validation are accepted when still unset, so that
  ``validate`` gives the same verdict whether or not a caller defaulted first: an empty
  Service ``type`` (ClusterIP), ``sessionAffinity``, ``externalTrafficPolicy``, ``None``
  ``internalTrafficPolicy``, a ``targetPort`` of ``0``/``""`` (defaults to ``port``), an empty
  HTTP probe ``path``, an empty ``clusterIPs`` next to a set ``clusterIP`` (the registry
  strategy syncs them), ``None`` EndpointSlice port names (default ``""``). Explicitly empty
  protocols are still "Required value".
* IPs are parsed with ``ParseIPSloppy``; non-canonical forms are warnings, not errors, on
  current API servers and are accepted here.
* Server-managed metadata (``resourceVersion``, ``generation``, timestamps) is the API
  server's business and is not checked; on update, ``name``, ``namespace`` and a non-empty
  ``uid`` are immutable, as is an EndpointSlice's ``addressType`` and a Deployment's or
  ReplicaSet's ``spec.selector``.
* Endpoints: the old "Cannot change NodeName" update rule is gone upstream (newer
  ``ValidateEndpointsUpdate`` says nodeName changes are allowed) and is not enforced.
* EndpointSlice ports are limited to 20000 (``maxPorts``), although the API reference still
  says 100; ``hints.forNodes`` is checked like ``forZones`` (≤ 8, no duplicates, valid node
  names).
* Error order follows upstream's order of checks; where upstream iterates a Go map (labels,
  annotations) kubesim iterates keys in sorted order.

Cost: validation runs on every API write, including the hot pod-status updates, so it is
cheap: regexes are precompiled, name and label checks are memoised (a repeated label costs a
dictionary lookup), and a valid object is walked once, ``O(size of the object)``, without
building error strings. Endpoint IP checks are memoised per string, and an Endpoints address
or EndpointSlice endpoint that once passed its checks (they depend on the entry alone, and on
the slice's ``addressType``) is not checked again: a write in which one endpoint changed
validates that endpoint and pays a set lookup (the entries cache their hash) for the others.
An Endpoints address list goes further, since upstream checks each address on its own (no
cross-address rule such as duplicate detection): a list (tuple) found valid is remembered by
identity; a list the incremental Endpoints engine derived from one
(:func:`note_derived_addresses`) costs the addresses that entered it; any other list costs one
pass over its entries' identities plus the checks of entries never seen.  Errors, their order
and their messages are those of the full walk, which runs whenever an entry is invalid.

The package
===========

The modules, bottom layer first (each imports only the ones above it):

* :mod:`kubesim.validation.base`: the error collector, shared field checks, memo classes;
* :mod:`kubesim.validation.meta`: ``ObjectMeta`` and label selectors;
* :mod:`kubesim.validation.endpoints`: Endpoints and EndpointSlice, the address-list memos;
* :mod:`kubesim.validation.pods`: Pod, Service, Node and Namespace;
* :mod:`kubesim.validation.workloads`: Deployment and ReplicaSet.

This module holds the entry points (:func:`validate`, :func:`validate_errors`, the table of
validators by kind), :func:`clear_caches`, and the :data:`CHECK_HINTS` switch with
:func:`note_derived_addresses`, which reads it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from kubesim.errors import FieldError, InvalidObject
from kubesim.inert import InertObject
from kubesim.objects import (
    DaemonSet,
    Deployment,
    EndpointAddress,
    Endpoints,
    EndpointSlice,
    Namespace,
    Node,
    Pod,
    ReplicaSet,
    Service,
    StatefulSet,
)
from kubesim.validation.base import _endpoint_ip_reason, _Errs
from kubesim.validation.base import _ValidEntries as _ValidEntries
from kubesim.validation.endpoints import (
    _DERIVED,
    _VALID_ADDRESSES,
    _VALID_HELD,
    _VALID_IDS,
    _VALID_LISTS,
    _VALID_SLICE_ENDPOINTS,
    _validate_endpoint_slice,
    _validate_endpoints,
)
from kubesim.validation.endpoints import _endpoint_address_errors as _endpoint_address_errors
from kubesim.validation.inert import validate_inert
from kubesim.validation.meta import TOTAL_ANNOTATION_SIZE_LIMIT
from kubesim.validation.pods import (
    _VALID_POD_SPECS,
    _validate_namespace,
    _validate_node,
    _validate_pod,
    _validate_service,
)
from kubesim.validation.workloads import (
    _VALID_TEMPLATES,
    _validate_daemon_set,
    _validate_deployment,
    _validate_replica_set,
    _validate_stateful_set,
)

__all__ = [
    "validate",
    "validate_errors",
    "note_derived_addresses",
    "clear_caches",
    "CHECK_HINTS",
    "TOTAL_ANNOTATION_SIZE_LIMIT",
]


# --------------------------------------------------------------------------------------------
# entry points


def validate(obj: Any, old: Any = None) -> None:
    """Validate ``obj`` (a create when ``old`` is ``None``, else an update from ``old``).

    Raises :class:`~kubesim.errors.InvalidObject` with every field error.
    ``O(size of obj)``; cheap when the object is valid.
    """
    errs = validate_errors(obj, old)
    if errs:
        raise InvalidObject(obj.kind, obj.metadata.name or obj.metadata.generate_name, errs)


def validate_errors(obj: Any, old: Any = None) -> list[FieldError]:
    """The field errors :func:`validate` would raise (empty when valid). ``O(size of obj)``."""
    fn = _VALIDATORS.get(type(obj))
    if fn is None:
        raise TypeError(f"cannot validate {type(obj).__name__}")
    e = _Errs()
    fn(e, obj, old)
    return e.items


#: When true, :func:`note_derived_addresses` checks its claim (``O(n)``) and raises
#: :class:`AssertionError` when it is false. Tests turn it on; so does the environment variable
#: ``KUBESIM_CHECK_HINTS=1`` at import.
CHECK_HINTS: bool = bool(os.environ.get("KUBESIM_CHECK_HINTS"))


def clear_caches() -> None:
    """Forget every entry and list remembered as valid and every derivation hint (the next
    validation of each starts from scratch). ``O(cached entries)``."""
    _VALID_ADDRESSES.seen.clear()
    _VALID_SLICE_ENDPOINTS.seen.clear()
    _VALID_POD_SPECS.seen.clear()
    _VALID_TEMPLATES.seen.clear()
    _VALID_IDS.clear()
    _VALID_HELD.clear()
    _VALID_LISTS.clear()
    _DERIVED.clear()
    _endpoint_ip_reason.cache_clear()


def note_derived_addresses(
    new: tuple[EndpointAddress, ...], base: tuple[EndpointAddress, ...], added: Iterable[EndpointAddress]
) -> None:
    """Hint that every entry of ``new`` is (the very object of) an entry of ``base`` or of
    ``added``: the incremental Endpoints engine knows which addresses entered a list since it
    last materialised it.  Validating an Endpoints whose address list is ``new`` then checks
    the ``added`` entries only, once ``base`` (or a list it derives from) is known valid; the
    errors reported are unchanged, since an address's checks depend on the address alone.

    The caller vouches for the claim; with :data:`CHECK_HINTS` it is checked (``O(n)``) and a
    false claim raises :class:`AssertionError`. ``O(len(added))``."""
    if type(new) is not tuple or not new:
        return
    more = tuple(added)
    if CHECK_HINTS:
        known = {id(a) for a in base} | {id(a) for a in more}
        stray = [a for a in new if id(a) not in known]
        if stray:
            raise AssertionError(f"derived address list has {len(stray)} entries outside base + added: {stray[:3]}")
    _DERIVED.put(new, (base, more), len(new) + len(more))


_VALIDATORS: dict[type, Callable[[_Errs, Any, Any], None]] = {
    Pod: _validate_pod,
    Service: _validate_service,
    Node: _validate_node,
    Namespace: _validate_namespace,
    Endpoints: _validate_endpoints,
    EndpointSlice: _validate_endpoint_slice,
    Deployment: _validate_deployment,
    ReplicaSet: _validate_replica_set,
    InertObject: validate_inert,
    StatefulSet: _validate_stateful_set,
    DaemonSet: _validate_daemon_set,
}
