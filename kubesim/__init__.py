"""kubesim: a deterministic, faster-than-real-time simulator of the Kubernetes Endpoints and
EndpointSlice machinery, with exact write and byte accounting.

>>> import kubesim
>>> cluster = kubesim.Cluster(seed=0, nodes=2)
>>> len(cluster.list("nodes"))
2

``import kubesim`` loads what a simulation runs; the rest of the public API (:func:`sweep`,
the manifest functions, the reference reconcilers) loads on first use (:mod:`kubesim._lazy`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubesim import _lazy
from kubesim.changelog import ChangeEvent, ChangeLog
from kubesim.clock import Clock
from kubesim.cluster import Cluster
from kubesim.errors import (
    AlreadyExists,
    Conflict,
    FieldError,
    Forbidden,
    InvalidArgument,
    InvalidObject,
    InvalidOption,
    InvalidSelector,
    KubectlError,
    KubesimError,
    ManifestError,
    NoEndpoints,
    NotFound,
    NXDomain,
    ReentrancyError,
    RequestEntityTooLarge,
    RequestTooLarge,
    ServerError,
    ServerTimeout,
)
from kubesim.events import EventRecorder
from kubesim.faults import FaultPlan
from kubesim.model_warnings import ModelWarning
from kubesim.objects import (
    Container,
    ContainerPort,
    Deployment,
    Endpoint,
    EndpointAddress,
    EndpointConditions,
    EndpointPort,
    Endpoints,
    EndpointSlice,
    EndpointSlicePort,
    EndpointSubset,
    FrozenDict,
    LabelSelector,
    Namespace,
    Node,
    ObjectMeta,
    ObjectReference,
    OwnerReference,
    Pod,
    PodSpec,
    PodStatus,
    PodTemplateSpec,
    Probe,
    ReplicaSet,
    Service,
    ServicePort,
    ServiceSpec,
)
from kubesim.timing import Timing, Uniform

if TYPE_CHECKING:  # the lazily loaded names, for type checkers (see __getattr__ below)
    from kubesim import apiserver as apiserver
    from kubesim import controllers as controllers
    from kubesim import defaults as defaults
    from kubesim import inert as inert
    from kubesim import ipam as ipam
    from kubesim import kinds as kinds
    from kubesim import labels as labels
    from kubesim import manifests as manifests
    from kubesim import namespaces as namespaces
    from kubesim import netutil as netutil
    from kubesim import notebook as notebook
    from kubesim import objects as objects
    from kubesim import report as report
    from kubesim import validation as validation
    from kubesim import wire as wire
    from kubesim.controllers.endpoints.reconciler import endpoints_for
    from kubesim.controllers.endpointslice.reconciler import SlicePlan, reconcile_endpoint_slices
    from kubesim.manifests import from_manifest, load_yaml, to_manifest
    from kubesim.sweep import SweepResult, sweep

__version__ = "0.1.0"

from kubesim import notebook as _notebook  # noqa: E402

_notebook.register()  # HTML views for API objects when running under IPython

#: Public names loaded on first use, by the module that defines them (:mod:`kubesim._lazy`). A
#: simulation needs none of them (manifests and YAML, sweeps and their reports, the reference
#: reconcilers), so ``import kubesim`` does not pay for them; ``kubesim.NAME`` and
#: ``from kubesim import NAME`` import the module on first access.
_LAZY: dict[str, str] = {
    "sweep": "kubesim.sweep",
    "SweepResult": "kubesim.sweep",
    "to_manifest": "kubesim.manifests",
    "from_manifest": "kubesim.manifests",
    "load_yaml": "kubesim.manifests",
    "reconcile_endpoint_slices": "kubesim.controllers.endpointslice.reconciler",
    "SlicePlan": "kubesim.controllers.endpointslice.reconciler",
    "endpoints_for": "kubesim.controllers.endpoints.reconciler",
}

#: Submodules that ``import kubesim`` used to load, so that ``kubesim.NAME`` worked without an
#: ``import kubesim.NAME``: it still does, loading the module on first access.
_SUBMODULES = (
    "apiserver", "changelog", "clock", "cluster", "controllers", "defaults", "errors", "events",
    "faults", "inert", "ipam", "kinds", "labels", "manifests", "model_warnings", "namespaces",
    "netutil", "notebook", "objects", "report", "timing", "validation", "wire",
)

if not TYPE_CHECKING:  # type checkers see the names imported above, and no catch-all
    __getattr__, __dir__ = _lazy.attach(__name__, _LAZY, _SUBMODULES)

__all__ = [
    # the cluster
    "Cluster",
    "Timing",
    "Uniform",
    "Clock",
    "ChangeEvent",
    "ChangeLog",
    "FaultPlan",
    "ModelWarning",
    "EventRecorder",
    "sweep",
    "SweepResult",
    # manifests
    "to_manifest",
    "from_manifest",
    "load_yaml",
    # algorithms
    "reconcile_endpoint_slices",
    "SlicePlan",
    "endpoints_for",
    # errors
    "KubesimError",
    "FieldError",
    "InvalidObject",
    "InvalidOption",
    "InvalidSelector",
    "NotFound",
    "AlreadyExists",
    "Conflict",
    "Forbidden",
    "RequestTooLarge",
    "RequestEntityTooLarge",
    "InvalidArgument",
    "ReentrancyError",
    "ServerError",
    "ServerTimeout",
    "ManifestError",
    "KubectlError",
    "NoEndpoints",
    "NXDomain",
    # objects
    "ObjectMeta",
    "OwnerReference",
    "ObjectReference",
    "LabelSelector",
    "FrozenDict",
    "Pod",
    "PodSpec",
    "PodStatus",
    "PodTemplateSpec",
    "Container",
    "ContainerPort",
    "Probe",
    "Service",
    "ServiceSpec",
    "ServicePort",
    "Node",
    "Namespace",
    "Endpoints",
    "EndpointSubset",
    "EndpointAddress",
    "EndpointPort",
    "EndpointSlice",
    "Endpoint",
    "EndpointConditions",
    "EndpointSlicePort",
    "Deployment",
    "ReplicaSet",
]
