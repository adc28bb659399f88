"""A Deployment's revisions: the ``pod-template-hash`` (``controller_utils.go``
``ComputeHash``: :func:`canonical_dump`, :func:`fnv32a`, :func:`safe_encode_string`,
:func:`pod_template_hash`), template equality ignoring the hash (:func:`equal_ignore_hash`),
and finding the new and the old ReplicaSets (:func:`find_new_replica_set`,
:func:`find_old_replica_sets`; ``sync.go``, ``deployment_util.go``), with the revision and
replica annotations a ReplicaSet carries.

Pure functions of API objects. Imports: :mod:`kubesim.objects`, ``attrs``, :mod:`.fenceposts`
(:mod:`.rollout` re-exports every public name).
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

import attrs

from kubesim.controllers.workloads.fenceposts import rs_replicas
from kubesim.objects import (
    ContainerPort,  # noqa: F401 - used by the canonical_dump doctest
    Deployment,
    ObjectMeta,
    PodTemplateSpec,
    ReplicaSet,
)

#: ``apps.DefaultDeploymentUniqueLabelKey``.
DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY = "pod-template-hash"
#: The revision of a Deployment's ReplicaSet.
REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
#: ``spec.replicas`` of the Deployment when it last scaled this ReplicaSet.
DESIRED_REPLICAS_ANNOTATION = "deployment.kubernetes.io/desired-replicas"
#: ``spec.replicas + maxSurge`` of the Deployment when it last scaled this ReplicaSet.
MAX_REPLICAS_ANNOTATION = "deployment.kubernetes.io/max-replicas"


# --------------------------------------------------------------------------------------------
# pod-template-hash

#: ``k8s.io/apimachinery/pkg/util/rand`` alphabet: no vowels, no confusable characters.
_SAFE_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"


def safe_encode_string(s: str) -> str:
    """``rand.SafeEncodeString``: map every byte to the safe alphabet (``byte % 27``). ``O(n)``.

    >>> safe_encode_string("0123456789")
    '456789bcdf'
    """
    return "".join(_SAFE_ALPHANUMS[b % len(_SAFE_ALPHANUMS)] for b in s.encode("utf-8"))


def fnv32a(data: bytes, h: int = 0x811C9DC5) -> int:
    """The 32-bit FNV-1a hash of ``data`` (continuing from ``h``).  ``O(n)``.

    >>> hex(fnv32a(b"a"))
    '0xe40c292c'
    """
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def canonical_dump(obj: object) -> str:
    """The canonical text kubesim hashes for a pod template.  ``O(size of obj)``.

    Upstream feeds ``spew``'s ``%#v`` dump of the Go struct to FNV-32a; those bytes cannot be
    reproduced from Python.  kubesim's canonical form is instead:

    * an attrs object: ``ClassName{field:value,...}`` with every field in declaration order
      (defaults included, so the form does not depend on how the object was built);
    * a string: its JSON-style double-quoted form (``repr`` of ``str`` is not used: it varies
      in quote choice); ``None``: ``nil``; booleans ``true``/``false``; ints in decimal;
    * a tuple: ``[a,b,...]`` in order; a mapping: ``map[k:v,...]`` sorted by key (as spew's
      ``SortKeys``).

    >>> canonical_dump(ContainerPort(container_port=80, name="http"))
    'ContainerPort{container_port:80,name:"http",protocol:"TCP",host_port:nil,host_ip:""}'
    """
    out: list[str] = []
    _dump(obj, out)
    return "".join(out)


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _dump(obj: object, out: list[str]) -> None:
    if obj is None:
        out.append("nil")
    elif isinstance(obj, bool):
        out.append("true" if obj else "false")
    elif isinstance(obj, int):
        out.append(str(obj))
    elif isinstance(obj, float):
        out.append(repr(obj))
    elif isinstance(obj, str):
        out.append(_quote(obj))
    elif isinstance(obj, (tuple, list)):
        out.append("[")
        for i, item in enumerate(obj):
            if i:
                out.append(",")
            _dump(item, out)
        out.append("]")
    elif isinstance(obj, Mapping):
        out.append("map[")
        for i, key in enumerate(sorted(obj)):
            if i:
                out.append(",")
            out.append(_quote(str(key)))
            out.append(":")
            _dump(obj[key], out)
        out.append("]")
    elif attrs.has(type(obj)):
        out.append(type(obj).__name__)
        out.append("{")
        first = True
        for field in attrs.fields(cast(Any, type(obj))):
            value = getattr(obj, field.name)
            if field.metadata.get("hash_omit_default") and value == field.default:
                continue  # a field added later, left out while unset: older hashes hold
            if not first:
                out.append(",")
            first = False
            out.append(field.name)
            out.append(":")
            _dump(value, out)
        out.append("}")
    else:  # pragma: no cover - the object model holds nothing else
        raise TypeError(f"cannot hash a {type(obj).__name__}")


def pod_template_hash(template: PodTemplateSpec, collision_count: int | None = None) -> str:
    """``controller.ComputeHash``: the ``pod-template-hash`` label value.  ``O(size)``.

    FNV-32a over :func:`canonical_dump` of ``template``; when ``collision_count`` is not
    ``None`` (``deployment.status.collisionCount``) its 32-bit little-endian value padded to 8
    bytes is hashed after it, as upstream does, so ``0`` and ``None`` differ.  The 32-bit sum
    is printed in decimal and rendered with :func:`safe_encode_string`, giving upstream's shape
    (up to 10 characters from ``bcdfghjklmnpqrstvwxz2456789``).  Stable across Python runs.
    Pass the Deployment's template (which carries no ``pod-template-hash`` label).
    """
    h = fnv32a(canonical_dump(template).encode("utf-8"))
    if collision_count is not None:
        h = fnv32a((collision_count & 0xFFFFFFFF).to_bytes(4, "little") + b"\x00" * 4, h)
    return safe_encode_string(str(h))


#: Every ``ObjectMeta`` field but ``labels``, read at once (compared as one tuple).
_META_BUT_LABELS = operator.attrgetter(*(f.name for f in attrs.fields(ObjectMeta) if f.name != "labels"))


#: The answers of ``equal_ignore_hash`` by the identities of its two (frozen) templates, which
#: it holds: ``(id(t1), id(t2)) -> (t1, t2, answer)``. Cleared wholesale at ``_EQUAL_LIMIT``.
_EQUAL: dict[tuple[int, int], tuple[PodTemplateSpec, PodTemplateSpec, bool]] = {}
_EQUAL_LIMIT = 1024


def equal_ignore_hash(t1: PodTemplateSpec, t2: PodTemplateSpec) -> bool:
    """``EqualIgnoreHash``: templates equal apart from the ``pod-template-hash`` label. ``O(size)``,
    ``O(1)`` for a pair of templates already compared.

    Called for every ReplicaSet on every Deployment sync (a sync looks for its new ReplicaSet
    more than once), of the same template objects until a template changes, so the answer is
    remembered by the two objects' identities (the memo holds them, so an id is not reused
    while remembered; templates are frozen, so the answer cannot change). A miss builds
    nothing: the labels are compared without the hash key, the other metadata fields as one
    tuple, and sub-objects shared by the two templates (a ReplicaSet's ``spec`` is usually the
    Deployment's own) are equal by identity.
    """
    if t1 is t2:
        return True
    key = (id(t1), id(t2))
    hit = _EQUAL.get(key)
    if hit is not None and hit[0] is t1 and hit[1] is t2:
        return hit[2]
    answer = _equal_ignore_hash(t1, t2)
    if len(_EQUAL) >= _EQUAL_LIMIT:
        _EQUAL.clear()
    _EQUAL[key] = (t1, t2, answer)
    return answer


def _equal_ignore_hash(t1: PodTemplateSpec, t2: PodTemplateSpec) -> bool:
    m1, m2 = t1.metadata, t2.metadata
    if m1 is not m2:
        key = DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY
        l1, l2 = m1.labels, m2.labels
        if l1 is not l2 and l1.without(key) != l2.without(key):
            return False
        if _META_BUT_LABELS(m1) != _META_BUT_LABELS(m2):
            return False
    return t1.spec is t2.spec or t1.spec == t2.spec


def _creation_key(rs: ReplicaSet) -> tuple[bool, int, str]:
    # controller.ReplicaSetsByCreationTimestamp (ties by name), a None timestamp sorts first.
    ts = rs.metadata.creation_timestamp
    return (ts is not None, ts or 0, rs.metadata.name)


def _by_creation(rss: Iterable[ReplicaSet]) -> list[ReplicaSet]:
    return sorted(rss, key=_creation_key)


def find_new_replica_set(deployment: Deployment, rss: Sequence[ReplicaSet]) -> ReplicaSet | None:
    """``FindNewReplicaSet``: the oldest ReplicaSet whose template equals the Deployment's
    (ignoring the hash label), or ``None``.  ``O(n)``: the first match in creation order is the
    match of least creation key (ties, which one namespace's names rule out, to the first
    given, as the stable sort does), found without sorting."""
    template = deployment.spec.template
    best: ReplicaSet | None = None
    best_key: tuple[bool, int, str] | None = None
    for rs in rss:
        if equal_ignore_hash(rs.spec.template, template):
            key = _creation_key(rs)
            if best_key is None or key < best_key:
                best, best_key = rs, key
    return best


def all_old_replica_sets(rss: Sequence[ReplicaSet], new: ReplicaSet | None) -> list[ReplicaSet]:
    """:func:`find_old_replica_sets`' "all old ones": every ReplicaSet of ``rss`` but ``new``
    (the new ReplicaSet, as :func:`find_new_replica_set` gives it; compared by name, where
    upstream compares UIDs: names are unique in a namespace). ``O(n)``."""
    if new is None:
        return list(rss)
    name = new.metadata.name
    return [rs for rs in rss if rs.metadata.name != name]


def find_old_replica_sets(
    deployment: Deployment, rss: Sequence[ReplicaSet]
) -> tuple[list[ReplicaSet], list[ReplicaSet]]:
    """``FindOldReplicaSets``: ``(old ones with replicas != 0, all old ones)``. ``O(n)``."""
    every = all_old_replica_sets(rss, find_new_replica_set(deployment, rss))
    return [rs for rs in every if rs_replicas(rs) != 0], every


def _revision(rs: ReplicaSet) -> int:
    try:
        return int(rs.metadata.annotations.get(REVISION_ANNOTATION, "0"))
    except ValueError:
        return 0
