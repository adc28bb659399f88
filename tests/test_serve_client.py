"""``kubesim serve`` with the official ``kubernetes`` Python client and raw HTTP.

Watches (checked record for record against the change log, the oracle), an informer-style
list-and-watch cache, 410 Gone, bookmarks, paging, field selectors, conflicts and validation
errors as Status objects, subresources, delete options, dry runs, bearer tokens, the wall-clock
driver, many concurrent watchers, and a bounded malformed-request soak the server survives.
Every server binds 127.0.0.1 on a free port and is stopped at the end of its ``with`` block.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

try:
    from tests.serve_support import CONTROL, MANIFESTS, pb_fields, serve
except ImportError:  # tests/ itself on sys.path
    from serve_support import CONTROL, MANIFESTS, pb_fields, serve  # type: ignore[no-redef]

kubernetes = pytest.importorskip("kubernetes", reason="the kubernetes Python client (pip install kubernetes)")
pytest.importorskip("aiohttp", reason="kubesim serve needs aiohttp")

from kubernetes import client, watch  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402

DEPLOYMENT = (MANIFESTS / "nginx-deployment.yaml").read_text()
SERVICE = (MANIFESTS / "nginx-service.yaml").read_text()


def api_client(url: str, token: str | None = None) -> client.ApiClient:
    cfg = client.Configuration(host=url)
    cfg.client_side_validation = False  # as against a real API server: empty slices serve null lists
    if token:
        cfg.api_key = {"authorization": token}
        cfg.api_key_prefix = {"authorization": "Bearer"}
    return client.ApiClient(cfg)


def endpoints_body(name: str, ip: str = "192.168.49.1", labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": name, "labels": labels or {}},
            "subsets": [{"addresses": [{"ip": ip}], "ports": [{"port": 5432}]}]}


def apply_chapter(s: Any) -> None:
    import yaml

    for doc in (DEPLOYMENT, SERVICE):
        d = yaml.safe_load(doc)
        path = "/apis/apps/v1/namespaces/default/deployments" if d["kind"] == "Deployment" else "/api/v1/namespaces/default/services"
        code, body = s.http("POST", path, d)
        assert code == 201, body


# ---------------------------------------------------------------------------- watch


def test_watch_through_the_python_client_matches_the_change_log(tmp_path: Path) -> None:
    with serve(tmp_path) as s:
        core = client.CoreV1Api(api_client(s.url))
        start_rv = core.list_namespaced_pod("default").metadata.resource_version
        mark = s.call(lambda: len(s.thread.server.cluster.changes))
        events: list[tuple[str, str, str]] = []

        def consume() -> None:
            w = watch.Watch()
            for ev in w.stream(core.list_namespaced_pod, "default", resource_version=start_rv, timeout_seconds=2):
                events.append((ev["type"], ev["object"].metadata.name, ev["object"].metadata.resource_version))

        t = threading.Thread(target=consume)
        t.start()
        time.sleep(0.3)
        apply_chapter(s)
        for _ in range(10):
            s.advance(3)
        t.join(15)
        assert not t.is_alive()
        log = s.call(lambda: [e for e in s.thread.server.cluster.changes[mark:] if e.kind == "Pod" and e.committed])
        expected = [({"create": "ADDED", "update": "MODIFIED", "delete": "DELETED"}[e.verb], e.name, str(e.resource_version))
                    for e in log]
        assert len(expected) >= 6  # two pods created, scheduled, started, made ready
        assert events == expected


def test_watch_replays_history_then_410_gone_once_too_old(tmp_path: Path) -> None:
    with serve(tmp_path) as s:
        s.thread.server.backend.hub.history.clear()  # a fresh server has no writes yet
        core = client.CoreV1Api(api_client(s.url))
        rv0 = core.list_namespaced_endpoints("default").metadata.resource_version
        for i in range(5):
            core.create_namespaced_endpoints("default", endpoints_body(f"db-{i}"))
        # replay from rv0: the five creates, in order
        w = watch.Watch()
        seen = [ev["object"].metadata.name for ev in
                w.stream(core.list_namespaced_endpoints, "default", resource_version=rv0, timeout_seconds=1)]
        assert seen == [f"db-{i}" for i in range(5)]
        # shrink the history: rv0 falls out of it
        hub = s.thread.server.backend.hub
        s.call(lambda: [hub.history.popleft() for _ in range(3)] and setattr(hub, "compacted_rv", hub.history[0].rv - 1))
        with pytest.raises(ApiException) as exc:
            list(watch.Watch().stream(core.list_namespaced_endpoints, "default", resource_version=rv0, timeout_seconds=1))
        assert exc.value.status == 410
        assert "Expired: too old resource version" in exc.value.reason


def test_bounded_history_compacts(tmp_path: Path) -> None:
    import kubesim
    from kubesim.serve import ServerThread

    with ServerThread(kubesim.Cluster(seed=0, nodes=1), speed=0, history_size=4) as srv:
        core = client.CoreV1Api(api_client(srv.url))
        rv0 = core.list_namespaced_endpoints("default").metadata.resource_version
        for i in range(6):
            core.create_namespaced_endpoints("default", endpoints_body(f"db-{i}"))
        with pytest.raises(ApiException) as exc:
            list(watch.Watch().stream(core.list_namespaced_endpoints, "default", resource_version=rv0, timeout_seconds=1))
        assert exc.value.status == 410
        # a resourceVersion still in the history replays what follows it
        rv = srv.server.backend.hub.history[0].rv
        names = [ev["object"].metadata.name for ev in watch.Watch().stream(
            core.list_namespaced_endpoints, "default", resource_version=str(rv), timeout_seconds=1)]
        assert names == ["db-3", "db-4", "db-5"]


def test_bookmarks_and_initial_events_end(tmp_path: Path) -> None:
    import kubesim
    from kubesim.serve import ServerThread

    with ServerThread(kubesim.Cluster(seed=0, nodes=1), speed=0, bookmark_interval=0.2) as srv:
        import urllib.request

        url = (srv.url + "/api/v1/namespaces/default/endpoints?watch=true&allowWatchBookmarks=true"
               "&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=1")
        with urllib.request.urlopen(url, timeout=10) as resp:
            lines = [json.loads(line) for line in resp.read().splitlines() if line.strip()]
        types = [e["type"] for e in lines]
        assert types[0] == "BOOKMARK"
        assert lines[0]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
        assert types.count("BOOKMARK") >= 3 and set(types) == {"BOOKMARK"}
        assert all(e["object"]["kind"] == "Endpoints" for e in lines)


def _frames(data: bytes) -> list[tuple[str, bytes]]:
    """(type, embedded object bytes) of a protobuf watch stream."""
    out, i = [], 0
    while i < len(data):
        n = int.from_bytes(data[i:i + 4], "big")
        event, i = data[i + 4:i + 4 + n], i + 4 + n
        fields = dict(pb_fields(event))
        raw = dict(pb_fields(fields[2]))[1]
        out.append((fields[1].decode(), raw))
    return out


def test_protobuf_watch_frames_carry_what_the_change_log_accounts(tmp_path: Path) -> None:
    import urllib.request

    from kubesim import wire

    with serve(tmp_path) as s:
        rv = s.http("GET", "/api/v1/namespaces/default/endpoints")[1]["metadata"]["resourceVersion"]
        mark = s.call(lambda: len(s.thread.server.cluster.changes))
        for i in range(3):
            s.http("POST", "/api/v1/namespaces/default/endpoints", endpoints_body(f"db-{i}"))
        s.http("DELETE", "/api/v1/namespaces/default/endpoints/db-1")
        req = urllib.request.Request(
            s.url + f"/api/v1/namespaces/default/endpoints?watch=1&resourceVersion={rv}&timeoutSeconds=1",
            headers={"Accept": "application/vnd.kubernetes.protobuf, application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.headers["Content-Type"] == "application/vnd.kubernetes.protobuf;stream=watch"
            frames = _frames(resp.read())
        log = s.call(lambda: [e for e in s.thread.server.cluster.changes[mark:] if e.kind == "Endpoints"])
        assert [t for t, _ in frames] == ["ADDED", "ADDED", "ADDED", "DELETED"]
        assert [len(raw) for _, raw in frames] == [e.proto_bytes for e in log]  # the accounted bytes, exactly
        live = s.call(lambda: s.thread.server.cluster.get("Endpoints", "db-2"))
        assert frames[2][1] == wire.encode_proto(live) and frames[2][1].startswith(wire.MAGIC)
        # a resourceVersion out of the history: one ERROR frame with a 410 Status
        hub = s.thread.server.backend.hub
        s.call(lambda: setattr(hub, "compacted_rv", hub.last_rv))
        req = urllib.request.Request(s.url + f"/api/v1/namespaces/default/endpoints?watch=1&resourceVersion={rv}",
                                     headers={"Accept": "application/vnd.kubernetes.protobuf"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            [(kind, raw)] = _frames(resp.read())
        (type_meta, status, _, _) = [b for _, b in pb_fields(raw[4:])]
        assert kind == "ERROR" and b"Status" in type_meta and b"Expired" in status and b"too old resource version" in status


def test_metadata_only_watch(tmp_path: Path) -> None:
    import urllib.request

    with serve(tmp_path) as s:
        s.http("POST", "/api/v1/namespaces/default/endpoints", endpoints_body("db", labels={"a": "b"}))
        req = urllib.request.Request(s.url + "/api/v1/namespaces/default/endpoints?watch=1&timeoutSeconds=1", headers={
            "Accept": "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.headers["Content-Type"].startswith("application/json;as=PartialObjectMetadata")
            events = [json.loads(line) for line in resp.read().splitlines() if line.strip()]
        assert [(e["type"], e["object"]["kind"], e["object"]["metadata"]["labels"]) for e in events] == [
            ("ADDED", "PartialObjectMetadata", {"a": "b"})]
        assert "subsets" not in events[0]["object"]


def test_label_selector_watch_sees_objects_enter_and_leave(tmp_path: Path) -> None:
    with serve(tmp_path) as s:
        core = client.CoreV1Api(api_client(s.url))
        rv = core.list_namespaced_endpoints("default").metadata.resource_version
        core.create_namespaced_endpoints("default", endpoints_body("db", labels={"tier": "db"}))
        core.patch_namespaced_endpoints("db", "default", {"metadata": {"labels": {"tier": "web"}}})
        core.patch_namespaced_endpoints("db", "default", {"metadata": {"labels": {"tier": "db"}}})
        got = [(ev["type"], ev["object"].metadata.labels["tier"]) for ev in watch.Watch().stream(
            core.list_namespaced_endpoints, "default", resource_version=rv, label_selector="tier=db", timeout_seconds=1)]
        assert got == [("ADDED", "db"), ("DELETED", "web"), ("ADDED", "db")]


def test_informer_style_list_and_watch_cache_converges(tmp_path: Path) -> None:
    with serve(tmp_path) as s:
        core = client.CoreV1Api(api_client(s.url))
        cache: dict[str, str] = {}
        stop = threading.Event()

        def informer() -> None:
            pods = core.list_namespaced_pod("default")
            for p in pods.items:
                cache[p.metadata.name] = p.status.phase or ""
            rv = pods.metadata.resource_version
            while not stop.is_set():  # re-watch from the last resourceVersion, as a reflector does
                w = watch.Watch()
                for ev in w.stream(core.list_namespaced_pod, "default", resource_version=rv, timeout_seconds=1,
                                   allow_watch_bookmarks=True):
                    obj = ev["object"]
                    if ev["type"] == "DELETED":
                        cache.pop(obj.metadata.name, None)
                    elif ev["type"] != "BOOKMARK":
                        cache[obj.metadata.name] = obj.status.phase or ""
                    rv = w.resource_version

        t = threading.Thread(target=informer)
        t.start()
        try:
            apply_chapter(s)
            for _ in range(5):
                s.advance(5)
                time.sleep(0.1)
            s.http("PATCH", "/apis/apps/v1/namespaces/default/deployments/nginx-deployment/scale",
                   {"spec": {"replicas": 4}}, content_type="application/merge-patch+json")
            for _ in range(5):
                s.advance(5)
                time.sleep(0.1)
            time.sleep(1.2)  # longer than the informer's 1 s watch timeout: it re-lists nothing, re-watches
        finally:
            stop.set()
            t.join(10)
        truth = {p.metadata.name: p.status.phase or "" for p in core.list_namespaced_pod("default").items}
        assert len(truth) == 4 and set(truth.values()) == {"Running"}
        assert cache == truth


def test_many_concurrent_watchers_each_get_every_event(tmp_path: Path) -> None:
    import aiohttp

    watchers = 200
    with serve(tmp_path) as s:
        code, body = s.http("GET", "/api/v1/namespaces/default/endpoints")
        rv = body["metadata"]["resourceVersion"]
        url = s.url + f"/api/v1/namespaces/default/endpoints?watch=1&resourceVersion={rv}&timeoutSeconds=60"
        ready = threading.Event()
        results: list[list[str]] = []

        async def one(session: aiohttp.ClientSession, opened: list[int]) -> list[str]:
            names = []
            async with session.get(url) as resp:
                opened.append(1)
                if len(opened) == watchers:
                    ready.set()
                async for line in resp.content:
                    if line.strip():
                        ev = json.loads(line)
                        names.append(f'{ev["type"]} {ev["object"]["metadata"]["name"]}')
                        if len(names) == 20:
                            break
            return names

        async def main() -> None:
            opened: list[int] = []
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=90),
                                             connector=aiohttp.TCPConnector(limit=0)) as session:
                results.extend(await asyncio.gather(*(one(session, opened) for _ in range(watchers))))

        t = threading.Thread(target=lambda: asyncio.run(main()))
        t.start()
        assert ready.wait(60)
        assert s.thread.server.backend.hub.subscriptions() == watchers
        for i in range(10):
            assert s.http("POST", "/api/v1/namespaces/default/endpoints", endpoints_body(f"db-{i}"))[0] == 201
            assert s.http("DELETE", f"/api/v1/namespaces/default/endpoints/db-{i}")[0] == 200
        t.join(90)
        assert not t.is_alive()
        expected = [f"{verb} db-{i}" for i in range(10) for verb in ("ADDED", "DELETED")]
        assert len(results) == watchers and all(r == expected for r in results)
        deadline = time.monotonic() + 5
        while s.thread.server.backend.hub.subscriptions() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert s.thread.server.backend.hub.subscriptions() == 0  # every stream was cleaned up
        s.call(lambda: s.thread.server._check())


def test_concurrent_writers_and_a_watcher_agree_with_the_change_log(tmp_path: Path) -> None:
    import http.client

    with serve(tmp_path) as s:
        port = int(s.url.rsplit(":", 1)[1])
        code, body = s.http("GET", "/api/v1/namespaces/default/endpoints")
        rv = body["metadata"]["resourceVersion"]
        seen: list[str] = []
        done = threading.Event()

        def watcher() -> None:
            # as an informer does: each watch resumes at the last resourceVersion seen, and a
            # last one is opened after the writers are done (a single timed watch would end
            # early on a loaded machine)
            last = rv
            while True:
                finished = done.is_set()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
                conn.request("GET", f"/api/v1/namespaces/default/endpoints?watch=1&resourceVersion={last}&timeoutSeconds=1")
                resp = conn.getresponse()
                for line in resp:
                    if line.strip():
                        ev = json.loads(line)
                        last = ev["object"]["metadata"]["resourceVersion"]
                        seen.append(last)
                conn.close()
                if finished:
                    return

        def writer(w: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
            for i in range(20):
                name = f"w{w}-{i % 5}"
                for method, path, payload, ctype in (
                    ("POST", "/api/v1/namespaces/default/endpoints", endpoints_body(name, ip=f"10.0.{w}.{i}"), "application/json"),
                    ("PATCH", f"/api/v1/namespaces/default/endpoints/{name}", {"metadata": {"labels": {"i": str(i)}}},
                     "application/merge-patch+json"),
                    ("DELETE", f"/api/v1/namespaces/default/endpoints/{name}", None, "application/json"),
                ):
                    conn.request(method, path, body=json.dumps(payload) if payload is not None else None,
                                 headers={"Content-Type": ctype})
                    r = conn.getresponse()
                    r.read()
                    assert r.status in (200, 201, 404, 409), (method, path, r.status)
            conn.close()

        w = threading.Thread(target=watcher)
        w.start()
        time.sleep(0.3)
        writers = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
        for t in writers:
            t.start()
        for t in writers:
            t.join(30)
        done.set()
        w.join(30)
        assert not w.is_alive() and not any(t.is_alive() for t in writers)
        log = s.call(lambda: [str(e.resource_version) for e in s.thread.server.cluster.changes
                              if e.committed and e.kind == "Endpoints" and e.resource_version > int(rv)])
        assert len(log) >= 8 * 20 * 3 // 2 and seen == log  # every write, once, in commit order
        assert s.http("GET", "/api/v1/namespaces/default/endpoints")[1]["items"] == []
        s.call(lambda: s.thread.server._check())


# ---------------------------------------------------------------------------- REST semantics


def test_list_paging_and_field_selectors(tmp_path: Path) -> None:
    with serve(tmp_path) as s:
        core = client.CoreV1Api(api_client(s.url))
        for i in range(7):
            core.create_namespaced_endpoints("default", endpoints_body(f"db-{i}"))
        names, token, pages = [], None, 0
        while True:
            page = core.list_namespaced_endpoints("default", limit=3, _continue=token)
            names += [e.metadata.name for e in page.items]
            pages += 1
            token = page.metadata._continue
            if not token:
                break
        assert names == [f"db-{i}" for i in range(7)] and pages == 3
        assert [e.metadata.name for e in core.list_namespaced_endpoints("default", field_selector="metadata.name=db-3").items] == ["db-3"]
        assert len(core.list_namespaced_endpoints("default", field_selector="metadata.name!=db-3").items) == 6
        apply_chapter(s)
        s.advance(30)
        pods = core.list_pod_for_all_namespaces(field_selector="spec.nodeName=node-1,status.phase=Running").items
        truth = [p for p in core.list_pod_for_all_namespaces().items if p.spec.node_name == "node-1"]
        assert [p.metadata.name for p in pods] == [p.metadata.name for p in truth] and pods
        assert core.list_namespaced_pod("default", field_selector="status.phase=Pending").items == []
        with pytest.raises(ApiException) as exc:
            core.list_namespaced_endpoints("default", field_selector="spec.nodeName=node-1")
        assert exc.value.status == 400
        assert json.loads(exc.value.body)["message"] == "field label not supported: spec.nodeName"
        with pytest.raises(ApiException) as exc:
            core.list_namespaced_endpoints("default", label_selector="a b")
        assert exc.value.status == 400 and json.loads(exc.value.body)["reason"] == "BadRequest"
        code, body = s.http("GET", "/api/v1/namespaces/default/endpoints?limit=2&continue=garbage")
        assert code == 400 and body["message"].startswith("continue key is not valid")


def test_conflict_and_validation_errors_are_status_objects(tmp_path: Path) -> None:
    with serve(tmp_path) as s:
        core = client.CoreV1Api(api_client(s.url))
        svc = core.create_namespaced_service("default", {
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})
        stale = svc.metadata.resource_version
        core.patch_namespaced_service("web", "default", {"metadata": {"labels": {"a": "b"}}})
        body = {"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "web", "resourceVersion": stale}, "spec": {"ports": [{"port": 81}]}}
        with pytest.raises(ApiException) as exc:
            core.replace_namespaced_service("web", "default", body)
        st = json.loads(exc.value.body)
        assert exc.value.status == 409 and st["reason"] == "Conflict"
        assert st["details"] == {"name": "web", "kind": "services"}
        with pytest.raises(ApiException) as exc:
            core.create_namespaced_service("default", {
                "apiVersion": "v1", "kind": "Service", "metadata": {"name": "bad"},
                "spec": {"ports": [{"port": 70000}, {"port": 80, "protocol": "XTP"}]}})
        st = json.loads(exc.value.body)
        assert exc.value.status == 422 and st["reason"] == "Invalid" and st["code"] == 422
        assert st["details"]["kind"] == "Service" and st["details"]["name"] == "bad"
        fields = [c["field"] for c in st["details"]["causes"]]
        assert "spec.ports[0].port" in fields and "spec.ports[1].protocol" in fields
        assert all(c["reason"].startswith("FieldValue") for c in st["details"]["causes"])
        with pytest.raises(ApiException) as exc:
            core.create_namespaced_service("default", {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                                                       "spec": {"ports": [{"port": 80}]}})
        st = json.loads(exc.value.body)
        assert exc.value.status == 409 and st["reason"] == "AlreadyExists" and st["message"] == 'services "web" already exists'
        with pytest.raises(ApiException) as exc:
            core.read_namespaced_service("nope", "default")
        assert exc.value.status == 404 and json.loads(exc.value.body)["details"] == {"name": "nope", "kind": "services"}
        # fieldValidation: Strict refuses unknown fields, Warn (default) warns, Ignore drops
        unknown = {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "u"}, "bogus": 1}
        code, st = s.http("POST", "/api/v1/namespaces/default/endpoints?fieldValidation=Strict", unknown)
        assert code == 400 and st["message"] == 'strict decoding error: unknown field "bogus"'
        import urllib.request

        req = urllib.request.Request(s.url + "/api/v1/namespaces/default/endpoints", data=json.dumps(unknown).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.status == 201 and resp.headers["Warning"] == '299 - "unknown field \\"bogus\\""' or \
                'unknown field' in resp.headers["Warning"]
        code, _ = s.http("POST", "/api/v1/namespaces/default/endpoints?fieldValidation=Ignore",
                         {**unknown, "metadata": {"name": "u2"}})
        assert code == 201


def test_subresources_dry_run_and_delete_options(tmp_path: Path) -> None:
    with serve(tmp_path) as s:
        apps = client.AppsV1Api(api_client(s.url))
        core = client.CoreV1Api(api_client(s.url))
        apply_chapter(s)
        s.advance(30)
        scale = apps.read_namespaced_deployment_scale("nginx-deployment", "default")
        assert scale.spec.replicas == 2 and scale.status.selector == "app=nginx"
        apps.patch_namespaced_deployment_scale("nginx-deployment", "default", {"spec": {"replicas": 3}})
        assert apps.read_namespaced_deployment("nginx-deployment", "default").spec.replicas == 3
        # the main resource ignores status; /status changes only it
        d = apps.read_namespaced_deployment("nginx-deployment", "default")
        code, body = s.http("PATCH", "/apis/apps/v1/namespaces/default/deployments/nginx-deployment",
                            {"status": {"replicas": 99}}, content_type="application/merge-patch+json")
        assert code == 200 and body["status"]["replicas"] == d.status.replicas
        code, body = s.http("PATCH", "/apis/apps/v1/namespaces/default/deployments/nginx-deployment/status",
                            {"status": {"readyReplicas": 1}, "spec": {"replicas": 7}},
                            content_type="application/merge-patch+json")
        assert code == 200 and body["status"]["readyReplicas"] == 1 and body["spec"]["replicas"] == 3
        # dry run: an answer with server-set fields, no write
        before = s.call(lambda: len(s.thread.server.cluster.changes))
        code, body = s.http("POST", "/api/v1/namespaces/default/endpoints?dryRun=All", endpoints_body("dry"))
        assert code == 201 and body["metadata"]["uid"] and "resourceVersion" not in body["metadata"]
        assert s.call(lambda: len(s.thread.server.cluster.changes)) == before
        assert s.http("GET", "/api/v1/namespaces/default/endpoints/dry")[0] == 404
        code, body = s.http("DELETE", "/apis/apps/v1/namespaces/default/deployments/nginx-deployment?dryRun=All")
        assert code == 200 and s.http("GET", "/apis/apps/v1/namespaces/default/deployments/nginx-deployment")[0] == 200
        # preconditions
        code, body = s.http("DELETE", "/apis/apps/v1/namespaces/default/deployments/nginx-deployment",
                            {"preconditions": {"uid": "not-the-uid"}})
        assert code == 409 and body["message"].startswith("Precondition failed: UID in precondition: not-the-uid")
        # Orphan: the ReplicaSet stays, without its owner reference
        code, body = s.http("DELETE", "/apis/apps/v1/namespaces/default/deployments/nginx-deployment",
                            {"propagationPolicy": "Orphan"})
        assert code == 200 and body["status"] == "Success" and body["details"]["kind"] == "deployments"
        s.advance(10)
        rs = apps.list_namespaced_replica_set("default").items
        assert len(rs) == 1 and not rs[0].metadata.owner_references
        # Background (the default) for the ReplicaSet: its pods go, gracefully
        code, body = s.http("DELETE", f"/apis/apps/v1/namespaces/default/replicasets/{rs[0].metadata.name}")
        assert code == 200
        s.advance(5)
        assert all(p.metadata.deletion_timestamp is not None for p in core.list_namespaced_pod("default").items)
        s.advance(60)
        assert core.list_namespaced_pod("default").items == []
        code, body = s.http("DELETE", "/api/v1/namespaces/default/pods/nope", {"gracePeriodSeconds": 0})
        assert code == 404 and body["details"] == {"name": "nope", "kind": "pods"}


def test_graceful_and_immediate_pod_deletion(tmp_path: Path) -> None:
    with serve(tmp_path) as s:
        apply_chapter(s)
        s.advance(30)
        code, body = s.http("GET", "/api/v1/namespaces/default/pods")
        first, second = (p["metadata"]["name"] for p in body["items"])
        # the default grace period (30 s): marked and still there; gone once the kubelet has
        # stopped the containers (nginx stops at once on SIGTERM, well within the grace period)
        code, body = s.http("DELETE", f"/api/v1/namespaces/default/pods/{first}")
        assert code == 200 and body["metadata"]["deletionGracePeriodSeconds"] == 30
        assert body["metadata"]["deletionTimestamp"] == "2025-01-01T00:01:00Z"  # now (30 s) + 30 s
        code, body = s.http("GET", f"/api/v1/namespaces/default/pods/{first}")
        assert code == 200 and body["metadata"]["deletionTimestamp"]
        s.advance(31)
        assert s.http("GET", f"/api/v1/namespaces/default/pods/{first}")[0] == 404
        # gracePeriodSeconds=0 in the query: removed at once, its last state answered
        code, body = s.http("DELETE", f"/api/v1/namespaces/default/pods/{second}?gracePeriodSeconds=0")
        assert code == 200 and body["kind"] == "Pod" and body["metadata"]["name"] == second
        assert s.http("GET", f"/api/v1/namespaces/default/pods/{second}")[0] == 404
        code, body = s.http("DELETE", "/api/v1/namespaces/default/pods/x?gracePeriodSeconds=-1")
        assert code == 400


def test_patch_types(tmp_path: Path) -> None:
    with serve(tmp_path) as s:
        apply_chapter(s)
        path = "/apis/apps/v1/namespaces/default/deployments/nginx-deployment"
        smp = {"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "nginx"}, {"name": "side"}],
                                               "containers": [{"name": "side", "image": "busybox"}]}}}}
        code, body = s.http("PATCH", path, smp, content_type="application/strategic-merge-patch+json")
        assert code == 200, body
        assert [c["name"] for c in body["spec"]["template"]["spec"]["containers"]] == ["nginx", "side"]
        code, body = s.http("PATCH", path, {"spec": {"template": {"spec": {"containers": [
            {"name": "side", "$patch": "delete"}]}}}}, content_type="application/strategic-merge-patch+json")
        assert [c["name"] for c in body["spec"]["template"]["spec"]["containers"]] == ["nginx"]
        code, body = s.http("PATCH", path, [{"op": "replace", "path": "/spec/replicas", "value": 5},
                                            {"op": "test", "path": "/spec/replicas", "value": 5}],
                            content_type="application/json-patch+json")
        assert code == 200 and body["spec"]["replicas"] == 5
        code, body = s.http("PATCH", path, [{"op": "test", "path": "/spec/replicas", "value": 6}],
                            content_type="application/json-patch+json")
        assert code == 422 and body["kind"] == "Status"
        code, body = s.http("PATCH", path, {"spec": {"replicas": "five"}}, content_type="application/merge-patch+json")
        assert code == 400 and "spec.replicas" in body["message"]
        code, body = s.http("PATCH", path, {"spec": {"replicas": -1}}, content_type="application/merge-patch+json")
        assert code == 422 and body["details"]["causes"][0]["field"] == "spec.replicas"
        code, body = s.http("PATCH", path, {"spec": {}}, content_type="application/vnd.kubernetes.protobuf")
        assert code == 415 and body["reason"] == "UnsupportedMediaType"


# ---------------------------------------------------------------------------- discovery, auth, time, CLI


def test_discovery_and_openapi_documents(tmp_path: Path) -> None:
    with serve(tmp_path) as s:
        api = client.CoreApi(api_client(s.url))
        assert api.get_api_versions().versions == ["v1"]
        code, agg = s.http("GET", "/apis", headers={
            "Accept": "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"})
        groups = {g["metadata"]["name"]: g for g in agg["items"]}
        assert set(groups) >= {"discovery.k8s.io", "apps"}  # and the groups of inert kinds, if any
        deploy = next(r for r in groups["apps"]["versions"][0]["resources"] if r["resource"] == "deployments")
        assert {sr["subresource"] for sr in deploy["subresources"]} == {"status", "scale"}
        code, v3 = s.http("GET", "/openapi/v3")
        assert set(v3["paths"]) >= {"api/v1", "apis/apps/v1", "apis/discovery.k8s.io/v1"}
        code, doc = s.http("GET", v3["paths"]["apis/apps/v1"]["serverRelativeURL"])
        patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
        assert patch["x-kubernetes-group-version-kind"] == {"group": "apps", "version": "v1", "kind": "Deployment"}
        assert "fieldValidation" in [p["name"] for p in patch["parameters"]]
        containers = doc["components"]["schemas"]["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
        assert containers["x-kubernetes-patch-merge-key"] == "name"
        code, v2 = s.http("GET", "/openapi/v2")
        assert v2["swagger"] == "2.0" and "io.k8s.api.discovery.v1.EndpointSlice" in v2["definitions"]


def test_bearer_token(tmp_path: Path) -> None:
    with serve(tmp_path, token="s3cret") as s:
        code, body = s.http("GET", "/api/v1/namespaces/default/pods")
        assert code == 401 and body["reason"] == "Unauthorized"
        code, body = s.http("GET", "/api/v1/namespaces/default/pods", headers={"Authorization": "Bearer wrong"})
        assert code == 401
        core = client.CoreV1Api(api_client(s.url, token="s3cret"))
        assert core.list_namespaced_pod("default").items == []


def test_virtual_time_follows_wall_time_times_speed(tmp_path: Path) -> None:
    with serve(tmp_path, speed=0.0) as s:
        t0 = s.http("GET", CONTROL + "/clock")[1]["now"]
        time.sleep(0.3)
        assert s.http("GET", CONTROL + "/clock")[1]["now"] == t0  # speed 0: stopped
        assert s.http("PUT", CONTROL + "/speed", {"speed": 100})[0] == 200
        time.sleep(0.5)
        t1 = s.http("GET", CONTROL + "/clock")[1]["now"]
        assert 10 <= t1 - t0 <= 100 * 5  # about 50 s; generous for a loaded machine
        s.http("PUT", CONTROL + "/speed", {"speed": 0})
        t2 = s.http("GET", CONTROL + "/clock")[1]["now"]
        time.sleep(0.2)
        assert s.http("GET", CONTROL + "/clock")[1]["now"] == t2
        # the other controls
        code, body = s.http("POST", CONTROL + "/advance", {"seconds": 12.5})
        assert code == 200 and body["now"] == pytest.approx(t2 + 12.5)
        apply_chapter(s)
        code, body = s.http("POST", CONTROL + "/run", {"until": t2 + 100})
        assert code == 200 and body["now"] == pytest.approx(t2 + 100)
        code, churn = s.http("GET", CONTROL + "/churn")
        assert code == 200 and churn["by_kind"]["EndpointSlice"]["writes"] >= 1
        code, stats = s.http("GET", CONTROL + "/statistics")
        assert code == 200 and stats["apiserver"]["objects"]["Pod"] == 2
        assert stats["serve"]["requests"] >= 8 and stats["serve"]["watches"] == 0 and not stats["serve"]["lagging"]
        code, text = s.http("GET", CONTROL + "/changes?since=0")
        records = [json.loads(line) for line in text.splitlines()]
        assert len(records) == s.call(lambda: len(s.thread.server.cluster.changes))
        assert records[-1]["seq"] == len(records) - 1 and {"kind", "verb", "json_bytes", "actor"} <= set(records[0])
        assert s.http("POST", CONTROL + "/advance", {"seconds": -1})[0] == 400
        assert s.http("POST", CONTROL + "/advance", {"seconds": 1e9, "maxSteps": 10})[0] == 422
        assert s.http("GET", CONTROL + "/nope")[0] == 404
        # the kubectl view reads the served cluster only: no writes, no files of the server's machine
        for command in ("delete%20pods%20--all", "apply%20-f%20/etc/passwd", "get%20-f%20/etc/hostname",
                        "get%20pods%20--filename=/etc/hostname", "get%20'"):
            code, body = s.http("GET", CONTROL + "/kubectl?command=" + command)
            assert code in (400, 403) and body["kind"] == "Status", (command, body)
        assert "nginx-deployment" in s.http("GET", CONTROL + "/kubectl?command=get%20deploy")[1]


def test_a_clock_too_fast_for_the_workload_lags_instead_of_starving_requests() -> None:
    import kubesim
    from kubesim.serve.app import Server

    cluster = kubesim.Cluster(seed=0, nodes=1)
    server = Server(cluster, port=0, speed=1e9, tick_budget=0.05, log=lambda msg: None)

    def busy() -> None:  # an endless workload: every callback schedules the next one
        cluster.clock.schedule(1e-3, busy)

    cluster.clock.schedule(0.0, busy)
    server.reanchor()
    time.sleep(0.05)
    t = time.monotonic()
    server.advance_clock()
    spent = time.monotonic() - t
    assert server.lagging and server.statistics().lagging
    assert spent < 1.0, spent  # about the 0.05 s budget, not the 5e7 virtual seconds asked for
    assert 0 < cluster.now < 5e7
    server.set_speed(0)
    with pytest.raises(ValueError):
        server.set_speed(float("inf"))


def test_cli_serves_and_writes_a_kubeconfig(tmp_path: Path) -> None:
    from kubesim.serve.cli import exposure_warning, is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and is_loopback("127.0.0.2")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.1.2.3")
    assert exposure_warning("127.0.0.1", None) is None
    assert "NO authentication" in (exposure_warning("0.0.0.0", None) or "")
    config = tmp_path / "kc"
    proc = subprocess.Popen([sys.executable, "-m", "kubesim.serve", "--port", "0", "--nodes", "2", "--speed", "0",
                             "--kubeconfig", str(config), "-f", str(MANIFESTS / "nginx-service.yaml")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not config.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert config.exists(), proc.stderr.read() if proc.poll() is not None else "no kubeconfig"
        import yaml

        server = yaml.safe_load(config.read_text())["clusters"][0]["cluster"]["server"]
        assert server.startswith("http://127.0.0.1:")
        core = client.CoreV1Api(api_client(server))
        assert [n.metadata.name for n in core.list_node().items] == ["node-1", "node-2"]
        assert [svc.metadata.name for svc in core.list_namespaced_service("default").items] == ["nginx-service"]
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "serving the Kubernetes API at http://127.0.0.1:" in err and "WARNING" not in err
    bad = subprocess.run([sys.executable, "-m", "kubesim.serve", "--port", "0", "-f", str(tmp_path / "missing.yaml")],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and bad.stderr.startswith("error: ") and "missing.yaml" in bad.stderr


# ---------------------------------------------------------------------------- robustness


def _raw(port: int, data: bytes, timeout: float = 5) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        try:
            while True:
                c = sock.recv(65536)
                if not c:
                    break
                chunks.append(c)
        except (TimeoutError, ConnectionResetError):
            pass
    return b"".join(chunks)


def test_oversized_and_unsupported_bodies(tmp_path: Path) -> None:
    with serve(tmp_path) as s:
        big = json.dumps(endpoints_body("big") | {"pad": "x" * (3 * 1024 * 1024 + 10)}).encode()
        code, body = s.http("POST", "/api/v1/namespaces/default/endpoints", raw=big)
        assert code == 413 and body["reason"] == "RequestEntityTooLarge" and body["kind"] == "Status"
        code, body = s.http("POST", "/api/v1/namespaces/default/endpoints", raw=b"\x0a\x02v1",
                            content_type="application/vnd.kubernetes.protobuf")
        assert code == 400 and body["reason"] == "BadRequest" and "magic" in body["message"]
        code, body = s.http("POST", "/api/v1/namespaces/default/endpoints", raw=b"k8s\x00\x0a\x0a\x0a\x02v1\x12\x04Node",
                            content_type="application/vnd.kubernetes.protobuf")
        assert code == 415 and body["code"] == 415
        code, body = s.http("POST", "/api/v1/namespaces/default/endpoints", raw=b"<xml/>", content_type="application/xml")
        assert code == 415 and body["reason"] == "UnsupportedMediaType"
        # an object over etcd's 1.5 MiB limit, under the body cap: 413 from the store
        ips = [{"ip": f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}", "hostname": "h" * 40} for i in range(30000)]
        big_ep = {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "huge"},
                  "subsets": [{"addresses": ips, "ports": [{"port": 1}]}]}
        code, body = s.http("POST", "/api/v1/namespaces/default/endpoints", big_ep)
        assert code in (413, 422), body
        yaml_bomb = b'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + b"".join(
            f'{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n'.encode()
            for i in range(8))
        code, body = s.http("POST", "/api/v1/namespaces/default/endpoints", raw=yaml_bomb, content_type="application/yaml")
        assert code == 400 and "aliasing" in body["message"]
        assert s.http("GET", "/version")[0] == 200


def test_malformed_request_soak(tmp_path: Path) -> None:
    """About 1,500 malformed or hostile requests in bounded time; the server answers every one with
    a Status (never a 500) and still works afterwards."""
    rng = random.Random(19)
    paths = ["/api/v1/namespaces/default/pods", "/api/v1/namespaces/default/endpoints/x", "/apis/apps/v1/namespaces/default/deployments/d/scale",
             "/api/v1/nodes/node-1", "/api/v1/namespaces/default/services/s/status", "/apis/discovery.k8s.io/v1/endpointslices",
             "/api/v1/namespaces/%00/pods", "/api/v1/namespaces/default/pods/" + "a" * 300, "/apis/nope/v9/x", "/api/v2",
             "/api/v1/namespaces/default/pods/p/exec", CONTROL + "/advance", CONTROL + "/run", "/openapi/v3/apis/x",
             "/api/v1/namespaces/default/events/e", "/api/v1/namespaces", "/api/v1/namespaces/default/status"]
    queries = ["", "?watch=maybe", "?limit=-3", "?limit=abc", "?resourceVersion=abc&watch=1&timeoutSeconds=0",
               "?fieldSelector=%3D%3D%3D", "?labelSelector=a%20in%20(", "?continue=%%%", "?dryRun=Some",
               "?fieldValidation=Loud", "?gracePeriodSeconds=-5", "?propagationPolicy=Sideways", "?timeoutSeconds=99999999999999999999"]
    bodies: list[bytes] = [b"", b"{", b"[]", b"null", b"\xff\xfe", b'{"kind":"Pod"}', b'{"metadata":[]}', b'{"metadata":{"name":7}}',
                           b"[" * 5000 + b"]" * 5000, b'{"a":' * 3000 + b"1" + b"}" * 3000,
                           json.dumps(endpoints_body("soak")).encode(), b'[{"op":"move","from":"/a","path":"/a/b"}]',
                           b'[{"op":"add","path":"/metadata/labels/x","value":1}]', b'{"spec":{"replicas":1e400}}',
                           b'{"seconds": 1e308}', b'{"seconds": "NaN"}', b'{"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"Bad_Name"}}']
    ctypes = ["application/json", "application/yaml", "application/merge-patch+json", "application/json-patch+json",
              "application/strategic-merge-patch+json", "application/apply-patch+yaml", "text/plain", "application/vnd.kubernetes.protobuf", ""]
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "BREW"]
    import http.client

    with serve(tmp_path) as s:
        port = int(s.url.rsplit(":", 1)[1])
        deadline = time.monotonic() + 20
        answered = 0
        codes: dict[int, int] = {}
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for i in range(1500):
            if time.monotonic() > deadline:
                break
            method, path = rng.choice(methods), rng.choice(paths) + rng.choice(queries)
            body, ctype = rng.choice(bodies), rng.choice(ctypes)
            headers = {"Content-Type": ctype} if ctype else {}
            if rng.random() < 0.05:
                headers["Accept"] = rng.choice(["application/json;as=Table;v=v1;g=meta.k8s.io", "image/png", "*/*;q=x"])
            try:
                conn.request(method, path, body=body if method not in ("GET", "HEAD") else None, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            except (http.client.HTTPException, OSError):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                continue
            answered += 1
            codes[resp.status] = codes.get(resp.status, 0) + 1
            assert resp.status != 500, (method, path, body[:80], ctype, data[:300])
            if method == "BREW":  # not a method the HTTP parser knows: a plain 400, as net/http's
                assert resp.status == 400
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                continue
            if resp.status >= 400 and method != "HEAD" and data:
                st = json.loads(data)
                assert st["kind"] == "Status" and st["code"] == resp.status, (method, path, data[:200])
            if i % 100 == 0:  # raw garbage on its own connection
                _raw(port, rng.choice([b"\x00\x01\x02garbage\r\n\r\n", b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\n\r\n",
                                       b"POST /api/v1/namespaces/default/pods HTTP/1.1\r\nContent-Length: 99\r\n\r\n{",
                                       b"GET /version HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 500 + b"\r\n"]), timeout=1)
        conn.close()
        assert answered >= 500, (answered, codes)
        assert s.http("GET", "/version")[0] == 200
        code, body = s.http("GET", "/api/v1/namespaces/default/endpoints")
        assert code == 200
        assert s.call(lambda: s.thread.server._check()) is None
