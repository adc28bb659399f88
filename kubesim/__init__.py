"""kubesim: a deterministic, faster-than-real-time simulator of the Kubernetes Endpoints and
EndpointSlice machinery, with exact write and byte accounting.

>>> import kubesim
>>> cluster = kubesim.Cluster(seed=0, nodes=2)
>>> len(cluster.list("nodes"))
2
"""

from __future__ import annotations

from kubesim.changelog import ChangeEvent, ChangeLog
from kubesim.clock import Clock
from kubesim.cluster import Cluster
from kubesim.controllers.endpoints.reconciler import endpoints_for
from kubesim.controllers.endpointslice.reconciler import SlicePlan, reconcile_endpoint_slices
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
from kubesim.manifests import from_manifest, load_yaml, to_manifest
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
from kubesim.sweep import SweepResult, sweep
from kubesim.timing import Timing, Uniform

__version__ = "0.1.0"

from kubesim import notebook as _notebook  # noqa: E402

_notebook.register()  # HTML views for API objects when running under IPython

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
