"""``kubectl describe`` (``staging/src/k8s.io/kubectl/pkg/describe/describe.go``): a tabwriter
with padding 2, one describer per kind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kubesim.kubectl.common import Store, _age, _join_host_port, format_labels, tabwrite
from kubesim.kubectl.printers import _list_with_more, _service_type
from kubesim.objects import (
    Container,
    Endpoints,
    EndpointSlice,
    EndpointSlicePort,
    ObjectMeta,
    Pod,
    Probe,
    Service,
)

# --------------------------------------------------------------------------------------------
# describe (describe.go)


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

    def events(self) -> None:
        self.write(0, "Events:\t<none>\n")

    def text(self) -> str:
        return tabwrite("".join(self._parts), padding=2)


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _rfc1123z(ts: int) -> str:
    # time.RFC1123Z, in UTC; locale-independent.
    import time

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
    w.events()
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
    w.events()
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
    w.events()
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


def _qos_class(pod: Pod) -> str:
    # qos.GetPodQOS over cpu and memory (quantities compared as written).
    requests: dict[str, str] = {}
    limits: dict[str, str] = {}
    guaranteed = True
    for c in (*pod.spec.init_containers, *pod.spec.containers):
        for name in ("cpu", "memory"):
            r = c.resources.requests.get(name)
            if r is not None and r not in ("0", ""):
                requests[name] = r
            lim = c.resources.limits.get(name)
            if lim is not None and lim not in ("0", ""):
                limits[name] = lim
        if not all(n in c.resources.limits for n in ("cpu", "memory")):
            guaranteed = False
    if not requests and not limits:
        return "BestEffort"
    if guaranteed:
        for c in (*pod.spec.init_containers, *pod.spec.containers):
            for name in ("cpu", "memory"):
                req = c.resources.requests.get(name, c.resources.limits.get(name))
                if req != c.resources.limits.get(name):
                    return "Burstable"
        return "Guaranteed"
    return "Burstable"


def _describe_containers(w: _Writer, label: str, containers: Sequence[Container]) -> None:
    w.write(0, f"{label}:{'' if containers else ' <none>'}\n")
    for c in containers:
        w.write(1, f"{c.name}:\n")
        w.write(2, f"Image:\t{c.image}\n")
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
        for title, quantities in (("Limits", c.resources.limits), ("Requests", c.resources.requests)):
            if quantities:
                w.write(2, f"{title}:\n")
                for name in sorted(quantities):
                    w.write(3, f"{name}:\t{quantities[name]}\n")
        if c.liveness_probe is not None:
            w.write(2, f"Liveness:\t{_describe_probe(c.liveness_probe)}\n")
        if c.readiness_probe is not None:
            w.write(2, f"Readiness:\t{_describe_probe(c.readiness_probe)}\n")
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
        _describe_containers(w, "Init Containers", spec.init_containers)
    _describe_containers(w, "Containers", spec.containers)
    if status.conditions:
        w.write(0, "Conditions:\n  Type\tStatus\n")
        for c in status.conditions:
            w.write(1, f"{c.type} \t{c.status} \n")
    w.write(0, "Volumes:\t<none>\n")
    w.write(0, f"QoS Class:\t{_qos_class(pod)}\n")
    w.labels("Node-Selectors", spec.node_selector)
    w.write(0, "Tolerations:\t<none>\n")
    w.events()
    return w.text()


_DESCRIBERS: dict[str, Callable[[Any, Store, int], str]] = {
    "Service": _describe_service,
    "Endpoints": _describe_endpoints,
    "EndpointSlice": _describe_endpoint_slice,
    "Pod": _describe_pod,
}

