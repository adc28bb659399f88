"""A kubeconfig for ``kubesim serve``, so kubectl and client libraries need no flags.

The file names one cluster (``kubesim``, ``server: http://127.0.0.1:<port>``, or ``https`` with
the certificate authority embedded), one user (with the bearer token when one is set) and one
context, which is current. :func:`write` writes it
``0600`` to ``path``; point ``KUBECONFIG`` at it, or pass ``--kubeconfig``.
"""

from __future__ import annotations

import base64
import os
from typing import Any

import yaml

__all__ = ["kubeconfig", "write", "dumps"]


def kubeconfig(server: str, *, token: str | None = None, ca_file: str | None = None, name: str = "kubesim",
               namespace: str = "default") -> dict[str, Any]:
    """The kubeconfig document for a server URL; ``ca_file`` (for HTTPS) is the certificate
    that signs the server's (its own, when self-signed), embedded as
    ``certificate-authority-data``."""
    user: dict[str, Any] = {"token": token} if token else {}
    cluster: dict[str, Any] = {"server": server}
    if ca_file:
        with open(ca_file, "rb") as f:
            cluster["certificate-authority-data"] = base64.b64encode(f.read()).decode()
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": cluster}],
        "users": [{"name": name, "user": user}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name, "namespace": namespace}}],
        "current-context": name,
        "preferences": {},
    }


def dumps(server: str, *, token: str | None = None, ca_file: str | None = None) -> str:
    """The kubeconfig as YAML text."""
    return str(yaml.safe_dump(kubeconfig(server, token=token, ca_file=ca_file), sort_keys=False))


def write(path: str | os.PathLike[str], server: str, *, token: str | None = None, ca_file: str | None = None) -> str:
    """Write the kubeconfig to ``path`` (mode ``0600``, parent directories created); returns
    the path as a string."""
    path = os.fspath(path)
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(dumps(server, token=token, ca_file=ca_file))
    return path
