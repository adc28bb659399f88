"""Namespaces as the API server enforces them: the NamespaceLifecycle admission plugin and the
namespace registry's strategies.

What upstream does, and kubesim with it:

* **bootstrap**: kube-apiserver's system-namespaces controller
  (``pkg/controlplane/controller/systemnamespaces``) creates :data:`SYSTEM_NAMESPACES`
  (``default``, ``kube-system``, ``kube-public``, ``kube-node-lease``) when it starts.
  :class:`~kubesim.Cluster` creates them first, at virtual time 0, as ``kube-apiserver``; they
  are the first four records of every change log (see :func:`bootstrap_objects` for why their
  uids come from a stream of their own);
* **admission** (``plugin/pkg/admission/namespace/lifecycle``): a create of a namespaced object
  into a namespace that does not exist fails with ``namespaces "prod" not found``
  (:class:`~kubesim.errors.NotFound`); into a namespace whose phase is ``Terminating`` with
  ``pods "web" is forbidden: unable to create new content in namespace prod because it is
  being terminated`` (:class:`~kubesim.errors.Forbidden`); ``default``, ``kube-system`` and
  ``kube-public`` cannot be deleted (``this namespace may not be deleted``). Updates and
  deletes of content are always admitted;
* **create** (``pkg/registry/core/namespace/strategy.go`` ``PrepareForCreate``): the status is
  ``phase: Active`` whatever the client sent, and ``spec.finalizers`` gains ``kubernetes``;
* **update**: the main resource keeps the stored ``spec.finalizers`` and ``status``; the
  ``status`` subresource keeps the stored ``spec``; ``finalize`` keeps the stored ``status``;
* **delete** (``pkg/registry/core/namespace/storage/storage.go``): the first delete sets
  ``deletionTimestamp`` and ``phase: Terminating`` (one update); the namespace controller
  (:mod:`kubesim.controllers.namespace`) deletes the content and then finalizes the namespace
  (removes ``kubernetes`` from ``spec.finalizers``), and a finalize that leaves no finalizer of
  either kind removes the object (``ShouldDeleteDuringUpdate``).

Everything here is ``O(1)`` except :func:`mark_terminating` (``O(conditions)``).
"""

from __future__ import annotations

import random
from typing import Any

import attrs

from kubesim.errors import Forbidden, NotFound
from kubesim.objects import Namespace, NamespaceSpec, NamespaceStatus, ObjectMeta

__all__ = [
    "SYSTEM_NAMESPACES",
    "IMMORTAL_NAMESPACES",
    "FINALIZER_KUBERNETES",
    "ACTIVE",
    "TERMINATING",
    "admit_create",
    "admit_delete",
    "prepare_for_create",
    "prepare_for_update",
    "mark_terminating",
    "phase",
    "spec_finalizers",
    "bootstrap_objects",
    "bootstrap_rng",
]

#: The namespaces kube-apiserver creates at start, in its creation order.
SYSTEM_NAMESPACES: tuple[str, ...] = ("default", "kube-system", "kube-public", "kube-node-lease")
#: NamespaceLifecycle's immortal namespaces (``kube-node-lease`` may be deleted).
IMMORTAL_NAMESPACES: frozenset[str] = frozenset({"default", "kube-system", "kube-public"})
#: ``corev1.FinalizerKubernetes``: the namespace controller's token in ``spec.finalizers``.
FINALIZER_KUBERNETES = "kubernetes"
ACTIVE = "Active"
TERMINATING = "Terminating"


def admit_create(api: Any, kind: str, name: str, namespace: str) -> None:
    """NamespaceLifecycle for a create of ``kind`` named ``name`` (``""`` for a generated
    name) in ``namespace`` (``""`` for a cluster-scoped kind: always admitted). Raises
    :class:`~kubesim.errors.NotFound` or :class:`~kubesim.errors.Forbidden`. ``O(1)``."""
    if not namespace or kind == "Namespace":
        return
    ns = api.try_get("Namespace", namespace, None)
    if ns is None:
        raise NotFound("Namespace", namespace)
    if phase(ns) == TERMINATING:
        raise Forbidden(
            kind,
            name,
            f"unable to create new content in namespace {namespace} because it is being terminated",
            namespace,
        )


def phase(ns: Namespace) -> str:
    """``status.phase``. ``O(1)``."""
    return ns.status.phase


def spec_finalizers(ns: Namespace) -> tuple[str, ...]:
    """``spec.finalizers``. ``O(1)``."""
    return ns.spec.finalizers


def admit_delete(name: str) -> None:
    """NamespaceLifecycle for the delete of the Namespace ``name``. ``O(1)``."""
    if name in IMMORTAL_NAMESPACES:
        raise Forbidden("Namespace", name, "this namespace may not be deleted")


def prepare_for_create(ns: Namespace) -> Namespace:
    """``namespaceStrategy.PrepareForCreate``: phase ``Active``, the ``kubernetes`` finalizer
    appended if absent. ``O(finalizers)``."""
    finalizers = ns.spec.finalizers
    if FINALIZER_KUBERNETES not in finalizers:
        finalizers = (*finalizers, FINALIZER_KUBERNETES)
    status = NamespaceStatus(phase=ACTIVE)
    if finalizers == ns.spec.finalizers and ns.status == status:
        return ns
    return attrs.evolve(ns, spec=NamespaceSpec(finalizers=finalizers), status=status)


def prepare_for_update(ns: Namespace, old: Namespace, subresource: str) -> Namespace:
    """The update strategies: the main resource keeps the stored finalizers and status,
    ``status`` keeps the stored spec, ``finalize`` keeps the stored status. ``O(1)``."""
    if subresource == "status":
        spec, status = old.spec, ns.status
    elif subresource == "finalize":
        spec, status = ns.spec, old.status
    else:
        spec, status = attrs.evolve(ns.spec, finalizers=old.spec.finalizers), old.status
    if spec == ns.spec and status == ns.status:
        return ns
    return attrs.evolve(ns, spec=spec, status=status)


def mark_terminating(ns: Namespace, now: int) -> Namespace:
    """The namespace registry's first delete: ``deletionTimestamp`` (if unset) and phase
    ``Terminating``. Returns ``ns`` itself when both are already so. ``O(1)``."""
    meta = ns.metadata
    if meta.deletion_timestamp is not None and phase(ns) == TERMINATING:
        return ns
    if meta.deletion_timestamp is None:
        meta = attrs.evolve(meta, deletion_timestamp=now)
    return attrs.evolve(ns, metadata=meta, status=attrs.evolve(ns.status, phase=TERMINATING))


def bootstrap_objects() -> tuple[Namespace, ...]:
    """The Namespaces kube-apiserver creates at start, as it sends them (name only)."""
    return tuple(Namespace(metadata=ObjectMeta(name=n)) for n in SYSTEM_NAMESPACES)


def bootstrap_rng(seed: int) -> random.Random:
    """The random stream the bootstrap namespaces' uids are drawn from: a stream of its own,
    so that adding these four objects did not shift every later seeded choice (pod names,
    IPs, latencies) of clusters built before namespaces were modelled."""
    return random.Random(f"{seed}/bootstrap-namespaces")
