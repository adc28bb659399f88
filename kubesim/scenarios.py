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
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from kubesim.clock import check_time
from kubesim.errors import InvalidOption

if TYPE_CHECKING:  # pragma: no cover
    from kubesim.cluster import Cluster
    from kubesim.report import ChurnReport

F = TypeVar("F", bound=Callable[..., Any])


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
    "set_pod_condition",
    "fail_readiness",
    "flap",
    "fail_node",
    "recover_node",
    "drain",
    "uncordon",
    "huge_service",
    "load_test",
    "quiet_start",
    "rolling_update_churn",
    "scale_churn",
    "fail_readiness_churn",
    "flap_churn",
    "fail_node_churn",
    "drain_churn",
    "MEASURED",
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
    """``kubectl set image deployment/<name> <container>=<image>`` (every container when
    ``container`` is ``None``): starts a rollout. An unknown container raises
    :class:`~kubesim.errors.KubectlError` ``unable to find container named "x"``, as kubectl
    does, and writes nothing."""
    from kubesim.kubectl.write import set_image as _set_image

    d = _deployment(cluster, name, namespace)
    updated = _set_image(d, {"*" if container is None else container: image})
    return cluster.api.update(updated, actor="kubectl")


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


@_caused("readiness-gate")
def set_pod_condition(cluster: Any, pod_name: str, condition_type: str, status: bool | str = True, *,
                      namespace: str = "default", reason: str = "", message: str = "") -> Any:
    """Play the external controller of a readiness gate: write condition ``condition_type``
    (``status`` ``True``/``False`` or ``"True"``/``"False"``/``"Unknown"``) into the pod's
    ``status.conditions`` as a real controller does (in place or appended, the transition
    time moving only with the status, nothing else touched; no write if nothing changes). The
    kubelet then re-evaluates ``Ready``. Returns the stored pod. Writes carry the cause
    ``readiness-gate``; see :func:`kubesim.controllers.node.kubelet.set_pod_condition`."""
    from kubesim.controllers.node.kubelet import set_pod_condition as _set

    return _set(cluster.api, pod_name, condition_type, status, namespace=namespace, reason=reason,
                message=message, actor="client")


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

    # Refuse bad means, a bad until and a missing pod before drawing the seed (issue 14).
    Flapping(mean_up=mean_up, mean_down=mean_down)
    if until is not None:
        check_time(until, "until")
    cluster.get("Pod", pod, namespace)
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


# --------------------------------------------------------------------------------------------
# measured scenarios: build a cluster, settle, do one thing, report the churn of what followed
#
# These are the workloads of ``kubesim churn`` and ``kubesim scenario NAME``, and of the sweep
# scenarios (:mod:`kubesim.sweep`). Each builds its own seeded cluster, deploys a ``pods``-replica
# Deployment ``web`` behind one Service on ``nodes`` nodes, lets it settle, idles one virtual
# second (so that the measured window starts strictly after the last settling write), does its
# one thing and runs until nothing is pending. Each returns ``(cluster, report)``; the report
# covers what followed the one thing only. ``progress`` is :func:`kubesim.progress.advance`'s.
# ``events=False`` builds the cluster with ``events=False`` (no Event writes: about 15 % less
# CPU; the Endpoints and EndpointSlice writes are the same, their sizes differing only by the
# digits of resourceVersion, which Event writes no longer advance).
# Cost: one simulation, ``O(pods)`` writes of each kind plus the controllers' work.


def _measured_cluster(
    *, seed: int, nodes: int, max_endpoints_per_slice: int, batch_period: float, events: bool = True
) -> Cluster:
    # The lean engine (kubesim.lean): a Cluster whose API server writes the same change log
    # faster; tests/test_lean.py compares the two record for record. ``events=False`` is
    # Cluster(events=False): no Event writes (a non-bool raises InvalidOption naming events).
    from kubesim.lean import LeanCluster

    return LeanCluster(
        seed=seed,
        nodes=nodes,
        max_endpoints_per_slice=max_endpoints_per_slice,
        endpoint_updates_batch_period=batch_period,
        endpointslice_updates_batch_period=batch_period,
        events=events,
    )


def _run(cluster: Any, progress: Any, until: float | None = None) -> None:
    from kubesim.progress import advance

    advance(cluster, until, progress)


def quiet_start(cluster: Any) -> float:
    """Advance one virtual second past the settling writes and return the time, so that a
    report window starting then (``since`` is inclusive) holds only what comes next."""
    cluster.run(until=cluster.now + 1.0)
    return float(cluster.now)


def _settled(
    *,
    pods: int,
    nodes: int,
    max_endpoints_per_slice: int,
    batch_period: float,
    seed: int,
    progress: Any,
    readiness_probe: bool = False,
    max_surge: int | str = "25%",
    max_unavailable: int | str = "25%",
    events: bool = True,
) -> tuple[Cluster, float]:
    cluster = _measured_cluster(
        seed=seed, nodes=nodes, max_endpoints_per_slice=max_endpoints_per_slice, batch_period=batch_period,
        events=events,
    )
    deploy(cluster, "web", replicas=pods, readiness_probe=readiness_probe, max_surge=max_surge,
           max_unavailable=max_unavailable)
    _run(cluster, progress)
    return cluster, quiet_start(cluster)


def _report(cluster: Cluster, start: float) -> ChurnReport:
    from kubesim.report import ChurnReport

    report = cluster.churn(since=start)
    assert isinstance(report, ChurnReport)
    return report


def _first_pods(cluster: Any, count: int) -> list[str]:
    names = sorted(p.metadata.name for p in cluster.list("Pod", selector="app=web"))
    if not isinstance(count, int) or count < 1 or count > len(names):
        raise InvalidOption(f"count must be between 1 and the {len(names)} pods running, got {count!r}")
    return names[:count]


def rolling_update_churn(
    *,
    pods: int = 200,
    nodes: int = 100,
    max_endpoints_per_slice: int = 100,
    batch_period: float = 0.0,
    seed: int = 0,
    image: str = "nginx:1.26",
    max_surge: int | str = "25%",
    max_unavailable: int | str = "25%",
    events: bool = True,
    progress: Any = None,
) -> tuple[Cluster, ChurnReport]:
    """A rolling update (``kubectl set image``) to ``image``: the job ``kubesim`` runs.
    Returns ``(cluster, report)``; the report covers the rollout only."""
    cluster, start = _settled(
        pods=pods, nodes=nodes, max_endpoints_per_slice=max_endpoints_per_slice, batch_period=batch_period,
        seed=seed, progress=progress, events=events, max_surge=max_surge, max_unavailable=max_unavailable,
    )
    set_image(cluster, "web", image)
    _run(cluster, progress)
    return cluster, _report(cluster, start)


def scale_churn(
    *,
    replicas: int | None = None,
    pods: int = 200,
    nodes: int = 100,
    max_endpoints_per_slice: int = 100,
    batch_period: float = 0.0,
    seed: int = 0,
    events: bool = True,
    progress: Any = None,
) -> tuple[Cluster, ChurnReport]:
    """``kubectl scale`` to ``replicas`` (default: twice ``pods``)."""
    target = 2 * pods if replicas is None else replicas
    cluster, start = _settled(
        pods=pods, nodes=nodes, max_endpoints_per_slice=max_endpoints_per_slice, batch_period=batch_period,
        seed=seed, progress=progress, events=events,
    )
    scale(cluster, "web", target)
    _run(cluster, progress)
    return cluster, _report(cluster, start)


def fail_readiness_churn(
    *,
    count: int = 1,
    duration: float = 60.0,
    pods: int = 200,
    nodes: int = 100,
    max_endpoints_per_slice: int = 100,
    batch_period: float = 0.0,
    seed: int = 0,
    events: bool = True,
    progress: Any = None,
) -> tuple[Cluster, ChurnReport]:
    """The applications of the first ``count`` pods (by name; their containers have an HTTP
    readiness probe every 5 s) answer it with failures for ``duration`` seconds."""
    cluster, start = _settled(
        pods=pods, nodes=nodes, max_endpoints_per_slice=max_endpoints_per_slice, batch_period=batch_period,
        seed=seed, progress=progress, events=events, readiness_probe=True,
    )
    for pod in _first_pods(cluster, count):
        fail_readiness(cluster, pod, duration)
    _run(cluster, progress, start + duration)  # a known end: the bar shows a percentage
    _run(cluster, progress)
    return cluster, _report(cluster, start)


def flap_churn(
    *,
    count: int = 1,
    mean_up: float = 30.0,
    mean_down: float = 10.0,
    duration: float = 300.0,
    pods: int = 200,
    nodes: int = 100,
    max_endpoints_per_slice: int = 100,
    batch_period: float = 0.0,
    seed: int = 0,
    events: bool = True,
    progress: Any = None,
) -> tuple[Cluster, ChurnReport]:
    """The applications of the first ``count`` pods (readiness probe every 5 s, failure
    threshold 3) alternate healthy and failing stretches of exponential length (means
    ``mean_up`` and ``mean_down`` seconds) for ``duration`` seconds."""
    cluster, start = _settled(
        pods=pods, nodes=nodes, max_endpoints_per_slice=max_endpoints_per_slice, batch_period=batch_period,
        seed=seed, progress=progress, events=events, readiness_probe=True,
    )
    for pod in _first_pods(cluster, count):
        flap(cluster, pod, mean_up=mean_up, mean_down=mean_down, until=duration)
    _run(cluster, progress, start + duration)
    _run(cluster, progress)
    return cluster, _report(cluster, start)


def fail_node_churn(
    *,
    node: str = "node-1",
    recover_after: float | None = None,
    pods: int = 200,
    nodes: int = 100,
    max_endpoints_per_slice: int = 100,
    batch_period: float = 0.0,
    seed: int = 0,
    events: bool = True,
    progress: Any = None,
) -> tuple[Cluster, ChurnReport]:
    """Stop ``node``'s kubelet (NotReady after the 50 s grace period, evictions 300 s later);
    bring it back after ``recover_after`` seconds (default: never)."""
    cluster, start = _settled(
        pods=pods, nodes=nodes, max_endpoints_per_slice=max_endpoints_per_slice, batch_period=batch_period,
        seed=seed, progress=progress, events=events,
    )
    cluster.get("Node", node, "")
    fail_node(cluster, node)
    if recover_after is not None:
        cluster.clock.schedule(recover_after, lambda: recover_node(cluster, node))
    _run(cluster, progress)
    return cluster, _report(cluster, start)


def drain_churn(
    *,
    node: str = "node-1",
    pods: int = 200,
    nodes: int = 100,
    max_endpoints_per_slice: int = 100,
    batch_period: float = 0.0,
    seed: int = 0,
    events: bool = True,
    progress: Any = None,
) -> tuple[Cluster, ChurnReport]:
    """``kubectl drain`` ``node``: cordon it and evict every pod on it."""
    cluster, start = _settled(
        pods=pods, nodes=nodes, max_endpoints_per_slice=max_endpoints_per_slice, batch_period=batch_period,
        seed=seed, progress=progress, events=events,
    )
    cluster.get("Node", node, "")
    drain(cluster, node)
    _run(cluster, progress)
    return cluster, _report(cluster, start)


#: The measured scenarios by the name ``kubesim scenario NAME`` gives them.
MEASURED: dict[str, Callable[..., tuple[Cluster, ChurnReport]]] = {
    "rollout": rolling_update_churn,
    "scale": scale_churn,
    "fail-readiness": fail_readiness_churn,
    "flap": flap_churn,
    "fail-node": fail_node_churn,
    "drain": drain_churn,
}
