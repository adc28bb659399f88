"""Kubernetes API objects as frozen, slotted attrs classes.

Field names are the Kubernetes JSON names in snake_case, nested the way Kubernetes nests them
(``pod.status.pod_ips[0].ip``, ``endpoint_slice.endpoints[0].conditions.ready``).  Collections
are tuples; string maps are :class:`FrozenDict`.  Objects are immutable: change them with
:func:`attrs.evolve`.  Serialization to and from the Kubernetes JSON shape lives in
:mod:`kubesim.manifests`, never here.

Conventions that mirror Go's types:

* a Go *pointer* field (``*string``, ``*bool``, ``*int32``, pointer structs) is ``X | None``:
  ``None`` is "absent" and is different from ``""``/``False``/``0``;
* a Go *value* field is a plain Python value with the Go zero value as default;
* a map that Kubernetes distinguishes as nil vs empty (only ``Service.spec.selector``) is
  ``FrozenDict | None``;
* ``metav1.Time`` fields are whole Unix seconds (``int``), because the API server stores and
  serves them at second precision; ``None`` is the zero time.

Every top-level kind carries the class attributes ``kind`` and ``api_version``.

Every class here is ``@attrs.frozen(repr=False, eq=False)`` and gets, at the end of this
module, one shared ``__repr__``, ``__eq__`` and ``__hash__`` (:func:`_value_methods`) that
behave as the ones attrs generates: attrs writes those three as Python source per class and
compiles it, which was about half of what ``import kubesim`` spent on its 79 classes. The
classes attrs hashes with ``cache_hash=True`` (hot in set and dict keys) keep attrs' ``__eq__``
and ``__hash__``. ``__init__`` stays attrs' own, compiled per class: it runs on every write.
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterator, KeysView, Mapping, ValuesView
from operator import attrgetter
from typing import Any, ClassVar, TypeVar

import attrs

__all__ = [
    "FrozenDict",
    "IntOrString",
    "ObjectMeta",
    "OwnerReference",
    "ObjectReference",
    "ManagedFieldsEntry",
    "LabelSelectorRequirement",
    "LabelSelector",
    "ContainerPort",
    "HTTPGetAction",
    "TCPSocketAction",
    "ExecAction",
    "Probe",
    "SleepAction",
    "LifecycleHandler",
    "Lifecycle",
    "ResourceRequirements",
    "Container",
    "Toleration",
    "NodeSelectorRequirement",
    "NodeSelectorTerm",
    "NodeSelector",
    "PreferredSchedulingTerm",
    "NodeAffinity",
    "Affinity",
    "PodSpec",
    "PodCondition",
    "PodReadinessGate",
    "ContainerStateWaiting",
    "ContainerStateRunning",
    "ContainerStateTerminated",
    "ContainerState",
    "ContainerStatus",
    "PodIP",
    "HostIP",
    "PodStatus",
    "Pod",
    "PodTemplateSpec",
    "ServicePort",
    "ServiceSpec",
    "Service",
    "Taint",
    "NodeSpec",
    "NodeCondition",
    "NodeAddress",
    "NodeSystemInfo",
    "NodeStatus",
    "Node",
    "NamespaceSpec",
    "NamespaceCondition",
    "NamespaceStatus",
    "Namespace",
    "EndpointAddress",
    "EndpointPort",
    "EndpointSubset",
    "Endpoints",
    "EndpointConditions",
    "ForZone",
    "ForNode",
    "EndpointHints",
    "Endpoint",
    "EndpointSlicePort",
    "EndpointSlice",
    "RollingUpdateDeployment",
    "DeploymentStrategy",
    "DeploymentSpec",
    "DeploymentStatus",
    "Deployment",
    "ReplicaSetSpec",
    "ReplicaSetStatus",
    "ReplicaSet",
    "RollingUpdateStatefulSetStrategy",
    "StatefulSetUpdateStrategy",
    "StatefulSetSpec",
    "StatefulSetStatus",
    "StatefulSet",
    "RollingUpdateDaemonSet",
    "DaemonSetUpdateStrategy",
    "DaemonSetSpec",
    "DaemonSetStatus",
    "DaemonSet",
    "APIObject",
    "KINDS",
]

K = TypeVar("K")
V = TypeVar("V")

#: ``intstr.IntOrString``: a port number or a port name.
IntOrString = int | str


class FrozenDict(Mapping[str, str]):
    """An immutable, hashable ``str -> str`` mapping (label and annotation maps).

    Iteration follows insertion order; equality and hashing ignore order, as for ``dict``.
    Construction is ``O(n)``; lookups ``O(1)``; ``hash`` is ``O(n)`` once, then cached.

    >>> FrozenDict({"app": "web"}) == {"app": "web"}
    True
    """

    __slots__ = ("_d", "_hash")

    def __init__(self, data: Mapping[str, str] | Iterator[tuple[str, str]] | None = None) -> None:
        self._d: dict[str, str] = dict(data) if data else {}
        self._hash: int | None = None

    def __getitem__(self, key: str) -> str:
        return self._d[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __contains__(self, key: object) -> bool:
        return key in self._d

    def get(self, key: str, default: Any = None) -> Any:  # noqa: D102 - Mapping API
        return self._d.get(key, default)

    # The dict's own views (read-only: a view cannot change its dict) instead of the Mapping
    # mixins' Python-level ones: every selector match iterates a label map's items.
    def items(self) -> ItemsView[str, str]:  # noqa: D102 - Mapping API
        return self._d.items()

    def keys(self) -> KeysView[str]:  # noqa: D102 - Mapping API
        return self._d.keys()

    def values(self) -> ValuesView[str]:  # noqa: D102 - Mapping API
        return self._d.values()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenDict):
            return self._d == other._d
        if isinstance(other, Mapping):
            return self._d == dict(other)
        return NotImplemented

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._d.items()))
        return self._hash

    def __repr__(self) -> str:
        return f"FrozenDict({self._d!r})"

    def set(self, key: str, value: str) -> FrozenDict:
        """Return a copy with ``key`` set to ``value``. ``O(n)``."""
        d = dict(self._d)
        d[key] = value
        return FrozenDict(d)

    def without(self, *keys: str) -> FrozenDict:
        """Return a copy without ``keys`` (absent keys are ignored). ``O(n)``."""
        if not any(k in self._d for k in keys):
            return self
        return FrozenDict({k: v for k, v in self._d.items() if k not in keys})

    def to_dict(self) -> dict[str, str]:
        """A fresh mutable ``dict`` copy."""
        return dict(self._d)


EMPTY: FrozenDict = FrozenDict()


#: ``uuid.UUID(int=n, version=4)``: the variant (bits 62-63 of the low half) and version
#: (bits 76-79) cleared, then variant ``10`` and version 4 set
_UID_KEEP = ~((0xC000 << 48) | (0xF000 << 64))
_UID_SET = (0x8000 << 48) | (4 << 76)


def random_uid(rng: Any) -> str:
    """A version-4 uid (``metadata.uid``) from one ``rng.getrandbits(128)`` draw: the text of
    ``str(uuid.UUID(int=rng.getrandbits(128), version=4))``, by arithmetic (the variant bits
    set to ``10`` and the version nibble to 4 as ``uuid.UUID`` sets them, the 32 hex digits
    grouped 8-4-4-4-12 as ``UUID.__str__`` groups them, without ``UUID``'s checks, which a
    128-bit draw always passes). Every uid kubesim makes is drawn so. ``O(1)``.

    >>> import random, uuid
    >>> a, b = random.Random(7), random.Random(7)
    >>> all(random_uid(a) == str(uuid.UUID(int=b.getrandbits(128), version=4)) for _ in range(2000))
    True
    """
    h = f"{rng.getrandbits(128) & _UID_KEEP | _UID_SET:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def frozen_map(value: Mapping[str, str] | None) -> FrozenDict:
    """Converter: any mapping (or ``None``) to a :class:`FrozenDict` (``None`` -> empty)."""
    if isinstance(value, FrozenDict):
        return value
    if not value:
        return EMPTY
    return FrozenDict(value)


def optional_frozen_map(value: Mapping[str, str] | None) -> FrozenDict | None:
    """Converter keeping ``None`` distinct from ``{}`` (for ``Service.spec.selector``)."""
    if value is None or isinstance(value, FrozenDict):
        return value
    return FrozenDict(value)


def _condition_true(conditions: Any, type_: str) -> bool:
    for c in conditions:
        if c.type == type_:
            return bool(c.status == "True")
    return False


def _tuple(value: Any) -> tuple[Any, ...]:
    return value if type(value) is tuple else tuple(value)


#: Field metadata of fields added to a class after its ``pod-template-hash`` form was fixed:
#: at their default they are left out of the hashed form, so templates that do not use them
#: keep their hash (:func:`kubesim.controllers.workloads.rollout.canonical_dump`).
LATER = {"hash_omit_default": True}


# --------------------------------------------------------------------------------------------
# meta/v1


@attrs.frozen(repr=False, eq=False)
class OwnerReference:
    """``metav1.OwnerReference``."""

    api_version: str = ""
    kind: str = ""
    name: str = ""
    uid: str = ""
    controller: bool | None = None
    block_owner_deletion: bool | None = None

    @classmethod
    def controller_ref(cls, owner: Any) -> OwnerReference:
        """``metav1.NewControllerRef``: a ``controller: true``, ``blockOwnerDeletion: true``
        reference to ``owner`` (any top-level object)."""
        return cls(
            api_version=owner.api_version,
            kind=owner.kind,
            name=owner.metadata.name,
            uid=owner.metadata.uid,
            controller=True,
            block_owner_deletion=True,
        )


@attrs.frozen(repr=False, cache_hash=True)
class ObjectReference:
    """``corev1.ObjectReference`` (all plain strings, as in Go)."""

    kind: str = ""
    namespace: str = ""
    name: str = ""
    uid: str = ""
    api_version: str = ""
    resource_version: str = ""
    field_path: str = ""


@attrs.frozen(repr=False, eq=False)
class ManagedFieldsEntry:
    """``metav1.ManagedFieldsEntry``; ``fields_v1`` holds the raw FieldsV1 JSON text."""

    manager: str = ""
    operation: str = ""
    api_version: str = ""
    time: int | None = None
    fields_type: str = ""
    fields_v1: str | None = None
    subresource: str = ""


@attrs.frozen(repr=False, eq=False)
class ObjectMeta:
    """``metav1.ObjectMeta``. Timestamps are whole Unix seconds (``None`` = zero time)."""

    name: str = ""
    generate_name: str = ""
    namespace: str = ""
    self_link: str = ""
    uid: str = ""
    resource_version: str = ""
    generation: int = 0
    creation_timestamp: int | None = None
    deletion_timestamp: int | None = None
    deletion_grace_period_seconds: int | None = None
    labels: FrozenDict = attrs.field(default=EMPTY, converter=frozen_map)
    annotations: FrozenDict = attrs.field(default=EMPTY, converter=frozen_map)
    owner_references: tuple[OwnerReference, ...] = attrs.field(default=(), converter=_tuple)
    finalizers: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    managed_fields: tuple[ManagedFieldsEntry, ...] = attrs.field(default=(), converter=_tuple)


@attrs.frozen(repr=False, eq=False)
class LabelSelectorRequirement:
    """``metav1.LabelSelectorRequirement``: operator ``In``, ``NotIn``, ``Exists``, ``DoesNotExist``."""

    key: str
    operator: str
    values: tuple[str, ...] = attrs.field(default=(), converter=_tuple)


@attrs.frozen(repr=False, eq=False)
class LabelSelector:
    """``metav1.LabelSelector`` (``matchLabels`` AND ``matchExpressions``)."""

    match_labels: FrozenDict = attrs.field(default=EMPTY, converter=frozen_map)
    match_expressions: tuple[LabelSelectorRequirement, ...] = attrs.field(default=(), converter=_tuple)


# --------------------------------------------------------------------------------------------
# core/v1 Pod


@attrs.frozen(repr=False, eq=False)
class ContainerPort:
    """``corev1.ContainerPort``."""

    container_port: int
    name: str = ""
    protocol: str = "TCP"
    host_port: int | None = None
    host_ip: str = ""


@attrs.frozen(repr=False, eq=False)
class HTTPGetAction:
    """``corev1.HTTPGetAction``: ``port`` is a number or a container port name."""

    port: IntOrString
    path: str = ""
    host: str = ""
    scheme: str = "HTTP"


@attrs.frozen(repr=False, eq=False)
class TCPSocketAction:
    """``corev1.TCPSocketAction``."""

    port: IntOrString
    host: str = ""


@attrs.frozen(repr=False, eq=False)
class ExecAction:
    """``corev1.ExecAction``."""

    command: tuple[str, ...] = attrs.field(default=(), converter=_tuple)


@attrs.frozen(repr=False, eq=False)
class Probe:
    """``corev1.Probe`` with its handler (exactly one of ``http_get``, ``tcp_socket``, ``exec``)."""

    http_get: HTTPGetAction | None = None
    tcp_socket: TCPSocketAction | None = None
    exec: ExecAction | None = None
    initial_delay_seconds: int = 0
    timeout_seconds: int = 1
    period_seconds: int = 10
    success_threshold: int = 1
    failure_threshold: int = 3


@attrs.frozen(repr=False, eq=False)
class SleepAction:
    """``corev1.SleepAction``: the ``sleep`` lifecycle hook (``PodLifecycleSleepAction``)."""

    seconds: int = 0


@attrs.frozen(repr=False, eq=False)
class LifecycleHandler:
    """``corev1.LifecycleHandler``: exactly one of ``exec``, ``http_get``, ``tcp_socket``
    (deprecated, not run by the kubelet) and ``sleep``."""

    exec: ExecAction | None = None
    http_get: HTTPGetAction | None = None
    tcp_socket: TCPSocketAction | None = None
    sleep: SleepAction | None = None


@attrs.frozen(repr=False, eq=False)
class Lifecycle:
    """``corev1.Lifecycle``: the ``postStart`` and ``preStop`` hooks."""

    post_start: LifecycleHandler | None = None
    pre_stop: LifecycleHandler | None = None


@attrs.frozen(repr=False, eq=False)
class ResourceRequirements:
    """``corev1.ResourceRequirements`` (quantities kept as their string form)."""

    requests: FrozenDict = attrs.field(default=EMPTY, converter=frozen_map)
    limits: FrozenDict = attrs.field(default=EMPTY, converter=frozen_map)


@attrs.frozen(repr=False, eq=False)
class Container:
    """``corev1.Container``. ``restart_policy`` is only meaningful on init containers
    (``Always`` makes a restartable "sidecar" init container)."""

    name: str
    image: str = ""
    ports: tuple[ContainerPort, ...] = attrs.field(default=(), converter=_tuple)
    readiness_probe: Probe | None = None
    liveness_probe: Probe | None = None
    resources: ResourceRequirements = attrs.field(factory=ResourceRequirements)
    restart_policy: str | None = None
    startup_probe: Probe | None = attrs.field(default=None, metadata=LATER)
    lifecycle: Lifecycle | None = attrs.field(default=None, metadata=LATER)


@attrs.frozen(repr=False, eq=False)
class Toleration:
    """``corev1.Toleration``: ``operator`` ``Equal`` (``""``) or ``Exists``; an empty ``effect``
    matches every effect, an empty ``key`` with ``Exists`` every taint."""

    key: str = ""
    operator: str = ""
    value: str = ""
    effect: str = ""
    toleration_seconds: int | None = None


@attrs.frozen(repr=False, eq=False)
class NodeSelectorRequirement:
    """``corev1.NodeSelectorRequirement``: ``In``, ``NotIn``, ``Exists``, ``DoesNotExist``,
    ``Gt``, ``Lt``."""

    key: str
    operator: str
    values: tuple[str, ...] = attrs.field(default=(), converter=_tuple)


@attrs.frozen(repr=False, eq=False)
class NodeSelectorTerm:
    """``corev1.NodeSelectorTerm``: its expressions and fields are ANDed."""

    match_expressions: tuple[NodeSelectorRequirement, ...] = attrs.field(default=(), converter=_tuple)
    match_fields: tuple[NodeSelectorRequirement, ...] = attrs.field(default=(), converter=_tuple)


@attrs.frozen(repr=False, eq=False)
class NodeSelector:
    """``corev1.NodeSelector``: its terms are ORed."""

    node_selector_terms: tuple[NodeSelectorTerm, ...] = attrs.field(default=(), converter=_tuple)


@attrs.frozen(repr=False, eq=False)
class PreferredSchedulingTerm:
    """``corev1.PreferredSchedulingTerm``."""

    weight: int
    preference: NodeSelectorTerm = attrs.field(factory=NodeSelectorTerm)


@attrs.frozen(repr=False, eq=False)
class NodeAffinity:
    """``corev1.NodeAffinity``."""

    required_during_scheduling_ignored_during_execution: NodeSelector | None = None
    preferred_during_scheduling_ignored_during_execution: tuple[PreferredSchedulingTerm, ...] = attrs.field(
        default=(), converter=_tuple
    )


@attrs.frozen(repr=False, eq=False)
class Affinity:
    """``corev1.Affinity`` (node affinity only; pod affinity and anti-affinity are not modelled)."""

    node_affinity: NodeAffinity | None = None


@attrs.frozen(repr=False, eq=False)
class PodSpec:
    """``corev1.PodSpec`` (the fields the endpoint machinery reads)."""

    containers: tuple[Container, ...] = attrs.field(default=(), converter=_tuple)
    init_containers: tuple[Container, ...] = attrs.field(default=(), converter=_tuple)
    node_name: str = ""
    hostname: str = ""
    subdomain: str = ""
    restart_policy: str = "Always"
    termination_grace_period_seconds: int | None = None
    node_selector: FrozenDict = attrs.field(default=EMPTY, converter=frozen_map)
    scheduler_name: str = ""
    #: node affinity is modelled (the scheduler honours the required terms); pod
    #: (anti-)affinity is not stored (a :class:`kubesim.ModelWarning` says so)
    # (both left out of the pod-template hash while unset: see kubesim.controllers.workloads.revisions)
    affinity: Affinity | None = attrs.field(default=None, metadata={"hash_omit_default": True})
    tolerations: tuple[Toleration, ...] = attrs.field(default=(), converter=_tuple, metadata={"hash_omit_default": True})
    host_network: bool = attrs.field(default=False, metadata=LATER)
    readiness_gates: tuple[PodReadinessGate, ...] = attrs.field(default=(), converter=_tuple, metadata=LATER)


@attrs.frozen(repr=False, eq=False)
class PodReadinessGate:
    """``corev1.PodReadinessGate``: the pod is Ready only when its condition of
    ``condition_type`` is ``True`` too."""

    condition_type: str


@attrs.frozen(repr=False, eq=False)
class PodCondition:
    """``corev1.PodCondition``."""

    type: str
    status: str
    last_transition_time: int | None = None
    last_probe_time: int | None = None
    reason: str = ""
    message: str = ""


@attrs.frozen(repr=False, eq=False)
class ContainerStateWaiting:
    """``corev1.ContainerStateWaiting`` (``ContainerCreating``, ``CrashLoopBackOff``, ...)."""

    reason: str = ""
    message: str = ""


@attrs.frozen(repr=False, eq=False)
class ContainerStateRunning:
    """``corev1.ContainerStateRunning``."""

    started_at: int | None = None


@attrs.frozen(repr=False, eq=False)
class ContainerStateTerminated:
    """``corev1.ContainerStateTerminated`` (``Completed``, ``Error``, ...)."""

    exit_code: int = 0
    signal: int = 0
    reason: str = ""
    message: str = ""
    started_at: int | None = None
    finished_at: int | None = None
    container_id: str = ""


@attrs.frozen(repr=False, eq=False)
class ContainerState:
    """``corev1.ContainerState``: at most one of its three members is set."""

    waiting: ContainerStateWaiting | None = None
    running: ContainerStateRunning | None = None
    terminated: ContainerStateTerminated | None = None


@attrs.frozen(repr=False, eq=False)
class ContainerStatus:
    """``corev1.ContainerStatus`` as the kubelet writes it (``started`` is a pointer)."""

    name: str
    state: ContainerState = attrs.field(factory=ContainerState)
    last_state: ContainerState = attrs.field(factory=ContainerState)
    ready: bool = False
    restart_count: int = 0
    image: str = ""
    image_id: str = ""
    container_id: str = ""
    started: bool | None = None


@attrs.frozen(repr=False, eq=False)
class PodIP:
    """``corev1.PodIP``."""

    ip: str


@attrs.frozen(repr=False, eq=False)
class HostIP:
    """``corev1.HostIP``."""

    ip: str


@attrs.frozen(repr=False, eq=False)
class PodStatus:
    """``corev1.PodStatus``.

    ``qos_class`` is ``status.qosClass`` (``BestEffort``, ``Burstable`` or ``Guaranteed``):
    the API server sets it when it creates the pod (``PrepareForCreate``:
    :func:`kubesim.qos.get_pod_qos`) and keeps it across status writes that leave it empty;
    ``""`` only on a pod not yet stored. It is the last attribute here, but the wire writes
    it where Go's struct has it (protobuf field 9, after ``containerStatuses`` in JSON)."""

    phase: str = ""
    conditions: tuple[PodCondition, ...] = attrs.field(default=(), converter=_tuple)
    host_ip: str = ""
    pod_ip: str = ""
    pod_ips: tuple[PodIP, ...] = attrs.field(default=(), converter=_tuple)
    start_time: int | None = None
    reason: str = ""
    message: str = ""
    container_statuses: tuple[ContainerStatus, ...] = attrs.field(default=(), converter=_tuple)
    init_container_statuses: tuple[ContainerStatus, ...] = attrs.field(default=(), converter=_tuple)
    host_ips: tuple[HostIP, ...] = attrs.field(default=(), converter=_tuple)
    qos_class: str = ""

    def condition(self, type_: str) -> PodCondition | None:
        """The condition of ``type_``, or ``None``. ``O(conditions)``."""
        for c in self.conditions:
            if c.type == type_:
                return c
        return None

    @property
    def ready(self) -> bool:
        """``True`` iff the ``Ready`` condition is ``True`` (``podutil.IsPodReady``)."""
        return _condition_true(self.conditions, "Ready")


@attrs.frozen(repr=False, eq=False)
class Pod:
    """``corev1.Pod``."""

    kind: ClassVar[str] = "Pod"
    api_version: ClassVar[str] = "v1"

    metadata: ObjectMeta = attrs.field(factory=ObjectMeta)
    spec: PodSpec = attrs.field(factory=PodSpec)
    status: PodStatus = attrs.field(factory=PodStatus)


@attrs.frozen(repr=False, eq=False)
class PodTemplateSpec:
    """``corev1.PodTemplateSpec``."""

    metadata: ObjectMeta = attrs.field(factory=ObjectMeta)
    spec: PodSpec = attrs.field(factory=PodSpec)


# --------------------------------------------------------------------------------------------
# core/v1 Service


@attrs.frozen(repr=False, eq=False)
class ServicePort:
    """``corev1.ServicePort``. ``target_port`` is a number or a container port name;
    ``0`` is the Go zero value (unset), which the API server defaults to ``port``."""

    port: int
    name: str = ""
    protocol: str = "TCP"
    app_protocol: str | None = None
    target_port: IntOrString = 0
    node_port: int = 0


@attrs.frozen(repr=False, eq=False)
class ServiceSpec:
    """``corev1.ServiceSpec``.

    ``selector`` is ``None`` for a selector-less Service (its Endpoints are written by hand) and
    an empty :class:`FrozenDict` for "select every pod in the namespace"; the two differ.
    """

    ports: tuple[ServicePort, ...] = attrs.field(default=(), converter=_tuple)
    selector: FrozenDict | None = attrs.field(default=None, converter=optional_frozen_map)
    cluster_ip: str = ""
    cluster_ips: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    type: str = ""
    external_name: str = ""
    external_traffic_policy: str = ""
    internal_traffic_policy: str | None = None
    session_affinity: str = ""
    ip_families: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    ip_family_policy: str | None = None
    publish_not_ready_addresses: bool = False
    traffic_distribution: str | None = None


@attrs.frozen(repr=False, eq=False)
class Service:
    """``corev1.Service``."""

    kind: ClassVar[str] = "Service"
    api_version: ClassVar[str] = "v1"

    metadata: ObjectMeta = attrs.field(factory=ObjectMeta)
    spec: ServiceSpec = attrs.field(factory=ServiceSpec)

    @property
    def is_headless(self) -> bool:
        """No service IP (``clusterIP`` empty or ``None``): slices get the headless label."""
        return self.spec.cluster_ip in ("", "None")


# --------------------------------------------------------------------------------------------
# core/v1 Node and Namespace


@attrs.frozen(repr=False, eq=False)
class Taint:
    """``corev1.Taint``."""

    key: str
    effect: str
    value: str = ""
    time_added: int | None = None


@attrs.frozen(repr=False, eq=False)
class NodeSpec:
    """``corev1.NodeSpec``."""

    pod_cidr: str = ""
    pod_cidrs: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    unschedulable: bool = False
    taints: tuple[Taint, ...] = attrs.field(default=(), converter=_tuple)


@attrs.frozen(repr=False, eq=False)
class NodeCondition:
    """``corev1.NodeCondition``."""

    type: str
    status: str
    last_heartbeat_time: int | None = None
    last_transition_time: int | None = None
    reason: str = ""
    message: str = ""


@attrs.frozen(repr=False, eq=False)
class NodeAddress:
    """``corev1.NodeAddress``."""

    type: str
    address: str


@attrs.frozen(repr=False, eq=False)
class NodeSystemInfo:
    """``corev1.NodeSystemInfo`` (``kubectl get nodes -o wide`` shows several of them)."""

    machine_id: str = ""
    system_uuid: str = ""
    boot_id: str = ""
    kernel_version: str = ""
    os_image: str = ""
    container_runtime_version: str = ""
    kubelet_version: str = ""
    kube_proxy_version: str = ""
    operating_system: str = ""
    architecture: str = ""


@attrs.frozen(repr=False, eq=False)
class NodeStatus:
    """``corev1.NodeStatus``; ``allocatable`` maps resource names to quantity strings."""

    capacity: FrozenDict = attrs.field(default=EMPTY, converter=frozen_map)
    allocatable: FrozenDict = attrs.field(default=EMPTY, converter=frozen_map)
    conditions: tuple[NodeCondition, ...] = attrs.field(default=(), converter=_tuple)
    addresses: tuple[NodeAddress, ...] = attrs.field(default=(), converter=_tuple)
    node_info: NodeSystemInfo = attrs.field(factory=NodeSystemInfo)

    @property
    def ready(self) -> bool:
        """``True`` iff the ``Ready`` condition is ``True``."""
        return _condition_true(self.conditions, "Ready")


@attrs.frozen(repr=False, eq=False)
class Node:
    """``corev1.Node`` (cluster-scoped)."""

    kind: ClassVar[str] = "Node"
    api_version: ClassVar[str] = "v1"

    metadata: ObjectMeta = attrs.field(factory=ObjectMeta)
    spec: NodeSpec = attrs.field(factory=NodeSpec)
    status: NodeStatus = attrs.field(factory=NodeStatus)


@attrs.frozen(repr=False, eq=False)
class NamespaceSpec:
    """``corev1.NamespaceSpec``: ``finalizers`` (the API server adds ``kubernetes`` on create;
    the namespace controller removes it when the namespace's content is gone)."""

    finalizers: tuple[str, ...] = attrs.field(default=(), converter=_tuple)


@attrs.frozen(repr=False, eq=False)
class NamespaceCondition:
    """``corev1.NamespaceCondition`` (written by the namespace controller while deleting)."""

    type: str
    status: str
    last_transition_time: int | None = None
    reason: str = ""
    message: str = ""


@attrs.frozen(repr=False, eq=False)
class NamespaceStatus:
    """``corev1.NamespaceStatus``: ``phase`` is ``Active`` or ``Terminating``."""

    phase: str = ""
    conditions: tuple[NamespaceCondition, ...] = attrs.field(default=(), converter=_tuple)


@attrs.frozen(repr=False, eq=False)
class Namespace:
    """``corev1.Namespace`` (cluster-scoped)."""

    kind: ClassVar[str] = "Namespace"
    api_version: ClassVar[str] = "v1"

    metadata: ObjectMeta = attrs.field(factory=ObjectMeta)
    spec: NamespaceSpec = attrs.field(factory=NamespaceSpec)
    status: NamespaceStatus = attrs.field(factory=NamespaceStatus)


# --------------------------------------------------------------------------------------------
# core/v1 Endpoints


@attrs.frozen(repr=False, cache_hash=True)
class EndpointAddress:
    """``corev1.EndpointAddress``: ``node_name`` is a pointer (``None`` = absent, ``""`` is
    emitted by the Endpoints controller for pods without a node)."""

    ip: str
    hostname: str = ""
    node_name: str | None = None
    target_ref: ObjectReference | None = None


@attrs.frozen(repr=False, eq=False)
class EndpointPort:
    """``corev1.EndpointPort``."""

    port: int
    name: str = ""
    protocol: str = "TCP"
    app_protocol: str | None = None


@attrs.frozen(repr=False, eq=False)
class EndpointSubset:
    """``corev1.EndpointSubset``: the endpoints are ``addresses x ports``."""

    addresses: tuple[EndpointAddress, ...] = attrs.field(default=(), converter=_tuple)
    not_ready_addresses: tuple[EndpointAddress, ...] = attrs.field(default=(), converter=_tuple)
    ports: tuple[EndpointPort, ...] = attrs.field(default=(), converter=_tuple)


@attrs.frozen(repr=False, eq=False)
class Endpoints:
    """``corev1.Endpoints`` (deprecated upstream in v1.33, still written by its controller)."""

    kind: ClassVar[str] = "Endpoints"
    api_version: ClassVar[str] = "v1"

    metadata: ObjectMeta = attrs.field(factory=ObjectMeta)
    subsets: tuple[EndpointSubset, ...] = attrs.field(default=(), converter=_tuple)


# --------------------------------------------------------------------------------------------
# discovery/v1 EndpointSlice


@attrs.frozen(repr=False, eq=False)
class EndpointConditions:
    """``discoveryv1.EndpointConditions``: ``None`` means "unknown" (ready/serving: treat as
    true; terminating: treat as false)."""

    ready: bool | None = None
    serving: bool | None = None
    terminating: bool | None = None


@attrs.frozen(repr=False, eq=False)
class ForZone:
    """``discoveryv1.ForZone``."""

    name: str


@attrs.frozen(repr=False, eq=False)
class ForNode:
    """``discoveryv1.ForNode``."""

    name: str


@attrs.frozen(repr=False, eq=False)
class EndpointHints:
    """``discoveryv1.EndpointHints``."""

    for_zones: tuple[ForZone, ...] = attrs.field(default=(), converter=_tuple)
    for_nodes: tuple[ForNode, ...] = attrs.field(default=(), converter=_tuple)


@attrs.frozen(repr=False, cache_hash=True)
class Endpoint:
    """``discoveryv1.Endpoint``."""

    addresses: tuple[str, ...] = attrs.field(converter=_tuple)
    conditions: EndpointConditions = attrs.field(factory=EndpointConditions)
    hostname: str | None = None
    target_ref: ObjectReference | None = None
    deprecated_topology: FrozenDict = attrs.field(default=EMPTY, converter=frozen_map)
    node_name: str | None = None
    zone: str | None = None
    hints: EndpointHints | None = None


@attrs.frozen(repr=False, eq=False)
class EndpointSlicePort:
    """``discoveryv1.EndpointPort`` (every field a pointer; field numbering differs from the
    core ``EndpointPort``)."""

    name: str | None = None
    protocol: str | None = None
    port: int | None = None
    app_protocol: str | None = None


@attrs.frozen(repr=False, eq=False)
class EndpointSlice:
    """``discoveryv1.EndpointSlice``."""

    kind: ClassVar[str] = "EndpointSlice"
    api_version: ClassVar[str] = "discovery.k8s.io/v1"

    metadata: ObjectMeta = attrs.field(factory=ObjectMeta)
    address_type: str = ""
    endpoints: tuple[Endpoint, ...] = attrs.field(default=(), converter=_tuple)
    ports: tuple[EndpointSlicePort, ...] = attrs.field(default=(), converter=_tuple)


# --------------------------------------------------------------------------------------------
# apps/v1


@attrs.frozen(repr=False, eq=False)
class RollingUpdateDeployment:
    """``appsv1.RollingUpdateDeployment``: integers or percentages such as ``"25%"``."""

    max_unavailable: IntOrString | None = None
    max_surge: IntOrString | None = None


@attrs.frozen(repr=False, eq=False)
class DeploymentStrategy:
    """``appsv1.DeploymentStrategy``: ``RollingUpdate`` or ``Recreate``."""

    type: str = ""
    rolling_update: RollingUpdateDeployment | None = None


@attrs.frozen(repr=False, eq=False)
class DeploymentSpec:
    """``appsv1.DeploymentSpec``."""

    selector: LabelSelector | None = None
    template: PodTemplateSpec = attrs.field(factory=PodTemplateSpec)
    replicas: int | None = None
    strategy: DeploymentStrategy = attrs.field(factory=DeploymentStrategy)
    min_ready_seconds: int = 0
    revision_history_limit: int | None = None
    paused: bool = False
    progress_deadline_seconds: int | None = None


@attrs.frozen(repr=False, eq=False)
class DeploymentStatus:
    """``appsv1.DeploymentStatus``."""

    observed_generation: int = 0
    replicas: int = 0
    updated_replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    unavailable_replicas: int = 0


@attrs.frozen(repr=False, eq=False)
class Deployment:
    """``appsv1.Deployment``."""

    kind: ClassVar[str] = "Deployment"
    api_version: ClassVar[str] = "apps/v1"

    metadata: ObjectMeta = attrs.field(factory=ObjectMeta)
    spec: DeploymentSpec = attrs.field(factory=DeploymentSpec)
    status: DeploymentStatus = attrs.field(factory=DeploymentStatus)


@attrs.frozen(repr=False, eq=False)
class ReplicaSetSpec:
    """``appsv1.ReplicaSetSpec``."""

    selector: LabelSelector | None = None
    template: PodTemplateSpec = attrs.field(factory=PodTemplateSpec)
    replicas: int | None = None
    min_ready_seconds: int = 0


@attrs.frozen(repr=False, eq=False)
class ReplicaSetStatus:
    """``appsv1.ReplicaSetStatus``."""

    replicas: int = 0
    fully_labeled_replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    observed_generation: int = 0


@attrs.frozen(repr=False, eq=False)
class ReplicaSet:
    """``appsv1.ReplicaSet``."""

    kind: ClassVar[str] = "ReplicaSet"
    api_version: ClassVar[str] = "apps/v1"

    metadata: ObjectMeta = attrs.field(factory=ObjectMeta)
    spec: ReplicaSetSpec = attrs.field(factory=ReplicaSetSpec)
    status: ReplicaSetStatus = attrs.field(factory=ReplicaSetStatus)


@attrs.frozen(repr=False, eq=False)
class RollingUpdateStatefulSetStrategy:
    """``appsv1.RollingUpdateStatefulSetStrategy``: ordinals below ``partition`` keep the
    current revision."""

    partition: int | None = None
    max_unavailable: IntOrString | None = None


@attrs.frozen(repr=False, eq=False)
class StatefulSetUpdateStrategy:
    """``appsv1.StatefulSetUpdateStrategy``: ``RollingUpdate`` or ``OnDelete``."""

    type: str = ""
    rolling_update: RollingUpdateStatefulSetStrategy | None = None


@attrs.frozen(repr=False, eq=False)
class StatefulSetSpec:
    """``appsv1.StatefulSetSpec`` (no volume claim templates: kubesim has no volumes)."""

    replicas: int | None = None
    selector: LabelSelector | None = None
    template: PodTemplateSpec = attrs.field(factory=PodTemplateSpec)
    service_name: str = ""
    pod_management_policy: str = ""
    update_strategy: StatefulSetUpdateStrategy = attrs.field(factory=StatefulSetUpdateStrategy)
    revision_history_limit: int | None = None
    min_ready_seconds: int = 0


@attrs.frozen(repr=False, eq=False)
class StatefulSetStatus:
    """``appsv1.StatefulSetStatus``."""

    observed_generation: int = 0
    replicas: int = 0
    ready_replicas: int = 0
    current_replicas: int = 0
    updated_replicas: int = 0
    current_revision: str = ""
    update_revision: str = ""
    collision_count: int | None = None
    available_replicas: int = 0


@attrs.frozen(repr=False, eq=False)
class StatefulSet:
    """``appsv1.StatefulSet``."""

    kind: ClassVar[str] = "StatefulSet"
    api_version: ClassVar[str] = "apps/v1"

    metadata: ObjectMeta = attrs.field(factory=ObjectMeta)
    spec: StatefulSetSpec = attrs.field(factory=StatefulSetSpec)
    status: StatefulSetStatus = attrs.field(factory=StatefulSetStatus)


@attrs.frozen(repr=False, eq=False)
class RollingUpdateDaemonSet:
    """``appsv1.RollingUpdateDaemonSet``: integers or percentages."""

    max_unavailable: IntOrString | None = None
    max_surge: IntOrString | None = None


@attrs.frozen(repr=False, eq=False)
class DaemonSetUpdateStrategy:
    """``appsv1.DaemonSetUpdateStrategy``: ``RollingUpdate`` or ``OnDelete``."""

    type: str = ""
    rolling_update: RollingUpdateDaemonSet | None = None


@attrs.frozen(repr=False, eq=False)
class DaemonSetSpec:
    """``appsv1.DaemonSetSpec``."""

    selector: LabelSelector | None = None
    template: PodTemplateSpec = attrs.field(factory=PodTemplateSpec)
    update_strategy: DaemonSetUpdateStrategy = attrs.field(factory=DaemonSetUpdateStrategy)
    min_ready_seconds: int = 0
    revision_history_limit: int | None = None


@attrs.frozen(repr=False, eq=False)
class DaemonSetStatus:
    """``appsv1.DaemonSetStatus``."""

    current_number_scheduled: int = 0
    number_misscheduled: int = 0
    desired_number_scheduled: int = 0
    number_ready: int = 0
    observed_generation: int = 0
    updated_number_scheduled: int = 0
    number_available: int = 0
    number_unavailable: int = 0
    collision_count: int | None = None


@attrs.frozen(repr=False, eq=False)
class DaemonSet:
    """``appsv1.DaemonSet``."""

    kind: ClassVar[str] = "DaemonSet"
    api_version: ClassVar[str] = "apps/v1"

    metadata: ObjectMeta = attrs.field(factory=ObjectMeta)
    spec: DaemonSetSpec = attrs.field(factory=DaemonSetSpec)
    status: DaemonSetStatus = attrs.field(factory=DaemonSetStatus)


APIObject = (
    Pod | Service | Node | Namespace | Endpoints | EndpointSlice | Deployment | ReplicaSet | StatefulSet | DaemonSet
)

#: Every top-level kind, by its ``kind`` name.
KINDS: dict[str, type] = {
    cls.kind: cls
    for cls in (Pod, Service, Node, Namespace, Endpoints, EndpointSlice, Deployment, ReplicaSet, StatefulSet,
                DaemonSet)
}

# --------------------------------------------------------------------------------------------
# the shared value methods


def _repr(self: Any) -> str:
    """``Class(field=value, ...)`` with each value's ``repr``, in field order: the text attrs'
    generated ``__repr__`` gives (valid Python for these classes). ``O(size)``.

    attrs' version also guards against reference cycles; a frozen object whose collections
    are tuples and :class:`FrozenDict` cannot hold one."""
    cls = self.__class__
    body = ", ".join([f"{name}={getattr(self, name)!r}" for name in cls._value_names])
    return f"{cls.__qualname__}({body})"


def _eq(self: Any, other: Any) -> Any:
    """attrs' ``__eq__``: ``NotImplemented`` for another class, else whether the fields are
    equal in order. The two field tuples compare element by element, an element identical in
    both counting as equal (which is what ``==`` gives for these value types, none of which
    holds a float NaN), so sub-objects shared by identity are not walked. ``O(fields)``."""
    if other.__class__ is not self.__class__:
        return NotImplemented
    key = self._value_key
    return key(self) == key(other)


def _hash(self: Any) -> int:
    """A hash of the class and the fields, consistent with :func:`_eq` (attrs' ``__hash__``
    hashes the same tuple with a per-class constant). ``O(fields)``."""
    return hash((self._value_salt, self._value_key(self)))


def _value_methods(cls: Any) -> None:
    """Give the attrs class ``cls`` the shared ``__repr__`` and, unless attrs caches its hash
    (``cache_hash=True``: attrs generated its ``__eq__`` and ``__hash__``), the shared
    ``__eq__`` and ``__hash__``, with the per-class constants they read: the field names, an
    :func:`operator.attrgetter` of them (their tuple, or the one value of a one-field class)
    and the hash salt. ``O(fields)``."""
    names = tuple(a.name for a in attrs.fields(cls))
    cls._value_names = names
    cls.__repr__ = _repr
    if "__eq__" not in cls.__dict__:
        cls._value_key = attrgetter(*names)
        cls._value_salt = hash(f"{cls.__module__}.{cls.__qualname__}")
        cls.__eq__ = _eq
        cls.__hash__ = _hash


for _cls in [c for c in list(globals().values()) if isinstance(c, type) and attrs.has(c) and c.__module__ == __name__]:
    _value_methods(_cls)
del _cls

#: Kinds without a namespace.
CLUSTER_SCOPED: frozenset[str] = frozenset(
    {"Node", "Namespace", "IngressClass", "ClusterRole", "ClusterRoleBinding"}  # the last three: kubesim.inert
)
