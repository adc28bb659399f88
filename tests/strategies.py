"""Hypothesis strategies for kubesim's API objects, shared by every test module.

Each strategy draws *valid* objects: names are DNS-1123 labels, label keys and values follow the
label syntax, IPs are canonical and usable as endpoints (``10.0.0.0/8``, ``fd00::/8``), ports are
1-65535, timestamps are whole seconds between 1970 and 2100, and pointer fields are either
``None`` or a valid value.  Cross-field rules that are cheap to honour hold too: port names are
unique within a list, a Service selector is ``None`` or non-empty, an EndpointSlice's addresses
match its ``addressType``, a Deployment's template labels match its selector.

Collections are kept small (0-3 elements) so tests stay fast; pass ``max_size`` where offered.

Leaf strategies: :func:`dns_labels`, :func:`dns_subdomains`, :func:`label_keys`,
:func:`label_values`, :func:`label_maps`, :func:`ipv4s`, :func:`ipv6s`, :func:`ports`,
:func:`timestamps`, :func:`uids`.

Nested types: :func:`object_metas`, :func:`owner_references`, :func:`managed_fields_entries`,
:func:`object_references`, :func:`label_selectors`, :func:`container_ports`, :func:`probes`,
:func:`containers`, :func:`pod_specs`, :func:`pod_statuses`, :func:`pod_template_specs`,
:func:`service_ports`, :func:`service_specs`, :func:`endpoint_addresses`,
:func:`endpoint_ports`, :func:`endpoint_subsets`, :func:`endpoint_conditions`,
:func:`slice_endpoints`, :func:`slice_ports`.

Kinds: :func:`pods`, :func:`services`, :func:`nodes`, :func:`namespaces`,
:func:`endpoints_objects`, :func:`endpoint_slices`, :func:`deployments`, :func:`replica_sets`,
:func:`any_object`.
"""

from __future__ import annotations

import json
import string
from typing import Any

import attrs
from hypothesis import strategies as st

from kubesim import objects as o

__all__ = [
    "dns_labels", "dns_subdomains", "label_keys", "label_values", "label_maps", "ipv4s",
    "ipv6s", "ports", "timestamps", "uids", "object_metas", "owner_references",
    "managed_fields_entries", "object_references", "label_selectors", "container_ports",
    "probes", "containers", "pod_specs", "pod_statuses", "pod_template_specs", "service_ports",
    "service_specs", "endpoint_addresses", "endpoint_ports", "endpoint_subsets",
    "endpoint_conditions", "slice_endpoints", "slice_ports", "pods", "services", "nodes",
    "namespaces", "endpoints_objects", "endpoint_slices", "deployments", "replica_sets",
    "any_object", "port_names", "api_valid",
]

_LOWER_ALNUM = string.ascii_lowercase + string.digits
_ALNUM = string.ascii_letters + string.digits

# ---------------------------------------------------------------------------------------------
# leaves


def dns_labels(max_middle: int = 8) -> st.SearchStrategy[str]:
    """DNS-1123 labels (``[a-z0-9]([-a-z0-9]*[a-z0-9])?``), 1 to ``max_middle + 2`` chars."""
    return st.builds(
        lambda a, mid, z: a + mid + z if z is not None else a,
        st.sampled_from(_LOWER_ALNUM),
        st.text(_LOWER_ALNUM + "-", max_size=max_middle),
        st.one_of(st.none(), st.sampled_from(_LOWER_ALNUM)),
    ).map(lambda s: s if not s.endswith("-") else s + "0")


def dns_subdomains() -> st.SearchStrategy[str]:
    """DNS-1123 subdomains: one to three labels joined by dots."""
    return st.lists(dns_labels(4), min_size=1, max_size=3).map(".".join)


def _label_names() -> st.SearchStrategy[str]:
    return st.builds(
        lambda a, mid, z: a + mid + z,
        st.sampled_from(_ALNUM),
        st.text(_ALNUM + "-_.", max_size=6),
        st.sampled_from(_ALNUM),
    )


def label_keys() -> st.SearchStrategy[str]:
    """Label keys: an optional DNS-subdomain prefix and ``/``, then a name."""
    return st.builds(
        lambda prefix, name: f"{prefix}/{name}" if prefix else name,
        st.one_of(st.none(), dns_subdomains()),
        _label_names(),
    )


def label_values() -> st.SearchStrategy[str]:
    """Label values: empty or a label name."""
    return st.one_of(st.just(""), _label_names())


def label_maps(max_size: int = 3) -> st.SearchStrategy[o.FrozenDict]:
    """Label maps (possibly empty) as :class:`~kubesim.objects.FrozenDict`."""
    return st.dictionaries(label_keys(), label_values(), max_size=max_size).map(o.FrozenDict)


def ipv4s() -> st.SearchStrategy[str]:
    """Canonical IPv4 addresses in ``10.0.0.0/8`` (valid endpoint addresses)."""
    return st.ip_addresses(v=4, network="10.0.0.0/8").map(str)


def ipv6s() -> st.SearchStrategy[str]:
    """Canonical IPv6 addresses in ``fd00::/8`` (valid endpoint addresses)."""
    return st.ip_addresses(v=6, network="fd00::/8").map(str)


def ports() -> st.SearchStrategy[int]:
    """Port numbers 1-65535."""
    return st.integers(1, 65535)


def timestamps() -> st.SearchStrategy[int]:
    """Whole Unix seconds from 1970 to 2100 (``metav1.Time`` precision)."""
    return st.integers(0, 4_102_444_800)


def uids() -> st.SearchStrategy[str]:
    """UUID strings, as the API server assigns to ``metadata.uid``."""
    return st.uuids().map(str)


_protocols = st.sampled_from(["TCP", "UDP", "SCTP"])
_app_protocols = st.one_of(st.none(), st.sampled_from(["http", "https", "kubernetes.io/h2c"]))
_short_text = st.text(string.ascii_letters + string.digits + " .,:-<>&'\"é", max_size=12)

# ---------------------------------------------------------------------------------------------
# meta


def owner_references() -> st.SearchStrategy[o.OwnerReference]:
    """``metav1.OwnerReference`` to a ReplicaSet or Deployment."""
    return st.builds(
        o.OwnerReference,
        api_version=st.just("apps/v1"),
        kind=st.sampled_from(["ReplicaSet", "Deployment"]),
        name=dns_labels(),
        uid=uids(),
        controller=st.one_of(st.none(), st.booleans()),
        block_owner_deletion=st.one_of(st.none(), st.booleans()),
    )


def _fields_v1() -> st.SearchStrategy[str]:
    leaf: st.SearchStrategy[Any] = st.just({})
    tree = st.recursive(
        leaf,
        lambda children: st.dictionaries(
            st.sampled_from(["f:metadata", "f:labels", "f:spec", "f:ports", ".", "k:{\"port\":80}"]),
            children, max_size=3),
        max_leaves=6,
    )
    return tree.map(lambda d: json.dumps(d, ensure_ascii=False, separators=(",", ":"),
                                      sort_keys=True))


def managed_fields_entries() -> st.SearchStrategy[o.ManagedFieldsEntry]:
    """``metav1.ManagedFieldsEntry``; ``fields_v1`` is compact, key-sorted JSON text of an object."""
    return st.builds(
        o.ManagedFieldsEntry,
        manager=st.sampled_from(["kubectl", "endpointslice-controller.k8s.io", "kube-controller-manager"]),
        operation=st.sampled_from(["Update", "Apply"]),
        api_version=st.sampled_from(["v1", "discovery.k8s.io/v1", "apps/v1"]),
        time=st.one_of(st.none(), timestamps()),
        fields_type=st.just("FieldsV1"),
        fields_v1=st.one_of(st.none(), _fields_v1()),
        subresource=st.sampled_from(["", "status"]),
    )


def object_metas(namespaced: bool = True) -> st.SearchStrategy[o.ObjectMeta]:
    """``metav1.ObjectMeta`` with a name (or a generateName), labels, annotations, owners."""
    return st.builds(
        o.ObjectMeta,
        name=dns_labels(),
        generate_name=st.one_of(st.just(""), dns_labels().map(lambda s: s + "-")),
        namespace=dns_labels() if namespaced else st.just(""),
        uid=st.one_of(st.just(""), uids()),
        resource_version=st.one_of(st.just(""), st.integers(1, 10**9).map(str)),
        generation=st.integers(0, 2**40),
        creation_timestamp=st.one_of(st.none(), timestamps()),
        deletion_timestamp=st.one_of(st.none(), timestamps()),
        deletion_grace_period_seconds=st.one_of(st.none(), st.integers(0, 3600)),
        labels=label_maps(),
        annotations=st.dictionaries(label_keys(), _short_text, max_size=1).map(o.FrozenDict),
        owner_references=st.one_of(st.just(()), st.tuples(owner_references())),
        finalizers=st.lists(st.sampled_from(["kubernetes", "foregroundDeletion",
                                             "example.com/guard"]), max_size=2, unique=True).map(tuple),
        managed_fields=st.one_of(st.just(()), st.tuples(managed_fields_entries())),
    )


def object_references() -> st.SearchStrategy[o.ObjectReference]:
    """``corev1.ObjectReference`` to a Pod (as controllers write ``targetRef``)."""
    return st.builds(
        o.ObjectReference,
        kind=st.just("Pod"),
        namespace=dns_labels(),
        name=dns_labels(),
        uid=st.one_of(st.just(""), uids()),
        api_version=st.sampled_from(["", "v1"]),
        resource_version=st.sampled_from(["", "12345"]),
        field_path=st.just(""),
    )


def label_selectors() -> st.SearchStrategy[o.LabelSelector]:
    """``metav1.LabelSelector`` with matchLabels and matchExpressions."""
    req = st.one_of(
        st.builds(o.LabelSelectorRequirement, key=label_keys(),
                  operator=st.sampled_from(["In", "NotIn"]),
                  values=st.lists(_label_names(), min_size=1, max_size=2, unique=True).map(tuple)),
        st.builds(o.LabelSelectorRequirement, key=label_keys(),
                  operator=st.sampled_from(["Exists", "DoesNotExist"])),
    )
    return st.builds(o.LabelSelector, match_labels=label_maps(),
                     match_expressions=st.lists(req, max_size=2).map(tuple))


# ---------------------------------------------------------------------------------------------
# pods


def port_names() -> st.SearchStrategy[str]:
    """IANA service names as container ports use them: 1-15 lower-case letters and digits,
    at least one letter, no hyphens (so never a leading, trailing or double one)."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    return st.builds(lambda a, b: a + b, st.text(letters, min_size=1, max_size=8), st.text("0123456789", max_size=3))


def container_ports() -> st.SearchStrategy[o.ContainerPort]:
    """``corev1.ContainerPort`` (``host_port`` is ``None`` or a port; never 0)."""
    return st.builds(
        o.ContainerPort,
        container_port=ports(),
        name=st.one_of(st.just(""), port_names()),
        protocol=_protocols,
        host_port=st.one_of(st.none(), ports()),
        host_ip=st.one_of(st.just(""), ipv4s()),
    )


def probes() -> st.SearchStrategy[o.Probe]:
    """``corev1.Probe`` with exactly one handler (httpGet, tcpSocket or exec)."""
    port_ref: st.SearchStrategy[Any] = st.one_of(ports(), port_names())
    handler = st.one_of(
        st.builds(lambda h: {"http_get": h}, st.builds(
            o.HTTPGetAction, port=port_ref, path=st.sampled_from(["", "/", "/healthz"]),
            host=st.just(""), scheme=st.sampled_from(["", "HTTP", "HTTPS"]))),
        st.builds(lambda h: {"tcp_socket": h}, st.builds(o.TCPSocketAction, port=port_ref)),
        st.builds(lambda h: {"exec": h}, st.builds(
            o.ExecAction, command=st.lists(st.sampled_from(["cat", "/tmp/ready", "true"]),
                                           min_size=1, max_size=2).map(tuple))),
    )
    return st.builds(
        lambda h, *nums: o.Probe(**h, initial_delay_seconds=nums[0], timeout_seconds=nums[1],
                                 period_seconds=nums[2], success_threshold=nums[3],
                                 failure_threshold=nums[4]),
        handler, st.integers(0, 60), st.integers(0, 10), st.integers(0, 60),
        st.integers(0, 1), st.integers(0, 10),
    )


def _unique_by(items: list[Any], key: Any) -> tuple[Any, ...]:
    seen: set[Any] = set()
    out = []
    for x in items:
        k = key(x)
        if k not in seen:
            seen.add(k)
            out.append(x)
    return tuple(out)


def containers() -> st.SearchStrategy[o.Container]:
    """``corev1.Container`` with ports (unique names and numbers), probes and resources."""
    return st.builds(
        o.Container,
        name=dns_labels(),
        image=st.sampled_from(["nginx:1.25", "registry.k8s.io/pause:3.9"]),  # required by the API server
        ports=st.lists(container_ports(), max_size=2).map(
            lambda ps: _unique_by(list(_unique_by(ps, lambda p: (p.container_port, p.protocol))),
                                  lambda p: p.name or object())),
        readiness_probe=st.one_of(st.none(), probes()),
        liveness_probe=st.one_of(st.none(), st.none(), probes()),
        resources=st.builds(
            o.ResourceRequirements,
            requests=st.dictionaries(st.sampled_from(["cpu", "memory"]),
                                     st.sampled_from(["100m", "1", "128Mi"]), max_size=2).map(o.FrozenDict),
            limits=st.dictionaries(st.sampled_from(["cpu", "memory"]),
                                   st.sampled_from(["500m", "2", "1Gi"]), max_size=2).map(o.FrozenDict),
        ),
        restart_policy=st.one_of(st.none(), st.just("Always")),
    )


def pod_specs() -> st.SearchStrategy[o.PodSpec]:
    """``corev1.PodSpec`` with 1-2 containers and 0-1 init container (unique names)."""
    return _pod_specs().filter(
        lambda s: len({c.name for c in s.containers + s.init_containers}) == len(s.containers + s.init_containers))


def _pod_specs() -> st.SearchStrategy[o.PodSpec]:
    return st.builds(
        o.PodSpec,
        containers=st.one_of(
            st.tuples(containers()),
            st.tuples(containers(), containers()).filter(lambda cs: cs[0].name != cs[1].name)),
        init_containers=st.one_of(st.just(()), st.tuples(containers())),
        node_name=st.one_of(st.just(""), dns_subdomains()),
        hostname=st.one_of(st.just(""), dns_labels()),
        subdomain=st.one_of(st.just(""), dns_labels()),
        restart_policy=st.sampled_from(["", "Always", "OnFailure", "Never"]),
        termination_grace_period_seconds=st.one_of(st.none(), st.integers(0, 600)),
        node_selector=label_maps(2),
        scheduler_name=st.sampled_from(["", "default-scheduler"]),
    )


def pod_statuses() -> st.SearchStrategy[o.PodStatus]:
    """``corev1.PodStatus``: phase, conditions (unique types), IPs, start time."""
    cond = st.builds(
        o.PodCondition,
        type=st.sampled_from(["Ready", "ContainersReady", "PodScheduled", "Initialized"]),
        status=st.sampled_from(["True", "False", "Unknown"]),
        last_transition_time=st.one_of(st.none(), timestamps()),
        last_probe_time=st.one_of(st.none(), timestamps()),
        reason=st.sampled_from(["", "ContainersNotReady"]),
        message=_short_text,
    )
    return st.builds(
        lambda phase, conds, host_ip, ips, start: o.PodStatus(
            phase=phase, conditions=conds, host_ip=host_ip,
            pod_ip=ips[0] if ips else "", pod_ips=tuple(o.PodIP(ip) for ip in ips),
            start_time=start),
        st.sampled_from(["", "Pending", "Running", "Succeeded", "Failed"]),
        st.lists(cond, max_size=3, unique_by=lambda c: c.type).map(tuple),
        st.one_of(st.just(""), ipv4s()),
        st.one_of(st.just(()), st.tuples(ipv4s()), st.tuples(ipv4s(), ipv6s())),
        st.one_of(st.none(), timestamps()),
    )


def pods() -> st.SearchStrategy[o.Pod]:
    """``corev1.Pod``."""
    return st.builds(o.Pod, metadata=object_metas(), spec=pod_specs(), status=pod_statuses())


def pod_template_specs() -> st.SearchStrategy[o.PodTemplateSpec]:
    """``corev1.PodTemplateSpec`` (template metadata has labels only, no name)."""
    return st.builds(o.PodTemplateSpec,
                     metadata=st.builds(o.ObjectMeta, labels=label_maps()),
                     spec=pod_specs())


# ---------------------------------------------------------------------------------------------
# services


def service_ports() -> st.SearchStrategy[o.ServicePort]:
    """``corev1.ServicePort``: target port a number, a name, or 0 (unset)."""
    return st.builds(
        o.ServicePort,
        port=ports(),
        name=st.one_of(st.just(""), dns_labels(4)),
        protocol=_protocols,
        app_protocol=_app_protocols,
        target_port=st.one_of(st.just(0), ports(), port_names()),
        node_port=st.one_of(st.just(0), st.integers(30000, 32767)),
    )


def service_specs() -> st.SearchStrategy[o.ServiceSpec]:
    """``corev1.ServiceSpec``: ClusterIP, headless, NodePort, LoadBalancer or ExternalName;
    the selector is ``None`` or non-empty."""

    @st.composite
    def build(draw: st.DrawFn) -> o.ServiceSpec:
        svc_type = draw(st.sampled_from(["", "ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]))
        ports_ = draw(st.lists(service_ports(), max_size=3))
        ports_ = list(_unique_by(ports_, lambda p: (p.port, p.protocol)))
        if len(ports_) > 1:  # names required and unique when there are several ports
            ports_ = [o.ServicePort(**{**_attrs_dict(p), "name": f"p{i}"}) for i, p in enumerate(ports_)]
        selector = draw(st.one_of(st.none(), st.dictionaries(label_keys(), label_values(),
                                                             min_size=1, max_size=2)))
        cluster_ip = ""
        cluster_ips: tuple[str, ...] = ()
        families: tuple[str, ...] = ()
        policy = None
        external_name = ""
        if svc_type == "ExternalName":
            external_name = draw(dns_subdomains())
        else:
            choice = draw(st.sampled_from(["none", "v4", "dual", "headless"]))
            if choice == "v4":
                cluster_ip = draw(ipv4s())
                cluster_ips = (cluster_ip,)
                families = draw(st.sampled_from([(), ("IPv4",)]))
                policy = draw(st.sampled_from([None, "SingleStack"]))
            elif choice == "dual":
                cluster_ip = draw(ipv4s())
                cluster_ips = (cluster_ip, draw(ipv6s()))
                families = ("IPv4", "IPv6")
                policy = draw(st.sampled_from(["PreferDualStack", "RequireDualStack"]))
            elif choice == "headless":
                cluster_ip = "None"
                cluster_ips = ("None",)
        return o.ServiceSpec(
            ports=tuple(ports_),
            selector=selector,
            cluster_ip=cluster_ip,
            cluster_ips=cluster_ips,
            type=svc_type,
            external_name=external_name,
            external_traffic_policy=draw(st.sampled_from(["", "Cluster", "Local"]))
            if svc_type in ("NodePort", "LoadBalancer") else "",
            internal_traffic_policy=draw(st.sampled_from([None, "Cluster", "Local"])),
            session_affinity=draw(st.sampled_from(["", "None", "ClientIP"])),
            ip_families=families,
            ip_family_policy=policy,
            publish_not_ready_addresses=draw(st.booleans()),
            traffic_distribution=draw(st.sampled_from([None, "PreferClose"])),
        )

    return build()


def _attrs_dict(x: Any) -> dict[str, Any]:
    import attrs

    return attrs.asdict(x, recurse=False)


def services() -> st.SearchStrategy[o.Service]:
    """``corev1.Service``."""
    return st.builds(o.Service, metadata=object_metas(), spec=service_specs())


# ---------------------------------------------------------------------------------------------
# nodes and namespaces


def nodes() -> st.SearchStrategy[o.Node]:
    """``corev1.Node`` (cluster-scoped): pod CIDRs, taints, conditions, addresses."""
    cond = st.builds(
        o.NodeCondition,
        type=st.sampled_from(["Ready", "MemoryPressure", "DiskPressure"]),
        status=st.sampled_from(["True", "False", "Unknown"]),
        last_heartbeat_time=st.one_of(st.none(), timestamps()),
        last_transition_time=st.one_of(st.none(), timestamps()),
        reason=st.sampled_from(["", "KubeletReady"]),
        message=_short_text,
    )
    taint = st.builds(o.Taint, key=label_keys(),
                      effect=st.sampled_from(["NoSchedule", "PreferNoSchedule", "NoExecute"]),
                      value=label_values(), time_added=st.one_of(st.none(), timestamps()))
    quantities = st.dictionaries(st.sampled_from(["cpu", "memory", "pods"]),
                                 st.sampled_from(["4", "16Gi", "110"]), max_size=3).map(o.FrozenDict)
    return st.builds(
        o.Node,
        metadata=object_metas(namespaced=False),
        spec=st.builds(
            o.NodeSpec,
            pod_cidr=st.sampled_from(["", "10.244.1.0/24"]),
            pod_cidrs=st.sampled_from([(), ("10.244.1.0/24",), ("10.244.1.0/24", "fd00:1::/64")]),
            unschedulable=st.booleans(),
            taints=st.lists(taint, max_size=2, unique_by=lambda t: (t.key, t.effect)).map(tuple),
        ),
        status=st.builds(
            o.NodeStatus,
            capacity=quantities,
            allocatable=quantities,
            conditions=st.lists(cond, max_size=2, unique_by=lambda c: c.type).map(tuple),
            addresses=st.lists(st.builds(o.NodeAddress,
                                         type=st.sampled_from(["InternalIP", "Hostname"]),
                                         address=ipv4s()), max_size=2).map(tuple),
        ),
    )


def namespaces() -> st.SearchStrategy[o.Namespace]:
    """``corev1.Namespace`` (cluster-scoped)."""
    return st.builds(o.Namespace, metadata=object_metas(namespaced=False))


# ---------------------------------------------------------------------------------------------
# Endpoints


def endpoint_addresses(ip: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[o.EndpointAddress]:
    """``corev1.EndpointAddress`` (``node_name`` may be ``None``)."""
    return st.builds(
        o.EndpointAddress,
        ip=ip if ip is not None else st.one_of(ipv4s(), ipv6s()),
        hostname=st.one_of(st.just(""), dns_labels()),
        node_name=st.one_of(st.none(), dns_subdomains()),
        target_ref=st.one_of(st.none(), object_references()),
    )


def endpoint_ports() -> st.SearchStrategy[o.EndpointPort]:
    """``corev1.EndpointPort``."""
    return st.builds(o.EndpointPort, port=ports(), name=st.one_of(st.just(""), dns_labels(4)),
                     protocol=_protocols, app_protocol=_app_protocols)


def endpoint_subsets() -> st.SearchStrategy[o.EndpointSubset]:
    """``corev1.EndpointSubset`` with at least one address (ready or not) and unique-named
    ports (names required when there are several)."""

    def fix_ports(ps: list[o.EndpointPort]) -> tuple[o.EndpointPort, ...]:
        if len(ps) <= 1:
            return tuple(ps)
        return tuple(o.EndpointPort(port=p.port, name=f"p{i}", protocol=p.protocol,
                                    app_protocol=p.app_protocol) for i, p in enumerate(ps))

    return st.builds(
        o.EndpointSubset,
        addresses=st.lists(endpoint_addresses(), min_size=1, max_size=3,
                           unique_by=lambda a: a.ip).map(tuple),
        not_ready_addresses=st.lists(endpoint_addresses(), max_size=2,
                                     unique_by=lambda a: a.ip).map(tuple),
        ports=st.lists(endpoint_ports(), max_size=2).map(fix_ports),
    )


def endpoints_objects() -> st.SearchStrategy[o.Endpoints]:
    """``corev1.Endpoints``."""
    return st.builds(o.Endpoints, metadata=object_metas(),
                     subsets=st.lists(endpoint_subsets(), max_size=2).map(tuple))


# ---------------------------------------------------------------------------------------------
# EndpointSlices


def endpoint_conditions() -> st.SearchStrategy[o.EndpointConditions]:
    """``discoveryv1.EndpointConditions`` (each ``None``, ``True`` or ``False``)."""
    b = st.one_of(st.none(), st.booleans())
    return st.builds(o.EndpointConditions, ready=b, serving=b, terminating=b)


def slice_endpoints(address_type: str = "IPv4") -> st.SearchStrategy[o.Endpoint]:
    """``discoveryv1.Endpoint`` with one address of ``address_type``."""
    ip = ipv4s() if address_type == "IPv4" else ipv6s()
    hints = st.builds(o.EndpointHints,
                      for_zones=st.lists(dns_labels(), max_size=2, unique=True).map(
                          lambda names: tuple(o.ForZone(n) for n in names)),
                      for_nodes=st.lists(st.builds(o.ForNode, name=dns_labels()), max_size=1).map(tuple))
    return st.builds(
        o.Endpoint,
        addresses=st.tuples(ip),
        conditions=endpoint_conditions(),
        hostname=st.one_of(st.none(), dns_labels()),
        target_ref=st.one_of(st.none(), object_references()),
        deprecated_topology=st.just(o.EMPTY),
        node_name=st.one_of(st.none(), dns_subdomains()),
        zone=st.one_of(st.none(), st.sampled_from(["zone-a", "us-east1-b"])),
        hints=st.one_of(st.none(), hints),
    )


def slice_ports() -> st.SearchStrategy[o.EndpointSlicePort]:
    """``discoveryv1.EndpointPort`` (every field may be ``None``)."""
    return st.builds(
        o.EndpointSlicePort,
        name=st.one_of(st.none(), st.just(""), dns_labels(4)),
        protocol=st.one_of(st.none(), _protocols),
        port=st.one_of(st.none(), ports()),
        app_protocol=_app_protocols,
    )


def endpoint_slices() -> st.SearchStrategy[o.EndpointSlice]:
    """``discoveryv1.EndpointSlice`` (IPv4 or IPv6), ports with unique names."""
    return st.one_of(*(st.builds(
        o.EndpointSlice,
        metadata=object_metas(),
        address_type=st.just(at),
        endpoints=st.lists(slice_endpoints(at), max_size=3).map(tuple),
        ports=st.lists(slice_ports(), max_size=2, unique_by=lambda p: p.name or "").map(tuple),
    ) for at in ("IPv4", "IPv6")))


# ---------------------------------------------------------------------------------------------
# apps


def _selector_and_template() -> st.SearchStrategy[tuple[o.LabelSelector, o.PodTemplateSpec]]:
    return st.builds(
        lambda labels, spec: (o.LabelSelector(match_labels=labels),
                              o.PodTemplateSpec(metadata=o.ObjectMeta(labels=labels), spec=spec)),
        st.dictionaries(label_keys(), label_values(), min_size=1, max_size=2),
        pod_specs(),
    )


def deployments() -> st.SearchStrategy[o.Deployment]:
    """``appsv1.Deployment`` whose template labels match its selector."""
    int_or_pct = st.one_of(st.integers(0, 5), st.sampled_from(["25%", "50%", "0%"]))
    strategy = st.one_of(
        st.builds(o.DeploymentStrategy, type=st.just("Recreate")),
        st.builds(o.DeploymentStrategy, type=st.sampled_from(["", "RollingUpdate"]),
                  rolling_update=st.one_of(st.none(), st.builds(
                      o.RollingUpdateDeployment,
                      max_unavailable=st.one_of(st.none(), int_or_pct),
                      max_surge=st.one_of(st.none(), int_or_pct)))),
    )
    return st.builds(
        lambda meta, sel_tpl, replicas, strat, mrs, rhl, paused, pds, status: o.Deployment(
            metadata=meta,
            spec=o.DeploymentSpec(selector=sel_tpl[0], template=sel_tpl[1], replicas=replicas,
                                  strategy=strat, min_ready_seconds=mrs,
                                  revision_history_limit=rhl, paused=paused,
                                  progress_deadline_seconds=pds),
            status=status),
        object_metas(), _selector_and_template(), st.one_of(st.none(), st.integers(0, 100)),
        strategy, st.integers(0, 30), st.one_of(st.none(), st.integers(0, 10)), st.booleans(),
        st.one_of(st.none(), st.integers(31, 900)),  # > minReadySeconds (at most 30), as validated
        st.builds(o.DeploymentStatus, observed_generation=st.integers(0, 100),
                  replicas=st.integers(0, 100), updated_replicas=st.integers(0, 100),
                  ready_replicas=st.integers(0, 100), available_replicas=st.integers(0, 100),
                  unavailable_replicas=st.integers(0, 100)),
    )


def replica_sets() -> st.SearchStrategy[o.ReplicaSet]:
    """``appsv1.ReplicaSet`` whose template labels match its selector."""
    return st.builds(
        lambda meta, sel_tpl, replicas, mrs, status: o.ReplicaSet(
            metadata=meta,
            spec=o.ReplicaSetSpec(selector=sel_tpl[0], template=sel_tpl[1], replicas=replicas,
                                  min_ready_seconds=mrs),
            status=status),
        object_metas(), _selector_and_template(), st.one_of(st.none(), st.integers(0, 100)),
        st.integers(0, 30),
        st.builds(o.ReplicaSetStatus, replicas=st.integers(0, 100),
                  fully_labeled_replicas=st.integers(0, 100), ready_replicas=st.integers(0, 100),
                  available_replicas=st.integers(0, 100), observed_generation=st.integers(0, 100)),
    )


def any_object() -> st.SearchStrategy[Any]:
    """An object of any of the eight kinds."""
    return st.one_of(pods(), services(), nodes(), namespaces(), endpoints_objects(),
                     endpoint_slices(), deployments(), replica_sets())


def api_valid(obj: Any) -> Any:
    """Make a shape-valid object from these strategies acceptable to the API server's create
    validation (the strategies also serve round-trip tests, which need shapes the server would
    refuse): server-owned metadata cleared, DNS-1035 Service names, restart policies and ports
    as the API requires, no host ports (generated ones may collide)."""
    meta = attrs.evolve(obj.metadata, resource_version="", uid="", namespace="default", generate_name="",
                        creation_timestamp=None, deletion_timestamp=None, deletion_grace_period_seconds=None,
                        owner_references=(), finalizers=())
    if obj.kind == "Service" and not meta.name[:1].isalpha():
        meta = attrs.evolve(meta, name="s" + meta.name[: 62])
    obj = attrs.evolve(obj, metadata=meta)

    def fix_spec(spec: o.PodSpec, template: bool) -> o.PodSpec:
        # host ports may collide across generated containers; the API refuses duplicates
        containers = tuple(
            attrs.evolve(c, restart_policy=None, ports=tuple(attrs.evolve(p, host_port=None) for p in c.ports))
            for c in spec.containers
        )
        return attrs.evolve(spec, containers=containers,
                            restart_policy="Always" if template else spec.restart_policy)

    if obj.kind == "Pod":
        obj = attrs.evolve(obj, spec=fix_spec(obj.spec, False))
    elif obj.kind in ("Deployment", "ReplicaSet"):
        t = obj.spec.template
        obj = attrs.evolve(obj, spec=attrs.evolve(obj.spec, template=attrs.evolve(t, spec=fix_spec(t.spec, True))))
    elif obj.kind == "Service":
        spec = attrs.evolve(obj.spec, cluster_ip="", cluster_ips=())
        if not spec.ports and spec.type != "ExternalName":
            spec = attrs.evolve(spec, ports=(o.ServicePort(port=80),))
        if spec.type not in ("NodePort", "LoadBalancer"):
            spec = attrs.evolve(spec, ports=tuple(attrs.evolve(p, node_port=0) for p in spec.ports))
        obj = attrs.evolve(obj, spec=spec)
    return obj
