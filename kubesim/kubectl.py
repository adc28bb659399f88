"""``kubectl get`` and ``kubectl describe`` as text, exactly as kubectl prints them.

A pure view over a read-only store: nothing here imports the cluster.  The Cluster facade calls
:func:`kubectl` with itself (or its API server) as the ``store`` and the current virtual time::

    print(kubectl("get endpoints nginx-service", store=store, now=120))
    NAME            ENDPOINTS                     AGE
    nginx-service   10.244.1.5:80,10.244.2.8:80   2m

What mirrors which upstream file:

* column definitions and cells: ``pkg/printers/internalversion/printers.go`` (the API server's
  Table printer, which ``kubectl get`` asks for);
* table layout: ``staging/src/k8s.io/cli-runtime/pkg/printers/tableprinter.go`` (headers in upper
  case, ``-A`` prepends NAMESPACE, ``--show-labels`` appends LABELS) written through a tabwriter
  with padding 3 (``GetNewTabWriter``);
* AGE: ``k8s.io/apimachinery/pkg/util/duration.HumanDuration`` (:func:`human_duration`);
* the command itself: ``staging/src/k8s.io/kubectl/pkg/cmd/get/get.go`` (``No resources found``,
  the ``kind: List`` wrapper of ``-o yaml|json``);
* describe: ``staging/src/k8s.io/kubectl/pkg/describe/describe.go`` (tabwriter with padding 2).

Deliberate, documented choices where kubesim's object model has no field for what kubectl shows:

* Pods carry no ``containerStatuses``: READY counts every container ready when the pod's
  ``Ready`` (or ``ContainersReady``) condition is ``True`` and none otherwise; RESTARTS is ``0``;
  STATUS is the phase (``Pending`` when unset), ``Terminating`` while a deletion is pending.
* Nodes carry no ``nodeInfo``: VERSION is empty (it is read from ``status.node_info`` if the
  object model ever grows one) and the wide OS/kernel/runtime columns say ``<unknown>``.
* Namespaces carry no status: STATUS is ``Active`` (``Terminating`` while deleting).
* Values the API server defaults are shown defaulted when an object arrives without them:
  Service ``type`` ``ClusterIP``, ``sessionAffinity`` ``None``, ``targetPort`` = ``port``,
  Deployment/ReplicaSet ``replicas`` 1.
* Real kubectl writes ``No resources found in default namespace.`` to *stderr*.  :func:`run`
  keeps the two streams apart (:class:`KubectlOutput`); :func:`kubectl` returns what a terminal
  shows, stdout followed by stderr.  Errors (exit status 1) raise
  :class:`~kubesim.errors.KubectlError` whose message is kubectl's stderr.
* Describe shows ``Events:  <none>``: kubesim records no Events.  Times (``Start Time``) are
  printed in UTC.
* Unsupported but real output formats (``jsonpath``, ``custom-columns``, ...) raise a
  :class:`~kubesim.errors.KubectlError` that says kubesim does not implement them.
"""

from __future__ import annotations

import importlib
import shlex
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import attrs

from kubesim.errors import InvalidSelector, KubectlError, ManifestError, NotFound
from kubesim.kinds import KIND_INFO, KindInfo, resolve_kind
from kubesim.objects import (
    Container,
    Deployment,
    EndpointPort,
    Endpoints,
    EndpointSlice,
    EndpointSlicePort,
    LabelSelector,
    Namespace,
    Node,
    ObjectMeta,
    Pod,
    Probe,
    ReplicaSet,
    Service,
)

__all__ = [
    "Store",
    "KubectlOutput",
    "resolve_resource",
    "kubectl",
    "run",
    "human_duration",
    "format_labels",
    "tabwrite",
]


class Store(Protocol):
    """What :func:`kubectl` reads.  The API server (or the Cluster facade) implements it.

    ``kind`` is the Kubernetes kind name (``"Endpoints"``, ``"EndpointSlice"``, ...).
    ``namespace=None`` lists every namespace; ``selector`` is a label selector string
    (``"app=web,tier!=db"``) the store applies.  ``get`` raises :class:`~kubesim.errors.NotFound`.
    """

    def list(
        self, kind: str, namespace: str | None = None, selector: str | None = None
    ) -> Sequence[object]: ...  # pragma: no cover - protocol

    def get(self, kind: str, name: str, namespace: str = "default") -> object: ...  # pragma: no cover


@attrs.frozen
class KubectlOutput:
    """What one kubectl invocation wrote: ``stdout``, ``stderr`` and its ``exit_code``."""

    stdout: str
    stderr: str = ""
    exit_code: int = 0

    @property
    def terminal(self) -> str:
        """stdout then stderr, as they appear interleaved on a terminal for these commands."""
        return self.stdout + self.stderr


# --------------------------------------------------------------------------------------------
# resource names


def resolve_resource(name: str) -> KindInfo:
    """The resource kubectl means by ``name``: any spelling :func:`kubesim.kinds.resolve_kind`
    accepts (kind, plural, singular or short name, any case, optionally ``.group``-qualified).
    Raises :class:`KubectlError` with kubectl's message. ``O(1)``.

    >>> resolve_resource("ep").kind
    'Endpoints'
    """
    try:
        return KIND_INFO[resolve_kind(name)]
    except ManifestError:
        raise KubectlError(f'error: the server doesn\'t have a resource type "{name}"') from None


# --------------------------------------------------------------------------------------------
# formatting helpers


def human_duration(seconds: int) -> str:
    """``duration.HumanDuration`` for a whole number of seconds: ``59s``, ``119s``, ``2m``,
    ``3m10s``, ``70m``, ``3h1m``, ``47h``, ``2d1h``, ``8d``, ``2y1d``, ``8y``. ``O(1)``.

    Up to one second in the future reads ``0s``; further is ``<invalid>`` (clock skew).

    >>> [human_duration(s) for s in (0, 59, 120, 150, 600, 10800)]
    ['0s', '59s', '2m', '2m30s', '10m', '3h']
    """
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        s = seconds % 60
        return f"{minutes}m" if s == 0 else f"{minutes}m{s}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = seconds // 3600
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y" if dy == 0 else f"{years}y{dy}d"
    return f"{hours // 24 // 365}y"


def _age(timestamp: int | None, now: int) -> str:
    # translateTimestampSince: the zero time is "<unknown>".
    if timestamp is None:
        return "<unknown>"
    return human_duration(now - timestamp)


def format_labels(labels: Mapping[str, str] | None) -> str:
    """``labels.FormatLabels``: ``k=v`` pairs sorted by key, comma-joined; ``<none>`` if empty.
    ``O(n log n)``."""
    if not labels:
        return "<none>"
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


def _label_selector_string(selector: LabelSelector | None) -> str:
    # metav1.LabelSelectorAsSelector(...).String(): requirements sorted by key, values sorted.
    if selector is None:
        return ""
    reqs: list[tuple[str, str]] = []
    for k, v in selector.match_labels.items():
        reqs.append((k, f"{k}={v}"))
    for e in selector.match_expressions:
        values = ",".join(sorted(e.values))
        if e.operator == "In":
            text = f"{e.key} in ({values})"
        elif e.operator == "NotIn":
            text = f"{e.key} notin ({values})"
        elif e.operator == "Exists":
            text = e.key
        elif e.operator == "DoesNotExist":
            text = f"!{e.key}"
        else:
            text = f"{e.key} {e.operator} ({values})"
        reqs.append((e.key, text))
    reqs.sort(key=lambda r: r[0])
    return ",".join(text for _, text in reqs)


def _format_label_selector(selector: LabelSelector | None) -> str:
    # metav1.FormatLabelSelector: like the above, but "<none>" when empty.
    text = _label_selector_string(selector)
    return text or "<none>"


def _join_host_port(host: str, port: object) -> str:
    # net.JoinHostPort: brackets around hosts containing a colon (IPv6).
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def tabwrite(text: str, *, padding: int, minwidth: int = 0) -> str:
    """Go's ``text/tabwriter`` (flags 0, pad character ``' '``) applied to ``text``.

    Cells are tab-terminated; the text after a line's last tab is not aligned.  A column is
    aligned over each maximal run of consecutive lines that have a cell in it; its width is the
    widest cell plus ``padding``.  ``O(lines x columns)``.

    >>> tabwrite("a\\tb\\nccc\\td\\n", padding=2)
    'a    b\\nccc  d\\n'
    """
    lines = [line.split("\t") for line in text.split("\n")]
    out: list[str] = []

    def write_lines(line0: int, line1: int, widths: list[int]) -> None:
        for i in range(line0, line1):
            cells = lines[i]
            parts: list[str] = []
            for j, cell in enumerate(cells):
                parts.append(cell)
                if j < len(widths):
                    parts.append(" " * (widths[j] - len(cell)))
            out.append("".join(parts))
            if i + 1 < len(lines):
                out.append("\n")

    def fmt(line0: int, line1: int, widths: list[int]) -> None:
        column = len(widths)
        this = line0
        while this < line1:
            if column >= len(lines[this]) - 1:
                this += 1
                continue
            write_lines(line0, this, widths)
            line0 = this
            width = minwidth
            while this < line1 and column < len(lines[this]) - 1:
                width = max(width, len(lines[this][column]) + padding)
                this += 1
            fmt(line0, this, widths + [width])
            line0 = this
        write_lines(line0, line1, widths)

    fmt(0, len(lines), [])
    return "".join(out)


# --------------------------------------------------------------------------------------------
# table rows (printers.go)


@attrs.frozen
class _Column:
    name: str
    wide_only: bool = False


_Cells = list[str]
_RowFn = Callable[[Any, int, bool], _Cells]


def _ready_count(pod: Pod) -> tuple[int, int]:
    spec = pod.spec
    total = len(spec.containers) + sum(1 for c in spec.init_containers if c.restart_policy == "Always")
    cond = pod.status.condition("Ready") or pod.status.condition("ContainersReady")
    ready = total if (cond is not None and cond.status == "True") else 0
    return ready, total


def _pod_status(pod: Pod) -> str:
    phase = pod.status.phase or "Pending"
    reason = pod.status.reason or phase
    for c in pod.status.conditions:
        if c.type == "PodScheduled" and c.reason == "SchedulingGated":
            reason = "SchedulingGated"
    if pod.metadata.deletion_timestamp is not None:
        if pod.status.reason == "NodeLost":
            reason = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            reason = "Terminating"
    return reason


def _pod_row(pod: Pod, now: int, wide: bool) -> _Cells:
    ready, total = _ready_count(pod)
    cells = [
        pod.metadata.name,
        f"{ready}/{total}",
        _pod_status(pod),
        "0",
        _age(pod.metadata.creation_timestamp, now),
    ]
    if wide:
        ip = pod.status.pod_ips[0].ip if pod.status.pod_ips else ""
        cells += [ip or "<none>", pod.spec.node_name or "<none>", "<none>", "<none>"]
    return cells


def _service_type(svc: Service) -> str:
    return svc.spec.type or "ClusterIP"


def _service_external_ip(svc: Service) -> str:
    # getServiceExternalIP (kubesim models neither externalIPs nor load-balancer status).
    kind = _service_type(svc)
    if kind in ("ClusterIP", "NodePort"):
        return "<none>"
    if kind == "LoadBalancer":
        return "<pending>"
    if kind == "ExternalName":
        return svc.spec.external_name
    return "<unknown>"


def _service_ports(svc: Service) -> str:
    pieces = []
    for p in svc.spec.ports:
        proto = p.protocol or "TCP"
        pieces.append(f"{p.port}:{p.node_port}/{proto}" if p.node_port > 0 else f"{p.port}/{proto}")
    return ",".join(pieces)


def _service_row(svc: Service, now: int, wide: bool) -> _Cells:
    if svc.spec.cluster_ips:
        cluster_ip = svc.spec.cluster_ips[0]
    else:
        cluster_ip = svc.spec.cluster_ip or "<none>"
    cells = [
        svc.metadata.name,
        _service_type(svc),
        cluster_ip,
        _service_external_ip(svc),
        _service_ports(svc) or "<none>",
        _age(svc.metadata.creation_timestamp, now),
    ]
    if wide:
        cells.append(format_labels(svc.spec.selector))
    return cells


def _list_with_more(
    shown: list[str], more: bool, count: int, limit: int, empty: str = "<unset>"
) -> str:
    # "a,b,c + N more..." as printers.go and describe.go shorten address lists.
    text = ",".join(shown)
    if more:
        return f"{text} + {count - limit} more..."
    return text or empty


def _format_endpoints(ep: Endpoints) -> str:
    # formatEndpoints (printers.go): at most 3 "ip:port" then " + N more...".
    if not ep.subsets:
        return "<none>"
    shown: list[str] = []
    limit = 3
    more = False
    count = 0
    for ss in ep.subsets:
        # headless services may have no ports: then the bare addresses are listed
        ports: Sequence[EndpointPort | None] = ss.ports or (None,)
        for port in ports:
            count += len(ss.addresses)
            for addr in ss.addresses:
                if len(shown) == limit:
                    more = True
                    break
                shown.append(addr.ip if port is None else _join_host_port(addr.ip, port.port))
    return _list_with_more(shown, more, count, limit, empty="")


def _endpoints_row(ep: Endpoints, now: int, wide: bool) -> _Cells:
    return [ep.metadata.name, _format_endpoints(ep), _age(ep.metadata.creation_timestamp, now)]


def _format_discovery_ports(eps: EndpointSlice) -> str:
    shown: list[str] = []
    more = False
    for port in eps.ports:
        if len(shown) < 3:
            if port.port is not None:
                shown.append(str(port.port))
            elif port.name is not None:
                shown.append(port.name)
            else:
                shown.append("*")
        else:
            more = True
    return _list_with_more(shown, more, len(eps.ports), 3)


def _format_discovery_endpoints(eps: EndpointSlice) -> str:
    shown: list[str] = []
    more = False
    count = 0
    for endpoint in eps.endpoints:
        for address in endpoint.addresses:
            if len(shown) < 3:
                shown.append(address)
            else:
                more = True
            count += 1
    return _list_with_more(shown, more, count, 3)


def _endpoint_slice_row(eps: EndpointSlice, now: int, wide: bool) -> _Cells:
    return [
        eps.metadata.name,
        eps.address_type,
        _format_discovery_ports(eps),
        _format_discovery_endpoints(eps),
        _age(eps.metadata.creation_timestamp, now),
    ]


def _containers_and_images(containers: Sequence[Container]) -> list[str]:
    return [",".join(c.name for c in containers), ",".join(c.image for c in containers)]


def _deployment_row(d: Deployment, now: int, wide: bool) -> _Cells:
    desired = 1 if d.spec.replicas is None else d.spec.replicas
    cells = [
        d.metadata.name,
        f"{d.status.ready_replicas}/{desired}",
        str(d.status.updated_replicas),
        str(d.status.available_replicas),
        _age(d.metadata.creation_timestamp, now),
    ]
    if wide:
        cells += _containers_and_images(d.spec.template.spec.containers)
        cells.append(_label_selector_string(d.spec.selector))
    return cells


def _replica_set_row(rs: ReplicaSet, now: int, wide: bool) -> _Cells:
    desired = 1 if rs.spec.replicas is None else rs.spec.replicas
    cells = [
        rs.metadata.name,
        str(desired),
        str(rs.status.replicas),
        str(rs.status.ready_replicas),
        _age(rs.metadata.creation_timestamp, now),
    ]
    if wide:
        cells += _containers_and_images(rs.spec.template.spec.containers)
        cells.append(_format_label_selector(rs.spec.selector))
    return cells


_NODE_ROLE_PREFIX = "node-role.kubernetes.io/"


def _node_roles(node: Node) -> list[str]:
    roles: set[str] = set()
    for k, v in node.metadata.labels.items():
        if k.startswith(_NODE_ROLE_PREFIX):
            role = k[len(_NODE_ROLE_PREFIX):]
            if role:
                roles.add(role)
        elif k == "kubernetes.io/role" and v:
            roles.add(v)
    return sorted(roles)


def _node_info(node: Node, field: str) -> str:
    info = getattr(node.status, "node_info", None)
    return str(getattr(info, field, "") or "") if info is not None else ""


def _node_address(node: Node, kind: str) -> str:
    for a in node.status.addresses:
        if a.type == kind:
            return a.address
    return "<none>"


def _node_row(node: Node, now: int, wide: bool) -> _Cells:
    status: list[str] = []
    for c in node.status.conditions:
        if c.type == "Ready":
            status = ["Ready" if c.status == "True" else "NotReady"]
            break
    if not status:
        status = ["Unknown"]
    if node.spec.unschedulable:
        status.append("SchedulingDisabled")
    cells = [
        node.metadata.name,
        ",".join(status),
        ",".join(_node_roles(node)) or "<none>",
        _age(node.metadata.creation_timestamp, now),
        _node_info(node, "kubelet_version"),
    ]
    if wide:
        cells += [
            _node_address(node, "InternalIP"),
            _node_address(node, "ExternalIP"),
            _node_info(node, "os_image") or "<unknown>",
            _node_info(node, "kernel_version") or "<unknown>",
            _node_info(node, "container_runtime_version") or "<unknown>",
        ]
    return cells


def _namespace_row(ns: Namespace, now: int, wide: bool) -> _Cells:
    status = "Terminating" if ns.metadata.deletion_timestamp is not None else "Active"
    return [ns.metadata.name, status, _age(ns.metadata.creation_timestamp, now)]


_C = _Column
_TABLES: dict[str, tuple[tuple[_Column, ...], _RowFn]] = {
    "Pod": (
        (_C("Name"), _C("Ready"), _C("Status"), _C("Restarts"), _C("Age"), _C("IP", True),
         _C("Node", True), _C("Nominated Node", True), _C("Readiness Gates", True)),
        _pod_row,
    ),
    "Service": (
        (_C("Name"), _C("Type"), _C("Cluster-IP"), _C("External-IP"), _C("Port(s)"), _C("Age"),
         _C("Selector", True)),
        _service_row,
    ),
    "Endpoints": ((_C("Name"), _C("Endpoints"), _C("Age")), _endpoints_row),
    "EndpointSlice": (
        (_C("Name"), _C("AddressType"), _C("Ports"), _C("Endpoints"), _C("Age")),
        _endpoint_slice_row,
    ),
    "Deployment": (
        (_C("Name"), _C("Ready"), _C("Up-to-date"), _C("Available"), _C("Age"),
         _C("Containers", True), _C("Images", True), _C("Selector", True)),
        _deployment_row,
    ),
    "ReplicaSet": (
        (_C("Name"), _C("Desired"), _C("Current"), _C("Ready"), _C("Age"),
         _C("Containers", True), _C("Images", True), _C("Selector", True)),
        _replica_set_row,
    ),
    "Node": (
        (_C("Name"), _C("Status"), _C("Roles"), _C("Age"), _C("Version"), _C("Internal-IP", True),
         _C("External-IP", True), _C("OS-Image", True), _C("Kernel-Version", True),
         _C("Container-Runtime", True)),
        _node_row,
    ),
    "Namespace": ((_C("Name"), _C("Status"), _C("Age")), _namespace_row),
}


def _render_table(
    objs: Sequence[Any],
    kind: str,
    *,
    now: int,
    wide: bool,
    with_namespace: bool,
    show_labels: bool,
    no_headers: bool,
) -> str:
    columns, row_fn = _TABLES[kind]
    header = [c.name.upper() for c in columns if wide or not c.wide_only]
    rows = [row_fn(o, now, wide) for o in objs]
    if with_namespace:
        header.insert(0, "NAMESPACE")
        rows = [[o.metadata.namespace, *r] for o, r in zip(objs, rows)]
    if show_labels:
        header.append("LABELS")
        rows = [[*r, format_labels(o.metadata.labels)] for o, r in zip(objs, rows)]
    if not rows:
        return ""
    table = rows if no_headers else [header, *rows]
    # cell values are single-line; kubectl truncates at a newline with "..."
    text = "".join("\t".join(_one_line(c) for c in r) + "\n" for r in table)
    return tabwrite(text, padding=3)


def _one_line(cell: str) -> str:
    for i, ch in enumerate(cell):
        if ch in "\f\n\r":
            return cell[:i] + "..."
    return cell


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


# --------------------------------------------------------------------------------------------
# command line


_OUTPUT_FORMATS = (
    "custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,"
    "jsonpath-as-json,jsonpath-file,name,template,templatefile,wide,yaml"
)
_SUPPORTED_OUTPUTS = ("", "wide", "name", "yaml", "json")

# flag name -> (shorthand, takes a value)
_FLAGS: dict[str, dict[str, tuple[str, bool]]] = {
    "get": {
        "namespace": ("n", True),
        "all-namespaces": ("A", False),
        "selector": ("l", True),
        "output": ("o", True),
        "show-labels": ("", False),
        "no-headers": ("", False),
    },
    "describe": {
        "namespace": ("n", True),
        "all-namespaces": ("A", False),
        "selector": ("l", True),
    },
}


@attrs.define
class _Options:
    namespace: str = "default"
    all_namespaces: bool = False
    selector: str | None = None
    output: str = ""
    show_labels: bool = False
    no_headers: bool = False


def _flag_error(command: str, message: str) -> KubectlError:
    return KubectlError(f"error: {message}\nSee 'kubectl {command} --help' for usage.")


def _set_flag(opts: _Options, command: str, name: str, value: str | None) -> None:
    if name == "namespace":
        opts.namespace = value or ""
    elif name == "selector":
        opts.selector = value
    elif name == "output":
        opts.output = value or ""
    else:
        text = "true" if value is None else value
        if text.lower() not in ("true", "false", "1", "0", "t", "f"):
            raise _flag_error(
                command, f'invalid argument "{value}" for "--{name}" flag: '
                f'strconv.ParseBool: parsing "{value}": invalid syntax'
            )
        flag = text.lower() in ("true", "1", "t")
        setattr(opts, name.replace("-", "_"), flag)


def _parse(command: str, argv: Sequence[str]) -> tuple[_Options, list[str]]:
    # pflag semantics: --name=value, --name value, -n value, -nvalue, -n=value, -An value, "--".
    flags = _FLAGS[command]
    by_short = {short: name for name, (short, _) in flags.items() if short}
    opts = _Options()
    positional: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == "--":
            positional.extend(argv[i:])
            break
        if arg.startswith("--") and len(arg) > 2:
            name, eq, value = arg[2:].partition("=")
            if name not in flags:
                raise _flag_error(command, f"unknown flag: --{name}")
            takes_value = flags[name][1]
            if takes_value and not eq:
                if i >= len(argv):
                    raise _flag_error(command, f"flag needs an argument: --{name}")
                value = argv[i]
                i += 1
            _set_flag(opts, command, name, value if (eq or takes_value) else None)
        elif arg.startswith("-") and len(arg) > 1:
            rest = arg[1:]
            while rest:
                ch, rest = rest[0], rest[1:]
                if ch not in by_short:
                    raise _flag_error(command, f"unknown shorthand flag: '{ch}' in {arg}")
                name = by_short[ch]
                if flags[name][1]:
                    if rest.startswith("="):
                        value = rest[1:]
                    elif rest:
                        value = rest
                    elif i < len(argv):
                        value = argv[i]
                        i += 1
                    else:
                        raise _flag_error(command, f"flag needs an argument: '{ch}' in {arg}")
                    _set_flag(opts, command, name, value)
                    rest = ""
                else:
                    if rest.startswith("="):
                        _set_flag(opts, command, name, rest[1:])
                        rest = ""
                    else:
                        _set_flag(opts, command, name, None)
        else:
            positional.append(arg)
    return opts, positional


def _split_args(positional: list[str]) -> list[tuple[KindInfo, list[str]]]:
    """``TYPE [NAME...]``, ``TYPE1,TYPE2`` is refused, ``TYPE/NAME [TYPE/NAME...]`` accepted."""
    if any("/" in a for a in positional):
        if not all("/" in a for a in positional):
            raise KubectlError(
                "error: there is no need to specify a resource type as a separate argument when "
                "passing arguments in resource/name form (e.g. 'kubectl get resource/<resource_name>' "
                "instead of 'kubectl get resource resource/<resource_name>'"
            )
        groups: list[tuple[KindInfo, list[str]]] = []
        for a in positional:
            type_, _, name = a.partition("/")
            if not name:
                raise KubectlError("error: arguments in resource/name form must have a single resource and name")
            groups.append((resolve_resource(type_), [name]))
        return groups
    head, *names = positional
    if "," in head:
        raise KubectlError("error: kubesim supports one resource type per command")
    return [(resolve_resource(head), names)]


def _sort_key(obj: Any) -> tuple[str, str]:
    return (obj.metadata.namespace, obj.metadata.name)


def _list(store: Store, res: KindInfo, namespace: str | None, selector: str | None) -> list[Any]:
    try:
        objs = list(store.list(res.kind, namespace if res.namespaced else None, selector=selector))
    except InvalidSelector as err:
        raise KubectlError(f"Error from server (BadRequest): {err}") from err
    return sorted(objs, key=_sort_key)


def _not_found(err: NotFound) -> str:
    return f"Error from server (NotFound): {err}"


def _fetch(
    store: Store, res: KindInfo, names: list[str], opts: _Options
) -> tuple[list[Any], list[str]]:
    """Objects named (in argument order) or listed, and NotFound error lines."""
    if names:
        if opts.selector:
            raise KubectlError("error: name cannot be provided when a selector is specified")
        if opts.all_namespaces:
            raise KubectlError("error: a resource cannot be retrieved by name across all namespaces")
        found: list[Any] = []
        errors: list[str] = []
        for name in names:
            try:
                found.append(store.get(res.kind, name, opts.namespace if res.namespaced else ""))
            except NotFound as err:
                errors.append(_not_found(err))
        return found, errors
    namespace = None if opts.all_namespaces else opts.namespace
    return _list(store, res, namespace, opts.selector), []


def _structured(objs: list[Any], single: bool, fmt: str) -> str:
    # kubesim.manifests is imported lazily so this view stays importable on its own.  Given a
    # list, dump_yaml/dump_json wrap it in kubectl's ``kind: List`` (printGeneric in get.go):
    # a list query prints a List even for zero or one item; one named object prints bare.
    manifests: Any = importlib.import_module("kubesim.manifests")
    dump = manifests.dump_yaml if fmt == "yaml" else manifests.dump_json
    return str(dump(objs[0] if single else list(objs)))


def _no_resources(res: KindInfo, opts: _Options) -> str:
    if opts.all_namespaces or not res.namespaced:
        return "No resources found\n"
    return f"No resources found in {opts.namespace} namespace.\n"


def _get(argv: Sequence[str], store: Store, now: int) -> KubectlOutput:
    opts, positional = _parse("get", argv)
    if opts.output not in _SUPPORTED_OUTPUTS:
        base = opts.output.split("=", 1)[0]
        if base in _OUTPUT_FORMATS.split(","):
            raise KubectlError(f'error: kubesim does not implement the output format "{opts.output}"')
        raise KubectlError(
            f'error: unable to match a printer suitable for the output format "{opts.output}", '
            f"allowed formats are: {_OUTPUT_FORMATS}"
        )
    if opts.show_labels and opts.output not in ("", "wide"):
        raise KubectlError(f"error: --show-labels option cannot be used with {opts.output} printer")
    if not positional:
        raise KubectlError(
            'You must specify the type of resource to get. Use "kubectl api-resources" for a '
            "complete list of supported resources.\n\n"
            "error: Required resource not specified.\n"
            'Use "kubectl explain <resource>" for a detailed description of that resource '
            "(e.g. kubectl explain pods).\n"
            "See 'kubectl get -h' for help and examples"
        )
    groups = _split_args(positional)
    stdout: list[str] = []
    errors: list[str] = []
    named = any(names for _, names in groups)
    for res, names in groups:
        objs, errs = _fetch(store, res, names, opts)
        errors += errs
        if opts.output == "name":
            stdout += [f"{res.name_prefix}/{o.metadata.name}\n" for o in objs]
        elif opts.output in ("yaml", "json"):
            single = len(groups) == 1 and len(names) == 1
            if objs or not single:
                stdout.append(_structured(objs, single, opts.output))
        else:
            if stdout and objs:
                stdout.append("\n")
            stdout.append(
                _render_table(
                    objs,
                    res.kind,
                    now=now,
                    wide=opts.output == "wide",
                    with_namespace=opts.all_namespaces and res.namespaced,
                    show_labels=opts.show_labels,
                    no_headers=opts.no_headers,
                )
            )
    out = "".join(stdout)
    if errors:
        return KubectlOutput(out, "".join(e + "\n" for e in errors), 1)
    stderr = ""
    if not out and not named and opts.output in ("", "wide"):
        stderr = _no_resources(groups[0][0], opts)
    return KubectlOutput(out, stderr, 0)


def _describe(argv: Sequence[str], store: Store, now: int) -> KubectlOutput:
    opts, positional = _parse("describe", argv)
    if not positional:
        raise KubectlError(
            'error: You must specify the type of resource to describe. Use "kubectl api-resources" '
            "for a complete list of supported resources."
        )
    groups = _split_args(positional)
    texts: list[str] = []
    errors: list[str] = []
    for res, names in groups:
        describer = _DESCRIBERS.get(res.kind)
        if describer is None:
            raise KubectlError(f"error: kubesim does not implement describe for {res.plural}")
        if names and not opts.all_namespaces and not opts.selector:
            for name in names:
                try:
                    texts.append(describer(store.get(res.kind, name, opts.namespace), store, now))
                except NotFound as err:
                    # DescribeMatchingResources: "describe TYPE PREFIX" describes every name
                    # with that prefix when there is no exact match.
                    prefixed = [
                        o for o in _list(store, res, opts.namespace, None)
                        if len(positional) == 2 and o.metadata.name.startswith(name)
                    ]
                    if not prefixed:
                        errors.append(_not_found(err))
                    texts += [describer(o, store, now) + "\n" for o in prefixed]
        else:
            objs, errs = _fetch(store, res, names, opts)
            errors += errs
            texts += [describer(o, store, now) for o in objs]
    out = "\n\n".join(texts)
    if errors:
        return KubectlOutput(out, "".join(e + "\n" for e in errors), 1)
    stderr = ""
    if not texts:
        stderr = _no_resources(groups[0][0], opts)
    return KubectlOutput(out, stderr, 0)


_COMMANDS: dict[str, Callable[[Sequence[str], Store, int], KubectlOutput]] = {
    "get": _get,
    "describe": _describe,
}


def _argv(args: str | Sequence[str]) -> list[str]:
    argv = shlex.split(args) if isinstance(args, str) else list(args)
    if argv and argv[0] == "kubectl":
        argv = argv[1:]
    return argv


def run(args: str | Sequence[str], *, store: Store, now: int) -> KubectlOutput:
    """Run one kubectl command against ``store`` at Unix time ``now`` (whole seconds).

    Returns both streams and the exit status, like a process would: partial output and the
    ``Error from server (NotFound)`` lines of ``get a b`` when only ``a`` exists, or
    ``No resources found ...`` on stderr.  Command-line mistakes (unknown flag, resource type or
    output format) raise :class:`~kubesim.errors.KubectlError` with kubectl's message.

    Cost: one ``store.list`` (or one ``store.get`` per name), then ``O(n log n)`` for ``n``
    objects printed; describe of a Service adds one list of its EndpointSlices.
    """
    argv = _argv(args)
    if not argv:
        raise KubectlError("error: kubesim implements only `kubectl get` and `kubectl describe`")
    command, rest = argv[0], argv[1:]
    fn = _COMMANDS.get(command)
    if fn is None:
        if command.startswith("-"):
            raise KubectlError("error: kubesim implements only `kubectl get` and `kubectl describe`")
        raise KubectlError(f'error: unknown command "{command}" for "kubectl"')
    return fn(rest, store, now)


def kubectl(args: str | Sequence[str], *, store: Store, now: int) -> str:
    """The text ``kubectl <args>`` shows on a terminal, for ``get`` and ``describe``.

    ``args`` is a command line (``"get endpoints nginx-service"``, shell-quoted) or a list of
    arguments; a leading ``kubectl`` is accepted.  The text ends with a newline, as kubectl's
    does.  ``No resources found in default namespace.`` (stderr in real kubectl) is returned as
    the text.  A command that kubectl would fail (exit status 1) raises
    :class:`~kubesim.errors.KubectlError` whose message is kubectl's stderr, without the final
    newline.  Cost: see :func:`run`.

    >>> kubectl("get ep", store=_EmptyStore(), now=0)
    'No resources found in default namespace.\\n'
    """
    result = run(args, store=store, now=now)
    if result.exit_code != 0:
        raise KubectlError(result.stderr.rstrip("\n"))
    return result.terminal


class _EmptyStore:
    """A store with nothing in it (for the doctest)."""

    def list(
        self, kind: str, namespace: str | None = None, selector: str | None = None
    ) -> Sequence[object]:
        return []

    def get(self, kind: str, name: str, namespace: str = "default") -> object:
        raise NotFound(kind, name, namespace)
