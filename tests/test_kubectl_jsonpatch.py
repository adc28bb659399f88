"""kubectl patch --type json: RFC 6902 JSON patch, checked against the RFC's own examples.

Appendix A of RFC 6902 gives a document, a patch and the result (or an error) for every
operation; each case runs through the function ``kubectl patch --type json`` applies. Then the
same operations on a live Deployment, through ``cluster.kubectl()`` and the CLI, with the
lines kubectl prints for the API server's answers.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import kubesim
from kubesim import scenarios
from kubesim.errors import KubectlError
from kubesim.kubectl.write import _json_patch

RFC6902_APPENDIX_A: list[tuple[str, Any, list[dict[str, Any]], Any]] = [
    ("A.1 adding an object member", {"foo": "bar"},
     [{"op": "add", "path": "/baz", "value": "qux"}], {"baz": "qux", "foo": "bar"}),
    ("A.2 adding an array element", {"foo": ["bar", "baz"]},
     [{"op": "add", "path": "/foo/1", "value": "qux"}], {"foo": ["bar", "qux", "baz"]}),
    ("A.3 removing an object member", {"baz": "qux", "foo": "bar"},
     [{"op": "remove", "path": "/baz"}], {"foo": "bar"}),
    ("A.4 removing an array element", {"foo": ["bar", "qux", "baz"]},
     [{"op": "remove", "path": "/foo/1"}], {"foo": ["bar", "baz"]}),
    ("A.5 replacing a value", {"baz": "qux", "foo": "bar"},
     [{"op": "replace", "path": "/baz", "value": "boo"}], {"baz": "boo", "foo": "bar"}),
    ("A.6 moving a value", {"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
     [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}],
     {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}}),
    ("A.7 moving an array element", {"foo": ["all", "grass", "cows", "eat"]},
     [{"op": "move", "from": "/foo/1", "path": "/foo/3"}], {"foo": ["all", "cows", "eat", "grass"]}),
    ("A.8 testing a value: success", {"baz": "qux", "foo": ["a", 2, "c"]},
     [{"op": "test", "path": "/baz", "value": "qux"}, {"op": "test", "path": "/foo/1", "value": 2}],
     {"baz": "qux", "foo": ["a", 2, "c"]}),
    ("A.9 testing a value: error", {"baz": "qux"},
     [{"op": "test", "path": "/baz", "value": "bar"}], KubectlError),
    ("A.10 adding a nested member object", {"foo": "bar"},
     [{"op": "add", "path": "/child", "value": {"grandchild": {}}}], {"foo": "bar", "child": {"grandchild": {}}}),
    ("A.11 ignoring unrecognized elements", {"foo": "bar"},
     [{"op": "add", "path": "/baz", "value": "qux", "xyz": 123}], {"foo": "bar", "baz": "qux"}),
    ("A.12 adding to a nonexistent target", {"foo": "bar"},
     [{"op": "add", "path": "/baz/bat", "value": "qux"}], KubectlError),
    ("A.14 ~ escape ordering", {"/": 9, "~1": 10},
     [{"op": "test", "path": "/~01", "value": 10}], {"/": 9, "~1": 10}),
    ("A.15 comparing strings and numbers", {"/": 9, "~1": 10},
     [{"op": "test", "path": "/~01", "value": "10"}], KubectlError),
    ("A.16 adding an array value", {"foo": ["bar"]},
     [{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}], {"foo": ["bar", ["abc", "def"]]}),
]


@pytest.mark.parametrize(("case", "doc", "patch", "want"), RFC6902_APPENDIX_A, ids=[c[0] for c in RFC6902_APPENDIX_A])
def test_rfc6902_appendix_a(case: str, doc: Any, patch: list[dict[str, Any]], want: Any) -> None:
    original = json.loads(json.dumps(doc))
    if want is KubectlError:
        with pytest.raises(KubectlError, match=r"^The request is invalid: "):
            _json_patch(doc, patch)
    else:
        assert _json_patch(doc, patch) == want
    assert doc == original  # the input is never changed, even by a failing patch


def test_a13_the_last_duplicate_member_wins() -> None:
    # A.13's patch repeats "op"; the RFC leaves it to the parser, and Go's encoding/json, like
    # Python's json, keeps the last one: a remove of a missing member, an error
    ops = json.loads('[{"op": "add", "path": "/baz", "value": "qux", "op": "remove"}]')
    with pytest.raises(KubectlError, match="doc is missing key: /baz"):
        _json_patch({"foo": "bar"}, ops)


def _cluster() -> kubesim.Cluster:
    cluster = kubesim.Cluster(seed=0, nodes=2)
    scenarios.deploy(cluster, "web", replicas=2)
    cluster.run()
    return cluster


def test_kubectl_patch_type_json_on_a_deployment() -> None:
    cluster = _cluster()
    ops = [
        {"op": "test", "path": "/spec/replicas", "value": 2},
        {"op": "replace", "path": "/spec/replicas", "value": 3},
        {"op": "add", "path": "/metadata/labels", "value": {"app.kubernetes.io/name": "web"}},
        {"op": "copy", "from": "/metadata/labels/app.kubernetes.io~1name", "path": "/metadata/labels/team"},
        {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "nginx:1.27"},
    ]
    out = cluster.kubectl(["patch", "deployment", "web", "--type", "json", "-p", json.dumps(ops)])
    assert out == "deployment.apps/web patched\n"
    cluster.run()
    d = cluster.get("Deployment", "web")
    assert d.spec.replicas == 3 and dict(d.metadata.labels) == {"app.kubernetes.io/name": "web", "team": "web"}
    assert d.spec.template.spec.containers[0].image == "nginx:1.27"
    assert len(cluster.list("Pod", selector="app=web")) == 3
    # the same patch again: its test fails now, nothing is written
    n = len(cluster.changes)
    with pytest.raises(KubectlError, match=r"^The request is invalid: testing value /spec/replicas failed$"):
        cluster.kubectl(["patch", "deployment", "web", "--type", "json", "-p", json.dumps(ops)])
    assert len(cluster.changes) == n
    # a patch that changes nothing is "patched (no change)"
    same = [{"op": "replace", "path": "/spec/replicas", "value": 3}]
    assert cluster.kubectl(["patch", "deploy/web", "--type=json", "-p", json.dumps(same)]) == (
        "deployment.apps/web patched (no change)\n")


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ('{"op": "add"}', "Error from server (BadRequest): json: cannot unmarshal object into Go value of type jsonpatch.Patch"),
        ('[{"op": "remove", "path": "/spec/nope"}]', "The request is invalid: doc is missing key: /spec/nope"),
        ('[{"op": "replace", "path": "/spec/template/spec/containers/5/image", "value": "x"}]',
         "The request is invalid: "),
    ],
)
def test_kubectl_patch_type_json_errors(patch: str, message: str) -> None:
    cluster = _cluster()
    n = len(cluster.changes)
    with pytest.raises(KubectlError) as info:
        cluster.kubectl(["patch", "deployment", "web", "--type", "json", "-p", patch])
    assert str(info.value).startswith(message)
    assert len(cluster.changes) == n
