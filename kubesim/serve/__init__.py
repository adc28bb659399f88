"""``kubesim serve``: one live :class:`kubesim.Cluster` behind the Kubernetes REST API.

Real kubectl, the official ``kubernetes`` Python client and client-go informers talk to it
over plain HTTP (or HTTPS) on loopback: discovery, OpenAPI v2/v3, get/list/watch, create,
update, patch (JSON, merge, strategic, server-side apply), delete, the ``status``, ``scale``
and ``eviction`` subresources, server-side Table printing, protobuf, and ``Status`` errors. Virtual time runs at
``--speed`` times wall time; the ``kubesim.io/v1alpha1`` group advances it on demand and serves
the churn report, the change log and the statistics. The library stays the core: the server is
an adapter over ``Cluster``.

Start it from a shell (needs ``pip install 'kubesim[serve]'``)::

    kubesim serve --nodes 2 --kubeconfig ./kubeconfig     # or: python -m kubesim.serve
    KUBECONFIG=./kubeconfig kubectl get nodes

or in Python::

    from kubesim.serve import ServerThread
    with ServerThread(kubesim.Cluster(seed=0, nodes=2), speed=0) as srv:
        print(srv.url)

The package, by layer:

* :mod:`kubesim.serve.resources`, :mod:`~kubesim.serve.discovery`, :mod:`~kubesim.serve.openapi`
  -- what is served and how it is described;
* :mod:`kubesim.serve.status`, :mod:`~kubesim.serve.query`, :mod:`~kubesim.serve.tables`,
  :mod:`~kubesim.serve.watch` -- errors, selectors and paging, Table printing, watch history
  (patches are :mod:`kubesim.patch`, which ``cluster.kubectl("patch ...")`` shares);
* :mod:`kubesim.serve.proto`, :mod:`~kubesim.serve.protodecode` -- protobuf responses and
  request bodies;
* :mod:`kubesim.serve.rest` -- the REST semantics over the cluster (no HTTP);
* :mod:`kubesim.serve.control` -- the ``kubesim.io`` group;
* :mod:`kubesim.serve.app` -- aiohttp, TLS and the clock; :mod:`kubesim.serve.kubeconfig`;
  :mod:`kubesim.serve.cli` -- the command.

Tutorial and reference: ``docs/serve.md``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Server", "ServerThread", "main"]


def __getattr__(name: str) -> Any:
    # The HTTP stack is an optional dependency: import it only when a server is asked for.
    if name in ("Server", "ServerThread"):
        from kubesim.serve import app

        return getattr(app, name)
    if name == "main":
        from kubesim.serve.cli import main

        return main
    raise AttributeError(name)
