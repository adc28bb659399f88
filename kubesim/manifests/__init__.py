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
"""

from __future__ import annotations

import datetime
import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs
import yaml  # type: ignore[import-untyped,unused-ignore]

from kubesim import objects as o
from kubesim.errors import ManifestError
from kubesim.kinds import KIND_INFO

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

# ----------------------------------------------------------------------------------------------
# Schema: for every class, its OpenAPI definition name and its fields in Go struct order.
#
# A field is (json name, attribute name, type, omitempty[, struct class or const value]).
# Types:
#   str int32 int64 bool          Go value types (zero "", 0, False)
#   ?str ?int32 ?int64 ?bool      Go pointers (None = nil)
#   time  ?time                   metav1.Time value (zero -> null) / *metav1.Time
#   intstr ?intstr                intstr.IntOrString value (always written) / pointer
#   map ?map qmap                 map[string]string; nil-able selector map; ResourceList
#   [str] [cls]                   lists of strings / of structs
#   struct ?struct                value struct (always written) / pointer struct
#   raw                           *FieldsV1 (raw JSON text)
#   const                         not modelled, written as a constant, read and dropped
#   hostport                      ContainerPort.hostPort: int32 omitempty held as int | None

_META = "io.k8s.apimachinery.pkg.apis.meta.v1."
_CORE = "io.k8s.api.core.v1."
_DISC = "io.k8s.api.discovery.v1."
_APPS = "io.k8s.api.apps.v1."

_Field = tuple[Any, ...]  # (json, attr, type, omitempty[, extra])

_SCHEMA: dict[type, tuple[str, list[_Field], str]] = {}


def _schema(cls: type, openapi: str, fields: list[_Field], ignored: str = "") -> None:
    _SCHEMA[cls] = (openapi, fields, ignored)


_schema(o.OwnerReference, _META + "OwnerReference", [
    ("apiVersion", "api_version", "str", False),
    ("kind", "kind", "str", False),
    ("name", "name", "str", False),
    ("uid", "uid", "str", False),
    ("controller", "controller", "?bool", True),
    ("blockOwnerDeletion", "block_owner_deletion", "?bool", True),
])
_schema(o.ManagedFieldsEntry, _META + "ManagedFieldsEntry", [
    ("manager", "manager", "str", True),
    ("operation", "operation", "str", True),
    ("apiVersion", "api_version", "str", True),
    ("time", "time", "?time", True),
    ("fieldsType", "fields_type", "str", True),
    ("fieldsV1", "fields_v1", "raw", True),
    ("subresource", "subresource", "str", True),
])
_schema(o.ObjectMeta, _META + "ObjectMeta", [
    ("name", "name", "str", True),
    ("generateName", "generate_name", "str", True),
    ("namespace", "namespace", "str", True),
    ("selfLink", "self_link", "str", True),
    ("uid", "uid", "str", True),
    ("resourceVersion", "resource_version", "str", True),
    ("generation", "generation", "int64", True),
    ("creationTimestamp", "creation_timestamp", "time", True, "omitzero"),
    ("deletionTimestamp", "deletion_timestamp", "?time", True),
    ("deletionGracePeriodSeconds", "deletion_grace_period_seconds", "?int64", True),
    ("labels", "labels", "map", True),
    ("annotations", "annotations", "map", True),
    ("ownerReferences", "owner_references", ["cls", o.OwnerReference], True),
    ("finalizers", "finalizers", ["str"], True),
    ("managedFields", "managed_fields", ["cls", o.ManagedFieldsEntry], True),
])
_schema(o.LabelSelectorRequirement, _META + "LabelSelectorRequirement", [
    ("key", "key", "str", False),
    ("operator", "operator", "str", False),
    ("values", "values", ["str"], True),
])
_schema(o.LabelSelector, _META + "LabelSelector", [
    ("matchLabels", "match_labels", "map", True),
    ("matchExpressions", "match_expressions", ["cls", o.LabelSelectorRequirement], True),
])
_schema(o.ObjectReference, _CORE + "ObjectReference", [
    ("kind", "kind", "str", True),
    ("namespace", "namespace", "str", True),
    ("name", "name", "str", True),
    ("uid", "uid", "str", True),
    ("apiVersion", "api_version", "str", True),
    ("resourceVersion", "resource_version", "str", True),
    ("fieldPath", "field_path", "str", True),
])
_schema(o.ContainerPort, _CORE + "ContainerPort", [
    ("name", "name", "str", True),
    ("hostPort", "host_port", "hostport", True),
    ("containerPort", "container_port", "int32", False),
    ("protocol", "protocol", "str", True),
    ("hostIP", "host_ip", "str", True),
])
_schema(o.HTTPGetAction, _CORE + "HTTPGetAction", [
    ("path", "path", "str", True),
    ("port", "port", "intstr", False),
    ("host", "host", "str", True),
    ("scheme", "scheme", "str", True),
], ignored="httpHeaders protocol")
_schema(o.TCPSocketAction, _CORE + "TCPSocketAction", [
    ("port", "port", "intstr", False),
    ("host", "host", "str", True),
])
_schema(o.ExecAction, _CORE + "ExecAction", [
    ("command", "command", ["str"], True),
])
_schema(o.Probe, _CORE + "Probe", [
    ("exec", "exec", "?struct", True, o.ExecAction),
    ("httpGet", "http_get", "?struct", True, o.HTTPGetAction),
    ("tcpSocket", "tcp_socket", "?struct", True, o.TCPSocketAction),
    ("initialDelaySeconds", "initial_delay_seconds", "int32", True),
    ("timeoutSeconds", "timeout_seconds", "int32", True),
    ("periodSeconds", "period_seconds", "int32", True),
    ("successThreshold", "success_threshold", "int32", True),
    ("failureThreshold", "failure_threshold", "int32", True),
], ignored="grpc terminationGracePeriodSeconds")
_schema(o.ResourceRequirements, _CORE + "ResourceRequirements", [
    ("limits", "limits", "qmap", True),
    ("requests", "requests", "qmap", True),
], ignored="claims")
_schema(o.Container, _CORE + "Container", [
    ("name", "name", "str", False),
    ("image", "image", "str", True),
    ("ports", "ports", ["cls", o.ContainerPort], True),
    ("resources", "resources", "struct", True, o.ResourceRequirements),
    ("restartPolicy", "restart_policy", "?str", True),
    ("livenessProbe", "liveness_probe", "?struct", True, o.Probe),
    ("readinessProbe", "readiness_probe", "?struct", True, o.Probe),
], ignored="command args workingDir envFrom env resizePolicy restartPolicyRules volumeMounts "
   "volumeDevices startupProbe lifecycle terminationMessagePath terminationMessagePolicy "
   "imagePullPolicy securityContext stdin stdinOnce tty")
_schema(o.PodSpec, _CORE + "PodSpec", [
    ("initContainers", "init_containers", ["cls", o.Container], True),
    ("containers", "containers", ["cls", o.Container], False),
    ("restartPolicy", "restart_policy", "str", True),
    ("terminationGracePeriodSeconds", "termination_grace_period_seconds", "?int64", True),
    ("nodeSelector", "node_selector", "map", True),
    ("nodeName", "node_name", "str", True),
    ("hostname", "hostname", "str", True),
    ("subdomain", "subdomain", "str", True),
    ("schedulerName", "scheduler_name", "str", True),
], ignored="volumes ephemeralContainers activeDeadlineSeconds dnsPolicy serviceAccountName "
   "serviceAccount automountServiceAccountToken hostNetwork hostPID hostIPC "
   "shareProcessNamespace securityContext imagePullSecrets affinity tolerations hostAliases "
   "priorityClassName priority dnsConfig readinessGates runtimeClassName enableServiceLinks "
   "preemptionPolicy overhead topologySpreadConstraints setHostnameAsFQDN os hostUsers "
   "schedulingGates resourceClaims resources hostnameOverride schedulingGroup "
   "evictionResponders")
_schema(o.PodCondition, _CORE + "PodCondition", [
    ("type", "type", "str", False),
    ("status", "status", "str", False),
    ("lastProbeTime", "last_probe_time", "time", True),
    ("lastTransitionTime", "last_transition_time", "time", True),
    ("reason", "reason", "str", True),
    ("message", "message", "str", True),
], ignored="observedGeneration")
_schema(o.PodIP, _CORE + "PodIP", [("ip", "ip", "str", False)])
_schema(o.PodStatus, _CORE + "PodStatus", [
    ("phase", "phase", "str", True),
    ("conditions", "conditions", ["cls", o.PodCondition], True),
    ("message", "message", "str", True),
    ("reason", "reason", "str", True),
    ("hostIP", "host_ip", "str", True),
    ("podIP", "pod_ip", "str", True),
    ("podIPs", "pod_ips", ["cls", o.PodIP], True),
    ("startTime", "start_time", "?time", True),
], ignored="observedGeneration nominatedNodeName hostIPs initContainerStatuses "
   "containerStatuses qosClass ephemeralContainerStatuses resize resourceClaimStatuses "
   "extendedResourceClaimStatus allocatedResources resources "
   "nodeAllocatableResourceClaimStatuses volumeHealth")
_schema(o.PodTemplateSpec, _CORE + "PodTemplateSpec", [
    ("metadata", "metadata", "struct", True, o.ObjectMeta),
    ("spec", "spec", "struct", True, o.PodSpec),
])
_schema(o.Pod, _CORE + "Pod", [
    ("metadata", "metadata", "struct", True, o.ObjectMeta),
    ("spec", "spec", "struct", True, o.PodSpec),
    ("status", "status", "struct", True, o.PodStatus),
])
_schema(o.ServicePort, _CORE + "ServicePort", [
    ("name", "name", "str", True),
    ("protocol", "protocol", "str", True),
    ("appProtocol", "app_protocol", "?str", True),
    ("port", "port", "int32", False),
    ("targetPort", "target_port", "intstr", True),
    ("nodePort", "node_port", "int32", True),
])
_schema(o.ServiceSpec, _CORE + "ServiceSpec", [
    ("ports", "ports", ["cls", o.ServicePort], True),
    ("selector", "selector", "?map", True),
    ("clusterIP", "cluster_ip", "str", True),
    ("clusterIPs", "cluster_ips", ["str"], True),
    ("type", "type", "str", True),
    ("sessionAffinity", "session_affinity", "str", True),
    ("externalName", "external_name", "str", True),
    ("externalTrafficPolicy", "external_traffic_policy", "str", True),
    ("publishNotReadyAddresses", "publish_not_ready_addresses", "bool", True),
    ("ipFamilies", "ip_families", ["str"], True),
    ("ipFamilyPolicy", "ip_family_policy", "?str", True),
    ("internalTrafficPolicy", "internal_traffic_policy", "?str", True),
    ("trafficDistribution", "traffic_distribution", "?str", True),
], ignored="externalIPs loadBalancerIP loadBalancerSourceRanges healthCheckNodePort "
   "sessionAffinityConfig allocateLoadBalancerNodePorts loadBalancerClass")
_schema(o.Service, _CORE + "Service", [
    ("metadata", "metadata", "struct", True, o.ObjectMeta),
    ("spec", "spec", "struct", True, o.ServiceSpec),
    ("status", None, "const", True, {"loadBalancer": {}}),
])
_schema(o.Taint, _CORE + "Taint", [
    ("key", "key", "str", False),
    ("value", "value", "str", True),
    ("effect", "effect", "str", False),
    ("timeAdded", "time_added", "?time", True),
])
_schema(o.NodeSpec, _CORE + "NodeSpec", [
    ("podCIDR", "pod_cidr", "str", True),
    ("podCIDRs", "pod_cidrs", ["str"], True),
    ("unschedulable", "unschedulable", "bool", True),
    ("taints", "taints", ["cls", o.Taint], True),
], ignored="providerID configSource externalID podPreemptionPolicy")
_schema(o.NodeCondition, _CORE + "NodeCondition", [
    ("type", "type", "str", False),
    ("status", "status", "str", False),
    ("lastHeartbeatTime", "last_heartbeat_time", "time", True),
    ("lastTransitionTime", "last_transition_time", "time", True),
    ("reason", "reason", "str", True),
    ("message", "message", "str", True),
])
_schema(o.NodeAddress, _CORE + "NodeAddress", [
    ("type", "type", "str", False),
    ("address", "address", "str", False),
])
_NODE_INFO_KEYS = ["machineID", "systemUUID", "bootID", "kernelVersion", "osImage", "containerRuntimeVersion", "kubeletVersion", "kubeProxyVersion", "operatingSystem", "architecture"]
_schema(o.NodeStatus, _CORE + "NodeStatus", [
    ("capacity", "capacity", "qmap", True),
    ("allocatable", "allocatable", "qmap", True),
    ("conditions", "conditions", ["cls", o.NodeCondition], True),
    ("addresses", "addresses", ["cls", o.NodeAddress], True),
    ("daemonEndpoints", None, "const", True, {"kubeletEndpoint": {"Port": 0}}),
    ("nodeInfo", None, "const", True, {k: "" for k in _NODE_INFO_KEYS}),
], ignored="phase images volumesInUse volumesAttached config runtimeHandlers features "
   "declaredFeatures")
_schema(o.Node, _CORE + "Node", [
    ("metadata", "metadata", "struct", True, o.ObjectMeta),
    ("spec", "spec", "struct", True, o.NodeSpec),
    ("status", "status", "struct", True, o.NodeStatus),
])
_schema(o.Namespace, _CORE + "Namespace", [
    ("metadata", "metadata", "struct", True, o.ObjectMeta),
    ("spec", None, "const", True, {}),
    ("status", None, "const", True, {}),
])
_schema(o.EndpointAddress, _CORE + "EndpointAddress", [
    ("ip", "ip", "str", False),
    ("hostname", "hostname", "str", True),
    ("nodeName", "node_name", "?str", True),
    ("targetRef", "target_ref", "?struct", True, o.ObjectReference),
])
_schema(o.EndpointPort, _CORE + "EndpointPort", [
    ("name", "name", "str", True),
    ("port", "port", "int32", False),
    ("protocol", "protocol", "str", True),
    ("appProtocol", "app_protocol", "?str", True),
])
_schema(o.EndpointSubset, _CORE + "EndpointSubset", [
    ("addresses", "addresses", ["cls", o.EndpointAddress], True),
    ("notReadyAddresses", "not_ready_addresses", ["cls", o.EndpointAddress], True),
    ("ports", "ports", ["cls", o.EndpointPort], True),
])
_schema(o.Endpoints, _CORE + "Endpoints", [
    ("metadata", "metadata", "struct", True, o.ObjectMeta),
    ("subsets", "subsets", ["cls", o.EndpointSubset], True),
])
_schema(o.EndpointConditions, _DISC + "EndpointConditions", [
    ("ready", "ready", "?bool", True),
    ("serving", "serving", "?bool", True),
    ("terminating", "terminating", "?bool", True),
])
_schema(o.ForZone, _DISC + "ForZone", [("name", "name", "str", False)])
_schema(o.ForNode, _DISC + "ForNode", [("name", "name", "str", False)])
_schema(o.EndpointHints, _DISC + "EndpointHints", [
    ("forZones", "for_zones", ["cls", o.ForZone], True),
    ("forNodes", "for_nodes", ["cls", o.ForNode], True),
])
_schema(o.Endpoint, _DISC + "Endpoint", [
    ("addresses", "addresses", ["str"], False),
    ("conditions", "conditions", "struct", True, o.EndpointConditions),
    ("hostname", "hostname", "?str", True),
    ("targetRef", "target_ref", "?struct", True, o.ObjectReference),
    ("deprecatedTopology", "deprecated_topology", "map", True),
    ("nodeName", "node_name", "?str", True),
    ("zone", "zone", "?str", True),
    ("hints", "hints", "?struct", True, o.EndpointHints),
])
_schema(o.EndpointSlicePort, _DISC + "EndpointPort", [
    ("name", "name", "?str", True),
    ("protocol", "protocol", "?str", True),
    ("port", "port", "?int32", True),
    ("appProtocol", "app_protocol", "?str", True),
])
_schema(o.EndpointSlice, _DISC + "EndpointSlice", [
    ("metadata", "metadata", "struct", True, o.ObjectMeta),
    ("addressType", "address_type", "str", False),
    ("endpoints", "endpoints", ["cls", o.Endpoint], False),
    ("ports", "ports", ["cls", o.EndpointSlicePort], False),
])
_schema(o.RollingUpdateDeployment, _APPS + "RollingUpdateDeployment", [
    ("maxUnavailable", "max_unavailable", "?intstr", True),
    ("maxSurge", "max_surge", "?intstr", True),
])
_schema(o.DeploymentStrategy, _APPS + "DeploymentStrategy", [
    ("type", "type", "str", True),
    ("rollingUpdate", "rolling_update", "?struct", True, o.RollingUpdateDeployment),
])
_schema(o.DeploymentSpec, _APPS + "DeploymentSpec", [
    ("replicas", "replicas", "?int32", True),
    ("selector", "selector", "?struct", False, o.LabelSelector),
    ("template", "template", "struct", False, o.PodTemplateSpec),
    ("strategy", "strategy", "struct", True, o.DeploymentStrategy),
    ("minReadySeconds", "min_ready_seconds", "int32", True),
    ("revisionHistoryLimit", "revision_history_limit", "?int32", True),
    ("paused", "paused", "bool", True),
    ("progressDeadlineSeconds", "progress_deadline_seconds", "?int32", True),
])
_schema(o.DeploymentStatus, _APPS + "DeploymentStatus", [
    ("observedGeneration", "observed_generation", "int64", True),
    ("replicas", "replicas", "int32", True),
    ("updatedReplicas", "updated_replicas", "int32", True),
    ("readyReplicas", "ready_replicas", "int32", True),
    ("availableReplicas", "available_replicas", "int32", True),
    ("unavailableReplicas", "unavailable_replicas", "int32", True),
], ignored="terminatingReplicas conditions collisionCount")
_schema(o.Deployment, _APPS + "Deployment", [
    ("metadata", "metadata", "struct", True, o.ObjectMeta),
    ("spec", "spec", "struct", True, o.DeploymentSpec),
    ("status", "status", "struct", True, o.DeploymentStatus),
])
_schema(o.ReplicaSetSpec, _APPS + "ReplicaSetSpec", [
    ("replicas", "replicas", "?int32", True),
    ("minReadySeconds", "min_ready_seconds", "int32", True),
    ("selector", "selector", "?struct", False, o.LabelSelector),
    ("template", "template", "struct", True, o.PodTemplateSpec),
])
_schema(o.ReplicaSetStatus, _APPS + "ReplicaSetStatus", [
    ("replicas", "replicas", "int32", False),
    ("fullyLabeledReplicas", "fully_labeled_replicas", "int32", True),
    ("readyReplicas", "ready_replicas", "int32", True),
    ("availableReplicas", "available_replicas", "int32", True),
    ("observedGeneration", "observed_generation", "int64", True),
], ignored="terminatingReplicas conditions")
_schema(o.ReplicaSet, _APPS + "ReplicaSet", [
    ("metadata", "metadata", "struct", True, o.ObjectMeta),
    ("spec", "spec", "struct", True, o.ReplicaSetSpec),
    ("status", "status", "struct", True, o.ReplicaSetStatus),
])

_TOP: dict[type, str] = {cls: cls.kind for cls in o.KINDS.values()}  # type: ignore[attr-defined]


def _check_schema() -> None:
    # Every attrs field of every class is covered exactly once (import-time self-check).
    for cls, (_, fields, _) in _SCHEMA.items():
        names = [f[1] for f in fields if f[1] is not None]
        expected = [a.name for a in attrs.fields(cls)]
        if sorted(names) != sorted(expected):  # pragma: no cover - a programming error
            raise AssertionError(f"schema of {cls.__name__} covers {names}, not {expected}")


_check_schema()

# ----------------------------------------------------------------------------------------------
# Time


def format_time(seconds: int) -> str:
    """RFC 3339 at second precision, as ``metav1.Time`` marshals: ``"2008-01-01T01:01:01Z"``.

    ``O(1)`` (cached).

    >>> format_time(1199149261)
    '2008-01-01T01:01:01Z'
    """
    return _format_time(seconds)


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


@functools.lru_cache(maxsize=4096)
def _format_time(seconds: int) -> str:
    t = _EPOCH + datetime.timedelta(seconds=seconds)
    return (f"{t.year:04d}-{t.month:02d}-{t.day:02d}T"
            f"{t.hour:02d}:{t.minute:02d}:{t.second:02d}Z")


_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})", re.ASCII
)


@functools.lru_cache(maxsize=4096)
def parse_time_nano(text: str) -> float:
    """Parse RFC 3339 with an optional fraction (``time.RFC3339Nano``, the format of the
    ``last-change-trigger-time`` annotation) to Unix seconds as a float. ``O(1)`` (cached).

    Raises :class:`ValueError` for anything else.

    >>> parse_time_nano("2018-01-01T00:00:00.25Z")
    1514764800.25
    """
    whole = parse_time(text)
    m = _RFC3339.fullmatch(text)
    assert m is not None
    fraction = m.group(7)
    return whole + (int(fraction) / 10 ** len(fraction) if fraction else 0.0)


def parse_time(text: str) -> int:
    """Parse RFC 3339 as Go's ``time.Parse(time.RFC3339, ...)`` does, to whole Unix seconds
    (fractions are dropped, as the API server drops them). ``O(1)``.

    Raises :class:`ValueError` for anything else.

    >>> parse_time("2008-01-01T02:01:01+01:00")
    1199149261
    """
    m = _RFC3339.fullmatch(text)
    if m is None:
        raise ValueError(f'parsing time "{text}" as "2006-01-02T15:04:05Z07:00": not RFC 3339')
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
    zone = m.group(8)
    if h > 23 or mi > 59 or s > 59:
        raise ValueError(f'parsing time "{text}": hour, minute or second out of range')
    offset = 0
    if zone != "Z":
        zh, zm = int(zone[1:3]), int(zone[4:6])
        if zh > 23 or zm > 59:
            raise ValueError(f'parsing time "{text}": time zone offset out of range')
        offset = (zh * 3600 + zm * 60) * (1 if zone[0] == "+" else -1)
    try:
        day = datetime.date(y, mo, d)
    except ValueError:
        raise ValueError(f'parsing time "{text}": day out of range') from None
    days = day.toordinal() - _EPOCH_ORDINAL
    return days * 86400 + h * 3600 + mi * 60 + s - offset


_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()


def _raw_load(text: str) -> Any:
    return json.loads(text)


# ----------------------------------------------------------------------------------------------
# Encoders: one generated function per class.

_ENCODERS: dict[type, Callable[[Any], dict[str, Any]]] = {}


def _gen_encoders() -> None:
    names = {cls: f"_enc_{cls.__name__}" for cls in _SCHEMA}
    lines: list[str] = []
    consts: dict[str, Any] = {}
    for cls, (_, fields, _) in _SCHEMA.items():
        lines.append(f"def {names[cls]}(o):")
        if cls in _TOP:
            kind = _TOP[cls]
            lines.append(f"    d = {{'kind': {kind!r}, 'apiVersion': {KIND_INFO[kind].api_version!r}}}")
        else:
            lines.append("    d = {}")
        for f in fields:
            key, attr, typ, omit = f[0], f[1], f[2], f[3]
            extra: Any = f[4] if len(f) > 4 else None
            k = repr(key)
            if typ == "const":
                lines.append(f"    d[{k}] = {extra!r}")
                continue
            lines.append(f"    v = o.{attr}")
            if typ in ("str", "int32", "int64", "bool"):
                lines.append(f"    if v: d[{k}] = v" if omit else f"    d[{k}] = v")
            elif typ == "hostport":
                lines.append(f"    if v: d[{k}] = v")
            elif typ in ("?str", "?int32", "?int64", "?bool", "?intstr"):
                lines.append(f"    if v is not None: d[{k}] = v")
            elif typ == "intstr":
                lines.append(f"    d[{k}] = v")
            elif typ == "time":
                if extra == "omitzero":
                    lines.append(f"    if v is not None: d[{k}] = _fmt(v)")
                else:
                    lines.append(f"    d[{k}] = None if v is None else _fmt(v)")
            elif typ == "?time":
                lines.append(f"    if v is not None: d[{k}] = _fmt(v)")
            elif typ in ("map", "?map", "qmap"):
                lines.append(f"    if v: d[{k}] = v.to_dict()")
            elif typ == "raw":
                lines.append(f"    if v is not None: d[{k}] = _raw(v)")
            elif typ == "struct":
                lines.append(f"    d[{k}] = {names[extra]}(v)")
            elif typ == "?struct":
                if omit:
                    lines.append(f"    if v is not None: d[{k}] = {names[extra]}(v)")
                else:
                    lines.append(f"    d[{k}] = None if v is None else {names[extra]}(v)")
            elif isinstance(typ, list):
                if typ[0] == "str":
                    expr = "list(v)"
                else:
                    expr = f"[{names[typ[1]]}(e) for e in v]"
                if omit:
                    lines.append(f"    if v: d[{k}] = {expr}")
                else:
                    lines.append(f"    d[{k}] = {expr} if v else None")
            else:  # pragma: no cover
                raise AssertionError(typ)
        lines.append("    return d")
        lines.append("")
    namespace: dict[str, Any] = {"_fmt": _format_time, "_raw": _raw_load, **consts}
    exec(compile("\n".join(lines), "<kubesim.manifests encoders>", "exec"), namespace)
    for cls, name in names.items():
        _ENCODERS[cls] = namespace[name]


_gen_encoders()


def to_manifest(obj: Any) -> dict[str, Any]:
    """The object as the API server serves it in JSON, as a fresh ``dict``. ``O(size)``.

    >>> to_manifest(o.Namespace(o.ObjectMeta(name="prod")))
    {'kind': 'Namespace', 'apiVersion': 'v1', 'metadata': {'name': 'prod'}, 'spec': {}, 'status': {}}
    """
    enc = _ENCODERS.get(type(obj))
    if enc is None or type(obj) not in _TOP:
        raise TypeError(f"to_manifest() needs a top-level API object, not {type(obj).__name__}")
    return enc(obj)


def encode(value: Any) -> Any:
    """The JSON-able form of any object from :mod:`kubesim.objects` (a top-level kind or a
    nested type such as :class:`~kubesim.objects.Endpoint`), a tuple of them, a
    :class:`~kubesim.objects.FrozenDict`, or a plain JSON value; same rules as
    :func:`to_manifest`. ``O(size)``.

    >>> encode(o.EndpointConditions(ready=True))
    {'ready': True}
    """
    enc = _ENCODERS.get(type(value))
    if enc is not None:
        return enc(value)
    if isinstance(value, (tuple, list)):
        return [encode(v) for v in value]
    if isinstance(value, o.FrozenDict):
        return value.to_dict()
    return value


_GO_ESCAPES = str.maketrans({
    "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029",
})


def _go_json(value: Any, indent: int | None = None, sort_keys: bool = False) -> str:
    # Go's encoding/json: UTF-8 as is, HTML-sensitive characters and U+2028/9 escaped.
    if indent is None:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys)
    else:
        text = json.dumps(value, ensure_ascii=False, indent=indent, sort_keys=sort_keys)
    return text.translate(_GO_ESCAPES)


def to_json(obj: Any) -> bytes:
    """The compact JSON bytes the API server writes for ``obj`` (``json.Marshal``: struct field
    order, Go's escaping of ``<``, ``>``, ``&``). ``obj`` may be any object :func:`encode`
    accepts. ``O(size)``.

    >>> to_json(o.EndpointConditions(ready=True, terminating=False))
    b'{"ready":true,"terminating":false}'
    """
    return _go_json(encode(obj)).encode("utf-8", "surrogatepass")


# ----------------------------------------------------------------------------------------------
# Decoders: table-driven; errors carry the path as they unwind.


class _Bad(Exception):
    """Internal: a decoding error; ``segs`` collects path segments innermost first."""

    def __init__(self, message: str, *segs: str) -> None:
        self.message = message
        self.segs = list(segs)


_PATH = "\x00PATH\x00"  # placeholder for the full path in a message


def _jtype(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, Mapping):
        return "map"
    if isinstance(v, (list, tuple)):
        return "array"
    return type(v).__name__


def _type_error(ctx: str, v: Any, expected: str) -> _Bad:
    return _Bad(f'invalid type for {ctx}: got "{_jtype(v)}", expected "{expected}"')


def _num(v: int) -> str:
    return str(v) if v.bit_length() < 256 else ("-" if v < 0 else "") + "<huge number>"


Decoder = Callable[[Any], Any]


def _dec_str(ctx: str, ptr: bool) -> Decoder:
    zero = None if ptr else ""

    def dec(v: Any) -> Any:
        if type(v) is str:
            return v
        if v is None:
            return zero
        if isinstance(v, str):
            return str(v)
        raise _type_error(ctx, v, "string")

    return dec


def _dec_int(ctx: str, bits: int, ptr: bool, zero_is_none: bool = False) -> Decoder:
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    zero = None if ptr else 0
    go = ctx.rsplit(".", 2)[-2] + "." + ctx.rsplit(".", 1)[-1]

    def dec(v: Any) -> Any:
        if type(v) is int or (isinstance(v, int) and not isinstance(v, bool)):
            if lo <= v <= hi:
                v = int(v)
                return None if (zero_is_none and v == 0) else v
            raise _Bad(f"cannot unmarshal number {_num(v)} into Go struct field {go} "
                       f"of type int{bits}")
        if v is None:
            return zero
        raise _type_error(ctx, v, "integer")

    return dec


def _dec_bool(ctx: str, ptr: bool) -> Decoder:
    zero = None if ptr else False

    def dec(v: Any) -> Any:
        if v is True or v is False:
            return v
        if v is None:
            return zero
        raise _type_error(ctx, v, "boolean")

    return dec


def _dec_time(ctx: str) -> Decoder:
    def dec(v: Any) -> Any:
        if v is None:
            return None
        if not isinstance(v, str):
            raise _type_error(ctx, v, "string")
        try:
            t = parse_time(v)
        except ValueError as e:
            raise _Bad(str(e)) from None
        return t

    return dec


def _dec_intstr(ctx: str, ptr: bool) -> Decoder:
    zero = None if ptr else 0

    def dec(v: Any) -> Any:
        if isinstance(v, str):
            return str(v)
        if isinstance(v, int) and not isinstance(v, bool):
            if -(1 << 31) <= v < (1 << 31):
                return int(v)
            raise _Bad(f"cannot unmarshal number {_num(v)} into Go value of type int32")
        if v is None:
            return zero
        raise _type_error(ctx, v, "integer or string")

    return dec


def _dec_map(ctx: str, nilable: bool, quantities: bool) -> Decoder:
    def dec(v: Any) -> Any:
        if v is None:
            return None if nilable else o.EMPTY
        if not isinstance(v, Mapping):
            raise _type_error(ctx, v, "map")
        out: dict[str, str] = {}
        for k, x in v.items():
            if not isinstance(k, str):
                raise _Bad(f"non-string key {k!r} in a map of strings")
            if isinstance(x, str):
                out[k] = str(x)
            elif quantities and isinstance(x, int) and not isinstance(x, bool):
                if x.bit_length() > 63:
                    raise _Bad(f"quantity {_num(x)} is too large", "." + k)
                out[k] = str(x)
            elif quantities and isinstance(x, float) and x == x and abs(x) != float("inf"):
                out[k] = repr(x)
            elif x is None:
                out[k] = ""
            else:
                raise _Bad(f'invalid type for {ctx}: got "{_jtype(x)}", expected "string"',
                           "." + k)
        return o.FrozenDict(out)

    return dec


def _dec_list(ctx: str, elem: Decoder) -> Decoder:
    def dec(v: Any) -> Any:
        if v is None:
            return ()
        if not isinstance(v, (list, tuple)):
            raise _type_error(ctx, v, "array")
        out = []
        for i, x in enumerate(v):
            try:
                out.append(elem(x))
            except _Bad as e:
                e.segs.append(f"[{i}]")
                raise
        return tuple(out)

    return dec


_MAX_RAW_NODES = 1_000_000
_MAX_RAW_DEPTH = 200


def _dec_raw(ctx: str) -> Decoder:
    def dec(v: Any) -> Any:
        if v is None:
            return None
        if not isinstance(v, Mapping):
            raise _type_error(ctx, v, "map")
        _check_json(v)
        return json.dumps(v, ensure_ascii=False, separators=(",", ":"), sort_keys=True)

    return dec


def _check_json(root: Any) -> None:
    """Bounded, iterative check that ``root`` is plain JSON (string keys, finite numbers)."""
    stack: list[tuple[Any, int]] = [(root, 0)]
    seen = 0
    while stack:
        v, depth = stack.pop()
        seen += 1
        if seen > _MAX_RAW_NODES or depth > _MAX_RAW_DEPTH:
            raise _Bad("fieldsV1 is too large or too deeply nested")
        if isinstance(v, Mapping):
            for k, x in v.items():
                if not isinstance(k, str):
                    raise _Bad(f"non-string key {k!r} in fieldsV1")
                stack.append((x, depth + 1))
        elif isinstance(v, (list, tuple)):
            stack.extend((x, depth + 1) for x in v)
        elif isinstance(v, float):
            if v != v or v in (float("inf"), float("-inf")):
                raise _Bad("fieldsV1 holds a number JSON cannot represent")
        elif not (v is None or isinstance(v, (str, int))):
            raise _Bad(f"fieldsV1 holds a {_jtype(v)}, which is not JSON")


def _dec_const(ctx: str) -> Decoder:
    def dec(v: Any) -> Any:
        if v is None or isinstance(v, Mapping):
            return None
        raise _type_error(ctx, v, "map")

    return dec


@attrs.define(eq=False)
class _Struct:
    cls: type
    openapi: str
    fields: dict[str, tuple[str | None, Decoder]]
    ignored: frozenset[str]
    zero: dict[str, Any]
    top: bool

    def decode(self, v: Any, ctx: str, ptr: bool) -> Any:
        if v is None:
            return None if ptr else self.cls(**self.zero)
        if not isinstance(v, Mapping):
            raise _type_error(ctx, v, "map")
        kw = dict(self.zero)
        fields = self.fields
        for k, x in v.items():
            f = fields.get(k) if isinstance(k, str) else None
            if f is None:
                if not isinstance(k, str):
                    raise _Bad(f"non-string key {k!r} in an object")
                if k in self.ignored:
                    continue
                raise _Bad(f'unknown field "{_PATH}"', "." + k)
            attr, dec = f
            try:
                val = dec(x)
            except _Bad as e:
                e.segs.append("." + k)
                raise
            if attr is not None:
                kw[attr] = val
        return self.cls(**kw)


_STRUCTS: dict[type, _Struct] = {}


def _build_decoders() -> None:
    for cls, (openapi, _, ignored) in _SCHEMA.items():
        extra_ignored = {"kind", "apiVersion"} if cls in _TOP else set()
        _STRUCTS[cls] = _Struct(cls, openapi, {}, frozenset(ignored.split()) | extra_ignored,
                                {}, cls in _TOP)

    def struct_dec(sub: type, ctx: str, ptr: bool) -> Decoder:
        s = _STRUCTS[sub]
        return lambda v: s.decode(v, ctx, ptr)

    for cls, (openapi, fields, _) in _SCHEMA.items():
        st = _STRUCTS[cls]
        for f in fields:
            key, attr, typ = f[0], f[1], f[2]
            extra: Any = f[4] if len(f) > 4 else None
            ctx = f"{openapi}.{key}"
            dec: Decoder
            if typ in ("str", "?str"):
                dec = _dec_str(ctx, typ[0] == "?")
            elif typ in ("int32", "?int32", "int64", "?int64"):
                dec = _dec_int(ctx, int(typ[-2:]), typ[0] == "?")
            elif typ == "hostport":
                dec = _dec_int(ctx, 32, True, zero_is_none=True)
            elif typ in ("bool", "?bool"):
                dec = _dec_bool(ctx, typ[0] == "?")
            elif typ in ("time", "?time"):
                dec = _dec_time(ctx)
            elif typ in ("intstr", "?intstr"):
                dec = _dec_intstr(ctx, typ[0] == "?")
            elif typ in ("map", "?map", "qmap"):
                dec = _dec_map(ctx, typ == "?map", typ == "qmap")
            elif typ == "raw":
                dec = _dec_raw(ctx)
            elif typ == "const":
                dec = _dec_const(ctx)
            elif typ in ("struct", "?struct"):
                dec = struct_dec(extra, ctx, typ[0] == "?")
            elif isinstance(typ, list):
                if typ[0] == "str":
                    elem = _dec_str(ctx, False)
                else:
                    elem = struct_dec(typ[1], ctx, False)
                dec = _dec_list(ctx, elem)
            else:  # pragma: no cover
                raise AssertionError(typ)
            st.fields[key] = (attr, dec)

    # Go zero values, built leaves first (no struct type contains itself).
    def zero_of(cls: type) -> dict[str, Any]:
        st = _STRUCTS[cls]
        if st.zero or not st.fields:
            return st.zero
        z: dict[str, Any] = {}
        for f in _SCHEMA[cls][1]:
            attr, typ = f[1], f[2]
            if attr is None:
                continue
            if typ == "str":
                z[attr] = ""
            elif typ in ("int32", "int64", "intstr"):
                z[attr] = 0
            elif typ == "bool":
                z[attr] = False
            elif typ in ("map", "qmap"):
                z[attr] = o.EMPTY
            elif isinstance(typ, list):
                z[attr] = ()
            elif typ == "struct":
                z[attr] = _STRUCTS[f[4]].cls(**zero_of(f[4]))
            else:  # pointers, time, raw, ?map, hostport
                z[attr] = None
        st.zero = z
        return z

    for cls in _SCHEMA:
        zero_of(cls)


_build_decoders()


def _fail(e: _Bad, document: int | None) -> ManifestError:
    path = "".join(reversed(e.segs)).lstrip(".")
    return ManifestError(e.message.replace(_PATH, path), path=path, document=document)


def _decode_object(d: Any, document: int | None = None, default_kind: str | None = None,
                   default_api_version: str | None = None) -> Any:
    if not isinstance(d, Mapping):
        raise ManifestError(f'expected an object (a map), got "{_jtype(d)}"', document=document)
    kind = d.get("kind", default_kind)
    api_version = d.get("apiVersion", default_api_version)
    if kind is None or kind == "":
        raise ManifestError("Object 'Kind' is missing", path="kind", document=document)
    if not isinstance(kind, str):
        raise ManifestError(f'invalid type for kind: got "{_jtype(kind)}", expected "string"',
                            path="kind", document=document)
    if api_version is None or api_version == "":
        raise ManifestError("Object 'apiVersion' is missing", path="apiVersion",
                            document=document)
    if not isinstance(api_version, str):
        raise ManifestError(
            f'invalid type for apiVersion: got "{_jtype(api_version)}", expected "string"',
            path="apiVersion", document=document)
    info = KIND_INFO.get(kind)
    if info is None:
        raise ManifestError(f'no matches for kind "{kind}" in version "{api_version}"',
                            path="kind", document=document)
    if info.api_version != api_version:
        raise ManifestError(f'no matches for kind "{kind}" in version "{api_version}"',
                            path="apiVersion", document=document)
    st = _STRUCTS[o.KINDS[kind]]
    try:
        return st.decode(d, st.openapi, False)
    except _Bad as e:
        raise _fail(e, document) from None
    except RecursionError:
        raise ManifestError("object is nested too deeply", document=document) from None
    except (TypeError, ValueError, AttributeError, KeyError, OverflowError) as e:
        # Safety net: a malformed input must never escape as anything but ManifestError.
        raise ManifestError(f"malformed manifest: {e}", document=document) from None


def from_manifest(d: Mapping[str, Any]) -> Any:
    """Decode one manifest (the JSON shape, as a mapping) into an object. ``O(size)``.

    Strict like ``kubectl apply --validate=strict``; every problem raises
    :class:`~kubesim.errors.ManifestError` naming the field:

    >>> from_manifest({"apiVersion": "v1", "kind": "Service",
    ...                "spec": {"ports": [{"port": "80"}]}})
    Traceback (most recent call last):
    ...
    kubesim.errors.ManifestError: spec.ports[0].port: invalid type for io.k8s.api.core.v1.ServicePort.port: got "string", expected "integer"
    """
    return _decode_object(d)


# ----------------------------------------------------------------------------------------------
# YAML

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc,unused-ignore]
    """``yaml.safe_load`` semantics, minus timestamp resolution (timestamps stay strings, as
    in ``sigs.k8s.io/yaml``), plus duplicate-key and alias-bomb detection."""

    yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_document(self, node: Any) -> Any:
        _check_expansion(node)
        return super().construct_document(node)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            self.flatten_mapping(node)
            seen: set[Any] = set()
            for key_node, _ in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    key = (key_node.tag, key_node.value)
                    if key in seen:
                        raise yaml.constructor.ConstructorError(
                            None, None, f'duplicate field "{key_node.value}"',
                            key_node.start_mark)
                    seen.add(key)
        return super().construct_mapping(node, deep=deep)


_MAX_EXPANDED_NODES = 2_000_000


def _check_expansion(root: Any) -> None:
    """Refuse documents whose aliases expand to too many nodes (``yaml.v2``'s
    "document contains excessive aliasing"), or that are recursive. ``O(distinct nodes)``."""
    weight: dict[int, int] = {}
    in_progress: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        nid = id(node)
        if done:
            in_progress.discard(nid)
            total = 1
            if isinstance(node, yaml.SequenceNode):
                total += sum(weight[id(c)] for c in node.value)
            elif isinstance(node, yaml.MappingNode):
                total += sum(weight[id(k)] + weight[id(v)] for k, v in node.value)
            if total > _MAX_EXPANDED_NODES:
                raise yaml.YAMLError("yaml: document contains excessive aliasing")
            weight[nid] = total
            continue
        if nid in weight:
            continue
        if nid in in_progress:
            raise yaml.YAMLError("yaml: document contains a recursive alias")
        in_progress.add(nid)
        stack.append((node, True))
        if isinstance(node, yaml.SequenceNode):
            stack.extend((c, False) for c in node.value)
        elif isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                stack.append((k, False))
                stack.append((v, False))


def _yaml_error(e: yaml.YAMLError) -> ManifestError:
    if isinstance(e, yaml.MarkedYAMLError):
        mark = e.problem_mark or e.context_mark
        problem = e.problem or e.context or "invalid YAML"
        if mark is not None:
            return ManifestError(
                f"error converting YAML to JSON: yaml: line {mark.line + 1}: {problem}")
        return ManifestError(f"error converting YAML to JSON: yaml: {problem}")
    return ManifestError(f"error converting YAML to JSON: {e}")


def _expand(doc: Any, index: int, depth: int = 0) -> Iterable[Any]:
    # kubectl flattens `kind: List` (and `<Kind>List`) documents into their items.
    if isinstance(doc, Mapping):
        kind = doc.get("kind")
        if isinstance(kind, str) and kind.endswith("List") and "items" in doc:
            if depth > 8:
                raise ManifestError("lists nested too deeply", document=index)
            item_kind = kind[:-4] if kind != "List" else None
            if item_kind is not None and item_kind not in KIND_INFO:
                raise ManifestError(f'no matches for kind "{kind}" in version '
                                    f'"{doc.get("apiVersion")}"', path="kind", document=index)
            items = doc["items"]
            if items is None:
                return
            if not isinstance(items, (list, tuple)):
                raise ManifestError(f'invalid type for items: got "{_jtype(items)}", '
                                    f'expected "array"', path="items", document=index)
            for i, item in enumerate(items):
                if item_kind is not None:
                    try:
                        yield _decode_object(item, index, item_kind, doc.get("apiVersion"))
                    except ManifestError as e:
                        raise ManifestError(_bare(e), path=_join(f"items[{i}]", e.path),
                                            document=index) from None
                else:
                    try:
                        yield from _expand(item, index, depth + 1)
                    except ManifestError as e:
                        raise ManifestError(_bare(e), path=_join(f"items[{i}]", e.path),
                                            document=index) from None
            return
    yield _decode_object(doc, index)


def _bare(e: ManifestError) -> str:
    # The message without the "document N: path: " prefix ManifestError adds.
    text = str(e)
    if e.document is not None:
        text = text[len(f"document {e.document}: "):]
    if e.path:
        text = text[len(f"{e.path}: "):]
    return text


def _join(prefix: str, path: str) -> str:
    if not path:
        return prefix
    return f"{prefix}{path}" if path.startswith("[") else f"{prefix}.{path}"


def load_yaml(text: str | bytes) -> list[Any]:
    """Every object in a (multi-document) YAML stream, in order. ``O(size)``.

    ``yaml.safe_load_all`` semantics: no Python objects are ever constructed.  Empty documents
    are skipped; ``kind: List`` documents are expanded into their items.  Every document is
    decoded before anything is returned, so an error anywhere means nothing is returned; the
    :class:`~kubesim.errors.ManifestError` names the document (0-based, counting every
    document in the stream) and the field path, or the line of a syntax error.

    >>> [type(x).__name__ for x in load_yaml("kind: Namespace\\napiVersion: v1\\n---\\n")]
    ['Namespace']
    """
    if isinstance(text, (bytes, bytearray, memoryview)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as e:
            raise ManifestError(f"yaml: invalid UTF-8 at byte {e.start}") from None
    if not isinstance(text, str):
        raise ManifestError(f"expected YAML text, got {type(text).__name__}")
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        docs = list(yaml.load_all(text, Loader=_Loader))
    except yaml.YAMLError as e:
        raise _yaml_error(e) from None
    except RecursionError:
        raise ManifestError("error converting YAML to JSON: yaml: exceeded max depth") from None
    except (ValueError, TypeError, OverflowError) as e:  # e.g. an unparseable float
        raise ManifestError(f"error converting YAML to JSON: {e}") from None
    out: list[Any] = []
    for i, doc in enumerate(docs):
        if doc is None:
            continue
        out.extend(_expand(doc, i))
    return out


class _Dumper(yaml.SafeDumper):  # type: ignore[misc,unused-ignore]
    """``sigs.k8s.io/yaml`` style: block style, keys sorted, strings that would read back as
    another type double-quoted, multi-line strings as literal blocks."""

    def represent_str(self, data: str) -> Any:
        tag = "tag:yaml.org,2002:str"
        if "\n" in data:
            return self.represent_scalar(tag, data, style="|")
        resolved = self.resolve(yaml.ScalarNode, data, (True, False))
        if resolved != tag or data == "":
            return self.represent_scalar(tag, data, style='"')
        return self.represent_scalar(tag, data)

    def ignore_aliases(self, data: Any) -> bool:
        return True


_Dumper.add_representer(str, _Dumper.represent_str)


def _list_wrapper(items: Sequence[Any]) -> dict[str, Any]:
    return {"apiVersion": "v1", "items": [to_manifest(x) for x in items], "kind": "List",
            "metadata": {"resourceVersion": ""}}


def dump_yaml(obj_or_list: Any) -> str:
    """YAML as ``kubectl get -o yaml`` prints it: keys sorted alphabetically (the API server's
    JSON goes through ``sigs.k8s.io/yaml``); a list of objects becomes a ``kind: List``.
    ``O(size)``.

    >>> print(dump_yaml(o.Namespace(o.ObjectMeta(name="prod"))), end="")
    apiVersion: v1
    kind: Namespace
    metadata:
      name: prod
    spec: {}
    status: {}
    """
    if isinstance(obj_or_list, (list, tuple)):
        value = _list_wrapper(obj_or_list)
    else:
        value = to_manifest(obj_or_list)
    return str(yaml.dump(value, Dumper=_Dumper, sort_keys=True, default_flow_style=False,
                         allow_unicode=True, width=80))


def dump_json(obj: Any) -> str:
    """JSON as ``kubectl get -o json`` prints it: indented by 4, keys sorted (kubectl prints
    unstructured maps), Go's escaping, a final newline; a list of objects becomes a
    ``kind: List``. ``O(size)``."""
    if isinstance(obj, (list, tuple)):
        value = _list_wrapper(obj)
    else:
        value = to_manifest(obj)
    return _go_json(value, indent=4, sort_keys=True) + "\n"
