"""Discovery documents: ``/version``, ``/api``, ``/apis``, the group-version resource lists,
and the aggregated discovery (``apidiscovery.k8s.io/v2``) that kubectl asks for first.

Mirrors ``staging/src/k8s.io/apiserver/pkg/endpoints/discovery`` (``APIVersions``,
``APIGroupList``, ``APIResourceList``) and ``.../discovery/aggregated`` (``APIGroupDiscoveryList``:
one document for ``/api`` and one for ``/apis``, so a client needs one request per root instead
of one per group-version). Every document is built once per server: ``O(resources)``.
"""

from __future__ import annotations

from typing import Any

from kubesim.serve.resources import RESOURCES, Resource, group_versions

__all__ = ["api_versions", "api_group_list", "resource_list", "aggregated", "AGGREGATED_V2", "AGGREGATED_V2BETA1"]

AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
AGGREGATED_V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"


def api_versions(server_address: str) -> dict[str, Any]:
    """``GET /api``: the core group's versions."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def _groups() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in RESOURCES:
        if r.group and r.version not in out.setdefault(r.group, []):
            out[r.group].append(r.version)
    return out


def api_group(group: str) -> dict[str, Any] | None:
    """``GET /apis/<group>``; ``None`` for an unknown group."""
    versions = _groups().get(group)
    if versions is None:
        return None
    gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": gvs, "preferredVersion": gvs[0]}


def api_group_list() -> dict[str, Any]:
    """``GET /apis``: every named group."""
    groups = [api_group(g) for g in _groups()]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def _api_resource(r: Resource) -> list[dict[str, Any]]:
    main: dict[str, Any] = {
        "name": r.plural,
        "singularName": r.singular,
        "namespaced": r.namespaced,
        "kind": r.response_kind,
        "verbs": list(r.verbs),
    }
    if r.short_names:
        main["shortNames"] = list(r.short_names)
    if r.categories:
        main["categories"] = list(r.categories)
    out = [main]
    for sub in r.subresources:
        if sub == "status":
            out.append({"name": f"{r.plural}/status", "singularName": "", "namespaced": r.namespaced,
                        "kind": r.response_kind, "verbs": ["get", "patch", "update"]})
        elif sub == "scale":
            out.append({"name": f"{r.plural}/scale", "singularName": "", "namespaced": r.namespaced,
                        "group": "autoscaling", "version": "v1", "kind": "Scale",
                        "verbs": ["get", "patch", "update"]})
        else:  # eviction
            out.append({"name": f"{r.plural}/eviction", "singularName": "", "namespaced": r.namespaced,
                        "group": "policy", "version": "v1", "kind": "Eviction", "verbs": ["create"]})
    return out


def resource_list(group_version: str) -> dict[str, Any] | None:
    """``GET /api/v1`` or ``/apis/<group>/<version>``; ``None`` for an unknown group-version."""
    resources = group_versions().get(group_version)
    if resources is None:
        return None
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": [d for r in resources for d in _api_resource(r)],
    }


def _discovery_resource(r: Resource) -> dict[str, Any]:
    d: dict[str, Any] = {
        "resource": r.plural,
        "responseKind": {"group": r.group, "version": r.version, "kind": r.response_kind},
        "scope": "Namespaced" if r.namespaced else "Cluster",
        "singularResource": r.singular,
        "verbs": list(r.verbs),
    }
    if r.short_names:
        d["shortNames"] = list(r.short_names)
    if r.categories:
        d["categories"] = list(r.categories)
    subs = []
    for sub in r.subresources:
        verbs = ["get", "patch", "update"]
        if sub == "status":
            kind = {"group": r.group, "version": r.version, "kind": r.response_kind}
        elif sub == "scale":
            kind = {"group": "autoscaling", "version": "v1", "kind": "Scale"}
        else:
            kind, verbs = {"group": "policy", "version": "v1", "kind": "Eviction"}, ["create"]
        subs.append({"subresource": sub, "responseKind": kind, "verbs": verbs})
    if subs:
        d["subresources"] = subs
    return d


def aggregated(root: str, version: str = "v2") -> dict[str, Any]:
    """The ``APIGroupDiscoveryList`` of ``/api`` (``root="api"``: the core group, named ``""``)
    or ``/apis`` (every named group)."""
    by_group: dict[str, dict[str, list[Resource]]] = {}
    for r in RESOURCES:
        if (root == "api") == (r.group == ""):
            by_group.setdefault(r.group, {}).setdefault(r.version, []).append(r)
    items = []
    for group, versions in by_group.items():
        items.append({
            "metadata": {"name": group, "creationTimestamp": None},
            "versions": [
                {"version": v, "resources": [_discovery_resource(r) for r in rs], "freshness": "Current"}
                for v, rs in versions.items()
            ],
        })
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": f"apidiscovery.k8s.io/{version}",
        "metadata": {},
        "items": items,
    }
