"""What kubesim stores but does not model, said when it is applied: :class:`ModelWarning`.

Every field that would change where pods run, whether they are ready, or how traffic is routed
is either modelled or reported. Modelled: ``nodeName``, ``nodeSelector``, required node
affinity, tolerations against ``NoSchedule``/``NoExecute`` taints and cordons (the scheduler,
:mod:`kubesim.controllers.node.scheduler`), the NoExecute tolerations of taint-based eviction,
readiness probes, the Service traffic policies and topology hints (:mod:`kubesim.proxy`).
Reported (:data:`IGNORED_FIELDS` and :func:`object_warnings`):

* fields the manifest decoder accepts and drops (pod affinity and anti-affinity, topology
  spread constraints, scheduling gates, priority, readiness gates, startup
  probes, ``externalIPs``, ``sessionAffinityConfig``, load-balancer source ranges ...): the
  object is stored without them;
* inert kinds that a controller would act on (:data:`INERT_EFFECTS`: Job, CronJob, HPA, PDB,
  Ingress, NetworkPolicy, LimitRange, ResourceQuota): stored, nothing acts on them;
* fields stored as written but not acted on: preferred node affinity and the
  ``PreferNoSchedule`` taint (the scheduler does not score), resource requests (it fits pods
  by count), ``sessionAffinity: ClientIP`` (:meth:`~kubesim.Cluster.connect` picks a backend per
  connection).

:class:`~kubesim.Cluster` checks what the user writes (``apply``, ``apply_yaml``,
``apply_file``, ``create``, ``update``), never the controllers' own writes, and emits each
distinct message once per call with :func:`warnings.warn`; the CLI prints them as kubectl
prints the API server's warnings (``Warning: ...`` on stderr). A field a later kubesim models
stops being reported by itself: :data:`IGNORED_FIELDS` only fires for fields the decoder
still drops.

>>> import warnings, kubesim
>>> c = kubesim.Cluster(seed=0, nodes=1)
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     _ = c.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
...                  "spec": {"ports": [{"port": 80}], "externalIPs": ["192.0.2.1"]}})
>>> [str(w.message) for w in caught]
['Service "s": spec.externalIPs is not modelled: the Service is reachable only on its cluster IP (and node ports) in kubesim']

Costs: ``O(1)`` per dropped field seen while decoding; :func:`object_warnings` is
``O(containers + terms)`` per object.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["ModelWarning", "IGNORED_FIELDS", "INERT_EFFECTS", "collecting", "object_warnings", "emit"]


class ModelWarning(UserWarning):
    """A field that changes where pods run, whether they are ready or how traffic is routed,
    which kubesim stores without acting on it, or drops. Filter it like any warning
    (``warnings.simplefilter("ignore", kubesim.ModelWarning)``)."""


#: (decoded struct, JSON key) of a dropped field -> (its path, what kubesim does without it)
IGNORED_FIELDS: dict[tuple[str, str], tuple[str, str]] = {
    ("Affinity", "podAffinity"): ("affinity.podAffinity", "pods are placed without pod affinity"),
    ("Affinity", "podAntiAffinity"): ("affinity.podAntiAffinity", "pods are placed without pod anti-affinity"),
    ("PodSpec", "topologySpreadConstraints"): (
        "topologySpreadConstraints", "pods are spread by pod count per node only"),
    ("PodSpec", "schedulingGates"): ("schedulingGates", "the pod is scheduled at once"),
    ("PodSpec", "priorityClassName"): ("priorityClassName", "there is no priority or preemption"),
    ("PodSpec", "priority"): ("priority", "there is no priority or preemption"),
    ("PodSpec", "preemptionPolicy"): ("preemptionPolicy", "there is no priority or preemption"),
    ("PodSpec", "runtimeClassName"): ("runtimeClassName", "it is not used for placement"),
    ("PodSpec", "overhead"): ("overhead", "it is not used for placement"),
    ("ServiceSpec", "externalIPs"): (
        "spec.externalIPs", "the Service is reachable only on its cluster IP (and node ports) in kubesim"),
    ("ServiceSpec", "sessionAffinityConfig"): (
        "spec.sessionAffinityConfig", "every connection picks a backend at random"),
    ("ServiceSpec", "loadBalancerSourceRanges"): (
        "spec.loadBalancerSourceRanges", "no source is filtered"),
    ("ServiceSpec", "loadBalancerClass"): ("spec.loadBalancerClass", "no load balancer is provisioned"),
}


@contextlib.contextmanager
def collecting() -> Iterator[list[tuple[type | None, str]]]:
    """Collect ``(struct class, JSON key)`` for every field the manifest decoder drops inside
    the block, each top-level object's preceded by ``(None, "")`` (nested blocks each see
    their own)."""
    from kubesim.manifests import decode

    outer = decode.IGNORED_SEEN
    seen: list[tuple[type | None, str]] = []
    decode.IGNORED_SEEN = seen
    try:
        yield seen
    finally:
        decode.IGNORED_SEEN = outer


def _pod_specs(obj: Any) -> Iterator[tuple[str, Any]]:
    spec = getattr(obj, "spec", None)
    if spec is None:
        return
    if obj.kind == "Pod":
        yield "spec", spec
    template = getattr(spec, "template", None)
    if template is not None and hasattr(template, "spec"):
        yield "spec.template.spec", template.spec


#: Inert kinds (:mod:`kubesim.inert`) that would change where or whether pods run, or how
#: traffic is routed, if a controller acted on them -> what kubesim does instead.
INERT_EFFECTS: dict[str, str] = {
    "Job": "no pods are created for it",
    "CronJob": "no Jobs are created for it",
    "HorizontalPodAutoscaler": "nothing scales the target",
    "PodDisruptionBudget": "evictions and drains ignore it",
    "Ingress": "no ingress controller routes traffic for it",
    "NetworkPolicy": "traffic is not filtered",
    "LimitRange": "pods get no default resources from it",
    "ResourceQuota": "creates are not limited by it",
}


def object_warnings(obj: Any) -> list[str]:
    """The fields of ``obj`` that kubesim stores but does not act on, as messages.
    ``O(containers + affinity terms)``."""
    effect = INERT_EFFECTS.get(obj.kind) if getattr(type(obj), "inert", False) else None
    if effect is not None:
        return [f"{obj.kind} is stored but not modelled: {effect}"]
    out: list[str] = []
    for where, spec in _pod_specs(obj):
        affinity = getattr(spec, "affinity", None)
        na = affinity.node_affinity if affinity is not None else None
        if na is not None and na.preferred_during_scheduling_ignored_during_execution:
            out.append(
                f"{where}.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution is stored but "
                "not scored: the scheduler honours only the required terms"
            )
        for c in (*spec.init_containers, *spec.containers):
            if c.resources.requests:
                out.append(
                    f"{where}.containers[*].resources.requests is stored but not used for placement: "
                    "the scheduler fits pods by count (allocatable pods)"
                )
                break
    if obj.kind == "Service" and obj.spec.session_affinity == "ClientIP":
        out.append("spec.sessionAffinity: ClientIP is stored but not modelled: every connect() picks a backend at random")
    if obj.kind == "Node" and any(t.effect == "PreferNoSchedule" for t in obj.spec.taints):
        out.append("spec.taints: PreferNoSchedule is stored but not scored: the scheduler ignores it")
    return out


def _name(obj: Any) -> str:
    meta = obj.metadata
    return f'{obj.kind} "{meta.name or meta.generate_name}"'


def _per_object(seen: Iterable[tuple[type | None, str]]) -> list[list[tuple[type, str]]]:
    groups: list[list[tuple[type, str]]] = []
    for cls, key in seen:
        if cls is None:
            groups.append([])
        elif groups:
            groups[-1].append((cls, key))
        else:
            groups.append([(cls, key)])
    return groups


def emit(
    objs: Iterable[Any], seen: Iterable[tuple[type | None, str]], *, objects: bool = True, stacklevel: int = 3
) -> list[str]:
    """Warn (:class:`ModelWarning`) once per distinct message about the fields ``seen``
    dropped while decoding ``objs`` (named by object when the decoder's object markers line
    up with ``objs``) and (``objects=True``) what :func:`object_warnings` finds in them;
    returns the messages."""
    objs = list(objs)
    messages: list[str] = []
    groups = _per_object(seen)
    if len(groups) != len(objs):  # not one group per object: report them unattributed
        groups = [[x for g in groups for x in g]]
        owners: list[str] = [_name(objs[0]) + ": " if len(objs) == 1 else ""]
    else:
        owners = [_name(o) + ": " for o in objs]
    for prefix, group in zip(owners, groups, strict=True):
        dropped: list[tuple[str, str]] = []
        for cls, key in group:
            info = IGNORED_FIELDS.get((cls.__name__, key))
            if info is not None and info not in dropped:
                dropped.append(info)
        for path, what in dropped:
            messages.append(f"{prefix}{path} is not modelled: {what}")
    for obj in objs if objects else ():
        for m in object_warnings(obj):
            messages.append(f"{_name(obj)}: {m}")
    unique = list(dict.fromkeys(messages))
    for m in unique:
        warnings.warn(ModelWarning(m), stacklevel=stacklevel)
    return unique
