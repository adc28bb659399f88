"""A model of kube-proxy: how a node turns a Service's EndpointSlices into a backend choice.

Three layers, each usable alone:

* :func:`merge_slices` — the ``EndpointSliceCache`` merge (``pkg/proxy/endpointslicecache.go``):
  every slice of one Service folded into one sorted, de-duplicated endpoint list per
  :class:`ServicePortName`, as one node's kube-proxy sees it;
* :func:`categorize_endpoints` — ``CategorizeEndpoints`` (``pkg/proxy/topology.go``): which of
  those endpoints a node may use under the Cluster or Local traffic policy, with topology hints
  and the serving-terminating fallback;
* :func:`connect` — one client connection through the iptables proxier: look the Service up,
  apply the traffic policy relative to the client's node, and pick a backend uniformly at
  random from the injected :class:`random.Random` (the iptables ``statistic --mode random``
  chain gives every usable endpoint the same probability).

What a client sees when there is nothing to pick mirrors the rules the iptables proxier writes
(``pkg/proxy/iptables/proxier.go``):

* no usable endpoint anywhere in the cluster → the Service's rule rejects the packet (``REJECT``):
  :class:`~kubesim.errors.NoEndpoints` ``dial tcp 10.96.12.34:80: connect: connection refused``;
* endpoints exist but none is local under a ``Local`` traffic policy → the packet is dropped (``DROP``):
  :class:`~kubesim.errors.NoEndpoints` ``dial tcp 10.96.12.34:80: i/o timeout``.

Deliberate simplifications (documented deviations):

* Slices are merged from the API server's current state, as if kube-proxy had already received
  every watch event (no informer lag, no rate-limited ``syncProxyRules``).
* Upstream iterates a Service's slices in Go map order; the dedup rule ("a later endpoint with
  the same ``ip:port`` replaces an earlier one unless it is terminating") is applied here to
  slices in name order, so among several non-terminating duplicates the one in the
  last-named slice wins (upstream: undefined).
* ``sessionAffinity: ClientIP`` is not modelled: every :func:`connect` is a new random pick.
* Node hints (``forNodes``) are always recorded by :func:`merge_slices`; upstream records them only
  when the ``PreferSameTrafficDistribution`` gate is on. The gate is applied in
  :func:`categorize_endpoints` (``prefer_same_node_enabled``), which gives the same choices.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence

import attrs

from kubesim.apiserver import APIServer
from kubesim.errors import InvalidOption, KubesimError, NoEndpoints, NotFound
from kubesim.netutil import IPv4, IPv6, canonical_ip, ip_family
from kubesim.objects import EndpointSlice, Service, ServicePort

__all__ = [
    "ServicePortName",
    "EndpointInfo",
    "Backend",
    "merge_slices",
    "categorize_endpoints",
    "connect",
    "SERVICE_NAME_LABEL",
    "HEADLESS_LABEL",
    "SERVICE_PROXY_NAME_LABEL",
    "ZONE_LABEL",
]

#: ``discovery.k8s.io`` label naming a slice's Service.
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
#: Slices of headless Services carry this label; kube-proxy's informer excludes them.
HEADLESS_LABEL = "service.kubernetes.io/headless"
#: Services (and their slices) labelled for another service proxy; kube-proxy excludes them.
SERVICE_PROXY_NAME_LABEL = "service.kubernetes.io/service-proxy-name"
#: The node label kube-proxy reads for its own zone.
ZONE_LABEL = "topology.kubernetes.io/zone"


def join_host_port(ip: str, port: int) -> str:
    """``net.JoinHostPort``: ``ip:port``, IPv6 bracketed (``[fd00::1]:80``). ``O(1)``."""
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


@attrs.frozen(order=True)
class ServicePortName:
    """``proxy.ServicePortName``: one port of one Service, keyed as kube-proxy keys it.

    ``port`` is the port *name* (``""`` for an unnamed single port). ``str()`` is upstream's
    ``ns/name:port`` (``ns/name`` when the port is unnamed); the protocol is not printed.

    >>> str(ServicePortName("default", "web", "http", "TCP"))
    'default/web:http'
    """

    namespace: str
    name: str
    port: str
    protocol: str

    def __str__(self) -> str:
        suffix = f":{self.port}" if self.port else ""
        return f"{self.namespace}/{self.name}{suffix}"


@attrs.frozen
class EndpointInfo:
    """``proxy.BaseEndpointInfo``: one ``ip:port`` as kube-proxy holds it after the merge.

    ``ready``, ``serving`` and ``terminating`` are the slice conditions with upstream's nil
    defaults already applied (ready/serving: nil → true; terminating: nil → false).
    ``is_local`` is "the endpoint's ``nodeName`` is this kube-proxy's node". ``node_name``,
    ``zone`` and ``pod`` (the ``targetRef`` name) are carried for reporting only; upstream keeps
    the zone and node for metrics, not for routing.
    """

    ip: str
    port: int
    is_local: bool = False
    ready: bool = True
    serving: bool = True
    terminating: bool = False
    zone_hints: frozenset[str] = frozenset()
    node_hints: frozenset[str] = frozenset()
    node_name: str | None = None
    zone: str | None = None
    pod: str | None = None

    @property
    def endpoint(self) -> str:
        """``ip:port`` (``[ip]:port`` for IPv6): the dedup and sort key."""
        return join_host_port(self.ip, self.port)

    def __str__(self) -> str:
        return self.endpoint


@attrs.frozen
class Backend:
    """The endpoint one connection reached. ``str()`` is ``ip:port`` (``[ip]:port`` for IPv6).

    >>> str(Backend(ip="fd00:10:244:1::5", port=8080, pod="web-1", node="node-1"))
    '[fd00:10:244:1::5]:8080'
    """

    ip: str
    port: int
    pod: str | None = None
    node: str | None = None

    def __str__(self) -> str:
        return join_host_port(self.ip, self.port)


# ------------------------------------------------------------------------------- the merge


def merge_slices(
    service: Service,
    slices: Iterable[EndpointSlice],
    *,
    node_name: str | None = None,
    ip_family: str | None = None,
) -> dict[ServicePortName, list[EndpointInfo]]:
    """Fold a Service's EndpointSlices into kube-proxy's endpoint map
    (``EndpointSliceCache.getEndpointsMap``).

    ``node_name`` is the kube-proxy's node (``None``: no endpoint is local). ``ip_family``
    (``"IPv4"``/``"IPv6"``) keeps only slices of that ``addressType``, as each single-stack
    proxier behind the dual-stack meta-proxier sees them; ``None`` keeps both.

    Rules, as upstream:

    * a slice is skipped if its ``addressType`` is not IPv4/IPv6 (FQDN), if it has no
      ``kubernetes.io/service-name`` label, or if that label or its namespace is not this
      Service's (the cache is keyed by the label);
    * a port is skipped if its name or number is nil, or its number is 0; the key is
      ``ServicePortName(ns, svc, port.name, port.protocol)``;
    * an endpoint with no address is skipped; only ``addresses[0]`` is used, in canonical
      form (an unparsable address is skipped: upstream would key it ``<nil>:port``);
    * duplicates (same ``ip:port`` within one port, across slices) are resolved in favour of
      the later one unless it is terminating, so a non-terminating endpoint wins; slices are
      taken in name order (upstream: Go map order);
    * each list is sorted by the ``ip:port`` string; ports without endpoints are omitted.

    The result's keys are in sorted order. ``O(E log E)`` for ``E`` endpoints over all slices.
    """
    ns, name = service.metadata.namespace, service.metadata.name
    by_port: dict[ServicePortName, dict[str, EndpointInfo]] = {}
    usable = [
        s
        for s in slices
        if s.address_type in (IPv4, IPv6)
        and (ip_family is None or s.address_type == ip_family)
        and s.metadata.labels.get(SERVICE_NAME_LABEL)
        and s.metadata.labels.get(SERVICE_NAME_LABEL) == name
        and s.metadata.namespace == ns
        and s.metadata.name
    ]
    usable.sort(key=lambda s: s.metadata.name)
    for s in usable:
        for p in s.ports:
            if p.name is None or p.port is None or p.port == 0:
                continue
            spn = ServicePortName(ns, name, p.name, p.protocol if p.protocol is not None else "TCP")
            bucket = by_port.setdefault(spn, {})
            for ep in s.endpoints:
                if not ep.addresses:
                    continue
                ip = canonical_ip(ep.addresses[0])
                if ip is None:
                    continue
                c = ep.conditions
                terminating = c.terminating is True
                hints = ep.hints
                info = EndpointInfo(
                    ip=ip,
                    port=p.port,
                    is_local=bool(node_name) and ep.node_name == node_name,
                    ready=c.ready is None or c.ready,
                    serving=c.serving is None or c.serving,
                    terminating=terminating,
                    zone_hints=frozenset(z.name for z in hints.for_zones) if hints else frozenset(),
                    node_hints=frozenset(n.name for n in hints.for_nodes) if hints else frozenset(),
                    node_name=ep.node_name,
                    zone=ep.zone,
                    pod=ep.target_ref.name if ep.target_ref is not None else None,
                )
                key = info.endpoint
                if key not in bucket or not terminating:
                    bucket[key] = info
    return {
        spn: [bucket[k] for k in sorted(bucket)]
        for spn, bucket in sorted(by_port.items())
        if bucket
    }


# ------------------------------------------------------------------------------- topology


_PREFER_SAME_NODE = "PreferSameNode"
_PREFER_SAME_ZONE = "PreferSameZone"


def _topology_mode(
    endpoints: Sequence[EndpointInfo], node_name: str, zone: str, prefer_same_node_enabled: bool
) -> str:
    # pkg/proxy/topology.go topologyModeFromHints: hints count only over ready endpoints, and
    # only if every ready endpoint has one and at least one names this node / zone.
    ready = [ep for ep in endpoints if ep.ready]
    if not ready:
        return ""
    if (
        prefer_same_node_enabled
        and all(ep.node_hints for ep in ready)
        and any(node_name in ep.node_hints for ep in ready)
    ):
        return _PREFER_SAME_NODE
    if all(ep.zone_hints for ep in ready) and any(zone in ep.zone_hints for ep in ready):
        return _PREFER_SAME_ZONE
    return ""


def _available(ep: EndpointInfo, mode: str, node_name: str, zone: str) -> bool:
    if mode == _PREFER_SAME_NODE:
        return node_name in ep.node_hints
    if mode == _PREFER_SAME_ZONE:
        return zone in ep.zone_hints
    return True


def categorize_endpoints(
    endpoints: Sequence[EndpointInfo],
    *,
    traffic_policy_local: bool,
    node_name: str | None,
    node_zone: str | None,
    prefer_same_node_enabled: bool = False,
) -> tuple[list[EndpointInfo], list[EndpointInfo], list[EndpointInfo], bool]:
    """``CategorizeEndpoints`` for one traffic path of one node:
    ``(cluster_endpoints, local_endpoints, all_reachable, has_any_endpoints)``.

    ``traffic_policy_local`` is the policy of the path (``internalTrafficPolicy`` for cluster-IP
    traffic, ``externalTrafficPolicy`` for node-port / load-balancer traffic): a path uses either
    the Cluster list or the Local list, never both.

    Cluster policy: the ready endpoints, narrowed by topology hints — ``PreferSameNode`` when
    ``prefer_same_node_enabled`` (the ``PreferSameTrafficDistribution`` gate), every ready
    endpoint has node hints and one names ``node_name``; else ``PreferSameZone`` when every
    ready endpoint has zone hints and one names ``node_zone``; else no narrowing. With no ready
    endpoint at all, every serving-and-terminating endpoint is used, ignoring topology.
    ``has_any`` is "the list is non-empty".

    Local policy: the local ready endpoints, or if there are none the local
    serving-and-terminating ones; ``has_any`` is "some endpoint anywhere is ready, or serving
    and terminating" (the proxier then DROPs instead of REJECTing).

    ``all_reachable`` is the list the path uses, in ``ip:port`` order. ``O(n)``.

    >>> a = EndpointInfo("10.0.0.1", 80, zone_hints=frozenset({"zone-a"}))
    >>> b = EndpointInfo("10.0.0.2", 80, zone_hints=frozenset({"zone-b"}))
    >>> cl, _, _, _ = categorize_endpoints([a, b], traffic_policy_local=False,
    ...                                    node_name="n1", node_zone="zone-b")
    >>> [str(e) for e in cl]
    ['10.0.0.2:80']
    """
    if not endpoints:
        return [], [], [], False
    node = node_name or ""
    zone = node_zone or ""
    if not traffic_policy_local:
        mode = _topology_mode(endpoints, node, zone, prefer_same_node_enabled)
        cluster = [ep for ep in endpoints if ep.ready and _available(ep, mode, node, zone)]
        if not cluster:
            # Terminating fallback: no ready endpoint anywhere (topology already ignored).
            cluster = [ep for ep in endpoints if ep.serving and ep.terminating]
        return cluster, [], list(cluster), bool(cluster)
    has_any = False
    local_ready = False
    local_serving_terminating = False
    for ep in endpoints:
        if ep.ready:
            has_any = True
            local_ready = local_ready or ep.is_local
        elif ep.serving and ep.terminating:
            has_any = True
            local_serving_terminating = local_serving_terminating or ep.is_local
    if local_ready:
        local = [ep for ep in endpoints if ep.is_local and ep.ready]
    elif local_serving_terminating:
        local = [ep for ep in endpoints if ep.is_local and ep.serving and ep.terminating]
    else:
        local = []
    return [], local, list(local), has_any


# ------------------------------------------------------------------------------- connect


def _port_desc(p: ServicePort) -> str:
    return f"{p.name + ' ' if p.name else ''}({p.port}/{p.protocol})"


def _resolve_port(svc: Service, port: int | str, protocol: str | None) -> ServicePort | None:
    ports = svc.spec.ports
    if isinstance(port, str) and not port.isdigit():
        named = [p for p in ports if p.name == port and (protocol is None or p.protocol == protocol)]
        if not named:
            have = ", ".join(_port_desc(p) for p in ports) or "none"
            raise InvalidOption(
                f'service "{svc.metadata.namespace}/{svc.metadata.name}" has no port named {port!r}'
                f"{'/' + protocol if protocol else ''}; its ports: {have}"
            )
        return named[0]
    number = int(port)
    matches = [p for p in ports if p.port == number and (protocol is None or p.protocol == protocol)]
    if not matches:
        return None
    # Same number on two protocols (DNS on 53/UDP and 53/TCP): a plain dial is TCP.
    for p in matches:
        if p.protocol == "TCP":
            return p
    return matches[0]


def _resolve_node_port(svc: Service, port: int | str, protocol: str | None) -> ServicePort | None:
    if isinstance(port, str) and not port.isdigit():
        return None
    number = int(port)
    matches = [p for p in svc.spec.ports if p.node_port == number and (protocol is None or p.protocol == protocol)]
    for p in matches:
        if p.protocol == "TCP":
            return p
    return matches[0] if matches else None


def _kube_proxy_slices(api: APIServer, svc: Service) -> list[EndpointSlice]:
    # The informer selector of cmd/kube-proxy/app/server.go, plus the service-name label.
    name = svc.metadata.name
    out = []
    for s in api.list_namespace("EndpointSlice", svc.metadata.namespace).values():
        labels = s.metadata.labels
        if labels.get(SERVICE_NAME_LABEL) != name:
            continue
        if HEADLESS_LABEL in labels or SERVICE_PROXY_NAME_LABEL in labels:
            continue
        out.append(s)
    return out


def connect(
    api: APIServer,
    rng: random.Random,
    service_name: str,
    port: int | str,
    *,
    namespace: str = "default",
    from_node: str | None = None,
    external: bool = False,
    protocol: str | None = None,
    ip_family: str | None = None,
    prefer_same_node_enabled: bool = False,
) -> Backend:
    """Open one connection to a Service and return the backend kube-proxy sends it to.

    ``port`` is a Service port number or name (with ``external=True`` too: the connection
    then arrives on that port's ``nodePort``), or, with ``external=True``, the node port itself
    (``31234``: what a client outside the cluster dials on a node). ``from_node`` is the node the client runs on
    (``external=False``: a pod dialling the cluster IP) or the node whose node port receives the
    traffic (``external=True``: NodePort / LoadBalancer traffic, policed by
    ``externalTrafficPolicy``). ``from_node=None`` means "from no node in particular": no
    endpoint is local and no zone applies, so a ``Local`` policy has nothing to use (the
    connection times out), and topology hints are ignored. ``protocol`` narrows the port match
    (default: the port's own, TCP when a number has both); ``ip_family`` picks the cluster IP of
    a dual-stack Service (default: the primary). The backend is drawn uniformly at random from
    ``rng`` among the usable endpoints (iptables mode).

    Raises :class:`~kubesim.errors.NotFound` (``services "web" not found``) for an unknown
    Service or ``from_node``; :class:`~kubesim.errors.NoEndpoints` with what the client would
    print when there is nothing to connect to (``dial tcp 10.96.0.10:80: connect: connection
    refused`` when the proxier REJECTs: no usable endpoint anywhere; ``... i/o timeout`` when it
    DROPs: a ``Local`` policy and no local endpoint, or a port the Service does not have);
    :class:`~kubesim.errors.KubesimError` for Services kube-proxy does not proxy (headless,
    ExternalName, labelled ``service.kubernetes.io/service-proxy-name``);
    :class:`~kubesim.errors.InvalidOption` for a port name the Service lacks or a bad option.

    ``O(S + E log E)`` for ``S`` slices in the namespace and ``E`` endpoints of the Service.
    """
    if not isinstance(service_name, str) or not isinstance(namespace, str):
        raise InvalidOption(f"service and namespace must be strings, got {service_name!r:.60} and {namespace!r:.60}")
    if isinstance(port, bool) or not isinstance(port, (int, str)):
        raise InvalidOption(f"port must be a port number or name, got {port!r:.60}")
    if from_node is not None and not isinstance(from_node, str):
        raise InvalidOption(f"from_node must be a node name, got {from_node!r:.60}")
    svc = api.try_get("Service", service_name, namespace)
    if svc is None:
        raise NotFound("Service", service_name, namespace)
    key = f"{namespace}/{service_name}"
    if svc.spec.type == "ExternalName":
        raise KubesimError(
            f'service "{key}" is of type ExternalName: it has no cluster IP and kube-proxy programs '
            f"no rules for it; clients reach {svc.spec.external_name!r} through the DNS CNAME "
            f"{service_name}.{namespace}.svc.cluster.local (see kubesim.dns.resolve)"
        )
    if SERVICE_PROXY_NAME_LABEL in svc.metadata.labels:
        raise KubesimError(
            f'service "{key}" is labelled {SERVICE_PROXY_NAME_LABEL}='
            f"{svc.metadata.labels[SERVICE_PROXY_NAME_LABEL]!r}: kube-proxy ignores it (another "
            "service proxy implements it)"
        )
    if svc.is_headless:
        raise KubesimError(
            f'service "{key}" is headless (clusterIP: None): there is no virtual IP to connect to; '
            "clients resolve its DNS name to the pod IPs and connect to a pod directly "
            "(see kubesim.dns.resolve)"
        )
    if external and svc.spec.type not in ("NodePort", "LoadBalancer"):
        raise KubesimError(
            f'service "{key}" is of type {svc.spec.type or "ClusterIP"}: it is reachable only from '
            "inside the cluster; external=True needs a NodePort or LoadBalancer Service"
        )
    if protocol is not None and protocol not in ("TCP", "UDP", "SCTP"):
        raise InvalidOption(f"protocol must be one of TCP, UDP, SCTP, got {protocol!r}")
    if ip_family is not None and ip_family not in (IPv4, IPv6):
        raise InvalidOption(f"ip_family must be IPv4 or IPv6, got {ip_family!r}")

    cluster_ips = svc.spec.cluster_ips or ((svc.spec.cluster_ip,) if svc.spec.cluster_ip else ())
    if ip_family is None:
        vip = cluster_ips[0] if cluster_ips else svc.spec.cluster_ip
        family = _family(vip)
    else:
        candidates = [ip for ip in cluster_ips if _family(ip) == ip_family]
        if not candidates:
            raise InvalidOption(f'service "{key}" has no {ip_family} cluster IP (clusterIPs: {list(cluster_ips)})')
        vip, family = candidates[0], ip_family

    sp = _resolve_port(svc, port, protocol)
    if sp is None and external:
        # Traffic that arrives on a node port (``<node>:31234``): the KUBE-NODEPORTS rule of
        # the Service port allocated that node port (pkg/proxy/iptables/proxier.go).
        sp = _resolve_node_port(svc, port, protocol)
    proto = (sp.protocol if sp is not None else (protocol or "TCP")).lower()
    if external:
        node_port = sp.node_port if sp is not None and sp.node_port else (sp.port if sp else int(port))
        address = join_host_port(from_node or "<node>", node_port)
    else:
        address = join_host_port(vip, sp.port if sp is not None else int(port))
    if sp is None:
        # No rule matches this port: iptables lets the packet go unanswered.
        raise NoEndpoints(
            f"dial {proto} {address}: i/o timeout (service {key} has no port {port}/{proto.upper()})"
        )

    zone: str | None = None
    if from_node is not None:
        node = api.try_get("Node", from_node, None)
        if node is None:
            raise NotFound("Node", from_node)
        zone = node.metadata.labels.get(ZONE_LABEL)

    merged = merge_slices(svc, _kube_proxy_slices(api, svc), node_name=from_node, ip_family=family)
    spn = ServicePortName(namespace, service_name, sp.name, sp.protocol)
    endpoints = merged.get(spn, [])
    policy = svc.spec.external_traffic_policy if external else svc.spec.internal_traffic_policy
    local = policy == "Local"
    _, _, usable, has_any = categorize_endpoints(
        endpoints,
        traffic_policy_local=local,
        node_name=from_node,
        node_zone=zone,
        prefer_same_node_enabled=prefer_same_node_enabled,
    )
    if not has_any:
        # "<svc> has no endpoints": the proxier REJECTs (ICMP port unreachable / TCP RST).
        raise NoEndpoints(f"dial {proto} {address}: connect: connection refused")
    if not usable:
        # "<svc> has no local endpoints": the proxier DROPs.
        where = f"node {from_node!r}" if from_node else "a client on no node"
        raise NoEndpoints(
            f"dial {proto} {address}: i/o timeout (service {key} has traffic policy Local and "
            f"no local endpoints for {where})"
        )
    ep = usable[rng.randrange(len(usable))]
    return Backend(ip=ep.ip, port=ep.port, pod=ep.pod, node=ep.node_name)



def _family(ip: str) -> str:
    return ip_family(ip) or IPv4
