"""The REST backend is a thin adapter: random request programs through it write exactly what the
same operations through the library write.

A Hypothesis state machine drives two clusters with one seed: one through
:class:`kubesim.serve.rest.Backend` (the HTTP layer minus the socket), one through ``Cluster``
calls (the oracle). After every step their stores, change logs (record for record) and the
outcomes of the step (the HTTP code against the library's exception) agree, a GET or a
labelled LIST through the backend serves the library's objects, and the watch history holds
every committed write once, in order (what a watch from any resourceVersion replays).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

import kubesim
from kubesim import errors, manifests
from kubesim.patch import merge_patch
from kubesim.serve.rest import Backend, Request, Response
from kubesim.serve.status import from_exception

NAMES = st.sampled_from(["a", "b", "c"])
LABELS = st.dictionaries(st.sampled_from(["app", "tier"]), st.sampled_from(["web", "db"]), max_size=2)
UA = {"User-Agent": "kubectl/v1.37.1 (linux/amd64)"}
PLURAL = {"Endpoints": "endpoints", "Service": "services"}


def _endpoints(name: str, labels: dict[str, str], ip: int) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": name, "labels": labels},
            "subsets": [{"addresses": [{"ip": f"192.168.49.{ip}"}], "ports": [{"port": 5432}]}]}


def _service(name: str, labels: dict[str, str], port: int) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "labels": labels},
            "spec": {"selector": {"app": name}, "ports": [{"port": port}]}}


class AdapterMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.backend = Backend(kubesim.Cluster(seed=3, nodes=2))
        self.served = self.backend.cluster
        self.oracle = kubesim.Cluster(seed=3, nodes=2)

    def _send(self, method: str, path: str, body: Any = None, ctype: str = "application/json",
              query: dict[str, str] | None = None) -> Response:
        raw = json.dumps(body).encode() if body is not None else b""
        resp = self.backend.handle(Request(method, path, query or {}, {**UA, "Content-Type": ctype}, raw))
        assert isinstance(resp, Response)
        return resp

    def _expect(self, resp: Response, oracle_call: Any) -> None:
        try:
            oracle_call()
        except errors.KubesimError as exc:
            code, body = from_exception(exc)
            assert resp.code == code, (resp.code, resp.body, exc)
            assert json.loads(resp.body)["reason"] == body["reason"]
            return
        assert resp.code in (200, 201), resp.body

    @rule(kind=st.sampled_from(["Endpoints", "Service"]), name=NAMES, labels=LABELS,
          n=st.integers(1, 70000))
    def create(self, kind: str, name: str, labels: dict[str, str], n: int) -> None:
        body = _endpoints(name, labels, n % 256) if kind == "Endpoints" else _service(name, labels, n)
        resp = self._send("POST", f"/api/v1/namespaces/default/{PLURAL[kind]}", body)
        self._expect(resp, lambda: self.oracle.create(body, actor="kubectl"))

    @rule(kind=st.sampled_from(["Endpoints", "Service"]), name=NAMES, labels=LABELS)
    def merge_labels(self, kind: str, name: str, labels: dict[str, Any]) -> None:
        patch = {"metadata": {"labels": {**labels, "tier": None} if "tier" not in labels else labels}}
        resp = self._send("PATCH", f"/api/v1/namespaces/default/{PLURAL[kind]}/{name}", patch,
                          "application/merge-patch+json")

        def oracle() -> None:
            live = self.oracle.get(kind, name)
            d = merge_patch(manifests.to_manifest(live), patch)
            d["metadata"]["resourceVersion"] = ""
            self.oracle.update(manifests.from_manifest(d), actor="kubectl")

        self._expect(resp, oracle)

    @rule(name=NAMES, ip=st.integers(1, 254), stale=st.booleans())
    def put_endpoints(self, name: str, ip: int, stale: bool) -> None:
        live = self.oracle.api.try_get("Endpoints", name, "default")
        body = _endpoints(name, {}, ip)
        if live is not None:
            rv = int(live.metadata.resource_version)
            body["metadata"]["resourceVersion"] = str(rv - 1 if stale else rv)
        resp = self._send("PUT", f"/api/v1/namespaces/default/endpoints/{name}", body)
        self._expect(resp, lambda: self.oracle.update(body, actor="kubectl"))

    @rule(kind=st.sampled_from(["Endpoints", "Service"]), name=NAMES)
    def delete(self, kind: str, name: str) -> None:
        resp = self._send("DELETE", f"/api/v1/namespaces/default/{PLURAL[kind]}/{name}")
        self._expect(resp, lambda: self.oracle.api.delete(kind, name, "default", actor="kubectl"))

    @rule(name=NAMES, labels=LABELS)
    def dry_run_create(self, name: str, labels: dict[str, str]) -> None:
        resp = self._send("POST", "/api/v1/namespaces/default/endpoints", _endpoints(name, labels, 9),
                          query={"dryRun": "All"})
        assert resp.code in (201, 409), resp.body  # nothing written either way: the invariants check it

    @rule(seconds=st.sampled_from([0.5, 5.0, 30.0]))
    def advance(self, seconds: float) -> None:
        self.served.run(until=self.served.now + seconds)
        self.oracle.run(until=self.oracle.now + seconds)

    @rule(selector=st.sampled_from(["", "app=web", "tier!=db", "app in (web,db)", "!tier"]))
    def list_endpoints(self, selector: str) -> None:
        resp = self._send("GET", "/api/v1/namespaces/default/endpoints", query={"labelSelector": selector})
        names = [i["metadata"]["name"] for i in json.loads(resp.body)["items"]]
        assert names == [o.metadata.name for o in self.oracle.list("Endpoints", selector=selector or None)]

    @invariant()
    def same_state(self) -> None:
        assert self.served.api.snapshot() == self.oracle.api.snapshot()
        assert list(self.served.changes) == list(self.oracle.changes)

    @invariant()
    def watch_history_is_the_change_log(self) -> None:
        # every committed write since the server started, once, in order, with its resourceVersion
        hub = self.backend.hub
        hub._check()
        verbs = {"create": "ADDED", "update": "MODIFIED", "delete": "DELETED"}
        log = [(e.resource_version, verbs[e.verb], e.kind, e.name) for e in self.served.changes
               if e.committed and e.resource_version > hub.start_rv]
        assert [(e.rv, e.type, e.kind, e.new.metadata.name) for e in hub.history] == log

    @invariant()
    def gets_serve_the_library_objects(self) -> None:
        for o in self.oracle.list("Service"):
            resp = self._send("GET", f"/api/v1/namespaces/default/services/{o.metadata.name}")
            assert json.loads(resp.body) == manifests.to_manifest(o)


AdapterMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=20, deadline=None)
test_backend_writes_what_the_library_writes = pytest.mark.filterwarnings("ignore")(AdapterMachine.TestCase)
