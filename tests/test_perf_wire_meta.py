"""Cached and arithmetic sizes of ObjectMeta, Pod status and the small statuses of ReplicaSet
and Deployment (kubesim.wire) equal from-scratch encodings, also along evolve chains that
carry collections over by identity, as the API server and the kubelet do."""

from __future__ import annotations

import json
from typing import Any

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from kubesim import manifests, wire
from kubesim import objects as o
from tests import strategies as ks

# Wider than tests/strategies.py: non-ASCII and HTML characters, long strings (two-byte
# length prefixes), negative and huge integers, timestamps outside years 1000-9999.
_text = st.text(
    st.one_of(st.sampled_from("ab-./<>&\"\\é\u2028\U0001f600\n"), st.characters(codec="utf-8")),
    max_size=8,
)
_any_str = st.one_of(st.just(""), _text, _text.map(lambda s: s * 40), st.just("x" * 127))
_ts = st.one_of(
    st.none(),
    st.integers(-62135596800, 253402300799),  # years 1 - 9999
    st.sampled_from([0, -1, -30610224000, -30610224001, 253402300799]),
)
_map = st.dictionaries(_any_str, _any_str, max_size=3).map(o.FrozenDict)
_owner = st.builds(
    o.OwnerReference,
    api_version=_any_str,
    kind=_any_str,
    name=_any_str,
    uid=_any_str,
    controller=st.one_of(st.none(), st.booleans()),
    block_owner_deletion=st.one_of(st.none(), st.booleans()),
)
_metas = st.builds(
    o.ObjectMeta,
    name=_any_str,
    generate_name=_any_str,
    namespace=_any_str,
    self_link=_any_str,
    uid=_any_str,
    resource_version=_any_str,
    generation=st.one_of(st.integers(-(2**63), 2**63 - 1), st.integers(0, 300)),
    creation_timestamp=_ts,
    deletion_timestamp=_ts,
    deletion_grace_period_seconds=st.one_of(st.none(), st.integers(-(2**40), 2**40)),
    labels=_map,
    annotations=_map,
    owner_references=st.lists(_owner, max_size=2).map(tuple),
    finalizers=st.lists(_any_str, max_size=3).map(tuple),
    managed_fields=st.one_of(st.just(()), st.tuples(ks.managed_fields_entries())),
)
_conditions = st.builds(
    o.PodCondition,
    type=_any_str,
    status=_any_str,
    last_transition_time=_ts,
    last_probe_time=_ts,
    reason=_any_str,
    message=_any_str,
)
_statuses = st.builds(
    o.PodStatus,
    phase=_any_str,
    conditions=st.lists(_conditions, max_size=3).map(tuple),
    host_ip=_any_str,
    pod_ip=_any_str,
    pod_ips=st.lists(st.builds(o.PodIP, _any_str), max_size=2).map(tuple),
    start_time=_ts,
    reason=_any_str,
    message=_any_str,
)
_int32 = st.integers(-(2**31), 2**31 - 1)
_rs_statuses = st.builds(
    o.ReplicaSetStatus,
    replicas=_int32,
    fully_labeled_replicas=_int32,
    ready_replicas=_int32,
    available_replicas=_int32,
    observed_generation=st.integers(-(2**63), 2**63 - 1),
)
_deploy_statuses = st.builds(
    o.DeploymentStatus,
    observed_generation=st.integers(-(2**63), 2**63 - 1),
    replicas=_int32,
    updated_replicas=_int32,
    ready_replicas=_int32,
    available_replicas=_int32,
    unavailable_replicas=_int32,
)


def _go_len(value: Any) -> int:
    return len(wire.go_json_bytes(value))


def _wire_meta_json(m: o.ObjectMeta, include_rv: bool) -> int:
    """Go JSON of wire's own metadata rendering, raw FieldsV1 decoded first."""
    d = wire._meta_json(m, include_rv)
    for e in d.get("managedFields", ()):
        if "fieldsV1" in e:
            text = e["fieldsV1"].text
            e["fieldsV1"] = json.loads(text) if text.strip() else None
    return _go_len(d)


def _stored(m: o.ObjectMeta) -> o.ObjectMeta:
    return attrs.evolve(m, self_link="", resource_version="")


@settings(max_examples=300)
@given(_metas)
def test_meta_sizes_equal_encodings(m: o.ObjectMeta) -> None:
    assert wire._meta_body_pair(m) == (
        len(wire._object_meta(m, True)),
        len(wire._object_meta(m, False)),
    )
    assert wire._meta_json_sizes(m, True) == (
        _go_len(manifests.encode(m)),
        _go_len(manifests.encode(_stored(m))),
    )
    assert wire._meta_json_sizes(m, False) == (
        _wire_meta_json(m, True),
        _wire_meta_json(m, False),
    )
    # asked again: answered from the identity caches, still equal
    assert wire._meta_body_pair(m)[0] == len(wire._object_meta(m, True))
    assert wire._meta_json_sizes(m, True)[0] == _go_len(manifests.encode(m))


def test_years_outside_1000_9999_follow_each_renderer() -> None:
    # wire's strftime writes year 999 with 3 digits, manifests' formatter with 4.
    m = o.ObjectMeta(name="a", creation_timestamp=-30610224001)
    assert wire._meta_json_sizes(m, False)[0] == _wire_meta_json(m, True)
    assert wire._meta_json_sizes(m, True)[0] == _go_len(manifests.encode(m))
    assert wire._meta_json_sizes(m, True)[0] == wire._meta_json_sizes(m, False)[0] + 1


@settings(max_examples=200)
@given(_statuses)
def test_pod_status_sizes_equal_encodings(s: o.PodStatus) -> None:
    assert wire._pod_status_len(s) == len(wire._pod_status(s))
    assert wire._pod_status_json(s) == _go_len(manifests.encode(s))


@given(_rs_statuses, _deploy_statuses)
def test_int_statuses_equal_encodings(rs: o.ReplicaSetStatus, d: o.DeploymentStatus) -> None:
    assert wire._JSON_SIZERS[o.ReplicaSetStatus](rs) == _go_len(manifests.encode(rs))
    assert wire._JSON_SIZERS[o.DeploymentStatus](d) == _go_len(manifests.encode(d))
    rs_obj = o.ReplicaSet(metadata=o.ObjectMeta(name="r"), status=rs)
    d_obj = o.Deployment(metadata=o.ObjectMeta(name="d"), status=d)
    for obj in (rs_obj, d_obj):
        assert wire.raw_size(obj) == len(wire.encode_raw(obj))


def _check(obj: Any) -> None:
    """sizes3 against from-scratch protobuf and Go JSON of the whole object."""
    stored = attrs.evolve(obj, metadata=_stored(obj.metadata))
    if isinstance(obj, (o.Endpoints, o.EndpointSlice)):
        json_ref = _go_len(manifests.to_manifest(obj))
    else:
        json_ref = _go_len(manifests.to_manifest(obj))
        assert wire.json_size(obj, include_resource_version=False) == _go_len(
            manifests.to_manifest(stored)
        )
    assert wire.sizes3(obj) == (
        json_ref,
        len(wire.encode_proto(obj)),
        len(wire.encode_proto(obj, include_resource_version=False)),
    )


_steps = st.lists(
    st.tuples(
        st.sampled_from(["rv", "label", "annotation", "owner", "finalizer", "status", "cond", "gen"]),
        _any_str,
    ),
    min_size=1,
    max_size=8,
)


def _evolve(obj: Any, step: str, text: str, n: int) -> Any:
    m = obj.metadata
    if step == "rv":
        m = attrs.evolve(m, resource_version=str(n) + text)
    elif step == "label":
        m = attrs.evolve(m, labels=m.labels.set(text, str(n)))
    elif step == "annotation":
        m = attrs.evolve(m, annotations=m.annotations.set("a", text))
    elif step == "owner":
        m = attrs.evolve(m, owner_references=m.owner_references + (o.OwnerReference(name=text),))
    elif step == "finalizer":
        m = attrs.evolve(m, finalizers=m.finalizers + (text,))
    elif step == "gen":
        m = attrs.evolve(m, generation=m.generation + n * 1000)
    elif isinstance(obj, o.Pod) and step in ("status", "cond"):
        st_ = obj.status
        if step == "status":
            st_ = attrs.evolve(st_, phase=text, pod_ip=text)
        else:  # replace one condition, keep the others (by identity)
            new = o.PodCondition(type="Ready", status=text, last_transition_time=n)
            st_ = attrs.evolve(st_, conditions=st_.conditions[1:] + (new,))
        return attrs.evolve(obj, status=st_, metadata=attrs.evolve(m, resource_version=str(n)))
    elif isinstance(obj, o.ReplicaSet) and step in ("status", "cond"):
        return attrs.evolve(obj, status=attrs.evolve(obj.status, ready_replicas=n), metadata=m)
    elif isinstance(obj, o.Deployment) and step in ("status", "cond"):
        return attrs.evolve(obj, status=attrs.evolve(obj.status, updated_replicas=n), metadata=m)
    return attrs.evolve(obj, metadata=m)


@settings(max_examples=100)
@given(
    st.one_of(
        ks.pods(), ks.replica_sets(), ks.deployments(), ks.endpoints_objects(),
        ks.endpoint_slices(), ks.services(), ks.nodes(), ks.namespaces(),
    ),
    _steps,
)
def test_evolve_chains_keep_sizes_exact(obj: Any, steps: list[tuple[str, str]]) -> None:
    _check(obj)
    for n, (step, text) in enumerate(steps, 1):
        obj = _evolve(obj, step, text, n)
        _check(obj)
        _check(obj)  # a second time: every part now cached


def test_caches_are_bounded_and_hold_references() -> None:
    wire.clear_caches()
    cache = wire._labels_pair
    maps = [o.FrozenDict({"k": str(i)}) for i in range(cache.limit + 10)]
    for m in maps:
        cache(m)
    assert len(cache.cache) <= cache.limit
    for key, (held, _) in cache.cache.items():
        assert id(held) == key  # the reference keeps the id from being reused
    # an equal-id lookup of a different object must not hit
    meta = o.ObjectMeta(labels={"k": "v"})
    first = wire._meta_body_pair(meta)
    m2 = o.ObjectMeta(labels={"k": "a-much-longer-value"})
    assert wire._meta_body_pair(m2)[0] == len(wire._object_meta(m2)) > first[0]
    wire.clear_caches()
    assert not cache.cache
