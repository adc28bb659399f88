"""The :class:`Cluster` facade: one seeded, simulated cluster with its controllers.

>>> import kubesim
>>> cluster = kubesim.Cluster(seed=0, nodes=2)
>>> [n.metadata.name for n in cluster.list("nodes")]
['node-1', 'node-2']
>>> cluster.now
0.0
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import ipaddress
import json
import os
import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from kubesim import manifests as _manifests
from kubesim import model_warnings as _model_warnings
from kubesim import namespaces as _namespaces
from kubesim import wire as _wire
from kubesim.apiserver import DEFAULT_MAX_REQUEST_BYTES, MAX_REQUEST_BODY_BYTES, APIServer
from kubesim.changelog import ChangeLog
from kubesim.clock import Clock, check_time, relaxed_gc
from kubesim.controllers.runtime import ControllerContext, Options
from kubesim.errors import InvalidArgument, InvalidOption, ManifestError, RequestEntityTooLarge
from kubesim.events import DEFAULT_EVENT_TTL, EventRecorder, EventTTL
from kubesim.faults import FaultInjector, FaultPlan
from kubesim.ipam import (
    NodeCIDRAllocator,
    PortAllocator,
    RangeAllocator,
    ServiceAllocations,
    ServiceIPAllocator,
)
from kubesim.objects import (
    CLUSTER_SCOPED,
    KINDS,
    FrozenDict,
    Node,
    NodeAddress,
    NodeCondition,
    NodeSpec,
    NodeStatus,
    NodeSystemInfo,
    ObjectMeta,
)
from kubesim.timing import Timing

__all__ = ["Cluster", "LAST_APPLIED_ANNOTATION"]

LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"
ZONE_LABEL = "topology.kubernetes.io/zone"
REGION_LABEL = "topology.kubernetes.io/region"
#: The node network: node ``i`` has the InternalIP ``NODE_NETWORK + 1 + i`` (172.18.0.2 for
#: node-1, as a kind cluster's docker network hands them out), and with ``dual_stack`` also
#: ``NODE_NETWORK6 + 1 + i``.
NODE_NETWORK = "172.18.0.0/16"
NODE_NETWORK6 = "fc00:f853:ccd:e793::/64"
_NODE_BASE = int(ipaddress.ip_network(NODE_NETWORK).network_address)
_NODE_BASE6 = ipaddress.ip_network(NODE_NETWORK6).network_address
#: a uid of the length of every uid the API server draws (a stand-in for sizing)
_UID_STAND_IN = "00000000-0000-4000-8000-000000000000"
#: ``status.nodeInfo.kubeletVersion`` of every node (``kubectl get nodes`` VERSION).
KUBELET_VERSION = "v1.35.0"

#: Controllers that run by default, in start order.
DEFAULT_CONTROLLERS = (
    "scheduler",
    "kubelet",
    "garbagecollector",
    "replicaset",
    "deployment",
    "statefulset",
    "daemonset",
    "endpoint",
    "endpointslice",
    "endpointslicemirroring",
    "nodelifecycle",
    "namespace",
)


def _zone_names(n: int) -> tuple[str, ...]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return tuple(f"zone-{letters[i % 26]}{'' if i < 26 else i // 26}" for i in range(n))


class Cluster:
    """A simulated Kubernetes cluster.

    Keyword options mirror kube-controller-manager flags and are validated up front
    (:class:`~kubesim.errors.InvalidOption`):

    ``seed``
        the one seed of every random choice (names, uids, IPs, scheduling, latencies).
    ``nodes``, ``zones``
        Ready nodes ``node-1`` … ``node-N`` spread round-robin over ``zones`` zones.
    ``max_endpoints_per_slice`` (1–1000, default 100)
        ``--max-endpoints-per-slice``.
    ``endpoint_updates_batch_period``, ``endpointslice_updates_batch_period``,
    ``mirroring_endpointslice_updates_batch_period`` (seconds ≥ 0, default 0)
        the three batch-period flags.
    ``mirroring_max_endpoints_per_subset`` (1–1000, default 1000)
    ``endpoints_truncate`` (default ``True``)
        ``False`` gives the pre-1.22 Endpoints controller, which never truncates (writes then
        grow until etcd refuses them).
    ``slice_reconciler`` (``"fast"`` or ``"reference"``)
        the EndpointSlice controller's planner: incremental, or upstream's full recompute per
        sync (the oracle). Both write the same change log.
    ``endpoints_reconciler`` (``"fast"`` or ``"reference"``)
        the same choice for the Endpoints controller.
    ``prefer_same_traffic_distribution`` (default ``False``)
        the ``PreferSameTrafficDistribution`` feature: ``trafficDistribution: PreferSameZone``
        and ``PreferSameNode`` give zone and node hints (``PreferClose`` always does).
    ``max_request_bytes`` (default 1.5 MiB)
        etcd's ``--max-request-bytes``.
    ``dual_stack``
        give nodes and Services IPv6 ranges too.
    ``timing``
        a :class:`~kubesim.timing.Timing` (latencies of scheduler, kubelet, …).
    ``controllers``
        which controllers run (default: all of :data:`DEFAULT_CONTROLLERS`).
    ``faults``
        a :class:`~kubesim.faults.FaultPlan`: failing writes and late watch delivery.
    ``events`` (default ``True``)
        components write Events (:mod:`kubesim.events`, ``cluster.recorder``); ``False`` gives
        the change log of a cluster without Events, record for record.
    ``event_ttl`` (default 3600 s, kube-apiserver's ``--event-ttl``)
        seconds after its last write an Event is deleted (by ``kube-apiserver``, at that
        virtual time; :class:`kubesim.events.EventTTL`); ``0`` or ``None``: never.
    ``record_objects``
        keep every written object in the change log, so :func:`kubesim.changelog.replay`
        can rebuild the state (costs memory: each version of each object is kept).
    ``engine`` (``"lean"``, the default, or ``"full"``)
        ``"lean"`` writes through the lean core's API server (:mod:`kubesim.lean`: the
        controllers' own writes trusted, sizes assembled from the stored object's parts, watch
        events dispatched per kind); ``"full"`` runs the full object model on every write — its
        oracle. Both write the same change log and store the same objects.
    ``check`` (default ``False``)
        check mode: run the lean core (:mod:`kubesim.lean`) with the full object model beside
        it, compared per write — defaulting, validation, sizes, watch dispatch, and the
        reference planners beside the fast ones — raising :class:`kubesim.lean.Divergence` at
        the first change-log record where they differ (:mod:`kubesim.lean.checked`). The change
        log is the one ``check=False`` writes; a run costs several times the full model's
        (``benchmarks/bench_check_mode.py``: 3.5–5× on a 120-pod rollout, two runs).

    Methods by purpose: writing (:meth:`apply_yaml`, :meth:`apply_file`, :meth:`apply`,
    :meth:`create`, :meth:`update`, :meth:`delete`); reading (:meth:`get`, :meth:`list`,
    :meth:`kubectl`, :attr:`changes`); time (:meth:`run`, :attr:`now`); introspection
    (:meth:`statistics`); Events (``recorder``, the :class:`kubesim.events.EventRecorder` the
    components write them with; ``recorder.event(...)`` records one).
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        nodes: int = 3,
        zones: int = 3,
        max_endpoints_per_slice: int = 100,
        endpoint_updates_batch_period: float = 0.0,
        endpointslice_updates_batch_period: float = 0.0,
        mirroring_endpointslice_updates_batch_period: float = 0.0,
        mirroring_max_endpoints_per_subset: int = 1000,
        endpoints_truncate: bool = True,
        slice_reconciler: str = "fast",
        endpoints_reconciler: str = "fast",
        prefer_same_traffic_distribution: bool = False,
        max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
        dual_stack: bool = False,
        node_cpu: str = "4",
        timing: Timing | None = None,
        controllers: Iterable[str] | None = None,
        faults: FaultPlan | None = None,
        record_objects: bool = False,
        events: bool = True,
        event_ttl: float | None = DEFAULT_EVENT_TTL,
        engine: str = "lean",
        check: bool = False,
    ) -> None:
        self.options = Options(
            max_endpoints_per_slice=max_endpoints_per_slice,
            endpoint_updates_batch_period=endpoint_updates_batch_period,
            endpointslice_updates_batch_period=endpointslice_updates_batch_period,
            mirroring_endpointslice_updates_batch_period=mirroring_endpointslice_updates_batch_period,
            mirroring_max_endpoints_per_subset=mirroring_max_endpoints_per_subset,
            endpoints_truncate=endpoints_truncate,
            slice_reconciler=slice_reconciler,
            endpoints_reconciler=endpoints_reconciler,
            prefer_same_traffic_distribution=prefer_same_traffic_distribution,
        )
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise InvalidOption(f"seed must be an integer, got {seed!r}")
        if not isinstance(nodes, int) or isinstance(nodes, bool) or not 0 <= nodes <= 100_000:
            raise InvalidOption(f"nodes must be an integer between 0 and 100000, got {nodes!r}")
        if not isinstance(zones, int) or isinstance(zones, bool) or not 1 <= zones <= 100:
            raise InvalidOption(f"zones must be an integer between 1 and 100, got {zones!r}")
        if isinstance(max_request_bytes, bool) or not isinstance(max_request_bytes, int) or max_request_bytes < 1024:
            # below 1 KiB etcd could not hold the cluster's own Namespaces and Nodes
            raise InvalidOption(f"max_request_bytes must be an integer of at least 1024, got {max_request_bytes!r}")
        if not isinstance(check, bool):
            raise InvalidOption(f"check must be True or False, got {check!r:.80}")
        if engine not in ("lean", "full"):
            raise InvalidOption(f'engine must be "lean" or "full", got {engine!r:.80}')
        if check and engine == "full":
            raise InvalidOption('check=True checks the lean engine against the full model: it needs engine="lean"')
        #: ``"lean"`` or ``"full"`` (the ``engine`` option)
        self.engine = engine
        #: check mode (the ``check`` option)
        self.check = check
        self.seed = seed
        self.rng = random.Random(seed)
        #: a separate stream for client traffic (connect), so sending traffic never shifts the
        #: simulation's own random choices
        self._traffic_rng = random.Random(f"{seed}/traffic")
        self.clock = Clock()
        self.timing = timing if timing is not None else Timing()
        self.dual_stack = dual_stack
        if faults is not None and not isinstance(faults, FaultPlan):
            raise InvalidOption(f"faults must be a kubesim.faults.FaultPlan, got {faults!r}")
        self.api = APIServer(
            clock=self.clock,
            rng=self.rng,
            max_request_bytes=max_request_bytes,
            record_objects=record_objects,
        )
        if not isinstance(events, bool):
            raise InvalidOption(f"events must be True or False, got {events!r:.80}")
        #: the event recorder (:mod:`kubesim.events`): disabled with ``events=False``; its uids
        #: come from a stream of its own
        self.recorder = EventRecorder(self.api, enabled=events, seed=seed)
        self.api.event_uid = self.recorder.new_uid
        if event_ttl is not None:
            event_ttl = check_time(event_ttl, "event_ttl")
        #: kube-apiserver's --event-ttl (:class:`kubesim.events.EventTTL`), ``None`` when Events
        #: never expire (``event_ttl`` 0 or ``None``)
        self.event_ttl = EventTTL(self.api, event_ttl) if event_ttl else None
        self._service_ips = ServiceIPAllocator("10.96.0.0/12", self.rng)
        self._service_ips6 = ServiceIPAllocator("fd00:10:96::/112", self.rng) if dual_stack else None
        #: the API server's Service allocators: cluster IPs and node ports (30000-32767)
        self.service_allocations = ServiceAllocations(self._service_ips, self._service_ips6, PortAllocator(self.rng))
        self.api.service_allocator = self.service_allocations
        self.api.service_ip_hook = self.service_allocations.allocate
        self.api.namespace_lifecycle = True
        cluster_cidr = "10.244.0.0/16" if nodes <= 255 else "10.128.0.0/9"
        self._node_cidrs = NodeCIDRAllocator(cluster_cidr, 24)
        self._node_cidrs6 = NodeCIDRAllocator("fd00:10:244::/56", 64) if dual_stack else None
        #: per-node pod IP ranges (IPv4, and IPv6 when dual-stack)
        self.pod_ranges: dict[str, list[RangeAllocator]] = {}
        self.zones = _zone_names(zones)
        self._node_cpu = node_cpu
        self._node_count = 0
        #: during the bootstrap's node creates, the shapes of generated nodes created through
        #: the full path (value ``None``) and the sizes by shape and resourceVersion length
        #: (:meth:`_create_generated_node`); ``None`` otherwise
        self._node_shapes: dict[tuple[Any, ...], tuple[int, int, int] | None] | None = None
        #: parts the nodes share by identity: the resource maps by cpu, and the last
        #: conditions made with their time (every bootstrap node has the same)
        self._node_resources: dict[str, FrozenDict] = {}
        self._node_conditions: tuple[int, tuple[NodeCondition, ...]] = (-1, ())
        # node CIDRs, pod IP ranges and the node counter come back with a rolled-back transaction
        self.api.register_state(self._ipam_state, self._restore_ipam)
        names = tuple(controllers) if controllers is not None else DEFAULT_CONTROLLERS
        unknown = sorted(set(names) - set(DEFAULT_CONTROLLERS))
        if unknown:
            raise InvalidOption(f"unknown controllers {unknown}; known: {list(DEFAULT_CONTROLLERS)}")
        self.context = ControllerContext(
            api=self.api, clock=self.clock, rng=self.rng, options=self.options, timing=self.timing, cluster=self,
            recorder=self.recorder,
        )
        self.controllers: dict[str, Any] = {}
        from kubesim.controllers import registry

        for name in DEFAULT_CONTROLLERS:
            if name in names:
                self.controllers[name] = registry.start(name, self.context)
        # kube-apiserver's bootstrap: the system namespaces, first in the change log, their
        # uids from a stream of their own (see kubesim.namespaces.bootstrap_rng).
        main_rng, self.api.rng = self.api.rng, _namespaces.bootstrap_rng(seed)
        try:
            with self.api.transaction():
                for ns in _namespaces.bootstrap_objects():
                    self.api.create(ns, actor="kube-apiserver")
        finally:
            self.api.rng = main_rng
        self._node_shapes = {}
        try:
            with self.api.transaction():
                for _ in range(nodes):
                    self.add_node()
        finally:
            self._node_shapes = None
        if faults is not None:  # the cluster is built healthy; faults start now
            self.api.faults = FaultInjector(faults, random.Random(seed * 7919 + 17))
        # The bootstrap took the full path; from here on the lean engine writes (and, in check
        # mode, every write is checked).
        if engine == "lean":
            from kubesim.lean import engine as _lean_engine

            _lean_engine.make_lean(self.api)
        if check:
            from kubesim.lean import checked

            checked.enable(self)

    # ------------------------------------------------------------------ nodes and IPs

    def add_node(self, name: str | None = None, *, zone: str | None = None, cpu: str | None = None) -> Node:
        """Create one Ready node with a pod CIDR (``node-<i>``, zones round-robin). A refused
        node (a taken or invalid name) takes no CIDR and no number."""
        for what, value in (("name", name), ("zone", zone), ("cpu", cpu)):
            if value is not None and not (
                isinstance(value, str) and (value.isascii() or value.encode("utf-8", "replace").decode("utf-8") == value)
            ):
                raise InvalidArgument(f"add_node: {what} must be a string of valid UTF-8, got {value!r:.80}")
        # A refused node changes only the node counter and the CIDR allocators (its pod ranges
        # are made after the create succeeds), so that is all there is to save: O(1), where
        # the whole IPAM state (every node's pod ranges) made building N nodes O(N^2).
        if self._node_shapes is not None:  # the bootstrap: a failure fails the Cluster itself
            return self._add_node(name, zone, cpu)
        cidrs6 = self._node_cidrs6
        saved = (self._node_count, self._node_cidrs.snapshot(), cidrs6.snapshot() if cidrs6 is not None else None)
        rv = self.api.statistics().resource_version
        try:
            return self._add_node(name, zone, cpu)
        except BaseException:
            if self.api.statistics().resource_version == rv:  # refused, not committed
                self._node_count = saved[0]
                self._node_cidrs.restore(saved[1])
                if cidrs6 is not None and saved[2] is not None:
                    cidrs6.restore(saved[2])
            raise

    def _ipam_state(self) -> tuple[Any, ...]:
        return (
            self._node_count,
            self._node_cidrs.snapshot(),
            self._node_cidrs6.snapshot() if self._node_cidrs6 is not None else None,
            {node: tuple(r.snapshot() for r in ranges) for node, ranges in self.pod_ranges.items()},
        )

    def _restore_ipam(self, state: tuple[Any, ...]) -> None:
        self._node_count, cidrs, cidrs6, ranges = state
        self._node_cidrs.restore(cidrs)
        if self._node_cidrs6 is not None and cidrs6 is not None:
            self._node_cidrs6.restore(cidrs6)
        for node in [n for n in self.pod_ranges if n not in ranges]:
            del self.pod_ranges[node]
        for node, states in ranges.items():
            for r, st in zip(self.pod_ranges[node], states, strict=True):
                r.restore(st)

    def _add_node(self, name: str | None, zone: str | None, cpu: str | None) -> Node:
        generated = name is None and zone is None and cpu is None
        self._node_count += 1
        i = self._node_count
        name = name or f"node-{i}"
        zone = zone or self.zones[(i - 1) % len(self.zones)]
        cidrs = [self._node_cidrs.allocate()]
        if self._node_cidrs6 is not None:
            cidrs.append(self._node_cidrs6.allocate())
        cpu = cpu or self._node_cpu
        ip = _NODE_BASE + 1 + i  # str(IPv4Address(ip)), written out: node i's InternalIP
        addresses = [NodeAddress("InternalIP", f"{ip >> 24}.{ip >> 16 & 255}.{ip >> 8 & 255}.{ip & 255}")]
        if self._node_cidrs6 is not None:
            addresses.append(NodeAddress("InternalIP", str(_NODE_BASE6 + 1 + i)))
        addresses.append(NodeAddress("Hostname", name))
        digest = hashlib.sha256(name.encode()).hexdigest()
        resources = self._node_resources.get(cpu)
        if resources is None:
            resources = self._node_resources[cpu] = FrozenDict({"cpu": cpu, "memory": "16Gi", "pods": "110"})
        now = self.api.epoch + int(self.clock.now)
        at, conditions = self._node_conditions
        if at != now:
            conditions = (
                NodeCondition(
                    type="Ready",
                    status="True",
                    last_heartbeat_time=now,
                    last_transition_time=now,
                    reason="KubeletReady",
                    message="kubelet is posting ready status",
                ),
            )
            self._node_conditions = (now, conditions)
        node = Node(
            metadata=ObjectMeta(
                name=name,
                labels={
                    "kubernetes.io/hostname": name,
                    "kubernetes.io/os": "linux",
                    ZONE_LABEL: zone,
                    REGION_LABEL: "region-1",
                },
            ),
            spec=NodeSpec(pod_cidr=cidrs[0], pod_cidrs=tuple(cidrs)),
            status=NodeStatus(
                capacity=resources,
                allocatable=resources,
                conditions=conditions,
                addresses=tuple(addresses),
                node_info=NodeSystemInfo(
                    machine_id=digest[:32],
                    system_uuid=f"{digest[32:40]}-{digest[40:44]}-{digest[44:48]}-{digest[48:52]}-{digest[52:64]}",
                    boot_id=f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}",
                    kernel_version="6.8.0-kubesim",
                    os_image="Debian GNU/Linux 12 (bookworm)",
                    container_runtime_version="containerd://2.1.3",
                    kubelet_version=KUBELET_VERSION,
                    operating_system="linux",
                    architecture="amd64",
                ),
            ),
        )
        shapes = self._node_shapes
        if generated and shapes is not None:
            shape = (zone, cpu, now, len(name), *map(len, cidrs), *(len(a.address) for a in addresses))
            created = self._create_generated_node(node, shapes, shape)
        else:
            created = self.api.create(node, actor="kubelet")
        self.pod_ranges[name] = [RangeAllocator(c) for c in cidrs]
        return created

    def _create_generated_node(
        self, node: Node, shapes: dict[tuple[Any, ...], tuple[int, int, int] | None], shape: tuple[Any, ...]
    ) -> Node:
        """Create a bootstrap node that :meth:`_add_node` generated (its name, zone and cpu
        its own): the first of each ``shape`` through the full :meth:`APIServer.create` path,
        the others with :meth:`APIServer.create_trusted` and the sizes of their shape.
        ``O(1)`` after the first of a shape, whose create is ``O(size of the node)``.

        Why this writes what the full path writes, record for record and object for object:

        * defaulting changes nothing (the only Node default, allocatable from capacity, has
          allocatable set already) and validation passes: it reads the name (``node-<i>``,
          a DNS subdomain and a label value), the labels (constant keys; the name, a zone
          of :func:`_zone_names`, constants), no annotations, no taints, and pod CIDRs from
          the allocators (one per family). The first node of each shape takes both for real.
        * ``create_trusted`` checks admission, the name and the request size as ``create``
          does, draws the uid from the same stream at the same point, stamps the same
          metadata (no owner references, finalizers or managed fields; generation 0) and
          records what ``create`` records. The bootstrap runs before faults are injected.
        * the sizes: nodes of one shape differ only in ASCII strings of equal lengths that
          JSON writes unescaped (name, hostname label and address, InternalIPs, pod CIDRs,
          the hex machine id, system uuid and boot id; the uid is always 36 characters),
          with equal creation times, so their JSON and protobuf encodings have equal
          lengths, given a resourceVersion of the same length: the sizes are kept by shape
          and resourceVersion length, and measured (:func:`kubesim.wire.sizes3` of the node
          as stamped, with a stand-in uid) for each new pair.
        """
        api = self.api
        seen = shape in shapes
        if not seen:
            created: Node = api.create(node, actor="kubelet")
            shapes[shape] = None  # validated and defaulted for real: the shape is a template
            return created
        meta = node.metadata

        def sizes(rv: str, ts: int) -> tuple[int, int, int]:
            key = (shape, len(rv), ts)
            got = shapes.get(key)
            if got is None:
                stamped = attrs.evolve(meta, uid=_UID_STAND_IN, resource_version=rv, creation_timestamp=ts)
                got = shapes[key] = _wire.sizes3(attrs.evolve(node, metadata=stamped))
            return got

        trusted: Node = api.create_trusted(node, sizes, actor="kubelet")
        return trusted

    # ------------------------------------------------------------------ time

    @property
    def now(self) -> float:
        """Virtual seconds since the cluster was created."""
        return self.clock.now

    @property
    def now_unix(self) -> int:
        """The virtual wall clock in whole Unix seconds (``EPOCH`` at time 0)."""
        return self.api.epoch + int(self.clock.now)

    def run(self, until: float | None = None, *, max_steps: int | None = None, progress: Any = False) -> Cluster:
        """Advance virtual time until nothing is pending, or up to ``until`` seconds.

        Returns the cluster, so calls chain. ``max_steps`` bounds the number of callbacks run
        (:class:`~kubesim.errors.InvalidOption` if exceeded — a runaway workload).
        ``progress=True`` shows a progress bar (tqdm, terminal or notebook) of virtual time,
        writes and writes per second, with a percentage and an ETA when ``until`` is given;
        any :class:`kubesim.progress.Reporter` may be passed instead. It never changes the run.
        """
        if progress is not False and progress is not None:
            from kubesim.progress import advance, reporter

            bar = reporter(progress, start=self.clock.now, until=until)
            try:
                advance(self, until, bar, max_steps=max_steps)
            finally:
                if bar is not None and progress is True:
                    bar.close()
            return self
        if until is not None:
            until = self.clock.check_until(until)
        if max_steps is not None and (isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 0):
            raise InvalidOption(f"max_steps must be a non-negative integer, got {max_steps!r:.80}")
        if max_steps is None:
            self.clock.run(until)
            return self
        start = self.clock.steps
        while True:
            t = self.clock.peek()
            if t is None or (until is not None and t > until):
                break
            if self.clock.steps - start >= max_steps:
                raise InvalidOption(f"run() exceeded max_steps={max_steps}")
            self.clock.step()
        if until is not None:
            self.clock.run(until)  # no timer is left by until: calls the passive sources, moves now
        return self

    # ------------------------------------------------------------------ reading

    @property
    def changes(self) -> ChangeLog:
        """The change log: one :class:`~kubesim.changelog.ChangeEvent` per committed write."""
        return self.api.changes

    def get(self, kind: str, name: str, namespace: str = "default") -> Any:
        """The object; raises :class:`~kubesim.errors.NotFound`. ``O(1)``."""
        return self.api.get(kind, name, namespace)

    def list(self, kind: str, namespace: str | None = "default", selector: str | None = None) -> list[Any]:
        """Objects of ``kind`` (``namespace=None``: all), filtered by a label ``selector``
        string (``"app=web,tier!=db"``), sorted by namespace and name."""
        return self.api.list(kind, namespace, selector)

    def kubectl(self, command: str | Sequence[str]) -> str:
        """Text exactly as ``kubectl <command>`` prints it: ``get``, ``describe``, and the
        commands that write (``apply -f``, ``delete``, ``scale``, ``set image``, ``label``,
        ``annotate``, ``patch``, ``rollout``), see :mod:`kubesim.kubectl`."""
        if not isinstance(command, str) and not (
            isinstance(command, (list, tuple)) and all(isinstance(a, str) for a in command)
        ):
            raise InvalidArgument(f"kubectl takes a command line (str) or its arguments (strings), got {command!r:.80}")
        from kubesim import kubectl as _kubectl

        return _kubectl.kubectl(command, store=self.api, now=self.now_unix, cluster=self)

    # ------------------------------------------------------------------ writing

    def _coerce(self, obj: Any) -> Any:
        if isinstance(obj, Mapping):
            return _manifests.from_manifest(obj)
        if (type(obj).__name__ in KINDS or getattr(type(obj), "inert", False)) and hasattr(obj, "metadata"):
            return obj
        raise ManifestError(f"expected an API object or a manifest mapping, got {type(obj).__name__}")

    def create(self, obj: Any, *, actor: str = "client") -> Any:
        """Create an object (or manifest mapping); returns the stored object. Fields kubesim
        does not model are reported with :class:`~kubesim.ModelWarning`.

        A manifest mapping's Pod is stored with upstream's created status (phase ``Pending``
        and its QoS class, whatever status it carries); a Pod object keeps the rest of a status
        it carries (kubesim's extension: a running pod without a kubelet; see
        :meth:`kubesim.apiserver.APIServer.create`'s ``reset_pod_status``)."""
        with _model_warnings.collecting() as seen:
            coerced = self._coerce(obj)
        out = self.api.create(coerced, actor=actor, reset_pod_status=isinstance(obj, Mapping))
        _model_warnings.emit([coerced], seen)
        return out

    def update(self, obj: Any, *, actor: str = "client") -> Any:
        """Replace an object; optimistic when ``metadata.resourceVersion`` is set
        (:class:`~kubesim.errors.Conflict` if stale)."""
        with _model_warnings.collecting() as seen:
            coerced = self._coerce(obj)
        out = self.api.update(coerced, actor=actor)
        _model_warnings.emit([coerced], seen)
        return out

    def delete(self, kind: str, name: str, namespace: str = "default", *, grace_period_seconds: int | None = None) -> Any:
        """Delete an object (gracefully for Pods); returns its last state."""
        return self.api.delete(kind, name, namespace, actor="client", grace_period_seconds=grace_period_seconds)

    def apply(self, obj: Any) -> Any:
        """``kubectl apply`` one object or manifest mapping: create it if absent, else update
        the fields the manifest sets (status and server-assigned fields are kept). A created
        Pod's status is upstream's (phase ``Pending`` and its QoS class), whatever status the
        object or manifest carries, as for every manifest path (:meth:`apply_yaml`,
        :meth:`apply_file`, kubectl, ``kubesim serve``)."""
        with _model_warnings.collecting() as seen:
            coerced = self._coerce(obj)
        with self.api.transaction():
            out = self._apply_one(coerced, obj if isinstance(obj, Mapping) else None)
        _model_warnings.emit([coerced], seen)
        return out

    def apply_yaml(self, text: str | bytes) -> builtins.list[Any]:
        """``kubectl apply -f`` for YAML text with one or more documents. Every document is
        parsed and validated before any is written: all or nothing. Text longer than the API
        server's request-body cap (3 MiB) is refused with
        :class:`~kubesim.errors.RequestEntityTooLarge`."""
        if not isinstance(text, (str, bytes, bytearray)):
            raise InvalidArgument(f"apply_yaml takes YAML text (str or bytes), got {type(text).__name__}")
        size = len(text) if isinstance(text, (bytes, bytearray)) or text.isascii() else len(text.encode("utf-8", "replace"))
        if size > MAX_REQUEST_BODY_BYTES:
            raise RequestEntityTooLarge(MAX_REQUEST_BODY_BYTES, f"a manifest of {size} bytes")
        with _model_warnings.collecting() as seen:
            objs = _manifests.load_yaml(text)
        with self.api.transaction():
            out = [self._apply_one(o, None) for o in objs]
        if objs:
            _model_warnings.emit(objs, seen)
        return out

    def apply_file(self, path: str | os.PathLike[str]) -> builtins.list[Any]:
        """:meth:`apply_yaml` on a file's contents. At most the API server's request-body cap
        (3 MiB) is read: a longer file, or an endless stream such as ``/dev/zero``, is refused
        with :class:`~kubesim.errors.RequestEntityTooLarge`. ``path`` must be a path (``str``,
        ``bytes`` or ``os.PathLike``), never a file descriptor."""
        if not isinstance(path, (str, bytes, os.PathLike)):
            raise InvalidArgument(f"apply_file takes a path (str or os.PathLike), got {type(path).__name__} {path!r:.80}")
        try:
            with open(path, "rb") as f:
                data = f.read(MAX_REQUEST_BODY_BYTES + 1)
            if len(data) > MAX_REQUEST_BODY_BYTES:
                raise RequestEntityTooLarge(MAX_REQUEST_BODY_BYTES, f"reading {os.fsdecode(path)!r}")
        except (OSError, ValueError) as exc:
            why = getattr(exc, "strerror", None) or str(exc)
            raise ManifestError(f"the path {str(path)!r} does not exist or cannot be read: {why}") from None
        return self.apply_yaml(data)

    def _apply_one(self, obj: Any, manifest: Mapping[str, Any] | None) -> Any:
        kind = obj.kind
        meta = obj.metadata
        ns = "" if kind in CLUSTER_SCOPED else (meta.namespace or "default")
        if manifest is None:
            manifest = _manifests.to_manifest(obj)
        config = json.dumps(_strip_for_last_applied(manifest, ns), separators=(",", ":"), sort_keys=True) + "\n"
        annotations = meta.annotations.set(LAST_APPLIED_ANNOTATION, config)
        obj = attrs.evolve(obj, metadata=attrs.evolve(meta, namespace=ns, annotations=annotations))
        live = self.api.try_get(kind, meta.name, ns) if meta.name else None
        if live is None:
            return self.api.create(obj, actor="kubectl", reset_pod_status=True)
        merged = _merge_for_apply(obj, live)
        return self.api.update(merged, actor="kubectl")

    def connect(
        self,
        service: str,
        port: int | str,
        *,
        namespace: str = "default",
        from_node: str | None = None,
        external: bool = False,
        protocol: str | None = None,
        ip_family: str | None = None,
    ) -> Any:
        """Open a connection to ``service:port`` as kube-proxy (iptables mode) routes it and
        return the chosen :class:`~kubesim.proxy.Backend` (``str()`` is ``ip:port``). Picks
        uniformly among usable endpoints from a traffic random stream of the cluster's seed;
        honours the terminating fallback, Local traffic policies relative to ``from_node`` and
        topology hints: zone hints always, node hints (``trafficDistribution: PreferSameNode``)
        when ``prefer_same_traffic_distribution`` is on, as kube-proxy does behind the same
        feature gate. Raises :class:`~kubesim.errors.NoEndpoints` as a client would see it."""
        from kubesim import proxy

        return proxy.connect(
            self.api, self._traffic_rng, service, port, namespace=namespace, from_node=from_node,
            external=external, protocol=protocol, ip_family=ip_family,
            prefer_same_node_enabled=self.options.prefer_same_traffic_distribution,
        )

    def resolve(self, name: str, *, namespace: str = "default", record: str = "A") -> Any:
        """Ask cluster DNS (CoreDNS' kubernetes plugin) for ``name`` from a pod in
        ``namespace``: ClusterIP -> its IP, headless -> the ready pod IPs, ExternalName -> a
        CNAME; raises :class:`~kubesim.errors.NXDomain`. Returns a :class:`~kubesim.dns.Answer`."""
        from kubesim import dns

        return dns.resolve(self.api, name, namespace=namespace, record=record)

    @contextlib.contextmanager
    def cause(self, name: str) -> Iterator[None]:
        """Attribute every write that what is done inside the block sets off — directly, or
        later through controllers, queues and timers — to ``name`` (``ChangeEvent.cause``;
        ``report.by_cause``). The scenarios in :mod:`kubesim.scenarios` use it."""
        if not isinstance(name, str):
            raise InvalidOption(f"a cause is a string, got {name!r}")
        outer, self.clock.context = self.clock.context, name
        try:
            yield
        finally:
            self.clock.context = outer

    def churn(self, **kwargs: Any) -> Any:
        """The :class:`~kubesim.report.ChurnReport` of this cluster's change log: Endpoints and
        EndpointSlices side by side, with kube-proxy on every node as watchers by default.
        Keyword arguments go to :func:`kubesim.report.churn` (``since``, ``until``,
        ``size_model``, ``groups``).

        The fold runs with the garbage collector's thresholds raised, as a run does
        (:func:`kubesim.clock.relaxed_gc`): it makes almost no reference cycles (a few hundred
        objects), and under CPython's default thresholds its allocations set off young
        collections by the hundred and, after a large run (whose survivors the collector
        counts as pending for the oldest generation), a walk of the whole heap: after the
        50,000-pod rollout of ``benchmarks/bench_rollout.py``, 15 of the fold's 22 CPU s, the
        heap walk 11 of them, a cost per record that grew with the cluster. ``O(records)``."""
        from kubesim import report

        kwargs.setdefault("groups", report.default_groups(len(self.pod_ranges)))
        if "notes" not in kwargs:
            from kubesim.measure import cluster_notes

            kwargs["notes"] = cluster_notes(self)
        with relaxed_gc():
            return report.churn(self.changes, **kwargs)

    def measure(self) -> Any:
        """``with cluster.measure() as m: ...`` then ``m.churn()``: the churn of exactly the
        writes committed inside the block (:class:`kubesim.measure.Measurement`)."""
        from kubesim.measure import Measurement

        return Measurement(self)

    # ------------------------------------------------------------------ introspection

    def statistics(self) -> dict[str, Any]:
        """The API server's and every controller's statistics, the informers' resync
        (``out["resync"].converged`` is ``False`` when the controllers gave up on something) and
        the event recorder's (``out["events"]``: :class:`kubesim.events.EventStatistics`)."""
        out: dict[str, Any] = {"apiserver": self.api.statistics(), "resync": self.context.resync.statistics(),
                               "events": self.recorder.statistics()}
        for name, c in self.controllers.items():
            stats = getattr(c, "statistics", None)
            if stats is not None:
                out[name] = stats()
        return out

    def _check(self) -> None:
        """Assert the invariants of the API server and every controller (expensive)."""
        self.api._check()
        self.context.resync._check()
        for c in self.controllers.values():
            check = getattr(c, "_check", None)
            if check is not None:
                check()

    def _repr_html_(self) -> str:
        from kubesim.notebook import cluster_html

        return cluster_html(self)

    def __repr__(self) -> str:
        return (
            f"Cluster(seed={self.seed}, nodes={self._node_count}, now={self.clock.now:g}, "
            f"objects={sum(self.api.statistics().objects.values())}, changes={len(self.changes)})"
        )


def _strip_for_last_applied(manifest: Mapping[str, Any], ns: str) -> dict[str, Any]:
    d = dict(manifest)
    meta = dict(d.get("metadata") or {})
    ann = dict(meta.get("annotations") or {})
    ann.pop(LAST_APPLIED_ANNOTATION, None)
    if ann:
        meta["annotations"] = ann
    else:
        meta.pop("annotations", None)
    if ns:
        meta["namespace"] = ns
    d["metadata"] = meta
    return d


def _merge_for_apply(new: Any, live: Any) -> Any:
    """The result of ``kubectl apply`` over ``live``: the manifest's fields win; what the
    server or controllers own (status, allocated cluster IPs, a pod's node) is kept."""
    kind = new.kind
    meta = attrs.evolve(new.metadata, resource_version="")
    out = attrs.evolve(new, metadata=meta)
    if hasattr(live, "status"):
        out = attrs.evolve(out, status=live.status)
    if kind == "Service":
        spec = out.spec
        if not spec.cluster_ip and live.spec.cluster_ip:
            spec = attrs.evolve(
                spec,
                cluster_ip=live.spec.cluster_ip,
                cluster_ips=spec.cluster_ips or live.spec.cluster_ips,
                ip_families=spec.ip_families or live.spec.ip_families,
                ip_family_policy=spec.ip_family_policy or live.spec.ip_family_policy,
            )
        out = attrs.evolve(out, spec=spec)
    elif kind in ("Deployment", "ReplicaSet", "StatefulSet"):
        if out.spec.replicas is None:
            out = attrs.evolve(out, spec=attrs.evolve(out.spec, replicas=live.spec.replicas))
    elif kind == "Pod":
        if not out.spec.node_name and live.spec.node_name:
            out = attrs.evolve(out, spec=attrs.evolve(out.spec, node_name=live.spec.node_name))
    elif kind == "Node":
        out = attrs.evolve(
            out,
            spec=attrs.evolve(out.spec, pod_cidr=out.spec.pod_cidr or live.spec.pod_cidr,
                              pod_cidrs=out.spec.pod_cidrs or live.spec.pod_cidrs),
        )
    return out
