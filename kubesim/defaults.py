"""The API server's defaulting for kubesim's kinds (``SetDefaults_*``).

:func:`apply_defaults` returns a new object with the defaults upstream fills in on create and
update, for the fields kubesim models.  Sources mirrored:

* ``pkg/apis/core/v1/defaults.go`` and the declarative ``+default`` tags of
  ``k8s.io/api/core/v1/types.go`` (Pod, PodSpec, Container ports, Probe, HTTPGetAction,
  Service, Endpoints, Namespace, NodeStatus);
* ``pkg/registry/core/service/storage`` (``normalizeClusterIPs`` on create and
  ``initIPFamilyFields`` in ``alloc.go``: ``clusterIPs``, ``ipFamilyPolicy``, ``ipFamilies``);
* ``pkg/apis/apps/v1/defaults.go`` (Deployment, ReplicaSet);
* ``pkg/apis/discovery/v1/defaults.go`` (EndpointSlice ports).

Not modelled (the fields do not exist in kubesim): ``dnsPolicy``, ``securityContext``,
``enableServiceLinks``, ``imagePullPolicy``, ``terminationMessagePath/Policy``,
``sessionAffinityConfig``, ``allocateLoadBalancerNodePorts``, and rounding of resource
quantities to milli-units.

:func:`apply_defaults` is idempotent and ``O(size of the object)``; objects that need no change
are returned as they are (the same instance).

Cost on the write path: the API server defaults every write, and most writes carry their
``spec`` (or a ReplicaSet's template, a pod's containers) over unchanged from the previous
version. The defaulting of those sub-objects is a pure function of a frozen value, so it is
memoised by identity (bounded; :func:`clear_caches` empties it): an unchanged sub-object costs
one dictionary probe.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import attrs

from kubesim import inert as _inert
from kubesim import objects as o
from kubesim._memo import ByIdentity
from kubesim.errors import InvalidOption
from kubesim.netutil import ip_family

__all__ = ["apply_defaults", "clear_caches", "pod_level_defaults_apply", "DEFAULT_SCHEDULER_NAME", "DEFAULT_TERMINATION_GRACE_PERIOD"]

#: ``v1.DefaultSchedulerName``.
DEFAULT_SCHEDULER_NAME = "default-scheduler"
#: ``v1.DefaultTerminationGracePeriodSeconds``.
DEFAULT_TERMINATION_GRACE_PERIOD = 30

T = TypeVar("T")
_X = TypeVar("_X")
_V = TypeVar("_V")


def _evolve(obj: T, **changes: Any) -> T:
    """``attrs.evolve`` that keeps the instance when nothing changes."""
    for name, value in changes.items():
        current = getattr(obj, name)
        if value is not current and value != current:
            return attrs.evolve(obj, **changes)  # type: ignore[misc]
    return obj


def _map_tuple(items: tuple[T, ...], fn: Callable[[T], T]) -> tuple[T, ...]:
    out = tuple(fn(x) for x in items)
    return items if all(a is b for a, b in zip(out, items, strict=True)) else out


#: How many sub-objects each defaulting memo keeps before it is cleared.
_MEMO_LIMIT = 1 << 15

_MEMOS: list[ByIdentity[Any, Any]] = []


def _memo(fn: Callable[[_X], _V]) -> ByIdentity[_X, _V]:
    """Memoise a defaulting function of one frozen sub-object by the sub-object's identity
    (:class:`~kubesim._memo.ByIdentity`), registered for :func:`clear_caches`.

    Writes carry sub-objects over unchanged (a Pod's ``spec`` across its status updates, a
    ReplicaSet's ``spec`` across its status updates): those are defaulted once. The functions
    memoised are pure functions of their argument, and the argument is frozen, so a hit returns
    exactly what a call would (and the same instance: unchanged input -> the input itself)."""
    m: ByIdentity[_X, _V] = ByIdentity(fn, _MEMO_LIMIT)
    _MEMOS.append(m)
    return m


def clear_caches() -> None:
    """Forget every memoised defaulting result (they are only a speed-up). ``O(entries)``."""
    for m in _MEMOS:
        m.cache.clear()


# --- core/v1 ----------------------------------------------------------------------------------


def _container_port(p: o.ContainerPort) -> o.ContainerPort:
    return _evolve(p, protocol=p.protocol or "TCP")  # +default="TCP"


def _http_get(h: o.HTTPGetAction) -> o.HTTPGetAction:
    return _evolve(h, path=h.path or "/", scheme=h.scheme or "HTTP")  # SetDefaults_HTTPGetAction


def _probe(p: o.Probe | None) -> o.Probe | None:
    if p is None:
        return None
    return _evolve(  # SetDefaults_Probe
        p,
        http_get=None if p.http_get is None else _http_get(p.http_get),
        timeout_seconds=p.timeout_seconds or 1,
        period_seconds=p.period_seconds or 10,
        success_threshold=p.success_threshold or 1,
        failure_threshold=p.failure_threshold or 3,
    )


def _handler(h: o.LifecycleHandler | None) -> o.LifecycleHandler | None:
    if h is None or h.http_get is None:
        return h
    return _evolve(h, http_get=_http_get(h.http_get))


def _lifecycle(lc: o.Lifecycle | None) -> o.Lifecycle | None:
    if lc is None:
        return None
    return _evolve(lc, post_start=_handler(lc.post_start), pre_stop=_handler(lc.pre_stop))


def _container(c: o.Container) -> o.Container:
    return _evolve(
        c,
        ports=_map_tuple(c.ports, _container_port),
        readiness_probe=_probe(c.readiness_probe),
        liveness_probe=_probe(c.liveness_probe),
        startup_probe=_probe(c.startup_probe),
        lifecycle=_lifecycle(c.lifecycle),
    )


@_memo
def _containers(cs: tuple[o.Container, ...]) -> tuple[o.Container, ...]:
    # Memoised: a pod's containers are its template's (the same tuple) in every pod.
    return _map_tuple(cs, _container)


def _pod_spec(s: o.PodSpec) -> o.PodSpec:
    # SetDefaults_PodSpec (also applied to pod templates).
    return _evolve(
        s,
        containers=_containers(s.containers),
        init_containers=_containers(s.init_containers),
        restart_policy=s.restart_policy or "Always",
        termination_grace_period_seconds=(
            DEFAULT_TERMINATION_GRACE_PERIOD
            if s.termination_grace_period_seconds is None
            else s.termination_grace_period_seconds
        ),
        scheduler_name=s.scheduler_name or DEFAULT_SCHEDULER_NAME,
    )


def _requests_from_limits(c: o.Container) -> o.Container:
    # SetDefaults_Pod: requests default to limits, per resource, for a Pod (not a template).
    limits, requests = c.resources.limits, c.resources.requests
    missing = [k for k in limits if k not in requests]
    if not missing:
        return c
    merged = requests.to_dict()
    for k in missing:
        merged[k] = limits[k]
    return attrs.evolve(c, resources=attrs.evolve(c.resources, requests=o.FrozenDict(merged)))


@_memo
def _host_network_ports(c: o.Container) -> o.Container:
    # defaultHostNetworkPorts (SetDefaults_Pod): a hostNetwork pod's ports are host ports; a
    # host port of 0 is unset there (``HostPort == 0``), as None is here
    if all(p.host_port for p in c.ports):
        return c
    return _evolve(c, ports=tuple(p if p.host_port else _evolve(p, host_port=p.container_port)
                                  for p in c.ports))


@_memo
def _pod_spec_of_pod(s: o.PodSpec) -> o.PodSpec:
    # Memoised: a Pod's spec is its template's (the same instance) in every pod of a
    # ReplicaSet, and a Pod's defaulting and pod_level_defaults_apply ask for it alike.
    spec = _pod_spec(s)
    spec = _evolve(
        spec,
        containers=_map_tuple(spec.containers, _requests_from_limits),
        init_containers=_map_tuple(spec.init_containers, _requests_from_limits),
    )
    if spec.host_network:
        spec = _evolve(
            spec,
            containers=_map_tuple(spec.containers, _host_network_ports),
            init_containers=_map_tuple(spec.init_containers, _host_network_ports),
        )
    return spec


def pod_level_defaults_apply(spec: o.PodSpec) -> bool:
    """``True`` when the defaults ``SetDefaults_Pod`` fills in for a Pod would change
    ``spec``: for a spec of a defaulted template, what a Pod adds to a template's defaults (a
    container's limit with no request of that resource, a ``hostNetwork`` pod's port with no
    host port). The answer of the Pod's defaulting itself (it keeps an unchanged spec's
    instance), so it cannot drift from it. The lean engine trusts a controller's Pod made from
    a defaulted template only when this is ``False``. ``O(1)`` for a spec seen before (the
    defaulting is memoised by identity: specs are shared per template), else
    ``O(containers)``."""
    return _pod_spec_of_pod(spec) is not spec


def _pod(p: o.Pod) -> o.Pod:
    return _evolve(p, spec=_pod_spec_of_pod(p.spec))


@_memo
def _template(t: o.PodTemplateSpec) -> o.PodTemplateSpec:
    return _evolve(t, spec=_pod_spec(t.spec))


def _service_port(p: o.ServicePort) -> o.ServicePort:
    target = p.target_port
    if target == 0 or target == "":
        target = p.port
    return _evolve(p, protocol=p.protocol or "TCP", target_port=target)


def _other_family(family: str) -> str:
    return "IPv6" if family == "IPv4" else "IPv4"


def _service(s: o.Service, ip_families: Sequence[str]) -> o.Service:
    spec = s.spec
    # SetDefaults_Service
    svc_type = spec.type or "ClusterIP"
    ports = _map_tuple(spec.ports, _service_port)
    external = spec.external_traffic_policy
    if svc_type in ("NodePort", "LoadBalancer") and not external:
        external = "Cluster"
    internal = spec.internal_traffic_policy
    if internal is None and svc_type in ("ClusterIP", "NodePort", "LoadBalancer"):
        internal = "Cluster"
    # normalizeClusterIPs (create): the plural follows the singular.
    cluster_ips = spec.cluster_ips
    if spec.cluster_ip and not cluster_ips:
        cluster_ips = (spec.cluster_ip,)
    policy = spec.ip_family_policy
    families = spec.ip_families
    if svc_type != "ExternalName":
        # initIPFamilyFields (alloc.go)
        headless_selectorless = spec.cluster_ip == "None" and not spec.selector
        if policy is None:
            policy = "RequireDualStack" if headless_selectorless else "SingleStack"
        inferred = list(families)
        for i, ip in enumerate(cluster_ips):
            if ip == "None":
                break
            fam = ip_family(ip)
            if fam is None:
                break  # invalid IP: validation reports it
            if i >= len(inferred):
                inferred.append(fam)
        if headless_selectorless:
            if not inferred:
                inferred.append(ip_families[0])
            if len(inferred) < 2 and policy != "SingleStack":
                inferred.append(_other_family(inferred[0]))
        else:
            if not inferred:
                inferred.append(ip_families[0])
            if (policy != "SingleStack" and len(inferred) == 1 and len(ip_families) == 2
                    and inferred[0] in ("IPv4", "IPv6")):
                inferred.append(_other_family(inferred[0]))
        families = tuple(inferred)
    new_spec = _evolve(
        spec,
        type=svc_type,
        session_affinity=spec.session_affinity or "None",
        ports=ports,
        external_traffic_policy=external,
        internal_traffic_policy=internal,
        cluster_ips=cluster_ips,
        ip_family_policy=policy,
        ip_families=families,
    )
    return _evolve(s, spec=new_spec)


def _endpoint_port(p: o.EndpointPort) -> o.EndpointPort:
    return _evolve(p, protocol=p.protocol or "TCP")


@_memo
def _subset_ports(ports: tuple[o.EndpointPort, ...]) -> tuple[o.EndpointPort, ...]:
    return _map_tuple(ports, _endpoint_port)


def _subset(ss: o.EndpointSubset) -> o.EndpointSubset:
    return _evolve(ss, ports=_subset_ports(ss.ports))


def _endpoints(e: o.Endpoints) -> o.Endpoints:
    return _evolve(e, subsets=_map_tuple(e.subsets, _subset))


def _namespace(n: o.Namespace) -> o.Namespace:
    # SetDefaults_Namespace: the kubernetes.io/metadata.name label (not for generateName).
    name = n.metadata.name
    if not name or n.metadata.labels.get("kubernetes.io/metadata.name") == name:
        return n
    labels = n.metadata.labels.set("kubernetes.io/metadata.name", name)
    return attrs.evolve(n, metadata=attrs.evolve(n.metadata, labels=labels))


def _node(n: o.Node) -> o.Node:
    # SetDefaults_NodeStatus: allocatable defaults to capacity.
    st = n.status
    if st.allocatable or not st.capacity:
        return n
    return attrs.evolve(n, status=attrs.evolve(st, allocatable=st.capacity))


# --- discovery/v1 -----------------------------------------------------------------------------


def _slice_port(p: o.EndpointSlicePort) -> o.EndpointSlicePort:
    return _evolve(p, name="" if p.name is None else p.name,
                   protocol="TCP" if p.protocol is None else p.protocol)


@_memo
def _slice_ports(ports: tuple[o.EndpointSlicePort, ...]) -> tuple[o.EndpointSlicePort, ...]:
    return _map_tuple(ports, _slice_port)


def _endpoint_slice(s: o.EndpointSlice) -> o.EndpointSlice:
    return _evolve(s, ports=_slice_ports(s.ports))


# --- apps/v1 ----------------------------------------------------------------------------------


def _deployment(d: o.Deployment) -> o.Deployment:
    return _evolve(d, spec=_deployment_spec(d.spec))


@_memo
def _deployment_spec(spec: o.DeploymentSpec) -> o.DeploymentSpec:
    strategy = spec.strategy
    stype = strategy.type or "RollingUpdate"
    rolling = strategy.rolling_update
    if stype == "RollingUpdate":
        rolling = rolling or o.RollingUpdateDeployment()
        rolling = _evolve(
            rolling,
            max_unavailable="25%" if rolling.max_unavailable is None else rolling.max_unavailable,
            max_surge="25%" if rolling.max_surge is None else rolling.max_surge,
        )
    return _evolve(
        spec,
        replicas=1 if spec.replicas is None else spec.replicas,
        strategy=_evolve(strategy, type=stype, rolling_update=rolling),
        revision_history_limit=(
            10 if spec.revision_history_limit is None else spec.revision_history_limit
        ),
        progress_deadline_seconds=(
            600 if spec.progress_deadline_seconds is None else spec.progress_deadline_seconds
        ),
        template=_template(spec.template),
    )


def _replica_set(r: o.ReplicaSet) -> o.ReplicaSet:
    return _evolve(r, spec=_replica_set_spec(r.spec))


@_memo
def _replica_set_spec(spec: o.ReplicaSetSpec) -> o.ReplicaSetSpec:
    return _evolve(
        spec,
        replicas=1 if spec.replicas is None else spec.replicas,
        template=_template(spec.template),
    )


def _stateful_set(s: o.StatefulSet) -> o.StatefulSet:
    return _evolve(s, spec=_stateful_set_spec(s.spec))


@_memo
def _stateful_set_spec(spec: o.StatefulSetSpec) -> o.StatefulSetSpec:
    # SetDefaults_StatefulSet (pkg/apis/apps/v1/defaults.go)
    strategy = spec.update_strategy
    stype = strategy.type or "RollingUpdate"
    rolling = strategy.rolling_update
    if stype == "RollingUpdate":
        rolling = rolling or o.RollingUpdateStatefulSetStrategy()
        rolling = _evolve(rolling, partition=0 if rolling.partition is None else rolling.partition)
    return _evolve(
        spec,
        replicas=1 if spec.replicas is None else spec.replicas,
        pod_management_policy=spec.pod_management_policy or "OrderedReady",
        update_strategy=_evolve(strategy, type=stype, rolling_update=rolling),
        revision_history_limit=10 if spec.revision_history_limit is None else spec.revision_history_limit,
        template=_template(spec.template),
    )


def _daemon_set(d: o.DaemonSet) -> o.DaemonSet:
    return _evolve(d, spec=_daemon_set_spec(d.spec))


@_memo
def _daemon_set_spec(spec: o.DaemonSetSpec) -> o.DaemonSetSpec:
    # SetDefaults_DaemonSet: RollingUpdate with maxUnavailable 1 and maxSurge 0
    strategy = spec.update_strategy
    stype = strategy.type or "RollingUpdate"
    rolling = strategy.rolling_update
    if stype == "RollingUpdate":
        rolling = rolling or o.RollingUpdateDaemonSet()
        rolling = _evolve(
            rolling,
            max_unavailable=1 if rolling.max_unavailable is None else rolling.max_unavailable,
            max_surge=0 if rolling.max_surge is None else rolling.max_surge,
        )
    return _evolve(
        spec,
        update_strategy=_evolve(strategy, type=stype, rolling_update=rolling),
        revision_history_limit=10 if spec.revision_history_limit is None else spec.revision_history_limit,
        template=_template(spec.template),
    )


_IPV4_ONLY = ("IPv4",)


def apply_defaults(obj: T, *, ip_families: Sequence[str] = _IPV4_ONLY) -> T:
    """``obj`` with the API server's defaults filled in; a new object (or ``obj`` itself when
    nothing changes). Idempotent. ``O(size of obj)``.

    ``ip_families`` are the cluster's Service IP families, primary first (two for a
    dual-stack cluster); they decide the families of a Service that names none.

    >>> from kubesim.objects import Service, ServiceSpec, ServicePort
    >>> svc = apply_defaults(Service(spec=ServiceSpec(ports=[ServicePort(port=80, protocol="")])))
    >>> svc.spec.type, svc.spec.ports[0].protocol, svc.spec.ports[0].target_port
    ('ClusterIP', 'TCP', 80)
    """
    if isinstance(obj, o.Service) or ip_families is not _IPV4_ONLY:
        fams = tuple(ip_families)
        if not 1 <= len(fams) <= 2 or any(f not in ("IPv4", "IPv6") for f in fams) or (
                len(fams) == 2 and fams[0] == fams[1]):
            raise InvalidOption(f"ip_families must be one or two distinct of IPv4/IPv6, not {fams!r}")
        if isinstance(obj, o.Service):
            return _service(obj, fams)  # type: ignore[return-value]
    fn = _DEFAULTERS.get(type(obj))
    if fn is None:
        raise TypeError(f"apply_defaults() needs an API object, not {type(obj).__name__}")
    return fn(obj)  # type: ignore[no-any-return]


_DEFAULTERS: dict[type, Callable[[Any], Any]] = {
    o.Pod: _pod,
    o.Endpoints: _endpoints,
    o.EndpointSlice: _endpoint_slice,
    o.Deployment: _deployment,
    o.ReplicaSet: _replica_set,
    o.StatefulSet: _stateful_set,
    o.DaemonSet: _daemon_set,
    o.Namespace: _namespace,
    o.Node: _node,
    _inert.InertObject: _inert.default,  # the registries' defaults of the inert kinds
}
