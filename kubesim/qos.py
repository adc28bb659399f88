"""A pod's quality-of-service class, as ``pkg/apis/core/helper/qos`` computes it, and the
exact value of a ``resource.Quantity`` string it compares by.

* :func:`compute_pod_qos` — ``ComputePodQOS``: the class from the cpu and memory requests
  and limits of the pod's containers and init containers;
* :func:`get_pod_qos` — ``GetPodQOS``: ``status.qosClass`` when set, else the computed class
  (what the API server stores at create, ``podStrategy.PrepareForCreate``, and what the
  kubelet and kubectl read);
* :func:`quantity_milli` — a quantity's value as the API server stores it in a container's
  resources (``resource.ParseQuantity``, then ``SetDefaults_ResourceList``'s rounding up to
  thousandths), exactly and in bounded work, so ``"1"``, ``"1000m"`` and ``"1e0"`` compare
  equal, as ``Quantity.Cmp`` has them.

Imports: :mod:`kubesim.objects`, :mod:`kubesim._memo`.
"""

from __future__ import annotations

import re
from fractions import Fraction

from kubesim._memo import ByIdentity
from kubesim.objects import Container, Pod, PodSpec

__all__ = [
    "QOS_BEST_EFFORT",
    "QOS_BURSTABLE",
    "QOS_GUARANTEED",
    "clear_caches",
    "compute_pod_qos",
    "get_pod_qos",
    "quantity_milli",
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
_EXPONENT = re.compile(r"[eE]([+-]?)([0-9]+)")
#: ``maxAllowed``: ParseQuantity caps a binary-suffixed value at the largest int64
_MAX_BINARY = 2**63 - 1


def quantity_milli(text: str) -> tuple[int, int] | None:
    """The value of the quantity ``text`` (``"100m"``, ``"1.5Gi"``, ``"2e3"``) as the API
    server stores it in a container's resources, in thousandths: ``(c, e)`` for the value
    ``c * 10**e / 1000`` (``e >= 0``, ``c`` not a multiple of 10 unless 0, so equal values have
    equal pairs: ``"1"``, ``"1000m"`` and ``"1e0"`` compare equal, as ``Quantity.Cmp`` has them);
    ``None`` when it does not parse (the API server refuses such a quantity when it decodes a
    manifest; kubesim keeps quantities as the strings written).

    The value is ``resource.ParseQuantity``'s (a decimal exponent is read as an int64, refused
    beyond it and truncated to int32 as ``suffixHandler.interpret`` does; a binary-suffixed
    value is capped at the largest int64, ``maxAllowed``) rounded up, away from zero, to
    thousandths, as ``SetDefaults_ResourceList`` rounds every request and limit (``RoundUp(-3)``;
    ParseQuantity's own rounding up to nano units is finer, so it changes nothing here).
    Exact and ``O(len(text))``: a decimal value is kept as digits and a power of ten, never as
    ``10**e`` (an exponent of a million would cost seconds); a power of ten it divides by is at
    most ``len(text)`` digits long (a value smaller than a thousandth is ``±1``).

    >>> quantity_milli("100m"), quantity_milli("1Ki"), quantity_milli("100.5m"), quantity_milli("1e3000000")
    ((1, 2), (1024, 3), (101, 0), (1, 3000003))
    >>> quantity_milli("1e3m"), quantity_milli("-1n")
    (None, (-1, 0))
    """
    m = _QUANTITY.fullmatch(text)
    if m is None:  # pragma: no cover - the pattern matches every string
        return None
    sign, whole, frac, suffix = m.groups()
    frac = frac or ""
    if not whole and not frac:
        return None
    digits = ((whole or "") + frac).lstrip("0") or "0"
    if len(digits) > 4000:
        return None  # beyond int()'s limit for a decimal string (no quantity of a pod spec has that)
    c = int(digits)
    e = -len(frac) + 3  # the value in thousandths is c * 10**e
    if suffix in _BINARY:
        # 2**60 at most: exact as a fraction, then ParseQuantity's cap
        exact = Fraction(c * 2 ** _BINARY[suffix], 10 ** len(frac)) if e < 3 else Fraction(c * 2 ** _BINARY[suffix])
        if exact > _MAX_BINARY:
            exact = Fraction(_MAX_BINARY)
        c, e = -(-(exact * 1000).numerator // (exact * 1000).denominator), 0
    else:
        if suffix in _DECIMAL:
            e += _DECIMAL[suffix]
        else:
            x = _EXPONENT.fullmatch(suffix)
            if x is None:
                return None
            n = x.group(2).lstrip("0")
            if len(n) > 19 or int(n or "0") >= 2**63 + (x.group(1) == "-"):
                return None  # strconv.ParseInt(_, 10, 64) refuses it
            power = int(n or "0")
            # int32(parsed): the low 32 bits, signed
            power = (((-power if x.group(1) == "-" else power) + 2**31) % 2**32) - 2**31
            e += power
        if e < 0:
            if len(digits) <= -e:
                c, e = (1 if c else 0), 0  # below a thousandth (or 0): rounds up to one
            else:
                c, e = -(-c // 10**-e), 0  # 10**-e has fewer digits than the text
    if c == 0:
        return 0, 0
    while c % 10 == 0:
        c //= 10
        e += 1
    return (-c if sign == "-" else c), e


def _sums_equal(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> bool:
    """Whether the positive values ``a`` and ``b`` (:func:`quantity_milli` pairs) have equal
    sums, without building ``10**e`` for a large ``e``: the gaps between the exponents present
    are shortened to at most ``width`` digits, more than the digits any carry can span (a sum
    of ``n`` coefficients of at most ``d`` digits has fewer than ``d + len(str(n))``), so the
    digits of the terms above and below a shortened gap never meet, in the true sums or in the
    shortened ones, and the two sums are equal exactly when the shortened ones are.
    ``O(terms · digits)``."""
    exps = sorted({e for _, e in a} | {e for _, e in b})
    width = max(len(str(c)) for c, _ in (*a, *b)) + len(str(len(a) + len(b))) + 1
    short: dict[int, int] = {}
    at = prev = 0
    for i, e in enumerate(exps):
        at = 0 if i == 0 else at + min(e - prev, width)
        short[e] = at
        prev = e
    return bool(sum(c * 10 ** short[e] for c, e in a) == sum(c * 10 ** short[e] for c, e in b))


def _positive_terms(
    containers: tuple[Container, ...], limits: bool
) -> tuple[dict[str, list[tuple[int, int]]], bool]:
    """The positive cpu and memory requests (or limits) of ``containers``
    (:func:`quantity_milli` pairs), by resource, and whether every container has both a
    positive cpu and a positive memory one. A request not set is its limit, as
    ``SetDefaults_Pod`` makes it before the registry computes the class: the same class for a
    pod defaulted or not (a trusted create is not)."""
    terms: dict[str, list[tuple[int, int]]] = {}
    all_set = True
    for c in containers:
        r = c.resources
        found = 0
        for name in _QOS_RESOURCES:
            text = r.limits.get(name) if limits else r.requests.get(name, r.limits.get(name))
            if text is None:
                continue
            v = quantity_milli(text)
            if v is not None and v[0] > 0:
                terms.setdefault(name, []).append(v)
                found += 1
        if found != len(_QOS_RESOURCES):
            all_set = False
    return terms, all_set


def compute_pod_qos(spec: PodSpec) -> str:
    """``qos.ComputePodQOS``: ``BestEffort`` when no container or init container has a
    positive cpu or memory request or limit; ``Guaranteed`` when every one of them has a
    positive cpu and memory limit and the summed requests equal the summed limits, resource by
    resource (a request left unset is its limit, as the API server's defaulting makes it);
    ``Burstable`` otherwise. Quantities are compared by their stored values, rounded up to
    thousandths (:func:`quantity_milli`); other resources are ignored. Pod-level resources are not
    modelled. Memoised by the spec's identity (the pods of a template share their spec, and the
    class is a pure function of the frozen spec): ``O(1)`` for a spec seen before, else
    ``O(containers)``; :func:`clear_caches` forgets.

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
    return _COMPUTE_POD_QOS(spec)


def _compute_pod_qos(spec: PodSpec) -> str:
    """:func:`compute_pod_qos`, not memoised."""
    containers = (*spec.containers, *spec.init_containers)
    if not any(c.resources.requests or c.resources.limits for c in containers):
        return QOS_BEST_EFFORT  # no quantity at all: nothing to parse
    requests, _ = _positive_terms(containers, False)
    limits, guaranteed = _positive_terms(containers, True)
    if not requests and not limits:
        return QOS_BEST_EFFORT
    if guaranteed and requests.keys() == limits.keys() and all(
        _sums_equal(requests[k], limits[k]) for k in requests
    ):
        return QOS_GUARANTEED
    return QOS_BURSTABLE


#: compute_pod_qos by the spec's identity (:class:`~kubesim._memo.ByIdentity`: an entry lives
#: as long as its spec)
_COMPUTE_POD_QOS: ByIdentity[PodSpec, str] = ByIdentity(_compute_pod_qos, 1 << 15)


def clear_caches() -> None:
    """Forget every memoised class (a speed-up only). ``O(entries)``."""
    _COMPUTE_POD_QOS.cache.clear()


def get_pod_qos(pod: Pod) -> str:
    """``qos.GetPodQOS``: the pod's ``status.qosClass`` when set, else
    :func:`compute_pod_qos` of its spec. ``O(1)`` for a stored pod (its class is set at
    create), ``O(containers)`` otherwise."""
    return pod.status.qos_class or compute_pod_qos(pod.spec)
