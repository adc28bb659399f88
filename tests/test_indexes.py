"""The O(1) indexes behind two per-sync lookups, checked against the scans they replace.

* :meth:`kubesim.apiserver.APIServer.select` (the mirroring controller's mirrored slices of a
  Service) against filtering the namespace, under creates, relabelling updates, deletes and
  rolled-back transactions;
* :meth:`kubesim.controllers.endpointslice.controller.SliceTracker.stale_observed` (the
  EndpointSlice fast path's staleness check) against upstream's ``StaleSlices`` scan
  (:meth:`~kubesim.controllers.endpointslice.controller.SliceTracker.stale`) of the same
  slices, as a Hypothesis state machine.
"""

from __future__ import annotations

import random
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from kubesim.apiserver import APIServer
from kubesim.clock import Clock
from kubesim.controllers.endpointslice.controller import SliceTracker
from kubesim.controllers.mirroring.reconciler import (
    LABEL_MANAGED_BY,
    LABEL_SERVICE_NAME,
    MIRRORING_CONTROLLER_NAME,
)
from kubesim.objects import Endpoints, EndpointSlice, Node, ObjectMeta

SERVICES = ("a", "b", "")
MANAGERS = (MIRRORING_CONTROLLER_NAME, "endpointslice-controller.k8s.io", "")
NAMESPACES = ("default", "other")
NAMES = ("s0", "s1", "s2", "s3")


def _labels(svc: str, manager: str) -> dict[str, str]:
    labels = {"app": "x"}
    if svc:
        labels[LABEL_SERVICE_NAME] = svc
    if manager:
        labels[LABEL_MANAGED_BY] = manager
    return labels


def _slice(ns: str, name: str, svc: str, manager: str) -> EndpointSlice:
    return EndpointSlice(metadata=ObjectMeta(name=name, namespace=ns, labels=_labels(svc, manager)), address_type="IPv4")


def _scan(api: APIServer, ns: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        n: s
        for n, s in api.list_namespace("EndpointSlice", ns).items()
        if all(s.metadata.labels.get(k) == v for k, v in labels.items())
    }


def _assert_select_matches_scan(api: APIServer) -> None:
    for ns in NAMESPACES:
        for svc in SERVICES[:2]:
            for manager in MANAGERS[:2]:
                labels = {LABEL_SERVICE_NAME: svc, LABEL_MANAGED_BY: manager}
                assert dict(api.select("EndpointSlice", ns, labels)) == _scan(api, ns, labels)
            assert dict(api.select("EndpointSlice", ns, {LABEL_SERVICE_NAME: svc})) == _scan(
                api, ns, {LABEL_SERVICE_NAME: svc}
            )
    api._check()


_write = st.tuples(
    st.sampled_from(("put", "put", "delete", "rollback")),
    st.sampled_from(NAMESPACES),
    st.sampled_from(NAMES),
    st.sampled_from(SERVICES),
    st.sampled_from(MANAGERS),
)


@settings(max_examples=60, deadline=None)
@given(st.booleans(), st.lists(_write, max_size=30))
def test_select_equals_the_namespace_scan(index_first: bool, writes: list[tuple[str, str, str, str, str]]) -> None:
    api = APIServer(clock=Clock(), rng=random.Random(0))
    if index_first:  # the index is built empty and kept up to date from the first write
        _assert_select_matches_scan(api)
    for verb, ns, name, svc, manager in writes:
        stored = api.try_get("EndpointSlice", name, ns)
        if verb == "put":
            if stored is None:
                api.create(_slice(ns, name, svc, manager))
            else:
                meta = attrs.evolve(stored.metadata, labels=_labels(svc, manager))
                api.update(attrs.evolve(stored, metadata=meta))
        elif verb == "delete" and stored is not None:
            api.delete("EndpointSlice", name, ns)
        elif verb == "rollback":
            with pytest.raises(RuntimeError), api.transaction():
                api.create(_slice(ns, name + "-t", svc, manager))
                if stored is not None:
                    api.delete("EndpointSlice", name, ns)
                raise RuntimeError("roll back")
        if index_first:
            _assert_select_matches_scan(api)
    _assert_select_matches_scan(api)  # built from the final store


def test_select_index_first_built_in_a_rolled_back_transaction() -> None:
    api = APIServer(clock=Clock(), rng=random.Random(0))
    api.create(_slice("default", "s0", "a", MIRRORING_CONTROLLER_NAME))
    labels = {LABEL_SERVICE_NAME: "a", LABEL_MANAGED_BY: MIRRORING_CONTROLLER_NAME}
    with pytest.raises(RuntimeError), api.transaction():
        api.create(_slice("default", "s1", "a", MIRRORING_CONTROLLER_NAME))
        assert sorted(api.select("EndpointSlice", "default", labels)) == ["s0", "s1"]
        raise RuntimeError("roll back")
    assert sorted(api.select("EndpointSlice", "default", labels)) == ["s0"]
    api.create(_slice("default", "s2", "a", MIRRORING_CONTROLLER_NAME))
    assert sorted(api.select("EndpointSlice", "default", labels)) == ["s0", "s2"]
    api._check()


def test_select_is_read_only_resolves_kinds_and_scopes() -> None:
    api = APIServer(clock=Clock(), rng=random.Random(0))
    api.create(_slice("default", "s0", "a", ""))
    view = api.select("endpointslices", "default", {LABEL_SERVICE_NAME: "a"})  # kubectl's name
    assert list(view) == ["s0"]
    with pytest.raises(TypeError):
        view["s1"] = view["s0"]  # type: ignore[index]
    api.create(Node(metadata=ObjectMeta(name="n1", labels={"zone": "a"})))
    # a cluster-scoped kind answers for any namespace argument
    assert list(api.select("Node", "default", {"zone": "a"})) == list(api.select("Node", None, {"zone": "a"})) == ["n1"]
    api._check()


def test_select_ignores_other_kinds_and_missing_keys() -> None:
    api = APIServer(clock=Clock(), rng=random.Random(0))
    api.create(Endpoints(metadata=ObjectMeta(name="s0", namespace="default", labels={LABEL_SERVICE_NAME: "a"})))
    api.create(_slice("default", "s1", "a", ""))  # no managed-by label: not in a two-key index
    assert api.select("EndpointSlice", "default", {LABEL_SERVICE_NAME: "a", LABEL_MANAGED_BY: ""}) == {}
    assert list(api.select("EndpointSlice", "default", {LABEL_SERVICE_NAME: "a"})) == ["s1"]
    assert list(api.select("Endpoints", "default", {LABEL_SERVICE_NAME: "a"})) == ["s0"]
    assert api.select("EndpointSlice", "nowhere", {LABEL_SERVICE_NAME: "a"}) == {}


# --------------------------------------------------------------------------------------------
# SliceTracker: stale_observed == stale(observed slices)

KEYS = ("default/a", "default/b")


def _tracked(key: str, uid: str, generation: int) -> EndpointSlice:
    ns, svc = key.split("/")
    return EndpointSlice(
        metadata=ObjectMeta(
            name=f"n-{uid}", namespace=ns, uid=uid, generation=generation, labels={LABEL_SERVICE_NAME: svc}
        ),
        address_type="IPv4",
    )


class TrackerMachine(RuleBasedStateMachine):
    """Expectations and the observed (listed) slices change in any order; the O(1) answer
    must be the scan's answer for every Service at every step."""

    def __init__(self) -> None:
        super().__init__()
        self.tracker = SliceTracker()
        self.listed: dict[str, tuple[str, EndpointSlice]] = {}  # name -> (key, slice)
        self.observing = False

    @rule(key=st.sampled_from(KEYS), uid=st.sampled_from(("u0", "u1", "u2")), generation=st.integers(1, 4))
    def expect(self, key: str, uid: str, generation: int) -> None:
        self.tracker.update(_tracked(key, uid, generation))

    @rule(key=st.sampled_from(KEYS), uid=st.sampled_from(("u0", "u1", "u2")))
    def expect_deletion(self, key: str, uid: str) -> None:
        self.tracker.expect_deletion(_tracked(key, uid, 1))

    @rule(key=st.sampled_from(KEYS), uid=st.sampled_from(("u0", "u1", "u2")))
    def deleted(self, key: str, uid: str) -> None:
        self.tracker.handle_deletion(_tracked(key, uid, 1))

    @rule(key=st.sampled_from(KEYS))
    def service_deleted(self, key: str) -> None:
        self.tracker.delete_service(key)

    @rule()
    def start(self) -> None:
        if not self.observing:
            self.observing = True
            self.tracker.start_observing()
            for name, (key, s) in sorted(self.listed.items()):
                self.tracker.observe("default", name, s, key)

    @rule(
        name=st.sampled_from(("n0", "n1", "n2", "n3")),
        key=st.sampled_from(KEYS + (None,)),
        uid=st.sampled_from(("u0", "u1", "u2", "u3")),
        generation=st.integers(1, 4),
    )
    def list_slice(self, name: str, key: str | None, uid: str, generation: int) -> None:
        # The slice listed under `name` is replaced, moved to another Service or unlisted.
        if key is None or any(u == uid and n != name for n, (_, s) in self.listed.items() for u in [s.metadata.uid]):
            self.listed.pop(name, None)
            s = None
        else:
            s = _tracked(key, uid, generation)
            self.listed[name] = (key, s)
        if self.observing:
            self.tracker.observe("default", name, s, key if s is not None else None)

    @invariant()
    def answers_agree(self) -> None:
        self.tracker._check()
        if not self.observing:
            return
        for key in KEYS:
            slices = [s for k, s in self.listed.values() if k == key]
            assert self.tracker.stale_observed(key) == self.tracker.stale(key, slices), key


TrackerMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
test_tracker_observed_staleness = TrackerMachine.TestCase


def test_observed_staleness_follows_upstream_cases() -> None:
    # TestSyncServiceStaleInformer's three cases through the observed view.
    for tracked, stale in ((12, True), (10, False), (1, False)):
        tracker = SliceTracker()
        tracker.start_observing()
        tracker.update(_tracked("default/a", "u0", tracked))
        assert tracker.stale_observed("default/a")  # expected but not yet listed
        tracker.observe("default", "n-u0", _tracked("default/a", "u0", 10), "default/a")
        assert tracker.stale_observed("default/a") is stale
        tracker.expect_deletion(_tracked("default/a", "u0", 10))
        assert tracker.stale_observed("default/a")  # deletion expected, still listed
        tracker.observe("default", "n-u0", None, None)
        assert not tracker.stale_observed("default/a")
