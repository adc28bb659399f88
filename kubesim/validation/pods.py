"""core/v1 Pod, Service, Node and Namespace validation (``pkg/apis/core/validation``):
containers and probes, pod specs (memoised by identity, since a pod's spec is carried over
across its status updates), pod IPs, Service ports, types, cluster IPs and traffic policies,
Node taints and pod CIDRs, and each kind's update rules.

Imports: :mod:`kubesim.labels`, :mod:`kubesim.errors`, :mod:`kubesim.netutil`,
:mod:`kubesim.objects`, :mod:`kubesim.validation.base`, :mod:`kubesim.validation.meta`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from kubesim import labels as L
from kubesim.errors import FieldError
from kubesim.netutil import parse_ip
from kubesim.objects import Container, Namespace, Node, Pod, PodSpec, Probe, Service
from kubesim.validation.base import (
    _IMMUTABLE,
    _LEGACY_IP_MSG,
    _dns_label,
    _Errs,
    _Json,
    _port_num_or_name,
    _protocol,
    _ValidByIdentity,
)
from kubesim.validation.meta import _label_errors, _meta_errors
from kubesim.validation.scheduling import scheduling_errors

# --------------------------------------------------------------------------------------------
# Pod


def _probe_errors(e: _Errs, probe: Probe, path: str) -> None:
    handlers = 0
    if probe.exec is not None:
        handlers += 1
        if not probe.exec.command:
            e.required(path + ".exec.command")
    if probe.http_get is not None:
        if handlers:
            e.forbidden(path + ".httpGet", "may not specify more than 1 handler type")
        else:
            handlers += 1
            h = probe.http_get
            _port_num_or_name(e, h.port, path + ".httpGet.port")
            if h.scheme and h.scheme not in ("HTTP", "HTTPS"):
                e.not_supported(path + ".httpGet.scheme", h.scheme, ("HTTP", "HTTPS"))
    if probe.tcp_socket is not None:
        if handlers:
            e.forbidden(path + ".tcpSocket", "may not specify more than 1 handler type")
        else:
            handlers += 1
            _port_num_or_name(e, probe.tcp_socket.port, path + ".tcpSocket.port")
    if handlers == 0:
        e.required(path, "must specify a handler type")
    e.nonnegative(path + ".initialDelaySeconds", probe.initial_delay_seconds)
    e.nonnegative(path + ".timeoutSeconds", probe.timeout_seconds)
    e.nonnegative(path + ".periodSeconds", probe.period_seconds)
    e.nonnegative(path + ".successThreshold", probe.success_threshold)
    e.nonnegative(path + ".failureThreshold", probe.failure_threshold)


def _container_errors(e: _Errs, c: Container, path: str, names: set[str], regular: bool) -> None:
    if not c.name:
        e.required(path + ".name")
    else:
        _dns_label(e, c.name, path + ".name")
        if c.name in names:
            e.duplicate(path + ".name", c.name)
        else:
            names.add(c.name)
    if not c.image:
        e.required(path + ".image")
    port_names: set[str] = set()
    for i, p in enumerate(c.ports):
        pp = f"{path}.ports[{i}]"
        if p.name:
            msgs = L.is_valid_port_name(p.name)
            if msgs:
                e.invalid_msgs(pp + ".name", p.name, msgs)
            elif p.name in port_names:
                e.duplicate(pp + ".name", p.name)
            else:
                port_names.add(p.name)
        if p.container_port == 0:
            e.required(pp + ".containerPort")
        else:
            e.invalid_msgs(pp + ".containerPort", p.container_port, L.is_valid_port_num(p.container_port))
        if p.host_port:
            e.invalid_msgs(pp + ".hostPort", p.host_port, L.is_valid_port_num(p.host_port))
        _protocol(e, p.protocol, pp + ".protocol")
    if c.readiness_probe is not None:
        _probe_errors(e, c.readiness_probe, path + ".readinessProbe")
    if c.liveness_probe is not None:
        _probe_errors(e, c.liveness_probe, path + ".livenessProbe")
        if regular and c.liveness_probe.success_threshold != 1:
            e.invalid(path + ".livenessProbe.successThreshold", c.liveness_probe.success_threshold, "must be 1")
    if c.startup_probe is not None:
        _probe_errors(e, c.startup_probe, path + ".startupProbe")
        if regular and c.startup_probe.success_threshold != 1:
            e.invalid(path + ".startupProbe.successThreshold", c.startup_probe.success_threshold, "must be 1")
    if c.lifecycle is not None:
        # validateLifecycle: each hook has exactly one handler; sleep seconds are positive.
        for hook, h in (("postStart", c.lifecycle.post_start), ("preStop", c.lifecycle.pre_stop)):
            if h is None:
                continue
            hp = f"{path}.lifecycle.{hook}"
            given = [n for n, v in (("exec", h.exec), ("httpGet", h.http_get), ("tcpSocket", h.tcp_socket),
                                    ("sleep", h.sleep)) if v is not None]
            if not given:
                e.required(hp, "must specify a handler type")
            elif len(given) > 1:
                e.forbidden(f"{hp}.{given[1]}", "may not specify more than 1 handler type")
            if h.exec is not None and not h.exec.command:
                e.required(hp + ".exec.command")
            if h.http_get is not None:
                _port_num_or_name(e, h.http_get.port, hp + ".httpGet.port")
            if h.tcp_socket is not None:
                _port_num_or_name(e, h.tcp_socket.port, hp + ".tcpSocket.port")
            if h.sleep is not None and h.sleep.seconds <= 0:
                e.invalid(hp + ".sleep.seconds", h.sleep.seconds, "must be greater than 0")
    if c.restart_policy is not None:
        if regular:
            e.forbidden(path + ".restartPolicy", "may not be set for non-init containers")
        elif c.restart_policy != "Always":
            e.not_supported(path + ".restartPolicy", c.restart_policy, ("Always",))


_VALID_POD_SPECS = _ValidByIdentity()


def _pod_spec_errors(e: _Errs, spec: PodSpec, path: str) -> None:
    # Whether a spec yields errors does not depend on ``path`` (it only prefixes them).
    key = (spec,)
    if key in _VALID_POD_SPECS:
        return
    n = len(e.items)
    _pod_spec_errors_uncached(e, spec, path)
    if len(e.items) == n:
        _VALID_POD_SPECS.add(key)


def _pod_spec_errors_uncached(e: _Errs, spec: PodSpec, path: str) -> None:
    names: set[str] = set()
    if not spec.containers:
        e.required(path + ".containers")
    for i, c in enumerate(spec.containers):
        _container_errors(e, c, f"{path}.containers[{i}]", names, True)
    for i, c in enumerate(spec.init_containers):
        _container_errors(e, c, f"{path}.initContainers[{i}]", names, False)
    # AccumulateUniqueHostPorts
    seen: set[str] = set()
    for group, cs in (("containers", spec.containers), ("initContainers", spec.init_containers)):
        for ci, c in enumerate(cs):
            for pi, p in enumerate(c.ports):
                if not p.host_port:
                    continue
                key = f"{p.host_ip}/{p.protocol}/{p.host_port}"
                if key in seen:
                    e.duplicate(f"{path}.{group}[{ci}].ports[{pi}].hostPort", key)
                seen.add(key)
    if spec.restart_policy not in ("Always", "OnFailure", "Never"):
        if not spec.restart_policy:
            e.required(path + ".restartPolicy")
        else:
            e.not_supported(path + ".restartPolicy", spec.restart_policy, ("Always", "OnFailure", "Never"))
    if spec.node_name:
        e.invalid_msgs(path + ".nodeName", spec.node_name, L.is_dns1123_subdomain(spec.node_name))
    if spec.hostname:
        _dns_label(e, spec.hostname, path + ".hostname")
    if spec.subdomain:
        _dns_label(e, spec.subdomain, path + ".subdomain")
    if spec.termination_grace_period_seconds is not None:
        e.nonnegative(path + ".terminationGracePeriodSeconds", spec.termination_grace_period_seconds)
    if spec.host_network:  # validateHostNetwork
        for group, cs in (("containers", spec.containers), ("initContainers", spec.init_containers)):
            for ci, c in enumerate(cs):
                for pi, p in enumerate(c.ports):
                    if p.host_port and p.host_port != p.container_port:
                        e.invalid(f"{path}.{group}[{ci}].ports[{pi}].hostPort", p.host_port,
                                  "must match `containerPort` when `hostNetwork` is true")
    for i, gate in enumerate(spec.readiness_gates):  # validateReadinessGates
        e.invalid_msgs(f"{path}.readinessGates[{i}].conditionType", gate.condition_type,
                       L.is_qualified_name(gate.condition_type))
    _label_errors(e, spec.node_selector, path + ".nodeSelector")
    scheduling_errors(e, spec, path)  # tolerations, node affinity (kubesim/validation/scheduling.py)


def _validate_pod(e: _Errs, pod: Pod, old: Pod | None) -> None:
    _meta_errors(e, pod.metadata, old.metadata if old else None, True, L.is_dns1123_subdomain)
    _pod_spec_errors(e, pod.spec, "spec")
    # validatePodIPs (v1 status.podIP converts to podIPs[0])
    ips = [p.ip for p in pod.status.pod_ips]
    if not ips and pod.status.pod_ip:
        ips = [pod.status.pod_ip]
    path = "status.podIPs"
    bad = False
    for i, ip in enumerate(ips):
        if parse_ip(ip) is None:
            bad = True
            e.invalid(f"{path}[{i}]", ip, _LEGACY_IP_MSG)
    if len(ips) > 1:
        fams = {parse_ip(ip).version for ip in ips if parse_ip(ip) is not None}  # type: ignore[union-attr]
        if bad:
            e.internal(path, "failed to check for dual stack with error:invalid IP")
        if len(ips) > 2 or len(fams) != 2:
            e.invalid(path, _Json([{"IP": ip} for ip in ips]), "may specify no more than one IP for each IP family")
        seen: set[str] = set()
        for i, ip in enumerate(ips):
            if ip in seen:
                e.duplicate(f"{path}[{i}]", _Json({"IP": ip}))
            seen.add(ip)
    if pod.status.host_ip and parse_ip(pod.status.host_ip) is None:
        e.invalid("status.hostIPs[0]", pod.status.host_ip, _LEGACY_IP_MSG)
    if old is not None and pod.status.qos_class != old.status.qos_class:
        # ValidatePodStatusUpdate: Pod QoS is immutable (an update leaving the class empty has it
        # backfilled from the stored pod before validation, podStatusStrategy.PrepareForUpdate)
        e.invalid("status.qosClass", pod.status.qos_class, _IMMUTABLE)


# --------------------------------------------------------------------------------------------
# Service


def _svc_port_json(protocol: str, port: int) -> _Json:
    return _Json({"Name": "", "Protocol": protocol, "AppProtocol": None, "Port": port, "TargetPort": 0, "NodePort": 0})


def _validate_service(e: _Errs, svc: Service, old: Service | None) -> None:
    _meta_errors(e, svc.metadata, old.metadata if old else None, True, L.is_dns1035_label)
    if old is not None:
        _cluster_ip_update_errors(e, svc, old)
    spec = svc.spec
    stype = spec.type or "ClusterIP"
    cluster_ips = list(spec.cluster_ips)
    if not cluster_ips and spec.cluster_ip:
        cluster_ips = [spec.cluster_ip]
    headless = len(cluster_ips) == 1 and cluster_ips[0] == "None"
    if not spec.ports and not headless and stype != "ExternalName":
        e.required("spec.ports")
    if stype == "LoadBalancer":
        for i, p in enumerate(spec.ports):
            if p.port == 10250:
                e.invalid(f"spec.ports[{i}]", p.port, "may not expose port 10250 externally since it is used by kubelet")
        if headless:
            e.invalid("spec.clusterIPs[0]", "None", "may not be set to 'None' for LoadBalancer services")
    elif stype == "NodePort":
        if headless:
            e.invalid("spec.clusterIPs[0]", "None", "may not be set to 'None' for NodePort services")
    elif stype == "ExternalName":
        if cluster_ips:
            e.forbidden("spec.clusterIPs", "may not be set for ExternalName services")
        if spec.ip_families:
            e.forbidden("spec.ipFamilies", "may not be set for ExternalName services")
        if spec.ip_family_policy is not None:
            e.forbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services")
        cname = spec.external_name[:-1] if spec.external_name.endswith(".") else spec.external_name
        if cname:
            e.invalid_msgs("spec.externalName", cname, L.is_dns1123_subdomain(cname))
        else:
            e.required("spec.externalName")
    names: set[str] = set()
    multi = len(spec.ports) > 1
    for i, p in enumerate(spec.ports):
        pp = f"spec.ports[{i}]"
        if multi and not p.name:
            e.required(pp + ".name")
        elif p.name:
            _dns_label(e, p.name, pp + ".name")
            if p.name in names:
                e.duplicate(pp + ".name", p.name)
            else:
                names.add(p.name)
        e.invalid_msgs(pp + ".port", p.port, L.is_valid_port_num(p.port))
        _protocol(e, p.protocol, pp + ".protocol")
        if p.target_port != 0 and p.target_port != "":
            _port_num_or_name(e, p.target_port, pp + ".targetPort")
        if p.app_protocol is not None:
            e.invalid_msgs(pp + ".appProtocol", p.app_protocol, L.is_qualified_name(p.app_protocol))
    if spec.selector is not None:
        _label_errors(e, spec.selector, "spec.selector")
    if spec.session_affinity and spec.session_affinity not in ("ClientIP", "None"):
        e.not_supported("spec.sessionAffinity", spec.session_affinity, ("ClientIP", "None"))
    if stype != "ExternalName":
        _cluster_ip_errors(e, spec.cluster_ip, cluster_ips, spec.ip_families, spec.ip_family_policy, headless)
    if stype not in ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort"):
        e.not_supported("spec.type", spec.type, ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort"))
    if stype == "ClusterIP":
        for i, p in enumerate(spec.ports):
            if p.node_port != 0:
                e.forbidden(f"spec.ports[{i}].nodePort", "may not be used when `type` is 'ClusterIP'")
    seen_np: set[tuple[str, int]] = set()
    for i, p in enumerate(spec.ports):
        if p.node_port == 0:
            continue
        if (p.protocol, p.node_port) in seen_np:
            e.duplicate(f"spec.ports[{i}].nodePort", p.node_port)
        seen_np.add((p.protocol, p.node_port))
    seen_p: set[tuple[str, int]] = set()
    for i, p in enumerate(spec.ports):
        if (p.protocol, p.port) in seen_p:
            e.duplicate(f"spec.ports[{i}]", _svc_port_json(p.protocol, p.port))
        seen_p.add((p.protocol, p.port))
    # external traffic policy
    if stype not in ("LoadBalancer", "NodePort"):
        if spec.external_traffic_policy:
            e.invalid(
                "spec.externalTrafficPolicy",
                spec.external_traffic_policy,
                "may only be set for externally-accessible services",
            )
    elif spec.external_traffic_policy and spec.external_traffic_policy not in ("Cluster", "Local"):
        e.not_supported("spec.externalTrafficPolicy", spec.external_traffic_policy, ("Cluster", "Local"))
    if spec.internal_traffic_policy is not None and spec.internal_traffic_policy not in ("Cluster", "Local"):
        e.not_supported("spec.internalTrafficPolicy", spec.internal_traffic_policy, ("Cluster", "Local"))
    td = spec.traffic_distribution
    if td is not None and td not in ("PreferClose", "PreferSameZone", "PreferSameNode"):
        e.not_supported("spec.trafficDistribution", td, ("PreferClose", "PreferSameZone", "PreferSameNode"))


def _effective_cluster_ips(svc: Service) -> list[str]:
    return list(svc.spec.cluster_ips) or ([svc.spec.cluster_ip] if svc.spec.cluster_ip else [])


def _cluster_ip_update_errors(e: _Errs, svc: Service, old: Service) -> None:
    # pkg/apis/core/validation/validation.go, validateUpgradeDowngradeClusterIPs (issue 14):
    # cluster IPs may be added (dual-stack upgrade) or the secondary released, but never
    # changed, except to, from or on ExternalName.
    if svc.spec.type == "ExternalName" or old.spec.type == "ExternalName":
        return
    if svc.spec.cluster_ip == "None" and old.spec.cluster_ip == "None":
        return
    new_ips, old_ips = _effective_cluster_ips(svc), _effective_cluster_ips(old)
    path = "spec.clusterIPs"
    if len(old_ips) == len(new_ips):
        for i, ip in enumerate(old_ips):
            if ip != new_ips[i]:
                e.invalid(f"{path}[{i}]", _Json(new_ips), "may not change once set")
    elif len(old_ips) > len(new_ips):
        if not new_ips:
            e.invalid(f"{path}[0]", _Json(new_ips), "primary clusterIP can not be unset")
        if old_ips and new_ips and new_ips[0] != old_ips[0]:
            e.invalid(f"{path}[0]", _Json(new_ips), "may not change once set")
        if len(new_ips) == 1 and svc.spec.ip_family_policy != "SingleStack":
            e.invalid(f"{path}[0]", _Json(new_ips),
                      "`ipFamilyPolicy` must be set to 'SingleStack' when releasing the secondary clusterIP")
    elif old_ips and new_ips[0] != old_ips[0]:
        e.invalid(f"{path}[0]", _Json(new_ips), "may not change once set")


def _cluster_ip_errors(
    e: _Errs,
    cluster_ip: str,
    cluster_ips: list[str],
    families: Sequence[str],
    policy: str | None,
    headless: bool,
) -> None:
    # ValidateServiceClusterIPsRelatedFields
    path = "spec.clusterIPs"
    if cluster_ip:
        if cluster_ips[0] != cluster_ip:
            e.invalid(path, _Json(cluster_ips), "first value must match `clusterIP`")
    elif cluster_ips:
        e.invalid(path, _Json(cluster_ips), "must be empty when `clusterIP` is not specified")
    seen: set[str] = set()
    for i, fam in enumerate(families):
        if fam not in ("IPv4", "IPv6"):
            e.not_supported(f"spec.ipFamilies[{i}]", fam, ("IPv4", "IPv6"))
        if fam in seen:
            e.duplicate(f"spec.ipFamilies[{i}]", fam)
        seen.add(fam)
    policies = ("PreferDualStack", "RequireDualStack", "SingleStack")
    if policy is not None and policy not in policies:
        e.not_supported("spec.ipFamilyPolicy", policy, policies)
    bad = False
    for i, ip in enumerate(cluster_ips):
        if i == 0 and ip == "None":
            if len(cluster_ips) > 1:
                bad = True
                e.invalid(path, _Json(cluster_ips), "'None' must be the first and only value")
            continue
        if parse_ip(ip) is None:
            bad = True
            e.invalid(f"{path}[{i}]", ip, _LEGACY_IP_MSG)
    if len(cluster_ips) > 2:
        e.invalid(path, _Json(cluster_ips), "may only hold up to 2 values")
    if bad:
        return
    if len(cluster_ips) > 1:
        fams = {parse_ip(ip).version for ip in cluster_ips}  # type: ignore[union-attr]
        if len(fams) != 2 or len(cluster_ips) != 2:
            e.invalid(path, _Json(cluster_ips), "may specify no more than one IP for each IP family")
    if not headless and cluster_ips and families:
        for i, ip in enumerate(cluster_ips):
            if i >= len(families):
                break
            v6 = parse_ip(ip).version == 6  # type: ignore[union-attr]
            if families[i] == "IPv4" and v6:
                e.invalid(f"{path}[{i}]", ip, f"expected an IPv4 value as indicated by `ipFamilies[{i}]`")
            if families[i] == "IPv6" and not v6:
                e.invalid(f"{path}[{i}]", ip, f"expected an IPv6 value as indicated by `ipFamilies[{i}]`")


# --------------------------------------------------------------------------------------------
# Node and Namespace


def _parse_cidr(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    # netutils.ParseCIDRSloppy: host bits may be set, IPv4 octets may have leading zeros.
    if "/" not in text:
        return None
    addr_s, _, bits = text.partition("/")
    addr = parse_ip(addr_s) if ":" not in addr_s else None
    if ":" in addr_s:
        try:
            addr = ipaddress.IPv6Address(addr_s)
        except ValueError:
            return None
    if addr is None or not bits.isdigit() or not bits.isascii() or len(bits) > 3:
        return None
    try:
        return ipaddress.ip_network(f"{addr}/{int(bits)}", strict=False)
    except ValueError:
        return None


def _validate_node(e: _Errs, node: Node, old: Node | None) -> None:
    _meta_errors(e, node.metadata, old.metadata if old else None, False, L.is_dns1123_subdomain)
    # validateNodeTaints (upstream reports them under metadata.taints)
    unique: set[tuple[str, str]] = set()
    for i, t in enumerate(node.spec.taints):
        p = f"metadata.taints[{i}]"
        e.invalid_msgs(p + ".key", t.key, L.is_qualified_name(t.key))
        verrs = L.is_valid_label_value(t.value)
        if verrs:
            e.invalid(p + ".value", t.value, ";".join(verrs))
        if not t.effect:
            e.required(p + ".effect")
        elif t.effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
            e.not_supported(p + ".effect", t.effect, ("NoSchedule", "PreferNoSchedule", "NoExecute"))
        if (t.effect, t.key) in unique:
            err = FieldError(
                p,
                "Duplicate value",
                _Json({"Key": t.key, "Value": t.value, "Effect": t.effect, "TimeAdded": None}),
                "taints must be unique by key and effect pair",
            )
            e.items.append(err)
            continue
        unique.add((t.effect, t.key))
    cidrs = list(node.spec.pod_cidrs) or ([node.spec.pod_cidr] if node.spec.pod_cidr else [])
    if cidrs:
        path = "spec.podCIDRs"
        nets = [_parse_cidr(c) for c in cidrs]
        for i, n in enumerate(nets):
            if n is None:
                e.invalid(f"{path}[{i}]", _Json(cidrs), "must be valid CIDR")
        if len(cidrs) > 1:
            if any(n is None for n in nets):
                e.internal(path, "invalid PodCIDRs. failed to check with dual stack with error:invalid CIDR")
            fams = {n.version for n in nets if n is not None}
            if len(fams) != 2 or len(cidrs) > 2:
                e.invalid(path, _Json(cidrs), "may specify no more than one CIDR for each IP family")
            seen: set[str] = set()
            for i, c in enumerate(cidrs):
                if c in seen:
                    e.duplicate(f"{path}[{i}]", c)
                seen.add(c)
    if old is not None:
        old_cidrs = list(old.spec.pod_cidrs) or ([old.spec.pod_cidr] if old.spec.pod_cidr else [])
        if old_cidrs and old_cidrs != cidrs:
            e.forbidden("spec.podCIDRs", 'node updates may not change podCIDR except from "" to valid')


def _validate_namespace(e: _Errs, ns: Namespace, old: Namespace | None) -> None:
    _meta_errors(e, ns.metadata, old.metadata if old else None, False, L.is_dns1123_label)
