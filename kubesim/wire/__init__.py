"""Exact on-the-wire sizes of API objects: Kubernetes protobuf (with its ``k8s\\0`` envelope)
and compact JSON, computed from cached per-entry sizes.

What the sizes are
==================

:func:`proto_size` is ``len(encode_proto(obj))``: the bytes the API server writes to etcd for
``obj`` (``Etcd.DefaultStorageMediaType = application/vnd.kubernetes.protobuf``) and sends to a
protobuf watcher.  It is the 4-byte magic ``6b 38 73 00`` followed by a ``runtime.Unknown``
message ``{typeMeta{apiVersion, kind}, raw, contentEncoding "", contentType ""}`` whose ``raw``
is the object's own protobuf message (apimachinery
``pkg/runtime/serializer/protobuf/protobuf.go``).  The object message follows the
``generated.pb.go`` rules of k8s.io/api and k8s.io/apimachinery (read at k8s.io/api
``10b39a39``, apimachinery ``eed236ce``): fields in ascending number order; non-pointer scalars
and non-pointer messages always written (an empty string costs 2 bytes), pointers only when
not ``None``; maps as entries sorted by key; negative ``int32``/``int64`` take 10 bytes;
``metav1.Time`` as ``{seconds, nanos=0}`` with an empty body for the zero time (``None``).

Fields that :mod:`kubesim.objects` does not model are encoded as their Go zero value, exactly
as Go would encode a struct with only kubesim's fields set: for instance every Pod carries
``dnsPolicy ""`` (2 bytes), every Node an all-empty ``nodeInfo`` (22 bytes) and every Service
an empty ``status.loadBalancer`` (4 bytes).  Quantities (resource maps) are encoded from the
string kubesim holds; upstream would first canonicalise them (``"1000m"`` -> ``"1"``).

:func:`json_size` is the length in bytes of the compact JSON the API server serves for the
object (Go ``encoding/json``: UTF-8, ``<``, ``>``, ``&``, U+2028 and U+2029 escaped as
``\\u003c`` ..., ``omitempty``/``omitzero`` as the Go struct tags say), including the
top-level ``kind`` and ``apiVersion``, and excluding the trailing newline of
``json.Encoder`` and any watch-event wrapper (``{"type":"MODIFIED","object":...}``).  It
equals ``len(json.dumps(kubesim.to_manifest(obj), separators=(",", ":")))`` whenever the
object's strings are ASCII without ``<>&`` and ``to_manifest`` follows the Go tags.  For
Endpoints and EndpointSlice (and their entries) kubesim computes it itself, per entry, with
caching; for the other kinds it measures ``kubesim.manifests.to_manifest(obj)``.

``resourceVersion``: every size function takes ``include_resource_version`` (default
``True``).  With ``True`` the object is measured as a watch event or a GET serves it, with its
``metadata.resourceVersion``.  With ``False`` it is measured as etcd stores it: the API server
clears ``resourceVersion`` and ``selfLink`` before writing
(``staging/src/k8s.io/apiserver/pkg/storage/api_object_versioner.go``,
``PrepareObjectForStorage``), so both are encoded as empty (2 protobuf bytes each, absent
from JSON).

``managedFields`` are included if the object carries them.  kubesim's API server may not
populate them, in which case the sizes are those of an object without managed fields: real
objects written by a controller carry one entry per writer (roughly 150-250 bytes each, not
growing with the number of endpoints because ``subsets``/``endpoints``/``ports`` are atomic).

Assembling sizes incrementally
==============================

A write of a 20,000-address Endpoints must not re-serialise it.  The building blocks:

* :func:`address_entry_size`, :func:`endpoint_port_entry_size`, :func:`endpoint_entry_size`,
  :func:`slice_port_entry_size`: the bytes one list entry contributes inside its enclosing
  message, tag and length included (all these tags are one byte); cached per entry value;
* :func:`meta_size`: the body size of an ``ObjectMeta`` (an empty one is 16 bytes);
* :func:`wrap` ``(n) = 1 + sov(n) + n``: the size of a one-byte-tag field whose body is ``n``;
* :func:`envelope_size` ``(kind, raw)``: the stored size of an object whose message is ``raw``
  bytes (``raw + 26 + sov(raw)`` for Endpoints, ``raw + 47 + sov(raw)`` for EndpointSlice).

Then, writing ``A(x)`` for an entry size::

    Endpoints      raw = wrap(meta_size(m)) + sum(wrap(S_i) for each subset i)
                   S_i = sum(A(a) for a in addresses + notReadyAddresses) + sum(A(p) for ports)
    EndpointSlice  raw = wrap(meta_size(m)) + sum(A(e) for endpoints) + sum(A(p) for ports)
                         + wrap(len(addressType))
    stored         = envelope_size(kind, raw)

A caller that keeps the per-subset sums ``S_i`` (or the endpoint/port sums) up to date as
entries come and go pays ``O(1)`` per changed entry and ``O(meta)`` per write.  For an
Endpoints the API server measures, the address lists' sums come from
:func:`address_list_sizes`: ``O(1)`` for a list (tuple) measured before or vouched for by its
producer (:func:`vouch_address_list`: the incremental Endpoints engine keeps the sums of the
lists it writes as addresses come and go), else one C-level pass over cached per-address
sizes; so a write in which one address changed costs ``O(1)`` to measure, whatever its size.
The same shape holds for JSON: :func:`address_json_size` and friends give the size of one
entry's JSON, and :func:`json_list_size` ``(n, total) = 2 + total + max(n - 1, 0)`` the size
of a list of ``n`` entries whose JSON sizes sum to ``total``.

Cost of a cached lookup: one ``dict`` probe keyed by the frozen attrs entry, dominated by the
entry's generated ``__hash__`` (attrs recomputes it on every call unless ``cache_hash=True``).
Measured on CPython 3.11 over 20,000 distinct entries: about 0.9 us per ``EndpointAddress``
with a ``targetRef`` (0.7 us of it hashing) and 1.4 us per slice ``Endpoint`` (1.2 us
hashing); with ``cache_hash=True`` on the entry classes the hash falls to about 0.2 us.  A
miss encodes the entry once (about 14 us).  Each cache is bounded (:data:`CACHE_SIZE` entries
per kind of entry) and is cleared wholesale when full.

Whole objects: the sizes with and without ``resourceVersion`` differ only in the metadata, so
both are computed in one pass and the last object measured is remembered (the API server asks
for both, served and stored, on every write; :func:`sizes3` returns all three numbers at
once).  The ``spec`` and ``status`` of the other kinds are measured once per sub-object and
cached by identity (a bounded cache holding a reference), so a Pod status update does not
re-encode the unchanged ``spec``.  The metadata is sized in closed form: its short strings
arithmetically (length prefix plus bytes), its collections (labels, annotations, owner
references, finalizers, managed fields, which the API server carries over between versions)
by identity, as are the Pod conditions inside a Pod status (the kubelet reuses unchanged
ones); a Pod, ReplicaSet or Deployment status is sized from those parts without being
encoded.  JSON sizes go through the C JSON encoder, corrected for the
characters Go escapes differently.

The package
===========

The modules, bottom layer first (each imports only the ones above it):

* :mod:`kubesim.wire.protobuf`: varints and protobuf field primitives;
* :mod:`kubesim.wire.gojson`: Go ``encoding/json`` lengths and the reference encoding;
* :mod:`kubesim.wire.caches`: the bounded value caches and identity caches, packed pairs;
* :mod:`kubesim.wire.meta`: ``ObjectMeta`` and the other meta/v1 types, sized in closed form;
* :mod:`kubesim.wire.endpoints`: Endpoints and EndpointSlice entries, address-list sums;
* :mod:`kubesim.wire.pods`: Pod, Service, Node, Namespace; the Pod status by parts;
* :mod:`kubesim.wire.workloads`: Deployment and ReplicaSet;
* :mod:`kubesim.wire.measure`: whole objects, the envelope, the top-level size functions.

This module re-exports their public names (and the private ones tests inspect) and owns the
:data:`CHECK_HINTS` switch with :func:`vouch_address_list` and :func:`vouch_slice_endpoints`,
which read it.
"""

from __future__ import annotations

import os as _os

from kubesim.objects import Endpoint, EndpointAddress
from kubesim.wire.caches import _ID_CACHE_SIZE as _ID_CACHE_SIZE
from kubesim.wire.caches import _ID_CACHES as _ID_CACHES
from kubesim.wire.caches import CACHE_SIZE
from kubesim.wire.caches import _by_identity as _by_identity
from kubesim.wire.endpoints import _ADDR_PAIRS as _ADDR_PAIRS
from kubesim.wire.endpoints import _LIST_SUMS as _LIST_SUMS
from kubesim.wire.endpoints import _address_list_scratch as _address_list_scratch
from kubesim.wire.endpoints import _endpoint_address as _endpoint_address
from kubesim.wire.endpoints import _endpoint_address_json as _endpoint_address_json
from kubesim.wire.endpoints import _endpoint_port_json as _endpoint_port_json
from kubesim.wire.endpoints import _endpoints_pair as _endpoints_pair
from kubesim.wire.endpoints import _slice_endpoint_json as _slice_endpoint_json
from kubesim.wire.endpoints import _slice_endpoints_pair as _slice_endpoints_pair
from kubesim.wire.endpoints import _slice_port_json as _slice_port_json
from kubesim.wire.endpoints import (
    address_entry_size,
    address_json_size,
    address_list_sizes,
    address_sizes,
    endpoint_entry_size,
    endpoint_json_size,
    endpoint_port_entry_size,
    endpoint_port_json_size,
    measured_address_sizes,
    port_entry_size,
    slice_port_entry_size,
    slice_port_json_size,
)
from kubesim.wire.endpoints import endpoint_entry_pair as endpoint_entry_pair
from kubesim.wire.gojson import _go_json_len as _go_json_len
from kubesim.wire.gojson import _RawJSON as _RawJSON
from kubesim.wire.gojson import go_json_bytes, json_list_size
from kubesim.wire.measure import _JSON_SIZERS as _JSON_SIZERS
from kubesim.wire.measure import (
    clear_caches,
    encode_proto,
    encode_raw,
    envelope_size,
    json_size,
    proto_size,
    raw_size,
    sizes,
    sizes3,
)
from kubesim.wire.meta import _labels_pair as _labels_pair
from kubesim.wire.meta import _meta_body_pair as _meta_body_pair
from kubesim.wire.meta import _meta_json as _meta_json
from kubesim.wire.meta import _meta_json_sizes as _meta_json_sizes
from kubesim.wire.meta import _object_meta as _object_meta
from kubesim.wire.meta import meta_json_size, meta_size
from kubesim.wire.pods import _pod_status as _pod_status
from kubesim.wire.pods import _pod_status_json as _pod_status_json
from kubesim.wire.pods import _pod_status_len as _pod_status_len
from kubesim.wire.protobuf import MAGIC, sov, wrap

__all__ = [
    "CACHE_SIZE",
    "MAGIC",
    "sov",
    "wrap",
    "envelope_size",
    "encode_proto",
    "encode_raw",
    "proto_size",
    "raw_size",
    "meta_size",
    "address_entry_size",
    "endpoint_port_entry_size",
    "port_entry_size",
    "endpoint_entry_size",
    "slice_port_entry_size",
    "json_size",
    "json_list_size",
    "meta_json_size",
    "address_json_size",
    "address_sizes",
    "measured_address_sizes",
    "address_list_sizes",
    "vouch_address_list",
    "vouch_slice_endpoints",
    "slice_endpoint_sums",
    "endpoint_entry_pair",
    "CHECK_HINTS",
    "endpoint_port_json_size",
    "endpoint_json_size",
    "slice_port_json_size",
    "go_json_bytes",
    "sizes",
    "sizes3",
    "clear_caches",
]

#: When true, :func:`vouch_address_list` checks every vouched sum against a from-scratch
#: computation and raises :class:`AssertionError` on a mismatch (``O(n)`` per call), and the
#: EndpointSlice controller's fast path checks its ``O(1)`` staleness answer against
#: upstream's scan of the Service's slices (``O(slices)`` per sync). Tests turn it on; so does
#: the environment variable ``KUBESIM_CHECK_HINTS=1`` at import.
CHECK_HINTS: bool = bool(_os.environ.get("KUBESIM_CHECK_HINTS"))


def vouch_address_list(addrs: tuple[EndpointAddress, ...], proto: int, json: int) -> None:
    """Record that ``address_list_sizes(addrs) == (proto, json)``, computed by the caller from
    running totals (the incremental Endpoints engine keeps the sums of the lists it
    materialises as addresses come and go), so that measuring the write that carries ``addrs``
    costs ``O(1)`` instead of ``O(len(addrs))``.

    The caller vouches for the numbers: with :data:`CHECK_HINTS` they are checked against a
    from-scratch computation (``O(n)``) and a mismatch raises :class:`AssertionError`; the
    fast-versus-reference tests compare every recorded size as well.  Only tuples are
    remembered. ``O(1)``."""
    if type(addrs) is not tuple or not addrs:
        return
    if CHECK_HINTS:
        want = _address_list_scratch(addrs)
        if want != (proto, json):
            raise AssertionError(f"vouched address-list sizes {(proto, json)} != {want} for {len(addrs)} addresses")
    _LIST_SUMS.put(addrs, (proto, json))


def slice_endpoint_sums(endpoints: tuple[Endpoint, ...]) -> int | None:
    """The packed size sums (:func:`endpoint_entry_pair` of each entry, summed) that the wire's
    identity memo holds for an EndpointSlice's ``endpoints`` tuple — measured with the slice
    that carries it or vouched (:func:`vouch_slice_endpoints`) — or ``None`` if it holds none
    (never measured, or forgotten in a wholesale clear). ``O(1)``."""
    hit = _slice_endpoints_pair.cache.get(id(endpoints))
    return hit[1] if hit is not None and hit[0] is endpoints else None


def vouch_slice_endpoints(endpoints: tuple[Endpoint, ...], packed: int) -> None:
    """Record that the packed size sums of an EndpointSlice's ``endpoints`` tuple are ``packed``
    (``sum(map(endpoint_entry_pair, endpoints))``), computed by the caller from the sums of the
    entries it knows changed (the EndpointSlice planner: the slice's sums before plus the
    entries it put in, minus the ones it took out), so that sizing the write that carries the
    tuple costs ``O(1)`` instead of a cached lookup per entry.

    As :func:`vouch_address_list`: with :data:`CHECK_HINTS` the number is checked against the
    wire's own pass over the entries (``O(n)``) and a mismatch raises :class:`AssertionError`;
    check mode (``Cluster(check=True)``) compares every vouched sum it meets with that pass
    too. Only non-empty tuples are remembered. ``O(1)``."""
    if type(endpoints) is not tuple or not endpoints:
        return
    if CHECK_HINTS:
        want = _endpoints_pair(endpoints)
        if want != packed:
            raise AssertionError(
                f"vouched slice endpoint sums {packed} != {want} for {len(endpoints)} endpoints"
            )
    cache = _slice_endpoints_pair.cache
    if len(cache) >= _slice_endpoints_pair.limit:
        cache.clear()
    cache[id(endpoints)] = (endpoints, packed)
