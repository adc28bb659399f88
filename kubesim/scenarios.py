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

from typing import Any

import attrs

from kubesim.errors import InvalidOption

__all__ = ["web_manifests", "deploy", "scale", "set_image", "restart", "delete_pod"]


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


def deploy(cluster: Any, name: str = "web", **kwargs: Any) -> list[Any]:
    """Apply :func:`web_manifests` (a Deployment and its Service)."""
    return list(cluster.apply_yaml(web_manifests(name, **kwargs)))


def _deployment(cluster: Any, name: str, namespace: str) -> Any:
    return cluster.get("Deployment", name, namespace)


def scale(cluster: Any, name: str, replicas: int, *, namespace: str = "default") -> Any:
    """``kubectl scale deployment <name> --replicas=N``."""
    if not isinstance(replicas, int) or replicas < 0:
        raise InvalidOption(f"replicas must be a non-negative integer, got {replicas!r}")
    d = _deployment(cluster, name, namespace)
    return cluster.api.update(attrs.evolve(d, spec=attrs.evolve(d.spec, replicas=replicas)), actor="kubectl")


def set_image(cluster: Any, name: str, image: str, *, namespace: str = "default", container: str | None = None) -> Any:
    """``kubectl set image deployment/<name> <container>=<image>``: starts a rollout."""
    d = _deployment(cluster, name, namespace)
    spec = d.spec.template.spec
    containers = tuple(
        attrs.evolve(c, image=image) if container is None or c.name == container else c for c in spec.containers
    )
    template = attrs.evolve(d.spec.template, spec=attrs.evolve(spec, containers=containers))
    return cluster.api.update(attrs.evolve(d, spec=attrs.evolve(d.spec, template=template)), actor="kubectl")


def restart(cluster: Any, name: str, *, namespace: str = "default") -> Any:
    """``kubectl rollout restart``: stamps ``kubectl.kubernetes.io/restartedAt`` on the
    template, which starts a rollout."""
    d = _deployment(cluster, name, namespace)
    tmeta = d.spec.template.metadata
    stamp = str(cluster.now_unix)
    tmeta = attrs.evolve(tmeta, annotations=tmeta.annotations.set("kubectl.kubernetes.io/restartedAt", stamp))
    template = attrs.evolve(d.spec.template, metadata=tmeta)
    return cluster.api.update(attrs.evolve(d, spec=attrs.evolve(d.spec, template=template)), actor="kubectl")


def delete_pod(cluster: Any, name: str, *, namespace: str = "default") -> Any:
    """``kubectl delete pod <name>`` (graceful)."""
    return cluster.delete("Pod", name, namespace)
