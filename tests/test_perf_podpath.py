"""The pod / ReplicaSet / Deployment write path after the issue #7 speed-ups writes exactly
what it wrote before.

Every optimisation of that path (direct construction instead of ``attrs.evolve`` in the API
server, reuse of the stored metadata, identity memos in defaulting, an allocation-free
``equal_ignore_hash``, one new-ReplicaSet lookup per Deployment sync) is checked against an
oracle: the straightforward implementation it replaced, kept here as the naive model. The unit
tests compare helper by helper; the differential tests run the same API writes, or the same
cluster workload, once on the optimised code and once with the oracles patched in, and require
identical change logs (every field, and every recorded object), stored objects and errors.
"""

from __future__ import annotations

import contextlib
import random
import sys
from collections.abc import Hashable, Iterator
from typing import Any

import attrs
import pytest
import strategies as S
from hypothesis import given, settings
from hypothesis import strategies as st

import kubesim
from kubesim import apiserver as api_mod
from kubesim import defaults, lean, scenarios
from kubesim import namespaces as _namespaces
from kubesim import validation as _validation
from kubesim import wire as _wire
from kubesim._memo import ByIdentity
from kubesim.apiserver import _GENERATION_KINDS, APIServer, _generation_bumps
from kubesim.changelog import ChangeEvent
from kubesim.clock import Clock
from kubesim.controllers import endpointutil as eu
from kubesim.controllers.workloads import revisions, rollout
from kubesim.controllers.workloads.deployment import ACTOR, DeploymentController
from kubesim.errors import AlreadyExists, Conflict, KubesimError, NotFound, ServerError
from kubesim.faults import FaultPlan
from kubesim.kinds import resolve_kind
from kubesim.objects import (
    KINDS,
    Container,
    FrozenDict,
    ObjectMeta,
    OwnerReference,
    Pod,
    PodCondition,
    PodSpec,
    PodStatus,
    PodTemplateSpec,
)

HASH = rollout.DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY

# --------------------------------------------------------------------------------------------
# oracles: the implementations the fast path replaced


def ref_equal_ignore_hash(t1: PodTemplateSpec, t2: PodTemplateSpec) -> bool:
    m1 = attrs.evolve(t1.metadata, labels=t1.metadata.labels.without(HASH))
    m2 = attrs.evolve(t2.metadata, labels=t2.metadata.labels.without(HASH))
    return bool(m1 == m2 and t1.spec == t2.spec)


def ref_stamp(self: APIServer, obj: Any, meta: ObjectMeta, generation: int | None = None) -> Any:
    if generation is not None:
        meta = attrs.evolve(meta, generation=generation)
    obj = attrs.evolve(obj, metadata=attrs.evolve(meta, resource_version=str(self._rv + 1)))
    return obj, _wire.sizes3(obj)


# Events (issue 17) are inert objects the old path never wrote: they take the real path.
_REAL_CREATE, _REAL_UPDATE = APIServer.create, APIServer.update


def ref_create(
    self: APIServer, obj: Any, *, actor: str = "client", cause: str = "", reset_pod_status: bool = False
) -> Any:
    if getattr(type(obj), "inert", False):
        return _REAL_CREATE(self, obj, actor=actor, cause=cause, reset_pod_status=reset_pod_status)
    # Issue 14: a refused create leaves the random state (names, uids, IPs) and the Service
    # allocators as they were, and its refused attempt is recorded under the name the client
    # sent (the generateName prefix when the name was to be generated). The straightforward
    # statement: snapshot, run the old path, undo on refusal.
    state, rv, n = self.rng.getstate(), self._rv, len(self.changes)
    allocated: list[Any] = []
    hook = self.service_ip_hook
    if hook is not None:
        self.service_ip_hook = lambda svc, old: allocated.append(hook(svc, old)) or allocated[-1]
    try:
        return _ref_create(self, obj, actor=actor, cause=cause, reset_pod_status=reset_pod_status)
    except BaseException:
        if self._rv == rv:
            for svc in allocated:
                if self.service_allocator is not None:
                    self.service_allocator.rollback(svc, None)
            self.rng.setstate(state)
            if len(self.changes) > n and getattr(obj, "metadata", None) is not None and not obj.metadata.name:
                shown = obj.metadata.generate_name[:58]
                self.changes._names[-1] = shown  # the last record's name column
                # ... and the refusal names it so (its text reaches a FailedToUpdate* Event)
                err = sys.exc_info()[1]
                ns = obj.metadata.namespace
                if isinstance(err, Conflict):
                    raise Conflict(obj.kind, shown, ns) from None
                if isinstance(err, ServerError):
                    raise ServerError(f"Internal error occurred: injected fault on create of {obj.kind} {ns}/{shown}") from None
        raise
    finally:
        self.service_ip_hook = hook


def ref_update(self: APIServer, obj: Any, *, actor: str = "client", cause: str = "", subresource: str = "") -> Any:
    if getattr(type(obj), "inert", False):
        return _REAL_UPDATE(self, obj, actor=actor, cause=cause)
    state, rv = self.rng.getstate(), self._rv
    allocated: list[tuple[Any, Any]] = []
    hook = self.service_ip_hook
    if hook is not None:
        self.service_ip_hook = lambda svc, old: allocated.append((hook(svc, old), old)) or allocated[-1][0]
    try:
        return _ref_update(self, obj, actor=actor, cause=cause)
    except BaseException:
        if self._rv == rv:
            for svc, old in allocated:
                if self.service_allocator is not None:
                    self.service_allocator.rollback(svc, old)
            self.rng.setstate(state)
        raise
    finally:
        self.service_ip_hook = hook


def _ref_create(
    self: APIServer, obj: Any, *, actor: str = "client", cause: str = "", reset_pod_status: bool = False
) -> Any:
    if type(obj).__name__ not in KINDS:
        raise TypeError(f"not an API object: {obj!r}")
    if self.namespace_lifecycle:
        _namespaces.admit_create(self, obj.kind, obj.metadata.name, self._ns(obj.kind, obj.metadata.namespace))
    obj = self.prepare_create(obj, reset_pod_status=reset_pod_status)
    kind = obj.kind
    meta = obj.metadata
    bucket = self._bucket(kind, meta.namespace)
    name = meta.name
    if not name:
        name = self._generate_name(meta.generate_name, bucket)
    elif name in bucket:
        raise AlreadyExists(kind, name, meta.namespace)
    if kind == "Service" and self.service_ip_hook is not None:
        obj = self.service_ip_hook(obj, None)
        meta = obj.metadata
    new_meta = attrs.evolve(
        meta, name=name, uid=self._new_uid(), resource_version="",
        generation=1 if kind in _GENERATION_KINDS else 0, creation_timestamp=self._now_ts(),
        deletion_timestamp=None, deletion_grace_period_seconds=None, self_link="",
    )
    if not meta.name:
        _validation.validate(attrs.evolve(obj, metadata=new_meta))
    obj, sizes = ref_stamp(self, obj, new_meta)
    self._check_size(kind, name, sizes[2])
    return self._commit("create", "ADDED", bucket, obj, None, actor, sizes, cause)


def _ref_update(self: APIServer, obj: Any, *, actor: str = "client", cause: str = "") -> Any:
    kind = obj.kind
    meta = obj.metadata
    ns = self._ns(kind, meta.namespace)
    bucket = self._bucket(kind, ns)
    old = bucket.get(meta.name)
    if old is None:
        raise NotFound(kind, meta.name, ns)
    old_meta: ObjectMeta = old.metadata
    if meta.resource_version and meta.resource_version != old_meta.resource_version:
        raise Conflict(kind, meta.name, ns)
    if kind == "Service" and self.service_ip_hook is not None:
        obj = self.service_ip_hook(obj, old)
    obj = defaults.apply_defaults(obj)
    if kind == "Namespace":  # the main resource's strategy (no subresource writes here)
        obj = _namespaces.prepare_for_update(obj, old, "")
    new_meta = attrs.evolve(
        obj.metadata, namespace=ns, uid=old_meta.uid, creation_timestamp=old_meta.creation_timestamp,
        deletion_timestamp=old_meta.deletion_timestamp,
        deletion_grace_period_seconds=old_meta.deletion_grace_period_seconds,
        generate_name=obj.metadata.generate_name or old_meta.generate_name,
        generation=old_meta.generation, resource_version=old_meta.resource_version, self_link="",
    )
    obj = attrs.evolve(obj, metadata=new_meta)
    if obj == old:
        return old
    _validation.validate(obj, old)
    if kind in _GENERATION_KINDS and _generation_bumps(kind, old, obj):
        new_meta = attrs.evolve(new_meta, generation=old_meta.generation + 1)
    if (old_meta.deletion_timestamp is not None and not new_meta.finalizers and kind != "Pod"
            and (kind != "Namespace" or not _namespaces.spec_finalizers(obj))):
        obj = attrs.evolve(obj, metadata=new_meta)
        return self._remove(obj, actor, cause)
    obj, sizes = ref_stamp(self, obj, new_meta)
    self._check_size(kind, meta.name, sizes[2])
    return self._commit("update", "MODIFIED", bucket, obj, old, actor, sizes, cause)


def ref_delete(
    self: APIServer, kind: str, name: str, namespace: str | None = "default", *, actor: str = "client",
    grace_period_seconds: int | None = None, cause: str = "",
) -> Any:
    kind = resolve_kind(kind)
    ns = self._ns(kind, namespace)
    obj = self.try_get(kind, name, ns)
    if obj is None:
        raise NotFound(kind, name, ns)
    meta: ObjectMeta = obj.metadata
    if kind == "Namespace":
        # the namespace registry: mark Terminating; the namespace controller removes it
        if self.namespace_lifecycle:
            _namespaces.admit_delete(name)
        if meta.deletion_timestamp is None or _namespaces.spec_finalizers(obj) or meta.finalizers:
            marked = _namespaces.mark_terminating(obj, self._now_ts())
            if marked == obj:
                return obj
            marked, sizes = ref_stamp(self, marked, marked.metadata)
            return self._commit("update", "MODIFIED", self._bucket(kind, ns), marked, obj, actor, sizes, cause)
    graceful = False
    grace = 0
    if kind == "Pod":
        tgps = obj.spec.termination_grace_period_seconds
        grace = grace_period_seconds if grace_period_seconds is not None else (tgps if tgps is not None else 30)
        if obj.status.phase in ("Succeeded", "Failed") or not obj.spec.node_name:
            grace = 0
        graceful = grace > 0
    if meta.deletion_timestamp is not None:
        if graceful or meta.finalizers:
            return obj
        return self._remove(obj, actor, cause)
    if graceful or meta.finalizers:
        new_meta = attrs.evolve(meta, deletion_timestamp=self._now_ts() + grace,
                                deletion_grace_period_seconds=grace, resource_version="")
        if kind == "Pod":
            new_meta = attrs.evolve(new_meta, generation=meta.generation + 1)
        marked, sizes = ref_stamp(self, obj, new_meta)
        return self._commit("update", "MODIFIED", self._bucket(kind, ns), marked, obj, actor, sizes, cause)
    return self._remove(obj, actor, cause)


def ref_sync(self: DeploymentController, key: Hashable) -> None:
    assert isinstance(key, str)
    self._syncs += 1
    api = self.ctx.api
    ns, name = eu.split_key(key)
    d = api.try_get("Deployment", name, ns)
    if d is None or d.metadata.deletion_timestamp is not None:
        return
    rss = self._replica_sets(d)
    new_rs = rollout.find_new_replica_set(d, rss)
    _, all_old = rollout.find_old_replica_sets(d, rss)
    recreate = rollout.effective_strategy(d).type == rollout.RECREATE
    old_running = self._old_pods_running(d, all_old) if recreate else False
    if (new_rs is None and not d.spec.paused) and (
        not recreate or (not old_running and all((rs.spec.replicas or 0) == 0 for rs in all_old))
    ):
        wanted = rollout.new_replica_set(d, all_old)
        try:
            created = api.create(wanted, actor=ACTOR)
            self._rs_created += 1
            rss = rss + [created]
            if self.ctx.recorder.enabled and (created.spec.replicas or 0) > 0:  # getNewReplicaSet's event
                self.ctx.recorder.event(d, "Normal", "ScalingReplicaSet", f"Scaled up replica set "
                                        f"{created.metadata.name} from 0 to {created.spec.replicas}", component=ACTOR)
        except AlreadyExists:
            rss = self._replica_sets(d)
        except KubesimError as err:  # getNewReplicaSet's FailedCreate event
            if self.ctx.recorder.enabled:
                self.ctx.recorder.event(d, "Warning", "FailedCreate",
                                        f'Failed to create new replica set "{wanted.metadata.name}": {err}', component=ACTOR)
            raise
    decisions = rollout.plan_deployment_sync(d, rss, old_pods_running=old_running)
    by_name = {rs.metadata.name: rs for rs in rss}
    for dec in decisions:
        rs = by_name.get(dec.rs_name)
        if rs is None:
            continue
        updated = rollout.apply_scale_decision(rs, dec)
        if updated == rs:
            continue
        by_name[dec.rs_name] = api.update(updated, actor=ACTOR)
        self._scales += 1
        before, after = rs.spec.replicas or 0, updated.spec.replicas or 0
        if self.ctx.recorder.enabled and before != after:  # scaleReplicaSet's event
            self.ctx.recorder.event(d, "Normal", "ScalingReplicaSet", f"Scaled {'up' if before < after else 'down'} "
                                    f"replica set {dec.rs_name} from {before} to {after}", component=ACTOR)
    rss = list(by_name.values())
    if recreate and decisions == [] and rollout.find_new_replica_set(d, rss) is None and not old_running:
        self.queue.add(key)
    self._cleanup(d, rss)  # type: ignore[call-arg]  # patched with ref_cleanup
    new_rs = rollout.find_new_replica_set(d, rss)
    status = rollout.calculate_deployment_status(d, rss, new_rs)
    if status != d.status:
        api.update(attrs.evolve(d, metadata=attrs.evolve(d.metadata, resource_version=""), status=status), actor=ACTOR)
        self._status_writes += 1


_fast_cleanup = DeploymentController._cleanup


def ref_cleanup(self: DeploymentController, d: Any, rss: list[Any], new_rs: Any = None) -> None:
    _fast_cleanup(self, d, rss, rollout.find_new_replica_set(d, rss))


@contextlib.contextmanager
def reference_write_path() -> Iterator[None]:
    """Run with the oracles in place of the optimised code (restored afterwards)."""
    patches: list[tuple[Any, str, Any]] = [
        (APIServer, "create", ref_create),
        (APIServer, "update", ref_update),
        (APIServer, "delete", ref_delete),
        (APIServer, "_stamp", ref_stamp),
        (DeploymentController, "sync", ref_sync),
        (DeploymentController, "_cleanup", ref_cleanup),
        (revisions, "equal_ignore_hash", ref_equal_ignore_hash),  # what find_new_replica_set calls
        # every identity memo (defaulting's and wire's size caches) computes afresh
        (ByIdentity, "__call__", lambda self, x: self.fn(x)),
    ]
    saved = [(owner, name, owner.__dict__[name]) for owner, name, _ in patches]
    try:
        for owner, name, fn in patches:
            setattr(owner, name, fn)
        defaults.clear_caches()
        yield
    finally:
        for owner, name, fn in saved:
            setattr(owner, name, fn)


def log_of(events: Any) -> list[tuple[Any, ...]]:
    """Every field of every event, and the recorded object (compared by value)."""
    return [tuple(getattr(e, f.name) for f in attrs.fields(ChangeEvent)) + (e.object,) for e in events]


# --------------------------------------------------------------------------------------------
# equal_ignore_hash


def _tpl(name: str, node: str, annotations: dict[str, str], labels: dict[str, str]) -> PodTemplateSpec:
    return PodTemplateSpec(metadata=ObjectMeta(name=name, annotations=annotations, labels=labels),
                           spec=PodSpec(node_name=node))


# upstream deployment_util_test.go TestEqualIgnoreHash (run in both orders, as upstream does)
EQUAL_IGNORE_HASH_CASES = [
    ("same spec, same labels",
     _tpl("foo", "foo-node", {}, {HASH: "value-1", "something": "else"}),
     _tpl("foo", "foo-node", {}, {HASH: "value-1", "something": "else"}), True),
    ("same spec, only pod-template-hash label value is different",
     _tpl("foo", "foo-node", {}, {HASH: "value-1", "something": "else"}),
     _tpl("foo", "foo-node", {}, {HASH: "value-2", "something": "else"}), True),
    ("same spec, the former doesn't have pod-template-hash label",
     _tpl("foo", "foo-node", {}, {"something": "else"}),
     _tpl("foo", "foo-node", {}, {HASH: "value-2", "something": "else"}), True),
    ("same spec, the label is different, and the pod-template-hash label value is the same",
     _tpl("foo", "foo-node", {}, {HASH: "value-1"}),
     _tpl("foo", "foo-node", {}, {HASH: "value-1", "something": "else"}), False),
    ("different spec, same labels",
     _tpl("foo", "foo-node", {"former": "value"}, {HASH: "value-1", "something": "else"}),
     _tpl("foo", "foo-node", {"latter": "value"}, {HASH: "value-1", "something": "else"}), False),
    ("different spec, different pod-template-hash label value",
     _tpl("foo-1", "foo-node", {}, {HASH: "value-1", "something": "else"}),
     _tpl("foo-2", "foo-node", {}, {HASH: "value-2", "something": "else"}), False),
    ("different spec, the former doesn't have pod-template-hash label",
     _tpl("foo-1", "foo-node-1", {}, {"something": "else"}),
     _tpl("foo-2", "foo-node-2", {}, {HASH: "value-2", "something": "else"}), False),
    ("different spec, different labels",
     _tpl("foo", "foo-node-1", {}, {"something": "else"}),
     _tpl("foo", "foo-node-2", {}, {"nothing": "else"}), False),
]


@pytest.mark.parametrize("name,former,latter,expected", EQUAL_IGNORE_HASH_CASES, ids=[c[0] for c in EQUAL_IGNORE_HASH_CASES])
def test_equal_ignore_hash_upstream_table(name: str, former: PodTemplateSpec, latter: PodTemplateSpec, expected: bool) -> None:
    assert rollout.equal_ignore_hash(former, latter) is expected
    assert rollout.equal_ignore_hash(latter, former) is expected


_label_pool = st.sampled_from([
    FrozenDict(), FrozenDict({"app": "web"}), FrozenDict({"app": "web", HASH: "abc"}),
    FrozenDict({HASH: "abc", "app": "web"}), FrozenDict({"app": "web", HASH: "xyz"}),
    FrozenDict({HASH: "abc"}), FrozenDict({"app": "db", HASH: "abc"}),
])
_spec_pool = st.sampled_from([
    PodSpec(containers=(Container("c", "nginx:1.25"),)),
    PodSpec(containers=(Container("c", "nginx:1.26"),)),
    PodSpec(containers=(Container("c", "nginx:1.25"),), node_name="n1"),
])


@st.composite
def _template_pairs(draw: st.DrawFn) -> tuple[PodTemplateSpec, PodTemplateSpec]:
    def one() -> PodTemplateSpec:
        meta = ObjectMeta(
            name=draw(st.sampled_from(["", "t"])),
            labels=draw(_label_pool),
            annotations=draw(st.sampled_from([FrozenDict(), FrozenDict({"a": "1"})])),
            generation=draw(st.sampled_from([0, 1])),
        )
        return PodTemplateSpec(metadata=meta, spec=draw(_spec_pool))

    t1 = one()
    how = draw(st.sampled_from(["same object", "shared spec", "shared metadata", "independent", "copy"]))
    if how == "same object":
        return t1, t1
    if how == "shared spec":
        return t1, attrs.evolve(one(), spec=t1.spec)
    if how == "shared metadata":
        return t1, attrs.evolve(one(), metadata=t1.metadata)
    if how == "copy":  # equal but distinct objects at every level
        return t1, PodTemplateSpec(metadata=attrs.evolve(t1.metadata), spec=attrs.evolve(t1.spec))
    return t1, one()


@given(_template_pairs())
def test_equal_ignore_hash_matches_its_definition(pair: tuple[PodTemplateSpec, PodTemplateSpec]) -> None:
    t1, t2 = pair
    assert rollout.equal_ignore_hash(t1, t2) is ref_equal_ignore_hash(t1, t2)
    assert rollout.equal_ignore_hash(t2, t1) is ref_equal_ignore_hash(t2, t1)


@given(S.pod_template_specs(), S.pod_template_specs())
def test_equal_ignore_hash_matches_its_definition_on_any_templates(t1: PodTemplateSpec, t2: PodTemplateSpec) -> None:
    hashed = attrs.evolve(t1, metadata=attrs.evolve(t1.metadata, labels=t1.metadata.labels.set(HASH, "h")))
    for a, b in ((t1, t2), (t1, hashed), (hashed, t1), (t1, t1)):
        assert rollout.equal_ignore_hash(a, b) is ref_equal_ignore_hash(a, b)


# --------------------------------------------------------------------------------------------
# API server construction helpers


@given(S.any_object(), S.object_metas())
def test_with_meta_is_evolve(obj: Any, meta: ObjectMeta) -> None:
    out = api_mod._with_meta(obj, meta)
    assert type(out) is type(obj)
    assert out == attrs.evolve(obj, metadata=meta)
    assert out.metadata is meta


@given(S.object_metas(), st.integers(1, 10**9).map(str), st.integers(0, 2**40))
def test_stamped_meta_is_evolve(meta: ObjectMeta, rv: str, generation: int) -> None:
    assert api_mod._stamped_meta(meta, rv, generation) == attrs.evolve(meta, resource_version=rv, generation=generation)


@given(S.object_metas(), S.object_metas(), st.booleans())
def test_carried_over_meta_is_the_evolve_it_replaces(meta: ObjectMeta, old: ObjectMeta, share: bool) -> None:
    old = attrs.evolve(old, self_link="")
    if share:  # what a status write sends: the stored collections, another resourceVersion
        meta = attrs.evolve(old, resource_version="", generate_name=meta.generate_name)
    ns = old.namespace
    expected = attrs.evolve(
        meta, namespace=ns, uid=old.uid, creation_timestamp=old.creation_timestamp,
        deletion_timestamp=old.deletion_timestamp, deletion_grace_period_seconds=old.deletion_grace_period_seconds,
        generate_name=meta.generate_name or old.generate_name, generation=old.generation,
        resource_version=old.resource_version, self_link="",
    )
    got = api_mod._carried_over_meta(meta, old, ns)
    assert got == expected
    # the labels the client sent are stored as sent (their order is observable)
    assert list(got.labels.items()) == list(meta.labels.items())
    if share and meta.generate_name in ("", old.generate_name):
        assert got is old


def test_carried_over_meta_keeps_equal_but_distinct_collections_as_sent() -> None:
    old = ObjectMeta(name="a", namespace="default", uid="u", resource_version="3",
                     labels={"x": "1", "y": "2"},
                     owner_references=(OwnerReference("v1", "ReplicaSet", "r", "u2", True, True),))
    reordered = attrs.evolve(old, labels=FrozenDict({"y": "2", "x": "1"}), resource_version="")
    got = api_mod._carried_over_meta(reordered, old, "default")
    assert got is not old and got == old
    assert list(got.labels) == ["y", "x"]
    sloppy = attrs.evolve(old, owner_references=(OwnerReference("v1", "ReplicaSet", "r", "u2", 1, 1),))  # type: ignore[arg-type]
    got = api_mod._carried_over_meta(sloppy, old, "default")
    assert got.owner_references[0].controller == 1 and type(got.owner_references[0].controller) is int


# --------------------------------------------------------------------------------------------
# defaulting memos


@given(S.any_object())
def test_memoised_defaults_equal_unmemoised(obj: Any) -> None:
    defaults.clear_caches()
    first = defaults.apply_defaults(obj)
    again = defaults.apply_defaults(obj)  # served from the memos
    with reference_write_path():
        plain = defaults.apply_defaults(obj)
    assert first == plain and again == plain
    assert (first is obj) == (plain is obj)
    assert defaults.apply_defaults(first) == first  # still idempotent


def test_memo_serves_a_carried_over_spec_by_identity() -> None:
    defaults.clear_caches()
    spec = PodSpec(containers=(Container("c", "nginx"),))
    pod = Pod(metadata=ObjectMeta(name="p", namespace="default"), spec=spec)
    d1 = defaults.apply_defaults(pod)
    status_write = attrs.evolve(d1, status=PodStatus(phase="Running"))
    d2 = defaults.apply_defaults(status_write)
    assert d2 is status_write  # a defaulted spec is defaulted once, then recognised
    other = attrs.evolve(pod, spec=PodSpec(containers=(Container("c", "nginx"),)))  # equal, not identical
    assert defaults.apply_defaults(other).spec == d1.spec


def test_memo_is_bounded_and_clearable() -> None:
    memo = ByIdentity(lambda x: (x, len(x)), limit=4)
    keep = [("a",) * i for i in range(10)]
    for x in keep:
        assert memo(x) == (x, len(x))
    assert len(memo.cache) <= 4
    defaults._MEMOS.append(memo)
    try:
        defaults.clear_caches()
        assert memo.cache == {}
    finally:
        defaults._MEMOS.remove(memo)


def test_apply_defaults_still_checks_ip_families() -> None:
    pod = Pod(metadata=ObjectMeta(name="p"), spec=PodSpec(containers=(Container("c", "i"),)))
    with pytest.raises(kubesim.errors.InvalidOption):
        defaults.apply_defaults(pod, ip_families=("IPv4", "IPv4"))
    assert defaults.apply_defaults(pod, ip_families=("IPv6",)) == defaults.apply_defaults(pod)


# --------------------------------------------------------------------------------------------
# API server: the same writes on the optimised and the reference path


def _api(seed: int) -> APIServer:
    return APIServer(clock=Clock(), rng=random.Random(seed), record_objects=True)


_OWNER = OwnerReference("apps/v1", "ReplicaSet", "web-abc", "uid-rs", True, True)
_LABELS = [FrozenDict({"app": "web"}), FrozenDict({"app": "web", "tier": "f"}), FrozenDict({"tier": "f", "app": "web"})]

_ops = st.lists(
    st.one_of(
        st.tuples(st.just("create"), st.integers(0, 3), st.booleans(), st.sampled_from([(), ("example.com/guard",)])),
        st.tuples(st.just("status"), st.integers(0, 3), st.sampled_from(["Pending", "Running", "Failed"]), st.booleans()),
        st.tuples(st.just("bind"), st.integers(0, 3), st.sampled_from(["n1", "n2"])),
        st.tuples(st.just("labels"), st.integers(0, 3), st.integers(0, len(_LABELS) - 1), st.booleans()),
        st.tuples(st.just("finalizers"), st.integers(0, 3), st.sampled_from([(), ("example.com/guard",)])),
        st.tuples(st.just("stale"), st.integers(0, 3)),
        st.tuples(st.just("invalid"), st.integers(0, 3)),
        st.tuples(st.just("delete"), st.integers(0, 3), st.sampled_from([None, 0, 5])),
        st.tuples(st.just("remove"), st.integers(0, 3)),
        st.tuples(st.just("tick"), st.floats(0, 3)),
    ),
    max_size=25,
)


def _apply(api: APIServer, op: tuple[Any, ...]) -> Any:
    kind = op[0]
    if kind == "tick":
        api.clock.now += op[1]
        return None
    name = f"p{op[1]}"
    args = op[2:]
    cur = api.try_get("Pod", name, "default")
    pods = api.list("Pod")
    if cur is None and pods and kind != "create":  # generated names: pick by position
        cur = pods[op[1] % len(pods)]
    if kind == "create":
        generated, fins = args
        meta = ObjectMeta(name="" if generated else name, generate_name=name + "-" if generated else "",
                          namespace="default", labels=_LABELS[0], owner_references=(_OWNER,), finalizers=fins)
        return api.create(Pod(metadata=meta, spec=PodSpec(containers=(Container("c", "nginx"),))), actor="replicaset-controller")
    if cur is None:
        return api.update(Pod(metadata=ObjectMeta(name=name, namespace="default")))  # NotFound
    if kind == "status":
        phase, ready = args
        status = attrs.evolve(cur.status, phase=phase, conditions=(PodCondition("Ready", "True" if ready else "False"),))
        new = attrs.evolve(cur, metadata=attrs.evolve(cur.metadata, resource_version=""), status=status)
        return api.update(new, actor="kubelet")
    if kind == "bind":
        return api.update(attrs.evolve(cur, spec=attrs.evolve(cur.spec, node_name=args[0])), actor="scheduler")
    if kind == "labels":
        i, keep_rv = args
        meta = attrs.evolve(cur.metadata, labels=_LABELS[i], resource_version=cur.metadata.resource_version if keep_rv else "")
        return api.update(attrs.evolve(cur, metadata=meta))
    if kind == "finalizers":
        return api.update(attrs.evolve(cur, metadata=attrs.evolve(cur.metadata, finalizers=args[0])))
    if kind == "stale":
        return api.update(attrs.evolve(cur, metadata=attrs.evolve(cur.metadata, resource_version="1")))
    if kind == "invalid":
        return api.update(attrs.evolve(cur, spec=attrs.evolve(cur.spec, restart_policy="Sometimes")))
    if kind == "delete":
        return api.delete("Pod", cur.metadata.name, "default", grace_period_seconds=args[0])
    if kind == "remove":
        return api.remove("Pod", cur.metadata.name, "default")
    raise AssertionError(op)


def _run_ops(seed: int, ops: list[tuple[Any, ...]]) -> tuple[list[Any], list[Any], dict[Any, Any]]:
    api = _api(seed)
    results: list[Any] = []
    for op in ops:
        try:
            results.append(_apply(api, op))
        except KubesimError as exc:
            results.append((type(exc).__name__, str(exc)))
    return results, log_of(api.changes), api.snapshot()


@given(st.integers(0, 3), _ops)
def test_api_writes_match_the_reference_path(seed: int, ops: list[tuple[Any, ...]]) -> None:
    fast = _run_ops(seed, ops)
    with reference_write_path():
        ref = _run_ops(seed, ops)
    assert fast == ref


@given(S.any_object().map(S.api_valid), st.data())
def test_create_then_update_any_kind_matches_the_reference_path(obj: Any, data: st.DataObject) -> None:
    def run() -> Any:
        api = _api(0)
        out: list[Any] = []
        try:
            stored = api.create(obj)
            out.append(stored)
            out.append(api.update(attrs.evolve(stored, metadata=attrs.evolve(stored.metadata, resource_version=""))))
            out.append(api.update(attrs.evolve(stored, metadata=attrs.evolve(stored.metadata, labels={"x": "y"}))))
            out.append(api.delete(stored.kind, stored.metadata.name, stored.metadata.namespace))
        except KubesimError as exc:
            out.append((type(exc).__name__, str(exc)))
        return out, log_of(api.changes), api.snapshot()

    fast = run()
    with reference_write_path():
        assert run() == fast


def test_an_update_that_changes_nothing_records_nothing_and_returns_the_stored_object() -> None:
    api = _api(0)
    stored = api.create(Pod(metadata=ObjectMeta(name="p", namespace="default"),
                            spec=PodSpec(containers=(Container("c", "nginx"),))))
    n = len(api.changes)
    same = attrs.evolve(stored, metadata=attrs.evolve(stored.metadata, resource_version=""))
    assert api.update(same) is stored
    assert api.update(stored) is stored
    assert len(api.changes) == n


# --------------------------------------------------------------------------------------------
# whole clusters: the same workload on the optimised and the reference path


_workload_ops = st.lists(
    st.one_of(
        st.tuples(st.just("scale"), st.integers(0, 7)),
        st.tuples(st.just("image"), st.sampled_from(["nginx:1.26", "nginx:1.27", "nginx:1.25"])),
        st.tuples(st.just("restart")),
        st.tuples(st.just("delete-pod"), st.integers(0, 10)),
        st.tuples(st.just("fail-node"), st.integers(1, 3)),
        st.tuples(st.just("recover-node"), st.integers(1, 3)),
        st.tuples(st.just("run"), st.floats(0.5, 20)),
    ),
    min_size=1,
    max_size=6,
)

_RECREATE = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 3
  strategy: {type: Recreate}
  revisionHistoryLimit: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: c
        image: nginx:1.25
        ports: [{containerPort: 80}]
"""


def _workload(seed: int, recreate: bool, faults: bool, ops: list[tuple[Any, ...]]) -> tuple[Any, ...]:
    plan = FaultPlan(conflict_rate=0.05, error_rate=0.03, timeout_rate=0.03, watch_delay=0.5) if faults else None
    c = kubesim.Cluster(seed=seed, nodes=3, record_objects=True, max_endpoints_per_slice=2, faults=plan)
    if recreate:
        c.apply_yaml(_RECREATE)
    else:
        scenarios.deploy(c, "web", replicas=3)
    c.run(until=30)
    refused: list[tuple[str, str]] = []
    for op in ops:
        kind = op[0]
        try:
            if kind == "scale":
                scenarios.scale(c, "web", op[1])
            elif kind == "image":
                scenarios.set_image(c, "web", op[1])
            elif kind == "restart":
                c.run(until=c.now + 1)  # a new restartedAt stamp
                scenarios.restart(c, "web")
            elif kind == "delete-pod":
                pods = c.list("Pod")
                if pods:
                    scenarios.delete_pod(c, pods[op[1] % len(pods)].metadata.name)
            elif kind == "fail-node":
                scenarios.fail_node(c, f"node-{op[1]}")
            elif kind == "recover-node":
                scenarios.recover_node(c, f"node-{op[1]}")
            else:
                c.run(until=c.now + op[1])
        except KubesimError as exc:  # e.g. recovering a node that is not down
            refused.append((type(exc).__name__, str(exc)))
    c.run(until=c.now + 400)
    return log_of(c.changes), c.api.snapshot(), c.clock.steps, repr(c.statistics()), refused


@settings(max_examples=12)
@given(st.integers(0, 5), st.booleans(), st.booleans(), _workload_ops)
def test_cluster_workloads_match_the_reference_path(seed: int, recreate: bool, faults: bool, ops: list[tuple[Any, ...]]) -> None:
    fast = _workload(seed, recreate, faults, ops)
    with reference_write_path():
        ref = _workload(seed, recreate, faults, ops)
    assert fast[0] == ref[0]  # the change log: every field and object, in order
    assert fast == ref


def test_rolling_update_change_log_matches_the_reference_path() -> None:
    def run() -> Any:
        c = kubesim.Cluster(seed=1, nodes=6, record_objects=True)
        lean.rollout_workload(12, rescale=5)(c)
        return log_of(c.changes), c.api.snapshot()

    fast = run()
    with reference_write_path():
        ref = run()
    assert len(fast[0]) > 200
    assert fast == ref


def test_deployment_sync_looks_the_new_replica_set_up_once() -> None:
    calls: list[int] = []
    real = revisions.equal_ignore_hash  # rebound where find_new_replica_set reads it

    def counting(t1: PodTemplateSpec, t2: PodTemplateSpec) -> bool:
        calls.append(1)
        return real(t1, t2)

    c = kubesim.Cluster(seed=0, nodes=3)
    scenarios.deploy(c, "web", replicas=3)
    c.run()
    dc = c.controllers["deployment"]
    revisions.equal_ignore_hash = counting
    try:
        dc.sync("default/web")  # the rollout is done: a sync from its fixed point looks nothing up
        assert calls == []
        dc._quiet.clear()
        dc.sync("default/web")
    finally:
        revisions.equal_ignore_hash = real
    # one ReplicaSet: the sync's own lookup, which plan_deployment_sync is given (new_rs=)
    assert len(calls) == 1


_HISTORY_0 = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 2
  revisionHistoryLimit: 0
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: c, image: "nginx:1.25"}]
"""


def test_a_new_replica_set_scaled_to_zero_in_the_same_sync_is_not_cleaned_up() -> None:
    # upstream cleanupDeployment only considers old ReplicaSets: scaling a Deployment to 0
    # mid-rollout (with revisionHistoryLimit 0 and no pods yet) deletes the old ReplicaSet and
    # keeps the new one, which the sync has just scaled to 0 itself.
    def run() -> Any:
        c = kubesim.Cluster(seed=0, nodes=1, controllers=["deployment"], record_objects=True)
        c.apply_yaml(_HISTORY_0)
        c.run()
        scenarios.set_image(c, "web", "nginx:1.26")
        c.run()
        assert len(c.list("ReplicaSet")) == 2
        scenarios.scale(c, "web", 0)
        c.run()
        return log_of(c.changes), c.list("ReplicaSet")

    log, left = run()
    assert [(rs.spec.replicas, rs.spec.template.spec.containers[0].image) for rs in left] == [(0, "nginx:1.26")]
    with reference_write_path():
        assert run() == (log, left)
