"""Hostile input through the public API: every invalid input yields a typed KubesimError and
leaves the cluster exactly as before; every valid input is accepted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import strategies as S
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kubesim
from kubesim.manifests import to_manifest


def _fingerprint(cluster: kubesim.Cluster) -> tuple[Any, ...]:
    return (len(cluster.changes), cluster.api.statistics().resource_version, cluster.api.snapshot(), cluster.rng.getstate())


def _fresh() -> kubesim.Cluster:
    c = kubesim.Cluster(seed=0, nodes=2, controllers=[])
    c.apply_yaml("apiVersion: v1\nkind: Service\nmetadata: {name: existing}\nspec: {selector: {app: x}, ports: [{port: 80}]}\n")
    return c


def _only_typed_errors(cluster: kubesim.Cluster, action: Callable[[], Any]) -> bool:
    """Run ``action``; True if accepted. A refusal must be a KubesimError and change nothing."""
    before = _fingerprint(cluster)
    try:
        action()
    except kubesim.KubesimError as exc:
        assert str(exc)  # a message the user can read
        assert _fingerprint(cluster) == before, f"{type(exc).__name__} left the cluster changed"
        return False
    return True


_json_scalars = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=20)
_json = st.recursive(
    _json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)

_HOSTILE_TEXT = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200),
    st.sampled_from([
        "!!python/object/apply:os.system ['echo pwned']",
        "kind: Pod\napiVersion: v1\nmetadata: !!python/object:object {}\n",
        "a: &a [*a]",
        "- &x [*x, *x, *x]\n",
        "\xff\xfe not utf-8".encode("latin-1"),
        "kind: Pod\napiVersion: v1\nmetadata: {name: " + "a" * 300 + "}\n",
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 70000}]}\n",
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: '80x'}]}\n",
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {selector: [a, b], ports: [{port: 80}]}\n",
        "apiVersion: v1\nkind: Frobnicator\nmetadata: {name: s}\n",
        "apiVersion: v9\nkind: Pod\nmetadata: {name: s}\n",
        "apiVersion: v1\nkind: Endpoints\nmetadata: {name: e}\nsubsets: [{addresses: [{ip: 127.0.0.1}]}]\n",
        "apiVersion: v1\nkind: Service\nmetadata: {name: ok}\nspec: {ports: [{port: 80}]}\n---\n"
        "apiVersion: v1\nkind: Service\nmetadata: {name: Bad_Name}\nspec: {ports: [{port: 80}]}\n",
        "[" * 2000,
    ]),
    _json.map(lambda v: yaml.safe_dump(v)),
)


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=150)
@given(_HOSTILE_TEXT)
def test_apply_yaml_of_hostile_text(text: Any) -> None:
    cluster = _fresh()
    _only_typed_errors(cluster, lambda: cluster.apply_yaml(text))


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=100)
@given(S.any_object(), st.data())
def test_corrupted_manifests_through_apply(obj: Any, data: st.DataObject) -> None:
    cluster = _fresh()
    manifest = to_manifest(obj)
    paths = [p for p in _paths(manifest) if p]
    path = data.draw(st.sampled_from(paths))
    cur: Any = manifest
    for p in path[:-1]:
        cur = cur[p]
    cur[path[-1]] = data.draw(_json)
    _only_typed_errors(cluster, lambda: cluster.apply(manifest))
    _only_typed_errors(cluster, lambda: cluster.create(manifest))


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much], max_examples=100)
@given(st.sampled_from([S.pods, S.services, S.endpoints_objects, S.endpoint_slices, S.deployments, S.replica_sets])
       .flatmap(lambda f: f()))
def test_valid_objects_are_accepted(obj: Any) -> None:
    cluster = kubesim.Cluster(seed=0, nodes=1, controllers=[], dual_stack=True)
    stored = cluster.create(S.api_valid(obj))
    assert stored.metadata.uid and stored.metadata.resource_version
    again = cluster.update(stored)  # an identical update is accepted (and writes nothing)
    assert again == stored


@given(st.one_of(st.none(), st.integers(), st.text(), st.lists(st.integers())))
def test_non_objects_are_refused(junk: Any) -> None:
    cluster = _fresh()
    assert not _only_typed_errors(cluster, lambda: cluster.create(junk))
    assert not _only_typed_errors(cluster, lambda: cluster.update(junk))
    assert not _only_typed_errors(cluster, lambda: cluster.apply(junk))


def test_stale_update_is_a_conflict_and_changes_nothing() -> None:
    cluster = _fresh()
    svc = cluster.get("Service", "existing")
    cluster.update(attrs.evolve(svc, metadata=attrs.evolve(svc.metadata, labels={"v": "1"})))
    assert not _only_typed_errors(
        cluster, lambda: cluster.update(attrs.evolve(svc, metadata=attrs.evolve(svc.metadata, labels={"v": "2"})))
    )


def _paths(d: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(d, dict):
        for k, v in d.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(d, list):
        for i, v in enumerate(d):
            out += _paths(v, prefix + (i,))
    return out
