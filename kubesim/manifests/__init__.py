"""Objects <-> the Kubernetes JSON shape, and YAML files of manifests.

This is the one module that knows how kubesim's objects look on the wire.  It mirrors the JSON
the API server serves (``encoding/json`` over the ``k8s.io/api`` types): ``kind`` and
``apiVersion`` first, then fields in Go struct order with their camelCase JSON names, and Go's
emptiness rules field by field:

* ``omitempty`` scalars, maps, lists and pointers are left out when zero, empty or nil;
* a non-pointer struct is never left out (``"status": {}``, ``"resources": {}``,
  ``"conditions": {}``), and a list without ``omitempty`` is written ``null`` when empty
  (EndpointSlice ``endpoints`` and ``ports``, Endpoint ``addresses``, PodSpec ``containers``);
* a zero ``metav1.Time`` is ``null`` (``lastProbeTime: null``), except
  ``metadata.creationTimestamp``, which is ``omitzero`` since Kubernetes v1.33;
* ``intstr.IntOrString`` is a struct, so a non-pointer one is always written
  (``"targetPort": 0``);
* timestamps are RFC 3339 at second precision (``"2008-01-01T01:01:01Z"``); objects keep whole
  Unix seconds;
* ``managedFields[].fieldsV1`` is written as the JSON object its raw text holds;
* parts of upstream types that kubesim does not model but the API server always writes are
  written as constants: ``Service.status`` is ``{"loadBalancer": {}}``, a Node's
  ``status.daemonEndpoints`` and ``status.nodeInfo`` are zero-valued, a Namespace has
  ``"spec": {}`` and ``"status": {}``.

:func:`from_manifest` is the inverse.  It decodes strictly, like ``kubectl apply`` with the
default ``--validate=strict``: a field of the wrong JSON type, an integer out of range, an
unknown field, a missing or unknown ``kind``/``apiVersion`` raise
:class:`~kubesim.errors.ManifestError` with the field path (``spec.ports[0].port``).  Fields that
exist upstream but that kubesim does not model (``imagePullPolicy``, ``volumes``,
``dnsPolicy``, ``status.containerStatuses``, ...) are accepted and dropped.  An absent field
decodes to its Go zero value (``""``, ``0``, ``None`` for pointers), not to the attrs default,
so that :func:`kubesim.defaults.apply_defaults` sees what the API server's defaulting sees.

Round trip: ``from_manifest(to_manifest(x)) == x`` for every object, with two documented
normalisations that upstream's own storage round trip performs too:

* ``Service.spec.selector`` is ``omitempty``: an empty non-nil selector is not written, so it
  reads back as ``None`` (upstream, an empty selector is likewise indistinguishable from no
  selector once stored);
* ``ContainerPort.host_port`` is a plain ``int32`` upstream: ``0`` is not written and reads
  back as ``None``.

``managedFields[].fieldsV1`` is kept as compact JSON text with sorted keys
(``json.dumps(v, separators=(",", ":"), sort_keys=True)``, the order structured-merge-diff
writes), which is what :func:`from_manifest` produces; YAML output sorts keys too, so this is the
only form that survives every round trip.

Costs: encoders are generated once per class at import time (no reflection per call);
:func:`encode`, :func:`to_manifest`, :func:`from_manifest` are ``O(size of the object)``.

The package
===========

The modules, bottom layer first (each imports only the ones above it):

* :mod:`kubesim.manifests.times`: RFC 3339 timestamps, formatted and parsed;
* :mod:`kubesim.manifests.schema`: every class's fields in Go struct order, the codecs' source;
* :mod:`kubesim.manifests.encode`: generated encoders, :func:`to_manifest`, :func:`encode`,
  :func:`to_json`;
* :mod:`kubesim.manifests.decode`: strict table-driven decoders, :func:`from_manifest`;
* :mod:`kubesim.manifests.documents`: YAML streams, :func:`load_yaml`, :func:`dump_yaml`,
  :func:`dump_json`.

This module re-exports their public names (and ``_SCHEMA`` and ``_format_time``, which
:mod:`kubesim.serve` and :mod:`kubesim.wire` read).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubesim import _lazy
from kubesim.manifests.times import _format_time as _format_time
from kubesim.manifests.times import format_time, parse_time
from kubesim.manifests.times import parse_time_nano as parse_time_nano

if TYPE_CHECKING:  # the lazily loaded names, for type checkers (see __getattr__ below)
    from kubesim.manifests import decode as decode
    from kubesim.manifests import documents as documents
    from kubesim.manifests import schema as schema
    from kubesim.manifests.decode import from_manifest
    from kubesim.manifests.documents import dump_json, dump_yaml, load_yaml
    from kubesim.manifests.encode import encode, to_json, to_manifest
    from kubesim.manifests.schema import _SCHEMA as _SCHEMA

__all__ = [
    "to_manifest",
    "from_manifest",
    "encode",
    "to_json",
    "load_yaml",
    "dump_yaml",
    "dump_json",
    "format_time",
    "parse_time",
]

#: The names loaded on first use, by module (:mod:`kubesim._lazy`): the API server needs only
#: the timestamps above on its write path, so importing it neither builds the schema and the
#: codecs nor imports YAML.
_LAZY: dict[str, str] = {
    "to_manifest": "kubesim.manifests.encode",
    "encode": "kubesim.manifests.encode",
    "to_json": "kubesim.manifests.encode",
    "from_manifest": "kubesim.manifests.decode",
    "load_yaml": "kubesim.manifests.documents",
    "dump_yaml": "kubesim.manifests.documents",
    "dump_json": "kubesim.manifests.documents",
    "_SCHEMA": "kubesim.manifests.schema",
}

if not TYPE_CHECKING:  # type checkers see the names imported above, and no catch-all
    __getattr__, __dir__ = _lazy.attach(__name__, _LAZY, ("schema", "decode", "documents"))
