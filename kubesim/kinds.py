"""Kind names, resource names and API versions, resolved the way kubectl resolves them.

kubectl accepts a resource type in several spellings: the kind in any case (``Pod``, ``pod``),
the plural and singular resource names (``pods``, ``pod``), a short name (``po``) and a
``resource.group`` or ``resource.version.group`` form (``deployments.apps``,
``endpointslices.v1.discovery.k8s.io``).  :func:`resolve_kind` maps all of them to the canonical
kind name used everywhere in kubesim.  Everything here is ``O(1)``.

>>> resolve_kind("ep")
'Endpoints'
>>> resolve_kind("endpointslices.discovery.k8s.io")
'EndpointSlice'
>>> resource_name("EndpointSlice")
'endpointslices'
>>> KIND_INFO["EndpointSlice"].name_prefix
'endpointslice.discovery.k8s.io'
>>> API_VERSIONS["Deployment"]
'apps/v1'
>>> resolve_kind("cm"), KIND_INFO["ConfigMap"].inert
('ConfigMap', True)
>>> resolve_kind("ev"), KIND_INFO["Event"].api_version, KIND_INFO["Event"].namespaced
('Event', 'v1', True)
"""

from __future__ import annotations

from typing import NamedTuple

from kubesim.errors import ManifestError

__all__ = [
    "API_VERSIONS",
    "KindInfo",
    "KIND_INFO",
    "resolve_kind",
    "resource_name",
    "kind_for_api_version",
    "INERT",
    "INERT_KINDS",
]


class KindInfo(NamedTuple):
    """What the API server's discovery document says about one kind."""

    kind: str
    group: str  #: "" for the core group
    version: str
    plural: str  #: the resource name, e.g. ``endpointslices``
    singular: str
    short_names: tuple[str, ...]
    namespaced: bool
    #: stored without a model (:mod:`kubesim.inert`): no controller acts on it
    inert: bool = False

    @property
    def api_version(self) -> str:
        """``v1`` for the core group, ``group/version`` otherwise."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def name_prefix(self) -> str:
        """kubectl's ``-o name`` prefix: the lower-case kind, ``.group``-qualified outside the
        core group (``pod``, ``endpoints``, ``endpointslice.discovery.k8s.io``)."""
        lower = self.kind.lower()
        return f"{lower}.{self.group}" if self.group else lower


#: The kinds stored without a model (:mod:`kubesim.inert`): kind -> (group, version, plural,
#: singular, short names, namespaced).
INERT_KINDS: dict[str, tuple[str, str, str, str, tuple[str, ...], bool]] = {
    "ConfigMap": ("", "v1", "configmaps", "configmap", ("cm",), True),
    "Secret": ("", "v1", "secrets", "secret", (), True),
    "ServiceAccount": ("", "v1", "serviceaccounts", "serviceaccount", ("sa",), True),
    "PersistentVolumeClaim": ("", "v1", "persistentvolumeclaims", "persistentvolumeclaim", ("pvc",), True),
    "LimitRange": ("", "v1", "limitranges", "limitrange", ("limits",), True),
    "ResourceQuota": ("", "v1", "resourcequotas", "resourcequota", ("quota",), True),
    "Job": ("batch", "v1", "jobs", "job", (), True),
    "CronJob": ("batch", "v1", "cronjobs", "cronjob", ("cj",), True),
    "HorizontalPodAutoscaler": ("autoscaling", "v2", "horizontalpodautoscalers", "horizontalpodautoscaler",
                                ("hpa",), True),
    "PodDisruptionBudget": ("policy", "v1", "poddisruptionbudgets", "poddisruptionbudget", ("pdb",), True),
    "Ingress": ("networking.k8s.io", "v1", "ingresses", "ingress", ("ing",), True),
    "IngressClass": ("networking.k8s.io", "v1", "ingressclasses", "ingressclass", (), False),
    "NetworkPolicy": ("networking.k8s.io", "v1", "networkpolicies", "networkpolicy", ("netpol",), True),
    "Role": ("rbac.authorization.k8s.io", "v1", "roles", "role", (), True),
    "RoleBinding": ("rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding", (), True),
    "ClusterRole": ("rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", (), False),
    "ClusterRoleBinding": ("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "clusterrolebinding", (), False),
    # written by the components' event recorders (kubesim.events), stored like the others
    "Event": ("", "v1", "events", "event", ("ev",), True),
}


def _inert_infos() -> tuple[KindInfo, ...]:
    return tuple(KindInfo(k, *v, inert=True) for k, v in INERT_KINDS.items())


#: Every kind the API server serves: the modelled kinds, in the order kubectl's discovery lists
#: their groups, then the inert kinds (:data:`kubesim.inert.INERT_KINDS`).
KIND_INFO: dict[str, KindInfo] = {
    info.kind: info
    for info in (
        KindInfo("Pod", "", "v1", "pods", "pod", ("po",), True),
        KindInfo("Service", "", "v1", "services", "service", ("svc",), True),
        KindInfo("Node", "", "v1", "nodes", "node", ("no",), False),
        KindInfo("Namespace", "", "v1", "namespaces", "namespace", ("ns",), False),
        KindInfo("Endpoints", "", "v1", "endpoints", "endpoints", ("ep",), True),
        KindInfo(
            "EndpointSlice", "discovery.k8s.io", "v1", "endpointslices", "endpointslice", (), True
        ),
        KindInfo("Deployment", "apps", "v1", "deployments", "deployment", ("deploy",), True),
        KindInfo("ReplicaSet", "apps", "v1", "replicasets", "replicaset", ("rs",), True),
        KindInfo("StatefulSet", "apps", "v1", "statefulsets", "statefulset", ("sts",), True),
        KindInfo("DaemonSet", "apps", "v1", "daemonsets", "daemonset", ("ds",), True),
        *_inert_infos(),
    )
}

#: The kinds stored without a model.
INERT: frozenset[str] = frozenset(k for k, info in KIND_INFO.items() if info.inert)

#: kind -> apiVersion (``"Deployment" -> "apps/v1"``).
API_VERSIONS: dict[str, str] = {kind: info.api_version for kind, info in KIND_INFO.items()}

# Lower-cased spelling -> kind: the full names (kind, plural, singular) and the short names.
# Both may carry a group suffix (``deployments.apps``, ``deploy.apps``): kubectl's shortcut
# expander (client-go ``restmapper/shortcut.go``) matches a short name within the given group.
_BASE: dict[str, str] = {}
_SHORT: dict[str, str] = {}
for _info in KIND_INFO.values():
    for _name in (_info.kind.lower(), _info.plural, _info.singular):
        _BASE[_name] = _info.kind
    for _name in _info.short_names:
        _SHORT[_name] = _info.kind
del _info, _name


def resolve_kind(name: str) -> str:
    """The canonical kind for any spelling kubectl accepts. ``O(1)``.

    A kind, plural, singular or short name in any case, optionally ``.group`` or
    ``.version.group`` qualified (never for the core group).

    Raises :class:`~kubesim.errors.ManifestError` with kubectl's wording for anything else:

    >>> resolve_kind("foo")
    Traceback (most recent call last):
    ...
    kubesim.errors.ManifestError: the server doesn't have a resource type "foo"
    """
    if not isinstance(name, str):
        raise ManifestError(f"the server doesn't have a resource type {name!r}")
    key = name.lower()
    kind = _SHORT.get(key) or _BASE.get(key)
    if kind is not None:
        return kind
    base, dot, rest = key.partition(".")
    if dot:
        kind = _BASE.get(base) or _SHORT.get(base)
        if kind is not None:
            info = KIND_INFO[kind]
            # resource.group, or resource.version.group (the core group has no dotted form).
            if info.group and rest in (info.group, f"{info.version}.{info.group}"):
                return kind
    raise ManifestError(f'the server doesn\'t have a resource type "{name}"')


def resource_name(kind: str) -> str:
    """The plural, lower-case resource name of ``kind`` (``"Endpoints" -> "endpoints"``).

    ``kind`` may be any spelling :func:`resolve_kind` accepts. ``O(1)``.
    """
    return KIND_INFO[resolve_kind(kind)].plural


def kind_for_api_version(api_version: str, kind: str) -> str:
    """Check that ``kind`` is served at ``api_version`` and return it. ``O(1)``.

    Raises :class:`~kubesim.errors.ManifestError` with the REST mapper's wording,
    ``no matches for kind "Foo" in version "v1"``; ``path`` is ``kind`` for an unknown kind and
    ``apiVersion`` for a known kind at the wrong version.
    """
    info = KIND_INFO.get(kind)
    if info is None:
        raise ManifestError(f'no matches for kind "{kind}" in version "{api_version}"', path="kind")
    if info.api_version != api_version:
        raise ManifestError(
            f'no matches for kind "{kind}" in version "{api_version}"', path="apiVersion"
        )
    return kind
