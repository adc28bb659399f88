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
"""

from __future__ import annotations

import functools
import ipaddress
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from kubesim import labels as L
from kubesim._memo import IdentityMemo
from kubesim.errors import FieldError, InvalidObject, InvalidSelector
from kubesim.netutil import is_special_ip, parse_ip
from kubesim.objects import (
    Container,
    Deployment,
    Endpoint,
    EndpointAddress,
    Endpoints,
    EndpointSlice,
    LabelSelector,
    Namespace,
    Node,
    ObjectMeta,
    OwnerReference,
    Pod,
    PodSpec,
    PodTemplateSpec,
    Probe,
    ReplicaSet,
    RollingUpdateDeployment,
    Service,
)

__all__ = [
    "validate",
    "validate_errors",
    "note_derived_addresses",
    "clear_caches",
    "CHECK_HINTS",
    "TOTAL_ANNOTATION_SIZE_LIMIT",
]

#: ``TotalAnnotationSizeLimitB``: keys plus values, in bytes.
TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024

_PROTOCOLS = ("SCTP", "TCP", "UDP")
_PROTOCOL_SET = frozenset(_PROTOCOLS)
_MAX_SLICE_ENDPOINTS = 1000
_MAX_SLICE_ADDRESSES = 100
_MAX_SLICE_PORTS = 20000
_MAX_HINTS = 8
_MAX_TOPOLOGY_LABELS = 16
_ZONE_LABEL = "topology.kubernetes.io/zone"
_IMMUTABLE = "field is immutable"
_NEGATIVE = "must be greater than or equal to 0"
_STANDARD_FINALIZERS = frozenset({"kubernetes", "orphan", "foregroundDeletion"})


class _Json:
    """A bad value that the API server renders as JSON (``json.Marshal`` of a struct/slice)."""

    __slots__ = ("text",)

    def __init__(self, value: Any) -> None:
        self.text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"_Json({self.text})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Json) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


class _Errs:
    """Collects field errors (``field.ErrorList``)."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def invalid(self, path: str, value: Any, detail: str) -> None:
        self.items.append(FieldError(path, "Invalid value", value, detail))

    def invalid_msgs(self, path: str, value: Any, msgs: Iterable[str]) -> None:
        for m in msgs:
            self.items.append(FieldError(path, "Invalid value", value, m))

    def required(self, path: str, detail: str = "") -> None:
        self.items.append(FieldError(path, "Required value", "", detail))

    def forbidden(self, path: str, detail: str) -> None:
        self.items.append(FieldError(path, "Forbidden", "", detail))

    def duplicate(self, path: str, value: Any) -> None:
        self.items.append(FieldError(path, "Duplicate value", value))

    def not_supported(self, path: str, value: Any, supported: Sequence[str]) -> None:
        detail = "supported values: " + ", ".join(json.dumps(s) for s in supported)
        self.items.append(FieldError(path, "Unsupported value", value, detail))

    def too_many(self, path: str, actual: int, limit: int) -> None:
        noun = "item" if limit == 1 else "items"
        self.items.append(FieldError(path, "Too many", actual, f"must have at most {limit} {noun}"))

    def too_long(self, path: str, limit: int) -> None:
        noun = "byte" if limit == 1 else "bytes"
        self.items.append(
            FieldError(path, "Too long", None, f"may not be more than {limit} {noun}", has_value=False)
        )

    def internal(self, path: str, detail: str) -> None:
        self.items.append(FieldError(path, "Internal error", None, detail, has_value=False))

    def nonnegative(self, path: str, value: int) -> None:
        if value < 0:
            self.invalid(path, value, _NEGATIVE)


# --------------------------------------------------------------------------------------------
# entry points


def validate(obj: Any, old: Any = None) -> None:
    """Validate ``obj`` (a create when ``old`` is ``None``, else an update from ``old``).

    Raises :class:`~kubesim.errors.InvalidObject` with every field error.
    ``O(size of obj)``; cheap when the object is valid.
    """
    errs = validate_errors(obj, old)
    if errs:
        raise InvalidObject(type(obj).kind, obj.metadata.name or obj.metadata.generate_name, errs)


def validate_errors(obj: Any, old: Any = None) -> list[FieldError]:
    """The field errors :func:`validate` would raise (empty when valid). ``O(size of obj)``."""
    fn = _VALIDATORS.get(type(obj))
    if fn is None:
        raise TypeError(f"cannot validate {type(obj).__name__}")
    e = _Errs()
    fn(e, obj, old)
    return e.items


# --------------------------------------------------------------------------------------------
# metadata


_NameFn = Callable[[str], tuple[str, ...]]


def _label_errors(e: _Errs, labels: Mapping[str, str], path: str) -> None:
    # ValidateLabels; fast path without sorting when everything is valid.
    bad = False
    for k, v in labels.items():
        if L.is_qualified_name(k) or L.is_valid_label_value(v):
            bad = True
            break
    if not bad:
        return
    for k in sorted(labels):
        v = labels[k]
        e.invalid_msgs(path, k, L.is_qualified_name(k))
        e.invalid_msgs(path, v, L.is_valid_label_value(v))


def _annotation_errors(e: _Errs, annotations: Mapping[str, str], path: str) -> None:
    total = 0
    bad = False
    for k, v in annotations.items():
        total += len(k) + (len(v) if v.isascii() else len(v.encode("utf-8")))
        if L.is_qualified_name(k.lower()):
            bad = True
    if bad:
        for k in sorted(annotations):
            e.invalid_msgs(path, k, L.is_qualified_name(k.lower()))
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        e.too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT)


def _owner_ref_json(r: OwnerReference) -> dict[str, Any]:
    d: dict[str, Any] = {"apiVersion": r.api_version, "kind": r.kind, "name": r.name, "uid": r.uid}
    if r.controller is not None:
        d["controller"] = r.controller
    if r.block_owner_deletion is not None:
        d["blockOwnerDeletion"] = r.block_owner_deletion
    return d


def _owner_reference_errors(e: _Errs, refs: Sequence[OwnerReference], path: str) -> None:
    first_controller = ""
    for i, r in enumerate(refs):
        p = f"{path}[{i}]"
        group, version, ok = "", "", True
        parts = r.api_version.split("/")
        if len(parts) == 1:
            version = parts[0]
        elif len(parts) == 2:
            group, version = parts
        else:
            ok = False
        if not r.api_version:
            e.required(p + ".apiVersion", "must not be empty")
        elif not ok or not version:
            e.invalid(p + ".apiVersion", r.api_version, "must be <group>/<version> or <version>")
        if not r.kind:
            e.required(p + ".kind", "must not be empty")
        if not r.name:
            e.required(p + ".name", "must not be empty")
        if not r.uid:
            e.required(p + ".uid", "must not be empty")
        if ok and group == "" and version == "v1" and r.kind == "Event":
            e.invalid(p, _Json(_owner_ref_json(r)), "/v1, Kind=Event is disallowed from being an owner")
        if r.controller:
            cur = f"{r.kind}/{r.name}"
            if first_controller:
                e.invalid(
                    path,
                    _Json([_owner_ref_json(x) for x in refs]),
                    'Only one reference can have Controller set to true. Found "true" in references '
                    f"for {first_controller} and {cur}",
                )
            else:
                first_controller = cur


def _finalizer_errors(e: _Errs, finalizers: Sequence[str], path: str) -> None:
    orphan = delete = False
    for f in finalizers:
        e.invalid_msgs(path, f, L.is_qualified_name(f))
        if "/" not in f and f not in _STANDARD_FINALIZERS:
            e.invalid(path, f, "name is neither a standard finalizer name nor is it fully qualified")
        orphan = orphan or f == "orphan"
        delete = delete or f == "foregroundDeletion"
    if orphan and delete:
        e.invalid(path, _Json(list(finalizers)), "finalizer orphan and foregroundDeletion cannot be both set")


def _meta_errors(
    e: _Errs, meta: ObjectMeta, old: ObjectMeta | None, namespaced: bool, name_fn: _NameFn
) -> None:
    path = "metadata"
    if old is None:
        if meta.generate_name:
            e.invalid_msgs(path + ".generateName", meta.generate_name, name_fn(L.mask_trailing_dash(meta.generate_name)))
        if not meta.name:
            if not meta.generate_name:
                e.required(path + ".name", "name or generateName is required")
        else:
            e.invalid_msgs(path + ".name", meta.name, name_fn(meta.name))
        if namespaced:
            if not meta.namespace:
                e.required(path + ".namespace")
            else:
                e.invalid_msgs(path + ".namespace", meta.namespace, L.is_dns1123_label(meta.namespace))
        elif meta.namespace:
            e.forbidden(path + ".namespace", "not allowed on this type")
        e.nonnegative(path + ".generation", meta.generation)
        _label_errors(e, meta.labels, path + ".labels")
        _annotation_errors(e, meta.annotations, path + ".annotations")
        _owner_reference_errors(e, meta.owner_references, path + ".ownerReferences")
        _finalizer_errors(e, meta.finalizers, path + ".finalizers")
    else:
        if old.deletion_timestamp is not None:
            extra = sorted(set(meta.finalizers) - set(old.finalizers))
            if extra:
                go_list = "[]string{" + ", ".join(json.dumps(x) for x in extra) + "}"
                e.forbidden(
                    path + ".finalizers",
                    f"no new finalizers can be added if the object is being deleted, found new finalizers {go_list}",
                )
        e.nonnegative(path + ".generation", meta.generation)
        if meta.name != old.name:
            e.invalid(path + ".name", meta.name, _IMMUTABLE)
        if meta.namespace != old.namespace:
            e.invalid(path + ".namespace", meta.namespace, _IMMUTABLE)
        if meta.uid and meta.uid != old.uid:
            e.invalid(path + ".uid", meta.uid, _IMMUTABLE)
        _label_errors(e, meta.labels, path + ".labels")
        _annotation_errors(e, meta.annotations, path + ".annotations")
        _owner_reference_errors(e, meta.owner_references, path + ".ownerReferences")


# --------------------------------------------------------------------------------------------
# shared helpers


def _dns_label(e: _Errs, value: str, path: str) -> None:
    e.invalid_msgs(path, value, L.is_dns1123_label(value))


def _port_num_or_name(e: _Errs, port: int | str, path: str) -> None:
    # ValidatePortNumOrName
    if isinstance(port, str):
        e.invalid_msgs(path, port, L.is_valid_port_name(port))
    else:
        e.invalid_msgs(path, port, L.is_valid_port_num(port))


def _protocol(e: _Errs, protocol: str | None, path: str) -> None:
    if not protocol:
        e.required(path)
    elif protocol not in _PROTOCOL_SET:
        e.not_supported(path, protocol, _PROTOCOLS)


_LEGACY_IP_MSG = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"


@functools.lru_cache(maxsize=65536)
def _endpoint_ip_reason(ip: str) -> str | None:
    """The one error ``ValidateEndpointIP`` gives for ``ip``, or ``None``; memoised (the same
    endpoint IPs are validated on every write of their Endpoints/EndpointSlice)."""
    addr = parse_ip(ip)
    if addr is None:
        return "must be a valid IP address"
    reason = is_special_ip(addr)
    if reason is not None and reason.startswith("may not be unspecified"):
        reason = f"may not be unspecified ({ip})"  # upstream prints the value as given
    return reason


def _endpoint_ip(e: _Errs, ip: str, path: str) -> None:
    # ValidateNonSpecialIP / ValidateEndpointIP (netutil.is_special_ip has the wording).
    reason = _endpoint_ip_reason(ip)
    if reason is not None:
        e.invalid(path, ip, reason)


class _ValidEntries:
    """A bounded set of list entries (frozen, hashable values) already found valid, so that a
    write of an Endpoints/EndpointSlice re-validates only the entries that changed. The key
    holds everything the entry's checks depend on; cleared wholesale when full."""

    __slots__ = ("seen", "limit")

    def __init__(self, limit: int = 1 << 17) -> None:
        self.seen: set[Any] = set()
        self.limit = limit

    def add(self, key: Any) -> None:
        if len(self.seen) >= self.limit:
            self.seen.clear()
        self.seen.add(key)


_VALID_ADDRESSES = _ValidEntries()
_VALID_SLICE_ENDPOINTS = _ValidEntries()


# --------------------------------------------------------------------------------------------
# Endpoints address lists known valid (an O(changed entries) Endpoints write)
#
# An address's checks depend on the address alone, so a list is valid iff each entry is.  Three
# memos, cheapest first: lists (tuples, by identity) whose every entry passed; derivation hints
# (``note_derived_addresses``: every entry of a new list is an entry of an earlier list or one
# of a few added entries), so a list derived from a valid one costs its added entries; and the
# identities of addresses that passed (one pass over a list's entries).  Each holds
# references, so an id stays unique while remembered.

#: When true, :func:`note_derived_addresses` checks its claim (``O(n)``) and raises
#: :class:`AssertionError` when it is false. Tests turn it on; so does the environment variable
#: ``KUBESIM_CHECK_HINTS=1`` at import.
CHECK_HINTS: bool = bool(os.environ.get("KUBESIM_CHECK_HINTS"))

#: Longest chain of derivation hints followed back to a list known valid.
_MAX_CHAIN = 64


_VALID_LISTS = IdentityMemo(1 << 20)  # address tuple -> True
_DERIVED = IdentityMemo(1 << 20)  # address tuple -> (base tuple, added entries)
_VALID_IDS: set[int] = set()  # ids of addresses that passed, all held by _VALID_HELD
_VALID_HELD: list[EndpointAddress] = []


def _mark_valid(a: EndpointAddress) -> None:
    if len(_VALID_IDS) >= _VALID_ADDRESSES.limit:
        _VALID_IDS.clear()
        _VALID_HELD.clear()
    _VALID_IDS.add(id(a))
    _VALID_HELD.append(a)


def _address_ok(a: EndpointAddress) -> bool:
    """Whether ``a`` passes its checks (memoised by identity and by value)."""
    if id(a) in _VALID_IDS:
        return True
    if a not in _VALID_ADDRESSES.seen:
        e = _Errs()
        _endpoint_address_errors(e, a, "")
        if e.items:
            return False
        _VALID_ADDRESSES.add(a)
    _mark_valid(a)
    return True


def _known_valid(addrs: Sequence[EndpointAddress]) -> bool:
    """``True`` when every entry of ``addrs`` is known to pass its checks (then the list
    yields no error); ``False`` when that is not known cheaply (the caller walks the list).
    ``O(1)`` for a list known valid; ``O(added entries)`` along derivation hints back to one;
    else one pass over the entries' identities plus the checks of the entries not known."""
    if _VALID_LISTS.get(addrs):
        return True
    ok: bool | None = None
    added: list[tuple[EndpointAddress, ...]] = []
    cur: Sequence[EndpointAddress] = addrs
    for _ in range(_MAX_CHAIN):
        hint = _DERIVED.get(cur)
        if hint is None:
            break
        cur, more = hint
        added.append(more)
        if not cur or _VALID_LISTS.get(cur):
            # Derived from a list known valid: the entries added on the way decide.
            ok = all(_address_ok(a) for more in added for a in more)
            break
    if ok is None:
        # One pass for the entries not known valid by identity (usually none or a few).
        ids = _VALID_IDS
        ok = all(_address_ok(a) for a in [a for a in addrs if id(a) not in ids])
    if ok and type(addrs) is tuple:
        _VALID_LISTS.put(addrs, True)
    return ok


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


def _selector_json(s: LabelSelector) -> dict[str, Any]:
    d: dict[str, Any] = {}
    if s.match_labels:
        d["matchLabels"] = {k: s.match_labels[k] for k in sorted(s.match_labels)}
    if s.match_expressions:
        exprs = []
        for x in s.match_expressions:
            xd: dict[str, Any] = {"key": x.key, "operator": x.operator}
            if x.values:
                xd["values"] = list(x.values)
            exprs.append(xd)
        d["matchExpressions"] = exprs
    return d


def _label_selector_errors(e: _Errs, s: LabelSelector, path: str) -> None:
    # metav1 ValidateLabelSelector (strict: invalid values rejected)
    _label_errors(e, s.match_labels, path + ".matchLabels")
    for i, r in enumerate(s.match_expressions):
        p = f"{path}.matchExpressions[{i}]"
        if r.operator in ("In", "NotIn"):
            if not r.values:
                e.required(p + ".values", "must be specified when `operator` is 'In' or 'NotIn'")
        elif r.operator in ("Exists", "DoesNotExist"):
            if r.values:
                e.forbidden(p + ".values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")
        else:
            e.invalid(p + ".operator", r.operator, "not a valid selector operator")
        e.invalid_msgs(p + ".key", r.key, L.is_qualified_name(r.key))
        for j, v in enumerate(r.values):
            e.invalid_msgs(f"{p}.values[{j}]", v, L.is_valid_label_value(v))


# --------------------------------------------------------------------------------------------
# Pod


def _probe_errors(e: _Errs, probe: Probe, path: str) -> None:
    handlers = 0
    if probe.exec is not None:
        handlers += 1
        if not probe.exec.command:
            e.required(path + ".exec.command")
    if probe.http_get is not None:
        if handlers:
            e.forbidden(path + ".httpGet", "may not specify more than 1 handler type")
        else:
            handlers += 1
            h = probe.http_get
            _port_num_or_name(e, h.port, path + ".httpGet.port")
            if h.scheme and h.scheme not in ("HTTP", "HTTPS"):
                e.not_supported(path + ".httpGet.scheme", h.scheme, ("HTTP", "HTTPS"))
    if probe.tcp_socket is not None:
        if handlers:
            e.forbidden(path + ".tcpSocket", "may not specify more than 1 handler type")
        else:
            handlers += 1
            _port_num_or_name(e, probe.tcp_socket.port, path + ".tcpSocket.port")
    if handlers == 0:
        e.required(path, "must specify a handler type")
    e.nonnegative(path + ".initialDelaySeconds", probe.initial_delay_seconds)
    e.nonnegative(path + ".timeoutSeconds", probe.timeout_seconds)
    e.nonnegative(path + ".periodSeconds", probe.period_seconds)
    e.nonnegative(path + ".successThreshold", probe.success_threshold)
    e.nonnegative(path + ".failureThreshold", probe.failure_threshold)


def _container_errors(e: _Errs, c: Container, path: str, names: set[str], regular: bool) -> None:
    if not c.name:
        e.required(path + ".name")
    else:
        _dns_label(e, c.name, path + ".name")
        if c.name in names:
            e.duplicate(path + ".name", c.name)
        else:
            names.add(c.name)
    if not c.image:
        e.required(path + ".image")
    port_names: set[str] = set()
    for i, p in enumerate(c.ports):
        pp = f"{path}.ports[{i}]"
        if p.name:
            msgs = L.is_valid_port_name(p.name)
            if msgs:
                e.invalid_msgs(pp + ".name", p.name, msgs)
            elif p.name in port_names:
                e.duplicate(pp + ".name", p.name)
            else:
                port_names.add(p.name)
        if p.container_port == 0:
            e.required(pp + ".containerPort")
        else:
            e.invalid_msgs(pp + ".containerPort", p.container_port, L.is_valid_port_num(p.container_port))
        if p.host_port:
            e.invalid_msgs(pp + ".hostPort", p.host_port, L.is_valid_port_num(p.host_port))
        _protocol(e, p.protocol, pp + ".protocol")
    if c.readiness_probe is not None:
        _probe_errors(e, c.readiness_probe, path + ".readinessProbe")
    if c.liveness_probe is not None:
        _probe_errors(e, c.liveness_probe, path + ".livenessProbe")
        if regular and c.liveness_probe.success_threshold != 1:
            e.invalid(path + ".livenessProbe.successThreshold", c.liveness_probe.success_threshold, "must be 1")
    if c.restart_policy is not None:
        if regular:
            e.forbidden(path + ".restartPolicy", "may not be set for non-init containers")
        elif c.restart_policy != "Always":
            e.not_supported(path + ".restartPolicy", c.restart_policy, ("Always",))


class _ValidByIdentity:
    """Frozen sub-objects (by identity, a reference held) whose checks passed, where the checks
    depend on the sub-object alone: a pod's ``spec`` is carried over unchanged across its
    status updates, a ReplicaSet's or Deployment's selector and template across its scale and
    status updates. Bounded; cleared wholesale when full. ``O(1)``."""

    __slots__ = ("seen", "limit")

    def __init__(self, limit: int = 1 << 15) -> None:
        self.seen: dict[Any, tuple[Any, ...]] = {}
        self.limit = limit

    def __contains__(self, key: tuple[Any, ...]) -> bool:
        hit = self.seen.get(tuple(map(id, key)))
        return hit is not None and all(a is b for a, b in zip(hit, key))

    def add(self, key: tuple[Any, ...]) -> None:
        if len(self.seen) >= self.limit:
            self.seen.clear()
        self.seen[tuple(map(id, key))] = key


_VALID_POD_SPECS = _ValidByIdentity()
_VALID_TEMPLATES = _ValidByIdentity()


def _pod_spec_errors(e: _Errs, spec: PodSpec, path: str) -> None:
    # Whether a spec yields errors does not depend on ``path`` (it only prefixes them).
    key = (spec,)
    if key in _VALID_POD_SPECS:
        return
    n = len(e.items)
    _pod_spec_errors_uncached(e, spec, path)
    if len(e.items) == n:
        _VALID_POD_SPECS.add(key)


def _pod_spec_errors_uncached(e: _Errs, spec: PodSpec, path: str) -> None:
    names: set[str] = set()
    if not spec.containers:
        e.required(path + ".containers")
    for i, c in enumerate(spec.containers):
        _container_errors(e, c, f"{path}.containers[{i}]", names, True)
    for i, c in enumerate(spec.init_containers):
        _container_errors(e, c, f"{path}.initContainers[{i}]", names, False)
    # AccumulateUniqueHostPorts
    seen: set[str] = set()
    for group, cs in (("containers", spec.containers), ("initContainers", spec.init_containers)):
        for ci, c in enumerate(cs):
            for pi, p in enumerate(c.ports):
                if not p.host_port:
                    continue
                key = f"{p.host_ip}/{p.protocol}/{p.host_port}"
                if key in seen:
                    e.duplicate(f"{path}.{group}[{ci}].ports[{pi}].hostPort", key)
                seen.add(key)
    if spec.restart_policy not in ("Always", "OnFailure", "Never"):
        if not spec.restart_policy:
            e.required(path + ".restartPolicy")
        else:
            e.not_supported(path + ".restartPolicy", spec.restart_policy, ("Always", "OnFailure", "Never"))
    if spec.node_name:
        e.invalid_msgs(path + ".nodeName", spec.node_name, L.is_dns1123_subdomain(spec.node_name))
    if spec.hostname:
        _dns_label(e, spec.hostname, path + ".hostname")
    if spec.subdomain:
        _dns_label(e, spec.subdomain, path + ".subdomain")
    if spec.termination_grace_period_seconds is not None:
        e.nonnegative(path + ".terminationGracePeriodSeconds", spec.termination_grace_period_seconds)
    _label_errors(e, spec.node_selector, path + ".nodeSelector")


def _validate_pod(e: _Errs, pod: Pod, old: Pod | None) -> None:
    _meta_errors(e, pod.metadata, old.metadata if old else None, True, L.is_dns1123_subdomain)
    _pod_spec_errors(e, pod.spec, "spec")
    # validatePodIPs (v1 status.podIP converts to podIPs[0])
    ips = [p.ip for p in pod.status.pod_ips]
    if not ips and pod.status.pod_ip:
        ips = [pod.status.pod_ip]
    path = "status.podIPs"
    bad = False
    for i, ip in enumerate(ips):
        if parse_ip(ip) is None:
            bad = True
            e.invalid(f"{path}[{i}]", ip, _LEGACY_IP_MSG)
    if len(ips) > 1:
        fams = {parse_ip(ip).version for ip in ips if parse_ip(ip) is not None}  # type: ignore[union-attr]
        if bad:
            e.internal(path, "failed to check for dual stack with error:invalid IP")
        if len(ips) > 2 or len(fams) != 2:
            e.invalid(path, _Json([{"IP": ip} for ip in ips]), "may specify no more than one IP for each IP family")
        seen: set[str] = set()
        for i, ip in enumerate(ips):
            if ip in seen:
                e.duplicate(f"{path}[{i}]", _Json({"IP": ip}))
            seen.add(ip)
    if pod.status.host_ip and parse_ip(pod.status.host_ip) is None:
        e.invalid("status.hostIPs[0]", pod.status.host_ip, _LEGACY_IP_MSG)


# --------------------------------------------------------------------------------------------
# Service


def _svc_port_json(protocol: str, port: int) -> _Json:
    return _Json({"Name": "", "Protocol": protocol, "AppProtocol": None, "Port": port, "TargetPort": 0, "NodePort": 0})


def _validate_service(e: _Errs, svc: Service, old: Service | None) -> None:
    _meta_errors(e, svc.metadata, old.metadata if old else None, True, L.is_dns1035_label)
    spec = svc.spec
    stype = spec.type or "ClusterIP"
    cluster_ips = list(spec.cluster_ips)
    if not cluster_ips and spec.cluster_ip:
        cluster_ips = [spec.cluster_ip]
    headless = len(cluster_ips) == 1 and cluster_ips[0] == "None"
    if not spec.ports and not headless and stype != "ExternalName":
        e.required("spec.ports")
    if stype == "LoadBalancer":
        for i, p in enumerate(spec.ports):
            if p.port == 10250:
                e.invalid(f"spec.ports[{i}]", p.port, "may not expose port 10250 externally since it is used by kubelet")
        if headless:
            e.invalid("spec.clusterIPs[0]", "None", "may not be set to 'None' for LoadBalancer services")
    elif stype == "NodePort":
        if headless:
            e.invalid("spec.clusterIPs[0]", "None", "may not be set to 'None' for NodePort services")
    elif stype == "ExternalName":
        if cluster_ips:
            e.forbidden("spec.clusterIPs", "may not be set for ExternalName services")
        if spec.ip_families:
            e.forbidden("spec.ipFamilies", "may not be set for ExternalName services")
        if spec.ip_family_policy is not None:
            e.forbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services")
        cname = spec.external_name[:-1] if spec.external_name.endswith(".") else spec.external_name
        if cname:
            e.invalid_msgs("spec.externalName", cname, L.is_dns1123_subdomain(cname))
        else:
            e.required("spec.externalName")
    names: set[str] = set()
    multi = len(spec.ports) > 1
    for i, p in enumerate(spec.ports):
        pp = f"spec.ports[{i}]"
        if multi and not p.name:
            e.required(pp + ".name")
        elif p.name:
            _dns_label(e, p.name, pp + ".name")
            if p.name in names:
                e.duplicate(pp + ".name", p.name)
            else:
                names.add(p.name)
        e.invalid_msgs(pp + ".port", p.port, L.is_valid_port_num(p.port))
        _protocol(e, p.protocol, pp + ".protocol")
        if p.target_port != 0 and p.target_port != "":
            _port_num_or_name(e, p.target_port, pp + ".targetPort")
        if p.app_protocol is not None:
            e.invalid_msgs(pp + ".appProtocol", p.app_protocol, L.is_qualified_name(p.app_protocol))
    if spec.selector is not None:
        _label_errors(e, spec.selector, "spec.selector")
    if spec.session_affinity and spec.session_affinity not in ("ClientIP", "None"):
        e.not_supported("spec.sessionAffinity", spec.session_affinity, ("ClientIP", "None"))
    if stype != "ExternalName":
        _cluster_ip_errors(e, spec.cluster_ip, cluster_ips, spec.ip_families, spec.ip_family_policy, headless)
    if stype not in ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort"):
        e.not_supported("spec.type", spec.type, ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort"))
    if stype == "ClusterIP":
        for i, p in enumerate(spec.ports):
            if p.node_port != 0:
                e.forbidden(f"spec.ports[{i}].nodePort", "may not be used when `type` is 'ClusterIP'")
    seen_np: set[tuple[str, int]] = set()
    for i, p in enumerate(spec.ports):
        if p.node_port == 0:
            continue
        if (p.protocol, p.node_port) in seen_np:
            e.duplicate(f"spec.ports[{i}].nodePort", p.node_port)
        seen_np.add((p.protocol, p.node_port))
    seen_p: set[tuple[str, int]] = set()
    for i, p in enumerate(spec.ports):
        if (p.protocol, p.port) in seen_p:
            e.duplicate(f"spec.ports[{i}]", _svc_port_json(p.protocol, p.port))
        seen_p.add((p.protocol, p.port))
    # external traffic policy
    if stype not in ("LoadBalancer", "NodePort"):
        if spec.external_traffic_policy:
            e.invalid(
                "spec.externalTrafficPolicy",
                spec.external_traffic_policy,
                "may only be set for externally-accessible services",
            )
    elif spec.external_traffic_policy and spec.external_traffic_policy not in ("Cluster", "Local"):
        e.not_supported("spec.externalTrafficPolicy", spec.external_traffic_policy, ("Cluster", "Local"))
    if spec.internal_traffic_policy is not None and spec.internal_traffic_policy not in ("Cluster", "Local"):
        e.not_supported("spec.internalTrafficPolicy", spec.internal_traffic_policy, ("Cluster", "Local"))
    td = spec.traffic_distribution
    if td is not None and td not in ("PreferClose", "PreferSameZone", "PreferSameNode"):
        e.not_supported("spec.trafficDistribution", td, ("PreferClose", "PreferSameZone", "PreferSameNode"))


def _cluster_ip_errors(
    e: _Errs,
    cluster_ip: str,
    cluster_ips: list[str],
    families: Sequence[str],
    policy: str | None,
    headless: bool,
) -> None:
    # ValidateServiceClusterIPsRelatedFields
    path = "spec.clusterIPs"
    if cluster_ip:
        if cluster_ips[0] != cluster_ip:
            e.invalid(path, _Json(cluster_ips), "first value must match `clusterIP`")
    elif cluster_ips:
        e.invalid(path, _Json(cluster_ips), "must be empty when `clusterIP` is not specified")
    seen: set[str] = set()
    for i, fam in enumerate(families):
        if fam not in ("IPv4", "IPv6"):
            e.not_supported(f"spec.ipFamilies[{i}]", fam, ("IPv4", "IPv6"))
        if fam in seen:
            e.duplicate(f"spec.ipFamilies[{i}]", fam)
        seen.add(fam)
    policies = ("PreferDualStack", "RequireDualStack", "SingleStack")
    if policy is not None and policy not in policies:
        e.not_supported("spec.ipFamilyPolicy", policy, policies)
    bad = False
    for i, ip in enumerate(cluster_ips):
        if i == 0 and ip == "None":
            if len(cluster_ips) > 1:
                bad = True
                e.invalid(path, _Json(cluster_ips), "'None' must be the first and only value")
            continue
        if parse_ip(ip) is None:
            bad = True
            e.invalid(f"{path}[{i}]", ip, _LEGACY_IP_MSG)
    if len(cluster_ips) > 2:
        e.invalid(path, _Json(cluster_ips), "may only hold up to 2 values")
    if bad:
        return
    if len(cluster_ips) > 1:
        fams = {parse_ip(ip).version for ip in cluster_ips}  # type: ignore[union-attr]
        if len(fams) != 2 or len(cluster_ips) != 2:
            e.invalid(path, _Json(cluster_ips), "may specify no more than one IP for each IP family")
    if not headless and cluster_ips and families:
        for i, ip in enumerate(cluster_ips):
            if i >= len(families):
                break
            v6 = parse_ip(ip).version == 6  # type: ignore[union-attr]
            if families[i] == "IPv4" and v6:
                e.invalid(f"{path}[{i}]", ip, f"expected an IPv4 value as indicated by `ipFamilies[{i}]`")
            if families[i] == "IPv6" and not v6:
                e.invalid(f"{path}[{i}]", ip, f"expected an IPv6 value as indicated by `ipFamilies[{i}]`")


# --------------------------------------------------------------------------------------------
# Node and Namespace


def _parse_cidr(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    # netutils.ParseCIDRSloppy: host bits may be set, IPv4 octets may have leading zeros.
    if "/" not in text:
        return None
    addr_s, _, bits = text.partition("/")
    addr = parse_ip(addr_s) if ":" not in addr_s else None
    if ":" in addr_s:
        try:
            addr = ipaddress.IPv6Address(addr_s)
        except ValueError:
            return None
    if addr is None or not bits.isdigit() or not bits.isascii() or len(bits) > 3:
        return None
    try:
        return ipaddress.ip_network(f"{addr}/{int(bits)}", strict=False)
    except ValueError:
        return None


def _validate_node(e: _Errs, node: Node, old: Node | None) -> None:
    _meta_errors(e, node.metadata, old.metadata if old else None, False, L.is_dns1123_subdomain)
    # validateNodeTaints (upstream reports them under metadata.taints)
    unique: set[tuple[str, str]] = set()
    for i, t in enumerate(node.spec.taints):
        p = f"metadata.taints[{i}]"
        e.invalid_msgs(p + ".key", t.key, L.is_qualified_name(t.key))
        verrs = L.is_valid_label_value(t.value)
        if verrs:
            e.invalid(p + ".value", t.value, ";".join(verrs))
        if not t.effect:
            e.required(p + ".effect")
        elif t.effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
            e.not_supported(p + ".effect", t.effect, ("NoSchedule", "PreferNoSchedule", "NoExecute"))
        if (t.effect, t.key) in unique:
            err = FieldError(
                p,
                "Duplicate value",
                _Json({"Key": t.key, "Value": t.value, "Effect": t.effect, "TimeAdded": None}),
                "taints must be unique by key and effect pair",
            )
            e.items.append(err)
            continue
        unique.add((t.effect, t.key))
    cidrs = list(node.spec.pod_cidrs) or ([node.spec.pod_cidr] if node.spec.pod_cidr else [])
    if cidrs:
        path = "spec.podCIDRs"
        nets = [_parse_cidr(c) for c in cidrs]
        for i, n in enumerate(nets):
            if n is None:
                e.invalid(f"{path}[{i}]", _Json(cidrs), "must be valid CIDR")
        if len(cidrs) > 1:
            if any(n is None for n in nets):
                e.internal(path, "invalid PodCIDRs. failed to check with dual stack with error:invalid CIDR")
            fams = {n.version for n in nets if n is not None}
            if len(fams) != 2 or len(cidrs) > 2:
                e.invalid(path, _Json(cidrs), "may specify no more than one CIDR for each IP family")
            seen: set[str] = set()
            for i, c in enumerate(cidrs):
                if c in seen:
                    e.duplicate(f"{path}[{i}]", c)
                seen.add(c)
    if old is not None:
        old_cidrs = list(old.spec.pod_cidrs) or ([old.spec.pod_cidr] if old.spec.pod_cidr else [])
        if old_cidrs and old_cidrs != cidrs:
            e.forbidden("spec.podCIDRs", 'node updates may not change podCIDR except from "" to valid')


def _validate_namespace(e: _Errs, ns: Namespace, old: Namespace | None) -> None:
    _meta_errors(e, ns.metadata, old.metadata if old else None, False, L.is_dns1123_label)


# --------------------------------------------------------------------------------------------
# Endpoints


def _endpoint_address_errors(e: _Errs, a: EndpointAddress, ap: str) -> None:
    # The checks of one EndpointAddress: they depend on the address alone (memoised by the
    # caller when they pass).
    if parse_ip(a.ip) is None:
        e.invalid(ap + ".ip", a.ip, _LEGACY_IP_MSG)
    if a.hostname:
        _dns_label(e, a.hostname, ap + ".hostname")
    if a.node_name is not None:
        e.invalid_msgs(ap + ".nodeName", a.node_name, L.is_dns1123_subdomain(a.node_name))
    _endpoint_ip(e, a.ip, ap + ".ip")


def _validate_endpoints(e: _Errs, ep: Endpoints, old: Endpoints | None) -> None:
    _meta_errors(e, ep.metadata, old.metadata if old else None, True, L.is_dns1123_subdomain)
    valid = _VALID_ADDRESSES.seen
    for i, ss in enumerate(ep.subsets):
        sp = f"subsets[{i}]"
        if not ss.addresses and not ss.not_ready_addresses:
            e.required(sp, "must specify `addresses` or `notReadyAddresses`")
        for field_name, addrs in (("addresses", ss.addresses), ("notReadyAddresses", ss.not_ready_addresses)):
            if not addrs or _known_valid(addrs):
                continue
            start = len(e.items)
            for j, a in enumerate(addrs):
                if id(a) in _VALID_IDS:
                    continue
                if a not in valid:
                    before = len(e.items)
                    _endpoint_address_errors(e, a, f"{sp}.{field_name}[{j}]")
                    if len(e.items) != before:
                        continue
                    _VALID_ADDRESSES.add(a)
                _mark_valid(a)
            if len(e.items) == start and type(addrs) is tuple:
                _VALID_LISTS.put(addrs, True)
        multi = len(ss.ports) > 1
        for j, p in enumerate(ss.ports):
            pp = f"{sp}.ports[{j}]"
            if multi and not p.name:
                e.required(pp + ".name")
            elif p.name:
                _dns_label(e, p.name, pp + ".name")
            e.invalid_msgs(pp + ".port", p.port, L.is_valid_port_num(p.port))
            _protocol(e, p.protocol, pp + ".protocol")
            if p.app_protocol is not None:
                e.invalid_msgs(pp + ".appProtocol", p.app_protocol, L.is_qualified_name(p.app_protocol))


# --------------------------------------------------------------------------------------------
# EndpointSlice


def _is_fqdn(e: _Errs, name: str, path: str) -> None:
    # IsFullyQualifiedDomainName
    if not name:
        e.required(path)
        return
    if name.endswith("."):
        name = name[:-1]
    errs = L.is_dns1123_subdomain(name)
    if errs:
        e.invalid(path, name, ",".join(errs))
        return
    parts = name.split(".")
    if len(parts) < 2:
        e.invalid(path, name, "should be a domain with at least two segments separated by dots")
        return
    for label in parts:
        lerrs = L.is_dns1123_label(label)
        if lerrs:
            e.invalid(path, label, ",".join(lerrs))
            return


def _slice_endpoint_errors(e: _Errs, ep: Endpoint, at: str, p: str) -> None:
    # The checks of one EndpointSlice endpoint: they depend on the endpoint and the slice's
    # addressType alone (memoised by the caller when they pass).
    ap = p + ".addresses"
    if not ep.addresses:
        e.required(ap, "must contain at least 1 address")
    elif len(ep.addresses) > _MAX_SLICE_ADDRESSES:
        e.too_many(ap, len(ep.addresses), _MAX_SLICE_ADDRESSES)
    for j, a in enumerate(ep.addresses):
        aj = f"{ap}[{j}]"
        if at in ("IPv4", "IPv6"):
            addr = parse_ip(a)
            if addr is None:
                e.invalid(aj, a, _LEGACY_IP_MSG)
                continue
            if at == "IPv4" and addr.version != 4:
                e.invalid(aj, a, "must be an IPv4 address")
            if at == "IPv6" and addr.version != 6:
                e.invalid(aj, a, "must be an IPv6 address")
            _endpoint_ip(e, a, aj)
        elif at == "FQDN":
            _is_fqdn(e, a, aj)
    if ep.node_name is not None:
        e.invalid_msgs(p + ".nodeName", ep.node_name, L.is_dns1123_subdomain(ep.node_name))
    tp = p + ".deprecatedTopology"
    if len(ep.deprecated_topology) > _MAX_TOPOLOGY_LABELS:
        e.too_many(tp, len(ep.deprecated_topology), _MAX_TOPOLOGY_LABELS)
    _label_errors(e, ep.deprecated_topology, tp)
    if _ZONE_LABEL in ep.deprecated_topology:
        e.internal(f"{tp}[{_ZONE_LABEL}]", "reserved key was not removed in conversion")
    if ep.hostname is not None:
        _dns_label(e, ep.hostname, p + ".hostname")
    if ep.hints is not None:
        hp = p + ".hints"
        _hint_names(e, [z.name for z in ep.hints.for_zones], hp + ".forZones", L.is_valid_label_value)
        _hint_names(e, [n.name for n in ep.hints.for_nodes], hp + ".forNodes", L.is_dns1123_subdomain)


def _validate_endpoint_slice(e: _Errs, es: EndpointSlice, old: EndpointSlice | None) -> None:
    _meta_errors(e, es.metadata, old.metadata if old else None, True, L.is_dns1123_subdomain)
    at = es.address_type
    if not at:
        e.required("addressType")
    elif at not in ("FQDN", "IPv4", "IPv6"):
        e.not_supported("addressType", at, ("FQDN", "IPv4", "IPv6"))
    if len(es.endpoints) > _MAX_SLICE_ENDPOINTS:
        e.too_many("endpoints", len(es.endpoints), _MAX_SLICE_ENDPOINTS)
    else:
        valid = _VALID_SLICE_ENDPOINTS.seen
        for i, ep in enumerate(es.endpoints):
            if (at, ep) in valid:
                continue
            before = len(e.items)
            _slice_endpoint_errors(e, ep, at, f"endpoints[{i}]")
            if len(e.items) == before:
                _VALID_SLICE_ENDPOINTS.add((at, ep))
    if len(es.ports) > _MAX_SLICE_PORTS:
        e.too_many("ports", len(es.ports), _MAX_SLICE_PORTS)
    else:
        names: set[str] = set()
        for i, port in enumerate(es.ports):
            pp = f"ports[{i}]"
            name = port.name or ""
            if name:
                _dns_label(e, name, pp + ".name")
            if name in names:
                e.duplicate(pp + ".name", name)
            else:
                names.add(name)
            if port.protocol is None:
                e.required(pp + ".protocol")
            elif port.protocol not in _PROTOCOL_SET:
                e.not_supported(pp + ".protocol", port.protocol, _PROTOCOLS)
            if port.app_protocol is not None:
                e.invalid_msgs(pp + ".appProtocol", port.app_protocol, L.is_qualified_name(port.app_protocol))
    if old is not None and es.address_type != old.address_type:
        e.invalid("addressType", es.address_type, _IMMUTABLE)


def _hint_names(e: _Errs, names: list[str], path: str, rule: Callable[[str], tuple[str, ...]]) -> None:
    if len(names) > _MAX_HINTS:
        e.too_many(path, len(names), _MAX_HINTS)
        return
    seen: set[str] = set()
    for i, n in enumerate(names):
        p = f"{path}[{i}].name"
        if n in seen:
            e.duplicate(p, n)
        else:
            seen.add(n)
        e.invalid_msgs(p, n, rule(n))


# --------------------------------------------------------------------------------------------
# apps/v1


def _percent(v: int | str | None) -> int | None:
    if isinstance(v, str) and not L.is_valid_percent(v):
        return int(v[:-1])
    return None


def _int_or_percent_value(v: int | str | None) -> int:
    pct = _percent(v)
    if pct is not None:
        return pct
    if isinstance(v, int):
        return v
    if isinstance(v, str):  # intstr.IntValue() of a non-number string is 0
        try:
            return int(v)
        except ValueError:
            return 0
    return 0


def _rolling_update_errors(e: _Errs, ru: RollingUpdateDeployment, path: str) -> None:
    for name, v in (("maxUnavailable", ru.max_unavailable), ("maxSurge", ru.max_surge)):
        p = f"{path}.{name}"
        if isinstance(v, str):
            e.invalid_msgs(p, v, L.is_valid_percent(v))
        elif isinstance(v, int):
            e.nonnegative(p, v)
    if _int_or_percent_value(ru.max_unavailable) == 0 and _int_or_percent_value(ru.max_surge) == 0:
        e.invalid(path + ".maxUnavailable", ru.max_unavailable, "may not be 0 when `maxSurge` is 0")
    pct = _percent(ru.max_unavailable)
    if pct is not None and pct > 100:
        e.invalid(path + ".maxUnavailable", ru.max_unavailable, "must not be greater than 100%")


def _selector_and_template_errors(
    e: _Errs, selector: LabelSelector | None, template: PodTemplateSpec, path: str
) -> None:
    key = (selector, template)
    if key in _VALID_TEMPLATES:
        return
    n = len(e.items)
    _selector_and_template_errors_uncached(e, selector, template, path)
    if len(e.items) == n:
        _VALID_TEMPLATES.add(key)


def _selector_and_template_errors_uncached(
    e: _Errs, selector: LabelSelector | None, template: PodTemplateSpec, path: str
) -> None:
    if selector is None:
        e.required(path + ".selector")
    else:
        _label_selector_errors(e, selector, path + ".selector")
        if not selector.match_labels and not selector.match_expressions:
            e.invalid(path + ".selector", _Json(_selector_json(selector)), "empty selector is invalid for deployment")
    try:
        sel = L.selector_from_label_selector(selector)
    except InvalidSelector:
        e.invalid(path + ".selector", _Json(_selector_json(selector)), "invalid label selector")  # type: ignore[arg-type]
        return
    tp = path + ".template"
    tlabels = template.metadata.labels
    if not sel.empty and not sel.matches(tlabels):
        e.invalid(
            tp + ".metadata.labels",
            _Json({k: tlabels[k] for k in sorted(tlabels)}),
            "`selector` does not match template `labels`",
        )
    _label_errors(e, tlabels, tp + ".metadata.labels")
    _annotation_errors(e, template.metadata.annotations, tp + ".metadata.annotations")
    _pod_spec_errors(e, template.spec, tp + ".spec")
    if template.spec.restart_policy != "Always":
        e.not_supported(tp + ".spec.restartPolicy", template.spec.restart_policy, ("Always",))


def _validate_deployment(e: _Errs, d: Deployment, old: Deployment | None) -> None:
    _meta_errors(e, d.metadata, old.metadata if old else None, True, L.is_dns1123_subdomain)
    spec = d.spec
    if spec.replicas is not None:
        e.nonnegative("spec.replicas", spec.replicas)
    _selector_and_template_errors(e, spec.selector, spec.template, "spec")
    st = spec.strategy
    sp = "spec.strategy"
    if st.type == "Recreate":
        if st.rolling_update is not None:
            e.forbidden(sp + ".rollingUpdate", "may not be specified when strategy `type` is 'Recreate'")
    elif st.type == "RollingUpdate" or st.type == "":
        # An empty type is defaulted to RollingUpdate with 25%/25%.
        if st.rolling_update is not None:
            _rolling_update_errors(e, st.rolling_update, sp + ".rollingUpdate")
    else:
        value: dict[str, Any] = {"type": st.type}
        if st.rolling_update is not None:
            ru: dict[str, Any] = {}
            if st.rolling_update.max_unavailable is not None:
                ru["maxUnavailable"] = st.rolling_update.max_unavailable
            if st.rolling_update.max_surge is not None:
                ru["maxSurge"] = st.rolling_update.max_surge
            value["rollingUpdate"] = ru
        e.not_supported(sp, _Json(value), ("Recreate", "RollingUpdate"))
    e.nonnegative("spec.minReadySeconds", spec.min_ready_seconds)
    if spec.revision_history_limit is not None:
        e.nonnegative("spec.revisionHistoryLimit", spec.revision_history_limit)
    if spec.progress_deadline_seconds is not None:
        if spec.progress_deadline_seconds <= 0:
            e.invalid("spec.progressDeadlineSeconds", spec.progress_deadline_seconds, "must be greater than zero")
        if spec.progress_deadline_seconds <= spec.min_ready_seconds:
            e.invalid(
                "spec.progressDeadlineSeconds", spec.progress_deadline_seconds, "must be greater than minReadySeconds"
            )
    if old is not None and spec.selector != old.spec.selector:
        e.invalid("spec.selector", _Json(_selector_json(spec.selector or LabelSelector())), _IMMUTABLE)


def _validate_replica_set(e: _Errs, rs: ReplicaSet, old: ReplicaSet | None) -> None:
    _meta_errors(e, rs.metadata, old.metadata if old else None, True, L.is_dns1123_subdomain)
    spec = rs.spec
    if spec.replicas is not None:
        e.nonnegative("spec.replicas", spec.replicas)
    e.nonnegative("spec.minReadySeconds", spec.min_ready_seconds)
    _selector_and_template_errors(e, spec.selector, spec.template, "spec")
    if old is not None and spec.selector != old.spec.selector:
        e.invalid("spec.selector", _Json(_selector_json(spec.selector or LabelSelector())), _IMMUTABLE)


_VALIDATORS: dict[type, Callable[[_Errs, Any, Any], None]] = {
    Pod: _validate_pod,
    Service: _validate_service,
    Node: _validate_node,
    Namespace: _validate_namespace,
    Endpoints: _validate_endpoints,
    EndpointSlice: _validate_endpoint_slice,
    Deployment: _validate_deployment,
    ReplicaSet: _validate_replica_set,
}
