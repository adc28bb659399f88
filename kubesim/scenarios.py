"""Ready-made workloads: one-liners for notebooks and scripts.

Each helper writes through the API server exactly as ``kubectl`` would (``apply``, ``scale``,
``set image``), so what the controllers do in response is what they would do in a cluster.

>>> import kubesim
>>> from kubesim import scenarios
>>> cluster = kubesim.Cluster(seed=1, nodes=2)
>>> _ = scenarios.deploy(cluster, "web", replicas=2)
>>> _ = cluster.run()
>>> len(cluster.get("Endpoints", "web").subsets[0].addresses)
2
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

import attrs

from kubesim.errors import InvalidOption


def _caused(cause: str) -> Callable[[F], F]:
    """Run a scenario step under ``cluster.cause(cause)`` (unless a cause is already set), so
    the writes it sets off are attributed to it in churn reports."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(cluster: Any, *args: Any, **kwargs: Any) -> Any:
            if cluster.clock.context:
                return fn(cluster, *args, **kwargs)
            with cluster.cause(cause):
                return fn(cluster, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


__all__ = [
    "web_manifests",
    "deploy",
    "scale",
    "set_image",
    "restart",
    "delete_pod",
    "set_behaviour",
    "fail_readiness",
    "flap",
    "fail_node",
    "recover_node",
    "drain",
    "uncordon",
    "huge_service",
    "load_test",
]


def web_manifests(
    name: str = "web",
    *,
    replicas: int = 3,
    image: str = "nginx:1.25",
    port: int = 80,
    namespace: str = "default",
    max_surge: int | str = "25%",
    max_unavailable: int | str = "25%",
    min_ready_seconds: int = 0,
    readiness_probe: bool = False,
) -> str:
    """YAML for a Deployment ``name`` (label ``app: <name>``) and a Service selecting it."""
    if not isinstance(replicas, int) or replicas < 0:
        raise InvalidOption(f"replicas must be a non-negative integer, got {replicas!r}")
    probe = ""
    if readiness_probe:
        probe = f"""
          readinessProbe:
            httpGet:
              path: /
              port: {port}
            periodSeconds: 5"""
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {namespace}
spec:
  replicas: {replicas}
  minReadySeconds: {min_ready_seconds}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: {max_surge!r}
      maxUnavailable: {max_unavailable!r}
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
    spec:
      containers:
        - name: {name}
          image: {image}
          ports:
            - containerPort: {port}{probe}
---
apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: {namespace}
spec:
  selector:
    app: {name}
  ports:
    - name: http
      port: {port}
      targetPort: {port}
"""


@_caused("deploy")
def deploy(cluster: Any, name: str = "web", **kwargs: Any) -> list[Any]:
    """Apply :func:`web_manifests` (a Deployment and its Service)."""
    return list(cluster.apply_yaml(web_manifests(name, **kwargs)))


def _deployment(cluster: Any, name: str, namespace: str) -> Any:
    return cluster.get("Deployment", name, namespace)


@_caused("scale")
def scale(cluster: Any, name: str, replicas: int, *, namespace: str = "default") -> Any:
    """``kubectl scale deployment <name> --replicas=N``."""
    if not isinstance(replicas, int) or replicas < 0:
        raise InvalidOption(f"replicas must be a non-negative integer, got {replicas!r}")
    d = _deployment(cluster, name, namespace)
    return cluster.api.update(attrs.evolve(d, spec=attrs.evolve(d.spec, replicas=replicas)), actor="kubectl")


@_caused("rollout")
def set_image(cluster: Any, name: str, image: str, *, namespace: str = "default", container: str | None = None) -> Any:
    """``kubectl set image deployment/<name> <container>=<image>``: starts a rollout."""
    d = _deployment(cluster, name, namespace)
    spec = d.spec.template.spec
    containers = tuple(
        attrs.evolve(c, image=image) if container is None or c.name == container else c for c in spec.containers
    )
    template = attrs.evolve(d.spec.template, spec=attrs.evolve(spec, containers=containers))
    return cluster.api.update(attrs.evolve(d, spec=attrs.evolve(d.spec, template=template)), actor="kubectl")


@_caused("rollout")
def restart(cluster: Any, name: str, *, namespace: str = "default") -> Any:
    """``kubectl rollout restart``: stamps ``kubectl.kubernetes.io/restartedAt`` on the
    template, which starts a rollout."""
    d = _deployment(cluster, name, namespace)
    tmeta = d.spec.template.metadata
    stamp = str(cluster.now_unix)
    tmeta = attrs.evolve(tmeta, annotations=tmeta.annotations.set("kubectl.kubernetes.io/restartedAt", stamp))
    template = attrs.evolve(d.spec.template, metadata=tmeta)
    return cluster.api.update(attrs.evolve(d, spec=attrs.evolve(d.spec, template=template)), actor="kubectl")


@_caused("pod-deletion")
def delete_pod(cluster: Any, name: str, *, namespace: str = "default") -> Any:
    """``kubectl delete pod <name>`` (graceful)."""
    return cluster.delete("Pod", name, namespace)


@_caused("readiness")
def set_behaviour(cluster: Any, pod: str, behaviour: Any, *, namespace: str = "default") -> None:
    """Give a pod's application a :class:`kubesim.probes.AppBehaviour` (times relative to the
    container start). Only pods with a readiness probe can be seen failing."""
    cluster.get("Pod", pod, namespace)
    cluster.controllers["kubelet"].set_behaviour((namespace, pod), behaviour)


def _since(cluster: Any, pod: str, namespace: str) -> float:
    rt = cluster.controllers["kubelet"].pods.get((namespace, pod))
    return float(rt.since) if rt is not None and rt.started else float(cluster.now)


@_caused("readiness")
def fail_readiness(cluster: Any, pod: str, duration: float, *, namespace: str = "default") -> None:
    """Make the pod's application answer its readiness probe with failures for ``duration``
    seconds from now (the kubelet notices after ``failureThreshold`` probes)."""
    from kubesim.probes import AppBehaviour

    if not duration > 0:
        raise InvalidOption(f"duration must be positive, got {duration!r}")
    start = cluster.now - _since(cluster, pod, namespace)
    set_behaviour(cluster, pod, AppBehaviour(unready=[(start, start + duration)]), namespace=namespace)


@_caused("readiness")
def flap(
    cluster: Any,
    pod: str,
    *,
    mean_up: float = 30.0,
    mean_down: float = 10.0,
    until: float | None = None,
    namespace: str = "default",
) -> None:
    """Make the pod's application flap: healthy and failing stretches with exponential lengths
    (means in seconds), from now until ``until`` seconds from now (``None``: forever), seeded
    from the cluster's random."""
    from kubesim.probes import AppBehaviour, Flapping

    start = cluster.now - _since(cluster, pod, namespace)
    end = None if until is None else start + until
    seed = cluster.rng.getrandbits(32)
    set_behaviour(
        cluster,
        pod,
        AppBehaviour(flapping=Flapping(mean_up=mean_up, mean_down=mean_down, seed=seed, start=start, until=end)),
        namespace=namespace,
    )


@_caused("node-loss")
def fail_node(cluster: Any, node: str) -> None:
    """Stop a node's kubelet: after the 50 s grace period its pods go NotReady, after 300 s
    more they are evicted (see :mod:`kubesim.controllers.node.lifecycle`)."""
    cluster.controllers["nodelifecycle"].fail_node(node)


@_caused("node-recovery")
def recover_node(cluster: Any, node: str) -> None:
    """Bring a failed node's kubelet back."""
    cluster.controllers["nodelifecycle"].recover_node(node)


@_caused("drain")
def drain(cluster: Any, node: str) -> None:
    """``kubectl drain <node>``: cordon and evict every pod."""
    cluster.controllers["nodelifecycle"].drain(node)


@_caused("drain")
def uncordon(cluster: Any, node: str) -> None:
    """``kubectl uncordon <node>``."""
    cluster.controllers["nodelifecycle"].uncordon(node)


def huge_service(cluster: Any, *, pods: int = 1000, image: str = "nginx:1.26") -> str:
    """ClusterLoader2's huge-service workload: one Service over ``pods`` pods (1000 by
    default), settled, then a rolling update to ``image``. Returns the Deployment's name;
    run the cluster to play it out."""
    deploy(cluster, "huge-service", replicas=pods)
    cluster.run()
    set_image(cluster, "huge-service", image)
    return "huge-service"


def load_test(
    cluster: Any, *, big: int = 1, medium: int = 2, small: int = 5, namespace: str = "default"
) -> list[str]:
    """ClusterLoader2's load test shape: ``big`` Deployments of 250 pods, ``medium`` of 30 and
    ``small`` of 5, each behind its own Service (``big-0``, ``medium-0``, ``small-0`` …).
    Returns the Deployment names; run the cluster to play it out."""
    names = []
    for group, size, count in (("big", 250, big), ("medium", 30, medium), ("small", 5, small)):
        if not isinstance(count, int) or count < 0:
            raise InvalidOption(f"{group} must be a non-negative integer, got {count!r}")
        for i in range(count):
            name = f"{group}-{i}"
            deploy(cluster, name, replicas=size, namespace=namespace)
            names.append(name)
    return names
