"""Cluster DNS: what CoreDNS's ``kubernetes`` plugin answers a pod.

:func:`resolve` answers a query the way a pod's resolver and CoreDNS together do (CoreDNS
``plugin/kubernetes/parse.go``, ``kubernetes.go`` ``findServices``/``findPods``,
``object/endpoint.go`` ``EndpointSliceToEndpoints``, ``plugin/backend_lookup.go``), with the
kubeadm Corefile (``kubernetes cluster.local in-addr.arpa ip6.arpa { pods insecure }``):

* the pod's ``/etc/resolv.conf``: ``search <ns>.svc.cluster.local svc.cluster.local
  cluster.local`` and ``options ndots:5`` — a name with fewer than five dots is tried with each
  search suffix first, then as given; a name ending in ``.`` is tried only as given; as in glibc,
  NXDOMAIN *and* NODATA move on to the next candidate;
* ``<svc>.<ns>.svc.cluster.local``: a ClusterIP / NodePort / LoadBalancer Service answers its
  cluster IPs (``A`` for IPv4, ``AAAA`` for IPv6; asking ``A`` of an IPv6-only Service is
  NODATA: an empty answer); a headless Service answers the addresses of its ready endpoints
  (``conditions.ready`` nil or true — the EndpointSlice controller marks every endpoint ready when
  ``publishNotReadyAddresses`` is set, so those are published too); a headless Service with no
  ready endpoint is NXDOMAIN; an ExternalName Service answers a ``CNAME`` to ``externalName``
  (not followed: CoreDNS would chase it through its upstream) — unless ``externalName`` is an IP
  address, which CoreDNS does not serve (NXDOMAIN);
* ``<endpoint>.<svc>.<ns>.svc.cluster.local``: one endpoint of any Service with a selector,
  named by its ``hostname`` (a pod with ``hostname`` and ``subdomain: <svc>``) or else by its
  dashed IP (``10-244-1-5``, ``fd00-10-244-1--5``);
* ``_<port>._<proto>.<svc>.<ns>.svc.cluster.local`` (``SRV``; the bare service name lists every
  port): ``priority weight port target``, weight ``floor(100 / n)`` over the ``n`` matches,
  the target the Service name (ClusterIP) or the endpoint name (headless);
* ``<a-b-c-d>.<ns>.pod.cluster.local``: ``pods insecure`` — the IP spelled by the name.

Answers are sorted (addresses numerically; SRV by port then target): CoreDNS returns its cache
order, which the ``loadbalance`` plugin shuffles, so no client may rely on it. Only the cluster
zone is modelled; any other name is NXDOMAIN here (CoreDNS would forward it upstream).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

import attrs

from kubesim.apiserver import APIServer
from kubesim.errors import InvalidOption, NXDomain
from kubesim.netutil import canonical_ip, parse_ip
from kubesim.objects import EndpointSlice, Service

__all__ = ["Answer", "resolve", "search_names", "endpoint_hostname", "CLUSTER_DOMAIN", "RECORD_TYPES", "TTL"]

#: The cluster domain (kubelet ``--cluster-domain``).
CLUSTER_DOMAIN = "cluster.local"
#: The record types :func:`resolve` answers.
RECORD_TYPES = ("A", "AAAA", "CNAME", "SRV")
#: CoreDNS's ``ttl`` in the kubeadm Corefile.
TTL = 30

_SERVICE_NAME_LABEL = "kubernetes.io/service-name"
_NDOTS = 5
#: Namespaces every cluster has, whether or not kubesim stored a Namespace object.
_SYSTEM_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})


@attrs.frozen
class Answer:
    """A DNS answer: the fully-qualified ``name`` answered (no trailing dot), its record
    ``type`` (``"A"``, ``"AAAA"``, ``"CNAME"``, ``"SRV"``) and the ``records`` as ``dig +short``
    prints them (``10.96.0.10``; ``db.example.com.``; ``0 33 80 web-0.web.default.svc.cluster.local.``).
    Empty ``records`` is NODATA (NOERROR with no answer). ``str()`` is ``dig``'s answer section.

    >>> str(Answer("web.default.svc.cluster.local", "A", ("10.96.0.10",))).split("\\t")
    ['web.default.svc.cluster.local.', '30', 'IN', 'A', '10.96.0.10']
    """

    name: str
    type: str
    records: tuple[str, ...] = ()

    def __str__(self) -> str:
        return "\n".join(f"{self.name}.\t{TTL}\tIN\t{self.type}\t{r}" for r in self.records)


@attrs.frozen
class _Record:
    """One ``msg.Service`` of CoreDNS: a host (IP or name), a port (-1: none) and the name it
    is published under."""

    host: str
    port: int
    target: str


class _NameError(Exception):
    """NXDOMAIN for one candidate name (internal)."""


def search_names(name: str, namespace: str = "default", *, cluster_domain: str = CLUSTER_DOMAIN) -> list[str]:
    """The names a pod in ``namespace`` queries for ``name``, in order (``ndots:5``). ``O(1)``.

    >>> search_names("web")[:2]
    ['web.default.svc.cluster.local', 'web.svc.cluster.local']
    >>> search_names("web.default.svc.cluster.local.")
    ['web.default.svc.cluster.local']
    """
    name = name.strip().lower()
    if name.endswith("."):
        return [name.rstrip(".")]
    search = [f"{namespace}.svc.{cluster_domain}", f"svc.{cluster_domain}", cluster_domain]
    suffixed = [f"{name}.{s}" for s in search]
    return [name, *suffixed] if name.count(".") >= _NDOTS else [*suffixed, name]


def resolve(
    api: APIServer,
    name: str,
    *,
    namespace: str = "default",
    record: str = "A",
    cluster_domain: str = CLUSTER_DOMAIN,
) -> Answer:
    """Resolve ``name`` as a pod in ``namespace`` would (search path, then CoreDNS).

    ``record`` is the query type: ``"A"``, ``"AAAA"``, ``"CNAME"`` or ``"SRV"``. The first
    candidate name (see :func:`search_names`) with a non-empty answer wins; if none has one but
    some answered NODATA, the first NODATA answer is returned (empty ``records``); otherwise
    :class:`~kubesim.errors.NXDomain` is raised, e.g. ``NXDOMAIN: web.default.svc.cluster.local``.

    ``O(S + E log E)`` per candidate for ``S`` slices in the namespace and ``E`` endpoints.
    """
    qtype = record.upper() if isinstance(record, str) else record
    if qtype not in RECORD_TYPES:
        raise InvalidOption(f"record must be one of {', '.join(RECORD_TYPES)}, got {record!r}")
    if not isinstance(name, str) or not name.strip(". "):
        raise InvalidOption(f"name must be a non-empty DNS name, got {name!r}")
    candidates = search_names(name, namespace, cluster_domain=cluster_domain)
    nodata: Answer | None = None
    for fqdn in candidates:
        try:
            answer = _query(api, fqdn, qtype, cluster_domain)
        except _NameError:
            continue
        if answer.records:
            return answer
        if nodata is None:
            nodata = answer
    if nodata is not None:
        return nodata
    first = candidates[0]
    others = candidates[1:]
    tried = f" (also tried {', '.join(others)})" if others else ""
    raise NXDomain(f"NXDOMAIN: {first}{tried}")


# ------------------------------------------------------------------------------ one query


def _query(api: APIServer, fqdn: str, qtype: str, zone: str) -> Answer:
    records = _records(api, fqdn, zone)
    return Answer(fqdn, *_format(records, qtype))


def _namespace_exists(api: APIServer, ns: str) -> bool:
    if ns in _SYSTEM_NAMESPACES or api.try_get("Namespace", ns, None) is not None:
        return True
    return bool(api.list_namespace("Service", ns)) or bool(api.list_namespace("Pod", ns))


def _records(api: APIServer, fqdn: str, zone: str) -> list[_Record]:
    """CoreDNS ``Records``: the services a name matches; :class:`_NameError` for NXDOMAIN,
    an empty list for NODATA."""
    if fqdn == zone:
        return []
    if not fqdn.endswith("." + zone):
        raise _NameError(fqdn)  # outside the cluster zone: upstream, not modelled
    base = fqdn[: -len(zone) - 1]
    if base in ("svc", "pod"):
        return []
    segs = base.split(".")
    if any(not s for s in segs):
        raise _NameError(fqdn)
    kind = segs.pop()
    if kind not in ("svc", "pod"):
        raise _NameError(fqdn)
    if not segs:
        return []
    ns = segs.pop()
    if not _namespace_exists(api, ns):
        raise _NameError(fqdn)
    if not segs:
        return []  # a namespace exists: NODATA
    service = segs.pop()
    endpoint = port = proto = ""
    if len(segs) == 1:
        endpoint = segs[0]
    elif len(segs) == 2:
        port, proto = segs[0].removeprefix("_"), segs[1].removeprefix("_")
    elif len(segs) > 2:
        raise _NameError(fqdn)
    if kind == "pod":
        return _pod_records(fqdn, service)
    svc = api.try_get("Service", service, ns)
    if svc is None:
        raise _NameError(fqdn)
    return _service_records(api, svc, fqdn, zone, endpoint, port, proto)


def _pod_records(fqdn: str, label: str) -> list[_Record]:
    # findPods, "pods insecure": a-b-c-d is IPv4, anything else dashes for colons.
    if label.count("-") == 3 and "--" not in label:
        text = label.replace("-", ".")
    else:
        text = label.replace("-", ":")
    ip = canonical_ip(text)
    if ip is None:
        raise _NameError(fqdn)
    return [_Record(ip, -1, fqdn)]


def _match(want: str, have: str) -> bool:
    return want == "" or want.lower() == have.lower()


def endpoint_hostname(address: str, hostname: str | None) -> str:
    """CoreDNS ``endpointHostname``: the endpoint's ``hostname``, else its address with dots
    (IPv4) or colons (IPv6) turned into dashes. ``O(1)``.

    >>> endpoint_hostname("10.244.1.5", None), endpoint_hostname("fd00::5", None)
    ('10-244-1-5', 'fd00--5')
    """
    if hostname:
        return hostname
    if "." in address:
        return address.replace(".", "-")
    return address.replace(":", "-")


def _service_slices(api: APIServer, svc: Service) -> list[EndpointSlice]:
    name = svc.metadata.name
    out = [
        s
        for s in api.list_namespace("EndpointSlice", svc.metadata.namespace).values()
        if s.metadata.labels.get(_SERVICE_NAME_LABEL) == name and s.address_type in ("IPv4", "IPv6")
    ]
    out.sort(key=lambda s: s.metadata.name)
    return out


def _service_records(
    api: APIServer, svc: Service, fqdn: str, zone: str, endpoint: str, port: str, proto: str
) -> list[_Record]:
    svc_name = f"{svc.metadata.name}.{svc.metadata.namespace}.svc.{zone}"
    spec = svc.spec
    if spec.type == "ExternalName":
        # External services have no endpoints; an IP in externalName is not a CNAME target.
        if endpoint or not spec.external_name or parse_ip(spec.external_name) is not None:
            raise _NameError(fqdn)
        return [_Record(spec.external_name.rstrip("."), 0, svc_name)]
    out: list[_Record] = []
    if svc.is_headless or endpoint:
        for s in _service_slices(api, svc):
            ports = [(p.port if p.port is not None else -1, p.name or "", p.protocol or "") for p in s.ports]
            if not ports:
                ports = [(-1, "", "")]  # CoreDNS's sentinel: a portless slice still publishes addresses
            for ep in s.endpoints:
                if ep.conditions.ready is False:
                    continue
                for addr in ep.addresses:
                    host = endpoint_hostname(addr, ep.hostname)
                    if endpoint and endpoint.lower() != host.lower():
                        continue
                    for number, pname, pproto in ports:
                        if _match(port, pname) and _match(proto, pproto):
                            out.append(_Record(addr, number, f"{host}.{svc_name}"))
        if not out:
            raise _NameError(fqdn)
        return out
    matched = False
    ips = spec.cluster_ips or ((spec.cluster_ip,) if spec.cluster_ip else ())
    for p in spec.ports:
        if _match(port, p.name) and _match(proto, p.protocol):
            matched = True
            out.extend(_Record(ip, p.port, svc_name) for ip in ips)
    if not matched:
        raise _NameError(fqdn)
    return out


# ------------------------------------------------------------------------------ formatting


def _ip_sort_key(text: str) -> tuple[int, int]:
    addr = ipaddress.ip_address(text)
    return (addr.version, int(addr))


def _format(records: Iterable[_Record], qtype: str) -> tuple[str, tuple[str, ...]]:
    recs = list(records)
    names = [r for r in recs if parse_ip(r.host) is None]
    if qtype in ("A", "AAAA"):
        if names:
            # plugin.A / plugin.AAAA: a name host is answered with its CNAME.
            return "CNAME", tuple(sorted({r.host + "." for r in names}))
        version = 4 if qtype == "A" else 6
        ips = {str(a) for r in recs if (a := parse_ip(r.host)) is not None and a.version == version}
        return qtype, tuple(sorted(ips, key=_ip_sort_key))
    if qtype == "CNAME":
        return "CNAME", tuple(sorted({r.host + "." for r in names}))
    # SRV (plugin.SRV): weight = floor(100 / matches), at least 1; records without a port are
    # dropped; IP hosts are named by their target and de-duplicated on (target, port).
    weight = max(1, 100 // len(recs)) if recs else 0
    seen: set[tuple[str, int]] = set()
    rows: list[tuple[int, str]] = []
    for r in recs:
        if r.port == -1:
            continue
        target = (r.host if r in names else r.target) + "."
        if (target, r.port) in seen:
            continue
        seen.add((target, r.port))
        rows.append((r.port, target))
    rows.sort()
    return "SRV", tuple(f"0 {weight} {p} {t}" for p, t in rows)

