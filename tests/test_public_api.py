"""The curated public API: everything in ``kubesim.__all__`` exists and is documented."""

from __future__ import annotations

import inspect

import kubesim


def test_all_names_exist_and_are_unique() -> None:
    assert len(set(kubesim.__all__)) == len(kubesim.__all__)
    for name in kubesim.__all__:
        assert hasattr(kubesim, name), name


def test_public_names_have_docstrings() -> None:
    for name in kubesim.__all__:
        obj = getattr(kubesim, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert obj.__doc__ and obj.__doc__.strip(), f"{name} has no docstring"


def test_design_names_are_exported() -> None:
    # DESIGN.md's stable public API
    for name in (
        "Cluster",
        "to_manifest",
        "from_manifest",
        "load_yaml",
        "reconcile_endpoint_slices",
        "endpoints_for",
        "KubesimError",
        "InvalidObject",
        "NotFound",
        "AlreadyExists",
        "Conflict",
        "RequestTooLarge",
        "ManifestError",
    ):
        assert name in kubesim.__all__, name
    for method in ("apply_yaml", "apply_file", "apply", "create", "update", "get", "list", "delete", "run", "kubectl", "churn"):
        assert callable(getattr(kubesim.Cluster, method)), method
    assert isinstance(kubesim.Cluster.now, property)
    assert isinstance(kubesim.Cluster.changes, property)


def test_change_event_fields_match_design() -> None:
    fields = [f.name for f in kubesim.ChangeEvent.__attrs_attrs__]  # type: ignore[attr-defined]
    assert fields[:10] == [
        "seq", "time", "verb", "kind", "namespace", "name", "resource_version", "actor", "json_bytes", "proto_bytes",
    ]
