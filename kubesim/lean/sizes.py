"""Exact sizes by shape: :func:`kubesim.wire.sizes3` memoised on what the size depends on.

A write's JSON and protobuf sizes depend on the *lengths* of its varying strings (names, node
names, IPs, resourceVersion digits) and on the encoded lengths of its varying integers (JSON
digits, protobuf varint bytes, and whether a zero is omitted), not on their values. So each
kind gets a *shape key* — a tuple of those lengths plus the identities of the parts shared per
template (pod spec containers, label and annotation maps, owner references), which are pinned so
an identity is never reused — and the memo holds the full encoder's answer per key: the first
object of a shape is measured with :func:`kubesim.wire.sizes3`, every later one costs the key.

Assumptions a key makes (and check mode verifies): timestamps are whole seconds within the same
encoded length (RFC 3339 in JSON, 5 varint bytes in protobuf: 1970+8.5 years to 3058); the
strings keyed by length are ASCII without characters JSON escapes (generated names, node names,
IPs, digits). Endpoints and EndpointSlices are measured by :func:`kubesim.wire.sizes3`, whose
per-entry caches make them ``O(changed entries)``.

Costs: a hit is ``O(fields)`` (a few dozen attribute reads); a miss is one full sizing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubesim import wire

__all__ = ["ShapeSizer"]

Sizes = tuple[int, int, int]


def _n(v: int | None) -> object:
    # An integer's encoded shape: None; or its JSON digits and protobuf varint bytes (a zero
    # is kept apart: omitempty fields drop it from JSON).
    if v is None:
        return None
    if v <= 0:
        return v
    return (len(str(v)), (v.bit_length() + 6) // 7)


class ShapeSizer:
    """Sizes of Pods, ReplicaSets, Deployments and Nodes by shape key (other kinds: the full
    encoder). ``sizes(obj)`` equals ``wire.sizes3(obj)``. ``hits``/``misses`` count."""

    __slots__ = ("_memo", "_pins", "hits", "misses", "_keyers")

    def __init__(self) -> None:
        self._memo: dict[tuple[object, ...], Sizes] = {}
        self._pins: dict[int, object] = {}
        self.hits = 0
        self.misses = 0
        self._keyers: dict[str, Callable[[Any], tuple[object, ...]]] = {
            "Pod": self._pod_key, "ReplicaSet": self._rs_key, "Deployment": self._d_key, "Node": self._node_key,
        }

    def _pin(self, obj: object) -> int:
        i = id(obj)
        if i not in self._pins:
            self._pins[i] = obj
        return i

    def sizes(self, obj: Any) -> Sizes:
        keyer = self._keyers.get(obj.kind)
        if keyer is None:
            return wire.sizes3(obj)
        key = keyer(obj)
        got = self._memo.get(key)
        if got is not None:
            self.hits += 1
            return got
        self.misses += 1
        got = self._memo[key] = wire.sizes3(obj)
        return got

    def _meta(self, m: Any) -> tuple[object, ...]:
        pin = self._pin
        return (
            len(m.name), len(m.generate_name), len(m.namespace), len(m.uid), len(m.resource_version), _n(m.generation),
            m.creation_timestamp is None, m.deletion_timestamp is None, _n(m.deletion_grace_period_seconds),
            m.self_link, pin(m.labels), pin(m.annotations), pin(m.owner_references), pin(m.finalizers),
            pin(m.managed_fields),
        )

    def _pod_key(self, p: Any) -> tuple[object, ...]:
        s, st = p.spec, p.status
        pin = self._pin
        return (
            "Pod", self._meta(p.metadata),
            pin(s.containers), pin(s.init_containers), len(s.node_name), s.hostname, s.subdomain, s.restart_policy,
            s.termination_grace_period_seconds, pin(s.node_selector), s.scheduler_name,
            st.phase, len(st.host_ip), len(st.pod_ip), tuple(len(x.ip) for x in st.pod_ips), st.start_time is None,
            st.reason, st.message,
            tuple((c.type, c.status, c.reason, c.message, c.last_transition_time is None, c.last_probe_time is None)
                  for c in st.conditions),
        )

    def _rs_key(self, rs: Any) -> tuple[object, ...]:
        m, s, st = rs.metadata, rs.spec, rs.status
        pin = self._pin
        meta = (len(m.name), len(m.namespace), len(m.uid), len(m.resource_version), _n(m.generation),
                m.creation_timestamp is None, m.deletion_timestamp is None, pin(m.labels),
                tuple(m.annotations.items()), pin(m.owner_references), pin(m.finalizers), pin(m.managed_fields),
                m.generate_name, m.self_link, m.deletion_grace_period_seconds)
        return ("ReplicaSet", meta, pin(s.selector), pin(s.template), _n(s.replicas), _n(s.min_ready_seconds),
                _n(st.replicas), _n(st.fully_labeled_replicas), _n(st.ready_replicas), _n(st.available_replicas),
                _n(st.observed_generation), type(st))

    def _d_key(self, d: Any) -> tuple[object, ...]:
        st = d.status
        return ("Deployment", self._meta(d.metadata), self._pin(d.spec), _n(st.observed_generation),
                _n(st.replicas), _n(st.updated_replicas), _n(st.ready_replicas), _n(st.available_replicas),
                _n(st.unavailable_replicas), type(st))

    def _node_key(self, n: Any) -> tuple[object, ...]:
        m, s, st = n.metadata, n.spec, n.status
        return ("Node", len(m.name), len(m.uid), len(m.resource_version), m.creation_timestamp is None,
                tuple((k, len(v)) for k, v in m.labels.items()), self._pin(m.annotations),
                tuple(len(c) for c in s.pod_cidrs), len(s.pod_cidr), s.unschedulable, self._pin(s.taints),
                tuple(st.capacity.items()), tuple(st.allocatable.items()), self._pin(st.addresses),
                tuple((c.type, c.status, c.reason, c.message, c.last_heartbeat_time is None,
                       c.last_transition_time is None) for c in st.conditions))
