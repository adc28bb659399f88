"""Which module implements each controller name, and how it is started."""

from __future__ import annotations

import importlib
from typing import Any

from kubesim.controllers.runtime import ControllerContext

__all__ = ["CONTROLLER_MODULES", "start"]

#: controller name -> (module, class)
CONTROLLER_MODULES: dict[str, tuple[str, str]] = {
    "scheduler": ("kubesim.controllers.node.scheduler", "Scheduler"),
    "kubelet": ("kubesim.controllers.node.kubelet", "Kubelet"),
    "garbagecollector": ("kubesim.controllers.gc", "GarbageCollector"),
    "replicaset": ("kubesim.controllers.workloads.replicaset", "ReplicaSetController"),
    "deployment": ("kubesim.controllers.workloads.deployment", "DeploymentController"),
    "statefulset": ("kubesim.controllers.workloads.statefulset", "StatefulSetController"),
    "daemonset": ("kubesim.controllers.workloads.daemonset", "DaemonSetController"),
    "endpoint": ("kubesim.controllers.endpoints.controller", "EndpointsController"),
    "endpointslice": ("kubesim.controllers.endpointslice.controller", "EndpointSliceController"),
    "endpointslicemirroring": ("kubesim.controllers.mirroring.controller", "MirroringController"),
    "nodelifecycle": ("kubesim.controllers.node.lifecycle", "NodeLifecycleController"),
    "namespace": ("kubesim.controllers.namespace.controller", "NamespaceController"),
}


def start(name: str, ctx: ControllerContext) -> Any:
    """Construct the controller called ``name`` on ``ctx`` and start its watches."""
    module, cls = CONTROLLER_MODULES[name]
    mod = importlib.import_module(module)
    controller = getattr(mod, cls)(ctx)
    controller.start()
    return controller
