"""Protobuf request bodies -> manifest dicts, for the objects kubectl's typed clients send.

kubectl sends ``application/vnd.kubernetes.protobuf`` bodies when it writes through a typed
client: ``kubectl create namespace|deployment|service|configmap|secret|serviceaccount|job|cronjob|role|
rolebinding|clusterrole|clusterrolebinding``, the ``Eviction`` and ``DeleteOptions`` of
``kubectl drain``. This decodes the ``k8s\\0`` envelope (``runtime.Unknown``) and the object message into
the JSON shape :func:`kubesim.manifests.from_manifest` reads, from a table of field numbers
(``k8s.io/api`` and ``k8s.io/apimachinery`` ``generated.proto``, the numbers
:mod:`kubesim.wire`'s encoders write). Fields outside the table are skipped; the table covers what
kubesim models plus what an inert kind's manifest commonly carries (a Job's container
``command``, ``args``, ``env``). gogo writes every non-pointer string, so an empty one is left out,
as JSON's ``omitempty`` leaves it.

Checked by round trips: ``decode(kubesim.wire.encode_proto(obj))`` reads back ``obj`` for the
kinds served here. Cost: ``O(size of the body)``.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from kubesim import manifests
from kubesim.serve.status import ApiError

__all__ = ["decode", "MESSAGES"]

# A field: number -> (json name, type, message name for "m", repeated)
#   s string, i signed varint, b bool, m message, map string map, qmap quantity map,
#   bmap map of bytes (base64 in JSON), t metav1.Time, is IntOrString
_F = dict[int, tuple[str, str, str, bool]]

_META: _F = {
    1: ("name", "s", "", False), 2: ("generateName", "s", "", False), 3: ("namespace", "s", "", False),
    5: ("uid", "s", "", False), 6: ("resourceVersion", "s", "", False), 7: ("generation", "i", "", False),
    8: ("creationTimestamp", "t", "", False), 9: ("deletionTimestamp", "t", "", False),
    10: ("deletionGracePeriodSeconds", "i", "", False), 11: ("labels", "map", "", False),
    12: ("annotations", "map", "", False), 13: ("ownerReferences", "m", "OwnerReference", True),
    14: ("finalizers", "s", "", True),
}

MESSAGES: dict[str, _F] = {
    "ObjectMeta": _META,
    "OwnerReference": {1: ("kind", "s", "", False), 3: ("name", "s", "", False), 4: ("uid", "s", "", False),
                       5: ("apiVersion", "s", "", False), 6: ("controller", "b", "", False),
                       7: ("blockOwnerDeletion", "b", "", False)},
    "LabelSelector": {1: ("matchLabels", "map", "", False), 2: ("matchExpressions", "m", "LabelSelectorRequirement", True)},
    "LabelSelectorRequirement": {1: ("key", "s", "", False), 2: ("operator", "s", "", False), 3: ("values", "s", "", True)},
    "Namespace": {1: ("metadata", "m", "ObjectMeta", False), 2: ("spec", "m", "NamespaceSpec", False)},
    "NamespaceSpec": {1: ("finalizers", "s", "", True)},
    "Deployment": {1: ("metadata", "m", "ObjectMeta", False), 2: ("spec", "m", "DeploymentSpec", False)},
    "DeploymentSpec": {1: ("replicas", "i", "", False), 2: ("selector", "m", "LabelSelector", False),
                       3: ("template", "m", "PodTemplateSpec", False), 4: ("strategy", "m", "DeploymentStrategy", False),
                       5: ("minReadySeconds", "i", "", False), 6: ("revisionHistoryLimit", "i", "", False),
                       7: ("paused", "b", "", False), 9: ("progressDeadlineSeconds", "i", "", False)},
    "DeploymentStrategy": {1: ("type", "s", "", False), 2: ("rollingUpdate", "m", "RollingUpdateDeployment", False)},
    "RollingUpdateDeployment": {1: ("maxUnavailable", "is", "", False), 2: ("maxSurge", "is", "", False)},
    "ReplicaSet": {1: ("metadata", "m", "ObjectMeta", False), 2: ("spec", "m", "ReplicaSetSpec", False)},
    "ReplicaSetSpec": {1: ("replicas", "i", "", False), 2: ("selector", "m", "LabelSelector", False),
                       3: ("template", "m", "PodTemplateSpec", False), 4: ("minReadySeconds", "i", "", False)},
    "PodTemplateSpec": {1: ("metadata", "m", "ObjectMeta", False), 2: ("spec", "m", "PodSpec", False)},
    "Pod": {1: ("metadata", "m", "ObjectMeta", False), 2: ("spec", "m", "PodSpec", False)},
    "PodSpec": {2: ("containers", "m", "Container", True), 3: ("restartPolicy", "s", "", False),
                4: ("terminationGracePeriodSeconds", "i", "", False), 6: ("dnsPolicy", "s", "", False),
                7: ("nodeSelector", "map", "", False), 8: ("serviceAccountName", "s", "", False),
                10: ("nodeName", "s", "", False), 11: ("hostNetwork", "b", "", False), 16: ("hostname", "s", "", False),
                17: ("subdomain", "s", "", False), 19: ("schedulerName", "s", "", False),
                20: ("initContainers", "m", "Container", True), 22: ("tolerations", "m", "Toleration", True),
                28: ("readinessGates", "m", "PodReadinessGate", True)},
    "PodReadinessGate": {1: ("conditionType", "s", "", False)},
    "Toleration": {1: ("key", "s", "", False), 2: ("operator", "s", "", False), 3: ("value", "s", "", False),
                   4: ("effect", "s", "", False), 5: ("tolerationSeconds", "i", "", False)},
    "Container": {1: ("name", "s", "", False), 2: ("image", "s", "", False), 3: ("command", "s", "", True),
                  4: ("args", "s", "", True), 5: ("workingDir", "s", "", False), 7: ("env", "m", "EnvVar", True),
                  13: ("terminationMessagePath", "s", "", False), 14: ("imagePullPolicy", "s", "", False),
                  20: ("terminationMessagePolicy", "s", "", False), 6: ("ports", "m", "ContainerPort", True),
                  8: ("resources", "m", "ResourceRequirements", False), 10: ("livenessProbe", "m", "Probe", False),
                  11: ("readinessProbe", "m", "Probe", False), 12: ("lifecycle", "m", "Lifecycle", False),
                  22: ("startupProbe", "m", "Probe", False), 24: ("restartPolicy", "s", "", False)},
    "EnvVar": {1: ("name", "s", "", False), 2: ("value", "s", "", False)},
    "ContainerPort": {1: ("name", "s", "", False), 2: ("hostPort", "i", "", False), 3: ("containerPort", "i", "", False),
                      4: ("protocol", "s", "", False), 5: ("hostIP", "s", "", False)},
    "ResourceRequirements": {1: ("limits", "qmap", "", False), 2: ("requests", "qmap", "", False)},
    "Probe": {1: ("", "m", "ProbeHandler", False), 2: ("initialDelaySeconds", "i", "", False),
              3: ("timeoutSeconds", "i", "", False), 4: ("periodSeconds", "i", "", False),
              5: ("successThreshold", "i", "", False), 6: ("failureThreshold", "i", "", False)},
    "ProbeHandler": {1: ("exec", "m", "ExecAction", False), 2: ("httpGet", "m", "HTTPGetAction", False),
                     3: ("tcpSocket", "m", "TCPSocketAction", False)},
    "Lifecycle": {1: ("postStart", "m", "LifecycleHandler", False), 2: ("preStop", "m", "LifecycleHandler", False)},
    "LifecycleHandler": {1: ("exec", "m", "ExecAction", False), 2: ("httpGet", "m", "HTTPGetAction", False),
                         3: ("tcpSocket", "m", "TCPSocketAction", False), 4: ("sleep", "m", "SleepAction", False)},
    "SleepAction": {1: ("seconds", "i", "", False)},
    "ExecAction": {1: ("command", "s", "", True)},
    "HTTPGetAction": {1: ("path", "s", "", False), 2: ("port", "is", "", False), 3: ("host", "s", "", False),
                      4: ("scheme", "s", "", False)},
    "TCPSocketAction": {1: ("port", "is", "", False), 2: ("host", "s", "", False)},
    "Service": {1: ("metadata", "m", "ObjectMeta", False), 2: ("spec", "m", "ServiceSpec", False)},
    "ServiceSpec": {1: ("ports", "m", "ServicePort", True), 2: ("selector", "map", "", False),
                    3: ("clusterIP", "s", "", False), 4: ("type", "s", "", False), 7: ("sessionAffinity", "s", "", False),
                    10: ("externalName", "s", "", False), 11: ("externalTrafficPolicy", "s", "", False),
                    13: ("publishNotReadyAddresses", "b", "", False), 17: ("ipFamilyPolicy", "s", "", False),
                    18: ("clusterIPs", "s", "", True), 19: ("ipFamilies", "s", "", True),
                    22: ("internalTrafficPolicy", "s", "", False), 23: ("trafficDistribution", "s", "", False)},
    "ServicePort": {1: ("name", "s", "", False), 2: ("protocol", "s", "", False), 3: ("port", "i", "", False),
                    4: ("targetPort", "is", "", False), 5: ("nodePort", "i", "", False), 6: ("appProtocol", "s", "", False)},
    "Endpoints": {1: ("metadata", "m", "ObjectMeta", False), 2: ("subsets", "m", "EndpointSubset", True)},
    "EndpointSubset": {1: ("addresses", "m", "EndpointAddress", True), 2: ("notReadyAddresses", "m", "EndpointAddress", True),
                       3: ("ports", "m", "EndpointPort", True)},
    "EndpointAddress": {1: ("ip", "s", "", False), 2: ("targetRef", "m", "ObjectReference", False),
                        3: ("hostname", "s", "", False), 4: ("nodeName", "s", "", False)},
    "EndpointPort": {1: ("name", "s", "", False), 2: ("port", "i", "", False), 3: ("protocol", "s", "", False),
                     4: ("appProtocol", "s", "", False)},
    "ObjectReference": {1: ("kind", "s", "", False), 2: ("namespace", "s", "", False), 3: ("name", "s", "", False),
                        4: ("uid", "s", "", False), 5: ("apiVersion", "s", "", False),
                        6: ("resourceVersion", "s", "", False), 7: ("fieldPath", "s", "", False)},
    "DeleteOptions": {1: ("gracePeriodSeconds", "i", "", False), 2: ("preconditions", "m", "Preconditions", False),
                      3: ("orphanDependents", "b", "", False), 4: ("propagationPolicy", "s", "", False),
                      5: ("dryRun", "s", "", True)},
    "Preconditions": {1: ("uid", "s", "", False), 2: ("resourceVersion", "s", "", False)},
    # inert kinds kubectl creates through typed clients (create configmap|secret|serviceaccount)
    "ConfigMap": {1: ("metadata", "m", "ObjectMeta", False), 2: ("data", "map", "", False),
                  3: ("binaryData", "bmap", "", False), 4: ("immutable", "b", "", False)},
    "Secret": {1: ("metadata", "m", "ObjectMeta", False), 2: ("data", "bmap", "", False), 3: ("type", "s", "", False),
               4: ("stringData", "map", "", False), 5: ("immutable", "b", "", False)},
    "ServiceAccount": {1: ("metadata", "m", "ObjectMeta", False), 2: ("secrets", "m", "ObjectReference", True),
                       3: ("imagePullSecrets", "m", "LocalObjectReference", True),
                       4: ("automountServiceAccountToken", "b", "", False)},
    "LocalObjectReference": {1: ("name", "s", "", False)},
    "Eviction": {1: ("metadata", "m", "ObjectMeta", False), 2: ("deleteOptions", "m", "DeleteOptions", False)},
    # rbac/v1 (kubectl create role|clusterrole|rolebinding|clusterrolebinding)
    "Role": {1: ("metadata", "m", "ObjectMeta", False), 2: ("rules", "m", "PolicyRule", True)},
    "ClusterRole": {1: ("metadata", "m", "ObjectMeta", False), 2: ("rules", "m", "PolicyRule", True),
                    3: ("aggregationRule", "m", "AggregationRule", False)},
    "AggregationRule": {1: ("clusterRoleSelectors", "m", "LabelSelector", True)},
    "PolicyRule": {1: ("verbs", "s", "", True), 2: ("apiGroups", "s", "", True), 3: ("resources", "s", "", True),
                   4: ("resourceNames", "s", "", True), 5: ("nonResourceURLs", "s", "", True)},
    "RoleBinding": {1: ("metadata", "m", "ObjectMeta", False), 2: ("subjects", "m", "Subject", True),
                    3: ("roleRef", "m", "RoleRef", False)},
    "ClusterRoleBinding": {1: ("metadata", "m", "ObjectMeta", False), 2: ("subjects", "m", "Subject", True),
                           3: ("roleRef", "m", "RoleRef", False)},
    "Subject": {1: ("kind", "s", "", False), 2: ("apiGroup", "s", "", False), 3: ("name", "s", "", False),
                4: ("namespace", "s", "", False)},
    "RoleRef": {1: ("apiGroup", "s", "", False), 2: ("kind", "s", "", False), 3: ("name", "s", "", False)},
    # batch/v1 (kubectl create job|cronjob)
    "Job": {1: ("metadata", "m", "ObjectMeta", False), 2: ("spec", "m", "JobSpec", False)},
    "JobSpec": {1: ("parallelism", "i", "", False), 2: ("completions", "i", "", False),
                3: ("activeDeadlineSeconds", "i", "", False), 4: ("selector", "m", "LabelSelector", False),
                5: ("manualSelector", "b", "", False), 6: ("template", "m", "PodTemplateSpec", False),
                7: ("backoffLimit", "i", "", False), 8: ("ttlSecondsAfterFinished", "i", "", False),
                9: ("completionMode", "s", "", False), 10: ("suspend", "b", "", False)},
    "CronJob": {1: ("metadata", "m", "ObjectMeta", False), 2: ("spec", "m", "CronJobSpec", False)},
    "CronJobSpec": {1: ("schedule", "s", "", False), 2: ("startingDeadlineSeconds", "i", "", False),
                    3: ("concurrencyPolicy", "s", "", False), 4: ("suspend", "b", "", False),
                    5: ("jobTemplate", "m", "JobTemplateSpec", False), 6: ("successfulJobsHistoryLimit", "i", "", False),
                    7: ("failedJobsHistoryLimit", "i", "", False), 8: ("timeZone", "s", "", False)},
    "JobTemplateSpec": {1: ("metadata", "m", "ObjectMeta", False), 2: ("spec", "m", "JobSpec", False)},
}

#: kinds whose protobuf bodies are read (others are a 415)
KINDS = ("Namespace", "Deployment", "ReplicaSet", "Pod", "Service", "Endpoints", "DeleteOptions",
         "ConfigMap", "Secret", "ServiceAccount", "Eviction", "Role", "ClusterRole", "RoleBinding",
         "ClusterRoleBinding", "Job", "CronJob")

_MAGIC = b"k8s\x00"


class _Bad(Exception):
    pass


def _uvarint(buf: bytes, i: int) -> tuple[int, int]:
    x = shift = 0
    while True:
        if i >= len(buf) or shift > 63:
            raise _Bad("truncated varint")
        b = buf[i]
        i += 1
        x |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return x, i


def _fields(buf: bytes) -> list[tuple[int, int, Any]]:
    """(number, wire type, value: int for varints, bytes for length-delimited)."""
    out: list[tuple[int, int, Any]] = []
    i = 0
    while i < len(buf):
        key, i = _uvarint(buf, i)
        num, wt = key >> 3, key & 7
        if num == 0:
            raise _Bad("field number 0")
        if wt == 0:
            v, i = _uvarint(buf, i)
            out.append((num, wt, v))
        elif wt == 2:
            n, i = _uvarint(buf, i)
            if i + n > len(buf):
                raise _Bad("truncated field")
            out.append((num, wt, buf[i:i + n]))
            i += n
        elif wt == 1:
            i += 8
        elif wt == 5:
            i += 4
        else:
            raise _Bad(f"unsupported wire type {wt}")
    if i != len(buf):
        raise _Bad("truncated message")
    return out


def _signed(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def _string(v: Any) -> str:
    if not isinstance(v, bytes):
        raise _Bad("expected a length-delimited string")
    return v.decode("utf-8")


def _map_entry(v: Any, typ: str) -> tuple[str, str]:
    key = value = ""
    for num, _, fv in _fields(v):
        if num == 1:
            key = _string(fv)
        elif num == 2:
            if typ == "qmap":
                value = next((_string(q) for n, _, q in _fields(fv) if n == 1), "")
            elif typ == "bmap":  # map<string, bytes>: JSON carries the bytes in base64
                value = base64.b64encode(fv if isinstance(fv, bytes) else _bad()).decode()
            else:
                value = _string(fv)
    return key, value


def _time(v: Any) -> str | None:
    seconds = 0
    for num, _, fv in _fields(v):
        if num == 1:
            seconds = _signed(fv)
    if not v:
        return None
    return manifests.format_time(seconds)


def _intstr(v: Any) -> int | str:
    kind, ival, sval = 0, 0, ""
    for num, _, fv in _fields(v):
        if num == 1:
            kind = fv
        elif num == 2:
            ival = _signed(fv)
        elif num == 3:
            sval = _string(fv)
    return sval if kind == 1 else ival


def _message(buf: bytes, name: str, depth: int = 0) -> dict[str, Any]:
    if depth > 40:
        raise _Bad("message nested too deeply")
    spec = MESSAGES[name]
    out: dict[str, Any] = {}
    for num, _, v in _fields(buf):
        f = spec.get(num)
        if f is None:
            continue  # not modelled: dropped, as the JSON decoder drops it
        json_name, typ, sub, repeated = f
        if typ == "s":
            value: Any = _string(v)
            if value == "" and not repeated:
                continue  # gogo writes every non-pointer string; JSON's omitempty leaves "" out
        elif typ == "i":
            value = _signed(v) if isinstance(v, int) else _bad()
        elif typ == "b":
            value = bool(v) if isinstance(v, int) else _bad()
        elif typ == "m":
            value = _message(v if isinstance(v, bytes) else _bad(), sub, depth + 1)
            if json_name == "":  # an embedded handler: its fields belong to the parent
                out.update(value)
                continue
        elif typ in ("map", "qmap", "bmap"):
            k, val = _map_entry(v, typ)
            out.setdefault(json_name, {})[k] = val
            continue
        elif typ == "t":
            value = _time(v)
        elif typ == "is":
            value = _intstr(v)
        else:  # pragma: no cover - a table error
            raise _Bad(f"unknown type {typ}")
        if repeated:
            out.setdefault(json_name, []).append(value)
        else:
            out[json_name] = value
    return out


def _bad() -> Any:
    raise _Bad("wrong wire type")


def decode(body: bytes) -> dict[str, Any]:
    """The manifest dict of a protobuf request body (``k8s\\0`` + ``runtime.Unknown``).
    Raises a 400 :class:`ApiError` for a body that does not decode, 415 for a kind this
    server does not read in protobuf."""
    if not body.startswith(_MAGIC):
        raise ApiError(400, "BadRequest", "the protobuf body does not start with the k8s\\0 magic")
    try:
        api_version = kind = ""
        raw = b""
        for num, _, v in _fields(body[len(_MAGIC):]):
            if num == 1 and isinstance(v, bytes):
                for n2, _, v2 in _fields(v):
                    if n2 == 1:
                        api_version = _string(v2)
                    elif n2 == 2:
                        kind = _string(v2)
            elif num == 2 and isinstance(v, bytes):
                raw = v
        if kind not in KINDS:
            raise ApiError(415, "UnsupportedMediaType",
                           f"kubesim serve reads protobuf bodies of {', '.join(KINDS)}, not {kind or 'an unnamed kind'}; "
                           f"send application/json")
        out = _message(raw, kind)
    except (_Bad, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, "BadRequest", f"the protobuf body does not decode: {exc}") from None
    return {"kind": kind, "apiVersion": api_version, **out}
