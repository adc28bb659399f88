"""``kubectl describe`` (``staging/src/k8s.io/kubectl/pkg/describe/describe.go``): a tabwriter
with padding 2, one describer per kind: Service, Endpoints, EndpointSlice, Pod, Deployment,
ReplicaSet, Node and Namespace.

The text is kubectl 1.36's (``#success=1 #failure=3`` probes, no ``Kube-Proxy Version``).
Every describer but the namespace's ends with the ``Events:`` section of the Events written
about the object (:mod:`kubesim.kubectl.events`; ``Events:  <none>`` without any). kubesim
stores no Leases: for a node it prints what kubectl prints against a server without them
(``Failed to get lease: the server could not find the requested resource``). The tests compare
deployment, replicaset, node, namespace and pod descriptions with real kubectl's against
``kubesim serve``.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from kubesim.kinds import KIND_INFO
from kubesim.kubectl.common import (
    Store,
    _age,
    _format_label_selector,
    _join_host_port,
    _label_selector_string,
    format_labels,
    tabwrite,
)
from kubesim.kubectl.events import describe_events, events_about
from kubesim.kubectl.printers import _list_with_more, _service_type
from kubesim.objects import (
    Container,
    ContainerState,
    ContainerStatus,
    Deployment,
    Endpoints,
    EndpointSlice,
    EndpointSlicePort,
    Namespace,
    Node,
    ObjectMeta,
    Pod,
    PodTemplateSpec,
    Probe,
    ReplicaSet,
    Service,
    Taint,
    Toleration,
)
from kubesim.qos import get_pod_qos

# --------------------------------------------------------------------------------------------
# describe (describe.go)

#: Whether describers print the ``Events:`` section (``DescriberSettings.ShowEvents``): kubectl
#: turns it off when it describes more than one object, unless ``--show-events`` is given.
SHOW_EVENTS: contextvars.ContextVar[bool] = contextvars.ContextVar("SHOW_EVENTS", default=True)


class _Writer:
    """describe.go's PrefixWriter: two spaces per level, then tabwriter with padding 2."""

    def __init__(self) -> None:
        self._parts: list[str] = []

    def write(self, level: int, text: str) -> None:
        self._parts.append("  " * level + text)

    def labels(self, title: str, labels: Mapping[str, str], initial: str = "") -> None:
        self.write(0, f"{initial}{title}:\t")
        if not labels:
            self.write(0, "<none>\n")
            return
        for i, key in enumerate(sorted(labels)):
            if i:
                self.write(0, f"{initial}\t")
            self.write(0, f"{key}={labels[key]}\n")

    def annotations(self, title: str, annotations: Mapping[str, str]) -> None:
        self.write(0, f"{title}:\t")
        keys = sorted(k for k in annotations if k != "kubectl.kubernetes.io/last-applied-configuration")
        if not keys:
            self.write(0, "<none>\n")
            return
        limit = 140
        for i, key in enumerate(keys):
            if i:
                self.write(0, "\t")
            value = annotations[key].removesuffix("\n")
            if len(value) + len(key) + 2 > limit or "\n" in value:
                self.write(0, f"{key}:\n")
                for s in value.split("\n"):
                    short = s if len(s) <= limit - 2 else s[: limit - 2] + "..."
                    self.write(0, f"\t  {short}\n")
            else:
                self.write(0, f"{key}: {value}\n")

    def object_meta(self, meta: ObjectMeta) -> None:
        """The Name, Namespace, Labels and Annotations lines most describers open with."""
        self.write(0, f"Name:\t{meta.name}\n")
        self.write(0, f"Namespace:\t{meta.namespace}\n")
        self.labels("Labels", meta.labels)
        self.annotations("Annotations", meta.annotations)

    def events(self, obj: Any, store: Store, now: int) -> None:
        """The ``Events:`` section: the Events about ``obj`` (:mod:`kubesim.kubectl.events`);
        nothing at all when :data:`SHOW_EVENTS` is false (kubectl describing several objects)."""
        if SHOW_EVENTS.get():
            self.write(0, describe_events(events_about(store, obj), now))

    def text(self) -> str:
        return tabwrite("".join(self._parts), padding=2)


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _rfc1123z(ts: int | None) -> str:
    # time.RFC1123Z, in UTC; locale-independent.  An unset time is Go's zero time.
    import time

    if ts is None:
        return "Mon, 01 Jan 0001 00:00:00 +0000"
    t = time.gmtime(ts)
    return (
        f"{_WEEKDAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"
    )


def _format_endpoint_slices(slices: Sequence[EndpointSlice], port_name: str) -> str:
    # formatEndpointSlices (describe.go), ports filtered by the service port's name.
    if not slices:
        return "<none>"
    shown: list[str] = []
    limit = 3
    more = False
    count = 0
    for eps in slices:
        # A slice without ports lists bare addresses; otherwise one "ip:port" per matching port.
        ports: Sequence[EndpointSlicePort | None] = eps.ports or (None,)
        for port in ports:
            if port is not None and (port.name or "") != port_name:
                continue
            for ep in eps.endpoints:
                if len(shown) == limit:
                    more = True
                if ep.conditions.ready is False:
                    continue
                if not more:
                    address = ep.addresses[0]
                    shown.append(address if port is None else _join_host_port(address, port.port))
                count += 1
    return _list_with_more(shown, more, count, limit, empty="")


def _describe_service(svc: Service, store: Store, now: int) -> str:
    slices = sorted(
        (s for s in store.list("EndpointSlice", svc.metadata.namespace,
                               selector=f"kubernetes.io/service-name={svc.metadata.name}")
         if isinstance(s, EndpointSlice)),
        key=lambda s: s.metadata.name,
    )
    spec = svc.spec
    w = _Writer()
    w.object_meta(svc.metadata)
    w.write(0, f"Selector:\t{format_labels(spec.selector)}\n")
    w.write(0, f"Type:\t{_service_type(svc)}\n")
    if spec.ip_family_policy is not None:
        w.write(0, f"IP Family Policy:\t{spec.ip_family_policy}\n")
    w.write(0, f"IP Families:\t{','.join(spec.ip_families) or '<none>'}\n")
    w.write(0, f"IP:\t{spec.cluster_ip}\n")
    w.write(0, f"IPs:\t{','.join(spec.cluster_ips) or '<none>'}\n")
    if spec.external_name:
        w.write(0, f"External Name:\t{spec.external_name}\n")
    for sp in spec.ports:
        name = sp.name or "<unset>"
        proto = sp.protocol or "TCP"
        w.write(0, f"Port:\t{name}\t{sp.port}/{proto}\n")
        target = sp.target_port if sp.target_port not in (0, "") else sp.port
        w.write(0, f"TargetPort:\t{target}/{proto}\n")
        if sp.app_protocol is not None:
            w.write(0, f"AppProtocol:\t{sp.app_protocol}\n")
        if sp.node_port:
            w.write(0, f"NodePort:\t{name}\t{sp.node_port}/{proto}\n")
        w.write(0, f"Endpoints:\t{_format_endpoint_slices(slices, sp.name)}\n")
    w.write(0, f"Session Affinity:\t{spec.session_affinity or 'None'}\n")
    if spec.external_traffic_policy:
        w.write(0, f"External Traffic Policy:\t{spec.external_traffic_policy}\n")
    if spec.internal_traffic_policy is not None:
        w.write(0, f"Internal Traffic Policy:\t{spec.internal_traffic_policy}\n")
    if spec.traffic_distribution is not None:
        w.write(0, f"Traffic Distribution:\t{spec.traffic_distribution}\n")
    w.events(svc, store, now)
    return w.text()


def _describe_endpoints(ep: Endpoints, store: Store, now: int) -> str:
    w = _Writer()
    w.object_meta(ep.metadata)
    w.write(0, "Subsets:\n")
    for ss in ep.subsets:
        w.write(1, f"Addresses:\t{','.join(a.ip for a in ss.addresses) or '<none>'}\n")
        w.write(1, f"NotReadyAddresses:\t{','.join(a.ip for a in ss.not_ready_addresses) or '<none>'}\n")
        if ss.ports:
            w.write(1, "Ports:\n")
            w.write(2, "Name\tPort\tProtocol\n")
            w.write(2, "----\t----\t--------\n")
            for p in ss.ports:
                w.write(2, f"{p.name or '<unset>'}\t{p.port}\t{p.protocol}\n")
        w.write(0, "\n")
    w.events(ep, store, now)
    return w.text()


def _describe_endpoint_slice(eps: EndpointSlice, store: Store, now: int) -> str:
    w = _Writer()
    w.object_meta(eps.metadata)
    w.write(0, f"AddressType:\t{eps.address_type}\n")
    if not eps.ports:
        w.write(0, "Ports: <unset>\n")
    else:
        w.write(0, "Ports:\n")
        w.write(1, "Name\tPort\tProtocol\n")
        w.write(1, "----\t----\t--------\n")
        for p in eps.ports:
            name = p.name if p.name else "<unset>"
            num = str(p.port) if p.port is not None else "<unset>"
            w.write(1, f"{name}\t{num}\t{p.protocol or ''}\n")
    if not eps.endpoints:
        w.write(0, "Endpoints: <none>\n")
    else:
        w.write(0, "Endpoints:\n")
        for e in eps.endpoints:
            w.write(1, f"- Addresses:\t{', '.join(e.addresses) or '<none>'}\n")
            w.write(2, "Conditions:\n")
            ready = "<unset>" if e.conditions.ready is None else str(e.conditions.ready).lower()
            w.write(3, f"Ready:\t{ready}\n")
            w.write(2, f"Hostname:\t{'<unset>' if e.hostname is None else e.hostname}\n")
            if e.target_ref is not None:
                w.write(2, f"TargetRef:\t{e.target_ref.kind}/{e.target_ref.name}\n")
            w.write(2, f"NodeName:\t{'<unset>' if e.node_name is None else e.node_name}\n")
            w.write(2, f"Zone:\t{'<unset>' if e.zone is None else e.zone}\n")
    w.events(eps, store, now)
    return w.text()


def _describe_probe(probe: Probe) -> str:
    attrs_text = (
        f"delay={probe.initial_delay_seconds}s timeout={probe.timeout_seconds}s "
        f"period={probe.period_seconds}s #success={probe.success_threshold} "
        f"#failure={probe.failure_threshold}"
    )
    if probe.exec is not None:
        return f"exec [{' '.join(probe.exec.command)}] {attrs_text}"
    if probe.http_get is not None:
        h = probe.http_get
        port = str(h.port)
        host = _join_host_port(h.host, port) if port else h.host
        path = h.path
        if path and not path.startswith("/") and host:
            path = "/" + path
        return f"http-get {h.scheme.lower()}://{host}{path} {attrs_text}"
    if probe.tcp_socket is not None:
        return f"tcp-socket {probe.tcp_socket.host}:{probe.tcp_socket.port} {attrs_text}"
    return f"unknown {attrs_text}"


def _describe_state(w: _Writer, title: str, state: ContainerState) -> None:
    # describeStatus
    if state.running is not None:
        w.write(2, f"{title}:\tRunning\n")
        w.write(3, f"Started:\t{_rfc1123z(state.running.started_at)}\n")
    elif state.waiting is not None:
        w.write(2, f"{title}:\tWaiting\n")
        if state.waiting.reason:
            w.write(3, f"Reason:\t{state.waiting.reason}\n")
    elif state.terminated is not None:
        t = state.terminated
        w.write(2, f"{title}:\tTerminated\n")
        if t.reason:
            w.write(3, f"Reason:\t{t.reason}\n")
        if t.message:
            w.write(3, f"Message:\t{t.message}\n")
        w.write(3, f"Exit Code:\t{t.exit_code}\n")
        if t.signal > 0:
            w.write(3, f"Signal:\t{t.signal}\n")
        w.write(3, f"Started:\t{_rfc1123z(t.started_at)}\n")
        w.write(3, f"Finished:\t{_rfc1123z(t.finished_at)}\n")
    else:
        w.write(2, f"{title}:\tWaiting\n")


def _describe_containers(
    w: _Writer,
    label: str,
    containers: Sequence[Container],
    space: str = "",
    statuses: Sequence[ContainerStatus] = (),
) -> None:
    # describeContainers: a pod template's (space "  ") names are indented one more space; a
    # pod's containers with a status also show its ids, state, readiness and restarts.
    by_name = {st.name: st for st in statuses}
    w.write(0, f"{space}{label}:{'' if containers else ' <none>'}\n")
    for c in containers:
        status = by_name.get(c.name)
        w.write(1, f"{' ' if space else ''}{c.name}:\n")
        if status is not None:
            w.write(2, f"Container ID:\t{status.container_id}\n")
        w.write(2, f"Image:\t{c.image}\n")
        if status is not None:
            w.write(2, f"Image ID:\t{status.image_id}\n")
        ports = ", ".join(
            f"{p.container_port}/{p.protocol}" + (f" ({p.name})" if p.name else "") for p in c.ports
        )
        host_ports = ", ".join(
            f"{p.host_port or 0}/{p.protocol}" + (f" ({p.name})" if p.name else "") for p in c.ports
        )
        if "," in ports:
            w.write(2, f"Ports:\t{ports}\n")
        else:
            w.write(2, f"Port:\t{ports or '<none>'}\n")
        if "," in host_ports:
            w.write(2, f"Host Ports:\t{host_ports}\n")
        else:
            w.write(2, f"Host Port:\t{host_ports or '<none>'}\n")
        if status is not None:
            _describe_state(w, "State", status.state)
            if status.last_state.terminated is not None:
                _describe_state(w, "Last State", status.last_state)
            w.write(2, f"Ready:\t{'True' if status.ready else 'False'}\n")
            w.write(2, f"Restart Count:\t{status.restart_count}\n")
        for title, quantities in (("Limits", c.resources.limits), ("Requests", c.resources.requests)):
            if quantities:
                w.write(2, f"{title}:\n")
                for name in sorted(quantities):
                    w.write(3, f"{name}:\t{quantities[name]}\n")
        if c.liveness_probe is not None:
            w.write(2, f"Liveness:\t{_describe_probe(c.liveness_probe)}\n")
        if c.readiness_probe is not None:
            w.write(2, f"Readiness:\t{_describe_probe(c.readiness_probe)}\n")
        if c.startup_probe is not None:
            w.write(2, f"Startup:\t{_describe_probe(c.startup_probe)}\n")
        w.write(2, "Environment:\t<none>\n")
        w.write(2, "Mounts:\t<none>\n")


def _describe_pod(pod: Pod, store: Store, now: int) -> str:
    meta, spec, status = pod.metadata, pod.spec, pod.status
    w = _Writer()
    w.write(0, f"Name:\t{meta.name}\n")
    w.write(0, f"Namespace:\t{meta.namespace}\n")
    if spec.node_name:
        w.write(0, f"Node:\t{spec.node_name}/{status.host_ip}\n")
    else:
        w.write(0, "Node:\t<none>\n")
    if status.start_time is not None:
        w.write(0, f"Start Time:\t{_rfc1123z(status.start_time)}\n")
    w.labels("Labels", meta.labels)
    w.annotations("Annotations", meta.annotations)
    phase = status.phase or "Pending"
    if meta.deletion_timestamp is not None and phase not in ("Failed", "Succeeded"):
        w.write(0, f"Status:\tTerminating (lasts {_age(meta.deletion_timestamp, now)})\n")
        if meta.deletion_grace_period_seconds is not None:
            w.write(0, f"Termination Grace Period:\t{meta.deletion_grace_period_seconds}s\n")
    else:
        w.write(0, f"Status:\t{phase}\n")
    if status.reason:
        w.write(0, f"Reason:\t{status.reason}\n")
    if status.message:
        w.write(0, f"Message:\t{status.message}\n")
    w.write(0, f"IP:\t{status.pod_ip}\n")
    if not status.pod_ips:
        w.write(0, "IPs:\t<none>\n")
    else:
        w.write(0, "IPs:\n")
        for ip in status.pod_ips:
            w.write(1, f"IP:\t{ip.ip}\n")
    for ref in meta.owner_references:
        if ref.controller:
            w.write(0, f"Controlled By:\t{ref.kind}/{ref.name}\n")
            break
    if spec.init_containers:
        _describe_containers(w, "Init Containers", spec.init_containers,
                             statuses=getattr(status, "init_container_statuses", ()))
    _describe_containers(w, "Containers", spec.containers, statuses=status.container_statuses)
    if status.conditions:
        w.write(0, "Conditions:\n  Type\tStatus\n")
        for c in status.conditions:
            w.write(1, f"{c.type} \t{c.status} \n")
    w.write(0, "Volumes:\t<none>\n")
    w.write(0, f"QoS Class:\t{get_pod_qos(pod)}\n")  # status.qosClass when set
    w.labels("Node-Selectors", spec.node_selector)
    _tolerations(w, "Tolerations", spec.tolerations)
    w.events(pod, store, now)
    return w.text()


def _tolerations(w: _Writer, title: str, tolerations: Sequence[Toleration]) -> None:
    # printTolerationsMultilineWithIndent: sorted by key; "op=Exists" for a valueless Exists.
    w.write(0, f"{title}:\t")
    if not tolerations:
        w.write(0, "<none>\n")
        return
    for i, t in enumerate(sorted(tolerations, key=lambda t: t.key)):
        if i:
            w.write(0, "\t")
        text = t.key + (f"={t.value}" if t.value else "") + (f":{t.effect}" if t.effect else "")
        if t.operator == "Exists" and not t.value:
            text += " op=Exists" if t.key or t.effect else "op=Exists"
        if t.toleration_seconds is not None:
            text += f" for {t.toleration_seconds}s"
        w.write(0, text + "\n")


def _taint_string(t: Taint) -> str:
    # corev1.Taint.ToString
    if not t.effect:
        return f"{t.key}={t.value}:" if t.value else t.key
    return f"{t.key}={t.value}:{t.effect}" if t.value else f"{t.key}:{t.effect}"


def _describe_pod_template(w: _Writer, template: PodTemplateSpec) -> None:
    # DescribePodTemplate: the template's own block, two spaces in.
    spec = template.spec
    w.write(0, "Pod Template:\n")
    w.labels("  Labels", template.metadata.labels)
    if template.metadata.annotations:
        w.annotations("  Annotations", template.metadata.annotations)
    if spec.init_containers:
        _describe_containers(w, "Init Containers", spec.init_containers, "  ")
    _describe_containers(w, "Containers", spec.containers, "  ")
    w.write(0, "  Volumes:\t<none>\n")
    w.labels("  Node-Selectors", spec.node_selector)
    _tolerations(w, "  Tolerations", spec.tolerations)


def _controller_of(meta: ObjectMeta) -> Any:
    for ref in meta.owner_references:
        if ref.controller:
            return ref
    return None


def _int_or_string(value: object) -> str:
    # intstr.IntOrString.String() (a nil pointer prints "<nil>").
    return "<nil>" if value is None else str(value)


def _without_hash(template: PodTemplateSpec) -> PodTemplateSpec:
    labels = {k: v for k, v in template.metadata.labels.items() if k != "pod-template-hash"}
    return attrs.evolve(template, metadata=attrs.evolve(template.metadata, labels=labels))


def _replica_sets_of(d: Deployment, store: Store) -> tuple[list[ReplicaSet], list[ReplicaSet]]:
    """deploymentutil.GetAllReplicaSetsInChunks: the ReplicaSets the Deployment controls, as
    (every old one, the new one if any), sorted by creation time then name; the new one is the
    oldest whose template equals the Deployment's, ignoring pod-template-hash."""
    owned = [
        rs for rs in store.list("ReplicaSet", d.metadata.namespace)
        if isinstance(rs, ReplicaSet)
        and (ref := _controller_of(rs.metadata)) is not None and ref.uid == d.metadata.uid
    ]
    owned.sort(key=lambda rs: (rs.metadata.creation_timestamp or 0, rs.metadata.name))
    want = _without_hash(d.spec.template)
    new = next((rs for rs in owned if _without_hash(rs.spec.template) == want), None)
    return [rs for rs in owned if rs is not new], ([new] if new is not None else [])


def _replica_sets_by_labels(sets: Sequence[ReplicaSet]) -> str:
    # printReplicaSetsByLabels
    text = ", ".join(
        f"{rs.metadata.name} ({rs.status.replicas}/{1 if rs.spec.replicas is None else rs.spec.replicas} replicas created)"
        for rs in sets
    )
    return text or "<none>"


def _workload_conditions(w: _Writer, status: Any) -> None:
    # describeDeployment / describeReplicaSet: "Type \tStatus\tReason". kubesim's workload
    # statuses carry no conditions yet; the block appears as soon as they do.
    conditions = getattr(status, "conditions", ())
    if conditions:
        w.write(0, "Conditions:\n  Type\tStatus\tReason\n")
        w.write(1, "----\t------\t------\n")
        for c in conditions:
            w.write(1, f"{c.type} \t{c.status}\t{c.reason}\n")


def _describe_deployment(d: Deployment, store: Store, now: int) -> str:
    spec, status = d.spec, d.status
    old, new = _replica_sets_of(d, store)
    w = _Writer()
    w.write(0, f"Name:\t{d.metadata.name}\n")
    w.write(0, f"Namespace:\t{d.metadata.namespace}\n")
    w.write(0, f"CreationTimestamp:\t{_rfc1123z(d.metadata.creation_timestamp)}\n")
    w.labels("Labels", d.metadata.labels)
    w.annotations("Annotations", d.metadata.annotations)
    w.write(0, f"Selector:\t{_label_selector_string(spec.selector)}\n")
    desired = 1 if spec.replicas is None else spec.replicas
    w.write(
        0,
        f"Replicas:\t{desired} desired | {status.updated_replicas} updated | {status.replicas} total | "
        f"{status.available_replicas} available | {status.unavailable_replicas} unavailable\n",
    )
    w.write(0, f"StrategyType:\t{spec.strategy.type}\n")
    w.write(0, f"MinReadySeconds:\t{spec.min_ready_seconds}\n")
    ru = spec.strategy.rolling_update
    if ru is not None:
        w.write(0, f"RollingUpdateStrategy:\t{_int_or_string(ru.max_unavailable)} max unavailable, "
                   f"{_int_or_string(ru.max_surge)} max surge\n")
    _describe_pod_template(w, spec.template)
    _workload_conditions(w, status)
    if old or new:
        w.write(0, f"OldReplicaSets:\t{_replica_sets_by_labels(old)}\n")
        w.write(0, f"NewReplicaSet:\t{_replica_sets_by_labels(new)}\n")
    w.events(d, store, now)
    return w.text()


def _pods_status(rs: ReplicaSet, store: Store) -> str:
    # getPodStatusForController: the pods this ReplicaSet controls, counted by phase.
    counts = {"Running": 0, "Pending": 0, "Succeeded": 0, "Failed": 0}
    for pod in store.list("Pod", rs.metadata.namespace):
        if not isinstance(pod, Pod):
            continue
        ref = _controller_of(pod.metadata)
        if ref is None or ref.uid != rs.metadata.uid:
            continue
        phase = pod.status.phase or "Pending"
        if phase in counts:
            counts[phase] += 1
    return (f"{counts['Running']} Running / {counts['Pending']} Waiting / {counts['Succeeded']} Succeeded / "
            f"{counts['Failed']} Failed")


def _describe_replica_set(rs: ReplicaSet, store: Store, now: int) -> str:
    w = _Writer()
    w.write(0, f"Name:\t{rs.metadata.name}\n")
    w.write(0, f"Namespace:\t{rs.metadata.namespace}\n")
    w.write(0, f"Selector:\t{_format_label_selector(rs.spec.selector)}\n")
    w.labels("Labels", rs.metadata.labels)
    w.annotations("Annotations", rs.metadata.annotations)
    ref = _controller_of(rs.metadata)
    if ref is not None:
        w.write(0, f"Controlled By:\t{ref.kind}/{ref.name}\n")
    desired = 1 if rs.spec.replicas is None else rs.spec.replicas
    w.write(0, f"Replicas:\t{rs.status.replicas} current / {desired} desired\n")
    w.write(0, f"Pods Status:\t{_pods_status(rs, store)}\n")
    _describe_pod_template(w, rs.spec.template)
    _workload_conditions(w, rs.status)
    w.events(rs, store, now)
    return w.text()


# -------------------------------------------------------------------- resource quantities


_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_NANO = Decimal("1e-9")


@attrs.frozen
class _Quantity:
    """``resource.Quantity`` (``k8s.io/apimachinery/pkg/api/resource/quantity.go``) as far as
    describe needs it: an exact value, rounded away from zero to nano units as ParseQuantity
    does, and its format (``BinarySI`` for Ki/Mi/..., ``DecimalExponent`` for ``1e3``,
    ``DecimalSI`` otherwise; ``""`` for a quantity never set). A sum keeps the first set
    operand's format, as ``Quantity.Add`` of a ``DeepCopy`` does."""

    value: Decimal = Decimal(0)
    format: str = ""

    @classmethod
    def parse(cls, text: str | None) -> _Quantity:
        """The quantity a string states; unset when absent or unparsable. ``O(len(text))``."""
        if not text:
            return cls()
        t = text.strip()
        number, fmt, scale = t, "DecimalSI", 0
        for suffix, power in _BINARY.items():
            if t.endswith(suffix):
                number, fmt, scale = t[: -len(suffix)], "BinarySI", power
                break
        else:
            head, e, exp = t.rpartition("e") if "e" in t else t.rpartition("E")
            if e and head and exp.lstrip("+-").isdigit():
                number, fmt, scale = head, "DecimalExponent", int(exp)
            elif t[-1:] in _DECIMAL and t[-1:]:
                number, scale = t[:-1], _DECIMAL[t[-1]]
        if not number or not all(ch.isdigit() or ch in "+-." for ch in number):
            return cls()
        try:
            value = Decimal(number)
        except InvalidOperation:
            return cls()
        value = value * (1024 ** scale) if fmt == "BinarySI" else value.scaleb(scale)
        rounding = "ROUND_CEILING" if value > 0 else "ROUND_FLOOR"
        return cls((value / _NANO).to_integral_value(rounding=rounding) * _NANO, fmt)

    def __add__(self, other: _Quantity) -> _Quantity:
        if not self.format:
            return other
        return _Quantity(self.value + other.value, self.format)

    def milli(self) -> int:
        """``MilliValue()``: thousandths, rounded up. ``O(1)``."""
        return int((self.value * 1000).to_integral_value(rounding="ROUND_CEILING"))

    def whole(self) -> int:
        """``Value()``: rounded up. ``O(1)``."""
        return int(self.value.to_integral_value(rounding="ROUND_CEILING"))

    def __str__(self) -> str:
        # Quantity.CanonicalizeBytes: BinarySI only for whole values outside (-1024, 1024);
        # otherwise an integer mantissa and the largest exponent that is a multiple of 3.
        v = self.value
        if v == 0:
            return "0"
        if self.format == "BinarySI" and abs(v) >= 1024 and v == v.to_integral_value():
            n, suffix = int(v), ""
            for s in _BINARY:
                if n % 1024:
                    break
                n //= 1024
                suffix = s
            return f"{n}{suffix}"
        exp = -9
        while exp < 18 and v.scaleb(-(exp + 3)) == v.scaleb(-(exp + 3)).to_integral_value():
            exp += 3
        mantissa = int(v.scaleb(-exp))
        if self.format == "DecimalExponent":
            return f"{mantissa}e{exp}" if exp else f"{mantissa}"
        suffix = next(s for s, e in _DECIMAL.items() if e == exp)
        return f"{mantissa}{suffix}"


def _pod_resources(pod: Pod, field: str) -> dict[str, _Quantity]:
    """resourcehelper.PodRequests / PodLimits (``k8s.io/component-helpers/resource``): the
    containers summed; sidecars (init containers with ``restartPolicy: Always``) add to the sum
    and run beside every later init container; the pod needs at least what its heaviest init
    stage needs. ``O(containers × resources)``."""

    def add(into: dict[str, _Quantity], more: Mapping[str, _Quantity]) -> None:
        for name, q in more.items():
            into[name] = into[name] + q if name in into else q

    def at_least(into: dict[str, _Quantity], other: Mapping[str, _Quantity]) -> None:
        for name, q in other.items():
            if name not in into or q.value > into[name].value:
                into[name] = q

    def own(c: Container) -> dict[str, _Quantity]:
        return {name: _Quantity.parse(q) for name, q in getattr(c.resources, field).items()}

    total: dict[str, _Quantity] = {}
    for c in pod.spec.containers:
        add(total, own(c))
    sidecars: dict[str, _Quantity] = {}
    init_peak: dict[str, _Quantity] = {}
    for c in pod.spec.init_containers:
        if c.restart_policy == "Always":
            add(total, own(c))
            add(sidecars, own(c))
            stage = dict(sidecars)
        else:
            stage = own(c)
            add(stage, sidecars)
        at_least(init_peak, stage)
    at_least(total, init_peak)
    return total


def _percent(part: int, whole: int) -> int:
    # int64(float64(part) / float64(whole) * 100); kubectl prints garbage for a zero whole,
    # kubesim 0.
    return int(part / whole * 100) if whole else 0


def _describe_node_resource(w: _Writer, node: Node, pods: Sequence[Pod], now: int) -> None:
    # describeNodeResource
    w.write(0, f"Non-terminated Pods:\t({len(pods)} in total)\n")
    w.write(1, "Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n")
    w.write(1, "---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n")
    allocatable = node.status.allocatable or node.status.capacity
    cpu = _Quantity.parse(allocatable.get("cpu")).milli()
    memory = _Quantity.parse(allocatable.get("memory")).whole()
    storage = _Quantity.parse(allocatable.get("ephemeral-storage")).whole()
    reqs: dict[str, _Quantity] = {}
    limits: dict[str, _Quantity] = {}
    zero = _Quantity()
    for pod in pods:
        req, lim = _pod_resources(pod, "requests"), _pod_resources(pod, "limits")
        cr, cl = req.get("cpu", zero), lim.get("cpu", zero)
        mr, ml = req.get("memory", zero), lim.get("memory", zero)
        w.write(
            1,
            f"{pod.metadata.namespace}\t{pod.metadata.name}\t\t{cr} ({_percent(cr.milli(), cpu)}%)\t"
            f"{cl} ({_percent(cl.milli(), cpu)}%)\t{mr} ({_percent(mr.whole(), memory)}%)\t"
            f"{ml} ({_percent(ml.whole(), memory)}%)\t{_age(pod.metadata.creation_timestamp, now)}\n",
        )
        for into, got in ((reqs, req), (limits, lim)):
            for name, q in got.items():
                into[name] = into[name] + q if name in into else q
    w.write(0, "Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n")
    w.write(1, "Resource\tRequests\tLimits\n")
    w.write(1, "--------\t--------\t------\n")
    for name, whole, value in (("cpu", cpu, _Quantity.milli), ("memory", memory, _Quantity.whole),
                               ("ephemeral-storage", storage, _Quantity.whole)):
        r, lim_q = reqs.get(name, zero), limits.get(name, zero)
        w.write(1, f"{name}\t{r} ({_percent(value(r), whole)}%)\t{lim_q} ({_percent(value(lim_q), whole)}%)\n")
    standard = {"cpu", "memory", "ephemeral-storage", "pods"}  # IsStandardContainerResourceName, and pods
    for name in sorted(n for n in allocatable if n.startswith("hugepages-")):
        r, lim_q = reqs.get(name, zero), limits.get(name, zero)
        whole = _Quantity.parse(allocatable[name]).whole()
        w.write(1, f"{name}\t{r} ({_percent(r.whole(), whole)}%)\t{lim_q} ({_percent(lim_q.whole(), whole)}%)\n")
    for name in sorted(n for n in allocatable if n not in standard and not n.startswith("hugepages-")):
        w.write(1, f"{name}\t{reqs.get(name, zero)}\t{limits.get(name, zero)}\n")


def _node_roles(node: Node) -> list[str]:
    # findNodeRoles: node-role.kubernetes.io/<role> keys and the kubernetes.io/role value.
    roles: set[str] = set()
    for key, value in node.metadata.labels.items():
        if key.startswith("node-role.kubernetes.io/"):
            role = key.removeprefix("node-role.kubernetes.io/")
            if role:
                roles.add(role)
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    return sorted(roles)


def _describe_node(node: Node, store: Store, now: int) -> str:
    meta, spec, status = node.metadata, node.spec, node.status
    w = _Writer()
    w.write(0, f"Name:\t{meta.name}\n")
    w.write(0, f"Roles:\t{','.join(_node_roles(node)) or '<none>'}\n")
    w.labels("Labels", meta.labels)
    w.annotations("Annotations", meta.annotations)
    w.write(0, f"CreationTimestamp:\t{_rfc1123z(meta.creation_timestamp)}\n")
    w.write(0, "Taints:\t")
    taints = sorted(spec.taints, key=lambda t: f"{t.effect},{t.key}")
    if not taints:
        w.write(0, "<none>\n")
    for i, t in enumerate(taints):
        w.write(0, ("\t" if i else "") + _taint_string(t) + "\n")
    w.write(0, f"Unschedulable:\t{str(spec.unschedulable).lower()}\n")
    # kubesim has no Lease resource: kubectl's line when the server has none (what real
    # kubectl prints against kubesim serve)
    w.write(0, "Lease:\tFailed to get lease: the server could not find the requested resource\n")
    if status.conditions:
        w.write(0, "Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n")
        w.write(1, "----\t------\t-----------------\t------------------\t------\t-------\n")
        for c in status.conditions:
            w.write(1, f"{c.type} \t{c.status} \t{_rfc1123z(c.last_heartbeat_time)} \t"
                       f"{_rfc1123z(c.last_transition_time)} \t{c.reason} \t{c.message}\n")
    w.write(0, "Addresses:\n")
    for a in status.addresses:
        w.write(1, f"{a.type}:\t{a.address}\n")
    for title, resources in (("Capacity", status.capacity), ("Allocatable", status.allocatable)):
        if resources:
            w.write(0, f"{title}:\n")
            for name in sorted(resources):
                w.write(0, f"  {name}:\t{_Quantity.parse(resources[name])}\n")
    info = status.node_info
    w.write(0, "System Info:\n")
    for label, value in (
        ("Machine ID", info.machine_id), ("System UUID", info.system_uuid), ("Boot ID", info.boot_id),
        ("Kernel Version", info.kernel_version), ("OS Image", info.os_image),
        ("Operating System", info.operating_system), ("Architecture", info.architecture),
        ("Container Runtime Version", info.container_runtime_version), ("Kubelet Version", info.kubelet_version),
    ):
        w.write(0, f"  {label}:\t{value}\n")
    if spec.pod_cidr:
        w.write(0, f"PodCIDR:\t{spec.pod_cidr}\n")
    if spec.pod_cidrs:
        w.write(0, f"PodCIDRs:\t{','.join(spec.pod_cidrs)}\n")
    pods = [
        p for p in store.list("Pod", None)
        if isinstance(p, Pod) and p.spec.node_name == meta.name and p.status.phase not in ("Succeeded", "Failed")
    ]
    _describe_node_resource(w, node, pods, now)
    w.events(node, store, now)
    return w.text()


def _describe_namespace(ns: Namespace, store: Store, now: int) -> str:
    w = _Writer()
    w.write(0, f"Name:\t{ns.metadata.name}\n")
    w.labels("Labels", ns.metadata.labels)
    w.annotations("Annotations", ns.metadata.annotations)
    w.write(0, f"Status:\t{ns.status.phase}\n")
    if ns.status.conditions:
        w.write(0, "Conditions:\n")
        w.write(1, "Type\tStatus\tLastTransitionTime\tReason\tMessage\n")
        w.write(1, "----\t------\t------------------\t------\t-------\n")
        for c in ns.status.conditions:
            w.write(1, f"{c.type}\t{c.status}\t{_rfc1123z(c.last_transition_time)}\t{c.reason}\t{c.message}\n")
    # kubectl lists the namespace's ResourceQuotas and LimitRanges and leaves each section out
    # when the server has no such resource (NotFound), as kubesim has neither today
    for kind, none in (("ResourceQuota", "No resource quota."), ("LimitRange", "No LimitRange resource.")):
        if kind not in KIND_INFO:
            continue
        found = sorted(o.metadata.name for o in store.list(kind, ns.metadata.name))  # type: ignore[attr-defined]
        if not found:
            w.write(0, f"\n{none}\n")
        else:  # names only: kubesim does not model their limits
            w.write(0, "\n" + ("Resource Quotas\n" if kind == "ResourceQuota" else "Resource Limits\n"))
            for name in found:
                w.write(1, f"Name:\t{name}\n")
    return w.text()


_DESCRIBERS: dict[str, Callable[[Any, Store, int], str]] = {
    "Service": _describe_service,
    "Endpoints": _describe_endpoints,
    "EndpointSlice": _describe_endpoint_slice,
    "Pod": _describe_pod,
    "Deployment": _describe_deployment,
    "ReplicaSet": _describe_replica_set,
    "Node": _describe_node,
    "Namespace": _describe_namespace,
}

