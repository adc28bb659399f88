"""A pod's quality-of-service class, as ``pkg/apis/core/helper/qos`` computes it, and the
exact value of a ``resource.Quantity`` string it compares by.

* :func:`compute_pod_qos` — ``ComputePodQOS``: the class from the cpu and memory requests
  and limits of the pod's containers and init containers;
* :func:`get_pod_qos` — ``GetPodQOS``: ``status.qosClass`` when set, else the computed class
  (what the API server stores at create, ``podStrategy.PrepareForCreate``, and what the
  kubelet and kubectl read);
* :func:`quantity_value` — a quantity's value as an exact :class:`~fractions.Fraction`
  (``resource.ParseQuantity``'s grammar), so ``"1"``, ``"1000m"`` and ``"1e0"`` compare
  equal, as ``Quantity.Cmp`` has them.

Imports: :mod:`kubesim.objects`.
"""

from __future__ import annotations

import re
from fractions import Fraction

from kubesim.objects import Container, Pod, PodSpec

__all__ = [
    "QOS_BEST_EFFORT",
    "QOS_BURSTABLE",
    "QOS_GUARANTEED",
    "compute_pod_qos",
    "get_pod_qos",
    "quantity_value",
]

#: ``corev1.PodQOSGuaranteed``
QOS_GUARANTEED = "Guaranteed"
#: ``corev1.PodQOSBurstable``
QOS_BURSTABLE = "Burstable"
#: ``corev1.PodQOSBestEffort``
QOS_BEST_EFFORT = "BestEffort"

#: the compute resources the class is computed over (``supportedQoSComputeResources``)
_QOS_RESOURCES = ("cpu", "memory")

_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
# <signedNumber><suffix>: a sign, digits with at most one point (at least one digit), then a
# binary or decimal SI suffix or a decimal exponent (e/E and a signed integer).
_QUANTITY = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?(.*)", re.DOTALL)
_EXPONENT = re.compile(r"[eE]([+-]?[0-9]+)")


def quantity_value(text: str) -> Fraction | None:
    """The exact value of the quantity ``text`` (``"100m"``, ``"1.5Gi"``, ``"2e3"``), or
    ``None`` when it does not parse (the API server refuses such a quantity when it decodes a
    manifest; kubesim keeps quantities as the strings written). ``O(len(text))``.

    >>> quantity_value("100m"), quantity_value("1Ki"), quantity_value("2e-3"), quantity_value("1e3m")
    (Fraction(1, 10), Fraction(1024, 1), Fraction(1, 500), None)
    """
    m = _QUANTITY.fullmatch(text)
    if m is None:  # pragma: no cover - the pattern matches every string
        return None
    sign, whole, frac, suffix = m.groups()
    frac = frac or ""
    if not whole and not frac:
        return None
    value = Fraction(int((whole or "0") + frac), 10 ** len(frac))
    if suffix in _BINARY:
        value *= 2 ** _BINARY[suffix]
    elif suffix in _DECIMAL:
        value *= Fraction(10) ** _DECIMAL[suffix]
    else:
        e = _EXPONENT.fullmatch(suffix)
        if e is None:
            return None
        value *= Fraction(10) ** int(e.group(1))
    return -value if sign == "-" else value


def _positive_sums(containers: tuple[Container, ...], limits: bool) -> tuple[dict[str, Fraction], bool]:
    """The sums over ``containers`` of their positive cpu and memory requests (or limits),
    and whether every container has both a positive cpu and a positive memory one. A request
    not set is its limit, as ``SetDefaults_Pod`` makes it before the registry computes the
    class: the same class for a pod defaulted or not (a trusted create is not)."""
    sums: dict[str, Fraction] = {}
    all_set = True
    for c in containers:
        r = c.resources
        found = 0
        for name in _QOS_RESOURCES:
            text = r.limits.get(name) if limits else r.requests.get(name, r.limits.get(name))
            if text is None:
                continue
            v = quantity_value(text)
            if v is not None and v > 0:
                sums[name] = sums.get(name, 0) + v
                found += 1
        if found != len(_QOS_RESOURCES):
            all_set = False
    return sums, all_set


def compute_pod_qos(spec: PodSpec) -> str:
    """``qos.ComputePodQOS``: ``BestEffort`` when no container or init container has a
    positive cpu or memory request or limit; ``Guaranteed`` when every one of them has a
    positive cpu and memory limit and the summed requests equal the summed limits, resource by
    resource (a request left unset is its limit, as the API server's defaulting makes it);
    ``Burstable`` otherwise. Quantities are compared by value
    (:func:`quantity_value`); other resources are ignored. Pod-level resources are not
    modelled. ``O(containers)``.

    >>> from kubesim.objects import Container, PodSpec, ResourceRequirements
    >>> def pod(**resources):
    ...     return PodSpec(containers=[Container("c", resources=ResourceRequirements(**resources))])
    >>> compute_pod_qos(pod())
    'BestEffort'
    >>> compute_pod_qos(pod(requests={"cpu": "100m"}))
    'Burstable'
    >>> compute_pod_qos(pod(requests={"cpu": "1", "memory": "1Gi"}, limits={"cpu": "1000m", "memory": "1024Mi"}))
    'Guaranteed'
    >>> compute_pod_qos(pod(limits={"cpu": "1", "memory": "1Gi"}))
    'Guaranteed'
    """
    containers = (*spec.containers, *spec.init_containers)
    if not any(c.resources.requests or c.resources.limits for c in containers):
        return QOS_BEST_EFFORT  # no quantity at all: nothing to parse
    requests, _ = _positive_sums(containers, False)
    limits, guaranteed = _positive_sums(containers, True)
    if not requests and not limits:
        return QOS_BEST_EFFORT
    if guaranteed and requests == limits:
        return QOS_GUARANTEED
    return QOS_BURSTABLE


def get_pod_qos(pod: Pod) -> str:
    """``qos.GetPodQOS``: the pod's ``status.qosClass`` when set, else
    :func:`compute_pod_qos` of its spec. ``O(1)`` for a stored pod (its class is set at
    create), ``O(containers)`` otherwise."""
    return pod.status.qos_class or compute_pod_qos(pod.spec)
