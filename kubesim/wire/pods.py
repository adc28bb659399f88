"""core/v1 Pod, Service, Node and Namespace: their protobuf encoders (unmodelled
non-pointer fields written as Go zero values) and the Pod status sized from its parts
(``_pod_status_pair``, both sizes in one walk; its scalar fields, its conditions and each
container status but for its ``containerID`` remembered in bounded memos keyed by values and
held identities, each ``PodCondition`` sized by arithmetic and cached by identity), so a
kubelet status write does not re-encode the status.

Imports: :mod:`kubesim.objects`, and the lower wire layers :mod:`~kubesim.wire.protobuf`,
:mod:`~kubesim.wire.gojson`, :mod:`~kubesim.wire.caches`, :mod:`~kubesim.wire.meta`.
"""

from __future__ import annotations

from typing import Any

from kubesim.objects import (
    Affinity,
    Container,
    ContainerPort,
    ContainerState,
    ContainerStatus,
    ExecAction,
    HTTPGetAction,
    Lifecycle,
    LifecycleHandler,
    Namespace,
    NamespaceCondition,
    NamespaceSpec,
    NamespaceStatus,
    Node,
    NodeAddress,
    NodeAffinity,
    NodeCondition,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    NodeSpec,
    NodeStatus,
    NodeSystemInfo,
    Pod,
    PodCondition,
    PodSpec,
    PodStatus,
    PodTemplateSpec,
    Probe,
    ResourceRequirements,
    Service,
    ServicePort,
    ServiceSpec,
    Taint,
    TCPSocketAction,
    Toleration,
)
from kubesim.wire.caches import (
    _PAIR_MASK,
    _PAIR_SHIFT,
    _PART_CACHE_SIZE,
    _STR_PAIRS,
    _by_identity,
    _memo_dict,
    _str_pair,
)
from kubesim.wire.gojson import _json_str_len, _time_json_len
from kubesim.wire.meta import _object_meta
from kubesim.wire.protobuf import (
    _bool,
    _int,
    _int_or_string,
    _map,
    _msg,
    _opt_bool,
    _opt_int,
    _opt_str,
    _opt_time,
    _quantity_map,
    _rep_msg,
    _rep_str,
    _sf,
    _str,
    _tag,
    _time,
    sov,
    wrap,
)

# --------------------------------------------------------------------------------------------
# core/v1 Pod.  Unmodelled non-pointer fields are written as Go zero values.


def _container_port(p: ContainerPort) -> bytes:
    return (
        _str(1, p.name)
        + _int(2, p.host_port or 0)
        + _int(3, p.container_port)
        + _str(4, p.protocol)
        + _str(5, p.host_ip)
    )


def _http_get(h: HTTPGetAction) -> bytes:
    return _str(1, h.path) + _msg(2, _int_or_string(h.port)) + _str(3, h.host) + _str(4, h.scheme)


def _tcp_socket(t: TCPSocketAction) -> bytes:
    return _msg(1, _int_or_string(t.port)) + _str(2, t.host)


def _exec(e: ExecAction) -> bytes:
    return _rep_str(1, e.command)


def _probe(p: Probe) -> bytes:
    handler = (
        (b"" if p.exec is None else _msg(1, _exec(p.exec)))
        + (b"" if p.http_get is None else _msg(2, _http_get(p.http_get)))
        + (b"" if p.tcp_socket is None else _msg(3, _tcp_socket(p.tcp_socket)))
    )
    return (
        _msg(1, handler)
        + _int(2, p.initial_delay_seconds)
        + _int(3, p.timeout_seconds)
        + _int(4, p.period_seconds)
        + _int(5, p.success_threshold)
        + _int(6, p.failure_threshold)
    )


def _lifecycle_handler(h: LifecycleHandler) -> bytes:
    return (
        (b"" if h.exec is None else _msg(1, _exec(h.exec)))
        + (b"" if h.http_get is None else _msg(2, _http_get(h.http_get)))
        + (b"" if h.tcp_socket is None else _msg(3, _tcp_socket(h.tcp_socket)))
        + (b"" if h.sleep is None else _msg(4, _int(1, h.sleep.seconds)))
    )


def _lifecycle(lc: Lifecycle) -> bytes:
    return (b"" if lc.post_start is None else _msg(1, _lifecycle_handler(lc.post_start))) + (
        b"" if lc.pre_stop is None else _msg(2, _lifecycle_handler(lc.pre_stop))
    )


def _resources(r: ResourceRequirements) -> bytes:
    return _quantity_map(1, r.limits) + _quantity_map(2, r.requests)


# Zero values of unmodelled always-written Container fields, by field number.
_Z = b"\x00"


def _container(c: Container) -> bytes:
    return b"".join(
        (
            _str(1, c.name),
            _str(2, c.image),
            _tag(5, 2) + _Z,  # workingDir
            _rep_msg(6, c.ports, _container_port),
            _msg(8, _resources(c.resources)),
            b"" if c.liveness_probe is None else _msg(10, _probe(c.liveness_probe)),
            b"" if c.readiness_probe is None else _msg(11, _probe(c.readiness_probe)),
            b"" if c.lifecycle is None else _msg(12, _lifecycle(c.lifecycle)),
            _tag(13, 2) + _Z,  # terminationMessagePath
            _tag(14, 2) + _Z,  # imagePullPolicy
            _tag(16, 0) + _Z,  # stdin
            _tag(17, 0) + _Z,  # stdinOnce
            _tag(18, 0) + _Z,  # tty
            _tag(20, 2) + _Z,  # terminationMessagePolicy
            b"" if c.startup_probe is None else _msg(22, _probe(c.startup_probe)),
            _opt_str(24, c.restart_policy),
        )
    )


# core/v1 generated.proto: Toleration {key 1, operator 2, value 3, effect 4, tolerationSeconds 5};
# Affinity {nodeAffinity 1}; NodeAffinity {required 1, preferred 2}; NodeSelector {terms 1};
# NodeSelectorTerm {matchExpressions 1, matchFields 2}; NodeSelectorRequirement {key 1,
# operator 2, values 3}; PreferredSchedulingTerm {weight 1, preference 2}.
def _toleration(t: Toleration) -> bytes:
    return _str(1, t.key) + _str(2, t.operator) + _str(3, t.value) + _str(4, t.effect) + _opt_int(5, t.toleration_seconds)


def _node_selector_requirement(r: NodeSelectorRequirement) -> bytes:
    return _str(1, r.key) + _str(2, r.operator) + _rep_str(3, r.values)


def _node_selector_term(t: NodeSelectorTerm) -> bytes:
    return _rep_msg(1, t.match_expressions, _node_selector_requirement) + _rep_msg(
        2, t.match_fields, _node_selector_requirement
    )


def _node_affinity(a: NodeAffinity) -> bytes:
    req = a.required_during_scheduling_ignored_during_execution
    out = b"" if req is None else _msg(1, _rep_msg(1, req.node_selector_terms, _node_selector_term))
    for p in a.preferred_during_scheduling_ignored_during_execution:
        out += _msg(2, _int(1, p.weight) + _msg(2, _node_selector_term(p.preference)))
    return out


def _affinity(a: Affinity) -> bytes:
    return b"" if a.node_affinity is None else _msg(1, _node_affinity(a.node_affinity))


def _pod_spec(s: PodSpec) -> bytes:
    return b"".join(
        (
            _rep_msg(2, s.containers, _container),
            _str(3, s.restart_policy),
            _opt_int(4, s.termination_grace_period_seconds),
            _tag(6, 2) + _Z,  # dnsPolicy
            _map(7, s.node_selector),
            _tag(8, 2) + _Z,  # serviceAccountName
            _tag(9, 2) + _Z,  # serviceAccount
            _str(10, s.node_name),
            _bool(11, s.host_network),
            _tag(12, 0) + _Z,  # hostPID
            _tag(13, 0) + _Z,  # hostIPC
            _str(16, s.hostname),
            _str(17, s.subdomain),
            b"" if s.affinity is None else _msg(18, _affinity(s.affinity)),
            _str(19, s.scheduler_name),
            _rep_msg(20, s.init_containers, _container),
            _rep_msg(22, s.tolerations, _toleration),
            _tag(24, 2) + _Z,  # priorityClassName
            b"".join(_msg(28, _str(1, g.condition_type)) for g in s.readiness_gates),
        )
    )


def _pod_condition(c: PodCondition) -> bytes:
    return b"".join(
        (
            _str(1, c.type),
            _str(2, c.status),
            _msg(3, _time(c.last_probe_time)),
            _msg(4, _time(c.last_transition_time)),
            _str(5, c.reason),
            _str(6, c.message),
            _tag(7, 0) + _Z,  # observedGeneration
        )
    )


def _container_state(st: ContainerState) -> bytes:
    out = b""
    w, r, t = st.waiting, st.running, st.terminated
    if w is not None:
        out += _msg(1, _str(1, w.reason) + _str(2, w.message))
    if r is not None:
        out += _msg(2, _msg(1, _time(r.started_at)))
    if t is not None:
        out += _msg(
            3,
            _int(1, t.exit_code)
            + _int(2, t.signal)
            + _str(3, t.reason)
            + _str(4, t.message)
            + _msg(5, _time(t.started_at))
            + _msg(6, _time(t.finished_at))
            + _str(7, t.container_id),
        )
    return out


def _container_status(c: ContainerStatus) -> bytes:
    # Unmodelled: allocatedResources, resources, volumeMounts, user, allocatedResourcesStatus,
    # stopSignal (empty or nil: not written).
    return b"".join(
        (
            _str(1, c.name),
            _msg(2, _container_state(c.state)),
            _msg(3, _container_state(c.last_state)),
            _bool(4, c.ready),
            _int(5, c.restart_count),
            _str(6, c.image),
            _str(7, c.image_id),
            _str(8, c.container_id),
            _opt_bool(9, c.started),
        )
    )


def _pod_status(s: PodStatus) -> bytes:
    return b"".join(
        (
            _str(1, s.phase),
            _rep_msg(2, s.conditions, _pod_condition),
            _str(3, s.message),
            _str(4, s.reason),
            _str(5, s.host_ip),
            _str(6, s.pod_ip),
            _opt_time(7, s.start_time),
            _rep_msg(8, s.container_statuses, _container_status),
            _str(9, s.qos_class),
            _rep_msg(10, s.init_container_statuses, _container_status),
            _tag(11, 2) + _Z,  # nominatedNodeName
            b"".join(_msg(12, _str(1, ip.ip)) for ip in s.pod_ips),
            _tag(14, 2) + _Z,  # resize
            b"".join(_msg(16, _str(1, ip.ip)) for ip in s.host_ips),
            _tag(17, 0) + _Z,  # observedGeneration
        )
    )


def _pod(p: Pod, include_rv: bool) -> bytes:
    return (
        _msg(1, _object_meta(p.metadata, include_rv))
        + _msg(2, _pod_spec(p.spec))
        + _msg(3, _pod_status(p.status))
    )


def _pod_template(t: PodTemplateSpec) -> bytes:
    return _msg(1, _object_meta(t.metadata)) + _msg(2, _pod_spec(t.spec))


# --------------------------------------------------------------------------------------------
# core/v1 Service, Node, Namespace


def _service_port(p: ServicePort) -> bytes:
    return (
        _str(1, p.name)
        + _str(2, p.protocol)
        + _int(3, p.port)
        + _msg(4, _int_or_string(p.target_port))
        + _int(5, p.node_port)
        + _opt_str(6, p.app_protocol)
    )


def _service_spec(s: ServiceSpec) -> bytes:
    return b"".join(
        (
            _rep_msg(1, s.ports, _service_port),
            _map(2, s.selector),
            _str(3, s.cluster_ip),
            _str(4, s.type),
            _str(7, s.session_affinity),
            _tag(8, 2) + _Z,  # loadBalancerIP
            _str(10, s.external_name),
            _str(11, s.external_traffic_policy),
            _tag(12, 0) + _Z,  # healthCheckNodePort
            _bool(13, s.publish_not_ready_addresses),
            _opt_str(17, s.ip_family_policy),
            _rep_str(18, s.cluster_ips),
            _rep_str(19, s.ip_families),
            _opt_str(22, s.internal_traffic_policy),
            _opt_str(23, s.traffic_distribution),
        )
    )


# ServiceStatus{loadBalancer: LoadBalancerStatus{}} -> body "0a 00".
_SERVICE_STATUS = b"\x0a\x00"


def _service(s: Service, include_rv: bool) -> bytes:
    return (
        _msg(1, _object_meta(s.metadata, include_rv))
        + _msg(2, _service_spec(s.spec))
        + _msg(3, _SERVICE_STATUS)
    )


def _taint(t: Taint) -> bytes:
    return _str(1, t.key) + _str(2, t.value) + _str(3, t.effect) + _opt_time(4, t.time_added)


def _node_spec(s: NodeSpec) -> bytes:
    return (
        _str(1, s.pod_cidr)
        + b"\x12\x00"  # externalID
        + b"\x1a\x00"  # providerID
        + _bool(4, s.unschedulable)
        + _rep_msg(5, s.taints, _taint)
        + _rep_str(7, s.pod_cidrs)
    )


def _node_condition(c: NodeCondition) -> bytes:
    return b"".join(
        (
            _str(1, c.type),
            _str(2, c.status),
            _msg(3, _time(c.last_heartbeat_time)),
            _msg(4, _time(c.last_transition_time)),
            _str(5, c.reason),
            _str(6, c.message),
        )
    )


def _node_address(a: NodeAddress) -> bytes:
    return _str(1, a.type) + _str(2, a.address)


# daemonEndpoints{kubeletEndpoint{Port 0}}, non-pointer.
_DAEMON_ENDPOINTS = _msg(6, _msg(1, b"\x08\x00"))


def _node_info(i: NodeSystemInfo) -> bytes:
    return b"".join(
        (
            _str(1, i.machine_id),
            _str(2, i.system_uuid),
            _str(3, i.boot_id),
            _str(4, i.kernel_version),
            _str(5, i.os_image),
            _str(6, i.container_runtime_version),
            _str(7, i.kubelet_version),
            _str(8, i.kube_proxy_version),
            _str(9, i.operating_system),
            _str(10, i.architecture),
        )
    )


def _node_status(s: NodeStatus) -> bytes:
    return b"".join(
        (
            _quantity_map(1, s.capacity),
            _quantity_map(2, s.allocatable),
            b"\x1a\x00",  # phase
            _rep_msg(4, s.conditions, _node_condition),
            _rep_msg(5, s.addresses, _node_address),
            _DAEMON_ENDPOINTS,
            _msg(7, _node_info(s.node_info)),
        )
    )


def _node(n: Node, include_rv: bool) -> bytes:
    return (
        _msg(1, _object_meta(n.metadata, include_rv))
        + _msg(2, _node_spec(n.spec))
        + _msg(3, _node_status(n.status))
    )


def _namespace_condition(c: NamespaceCondition) -> bytes:
    # k8s.io/api core/v1 generated.proto NamespaceCondition: type 1, status 2,
    # lastTransitionTime 4 (a non-pointer Time), reason 5, message 6.
    return _str(1, c.type) + _str(2, c.status) + _msg(4, _time(c.last_transition_time)) + _str(5, c.reason) + _str(6, c.message)


def _namespace_spec(s: NamespaceSpec) -> bytes:
    return _rep_str(1, s.finalizers)  # finalizers 1


def _namespace_status(s: NamespaceStatus) -> bytes:
    return _str(1, s.phase) + _rep_msg(2, s.conditions, _namespace_condition)  # phase 1, conditions 2


def _namespace(n: Namespace, include_rv: bool) -> bytes:
    return (
        _msg(1, _object_meta(n.metadata, include_rv))
        + _msg(2, _namespace_spec(n.spec))
        + _msg(3, _namespace_status(n.status))
    )


_K_COND_FIXED = len('{"type":,"status":,"lastProbeTime":,"lastTransitionTime":}')


def _pod_condition_pair(c: PodCondition) -> int:
    """Packed (protobuf entry with its tag, JSON) sizes of a ``PodCondition``, by arithmetic:
    ``wrap(len(_pod_condition(c)))`` and the Go JSON length of ``manifests.encode(c)``
    (both times always written, ``null`` when zero; reason and message omitted when empty)."""
    reason, message = c.reason, c.message
    probe, trans = c.last_probe_time, c.last_transition_time
    strings = _STR_PAIRS.get
    ts = (strings(c.type) or _str_pair(c.type)) + (strings(c.status) or _str_pair(c.status))
    r = strings(reason) or _str_pair(reason)
    m = strings(message) or _str_pair(message)
    # observedGeneration (2 bytes) and the two time fields' tags and length bytes (2 each)
    proto = ((ts + r + m) & _PAIR_MASK) + 6
    js = _K_COND_FIXED + (ts >> _PAIR_SHIFT)
    if probe is None:
        js += 4
    else:
        proto += 3 + sov(probe)  # the body {seconds, nanos: 0}
        js += _time_json_len(probe, True)
    if trans is None:
        js += 4
    else:
        proto += 3 + sov(trans)
        js += _time_json_len(trans, True)
    if reason:
        js += _K_REASON + 1 + (r >> _PAIR_SHIFT)
    if message:
        js += _K_MESSAGE + 1 + (m >> _PAIR_SHIFT)
    return wrap(proto) + (js << _PAIR_SHIFT)


_condition_pair = _by_identity(_pod_condition_pair, _PART_CACHE_SIZE)


def _int32_len(v: int) -> int:
    """A varint field with a one-byte tag (negative int32 values take ten bytes)."""
    return 1 + sov(v)


def _int_json(v: int) -> int:
    return len(str(v))


_K_STATE_WAITING = len('"waiting":{}')
_K_STATE_RUNNING = len('"running":{"startedAt":}')
_K_TERM_FIXED = len('"terminated":{"exitCode":,"startedAt":,"finishedAt":}')
_K_SIGNAL = len('"signal":')
_K_CONTAINER_ID = len('"containerID":')


def _container_state_pair(st: ContainerState) -> int:
    """Packed (protobuf body, JSON) sizes of a ``ContainerState``, by arithmetic (the three
    members are pointers, omitted when nil)."""
    proto = 0
    js = 2
    k = 0
    w, r, t = st.waiting, st.running, st.terminated
    if w is not None:
        proto += wrap(_sf(w.reason) + _sf(w.message))
        body, j = 0, 0
        if w.reason:
            j += _K_REASON + _json_str_len(w.reason)
            body += 1
        if w.message:
            j += _K_MESSAGE + _json_str_len(w.message)
            body += 1
        js += _K_STATE_WAITING + j + (body - 1 if body else 0)
        k += 1
    if r is not None:
        tb = 0 if r.started_at is None else 3 + sov(r.started_at)
        proto += wrap(wrap(tb))
        js += _K_STATE_RUNNING + (4 if r.started_at is None else _time_json_len(r.started_at, True))
        k += 1
    if t is not None:
        sb = 0 if t.started_at is None else 3 + sov(t.started_at)
        fb = 0 if t.finished_at is None else 3 + sov(t.finished_at)
        proto += wrap(
            _int32_len(t.exit_code) + _int32_len(t.signal) + _sf(t.reason) + _sf(t.message)
            + wrap(sb) + wrap(fb) + _sf(t.container_id)
        )
        j = _K_TERM_FIXED + _int_json(t.exit_code)
        j += 4 if t.started_at is None else _time_json_len(t.started_at, True)
        j += 4 if t.finished_at is None else _time_json_len(t.finished_at, True)
        if t.signal:
            j += _K_SIGNAL + _int_json(t.signal) + 1
        if t.reason:
            j += _K_REASON + _json_str_len(t.reason) + 1
        if t.message:
            j += _K_MESSAGE + _json_str_len(t.message) + 1
        if t.container_id:
            j += _K_CONTAINER_ID + _json_str_len(t.container_id) + 1
        js += j
        k += 1
    js += k - 1 if k else 0
    return proto + (js << _PAIR_SHIFT)



#: Entries each of the PodStatus part memos (:data:`_STATUS_SCALARS_MEMO`,
#: :data:`_CONDITIONS_MEMO`, :data:`_CONTAINER_STATUS_MEMO`) keeps before it is cleared
#: wholesale: an entry may hold its conditions or container status alive, so the bound is a
#: few thousand of them, not one per pod (their keys repeat across pods: a node's start
#: times, the shared conditions and container states).
_STATUS_MEMO_SIZE = 1 << 12

_K_CS_FIXED = len('{"name":,"state":,"lastState":,"ready":,"restartCount":,"image":,"imageID":}')


def _container_status_rest(c: ContainerStatus) -> int:
    """Packed (protobuf body, JSON) sizes of a ``ContainerStatus`` but for its
    ``containerID`` (field 8, always written in protobuf; omitted when empty in JSON), by
    arithmetic (``state`` and ``lastState`` always written, ``{}`` when empty; ``started``
    omitted when nil)."""
    sp = _container_state_pair(c.state)
    lp = _container_state_pair(c.last_state)
    strings = _STR_PAIRS.get
    nii = (strings(c.name) or _str_pair(c.name)) + (strings(c.image) or _str_pair(c.image)) + (
        strings(c.image_id) or _str_pair(c.image_id)
    )
    proto = (nii & _PAIR_MASK) + wrap(sp & _PAIR_MASK) + wrap(lp & _PAIR_MASK) + 2 + _int32_len(c.restart_count)
    js = (
        _K_CS_FIXED + (nii >> _PAIR_SHIFT) + (sp >> _PAIR_SHIFT) + (lp >> _PAIR_SHIFT)
        + (4 if c.ready else 5) + _int_json(c.restart_count)
    )
    if c.started is not None:
        proto += 2
        js += len('"started":') + (4 if c.started else 5) + 1
    return proto + (js << _PAIR_SHIFT)


#: ``(name, id(state), id(last_state), ready, restartCount, image, imageID, started) ->
#: (the container status, its _container_status_rest)``: every field but ``containerID``,
#: which is new with each container while the rest repeats across a Deployment's pods (the
#: kubelet shares its ``ContainerState`` objects by value). The entry holds the container
#: status, so the states whose ids are in the key live and no other object has their ids: a
#: key found names the very states sized. (The bools and ints compare by value: ``ready`` and
#: ``started`` are bools, ``restartCount`` an int.)
_CONTAINER_STATUS_MEMO: dict[tuple[Any, ...], tuple[ContainerStatus, int]] = _memo_dict()


def _container_status_pair(c: ContainerStatus) -> int:
    """Packed (protobuf entry with its tag, JSON) sizes of a ``ContainerStatus``:
    ``wrap(len(_container_status(c)))`` and the Go JSON length of ``manifests.encode(c)``,
    from :func:`_container_status_rest` (through :data:`_CONTAINER_STATUS_MEMO`) and the
    ``containerID``'s string sizes (``wrap`` written out: every size here is a length).
    ``O(1)`` on a hit."""
    key = (c.name, id(c.state), id(c.last_state), c.ready, c.restart_count, c.image, c.image_id, c.started)
    hit = _CONTAINER_STATUS_MEMO.get(key)
    if hit is None:
        v = _container_status_rest(c)
        if len(_CONTAINER_STATUS_MEMO) >= _STATUS_MEMO_SIZE:
            _CONTAINER_STATUS_MEMO.clear()
        _CONTAINER_STATUS_MEMO[key] = (c, v)
    else:
        v = hit[1]
    cid = c.container_id
    if cid:
        pair = _STR_PAIRS.get(cid) or _str_pair(cid)
        n = (v & _PAIR_MASK) + (pair & _PAIR_MASK)
        js = (v >> _PAIR_SHIFT) + _K_CONTAINER_ID + 1 + (pair >> _PAIR_SHIFT)
    else:
        n = (v & _PAIR_MASK) + 2
        js = v >> _PAIR_SHIFT
    return 1 + ((n | 1).bit_length() + 6) // 7 + n + (js << _PAIR_SHIFT)


_K_PHASE = len('"phase":')
_K_CONDITIONS = len('"conditions":')
_K_MESSAGE = len('"message":')
_K_REASON = len('"reason":')
_K_HOST_IP = len('"hostIP":')
_K_POD_IP = len('"podIP":')
_K_POD_IPS = len('"podIPs":')
_K_START = len('"startTime":')
_K_HOST_IPS = len('"hostIPs":')
_K_CONTAINER_STATUSES = len('"containerStatuses":')
_K_INIT_CONTAINER_STATUSES = len('"initContainerStatuses":')
_K_QOS_CLASS = len('"qosClass":')
_PIP_JSON = len('{"ip":}')
# nominatedNodeName, resize (2 bytes each), observedGeneration (two-byte tag + 0).
_POD_STATUS_ZEROS = 2 + 2 + 3
_SCALAR_KEYS = (_K_PHASE, _K_MESSAGE, _K_REASON, _K_HOST_IP, _K_QOS_CLASS)

#: ``(phase, message, reason, hostIP, qosClass, startTime) -> _status_scalars_pair`` of it,
#: by value (strings and an int or ``None``): a handful of combinations per node and second.
_STATUS_SCALARS_MEMO: dict[tuple[str, str, str, str, str, int | None], int] = _memo_dict()


def _status_scalars_pair(key: tuple[str, str, str, str, str, int | None]) -> int:
    """Packed (protobuf, JSON) sizes of a status's ``phase``, ``message``, ``reason``,
    ``hostIP``, ``qosClass`` (``key``'s strings: always written in protobuf, an empty string
    in 2 bytes; omitted when empty in JSON) and ``startTime`` (``key[5]``: a pointer, omitted
    when nil), each JSON member with its following comma; remembered in
    :data:`_STATUS_SCALARS_MEMO`. ``O(1)``."""
    n = js = 0
    for key_len, text in zip(_SCALAR_KEYS, key[:5], strict=True):
        if text:
            pair = _STR_PAIRS.get(text) or _str_pair(text)
            n += pair & _PAIR_MASK
            js += key_len + 1 + (pair >> _PAIR_SHIFT)
        else:
            n += 2
    t = key[5]
    if t is not None:
        n += 5 + sov(t)
        js += _K_START + 1 + _time_json_len(t, True)
    v = n + (js << _PAIR_SHIFT)
    if len(_STATUS_SCALARS_MEMO) >= _STATUS_MEMO_SIZE:
        _STATUS_SCALARS_MEMO.clear()
    _STATUS_SCALARS_MEMO[key] = v
    return v


#: ``tuple(map(id, conditions)) -> (conditions, packed sum of their _condition_pair)``. The
#: kubelet shares its ``PodCondition`` objects by value across pods and writes, so a status's
#: conditions tuple is nearly always new but made of objects seen before. The entry holds the
#: tuple, so its elements live and no other object has their ids: a key found names the very
#: objects sized. (By ids: the objects' own ``__hash__`` is by value, in Python.)
_CONDITIONS_MEMO: dict[tuple[int, ...], tuple[tuple[PodCondition, ...], int]] = _memo_dict()


def _conditions_pair(key: tuple[int, ...], conds: tuple[PodCondition, ...]) -> int:
    """The packed sum of :func:`_pod_condition_pair` over ``conds`` (each through its
    identity cache), remembered in :data:`_CONDITIONS_MEMO` under ``key``, the conditions'
    ids. ``O(len(conds))``."""
    v = sum(map(_condition_pair, conds))
    if len(_CONDITIONS_MEMO) >= _STATUS_MEMO_SIZE:
        _CONDITIONS_MEMO.clear()
    _CONDITIONS_MEMO[key] = (conds, v)
    return v


def _pod_status_pair(s: PodStatus) -> int:
    """Packed (``len(_pod_status(s))``, the Go JSON length of ``manifests.encode(s)``) in one
    walk over the status's parts, probing the memos of the parts that repeat: the scalar
    fields (:data:`_STATUS_SCALARS_MEMO`), the conditions (:data:`_CONDITIONS_MEMO`) and each
    container status (:func:`_container_status_pair`); the IPs by arithmetic on their strings'
    sizes (a pod's IPs are its own, and a memo bounded below the number of pods forgets them
    between its writes). A kubelet status write changes a few fields of an otherwise equal
    status, so most parts are found. Exact: each memo is a pure function of its key, whose
    strings and ints compare by value and whose ids name objects the entry holds (frozen, so
    unchanged). Each JSON member counts its following comma; the last has none (``js > 0``
    exactly when a member is written). ``O(conditions + containers + IPs)``, plus the parts'
    own sizing on a miss."""
    key = (s.phase, s.message, s.reason, s.host_ip, s.qos_class, s.start_time)
    v = _STATUS_SCALARS_MEMO.get(key) or _status_scalars_pair(key)
    n = _POD_STATUS_ZEROS + (v & _PAIR_MASK)
    js = v >> _PAIR_SHIFT
    strings = _STR_PAIRS.get
    pod_ip = s.pod_ip
    if pod_ip:
        pair = strings(pod_ip) or _str_pair(pod_ip)
        n += pair & _PAIR_MASK
        js += _K_POD_IP + 1 + (pair >> _PAIR_SHIFT)
    else:
        n += 2
    ips = s.pod_ips
    if ips:
        total = 0
        for ip in ips:  # each entry a message {ip 1}: wrap(_sf(ip)), written out
            pair = strings(ip.ip) or _str_pair(ip.ip)
            f = pair & _PAIR_MASK
            n += 1 + ((f | 1).bit_length() + 6) // 7 + f
            total += _PIP_JSON + (pair >> _PAIR_SHIFT)
        js += _K_POD_IPS + 2 + len(ips) + total  # the list, with a comma
    hips = s.host_ips
    if hips:
        total = 0
        for hip in hips:  # field 16: a two-byte tag
            pair = strings(hip.ip) or _str_pair(hip.ip)
            f = pair & _PAIR_MASK
            n += 2 + ((f | 1).bit_length() + 6) // 7 + f
            total += _PIP_JSON + (pair >> _PAIR_SHIFT)
        js += _K_HOST_IPS + 2 + len(hips) + total
    conds = s.conditions
    if conds:
        ckey = tuple(map(id, conds))
        chit = _CONDITIONS_MEMO.get(ckey)
        total = _conditions_pair(ckey, conds) if chit is None else chit[1]
        n += total & _PAIR_MASK
        js += _K_CONDITIONS + 2 + len(conds) + (total >> _PAIR_SHIFT)  # the list, with a comma
    css = s.container_statuses
    if css:
        total = sum(map(_container_status_pair, css))
        n += total & _PAIR_MASK
        js += _K_CONTAINER_STATUSES + 2 + len(css) + (total >> _PAIR_SHIFT)
    ics = s.init_container_statuses
    if ics:
        total = sum(map(_container_status_pair, ics))
        n += total & _PAIR_MASK
        js += _K_INIT_CONTAINER_STATUSES + 2 + len(ics) + (total >> _PAIR_SHIFT)
    return n + ((2 + js - (js > 0)) << _PAIR_SHIFT)


# The last status measured and its pair: the full model sizes a status's protobuf body and its
# JSON one after the other (kubesim.wire.measure: _raw_pair, then _json_pair).
_LAST_STATUS: list[Any] = [None, 0]


def _pod_status_sizes(s: PodStatus) -> int:
    """:func:`_pod_status_pair`, remembering the last status asked for (held, so its ``id``
    cannot be reused while remembered). ``O(1)`` when asked again."""
    last = _LAST_STATUS
    if last[0] is s:
        return last[1]  # type: ignore[no-any-return]
    v = _pod_status_pair(s)
    last[0] = s
    last[1] = v
    return v


def _pod_status_len(s: PodStatus) -> int:
    """``len(_pod_status(s))`` (see :func:`_pod_status_pair`)."""
    return _pod_status_sizes(s) & _PAIR_MASK


def _pod_status_json(s: PodStatus) -> int:
    """``_json_len(manifests.encode(s))`` (see :func:`_pod_status_pair`)."""
    return _pod_status_sizes(s) >> _PAIR_SHIFT
