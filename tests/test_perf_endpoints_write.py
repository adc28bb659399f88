"""An Endpoints write in ``O(changed addresses)`` (issue #7), checked against from-scratch
computations.

The incremental Endpoints engine (:mod:`kubesim.controllers.endpoints.incremental`) keeps, per address
list, running entry-size sums of the part a write keeps and the addresses that entered it since
the previous write; it hands the sums to :func:`kubesim.wire.vouch_address_list` and the
derivation to :func:`kubesim.validation.note_derived_addresses`.  These tests drive random
sequences of address changes (Hypothesis) and compare every size (protobuf as served and as
stored, JSON) with the length of the full encoding, and every validation error with a
validation that remembers nothing, in capped (tiny capacities, so truncation moves the kept
prefix) and uncapped modes, with one and several subsets and with not-ready lists.  Hints are
checked as they are given (``CHECK_HINTS``), so a false claim fails at once.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

import kubesim
from kubesim import validation, wire
from kubesim._memo import IdentityMemo
from kubesim.apiserver import APIServer
from kubesim.clock import Clock
from kubesim.controllers.endpoints.incremental import ServiceEndpoints, _Side
from kubesim.controllers.endpoints.reconciler import _addr_sort_key, endpoints_for
from kubesim.errors import InvalidObject
from kubesim.objects import (
    Container,
    ContainerPort,
    EndpointAddress,
    EndpointPort,
    Endpoints,
    EndpointSubset,
    ObjectMeta,
    ObjectReference,
    Pod,
    PodCondition,
    PodIP,
    PodSpec,
    PodStatus,
    Service,
    ServicePort,
    ServiceSpec,
)

NS = "default"
T0 = 1735689600


@pytest.fixture(autouse=True)
def check_hints(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every vouched sum and derivation hint is verified when given."""
    monkeypatch.setattr(wire, "CHECK_HINTS", True)
    monkeypatch.setattr(validation, "CHECK_HINTS", True)
    yield


# --------------------------------------------------------------------------------------------
# from-scratch references


def scratch_sizes(obj: Any) -> tuple[int, int, int]:
    """(JSON as served, protobuf as served, protobuf as stored) from the full encodings."""
    served = json.dumps(kubesim.to_manifest(obj), separators=(",", ":"), ensure_ascii=False)
    return (
        len(served.encode()),
        len(wire.encode_proto(obj)),
        len(wire.encode_proto(obj, include_resource_version=False)),
    )


def scratch_errors(obj: Any, old: Any = None) -> list[Any]:
    """``validate_errors`` with every memo empty and every entry a fresh object."""

    def fresh(a: EndpointAddress) -> EndpointAddress:
        return attrs.evolve(a)

    copy = attrs.evolve(
        obj,
        subsets=[
            attrs.evolve(s, addresses=[fresh(a) for a in s.addresses],
                         not_ready_addresses=[fresh(a) for a in s.not_ready_addresses])
            for s in obj.subsets
        ],
    )
    with pytest.MonkeyPatch.context() as mp:  # the memos, where the Endpoints validator reads them
        mp.setattr(validation.endpoints, "_VALID_ADDRESSES", validation._ValidEntries())
        mp.setattr(validation.endpoints, "_VALID_IDS", set())
        mp.setattr(validation.endpoints, "_VALID_HELD", [])
        mp.setattr(validation.endpoints, "_VALID_LISTS", IdentityMemo(1 << 20))
        mp.setattr(validation.endpoints, "_DERIVED", IdentityMemo(1 << 20))
        return validation.validate_errors(copy, old)


def assert_measured_exactly(obj: Any) -> None:
    assert wire.sizes3(obj) == scratch_sizes(obj)
    # and once more from the remembered lists, with and without resourceVersion
    assert wire.sizes(obj) == scratch_sizes(obj)[:2]
    assert wire.proto_size(obj, include_resource_version=False) == scratch_sizes(obj)[2]


# --------------------------------------------------------------------------------------------
# _Side: the kept prefix of one sorted address list, maintained under changes


def address(i: int, *, node: str = "n1", hostname: str = "") -> EndpointAddress:
    ip = f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"
    return EndpointAddress(
        ip=ip,
        hostname=hostname,
        node_name=node,
        target_ref=ObjectReference(kind="Pod", namespace=NS, name=f"pod-{i}", uid=f"uid-{i}"),
    )


side_ops = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(0, 60)),
        st.tuples(st.just("remove"), st.integers(0, 60)),
        st.tuples(st.just("snapshot"), st.one_of(st.none(), st.integers(0, 12), st.integers(0, 70))),
    ),
    max_size=60,
)


@settings(max_examples=150)
@given(st.lists(st.integers(0, 60), unique=True, max_size=30), side_ops)
def test_side_prefix_sums_match_a_model(initial: list[int], ops: list[tuple[str, Any]]) -> None:
    side = _Side()
    model: dict[int, EndpointAddress] = {}
    for i in initial:
        model[i] = address(i, node=f"n{i % 3}")
        side.add(model[i])
    for op, arg in ops:
        if op == "add" and arg not in model:
            model[arg] = address(arg, node=f"n{arg % 3}", hostname="h" * (arg % 4))
            side.add(model[arg])
        elif op == "remove" and model:
            key = sorted(model)[arg % len(model)]
            side.remove(model.pop(key))
        elif op == "snapshot":
            ordered = sorted(model.values(), key=_addr_sort_key)
            want = tuple(ordered if arg is None else ordered[:arg])
            got = side.snapshot(arg)
            assert got == want
            assert wire.address_list_sizes(got) == (
                sum(wire.address_entry_size(a) for a in want),
                sum(wire.address_json_size(a) for a in want),
            )
        side._check()
    assert [a for a in side.addrs] == sorted(model.values(), key=_addr_sort_key)


# --------------------------------------------------------------------------------------------
# the engine and the API server: random address changes, capped and uncapped


def pod(i: int, *, ready: bool = True, web: int = 8080, dns: bool = False, node: str = "n1") -> Pod:
    ports = [ContainerPort(web, name="web")]
    if dns:
        ports.append(ContainerPort(53, name="dns", protocol="UDP"))
    ip = f"10.1.{i // 256 % 256}.{i % 256}"
    return Pod(
        metadata=ObjectMeta(name=f"pod-{i:03d}", namespace=NS, uid=f"uid-{i}", labels={"app": "web"}),
        spec=PodSpec(containers=[Container("main", ports=ports)], node_name=node),
        status=PodStatus(
            phase="Running",
            pod_ip=ip,
            pod_ips=[PodIP(ip)],
            conditions=[PodCondition("Ready", "True" if ready else "False", last_transition_time=T0)],
        ),
    )


SERVICE_PORTS = {
    # one subset (numeric target port)
    "numeric": (ServicePort(port=80, target_port=8080),),
    # a named target port that pods resolve to different numbers: one subset per number
    "named": (ServicePort(port=80, name="http", target_port="web"),),
    # two named ports some pods lack: subsets sharing port classes (merged lists)
    "dual": (
        ServicePort(port=80, name="http", target_port="web"),
        ServicePort(port=53, name="dns", protocol="UDP", target_port="dns"),
    ),
}


def service(ports: str, pnra: bool = False) -> Service:
    return Service(
        metadata=ObjectMeta(name="web", namespace=NS, creation_timestamp=T0),
        spec=ServiceSpec(
            selector={"app": "web"}, cluster_ip="10.96.0.1", ports=SERVICE_PORTS[ports],
            publish_not_ready_addresses=pnra,
        ),
    )


# (truncate, max_capacity): tiny capacities so the kept prefixes move with every change.
MODES = [(True, 1), (True, 3), (True, 6), (True, 1000), (False, 1000)]

pod_spec = st.fixed_dictionaries(
    {
        "ready": st.booleans(),
        "web": st.sampled_from([8080, 8080, 9090]),
        "dns": st.booleans(),
        # an invalid nodeName makes the address (and the write) invalid
        "node": st.sampled_from(["n1", "n1", "n1", "n2", "Bad_Node"]),
    }
)


@settings(stateful_step_count=30)
class WriteMachine(RuleBasedStateMachine):
    """A controller's writes through a real API server, one engine and one server per mode (so
    each engine's kept prefixes move with the changes, as in a cluster): every recorded size
    equals the full encoding's length and every refusal carries the errors a validation from
    scratch gives."""

    def __init__(self) -> None:
        super().__init__()
        self.pods: dict[int, Pod] = {}
        self.svc = service("numeric")
        self.engines = {m: ServiceEndpoints(self.svc) for m in MODES}
        self.apis = {m: APIServer(clock=Clock(), rng=random.Random(0)) for m in MODES}

    def event(self, old: Pod | None, new: Pod | None) -> None:
        for engine in self.engines.values():
            engine.pod_changed(old, new)

    @initialize(ports=st.sampled_from(sorted(SERVICE_PORTS)), pnra=st.booleans(),
                pods=st.lists(pod_spec, max_size=10))
    def setup(self, ports: str, pnra: bool, pods: list[dict[str, Any]]) -> None:
        self.svc = service(ports, pnra)
        self.pods = {i: pod(i, **p) for i, p in enumerate(pods)}
        self.engines = {m: ServiceEndpoints.from_pods(self.svc, self.pods.values()) for m in MODES}

    @rule(i=st.integers(0, 15), p=pod_spec)
    def upsert(self, i: int, p: dict[str, Any]) -> None:
        new = pod(i, **p)
        self.event(self.pods.get(i), new)
        self.pods[i] = new

    @rule(i=st.integers(0, 15))
    def flip(self, i: int) -> None:
        if i in self.pods:
            old = self.pods[i]
            cond = PodCondition("Ready", "False" if old.status.ready else "True", last_transition_time=T0 + 1)
            new = attrs.evolve(old, status=attrs.evolve(old.status, conditions=[cond]))
            self.event(old, new)
            self.pods[i] = new

    @rule(i=st.integers(0, 15))
    def delete(self, i: int) -> None:
        if i in self.pods:
            self.event(self.pods.pop(i), None)

    @invariant()
    def writes_are_measured_and_validated_exactly(self) -> None:
        ordered = [self.pods[i] for i in sorted(self.pods)]
        for (truncate, cap), api in self.apis.items():
            engine = self.engines[(truncate, cap)]
            engine._check()
            existing = api.try_get("Endpoints", "web", NS)
            if not engine.needs_update(existing, truncate=truncate, max_capacity=cap):
                continue
            desired = engine.desired(existing, None, truncate, max_capacity=cap)
            assert desired == endpoints_for(self.svc, ordered, existing=existing, truncate=truncate, max_capacity=cap)
            want_errors = scratch_errors(desired, existing)
            before = len(api.changes)
            try:
                if existing is None:
                    api.create(desired)
                else:
                    api.update(desired)
            except InvalidObject as exc:
                assert want_errors, exc
                assert list(exc.errors) == want_errors
                continue
            assert want_errors == []
            stored = api.get("Endpoints", "web", NS)
            if len(api.changes) > before:
                ev = api.changes[-1]
                assert (ev.json_bytes, ev.proto_bytes) == scratch_sizes(stored)[:2]
            assert_measured_exactly(stored)
            engine._check()


TestWriteMachine = WriteMachine.TestCase


# --------------------------------------------------------------------------------------------
# validation along derivation hints, invalid entries included


def any_address(i: int, flaw: int) -> EndpointAddress:
    a = address(i)
    if flaw == 1:
        return attrs.evolve(a, ip=f"300.0.0.{i % 256}")
    if flaw == 2:
        return attrs.evolve(a, hostname="Bad_Host")
    if flaw == 3:
        return attrs.evolve(a, node_name="Bad_Node")
    if flaw == 4:
        return attrs.evolve(a, ip="0.0.0.0")
    return a


derivations = st.lists(
    st.tuples(
        st.integers(0, 3),  # which list (subset 0/1, ready/not ready)
        st.lists(st.tuples(st.integers(100, 400), st.sampled_from([0, 0, 0, 0, 1, 2, 3, 4])), max_size=3),
        st.lists(st.integers(0, 30), max_size=3),  # positions removed
        st.booleans(),  # hint the derivation (else an unrelated new list)
    ),
    max_size=12,
)


@given(
    st.lists(st.lists(st.sampled_from([0, 0, 0, 0, 0, 1, 2, 3]), max_size=12), min_size=4, max_size=4),
    derivations,
)
def test_validation_along_hints_equals_scratch(initial: list[list[int]], steps: list[Any]) -> None:
    made = 0

    def new_address(flaw: int) -> EndpointAddress:
        nonlocal made
        made += 1
        return any_address(1000 + made, flaw)

    lists = [tuple(new_address(f) for f in flaws) for flaws in initial]

    def endpoints() -> Endpoints:
        ports = (EndpointPort(port=80, name="a"), EndpointPort(port=81, name="b"))
        return Endpoints(
            metadata=ObjectMeta(name="web", namespace=NS),
            subsets=(
                EndpointSubset(addresses=lists[0], not_ready_addresses=lists[1], ports=ports[:1]),
                EndpointSubset(addresses=lists[2], not_ready_addresses=lists[3], ports=ports),
            ),
        )

    assert validation.validate_errors(endpoints()) == scratch_errors(endpoints())
    for which, adds, removes, hinted in steps:
        base = lists[which]
        kept = [a for j, a in enumerate(base) if j not in removes]
        added = [new_address(flaw) for _, flaw in adds]
        if added and hinted:
            added.append(kept[0] if kept else added[0])  # a superset is allowed
        new = tuple(sorted(kept + added[: len(adds)], key=_addr_sort_key))
        if hinted:
            validation.note_derived_addresses(new, base, added)
        lists[which] = new
        assert validation.validate_errors(endpoints()) == scratch_errors(endpoints())


def test_false_hints_are_caught() -> None:
    addrs = tuple(address(i) for i in range(5))
    with pytest.raises(AssertionError):
        wire.vouch_address_list(addrs, 1, 2)
    p, j = wire.address_list_sizes(addrs[:4])
    with pytest.raises(AssertionError):
        wire.vouch_address_list(addrs, p, j)
    with pytest.raises(AssertionError):
        validation.note_derived_addresses(addrs, addrs[:3], [addrs[3]])
    validation.note_derived_addresses(addrs, addrs[:3], addrs[3:])  # true: accepted


def test_unchecked_vouch_is_trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without CHECK_HINTS a vouched sum is used as given: that is what makes it O(1).
    monkeypatch.setattr(wire, "CHECK_HINTS", False)
    addrs = tuple(address(i) for i in range(3))
    wire.vouch_address_list(addrs, 11, 22)
    assert wire.address_list_sizes(addrs) == (11, 22)
    wire.clear_caches()
    assert wire.address_list_sizes(addrs) == (
        sum(map(wire.address_entry_size, addrs)),
        sum(map(wire.address_json_size, addrs)),
    )


def test_list_sizes_of_plain_tuples_and_lists() -> None:
    # No hint: the sums come from cached per-entry sizes (new entries measured once).
    rng = random.Random(7)
    pool = [address(i, node=f"n{i % 4}", hostname="h" * (i % 3)) for i in range(300)]
    for _ in range(30):
        chosen = rng.sample(pool, rng.randint(0, 40))
        if rng.random() < 0.3:
            chosen.append(address(1000 + rng.randint(0, 10**6)))
        want = (sum(map(wire.address_entry_size, chosen)), sum(map(wire.address_json_size, chosen)))
        assert wire.address_list_sizes(chosen) == want
        assert wire.address_list_sizes(tuple(chosen)) == want


# --------------------------------------------------------------------------------------------
# the cost: a write that changes one address of a large list touches that address only


class _CountingDict(dict):  # type: ignore[type-arg]
    lookups = 0

    def __getitem__(self, key: Any) -> Any:
        _CountingDict.lookups += 1
        return super().__getitem__(key)


@pytest.mark.parametrize("truncate", [True, False])
def test_one_change_costs_one_address(monkeypatch: pytest.MonkeyPatch, truncate: bool) -> None:
    monkeypatch.setattr(wire, "CHECK_HINTS", False)
    monkeypatch.setattr(validation, "CHECK_HINTS", False)
    wire.clear_caches()
    validation.clear_caches()  # no address is known valid from an earlier test
    svc = service("numeric")
    pods = {i: pod(i) for i in range(1500)}
    engine = ServiceEndpoints.from_pods(svc, pods.values())
    api = APIServer(clock=Clock(), rng=random.Random(0))
    api.create(engine.desired(None, None, truncate))
    existing = api.get("Endpoints", "web", NS)

    checked: list[EndpointAddress] = []
    original = validation._endpoint_address_errors

    def counting_check(e: Any, a: EndpointAddress, path: str) -> None:
        checked.append(a)
        original(e, a, path)

    monkeypatch.setattr(validation.endpoints, "_endpoint_address_errors", counting_check)
    counting = _CountingDict(wire._ADDR_PAIRS)
    monkeypatch.setattr(wire.endpoints, "_ADDR_PAIRS", counting)  # where address_list_sizes reads it
    for step, i in enumerate([0, 700, 1499, 3]):  # replace one pod's address at a time
        new = attrs.evolve(pod(5000 + step), metadata=attrs.evolve(pods[i].metadata, uid=f"new-{step}"))
        engine.pod_changed(pods[i], new)
        pods[i] = new
        checked.clear()
        _CountingDict.lookups = 0
        before = {id(a) for s in existing.subsets for a in s.addresses}
        assert engine.needs_update(existing, truncate=truncate)
        existing = api.update(engine.desired(existing, None, truncate))
        # Validated: the addresses that entered the written list (the new one, or with
        # truncation the one pulled into the kept prefix, which the new one may push out
        # again), never the 1000 others.
        entered = [a for s in existing.subsets for a in s.addresses if id(a) not in before]
        assert len(entered) == 1
        assert {id(a) for a in entered} <= {id(a) for a in checked}
        assert len(checked) <= 2
        # Measured: no per-address size lookup.
        assert _CountingDict.lookups == 0, _CountingDict.lookups
    monkeypatch.undo()
    ev = api.changes[-1]
    assert (ev.json_bytes, ev.proto_bytes) == scratch_sizes(existing)[:2]
