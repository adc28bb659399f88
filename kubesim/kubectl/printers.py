"""``kubectl get`` tables: column definitions and cells (``pkg/printers/internalversion/printers.go``)
and the table layout (``cli-runtime/pkg/printers/tableprinter.go``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

from kubesim.errors import KubectlError
from kubesim.kinds import KIND_INFO
from kubesim.kubectl.common import (
    _age,
    _format_label_selector,
    _join_host_port,
    _label_selector_string,
    format_labels,
    tabwrite,
)
from kubesim.objects import (
    Container,
    DaemonSet,
    Deployment,
    EndpointPort,
    Endpoints,
    EndpointSlice,
    Namespace,
    Node,
    Pod,
    ReplicaSet,
    Service,
    StatefulSet,
)

# --------------------------------------------------------------------------------------------
# table rows (printers.go)


@attrs.frozen
class _Column:
    name: str
    wide_only: bool = False


_Cells = list[str]
_RowFn = Callable[[Any, int, bool], _Cells]


def _pod_columns(pod: Pod) -> tuple[int, int, str, int, int | None]:
    """``printPod``'s READY, STATUS and RESTARTS: ``(ready, total, reason, restarts, last
    restart)``. READY counts the container statuses that are ready and running (not the
    ``Ready`` condition: a pod held back by a readiness gate shows ``1/1``, and its READINESS
    GATES ``0/1``); STATUS is the phase, or the reason of a waiting or terminated container
    (``ContainerCreating``, ``CrashLoopBackOff``, ``Completed``, ``Error``), ``Terminating``
    once deleted; RESTARTS sums ``restartCount``, with the latest ``lastState`` finish."""
    spec, status = pod.spec, pod.status
    total = len(spec.containers) + sum(1 for c in spec.init_containers if c.restart_policy == "Always")
    phase = status.phase or "Pending"  # PrepareForCreate's phase
    reason = status.reason or phase
    for c in status.conditions:
        if c.type == "PodScheduled" and c.reason == "SchedulingGated":
            reason = "SchedulingGated"
    has_ready = any(c.type == "Ready" and c.status == "True" for c in status.conditions)
    ready = restarts = 0
    last: int | None = None
    has_running = False
    sidecars = {c.name for c in spec.init_containers if c.restart_policy == "Always"}
    sidecar_restarts = 0
    sidecar_last: int | None = None
    initializing = False
    for i, cs in enumerate(status.init_container_statuses):
        restarts += cs.restart_count
        lt = cs.last_state.terminated
        if lt is not None and lt.finished_at is not None and (last is None or lt.finished_at > last):
            last = lt.finished_at
        if cs.name in sidecars:
            sidecar_restarts += cs.restart_count
            if lt is not None and lt.finished_at is not None and (sidecar_last is None or lt.finished_at > sidecar_last):
                sidecar_last = lt.finished_at
        st = cs.state
        if st.terminated is not None and st.terminated.exit_code == 0:
            continue
        if cs.name in sidecars and cs.started:
            ready += cs.ready
            continue
        if st.terminated is not None:
            t = st.terminated
            if t.reason:
                reason = "Init:" + t.reason
            else:
                reason = f"Init:Signal:{t.signal}" if t.signal else f"Init:ExitCode:{t.exit_code}"
        elif st.waiting is not None and st.waiting.reason and st.waiting.reason != "PodInitializing":
            reason = "Init:" + st.waiting.reason
        else:
            reason = f"Init:{i}/{len(spec.init_containers)}"
        initializing = True
        break
    initialized = any(c.type == "Initialized" and c.status == "True" for c in status.conditions)
    if initializing and not initialized:
        return ready, total, _deleted_reason(pod, reason), restarts, last
    restarts, last = sidecar_restarts, sidecar_last
    for cs in reversed(status.container_statuses):
        restarts += cs.restart_count
        lt = cs.last_state.terminated
        if lt is not None and lt.finished_at is not None and (last is None or lt.finished_at > last):
            last = lt.finished_at
        st = cs.state
        if st.waiting is not None and st.waiting.reason:
            reason = st.waiting.reason
        elif st.terminated is not None and st.terminated.reason:
            reason = st.terminated.reason
        elif st.terminated is not None:
            t = st.terminated
            reason = f"Signal:{t.signal}" if t.signal else f"ExitCode:{t.exit_code}"
        elif cs.ready and st.running is not None:
            has_running = True
            ready += 1
    if reason == "Completed" and has_running:
        reason = "Running" if has_ready else "NotReady"
    return ready, total, _deleted_reason(pod, reason), restarts, last


def _deleted_reason(pod: Pod, reason: str) -> str:
    if pod.metadata.deletion_timestamp is not None:
        if pod.status.reason == "NodeLost":
            return "Unknown"
        if (pod.status.phase or "Pending") not in ("Succeeded", "Failed"):
            return "Terminating"
    return reason


def _pod_status(pod: Pod) -> str:
    return _pod_columns(pod)[2]


def _readiness_gates(pod: Pod) -> str:
    gates = pod.spec.readiness_gates
    if not gates:
        return "<none>"
    true = 0
    for g in gates:
        for c in pod.status.conditions:
            if c.type == g.condition_type:
                true += c.status == "True"
                break
    return f"{true}/{len(gates)}"


def _pod_row(pod: Pod, now: int, wide: bool) -> _Cells:
    ready, total, reason, restarts, last = _pod_columns(pod)
    cells = [
        pod.metadata.name,
        f"{ready}/{total}",
        reason,
        f"{restarts} ({_age(last, now)} ago)" if restarts and last is not None else str(restarts),
        _age(pod.metadata.creation_timestamp, now),
    ]
    if wide:
        ip = pod.status.pod_ips[0].ip if pod.status.pod_ips else ""
        cells += [ip or "<none>", pod.spec.node_name or "<none>", "<none>", _readiness_gates(pod)]
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


def _stateful_set_row(s: StatefulSet, now: int, wide: bool) -> _Cells:
    # printStatefulSet
    desired = 1 if s.spec.replicas is None else s.spec.replicas
    cells = [s.metadata.name, f"{s.status.ready_replicas}/{desired}", _age(s.metadata.creation_timestamp, now)]
    if wide:
        cells += _containers_and_images(s.spec.template.spec.containers)
    return cells


def _daemon_set_row(d: DaemonSet, now: int, wide: bool) -> _Cells:
    # printDaemonSet
    st = d.status
    cells = [
        d.metadata.name,
        str(st.desired_number_scheduled),
        str(st.current_number_scheduled),
        str(st.number_ready),
        str(st.updated_number_scheduled),
        str(st.number_available),
        format_labels(d.spec.template.spec.node_selector),
        _age(d.metadata.creation_timestamp, now),
    ]
    if wide:
        cells += _containers_and_images(d.spec.template.spec.containers)
        cells.append(_format_label_selector(d.spec.selector))
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
    # printNamespace: the phase as stored
    return [ns.metadata.name, ns.status.phase, _age(ns.metadata.creation_timestamp, now)]


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
    "StatefulSet": (
        (_C("Name"), _C("Ready"), _C("Age"), _C("Containers", True), _C("Images", True)),
        _stateful_set_row,
    ),
    "DaemonSet": (
        (_C("Name"), _C("Desired"), _C("Current"), _C("Ready"), _C("Up-to-date"), _C("Available"),
         _C("Node Selector"), _C("Age"), _C("Containers", True), _C("Images", True), _C("Selector", True)),
        _daemon_set_row,
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


def _add_inert_tables() -> None:
    # the inert kinds' tables (kubesim/kubectl/inert_printers.py)
    from kubesim.kubectl.inert_printers import INERT_TABLES

    for kind, (cols, row) in INERT_TABLES.items():
        _TABLES[kind] = (tuple(_C(name, wide) for name, wide in cols), row)


_add_inert_tables()


def _label_column_header(key: str) -> str:
    """``-L kubernetes.io/hostname`` heads its column ``HOSTNAME`` (the name after the last
    ``/``, upper case), as ``tableprinter.go`` does."""
    return key.rsplit("/", 1)[-1].upper()


def _render_table(
    objs: Sequence[Any],
    kind: str,
    *,
    now: int,
    wide: bool,
    with_namespace: bool,
    show_labels: bool,
    no_headers: bool,
    label_columns: Sequence[str] = (),
    show_kind: bool = False,
) -> str:
    """One kind's table. ``show_kind`` prefixes names with ``kind.group/`` (``--show-kind``,
    and whenever several kinds print); ``label_columns`` are ``-L`` keys, one column each
    after the kind's own, before ``LABELS``. ``O(n)`` for ``n`` objects plus the tabwriter."""
    columns, row_fn = _TABLES[kind]
    header = [c.name.upper() for c in columns if wide or not c.wide_only]
    rows = [row_fn(o, now, wide) for o in objs]
    if show_kind:
        prefix = KIND_INFO[kind].name_prefix + "/"
        rows = [[prefix + r[0], *r[1:]] for r in rows]
    if with_namespace:
        header.insert(0, "NAMESPACE")
        rows = [[o.metadata.namespace, *r] for o, r in zip(objs, rows, strict=True)]
    for key in label_columns:
        header.append(_label_column_header(key))
        rows = [[*r, o.metadata.labels.get(key, "")] for o, r in zip(objs, rows, strict=True)]
    if show_labels:
        header.append("LABELS")
        rows = [[*r, format_labels(o.metadata.labels)] for o, r in zip(objs, rows, strict=True)]
    if not rows:
        return ""
    table = rows if no_headers else [header, *rows]
    # cell values are single-line; kubectl truncates at a newline with "..."
    text = "".join("\t".join(_one_line(c) for c in r) + "\n" for r in table)
    return tabwrite(text, padding=3)


# --------------------------------------------------------------------------------------------
# -o custom-columns (staging/src/k8s.io/kubectl/pkg/cmd/get/customcolumn.go)


def relaxed_jsonpath(expr: str) -> str:
    """``RelaxedJSONPathExpression``: ``a.b``, ``.a.b``, ``{a.b}`` and ``{.a.b}`` all mean
    ``{.a.b}``; anything else is kubectl's error."""
    if not expr:
        return expr
    body = expr[1:-1] if expr.startswith("{") and expr.endswith("}") else expr
    if "{" in body or "}" in body or not body:
        raise KubectlError(
            "error: unexpected path string, expected a 'name1.name2' or '.name1.name2' or '{name1.name2}' "
            "or '{.name1.name2}'"
        )
    return "{." + (body[1:] if body.startswith(".") else body) + "}"


def parse_custom_columns(spec: str) -> list[tuple[str, str]]:
    """``HEADER:path,HEADER:path`` as ``(header, "{.path}")`` pairs, with kubectl's errors."""
    if not spec:
        raise KubectlError("error: custom-columns format specified but no custom columns given")
    columns = []
    for part in spec.split(","):
        header, sep, path = part.partition(":")
        if not sep:
            raise KubectlError(f"error: unexpected custom-columns spec: {part}, expected <header>:<json-path-expr>")
        columns.append((header, relaxed_jsonpath(path)))
    return columns


def go_sprint(value: Any) -> str:
    """A JSON value as Go's ``fmt.Sprint`` prints the unstructured value kubectl holds:
    maps ``map[k:v]`` (keys sorted), lists ``[a b]``, ``null`` ``<nil>``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "<nil>"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_sprint(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_sprint(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:g}" if value != int(value) or abs(value) >= 1e21 else str(int(value))
    return str(value)


def render_custom_columns(items: Sequence[Any], columns: Sequence[tuple[str, str]], *, no_headers: bool) -> str:
    """``-o custom-columns``: one row per item (JSON data), each cell the column's results
    joined by ``,`` (``<none>`` when there are none), through kubectl's tab writer (minimum
    width 6, padding 3). An index out of range is kubectl's error."""
    from kubesim.kubectl import jsonpath

    rows = [] if no_headers else [[h for h, _ in columns]]
    for item in items:
        cells = []
        for _, expr in columns:
            try:
                found = jsonpath.find(expr, item)
            except jsonpath.JSONPathError as err:
                raise KubectlError(f"error: {err}") from None
            cells.append(",".join(_one_line(go_sprint(v)) for v in found) if found else "<none>")
        rows.append(cells)
    if not rows:
        return ""
    return tabwrite("".join("\t".join(r) + "\n" for r in rows), padding=3, minwidth=6)


def _one_line(cell: str) -> str:
    for i, ch in enumerate(cell):
        if ch in "\f\n\r":
            return cell[:i] + "..."
    return cell



# --------------------------------------------------------------------------------------------
# the API server's Table (read by kubesim.serve: real kubectl prints these cells)


def table_columns(kind: str) -> tuple[tuple[str, bool], ...]:
    """The columns of ``kind``'s ``kubectl get`` table as the API server's Table defines them:
    ``(name, wide_only)`` in order (``wide_only`` is Table priority 1). ``O(columns)``.

    >>> table_columns("Endpoints")
    (('Name', False), ('Endpoints', False), ('Age', False))
    """
    return tuple((c.name, c.wide_only) for c in _TABLES[kind][0])


def table_row(obj: Any, now: int) -> list[str]:
    """Every cell of ``obj``'s row, ``-o wide`` columns included, at Unix time ``now``: what
    the API server puts in a Table row. ``O(cells)``."""
    return _TABLES[obj.kind][1](obj, now, True)
