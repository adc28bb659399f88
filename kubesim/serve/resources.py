"""The served resources: one entry per REST resource, read by discovery, OpenAPI and routing.

Every modelled kind of :data:`kubesim.kinds.KIND_INFO` is served with the verbs of its upstream
registry, its ``status`` subresource where upstream has one, ``scale`` for Deployments,
ReplicaSets and StatefulSets, ``eviction`` (``policy/v1``) for Pods. The kinds kubesim stores without a model (``inert``: ConfigMaps, Secrets, Jobs, RBAC,
... when :mod:`kubesim.kinds` lists them) are served too, without subresources, in JSON only,
with a schema that keeps unknown fields. ``events`` (core ``v1``, :mod:`kubesim.events`) is one of those: the Events the
components write, listed by ``kubectl get events`` and by the ``Events:`` section of ``kubectl describe``.

``O(1)`` lookups.
"""

from __future__ import annotations

from typing import NamedTuple

from kubesim.kinds import KIND_INFO

__all__ = ["Resource", "RESOURCES", "by_path", "for_kind", "group_versions", "SERVER_VERSION"]

def _version() -> dict[str, str]:
    from kubesim import cluster

    git = str(getattr(cluster, "KUBELET_VERSION", "v1.35.0"))
    major, minor = git.lstrip("v").split(".")[:2]
    return {
        "major": major,
        "minor": minor,
        "emulationMajor": major,
        "emulationMinor": minor,
        "gitVersion": git,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-01-01T00:00:00Z",
        "goVersion": "go1.24.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


#: What ``/version`` reports (``k8s.io/apimachinery/pkg/version.Info``): the Kubernetes version
#: kubesim's nodes report (``kubesim.cluster.KUBELET_VERSION``).
SERVER_VERSION = _version()

_RW_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


class Resource(NamedTuple):
    """One REST resource: ``kind`` is ``""`` for a read-only virtual resource (events)."""

    kind: str
    group: str
    version: str
    plural: str
    singular: str
    short_names: tuple[str, ...]
    namespaced: bool
    verbs: tuple[str, ...]
    subresources: tuple[str, ...]
    categories: tuple[str, ...]
    list_kind: str
    response_kind: str
    #: stored without an object model (:mod:`kubesim.inert`): no schema, JSON only
    inert: bool = False

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def stored(self) -> bool:
        """``True`` for kinds kept in the cluster's store (``False``: the empty events)."""
        return bool(self.kind)


_STATUS = {"Pod", "Service", "Node", "Namespace", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"}
_SCALE = {"Deployment", "ReplicaSet", "StatefulSet"}
_ALL = {"Pod", "Service", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob",
        "HorizontalPodAutoscaler"}


def _modelled() -> set[str]:
    # The kinds with an object model (a schema in kubesim.manifests): the ones served. Kinds
    # kubesim only stores without a model ("inert") have no schema, Table or protobuf here.
    from kubesim import manifests

    return {k for cls in manifests._SCHEMA if isinstance(k := getattr(cls, "kind", None), str)}


def _build() -> tuple[Resource, ...]:
    out = []
    modelled = _modelled()
    for kind, info in KIND_INFO.items():
        inert = bool(getattr(info, "inert", False))
        if kind not in modelled and not inert:
            continue
        subs = () if inert else tuple(s for s, on in (("status", kind in _STATUS), ("scale", kind in _SCALE),
                                                       ("eviction", kind == "Pod")) if on)
        out.append(Resource(
            kind, info.group, info.version, info.plural, info.singular, info.short_names,
            info.namespaced, _RW_VERBS, subs, ("all",) if kind in _ALL else (), kind + "List", kind, inert,
        ))
    out.sort(key=lambda r: (r.group != "", r.group != "apps", r.group))  # core, apps, then the others
    return tuple(out)


#: Every served resource, core group first.
RESOURCES: tuple[Resource, ...] = _build()

_BY_PATH = {(r.group, r.version, r.plural): r for r in RESOURCES}
_BY_KIND = {r.kind: r for r in RESOURCES if r.kind}


def by_path(group: str, version: str, plural: str) -> Resource | None:
    """The resource at ``/api/v1/<plural>`` (group ``""``) or ``/apis/<group>/<version>/<plural>``."""
    return _BY_PATH.get((group, version, plural))


def for_kind(kind: str) -> Resource:
    """The resource of a stored kind (canonical name)."""
    return _BY_KIND[kind]


def group_versions() -> dict[str, list[Resource]]:
    """``group/version`` (``v1`` for core) -> its resources, core first, in discovery order."""
    out: dict[str, list[Resource]] = {}
    for r in RESOURCES:
        out.setdefault(r.api_version, []).append(r)
    return out
