"""Kinds kubesim stores but does not model: inert objects with the API server's identity,
metadata validation and exact-where-stated sizes, and no controller behind them.

A real application's manifests carry ConfigMaps, Secrets, ServiceAccounts, Ingresses, RBAC,
Jobs ... beside its Deployments and Services. kubesim accepts them (:data:`INERT_KINDS`, listed
in :mod:`kubesim.kinds` with ``inert=True``) as :class:`InertObject`: the API server gives them
a uid, a resourceVersion, a creationTimestamp, a generated name, a ``generation`` for the kinds
whose registry strategy keeps one (:data:`GENERATION_KINDS`, bumped on a ``spec`` change), it
validates their metadata (names as each kind's registry validates them, labels, annotations,
owner references, finalizers) and refuses what etcd would refuse (the request-size limit);
ConfigMaps and Secrets get their own checks (keys, the 1 MiB data limit). Nothing watches
them: no Job runs, no HPA scales, no Ingress routes. The namespace controller deletes them
with their namespace and the garbage collector honours their owner references.

What is stored: the manifest as sent, minus ``status`` (the registries reset it on create;
an update keeps the stored one), with the registries' defaults for the kinds described by a
schema here (:data:`SCHEMAS`): Secret ``type: Opaque`` and ``stringData`` folded into
``data``; RBAC subjects' ``apiGroup``; NetworkPolicy ``policyTypes`` and port ``protocol``;
IngressClass parameters' ``scope``; PersistentVolumeClaim ``volumeMode: Filesystem``; HPA
``minReplicas: 1`` and the default CPU metric. The content is kept as its JSON text, or for
the event recorder's Events as a record that builds it on read (:func:`holding`), which every
reader sees as the text.

Sizes (``ChangeEvent.json_bytes`` / ``proto_bytes``):

* **exact** for Event (:mod:`kubesim.events`; encoded by :mod:`kubesim.wire.events`, times
  included, JSON in Go struct order), and for ConfigMap, Secret, ServiceAccount, PersistentVolumeClaim, LimitRange,
  ResourceQuota, HorizontalPodAutoscaler (without ``behavior``), Role, ClusterRole, RoleBinding, ClusterRoleBinding, Ingress, IngressClass,
  NetworkPolicy and PodDisruptionBudget, as long as every field is one the schema here knows
  (quantities are encoded as written: upstream would canonicalise ``1000m`` to ``1``): the JSON
  is normalised the way Go serialises the typed object (struct order, ``omitempty``, value
  structs always written, ``null`` for an empty list without ``omitempty``) and the protobuf
  message is encoded from the field numbers of k8s.io/api ``core/v1``, ``rbac/v1``,
  ``networking/v1``, ``policy/v1`` and ``autoscaling/v2`` ``generated.proto`` (non-pointer scalars always written,
  maps sorted by key, ``[]byte`` values from base64, ``IntOrString`` as
  ``{type, intVal, strVal}``, ``Quantity`` as ``{string}``);
* **JSON exact as written, protobuf estimated** for Job and CronJob (and for a schema'd kind
  carrying a field the schema lacks, such as an HPA's ``behavior``): the JSON is what the client sent (the API server
  would add its defaults, e.g. a Job's ``backoffLimit`` and pod-template defaults, and would
  serialise in struct order: the length is the same only when nothing is defaulted); the
  protobuf size is an estimate (:func:`estimate_proto`) -- each JSON scalar as a tagged
  field, each object and list entry as a length-delimited message -- within about a quarter
  of the real encoding for typical manifests. ``ChangeEvent`` does not mark which; this
  docstring and ``docs/guides/kinds-and-namespaces.md`` do.

Costs: every operation is ``O(size of the object)``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import attrs

from kubesim.kinds import INERT_KINDS
from kubesim.objects import ObjectMeta
from kubesim.wire.protobuf import _bool, _int, _len_field, _msg, _str

__all__ = [
    "InertObject",
    "ContentRecord",
    "holding",
    "held_content",
    "INERT_KINDS",
    "GENERATION_KINDS",
    "SCHEMAS",
    "exact_sizes",
    "content",
    "make",
    "default",
    "to_manifest_body",
    "content_proto",
    "estimate_proto",
]

#: Kinds whose registry strategy sets ``metadata.generation`` (1 on create, +1 per spec change).
GENERATION_KINDS = frozenset({
    "Job", "CronJob", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Ingress", "IngressClass", "NetworkPolicy",
})

#: Kinds with a ``status`` the registry resets on create: the zero status as Go serialises it.
_ZERO_STATUS: dict[str, Any] = {
    "PersistentVolumeClaim": {"phase": "Pending"},
    "ResourceQuota": {},
    "Job": {},
    "CronJob": {},
    "HorizontalPodAutoscaler": {"desiredReplicas": 0},
    "PodDisruptionBudget": {"disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0, "expectedPods": 0},
    "Ingress": {"loadBalancer": {}},
}


@attrs.frozen
class InertObject:
    """An object of a kind kubesim stores without modelling (see the module docstring).

    ``content`` holds every top-level field other than ``kind``, ``apiVersion`` and
    ``metadata`` as compact JSON text with sorted keys (immutable, compared by value); read it
    with :func:`content`.

    A writer that builds the text from a few fields of its own (the event recorder:
    :mod:`kubesim.events`) may have the object *hold* a :class:`ContentRecord` instead
    (:func:`holding`), whose ``text()`` is that JSON text: ``obj.content`` is then built on
    each read and the text is never kept. The attribute is a property over the slot (see
    :data:`_CONTENT_SLOT`), so every reader -- equality and hashing, ``repr``,
    ``attrs.evolve``/``attrs.asdict``, pickling and copying, the wire encoders, kubectl and the
    REST server -- reads the text and sees the object a plain one with that text would be: an
    evolved, copied or unpickled object holds the text itself. Only :func:`held_content` and
    the API server's stamping (``apiserver._with_meta``, which reads it) see what is held. Only an instance of :class:`ContentRecord` is
    built into text: a ``content`` of any other type (``None``, a number, bytes, a dict) reads
    back as it is, so ``repr`` shows it and the API server refuses it with ``ManifestError``.
    """

    metadata: ObjectMeta = attrs.field(factory=ObjectMeta)
    kind: str = ""
    api_version: str = ""
    content: str = "{}"

    inert: ClassVar[bool] = True

    @property
    def spec(self) -> Any:
        """The ``spec`` field as plain JSON (``None`` when absent)."""
        return content(self).get("spec")


class ContentRecord:
    """The base of what an :class:`InertObject` may hold in place of its content text
    (:func:`holding`): an immutable record whose :meth:`text` is the content, the same text on
    every call. The content getter builds the text only of an instance of this class, so a
    ``content`` of any other type is read back as it is, and the API server refuses it as it
    refuses any non-text content (``ManifestError``). No state of its own (``__slots__`` is
    empty), so a subclass with slots (:class:`kubesim.events._Record`) has no ``__dict__``."""

    __slots__ = ()

    def text(self) -> str:
        """The content: compact JSON text with sorted keys, as :func:`make` writes it."""
        raise NotImplementedError


# The slot attrs made for ``content`` (its member descriptor), and the property that takes its
# place on the class: the getter returns a held text as it is and builds a held record's (any
# other value it returns as it is: see :func:`_content_text`); the setter is the slot's own
# (what attrs' __init__, __setstate__ and the API server's builders call), so storing costs
# what it did. ``InertObject.content`` is this property.
_CONTENT_SLOT: Any = InertObject.__dict__["content"]
_held: Callable[[InertObject], Any] = _CONTENT_SLOT.__get__


def _content_text(obj: InertObject) -> Any:
    """The getter of ``InertObject.content``: the text held, a held record's text, or
    whatever else the slot holds, unchanged (what a caller built the object with: the API
    server's content check then refuses it, and ``repr`` shows it)."""
    held: Any = _held(obj)
    if isinstance(held, str):
        return held
    if isinstance(held, ContentRecord):
        return held.text()
    return held


setattr(InertObject, "content", property(_content_text, _CONTENT_SLOT.__set__, doc=(  # noqa: B010
    "The content as JSON text (built on each read when a record is held: see the class docstring).")))

_new_inert = object.__new__
_set_metadata, _set_kind, _set_api_version = (InertObject.__dict__[n].__set__ for n in ("metadata", "kind", "api_version"))
_set_content: Callable[[InertObject, Any], None] = _CONTENT_SLOT.__set__


def holding(metadata: ObjectMeta, kind: str, api_version: str, record: ContentRecord) -> InertObject:
    """``InertObject(metadata=metadata, kind=kind, api_version=api_version,
    content=record.text())``, holding ``record`` instead of its text: equal to that object in
    every respect (see :class:`InertObject`), for the memory of the record. ``O(1)``."""
    o: InertObject = _new_inert(InertObject)
    _set_metadata(o, metadata)
    _set_kind(o, kind)
    _set_api_version(o, api_version)
    _set_content(o, record)
    return o


def held_content(obj: InertObject) -> object:
    """What ``obj`` holds as its content: the text, or the record :func:`holding` gave it (or
    whatever else it was built with). ``O(1)``."""
    held: object = _held(obj)
    return held


def content(obj: InertObject) -> dict[str, Any]:
    """The object's top-level fields other than kind/apiVersion/metadata. ``O(size)``."""
    value: dict[str, Any] = json.loads(obj.content)
    return value


def _text(body: Mapping[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def make(kind: str, api_version: str, metadata: ObjectMeta, body: Mapping[str, Any]) -> InertObject:
    """An inert object from a decoded manifest's parts (``body`` without kind, apiVersion and
    metadata). ``O(size)``."""
    return InertObject(metadata=metadata, kind=kind, api_version=api_version, content=_text(body))


# --------------------------------------------------------------------------------------------
# schemas: JSON key -> (protobuf field number, type, omitempty), in Go struct order.
# types: "str" (a Go string: always written in protobuf), "?str" (*string), "?bool" (*bool),
# "int32", "map" (map[string]string), "bytesmap" (map[string][]byte, base64 in JSON),
# ("msg", name) a value struct (always written), ("?msg", name) a pointer struct,
# ("rep", type) a list.

_Field = tuple[int, Any, bool]

SCHEMAS: dict[str, dict[str, _Field]] = {
    "ConfigMap": {"immutable": (4, "?bool", True), "data": (2, "map", True), "binaryData": (3, "bytesmap", True)},
    "Secret": {"immutable": (5, "?bool", True), "data": (2, "bytesmap", True), "type": (3, "str", True)},
    "ServiceAccount": {
        "secrets": (2, ("rep", ("msg", "ObjectReference")), True),
        "imagePullSecrets": (3, ("rep", ("msg", "LocalObjectReference")), True),
        "automountServiceAccountToken": (4, "?bool", True),
    },
    "ObjectReference": {
        "kind": (1, "str", True), "namespace": (2, "str", True), "name": (3, "str", True), "uid": (4, "str", True),
        "apiVersion": (5, "str", True), "resourceVersion": (6, "str", True), "fieldPath": (7, "str", True),
    },
    "LocalObjectReference": {"name": (1, "str", True)},
    "Role": {"rules": (2, ("rep", ("msg", "PolicyRule")), False)},
    "ClusterRole": {
        "rules": (2, ("rep", ("msg", "PolicyRule")), False),
        "aggregationRule": (3, ("?msg", "AggregationRule"), True),
    },
    "AggregationRule": {"clusterRoleSelectors": (1, ("rep", ("msg", "LabelSelector")), True)},
    "LabelSelector": {
        "matchLabels": (1, "map", True),
        "matchExpressions": (2, ("rep", ("msg", "LabelSelectorRequirement")), True),
    },
    "LabelSelectorRequirement": {"key": (1, "str", False), "operator": (2, "str", False),
                                 "values": (3, ("rep", "str"), True)},
    "PolicyRule": {
        "verbs": (1, ("rep", "str"), False), "apiGroups": (2, ("rep", "str"), True),
        "resources": (3, ("rep", "str"), True), "resourceNames": (4, ("rep", "str"), True),
        "nonResourceURLs": (5, ("rep", "str"), True),
    },
    "RoleBinding": {"subjects": (2, ("rep", ("msg", "Subject")), True), "roleRef": (3, ("msg", "RoleRef"), False)},
    "ClusterRoleBinding": {"subjects": (2, ("rep", ("msg", "Subject")), True),
                           "roleRef": (3, ("msg", "RoleRef"), False)},
    "Subject": {"kind": (1, "str", False), "apiGroup": (2, "str", True), "name": (3, "str", False),
                "namespace": (4, "str", True)},
    "RoleRef": {"apiGroup": (1, "str", False), "kind": (2, "str", False), "name": (3, "str", False)},
    # networking/v1
    "Ingress": {"spec": (2, ("msg", "IngressSpec"), True), "status": (3, ("msg", "IngressStatus"), True)},
    "IngressSpec": {
        "ingressClassName": (4, "?str", True),
        "defaultBackend": (1, ("?msg", "IngressBackend"), True),
        "tls": (2, ("rep", ("msg", "IngressTLS")), True),
        "rules": (3, ("rep", ("msg", "IngressRule")), True),
    },
    "IngressBackend": {
        "service": (4, ("?msg", "IngressServiceBackend"), True),
        "resource": (3, ("?msg", "TypedLocalObjectReference"), True),
    },
    "TypedLocalObjectReference": {"apiGroup": (1, "?str", False), "kind": (2, "str", False), "name": (3, "str", False)},
    "IngressServiceBackend": {"name": (1, "str", False), "port": (2, ("msg", "ServiceBackendPort"), True)},
    "ServiceBackendPort": {"name": (1, "str", True), "number": (2, "int32", True)},
    "IngressTLS": {"hosts": (1, ("rep", "str"), True), "secretName": (2, "str", True)},
    "IngressRule": {"host": (1, "str", True), "": (2, ("inline", "IngressRuleValue"), True)},
    "IngressRuleValue": {"http": (1, ("?msg", "HTTPIngressRuleValue"), True)},
    "HTTPIngressRuleValue": {"paths": (1, ("rep", ("msg", "HTTPIngressPath")), False)},
    "HTTPIngressPath": {"path": (1, "str", True), "pathType": (3, "?str", False),
                        "backend": (2, ("msg", "IngressBackend"), False)},
    "IngressStatus": {"loadBalancer": (1, ("msg", "IngressLoadBalancerStatus"), True)},
    "IngressLoadBalancerStatus": {"ingress": (1, ("rep", ("msg", "IngressLoadBalancerIngress")), True)},
    "IngressLoadBalancerIngress": {"ip": (1, "str", True), "hostname": (2, "str", True),
                                   "ports": (4, ("rep", ("msg", "IngressPortStatus")), True)},
    "IngressPortStatus": {"port": (1, "int32", False), "protocol": (2, "str", False), "error": (3, "?str", True)},
    "IngressClass": {"spec": (2, ("msg", "IngressClassSpec"), True)},
    "IngressClassSpec": {"controller": (1, "str", True),
                         "parameters": (2, ("?msg", "IngressClassParametersReference"), True)},
    "IngressClassParametersReference": {
        "apiGroup": (1, "?str", True), "kind": (2, "str", False), "name": (3, "str", False),
        "scope": (4, "?str", True), "namespace": (5, "?str", True),
    },
    "NetworkPolicy": {"spec": (2, ("msg", "NetworkPolicySpec"), True)},
    "NetworkPolicySpec": {
        "podSelector": (1, ("msg", "LabelSelector"), True),
        "ingress": (2, ("rep", ("msg", "NetworkPolicyIngressRule")), True),
        "egress": (3, ("rep", ("msg", "NetworkPolicyEgressRule")), True),
        "policyTypes": (4, ("rep", "str"), True),
    },
    "NetworkPolicyIngressRule": {"ports": (1, ("rep", ("msg", "NetworkPolicyPort")), True),
                                 "from": (2, ("rep", ("msg", "NetworkPolicyPeer")), True)},
    "NetworkPolicyEgressRule": {"ports": (1, ("rep", ("msg", "NetworkPolicyPort")), True),
                                "to": (2, ("rep", ("msg", "NetworkPolicyPeer")), True)},
    "NetworkPolicyPort": {"protocol": (1, "?str", True), "port": (2, "?intstr", True), "endPort": (3, "?int32", True)},
    "NetworkPolicyPeer": {
        "podSelector": (1, ("?msg", "LabelSelector"), True),
        "namespaceSelector": (2, ("?msg", "LabelSelector"), True),
        "ipBlock": (3, ("?msg", "IPBlock"), True),
    },
    "IPBlock": {"cidr": (1, "str", False), "except": (2, ("rep", "str"), True)},
    # core/v1 PersistentVolumeClaim, LimitRange, ResourceQuota (quantities as written)
    "PersistentVolumeClaim": {"spec": (2, ("msg", "PersistentVolumeClaimSpec"), True),
                              "status": (3, ("msg", "PersistentVolumeClaimStatus"), True)},
    "PersistentVolumeClaimSpec": {
        "accessModes": (1, ("rep", "str"), True), "selector": (4, ("?msg", "LabelSelector"), True),
        "resources": (2, ("msg", "VolumeResourceRequirements"), True), "volumeName": (3, "str", True),
        "storageClassName": (5, "?str", True), "volumeMode": (6, "?str", True),
        "dataSource": (7, ("?msg", "TypedLocalObjectReference"), True),
        "dataSourceRef": (8, ("?msg", "TypedObjectReference"), True),
        "volumeAttributesClassName": (9, "?str", True),
    },
    "VolumeResourceRequirements": {"limits": (1, "qmap", True), "requests": (2, "qmap", True)},
    "TypedObjectReference": {"apiGroup": (1, "?str", False), "kind": (2, "str", False), "name": (3, "str", False),
                             "namespace": (4, "?str", True)},
    "PersistentVolumeClaimStatus": {"phase": (1, "str", True), "accessModes": (2, ("rep", "str"), True),
                                    "capacity": (3, "qmap", True)},
    "LimitRange": {"spec": (2, ("msg", "LimitRangeSpec"), True)},
    "LimitRangeSpec": {"limits": (1, ("rep", ("msg", "LimitRangeItem")), False)},
    "LimitRangeItem": {
        "type": (1, "str", False), "max": (2, "qmap", True), "min": (3, "qmap", True), "default": (4, "qmap", True),
        "defaultRequest": (5, "qmap", True), "maxLimitRequestRatio": (6, "qmap", True),
    },
    "ResourceQuota": {"spec": (2, ("msg", "ResourceQuotaSpec"), True), "status": (3, ("msg", "ResourceQuotaStatus"), True)},
    "ResourceQuotaSpec": {"hard": (1, "qmap", True), "scopes": (2, ("rep", "str"), True),
                          "scopeSelector": (3, ("?msg", "ScopeSelector"), True)},
    "ScopeSelector": {"matchExpressions": (1, ("rep", ("msg", "ScopedResourceSelectorRequirement")), True)},
    "ScopedResourceSelectorRequirement": {"scopeName": (1, "str", False), "operator": (2, "str", False),
                                          "values": (3, ("rep", "str"), True)},
    "ResourceQuotaStatus": {"hard": (1, "qmap", True), "used": (2, "qmap", True)},
    # autoscaling/v2 (behavior not described: an HPA with one is estimated)
    "HorizontalPodAutoscaler": {"spec": (2, ("msg", "HorizontalPodAutoscalerSpec"), True),
                                "status": (3, ("msg", "HorizontalPodAutoscalerStatus"), True)},
    "HorizontalPodAutoscalerSpec": {
        "scaleTargetRef": (1, ("msg", "CrossVersionObjectReference"), False), "minReplicas": (2, "?int32", True),
        "maxReplicas": (3, "int32", False), "metrics": (4, ("rep", ("msg", "MetricSpec")), True),
    },
    "CrossVersionObjectReference": {"kind": (1, "str", False), "name": (2, "str", False),
                                    "apiVersion": (3, "str", True)},
    "MetricSpec": {
        "type": (1, "str", False), "object": (2, ("?msg", "ObjectMetricSource"), True),
        "pods": (3, ("?msg", "PodsMetricSource"), True), "resource": (4, ("?msg", "ResourceMetricSource"), True),
        "containerResource": (7, ("?msg", "ContainerResourceMetricSource"), True),
        "external": (5, ("?msg", "ExternalMetricSource"), True),
    },
    "ObjectMetricSource": {"describedObject": (1, ("msg", "CrossVersionObjectReference"), False),
                           "target": (2, ("msg", "MetricTarget"), False), "metric": (3, ("msg", "MetricIdentifier"), False)},
    "PodsMetricSource": {"metric": (1, ("msg", "MetricIdentifier"), False), "target": (2, ("msg", "MetricTarget"), False)},
    "ResourceMetricSource": {"name": (1, "str", False), "target": (2, ("msg", "MetricTarget"), False)},
    "ContainerResourceMetricSource": {"name": (1, "str", False), "target": (2, ("msg", "MetricTarget"), False),
                                      "container": (3, "str", False)},
    "ExternalMetricSource": {"metric": (1, ("msg", "MetricIdentifier"), False),
                             "target": (2, ("msg", "MetricTarget"), False)},
    "MetricIdentifier": {"name": (1, "str", False), "selector": (2, ("?msg", "LabelSelector"), True)},
    "MetricTarget": {"type": (1, "str", False), "value": (2, "?quantity", True), "averageValue": (3, "?quantity", True),
                     "averageUtilization": (4, "?int32", True)},
    "HorizontalPodAutoscalerStatus": {"currentReplicas": (3, "int32", True), "desiredReplicas": (4, "int32", False)},
    # policy/v1
    "PodDisruptionBudget": {"spec": (2, ("msg", "PodDisruptionBudgetSpec"), True),
                            "status": (3, ("msg", "PodDisruptionBudgetStatus"), True)},
    "PodDisruptionBudgetSpec": {
        "minAvailable": (1, "?intstr", True), "selector": (2, ("?msg", "LabelSelector"), True),
        "maxUnavailable": (3, "?intstr", True), "unhealthyPodEvictionPolicy": (4, "?str", True),
    },
    "PodDisruptionBudgetStatus": {
        "observedGeneration": (1, "int64", True), "disruptionsAllowed": (3, "int32", False),
        "currentHealthy": (4, "int32", False), "desiredHealthy": (5, "int32", False),
        "expectedPods": (6, "int32", False),
    },
}


class _Unknown(Exception):
    """A field or value the schema does not describe: the size is estimated instead."""


def _is_empty(v: Any) -> bool:
    return v is None or v == "" or v == [] or v == {} or v is False or v == 0


def _keys(msg: str) -> set[str]:
    """The JSON keys of ``msg``, those of its inlined structs included."""
    out = set()
    for key, (_, typ, _) in SCHEMAS[msg].items():
        if isinstance(typ, tuple) and typ[0] == "inline":
            out |= _keys(typ[1])
        else:
            out.add(key)
    return out


def _normalise(msg: str, value: Any) -> dict[str, Any]:
    """The JSON Go would serve for ``value`` read into the struct ``msg``: struct order,
    ``omitempty`` (never for a value struct), ``null`` for a list without it."""
    if not isinstance(value, Mapping):
        raise _Unknown(msg)
    known = _keys(msg)
    for k in value:
        if k not in known:
            raise _Unknown(f"{msg}.{k}")
    out: dict[str, Any] = {}
    for key, (_, typ, omitempty) in SCHEMAS[msg].items():
        v = value.get(key)
        kind = typ[0] if isinstance(typ, tuple) else typ
        if kind == "inline":
            out.update(_normalise(typ[1], {k: x for k, x in value.items() if k in _keys(typ[1])}))
        elif kind == "rep":
            if v is None or v == []:
                if not omitempty:
                    out[key] = None
                continue
            if not isinstance(v, list):
                raise _Unknown(key)
            elem = typ[1]
            out[key] = [_normalise(elem[1], x) if isinstance(elem, tuple) else _scalar(elem, x) for x in v]
        elif kind == "msg":  # a value struct: encoding/json always writes it
            out[key] = _normalise(typ[1], {} if v is None else v)
        elif kind == "?msg":
            if v is not None:
                out[key] = _normalise(typ[1], v)
        elif kind in ("map", "bytesmap"):
            if not v:
                continue
            if not isinstance(v, Mapping) or not all(isinstance(x, str) for x in v.values()):
                raise _Unknown(key)
            out[key] = dict(v)
        elif kind == "qmap":  # map[string]resource.Quantity: a number is served as a string
            if not v:
                continue
            if not isinstance(v, Mapping) or not all(
                isinstance(x, (str, int)) and not isinstance(x, bool) for x in v.values()
            ):
                raise _Unknown(key)
            out[key] = {k: str(x) for k, x in v.items()}
        elif kind.startswith("?"):  # a pointer: written when set, even to its zero value
            if v is not None:
                out[key] = _scalar(kind, v)
            elif not omitempty:
                out[key] = None
        else:
            if v is None or (omitempty and _is_empty(v)):
                if not omitempty:
                    out[key] = _scalar(kind, "" if kind == "str" else 0)
                continue
            out[key] = _scalar(kind, v)
    return out


def _scalar(typ: str, v: Any) -> Any:
    if typ in ("str", "?str"):
        if not isinstance(v, str):
            raise _Unknown(typ)
        return v
    if typ == "?bool":
        if not isinstance(v, bool):
            raise _Unknown(typ)
        return v
    if typ in ("int32", "?int32", "int64"):
        if not isinstance(v, int) or isinstance(v, bool):
            raise _Unknown(typ)
        return v
    if typ == "?intstr":
        if isinstance(v, bool) or not isinstance(v, (int, str)):
            raise _Unknown(typ)
        return v
    if typ == "?quantity":  # resource.Quantity: served as a string
        if isinstance(v, bool) or not isinstance(v, (int, str)):
            raise _Unknown(typ)
        return str(v)
    raise _Unknown(typ)


# --------------------------------------------------------------------------------------------
# protobuf from the schema


def _varint_len(n: int) -> int:
    if n < 0:
        return 10
    size = 1
    while n >= 0x80:
        n >>= 7
        size += 1
    return size


def _tag_len(num: int) -> int:
    return _varint_len(num << 3)


def _ld(num: int, body: int) -> int:
    """The size of a length-delimited field: tag, length, body."""
    return _tag_len(num) + _varint_len(body) + body


def _blen(s: str) -> int:
    return len(s.encode("utf-8", "surrogatepass"))


def _msg_bytes(msg: str, value: Mapping[str, Any]) -> bytes:
    """The protobuf message ``msg`` for the normalised JSON ``value`` (fields in number order)."""
    schema = SCHEMAS[msg]
    parts: list[tuple[int, bytes]] = []
    for key, (num, typ, _) in schema.items():
        v = value.get(key)
        out = b""
        if isinstance(typ, tuple) and typ[0] == "inline":  # an embedded value struct
            out = _msg(num, _msg_bytes(typ[1], value))
        elif isinstance(typ, tuple) and typ[0] == "rep":
            elem = typ[1]
            if isinstance(elem, tuple):
                out = b"".join(_msg(num, _msg_bytes(elem[1], x)) for x in v or ())
            else:
                out = b"".join(_str(num, x) for x in v or ())
        elif isinstance(typ, tuple) and typ[0] in ("msg", "?msg"):
            if v is not None:
                out = _msg(num, _msg_bytes(typ[1], v))
            elif typ[0] == "msg":
                out = _msg(num, _msg_bytes(typ[1], {}))
        elif typ == "map":
            m = v or {}
            out = b"".join(_msg(num, _str(1, k) + _str(2, m[k])) for k in sorted(m))
        elif typ == "qmap":  # entry {key 1, value 2: Quantity{string 1}}
            m = v or {}
            out = b"".join(_msg(num, _str(1, k) + _msg(2, _str(1, str(m[k])))) for k in sorted(m))
        elif typ == "bytesmap":
            m = v or {}
            out = b"".join(_msg(num, _str(1, k) + _len_field(2, _b64(m[k]))) for k in sorted(m))
        elif typ == "?bool":
            out = b"" if v is None else _bool(num, bool(v))
        elif typ == "?str":
            out = b"" if v is None else _str(num, v)
        elif typ == "str":
            out = _str(num, v or "")
        elif typ in ("int32", "int64"):
            out = _int(num, int(v or 0))
        elif typ == "?int32":
            out = b"" if v is None else _int(num, int(v))
        elif typ == "?quantity":
            out = b"" if v is None else _msg(num, _str(1, str(v)))
        elif typ == "?intstr" and v is not None:  # IntOrString {type 1, intVal 2, strVal 3}, all written
            body = _int(1, 1) + _int(2, 0) + _str(3, v) if isinstance(v, str) else _int(1, 0) + _int(2, v) + _str(3, "")
            out = _msg(num, body)
        parts.append((num, out))
    return b"".join(b for _, b in sorted(parts, key=lambda p: p[0]))


def _b64(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _Unknown("base64") from None


def estimate_proto(value: Any, num: int = 1) -> int:
    """An estimate of the protobuf size of a field ``num`` holding the JSON ``value`` without
    its schema: strings and numbers as one tagged field, booleans as two bytes, objects and
    list entries as length-delimited messages of their fields (numbered from 1 in order), map
    entries of strings as key/value messages. ``O(size)``."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return _tag_len(num) + 1
    if isinstance(value, int):
        return _tag_len(num) + _varint_len(value)
    if isinstance(value, float):
        return _tag_len(num) + 8
    if isinstance(value, str):
        return _ld(num, _blen(value))
    if isinstance(value, list):
        return sum(estimate_proto(x, num) for x in value)
    if isinstance(value, Mapping):
        if value and all(isinstance(x, str) for x in value.values()) and not any(isinstance(k, int) for k in value):
            body = 0
            for i, x in enumerate(value.values(), 1):
                body += _ld(i, _blen(x))
            return _ld(num, body)
        return _ld(num, sum(estimate_proto(x, i) for i, x in enumerate(value.values(), 1)))
    return _ld(num, _blen(str(value)))


# --------------------------------------------------------------------------------------------
# what the API server stores


def default(obj: InertObject) -> InertObject:
    """The registries' defaults, and for a schema'd kind the body as the typed struct holds it
    (see the module docstring). ``O(size)``."""
    body = content(obj)
    changed = False
    if obj.kind == "Secret":
        if not body.get("type"):
            body["type"] = "Opaque"
            changed = True
        string_data = body.pop("stringData", None)
        if string_data is not None:
            changed = True
            if isinstance(string_data, Mapping):
                data = dict(body.get("data") or {})
                for k, v in string_data.items():
                    if isinstance(v, str):
                        data[k] = base64.b64encode(v.encode("utf-8")).decode("ascii")
                body["data"] = data
    elif obj.kind == "NetworkPolicy":
        spec = body.get("spec")
        if isinstance(spec, dict):
            # SetDefaults_NetworkPolicy: policyTypes from the rules; ports' protocol TCP
            if not spec.get("policyTypes"):
                spec["policyTypes"] = ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]
                changed = True
            for rules in (spec.get("ingress") or [], spec.get("egress") or []):
                for rule in rules if isinstance(rules, list) else ():
                    for port in (rule.get("ports") or []) if isinstance(rule, dict) else ():
                        if isinstance(port, dict) and port.get("protocol") is None:
                            port["protocol"] = "TCP"
                            changed = True
    elif obj.kind == "PersistentVolumeClaim":
        spec = body.get("spec")
        if isinstance(spec, dict) and spec.get("volumeMode") is None:
            spec["volumeMode"] = "Filesystem"  # SetDefaults_PersistentVolumeClaimSpec
            changed = True
    elif obj.kind == "HorizontalPodAutoscaler":
        spec = body.get("spec")
        if isinstance(spec, dict):
            # SetDefaults_HorizontalPodAutoscaler: minReplicas 1, a CPU utilization metric of 80 %
            if spec.get("minReplicas") is None:
                spec["minReplicas"] = 1
                changed = True
            if not spec.get("metrics"):
                spec["metrics"] = [{"type": "Resource", "resource": {
                    "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]
                changed = True
    elif obj.kind == "IngressClass":
        params = (body.get("spec") or {}).get("parameters") if isinstance(body.get("spec"), dict) else None
        if isinstance(params, dict) and params.get("scope") is None:
            params["scope"] = "Cluster"  # SetDefaults_IngressClass
            changed = True
    elif obj.kind in ("RoleBinding", "ClusterRoleBinding"):
        subjects = body.get("subjects")
        if isinstance(subjects, list):
            for s in subjects:
                if isinstance(s, dict) and not s.get("apiGroup") and s.get("kind") in ("User", "Group"):
                    s["apiGroup"] = "rbac.authorization.k8s.io"
                    changed = True
    if obj.kind in SCHEMAS:
        # decoded into the typed struct: empty omitempty fields gone, struct order (what a
        # storage round trip gives back)
        try:
            normal = _normalise(obj.kind, body)
        except _Unknown:
            normal = None
        if normal is not None and normal != body:
            body, changed = normal, True
    return attrs.evolve(obj, content=_text(body)) if changed else obj


def with_status_of(obj: InertObject, old: InertObject | None) -> InertObject:
    """The status the registry stores: the zero status on create (or none for kinds without
    one), the stored one on update (status is a subresource). ``O(size)``."""
    body = content(obj)
    if obj.kind in _ZERO_STATUS:
        status = _ZERO_STATUS[obj.kind] if old is None else content(old).get("status", _ZERO_STATUS[obj.kind])
        if body.get("status") == status:
            return obj
        body["status"] = status
    elif "status" in body:
        del body["status"]
    else:
        return obj
    return attrs.evolve(obj, content=_text(body))


def to_manifest_body(obj: InertObject) -> dict[str, Any]:
    """The fields after ``metadata`` as the API server serves them: normalised by the schema
    when the kind has one and every field is known, else as stored. ``O(size)``."""
    body = content(obj)
    if obj.kind == "Event":  # kubesim.events: Go struct order
        from kubesim.wire.events import event_json_body

        served = event_json_body(body)
        return body if served is None else served
    if obj.kind in SCHEMAS:
        try:
            return _normalise(obj.kind, body)
        except _Unknown:
            pass
    return body


def exact_sizes(obj: InertObject) -> bool:
    """Whether :func:`content_proto` is the exact encoding for ``obj`` (a schema'd kind, every
    field known) rather than an estimate. ``O(size)``."""
    return _exact_bytes(obj) is not None


def _exact_bytes(obj: InertObject) -> bytes | None:
    if obj.kind == "Event":  # kubesim.events: its own encoder, times included
        from kubesim.wire.events import event_content_proto

        return event_content_proto(content(obj))
    if obj.kind not in SCHEMAS:
        return None
    try:
        return _msg_bytes(obj.kind, _normalise(obj.kind, content(obj)))
    except _Unknown:
        return None


def content_proto(obj: InertObject) -> bytes:
    """The protobuf fields after ``metadata`` (field 1): the exact encoding when
    :func:`exact_sizes`, else a filler of :func:`estimate_proto`'s length for each top-level
    field (so ``len()`` is the estimate; the bytes are not a real encoding). ``O(size)``."""
    exact = _exact_bytes(obj)
    if exact is not None:
        return exact
    n = sum(estimate_proto(v, i) for i, v in enumerate(content(obj).values(), 2))
    return b"\x00" * n
