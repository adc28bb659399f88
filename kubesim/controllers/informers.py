"""Informer-side helpers shared by the endpoint controllers.

Which Services a pod event concerns (``staging/src/k8s.io/endpointslice/util/controller_utils.go``:
``GetPodServiceMemberships``, ``podEndpointsChanged``, ``determineNeededServiceUpdates``) and
the pods a Service selects. kubesim's informer caches are the API server's store itself, so
reads are always fresh.
"""

from __future__ import annotations

from typing import Any, Iterable

from kubesim.objects import Pod, Service

__all__ = [
    "selector_matches",
    "services_for_pod",
    "pod_endpoints_changed",
    "services_to_update",
    "pods_for_service",
    "service_key",
    "split_key",
]


def service_key(obj: Any) -> str:
    """``namespace/name``."""
    return f"{obj.metadata.namespace}/{obj.metadata.name}"


def split_key(key: str) -> tuple[str, str]:
    """``namespace/name`` -> ``(namespace, name)``."""
    ns, _, name = key.partition("/")
    return ns, name


def selector_matches(selector: Any, labels: Any) -> bool:
    """A Service selector (``None`` selects nothing; ``{}`` everything) against pod labels."""
    if selector is None:
        return False
    for k, v in selector.items():
        if labels.get(k) != v:
            return False
    return True


def services_for_pod(api: Any, pod: Pod) -> set[str]:
    """Keys of the Services in the pod's namespace whose non-nil selector matches the pod.
    ``O(services in the namespace)``."""
    out = set()
    labels = pod.metadata.labels
    for svc in api.list_namespace("Service", pod.metadata.namespace).values():
        if selector_matches(svc.spec.selector, labels):
            out.add(service_key(svc))
    return out


def pod_endpoints_changed(old: Pod, new: Pod) -> tuple[bool, bool]:
    """``(pod_changed, labels_changed)`` for a pod update (``podEndpointsChanged``)."""
    labels_changed = (
        old.metadata.labels != new.metadata.labels
        or old.spec.hostname != new.spec.hostname
        or old.spec.subdomain != new.spec.subdomain
    )
    if (old.metadata.deletion_timestamp is None) != (new.metadata.deletion_timestamp is None):
        return True, labels_changed
    if old.metadata.deletion_timestamp != new.metadata.deletion_timestamp:
        return True, labels_changed
    if old.status.ready != new.status.ready:
        return True, labels_changed
    if old.status.pod_ips != new.status.pod_ips:
        return True, labels_changed
    return False, labels_changed


def services_to_update(api: Any, old: Pod, new: Pod) -> set[str]:
    """The Service keys a pod update must enqueue (``determineNeededServiceUpdates``)."""
    if old.metadata.resource_version == new.metadata.resource_version:
        return set()
    pod_changed, labels_changed = pod_endpoints_changed(old, new)
    if not pod_changed and not labels_changed:
        return set()
    new_services = services_for_pod(api, new)
    if not labels_changed:
        return new_services
    old_services = services_for_pod(api, old)
    if pod_changed:
        return old_services | new_services
    return old_services ^ new_services


def pods_for_service(api: Any, service: Service) -> list[Pod]:
    """The pods in the Service's namespace its selector matches, in name order (the lister's
    order is irrelevant to every consumer). ``O(pods in the namespace)``."""
    sel = service.spec.selector
    if sel is None:
        return []
    pods = api.list_namespace("Pod", service.metadata.namespace)
    return [pods[n] for n in sorted(pods) if selector_matches(sel, pods[n].metadata.labels)]


def iter_keys(objs: Iterable[Any]) -> list[str]:
    """Keys of ``objs`` in order."""
    return [service_key(o) for o in objs]
