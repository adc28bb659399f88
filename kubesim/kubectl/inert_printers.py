"""``kubectl get`` tables of the inert kinds (:mod:`kubesim.inert`), with the columns of
kubectl's printers (``pkg/printers/internalversion/printers.go``): ConfigMap (DATA), Secret
(TYPE, DATA), ServiceAccount (SECRETS), Job, CronJob, Ingress, HorizontalPodAutoscaler,
PodDisruptionBudget, Role/ClusterRole (CREATED AT), RoleBinding/ClusterRoleBinding (ROLE),
NetworkPolicy (POD-SELECTOR), IngressClass, Event (:mod:`kubesim.kubectl.events`); NAME and AGE
for the others. Nothing runs an inert
object, so a Job shows ``Running`` with ``0/1`` completions for ever, an HPA ``<unknown>``
metrics, a PDB no allowed disruptions: exactly what kubectl prints for them on a cluster
without those controllers. Every row is ``O(size of the object)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubesim.inert import InertObject, content
from kubesim.kubectl.common import _age
from kubesim.kubectl.events import EVENT_COLUMNS, event_row
from kubesim.manifests.times import format_time

__all__ = ["INERT_TABLES"]

_Row = Callable[[Any, int, bool], list[str]]


def _name_age(o: InertObject, now: int, wide: bool) -> list[str]:
    return [o.metadata.name, _age(o.metadata.creation_timestamp, now)]


def _created_at(o: InertObject, now: int, wide: bool) -> list[str]:
    ts = o.metadata.creation_timestamp
    return [o.metadata.name, format_time(ts) if ts is not None else "<unknown>"]


def _configmap(o: InertObject, now: int, wide: bool) -> list[str]:
    b = content(o)
    n = len(b.get("data") or {}) + len(b.get("binaryData") or {})
    return [o.metadata.name, str(n), _age(o.metadata.creation_timestamp, now)]


def _secret(o: InertObject, now: int, wide: bool) -> list[str]:
    b = content(o)
    return [o.metadata.name, str(b.get("type") or ""), str(len(b.get("data") or {})), _age(o.metadata.creation_timestamp, now)]


def _service_account(o: InertObject, now: int, wide: bool) -> list[str]:
    b = content(o)
    return [o.metadata.name, str(len(b.get("secrets") or [])), _age(o.metadata.creation_timestamp, now)]


def _pod_template_wide(spec: Any) -> list[str]:
    t = ((spec or {}).get("template") or {}).get("spec") or {}
    containers = t.get("containers") or []
    names = ",".join(str(c.get("name", "")) for c in containers) or "<none>"
    images = ",".join(str(c.get("image", "")) for c in containers) or "<none>"
    return [names, images]


def _selector(sel: Any) -> str:
    if not sel:
        return "<none>"
    parts = [f"{k}={v}" for k, v in sorted((sel.get("matchLabels") or {}).items())]
    for r in sel.get("matchExpressions") or []:
        op = r.get("operator", "")
        vals = ",".join(r.get("values") or [])
        if op == "In":
            parts.append(f"{r.get('key')} in ({vals})")
        elif op == "NotIn":
            parts.append(f"{r.get('key')} notin ({vals})")
        elif op == "Exists":
            parts.append(str(r.get("key")))
        elif op == "DoesNotExist":
            parts.append(f"!{r.get('key')}")
    return ",".join(parts) or "<none>"


def _job(o: InertObject, now: int, wide: bool) -> list[str]:
    spec = o.spec or {}
    completions = spec.get("completions")
    parallelism = spec.get("parallelism")
    if completions is None and parallelism is None:
        completions = 1  # SetDefaults_Job
    if completions is not None:
        done = f"0/{completions}"
    else:
        done = f"0/1 of {parallelism}" if (parallelism or 0) > 1 else "0/1"
    status = "Terminating" if o.metadata.deletion_timestamp is not None else (
        "Suspended" if spec.get("suspend") is True else "Running")
    cells = [o.metadata.name, status, done, "", _age(o.metadata.creation_timestamp, now)]
    if wide:
        cells += [*_pod_template_wide(spec), _selector(spec.get("selector"))]
    return cells


def _cronjob(o: InertObject, now: int, wide: bool) -> list[str]:
    spec = o.spec or {}
    cells = [
        o.metadata.name,
        str(spec.get("schedule", "")),
        str(spec.get("timeZone")) if spec.get("timeZone") else "<none>",
        "True" if spec.get("suspend") is True else "False",
        "0",
        "<none>",
        _age(o.metadata.creation_timestamp, now),
    ]
    if wide:
        job = (spec.get("jobTemplate") or {}).get("spec") or {}
        cells += [*_pod_template_wide(job), _selector(job.get("selector"))]
    return cells


def _ingress(o: InertObject, now: int, wide: bool) -> list[str]:
    spec = o.spec or {}
    hosts = [str(r["host"]) for r in spec.get("rules") or [] if r.get("host")]
    ports = "80, 443" if spec.get("tls") else "80"
    return [
        o.metadata.name,
        str(spec.get("ingressClassName") or "<none>"),
        ",".join(hosts) if hosts else "*",
        "",
        ports,
        _age(o.metadata.creation_timestamp, now),
    ]


def _hpa_targets(metrics: list[Any]) -> str:
    if not metrics:
        return "<none>"
    shown = []
    for m in metrics[:3]:
        kind = m.get("type")
        src = m.get(_METRIC_KEYS.get(kind, ""), {}) or {}
        target = src.get("target") or {}
        name = (src.get("metric") or {}).get("name") if kind in ("Pods", "Object", "External") else src.get("name")
        if target.get("averageUtilization") is not None:
            value = f"<unknown>/{target['averageUtilization']}%"
        elif target.get("averageValue") is not None:
            value = f"<unknown>/{target['averageValue']} (avg)" if kind == "External" else f"<unknown>/{target['averageValue']}"
        else:
            value = f"<unknown>/{target.get('value', '<unset>')}"
        shown.append(f"{name}: {value}" if name else value)
    out = ", ".join(shown)
    if len(metrics) > 3:
        out += f" + {len(metrics) - 3} more..."
    return out


_METRIC_KEYS = {"Resource": "resource", "ContainerResource": "containerResource", "Pods": "pods",
                "Object": "object", "External": "external"}


def _hpa(o: InertObject, now: int, wide: bool) -> list[str]:
    spec = o.spec or {}
    ref = spec.get("scaleTargetRef") or {}
    return [
        o.metadata.name,
        f"{ref.get('kind', '')}/{ref.get('name', '')}",
        _hpa_targets(spec.get("metrics") or []),
        str(spec.get("minReplicas", 1)),
        str(spec.get("maxReplicas", 0)),
        "0",
        _age(o.metadata.creation_timestamp, now),
    ]


def _pdb(o: InertObject, now: int, wide: bool) -> list[str]:
    spec = o.spec or {}
    lo = spec.get("minAvailable")
    hi = spec.get("maxUnavailable")
    return [
        o.metadata.name,
        "N/A" if lo is None else str(lo),
        "N/A" if hi is None else str(hi),
        "0",
        _age(o.metadata.creation_timestamp, now),
    ]


def _binding(o: InertObject, now: int, wide: bool) -> list[str]:
    b = content(o)
    ref = b.get("roleRef") or {}
    cells = [o.metadata.name, f"{ref.get('kind', '')}/{ref.get('name', '')}", _age(o.metadata.creation_timestamp, now)]
    if wide:
        subjects = b.get("subjects") or []

        def of(kind: str) -> str:
            names = [
                (f"{s.get('namespace')}/{s.get('name')}" if kind == "ServiceAccount" else str(s.get("name")))
                for s in subjects if s.get("kind") == kind
            ]
            return ", ".join(names)

        cells += [of("User"), of("Group"), of("ServiceAccount")]
    return cells


def _network_policy(o: InertObject, now: int, wide: bool) -> list[str]:
    spec = o.spec or {}
    sel = spec.get("podSelector") or {}
    shown = _selector(sel)
    return [o.metadata.name, "<none>" if shown == "<none>" else shown, _age(o.metadata.creation_timestamp, now)]


def _ingress_class(o: InertObject, now: int, wide: bool) -> list[str]:
    spec = o.spec or {}
    p = spec.get("parameters")
    params = "<none>" if not p else f"{p.get('kind')}/{p.get('name')}"
    return [o.metadata.name, str(spec.get("controller", "")), params, _age(o.metadata.creation_timestamp, now)]


_NAME_AGE = (("Name", False), ("Age", False))
_BINDING = (("Name", False), ("Role", False), ("Age", False), ("Users", True), ("Groups", True),
            ("ServiceAccounts", True))
_WORKLOAD_WIDE = (("Containers", True), ("Images", True), ("Selector", True))

#: kind -> ((column title, wide only) ..., row function)
INERT_TABLES: dict[str, tuple[tuple[tuple[str, bool], ...], _Row]] = {
    "ConfigMap": ((("Name", False), ("Data", False), ("Age", False)), _configmap),
    "Secret": ((("Name", False), ("Type", False), ("Data", False), ("Age", False)), _secret),
    "ServiceAccount": ((("Name", False), ("Secrets", False), ("Age", False)), _service_account),
    "Job": ((("Name", False), ("Status", False), ("Completions", False), ("Duration", False), ("Age", False),
             *_WORKLOAD_WIDE), _job),
    "CronJob": ((("Name", False), ("Schedule", False), ("Timezone", False), ("Suspend", False), ("Active", False),
                 ("Last Schedule", False), ("Age", False), *_WORKLOAD_WIDE), _cronjob),
    "Ingress": ((("Name", False), ("Class", False), ("Hosts", False), ("Address", False), ("Ports", False),
                 ("Age", False)), _ingress),
    "HorizontalPodAutoscaler": ((("Name", False), ("Reference", False), ("Targets", False), ("MinPods", False),
                                 ("MaxPods", False), ("Replicas", False), ("Age", False)), _hpa),
    "PodDisruptionBudget": ((("Name", False), ("Min Available", False), ("Max Unavailable", False),
                             ("Allowed Disruptions", False), ("Age", False)), _pdb),
    "Role": ((("Name", False), ("Created At", False)), _created_at),
    "ClusterRole": ((("Name", False), ("Created At", False)), _created_at),
    "RoleBinding": (_BINDING, _binding),
    "ClusterRoleBinding": (_BINDING, _binding),
    "NetworkPolicy": ((("Name", False), ("Pod-Selector", False), ("Age", False)), _network_policy),
    "IngressClass": ((("Name", False), ("Controller", False), ("Parameters", False), ("Age", False)), _ingress_class),
    "LimitRange": ((("Name", False), ("Created At", False)), _created_at),
    "PersistentVolumeClaim": (_NAME_AGE, _name_age),
    "ResourceQuota": (_NAME_AGE, _name_age),
    "Event": (EVENT_COLUMNS, event_row),
}
