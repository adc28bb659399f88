"""The lean engine: one Deployment behind one Service on a set of nodes, created, settled,
rolled out and scaled, with the change log of the full :class:`kubesim.Cluster`.

What it keeps from the full model, and what it drops
====================================================

The engine replays the same controllers in the same order on the same clock and the same seeded
random, so it writes the same change log record for record (``seq``, ``time``, ``verb``,
``kind``, ``namespace``, ``name``, ``resource_version``, ``actor``, sizes, ``labels``,
``trigger_time``, ``outcome``, ``cause``). It keeps:

* the clock (:class:`kubesim.clock.Clock`) and the work queues
  (:class:`kubesim.controllers.runtime.WorkQueue`) with their rate limiters, so every sync runs
  at the instant and in the order it runs in the full model;
* the controllers' decision logic, called as it is: the rollout planner
  (:mod:`kubesim.controllers.workloads.rollout`), the ReplicaSet's running counts and deletion
  ranking, the incremental Endpoints engine and EndpointSlice planner with their trigger-time
  trackers, the kubelet's condition and readiness rules;
* exact sizes from :func:`kubesim.wire.sizes3` (its per-entry caches make Endpoints and slices
  ``O(changed entries)``).

It drops what the change log does not need: validation and defaulting of the controllers'
own writes (the user's writes — the manifests, ``set image``, ``scale`` — still take the full
path), watch-event objects and the generic watch loop (each kind's handlers are called
directly, in the order the full model registers them), the change-log commit hooks and their
dirty-set replays (the engine marks the pods itself), label indexes, the garbage collector (no
owner is deleted in these workloads), and ``ChangeEvent`` objects (the log is columnar,
:class:`~kubesim.lean.log.LeanLog`).

Anything outside the workload it models raises :class:`Unsupported` before any work is done.
"""

from __future__ import annotations

import json
import math
import random
import uuid
from collections.abc import Hashable, Mapping
from typing import Any, TypeVar

import attrs

from kubesim import defaults as _defaults
from kubesim import manifests as _manifests
from kubesim import scenarios as _scenarios
from kubesim import validation as _validation
from kubesim.apiserver import (
    _GENERATION_KINDS,
    DEFAULT_MAX_REQUEST_BYTES,
    EPOCH,
    TRIGGER_TIME_ANNOTATION,
    _carried_over_meta,
    _generation_bumps,
    _stamped_meta,
    _with_meta,
)
from kubesim.clock import Clock
from kubesim.cluster import (
    LAST_APPLIED_ANNOTATION,
    REGION_LABEL,
    ZONE_LABEL,
    _strip_for_last_applied,
    _zone_names,
)
from kubesim.controllers import endpointutil as eu
from kubesim.controllers.endpoints.controller import (
    IncrementalTriggerTime,
    StaleEndpoints,
    pod_trigger_time,
)
from kubesim.controllers.endpoints.incremental import ServiceEndpoints
from kubesim.controllers.endpointslice.controller import (
    IncrementalTriggerTimes,
    _LiveNodes,
    _SliceView,
)
from kubesim.controllers.endpointslice.incremental import ServiceSlicer
from kubesim.controllers.endpointslice.reconciler import SliceMetrics
from kubesim.controllers.endpointslice.topology import TopologyCache
from kubesim.controllers.node.kubelet import (
    PodRuntime,
    _conditions,
    readiness_for,
)
from kubesim.controllers.runtime import (
    Options,
    WorkQueue,
    default_controller_rate_limiter,
    endpointslice_rate_limiter,
)
from kubesim.controllers.workloads.ranking import DeletionRanking
from kubesim.controllers.workloads.replicaset import _OwnedPods, controller_owner
from kubesim.controllers.workloads.rollout import (
    RECREATE,
    apply_scale_decision,
    calculate_deployment_status,
    effective_strategy,
    find_new_replica_set,
    is_pod_active,
    new_replica_set,
    plan_deployment_sync,
    replicas_diff,
)
from kubesim.errors import InvalidObject, InvalidOption, KubesimError, NotFound, RequestTooLarge
from kubesim.ipam import NodeCIDRAllocator, RangeAllocator, ServiceIPAllocator
from kubesim.lean.log import LeanLog
from kubesim.lean.sizes import ShapeSizer
from kubesim.manifests import parse_time_nano
from kubesim.objects import (
    Node,
    NodeCondition,
    NodeSpec,
    NodeStatus,
    ObjectMeta,
    OwnerReference,
    Pod,
    PodIP,
    PodStatus,
)
from kubesim.timing import Timing
from kubesim.wire import endpoints as _wire_endpoints
from kubesim.wire.caches import _PAIR_SHIFT

__all__ = ["LeanCluster", "Unsupported"]

_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

RS_ACTOR = "replicaset-controller"
DEPLOY_ACTOR = "deployment-controller"
EP_ACTOR = "endpoint-controller"
SLICE_ACTOR = "endpointslice-controller"


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
_T = TypeVar("_T")


def _evolve(obj: _T, **changes: Any) -> _T:
    """``attrs.evolve`` without its per-call introspection (the field names are read once per
    class): the same ``__init__`` call, converters included. ``O(fields)``."""
    cls = type(obj)
    names = _FIELD_NAMES.get(cls)
    if names is None:
        fields = attrs.fields(cls)  # type: ignore[arg-type]
        if not all(f.init and f.alias == f.name for f in fields):
            return attrs.evolve(obj, **changes)  # type: ignore[misc]
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields)
    out: _T = cls(*[changes[n] if n in changes else getattr(obj, n) for n in names])
    return out


class Unsupported(KubesimError):
    """The lean engine does not model this option or workload: use :class:`kubesim.Cluster`."""


#: Cluster keywords the lean engine accepts (the rest of ``kubesim.Cluster``'s raise).
SUPPORTED_OPTIONS = frozenset({
    "seed", "nodes", "zones", "max_endpoints_per_slice", "endpoint_updates_batch_period",
    "endpointslice_updates_batch_period", "mirroring_endpointslice_updates_batch_period",
    "mirroring_max_endpoints_per_subset", "endpoints_truncate", "max_request_bytes", "node_cpu",
    "timing", "controllers",
})

#: The controller sets the lean engine models: all of them, or all but the Endpoints
#: controller and mirroring (the reproductions' one-endpoint-per-slice run).
_ALL_CONTROLLERS = ("scheduler", "kubelet", "garbagecollector", "replicaset", "deployment", "endpoint",
                    "endpointslice", "endpointslicemirroring", "nodelifecycle", "namespace")
_NO_ENDPOINTS = tuple(c for c in _ALL_CONTROLLERS if c not in ("endpoint", "endpointslicemirroring"))


class _Store:
    """The objects, by kind, namespace and name; the read interface the reused planners need
    (``try_get``, ``list_namespace``). ``O(1)`` reads."""

    __slots__ = ("_by_kind", "epoch")

    def __init__(self) -> None:
        self._by_kind: dict[str, dict[str, dict[str, Any]]] = {}
        self.epoch = EPOCH

    def bucket(self, kind: str, ns: str) -> dict[str, Any]:
        by_ns = self._by_kind.get(kind)
        if by_ns is None:
            by_ns = self._by_kind[kind] = {}
        b = by_ns.get(ns)
        if b is None:
            b = by_ns[ns] = {}
        return b

    def try_get(self, kind: str, name: str, namespace: str | None = "default") -> Any | None:
        by_ns = self._by_kind.get(kind)
        if by_ns is None:
            return None
        b = by_ns.get("" if kind == "Node" else (namespace or "default"))
        return None if b is None else b.get(name)

    def list_namespace(self, kind: str, namespace: str) -> Mapping[str, Any]:
        by_ns = self._by_kind.get(kind)
        if by_ns is None:
            return {}
        return by_ns.get("" if kind == "Node" else namespace, {})

    def snapshot(self) -> dict[tuple[str, str, str], Any]:
        return {
            (kind, ns, name): obj
            for kind, by_ns in self._by_kind.items()
            for ns, bucket in by_ns.items()
            for name, obj in bucket.items()
        }


class LeanCluster:
    """A lean simulation of one Deployment behind one Service.

    ``LeanCluster(seed=0, nodes=5000, max_endpoints_per_slice=100, ...)`` takes the keywords of
    :class:`kubesim.Cluster` listed in :data:`SUPPORTED_OPTIONS` (others raise
    :class:`Unsupported`). Then :meth:`deploy` (as :func:`kubesim.scenarios.deploy`),
    :meth:`run`, :meth:`set_image`, :meth:`scale`; :attr:`changes` is the change log and
    :meth:`churn` its report. ``check=True`` runs a full :class:`kubesim.Cluster` beside it and
    raises :class:`~kubesim.lean.check.Divergence` at the first record where the two logs
    differ (see :mod:`kubesim.lean.check`).
    """

    def __init__(self, *, check: bool = False, **options: Any) -> None:
        unknown = sorted(set(options) - SUPPORTED_OPTIONS)
        if unknown:
            raise Unsupported(f"the lean engine does not model the Cluster options {unknown}")
        self._options_given = dict(options)
        seed = options.get("seed", 0)
        nodes = options.get("nodes", 3)
        zones = options.get("zones", 3)
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise InvalidOption(f"seed must be an integer, got {seed!r}")
        if not isinstance(nodes, int) or isinstance(nodes, bool) or not 0 <= nodes <= 100_000:
            raise InvalidOption(f"nodes must be an integer between 0 and 100000, got {nodes!r}")
        if not isinstance(zones, int) or isinstance(zones, bool) or not 1 <= zones <= 100:
            raise InvalidOption(f"zones must be an integer between 1 and 100, got {zones!r}")
        self.options = Options(
            max_endpoints_per_slice=options.get("max_endpoints_per_slice", 100),
            endpoint_updates_batch_period=options.get("endpoint_updates_batch_period", 0.0),
            endpointslice_updates_batch_period=options.get("endpointslice_updates_batch_period", 0.0),
            mirroring_endpointslice_updates_batch_period=options.get("mirroring_endpointslice_updates_batch_period", 0.0),
            mirroring_max_endpoints_per_subset=options.get("mirroring_max_endpoints_per_subset", 1000),
            endpoints_truncate=options.get("endpoints_truncate", True),
        )
        self.max_request_bytes = options.get("max_request_bytes", DEFAULT_MAX_REQUEST_BYTES)
        if not isinstance(self.max_request_bytes, int) or self.max_request_bytes < 1:
            raise InvalidOption(f"max_request_bytes must be a positive integer, got {self.max_request_bytes!r}")
        timing = options.get("timing")
        self.timing = timing if timing is not None else Timing()
        if self.timing.controller_sync.high > 0:
            raise Unsupported("the lean engine models instantaneous controller syncs only (timing.controller_sync = 0)")
        controllers = options.get("controllers")
        names = _ALL_CONTROLLERS if controllers is None else tuple(controllers)
        if set(names) == set(_ALL_CONTROLLERS):
            self._endpoints_on = True
        elif set(names) == set(_NO_ENDPOINTS):
            self._endpoints_on = False
        else:
            raise Unsupported(f"the lean engine models all controllers, or all but endpoint and "
                              f"endpointslicemirroring; got {sorted(names)}")
        self.seed = seed
        self.rng = random.Random(seed)
        self.clock = Clock()
        self.store = _Store()
        self.epoch = EPOCH
        self.changes = LeanLog()
        self.sizer = ShapeSizer()
        self._rv = 0
        self._buffer: list[tuple[str, str, Any, Any]] | None = None
        self._service_ips = ServiceIPAllocator("10.96.0.0/12", self.rng)
        self._node_cidrs = NodeCIDRAllocator("10.244.0.0/16" if nodes <= 255 else "10.128.0.0/9", 24)
        self.pod_ranges: dict[str, list[RangeAllocator]] = {}
        self.zones = _zone_names(zones)
        self._node_cpu = options.get("node_cpu", "4")
        self._node_count = 0
        self._deployed: str | None = None
        self._pod_defaults: dict[str, Pod] = {}  # RS uid -> its defaulted, validated pod template
        # controllers' state
        self._sched = _SchedulerState()
        self.kubelet_pods: dict[tuple[str, str], PodRuntime] = {}
        self.behaviours: dict[tuple[str, str], Any] = {}
        self._rs_queue = WorkQueue(self.clock, self._rs_sync, name="replicaset")
        self._rs_owned: dict[str, _OwnedPods] = {}
        self._ranking = DeletionRanking()
        self._d_queue = WorkQueue(self.clock, self._d_sync, name="deployment")
        self._ep = _EndpointsState()
        self._ep_queue = WorkQueue(self.clock, self._ep_sync, name="endpoint",
                                   rate_limiter=default_controller_rate_limiter())
        self._sl = _SliceState(self)
        self._sl_queue = WorkQueue(self.clock, self._sl_sync, name="endpointslice",
                                   rate_limiter=endpointslice_rate_limiter())
        self.events: list[tuple[float, str, str, str, str]] = []
        self._full: Any = None
        self._checked = 0
        if check:
            import kubesim

            self._full = kubesim.Cluster(**options)
        self._buffer = []
        for _ in range(nodes):
            self._add_node()
        self._flush()
        self._compare()

    # ------------------------------------------------------------------ public

    @property
    def now(self) -> float:
        """Virtual seconds."""
        return self.clock.now

    def run(self, until: float | None = None) -> LeanCluster:
        """Advance virtual time until nothing is pending (or up to ``until``)."""
        self.clock.run(until)
        if self._full is not None:
            self._full.run(until)
        self._compare()
        return self

    def deploy(self, name: str = "web", **kwargs: Any) -> None:
        """:func:`kubesim.scenarios.deploy`: apply a Deployment and its Service."""
        if kwargs.get("namespace", "default") != "default":
            raise Unsupported("the lean engine models the default namespace only")
        text = _scenarios.web_manifests(name, **kwargs)
        self._with_cause("deploy", lambda: self._apply_yaml(text))
        if self._full is not None:
            _scenarios.deploy(self._full, name, **kwargs)
        self._compare()

    def apply_yaml(self, text: str) -> None:
        """``Cluster.apply_yaml`` for new Deployments and Services (one of each at most)."""
        self._apply_yaml(text)
        if self._full is not None:
            self._full.apply_yaml(text)
        self._compare()

    def list_pods(self) -> list[Pod]:
        """``cluster.list("Pod")``: the pods of the default namespace by name."""
        pods = self.store.list_namespace("Pod", "default")
        return [pods[n] for n in sorted(pods)]

    def fail_readiness(self, pod: str, duration: float) -> None:
        """:func:`kubesim.scenarios.fail_readiness`: the pod's readiness probe fails for
        ``duration`` seconds from now."""
        from kubesim.probes import AppBehaviour

        if not duration > 0:
            raise InvalidOption(f"duration must be positive, got {duration!r}")

        def go() -> None:
            self.get("Pod", pod)
            key = ("default", pod)
            rt = self.kubelet_pods.get(key)
            since = float(rt.since) if rt is not None and rt.started else float(self.clock.now)
            start = self.clock.now - since
            self._set_behaviour(key, AppBehaviour(unready=[(start, start + duration)]))

        self._with_cause("readiness", go)
        if self._full is not None:
            _scenarios.fail_readiness(self._full, pod, duration)
        self._compare()

    def _set_behaviour(self, key: tuple[str, str], behaviour: Any) -> None:
        # Kubelet.set_behaviour
        self.behaviours[key] = behaviour
        rt = self.kubelet_pods.get(key)
        if rt is None or not rt.started or rt.terminating:
            return
        for timer in rt.timers:
            timer.cancel()
        rt.timers.clear()
        pod = self.store.try_get("Pod", key[1], key[0])
        if pod is None:
            return
        rt.readiness = readiness_for(pod, rt.since, behaviour)
        self._readiness_flip(key, rt)

    def set_image(self, name: str, image: str) -> None:
        """:func:`kubesim.scenarios.set_image`: start a rollout."""
        def go() -> None:
            d = self._get("Deployment", name)
            spec = d.spec.template.spec
            containers = tuple(attrs.evolve(c, image=image) for c in spec.containers)
            template = attrs.evolve(d.spec.template, spec=attrs.evolve(spec, containers=containers))
            self._user_update(attrs.evolve(d, spec=attrs.evolve(d.spec, template=template)), "kubectl")

        self._with_cause("rollout", go)
        if self._full is not None:
            _scenarios.set_image(self._full, name, image)
        self._compare()

    def scale(self, name: str, replicas: int) -> None:
        """:func:`kubesim.scenarios.scale`."""
        if not isinstance(replicas, int) or replicas < 0:
            raise InvalidOption(f"replicas must be a non-negative integer, got {replicas!r}")

        def go() -> None:
            d = self._get("Deployment", name)
            self._user_update(attrs.evolve(d, spec=attrs.evolve(d.spec, replicas=replicas)), "kubectl")

        self._with_cause("scale", go)
        if self._full is not None:
            _scenarios.scale(self._full, name, replicas)
        self._compare()

    def get(self, kind: str, name: str, namespace: str = "default") -> Any:
        """The stored object; raises :class:`~kubesim.errors.NotFound`."""
        obj = self.store.try_get(kind, name, namespace)
        if obj is None:
            raise NotFound(kind, name, "" if kind == "Node" else namespace)
        return obj

    def snapshot(self) -> dict[tuple[str, str, str], Any]:
        """Every stored object by ``(kind, namespace, name)``."""
        return self.store.snapshot()

    def churn(self, **kwargs: Any) -> Any:
        """:meth:`kubesim.Cluster.churn` over the lean log."""
        from kubesim import report

        kwargs.setdefault("groups", report.default_groups(len(self.pod_ranges)))
        return report.churn(self.changes, **kwargs)

    # ------------------------------------------------------------------ check mode

    def _compare(self) -> None:
        if self._full is None:
            return
        from kubesim.lean.check import compare_logs

        self._checked = compare_logs(self.changes, self._full.changes, start=self._checked)

    # ------------------------------------------------------------------ helpers

    def _with_cause(self, cause: str, fn: Any) -> None:
        clock = self.clock
        if clock.context:
            fn()
            return
        outer, clock.context = clock.context, cause
        try:
            fn()
        finally:
            clock.context = outer

    def _get(self, kind: str, name: str) -> Any:
        obj = self.store.try_get(kind, name, "default")
        if obj is None:
            raise NotFound(kind, name, "default")
        return obj

    def _now_ts(self) -> int:
        return self.epoch + int(math.floor(self.clock.now))

    def _new_uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _generate_name(self, base: str, bucket: Mapping[str, Any]) -> str:
        base = base[:58]
        choice = self.rng.choice
        while True:
            name = base + "".join([choice(_NAME_ALPHABET) for _ in range(5)])
            if name not in bucket:
                return name

    def _flush(self) -> None:
        buffered, self._buffer = self._buffer, None
        for ev in buffered or ():
            self._dispatch(*ev)

    # ------------------------------------------------------------------ writes

    def _commit(self, verb: str, obj: Any, old: Any, actor: str, sizes: tuple[int, int, int], event: str) -> Any:
        """The one place a write lands: resourceVersion, store, log, handlers."""
        meta = obj.metadata
        kind = obj.kind
        if sizes[2] > self.max_request_bytes:
            raise RequestTooLarge(kind, meta.name, sizes[2], self.max_request_bytes)
        self._rv += 1
        bucket = self.store.bucket(kind, meta.namespace)
        if verb == "delete":
            del bucket[meta.name]
        else:
            bucket[meta.name] = obj
        trig = meta.annotations.get(TRIGGER_TIME_ANNOTATION) if meta.annotations else None
        trigger_time = None
        if trig is not None:
            try:
                trigger_time = parse_time_nano(trig) - self.epoch
            except ValueError:
                trigger_time = None
        self.changes.append(self.clock.now, verb, kind, meta.namespace, meta.name, self._rv, actor,
                            sizes[0], sizes[1], meta.labels, trigger_time, self.clock.context)
        if kind == "Pod":
            self._ep.mark(meta.name)
            self._sl.mark(meta.name)
        if self._buffer is not None:
            self._buffer.append((event, kind, old, obj))
        else:
            self._dispatch(event, kind, old, obj)
        return obj

    def _stamp(self, obj: Any, meta: ObjectMeta, generation: int | None = None) -> tuple[Any, tuple[int, int, int]]:
        meta = _stamped_meta(meta, str(self._rv + 1), meta.generation if generation is None else generation)
        obj = _with_meta(obj, meta)
        return obj, self.sizer.sizes(obj)

    def _create(self, obj: Any, actor: str, *, user: bool = False) -> Any:
        """``APIServer.create``; ``user``: default and validate as the API server does (the
        controllers' creates are trusted)."""
        kind = obj.kind
        meta = obj.metadata
        if user:
            obj = _defaults.apply_defaults(obj)
            if not obj.metadata.name and not obj.metadata.generate_name:
                raise InvalidOption("name or generateName is required")
            _validation.validate(obj)
            meta = obj.metadata
        bucket = self.store.bucket(kind, meta.namespace)
        name = meta.name
        if not name:
            name = self._generate_name(meta.generate_name, bucket)
        elif name in bucket:
            raise Unsupported(f"{kind} {name} already exists")
        if kind == "Service":
            obj = self._allocate_service_ips(obj)
            meta = obj.metadata
        new_meta = attrs.evolve(
            meta, name=name, uid=self._new_uid(), resource_version="",
            generation=1 if kind in _GENERATION_KINDS else 0, creation_timestamp=self._now_ts(),
            deletion_timestamp=None, deletion_grace_period_seconds=None, self_link="",
        )
        obj, sizes = self._stamp(obj, new_meta)
        return self._commit("create", obj, None, actor, sizes, "ADDED")

    def _update(self, obj: Any, actor: str, *, user: bool = False) -> Any:
        """``APIServer.update`` for an unconditional update (no validation, no defaulting
        unless ``user``)."""
        kind = obj.kind
        meta = obj.metadata
        ns = meta.namespace
        old = self.store.bucket(kind, ns).get(meta.name)
        if old is None:
            raise NotFound(kind, meta.name, ns)
        old_meta = old.metadata
        if user:
            obj = _defaults.apply_defaults(obj)
        new_meta = _carried_over_meta(obj.metadata, old_meta, ns)
        if new_meta is not obj.metadata:
            obj = _with_meta(obj, new_meta)
        if obj == old:
            return old
        if user:
            _validation.validate(obj, old)
        generation = old_meta.generation
        if kind in _GENERATION_KINDS and _generation_bumps(kind, old, obj):
            generation += 1
        if kind == "EndpointSlice":
            _vouch_slice_endpoints(old.endpoints, obj.endpoints)
        obj, sizes = self._stamp(obj, new_meta, generation)
        return self._commit("update", obj, old, actor, sizes, "MODIFIED")

    def _user_update(self, obj: Any, actor: str) -> Any:
        return self._update(obj, actor, user=True)

    def _delete_pod(self, name: str, actor: str) -> Any:
        """``APIServer.delete`` of a Pod: graceful when bound and not terminal."""
        obj: Pod | None = self.store.try_get("Pod", name, "default")
        if obj is None:
            raise NotFound("Pod", name, "default")
        meta = obj.metadata
        grace = obj.spec.termination_grace_period_seconds
        grace = 30 if grace is None else grace
        if obj.status.phase in ("Succeeded", "Failed") or not obj.spec.node_name:
            grace = 0
        graceful = grace > 0
        if meta.deletion_timestamp is not None:
            if graceful or meta.finalizers:
                return obj
            return self._remove(obj, actor)
        if graceful or meta.finalizers:
            new_meta = _evolve(meta, deletion_timestamp=self._now_ts() + grace, deletion_grace_period_seconds=grace)
            marked, sizes = self._stamp(obj, new_meta, meta.generation + 1)
            return self._commit("update", marked, obj, actor, sizes, "MODIFIED")
        return self._remove(obj, actor)

    def _remove(self, obj: Any, actor: str) -> Any:
        last, sizes = self._stamp(obj, obj.metadata)
        return self._commit("delete", last, obj, actor, sizes, "DELETED")

    def _allocate_service_ips(self, svc: Any) -> Any:
        spec = svc.spec
        if spec.type == "ExternalName" or spec.cluster_ip == "None":
            raise Unsupported("the lean engine models ClusterIP Services only")
        if spec.cluster_ip:
            raise Unsupported("the lean engine allocates the Service's cluster IP itself")
        policy = spec.ip_family_policy or "SingleStack"
        families = spec.ip_families or ("IPv4",)
        if policy != "SingleStack" or tuple(families) != ("IPv4",):
            raise Unsupported("the lean engine models single-stack IPv4 Services only")
        ip = self._service_ips.allocate()
        return attrs.evolve(svc, spec=attrs.evolve(spec, cluster_ip=ip, cluster_ips=(ip,), ip_families=("IPv4",),
                                                   ip_family_policy=policy))

    def _apply_yaml(self, text: str) -> None:
        objs = _manifests.load_yaml(text)
        self._buffer = []
        for obj in objs:
            meta = obj.metadata
            ns = meta.namespace or "default"
            manifest = _manifests.to_manifest(obj)
            config = json.dumps(_strip_for_last_applied(manifest, ns), separators=(",", ":"), sort_keys=True) + "\n"
            annotations = meta.annotations.set(LAST_APPLIED_ANNOTATION, config)
            obj = attrs.evolve(obj, metadata=attrs.evolve(meta, namespace=ns, annotations=annotations))
            if self.store.try_get(obj.kind, meta.name, ns) is not None:
                raise Unsupported("the lean engine applies new objects only")
            if ns != "default":
                raise Unsupported("the lean engine models the default namespace only")
            if obj.kind == "Service":
                if self._deployed is not None:
                    raise Unsupported("the lean engine models one Service")
                self._deployed = meta.name
            elif obj.kind == "Deployment":
                if self.store.list_namespace("Deployment", ns):
                    raise Unsupported("the lean engine models one Deployment")
                if obj.spec.min_ready_seconds:
                    raise Unsupported("the lean engine models minReadySeconds 0 only")
            else:
                raise Unsupported(f"the lean engine applies Deployments and Services only, not {obj.kind}")
            try:
                self._create(obj, "kubectl", user=True)
            except InvalidObject:
                raise
        self._flush()

    def _add_node(self) -> None:
        self._node_count += 1
        i = self._node_count
        name = f"node-{i}"
        zone = self.zones[(i - 1) % len(self.zones)]
        cidr = self._node_cidrs.allocate()
        cpu = self._node_cpu
        now = self.epoch + int(self.clock.now)
        node = Node(
            metadata=ObjectMeta(
                name=name,
                labels={"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", ZONE_LABEL: zone,
                        REGION_LABEL: "region-1"},
            ),
            spec=NodeSpec(pod_cidr=cidr, pod_cidrs=(cidr,)),
            status=NodeStatus(
                capacity={"cpu": cpu, "memory": "16Gi", "pods": "110"},
                allocatable={"cpu": cpu, "memory": "16Gi", "pods": "110"},
                conditions=(NodeCondition(type="Ready", status="True", last_heartbeat_time=now,
                                          last_transition_time=now, reason="KubeletReady",
                                          message="kubelet is posting ready status"),),
            ),
        )
        node = attrs.evolve(node, metadata=attrs.evolve(node.metadata, namespace=""))
        self._create(node, "kubelet", user=i == 1)
        self.pod_ranges[name] = [RangeAllocator(cidr)]

    # ------------------------------------------------------------------ dispatch

    def _dispatch(self, event: str, kind: str, old: Any, new: Any) -> None:
        # The handlers of each kind, in the order the full model's controllers register their
        # watches (scheduler, kubelet, garbage collector, replicaset, deployment, endpoint,
        # endpointslice, endpointslicemirroring).
        if kind == "Pod":
            self._sched_on_pod(event, old, new)
            self._kubelet_on_pod(event, old, new)
            self._rs_on_pod(event, old, new)
            self._d_on_pod(event, new)
            self._endpoints_on_pod(event, old, new)
        elif kind == "ReplicaSet":
            key = f"{new.metadata.namespace}/{new.metadata.name}"
            if event == "DELETED":
                self._rs_owned.pop(key, None)
                self._ranking.drop_replica_set(key)
            self._rs_queue.add(key)
            ref = controller_owner(new)
            if ref is not None and ref.kind == "Deployment":
                self._d_queue.add(f"{new.metadata.namespace}/{ref.name}")
        elif kind == "Deployment":
            self._d_queue.add(f"{new.metadata.namespace}/{new.metadata.name}")
        elif kind == "Service":
            key = f"{new.metadata.namespace}/{new.metadata.name}"
            if self._endpoints_on:
                self._ep_queue.add(key)
            self._sl_queue.add(key)
        elif kind == "Node":
            self._sched_on_node(event, new)
        elif kind == "Endpoints" and event == "DELETED" and self._endpoints_on:
            self._ep_queue.add(f"{new.metadata.namespace}/{new.metadata.name}")
        # EndpointSlice events: the slice controller records its own writes (never a resync);
        # mirroring ignores controller-managed objects.

    # ------------------------------------------------------------------ scheduler

    def _sched_on_node(self, event: str, node: Node) -> None:
        s = self._sched
        name = node.metadata.name
        if event == "DELETED":
            s.schedulable.pop(name, None)
            return
        was = s.schedulable.get(name, False)
        ok = node.status.ready and not node.spec.unschedulable and not any(
            t.effect in ("NoSchedule", "NoExecute") for t in node.spec.taints
        )
        s.schedulable[name] = ok
        try:
            s.capacity[name] = int(node.status.allocatable.get("pods", "110"))
        except ValueError:
            s.capacity[name] = 110
        s.pods_on.setdefault(name, 0)
        if ok and not was:
            s.push(name, self.rng)
            if s.pending:
                self.clock.schedule(0.0, self._sched_retry)

    def _sched_on_pod(self, event: str, old: Pod | None, pod: Pod) -> None:
        s = self._sched
        key = (pod.metadata.namespace, pod.metadata.name)
        if event == "DELETED":
            s.pending.pop(key, None)
            node = pod.spec.node_name
            if node and node in s.pods_on:
                s.pods_on[node] -= 1
                if s.schedulable.get(node):
                    s.push(node, self.rng)
            return
        if event == "MODIFIED" and old is not None and not old.spec.node_name and pod.spec.node_name:
            return
        if event == "ADDED" and pod.spec.node_name:
            s.pods_on[pod.spec.node_name] = s.pods_on.get(pod.spec.node_name, 0) + 1
            return
        if event == "ADDED" and not pod.spec.node_name and pod.metadata.deletion_timestamp is None:
            if pod.spec.scheduler_name not in ("", "default-scheduler"):
                return
            delay = self.timing.scheduler_latency.draw(self.rng)
            s.pending[key] = None
            self.clock.schedule(delay, lambda: self._sched_bind(key))

    def _sched_bind(self, key: tuple[str, str]) -> None:
        s = self._sched
        if key not in s.pending:
            return
        pod: Pod | None = self.store.try_get("Pod", key[1], key[0])
        if pod is None or pod.spec.node_name or pod.metadata.deletion_timestamp is not None:
            s.pending.pop(key, None)
            return
        if pod.spec.node_selector:
            raise Unsupported("the lean engine does not model node selectors")
        node = s.choose()
        if node is None:
            s.unschedulable += 1
            return
        del s.pending[key]
        now = self.epoch + int(self.clock.now)
        from kubesim.objects import PodCondition

        conditions = tuple(c for c in pod.status.conditions if c.type != "PodScheduled") + (
            PodCondition(type="PodScheduled", status="True", last_transition_time=now),
        )
        # (an unconditional update: the stored metadata is carried over as it is)
        bound = _evolve(
            pod,
            spec=_evolve(pod.spec, node_name=node),
            status=_evolve(pod.status, phase=pod.status.phase or "Pending", conditions=conditions),
        )
        self._update(bound, "scheduler")
        s.bound += 1
        s.pods_on[node] += 1
        s.push(node, self.rng)

    def _sched_retry(self) -> None:
        for key in list(self._sched.pending):
            self._sched_bind(key)

    # ------------------------------------------------------------------ kubelet

    def _later(self, rt: PodRuntime, delay: float, fn: Any) -> None:
        rt.timers.append(self.clock.schedule(delay, fn))

    def _kubelet_on_pod(self, event: str, old: Pod | None, pod: Pod) -> None:
        key = (pod.metadata.namespace, pod.metadata.name)
        rt = self.kubelet_pods.get(key)
        if event == "DELETED":
            if rt is not None and rt.uid == pod.metadata.uid:
                self._kubelet_forget(key, rt)
            return
        if rt is not None and rt.uid != pod.metadata.uid:
            self._kubelet_forget(key, rt)
            rt = None
        if not pod.spec.node_name or pod.status.phase in ("Succeeded", "Failed"):
            return
        if rt is None:
            if pod.metadata.deletion_timestamp is not None:
                return
            rt = PodRuntime(uid=pod.metadata.uid, node=pod.spec.node_name)
            self.kubelet_pods[key] = rt
            t = self.timing
            admit = t.kubelet_admit.draw(self.rng)
            start = max(admit, t.container_start.draw(self.rng))
            r = rt
            self._later(rt, admit, lambda: self._kubelet_admit(key, r))
            self._later(rt, start, lambda: self._kubelet_start(key, r))
            return
        if pod.metadata.deletion_timestamp is not None and not rt.terminating:
            self._kubelet_terminate(key, rt, pod)

    def _kubelet_forget(self, key: tuple[str, str], rt: PodRuntime) -> None:
        for timer in rt.timers:
            timer.cancel()
        rt.timers.clear()
        ranges = self.pod_ranges.get(rt.node, [])
        for ip in rt.ips:
            for r in ranges:
                try:
                    if r.in_use(ip):
                        r.release(ip)
                except ValueError:
                    pass
        if self.kubelet_pods.get(key) is rt:
            del self.kubelet_pods[key]
            self.behaviours.pop(key, None)

    def _write_status(self, key: tuple[str, str], rt: PodRuntime, mutate: Any) -> None:
        pod = self.store.try_get("Pod", key[1], key[0])
        if pod is None or pod.metadata.uid != rt.uid:
            return
        new = _evolve(pod, status=mutate(pod))
        rt.status_seq += 1
        self._update(new, "kubelet")

    def _kubelet_admit(self, key: tuple[str, str], rt: PodRuntime) -> None:
        if rt.started or rt.terminating:
            return
        now = self.epoch + int(self.clock.now)
        host_ip = self._host_ip(rt.node)

        def mutate(pod: Pod) -> PodStatus:
            return _evolve(pod.status, phase="Pending", host_ip=host_ip, start_time=now,
                                conditions=_conditions(now, False, pod.status.conditions, started=False))

        self._write_status(key, rt, mutate)

    def _host_ip(self, node: str) -> str:
        n = self.store.try_get("Node", node, "")
        if n is not None:
            for a in n.status.addresses:
                if a.type == "InternalIP":
                    return str(a.address)
        return ""

    def _kubelet_start(self, key: tuple[str, str], rt: PodRuntime) -> None:
        if rt.terminating:
            return
        pod = self.store.try_get("Pod", key[1], key[0])
        if pod is None or pod.metadata.uid != rt.uid:
            return
        rt.ips = tuple(r.allocate() for r in self.pod_ranges.get(rt.node, []))
        rt.started = True
        since = self.clock.now
        rt.since = since
        rt.readiness = readiness_for(pod, since, self.behaviours.get(key))
        ready = rt.readiness is None or rt.readiness.ready_at(since)
        rt.ready = ready
        now = self.epoch + int(self.clock.now)
        ips = rt.ips

        def mutate(p: Pod) -> PodStatus:
            return _evolve(p.status, phase="Running", pod_ip=ips[0] if ips else "",
                                pod_ips=tuple(PodIP(ip) for ip in ips), start_time=p.status.start_time or now,
                                conditions=_conditions(now, ready, p.status.conditions, started=True))

        self._write_status(key, rt, mutate)
        self._schedule_readiness(key, rt)

    def _schedule_readiness(self, key: tuple[str, str], rt: PodRuntime, after: float | None = None) -> None:
        if rt.readiness is None or rt.terminating:
            return
        x = self.clock.now - rt.readiness.since if after is None else after
        nxt = rt.readiness.next_offset(x)
        if nxt is None:
            return
        self._later(rt, max(0.0, rt.readiness.since + nxt - self.clock.now),
                    lambda: self._readiness_flip(key, rt, at=nxt))

    def _readiness_flip(self, key: tuple[str, str], rt: PodRuntime, at: float | None = None) -> None:
        if rt.terminating:
            return
        x = at
        if x is None and rt.readiness is not None:
            x = self.clock.now - rt.readiness.since
        ready = rt.readiness is None or rt.readiness.ready_at_offset(x if x is not None else 0.0)
        if ready != rt.ready:
            rt.ready = ready
            now = self.epoch + int(self.clock.now)
            self._write_status(key, rt, lambda p: _evolve(
                p.status, conditions=_conditions(now, ready, p.status.conditions, started=True)))
        self._schedule_readiness(key, rt, after=x)

    def _kubelet_terminate(self, key: tuple[str, str], rt: PodRuntime, pod: Pod) -> None:
        rt.terminating = True
        for timer in rt.timers:
            timer.cancel()
        rt.timers.clear()
        grace = pod.metadata.deletion_grace_period_seconds
        grace = 30 if grace is None else grace
        t = self.timing
        if not rt.started:
            self._later(rt, t.kubelet_delete_delay.draw(self.rng), lambda: self._final_delete(key, rt))
            return
        shutdown = t.app_shutdown.draw(self.rng)
        killed = shutdown > grace
        exit_after = min(shutdown, float(grace))
        phase = "Failed" if killed else "Succeeded"

        def exited() -> None:
            now = self.epoch + int(self.clock.now)
            rt.ready = False
            self._write_status(key, rt, lambda p: _evolve(
                p.status, phase=phase, conditions=_conditions(now, False, p.status.conditions, started=False)))
            self._later(rt, t.kubelet_delete_delay.draw(self.rng), lambda: self._final_delete(key, rt))

        self._later(rt, exit_after, exited)

    def _final_delete(self, key: tuple[str, str], rt: PodRuntime) -> None:
        pod = self.store.try_get("Pod", key[1], key[0])
        if pod is not None and pod.metadata.uid == rt.uid:
            self._remove(pod, "kubelet")
        self._kubelet_forget(key, rt)

    # ------------------------------------------------------------------ ReplicaSet controller

    def _rs_key(self, pod: Pod) -> str | None:
        ref = controller_owner(pod)
        if ref is None or ref.kind != "ReplicaSet":
            return None
        return f"{pod.metadata.namespace}/{ref.name}"

    def _rs_index(self, key: str) -> _OwnedPods:
        idx = self._rs_owned.get(key)
        if idx is None:
            ns, name = eu.split_key(key)
            rs = self.store.try_get("ReplicaSet", name, ns)
            labels = rs.spec.template.metadata.labels if rs is not None else {}
            idx = self._rs_owned[key] = _OwnedPods(labels)
            self._ranking.set_family(key, _family(key, rs))
        return idx

    def _rs_put(self, key: str, idx: _OwnedPods, pod: Pod) -> None:
        if idx.put(pod):
            self._ranking.put(key, pod, self.epoch + self.clock.now)

    def _rs_on_pod(self, event: str, old: Pod | None, pod: Pod) -> None:
        key = self._rs_key(pod)
        if key is None:
            return
        if event == "DELETED":
            idx = self._rs_index(key)
            idx.drop(pod.metadata.name, int(pod.metadata.resource_version or 0))
            self._ranking.drop(key, pod.metadata.name)
        else:
            self._rs_put(key, self._rs_index(key), pod)
        self._rs_queue.add(key)

    def _rs_pods(self, key: str) -> list[Pod]:
        ns, _ = eu.split_key(key)
        pods = self.store.list_namespace("Pod", ns)
        idx = self._rs_owned.get(key)
        return [] if idx is None else [pods[n] for n in idx.pods if n in pods]

    def _rs_sync(self, key: Hashable) -> None:
        assert isinstance(key, str)
        ns, name = eu.split_key(key)
        rs = self.store.try_get("ReplicaSet", name, ns)
        if rs is None:
            return
        now = self.epoch + self.clock.now
        idx = self._rs_index(key)
        if idx.template_labels != rs.spec.template.metadata.labels:
            raise Unsupported("the lean engine does not model a ReplicaSet template relabelled")
        self._ranking.set_family(key, _family(key, rs))
        if rs.metadata.deletion_timestamp is None:
            diff = replicas_diff(rs, idx.active)
            if diff > 0:
                for _ in range(diff):
                    self._rs_put(key, idx, self._create_pod(rs))
            elif diff < 0:
                if -diff >= idx.active:
                    doomed = [p for p in self._rs_pods(key) if is_pod_active(p)]
                else:
                    doomed = self._ranking.smallest(key, -diff, now)
                for pod in doomed:
                    try:
                        last = self._delete_pod(pod.metadata.name, RS_ACTOR)
                    except NotFound:
                        continue
                    if self.store.try_get("Pod", pod.metadata.name, ns) is None:
                        idx.drop(pod.metadata.name, int(last.metadata.resource_version or 0))
                        self._ranking.drop(key, pod.metadata.name)
                    else:
                        self._rs_put(key, idx, last)
        status = idx.status(rs, now)
        if status != rs.status:
            self._update(_evolve(rs, status=status),
                         RS_ACTOR)

    def _create_pod(self, rs: Any) -> Pod:
        base = self._pod_defaults.get(rs.metadata.uid)
        if base is None:
            tmpl = rs.spec.template
            pod = Pod(
                metadata=ObjectMeta(
                    generate_name=f"{rs.metadata.name}-",
                    namespace=rs.metadata.namespace,
                    labels=tmpl.metadata.labels,
                    annotations=tmpl.metadata.annotations,
                    owner_references=(OwnerReference.controller_ref(rs),),
                ),
                spec=tmpl.spec,
            )
            base = _defaults.apply_defaults(pod)
            _validation.validate(base)
            self._pod_defaults[rs.metadata.uid] = base
        created: Pod = self._create(base, RS_ACTOR)
        return created

    # ------------------------------------------------------------------ Deployment controller

    def _d_on_pod(self, event: str, pod: Pod) -> None:
        if event != "DELETED":
            return
        ref = controller_owner(pod)
        if ref is None or ref.kind != "ReplicaSet":
            return
        rs = self.store.try_get("ReplicaSet", ref.name, pod.metadata.namespace)
        if rs is None:
            return
        dref = controller_owner(rs)
        if dref is not None and dref.kind == "Deployment":
            self._d_queue.add(f"{rs.metadata.namespace}/{dref.name}")

    def _replica_sets(self, d: Any) -> list[Any]:
        out = []
        for rs in self.store.list_namespace("ReplicaSet", d.metadata.namespace).values():
            ref = controller_owner(rs)
            if ref is not None and ref.uid == d.metadata.uid:
                out.append(rs)
        return sorted(out, key=lambda r: r.metadata.name)

    def _old_pods_running(self, d: Any, old: list[Any]) -> bool:
        names = {rs.metadata.name for rs in old}
        for pod in self.store.list_namespace("Pod", d.metadata.namespace).values():
            ref = controller_owner(pod)
            if (ref is not None and ref.kind == "ReplicaSet" and ref.name in names
                    and pod.status.phase not in ("Succeeded", "Failed")):
                return True
        return False

    def _d_sync(self, key: Hashable) -> None:
        assert isinstance(key, str)
        ns, name = eu.split_key(key)
        d = self.store.try_get("Deployment", name, ns)
        if d is None or d.metadata.deletion_timestamp is not None:
            return
        rss = self._replica_sets(d)
        new_rs = find_new_replica_set(d, rss)
        all_old = rss if new_rs is None else [rs for rs in rss if rs.metadata.name != new_rs.metadata.name]
        recreate = effective_strategy(d).type == RECREATE
        old_running = self._old_pods_running(d, all_old) if recreate else False
        if new_rs is None and not d.spec.paused and (
                not recreate or (not old_running and all((rs.spec.replicas or 0) == 0 for rs in all_old))):
            created = self._create(new_replica_set(d, all_old), DEPLOY_ACTOR)
            rss = rss + [created]
            new_rs = find_new_replica_set(d, rss)
        decisions = plan_deployment_sync(d, rss, old_pods_running=old_running)
        by_name = {rs.metadata.name: rs for rs in rss}
        for dec in decisions:
            rs = by_name.get(dec.rs_name)
            if rs is None:
                continue
            updated = apply_scale_decision(rs, dec)
            if updated == rs:
                continue
            by_name[dec.rs_name] = self._update(updated, DEPLOY_ACTOR)
        rss = list(by_name.values())
        if new_rs is not None:
            new_rs = by_name[new_rs.metadata.name]
        if recreate and decisions == [] and new_rs is None and not old_running:
            self._d_queue.add(key)
        limit = d.spec.revision_history_limit if d.spec.revision_history_limit is not None else 10
        idle = [rs for rs in rss if rs is not new_rs and (rs.spec.replicas or 0) == 0 and rs.status.replicas == 0
                and rs.metadata.deletion_timestamp is None]
        if len(idle) > limit:
            raise Unsupported("the lean engine does not model ReplicaSet history cleanup")
        status = calculate_deployment_status(d, rss, new_rs)
        if status != d.status:
            self._update(_evolve(d, status=status),
                         DEPLOY_ACTOR)

    # ------------------------------------------------------------------ endpoint controllers

    def _endpoints_on_pod(self, event: str, old: Pod | None, pod: Pod) -> None:
        # services_for_event for the one Service; both endpoint controllers enqueue it.
        svc_name = self._deployed
        if svc_name is None:
            return
        svc = self.store.try_get("Service", svc_name, "default")
        if svc is None:
            return
        if event == "MODIFIED":
            assert old is not None
            if old.metadata.resource_version == pod.metadata.resource_version:
                return
            pod_changed, labels_changed = eu.pod_endpoints_changed(old, pod)
            if not pod_changed and not labels_changed:
                return
            sel = svc.spec.selector
            hit = eu.selector_matches(sel, pod.metadata.labels)
            if labels_changed:
                was = eu.selector_matches(sel, old.metadata.labels)
                hit = (hit or was) if pod_changed else (hit != was)
        else:
            hit = eu.selector_matches(svc.spec.selector, pod.metadata.labels)
        if not hit:
            return
        key = f"default/{svc_name}"
        if self._endpoints_on:
            self._ep_queue.add_after(key, self.options.endpoint_updates_batch_period)
        self._sl_queue.add_after(key, self.options.endpointslice_updates_batch_period)

    def _ep_sync(self, key: Hashable) -> None:
        assert isinstance(key, str)
        ns, name = eu.split_key(key)
        service = self.store.try_get("Service", name, ns)
        existing = self.store.try_get("Endpoints", name, ns)
        if service is None or service.spec.type == "ExternalName" or service.spec.selector is None:
            raise Unsupported("the lean engine models one selector Service that stays")
        truncate = self.options.endpoints_truncate
        st = self._ep
        if st.engine is None:
            pods = eu.pods_for_service(self.store, service)
            st.engine = ServiceEndpoints.from_pods(service, pods)
            st.triggers, trigger = IncrementalTriggerTime.start(service, pods)
            st.members = {p.metadata.name for p in pods}
            st.dirty = set()
        else:
            self._ep_catch_up(st, service)
            assert st.triggers is not None
            trigger = st.triggers.compute(service)
        if existing is not None and st.stale.get(key) == existing.metadata.resource_version:
            raise StaleEndpoints(f"endpoints {key} cache is stale")
        engine = st.engine
        if not engine.needs_update(existing, truncate=truncate):
            return
        desired = engine.desired(existing, trigger, truncate)
        verb = "create" if existing is None or not existing.metadata.resource_version else "update"
        try:
            if verb == "create":
                self._create(desired, EP_ACTOR)
            else:
                cached_rv = existing.metadata.resource_version if existing is not None else ""
                stored = self._update(desired, EP_ACTOR)
                if stored.metadata.resource_version != cached_rv:
                    st.stale[key] = cached_rv
        except KubesimError as exc:
            reason = "FailedToCreateEndpoint" if verb == "create" else "FailedToUpdateEndpoint"
            self.events.append((self.clock.now, "Warning", reason, key, str(exc)))
            raise

    def _ep_catch_up(self, st: _EndpointsState, service: Any) -> None:
        engine = st.engine
        assert engine is not None and st.triggers is not None
        if engine.service is not service:
            raise Unsupported("the lean engine does not model a Service changed after creation")
        if st.dirty:
            ns = service.metadata.namespace
            pods = self.store.list_namespace("Pod", ns)
            selector = service.spec.selector
            members, triggers = st.members, st.triggers
            for name in sorted(st.dirty):
                live = pods.get(name)
                if live is not None and eu.selector_matches(selector, live.metadata.labels):
                    engine.pod_changed(live, live)
                    members.add(name)
                    triggers.set(name, pod_trigger_time(live))
                else:
                    engine.pod_changed(eu.pod_tombstone(ns, name), None)
                    members.discard(name)
                    triggers.set(name, None)
            st.dirty.clear()

    def _sl_sync(self, key: Hashable) -> None:
        assert isinstance(key, str)
        ns, name = eu.split_key(key)
        service = self.store.try_get("Service", name, ns)
        if service is None or service.spec.type == "ExternalName" or service.spec.selector is None:
            raise Unsupported("the lean engine models one selector Service that stays")
        sl = self._sl
        # _catch_up: replay the pods written since the last sync
        if sl.dirty:
            slicer = sl.slicer
            for pname in sorted(sl.dirty):
                if slicer is not None:
                    live = self.store.try_get("Pod", pname, ns)
                    old = eu.pod_tombstone(ns, pname) if live is None else None
                    slicer.pod_changed(old, live)
                sl.triggers.pod_changed(ns, pname)
            sl.dirty.clear()
        slicer = sl.slicer
        if slicer is None:
            slicer = ServiceSlicer(
                service, nodes=sl.nodes, max_endpoints_per_slice=self.options.max_endpoints_per_slice,
                topology=sl.topology, prefer_same_traffic_distribution=False,
            )
            slicer.reset_pods(eu.pods_for_service(self.store, service))
            sl.slicer = slicer
        elif slicer.service is not service:
            raise Unsupported("the lean engine does not model a Service changed after creation")
        view = _SliceView(self.store, ns, sl.names)
        trigger = sl.triggers.compute(
            service, lambda: eu.pods_for_service(self.store, service), lambda n: self.store.try_get("Pod", n, ns)
        )
        plan = slicer.sync(view, trigger_time=trigger, metrics=sl.metrics)
        for verb, obj in plan.operations:
            if verb == "create":
                written = self._create(obj, SLICE_ACTOR)
                sl.names.add(written.metadata.name)
            elif verb == "update":
                written = self._update(obj, SLICE_ACTOR)
            else:
                written = obj
                live = self.store.try_get("EndpointSlice", obj.metadata.name, ns)
                if live is not None:
                    self._remove(live, SLICE_ACTOR)
                sl.names.discard(obj.metadata.name)
            slicer.slice_written(verb, written)
        for ev_type, reason, message in plan.events:
            self.events.append((self.clock.now, ev_type, reason, key, message))
        if plan.error:
            raise KubesimError(plan.error)


def _vouch_slice_endpoints(old: tuple[Any, ...], new: tuple[Any, ...]) -> None:
    """Hand :mod:`kubesim.wire` the packed size sums of a slice's new endpoints tuple from the
    old one's, by the entries that differ (by identity): ``O(changed entries)`` Python work
    (the identity sets are built in C) instead of a cached lookup per entry. The sums are
    additive, so the result equals what ``wire`` computes itself (check mode compares the
    sizes written)."""
    memo = _wire_endpoints._slice_endpoints_pair
    cache = memo.cache
    hit = cache.get(id(new))
    if (hit is not None and hit[0] is new) or not old or not new:
        return
    base = memo(old)
    old_ids = set(map(id, old))
    new_ids = set(map(id, new))
    entry, js, shift = _wire_endpoints.endpoint_entry_size, _wire_endpoints.endpoint_json_size, _PAIR_SHIFT
    for e in old:
        if id(e) not in new_ids:
            base -= entry(e) + (js(e) << shift)
    for e in new:
        if id(e) not in old_ids:
            base += entry(e) + (js(e) << shift)
    if len(cache) >= memo.limit:
        cache.clear()
    cache[id(new)] = (new, base)


def _family(key: str, rs: Any) -> Hashable:
    owner = None if rs is None else controller_owner(rs)
    return ("rs", key) if owner is None else ("owner", owner.uid)


class _SchedulerState:
    """kube-scheduler's node heap (see :mod:`kubesim.controllers.node.scheduler`)."""

    __slots__ = ("pods_on", "capacity", "schedulable", "heap", "pending", "bound", "unschedulable")

    def __init__(self) -> None:
        self.pods_on: dict[str, int] = {}
        self.capacity: dict[str, int] = {}
        self.schedulable: dict[str, bool] = {}
        self.heap: list[tuple[int, float, str]] = []
        self.pending: dict[tuple[str, str], None] = {}
        self.bound = 0
        self.unschedulable = 0

    def push(self, node: str, rng: random.Random) -> None:
        import heapq

        heapq.heappush(self.heap, (self.pods_on.get(node, 0), rng.random(), node))

    def choose(self) -> str | None:
        import heapq

        heap = self.heap
        while heap:
            count, _, name = heap[0]
            if (not self.schedulable.get(name) or count != self.pods_on.get(name)
                    or count >= self.capacity.get(name, 110)):
                heapq.heappop(heap)
                continue
            return name
        return None


class _EndpointsState:
    """The Endpoints controller's fast-path state for the one Service."""

    __slots__ = ("engine", "triggers", "members", "dirty", "stale")

    def __init__(self) -> None:
        self.engine: ServiceEndpoints | None = None
        self.triggers: IncrementalTriggerTime | None = None
        self.members: set[str] = set()
        self.dirty: set[str] = set()
        self.stale: dict[str, str] = {}

    def mark(self, name: str) -> None:
        if self.engine is not None:
            self.dirty.add(name)


class _SliceState:
    """The EndpointSlice controller's fast-path state for the one Service."""

    __slots__ = ("slicer", "triggers", "dirty", "names", "metrics", "topology", "nodes")

    def __init__(self, cluster: LeanCluster) -> None:
        self.slicer: ServiceSlicer | None = None
        self.triggers = IncrementalTriggerTimes()
        self.dirty: set[str] = set()
        self.names: set[str] = set()
        self.metrics = SliceMetrics(max_endpoints_per_slice=cluster.options.max_endpoints_per_slice)
        self.topology = TopologyCache()
        self.nodes = _LiveNodes(cluster.store)

    def mark(self, name: str) -> None:
        if self.slicer is not None or self.triggers.tracks("default"):
            self.dirty.add(name)
