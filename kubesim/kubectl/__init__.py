"""``kubectl get`` and ``kubectl describe`` as text, exactly as kubectl prints them.

A pure view over a read-only store: nothing here imports the cluster.  The Cluster facade calls
:func:`kubectl` with itself (or its API server) as the ``store`` and the current virtual time::

    print(kubectl("get endpoints nginx-service", store=store, now=120))
    NAME            ENDPOINTS                     AGE
    nginx-service   10.244.1.5:80,10.244.2.8:80   2m

What mirrors which upstream file:

* column definitions and cells: ``pkg/printers/internalversion/printers.go`` (the API server's
  Table printer, which ``kubectl get`` asks for);
* table layout: ``staging/src/k8s.io/cli-runtime/pkg/printers/tableprinter.go`` (headers in upper
  case, ``-A`` prepends NAMESPACE, ``--show-labels`` appends LABELS) written through a tabwriter
  with padding 3 (``GetNewTabWriter``);
* AGE: ``k8s.io/apimachinery/pkg/util/duration.HumanDuration`` (:func:`human_duration`);
* the command itself: ``staging/src/k8s.io/kubectl/pkg/cmd/get/get.go`` (``No resources found``,
  the ``kind: List`` wrapper of ``-o yaml|json``);
* describe: ``staging/src/k8s.io/kubectl/pkg/describe/describe.go`` (tabwriter with padding 2);
* ``--field-selector``: the API server's field selectors, the same code ``kubesim serve`` answers
  real clients with (:mod:`kubesim.serve.query`: ``apimachinery/pkg/fields/selector.go`` and each
  registry's ``ToSelectableFields``, e.g. a Pod's ``spec.nodeName`` and ``status.phase``).

Deliberate, documented choices where kubesim's object model has no field for what kubectl shows:

* Pods carry no ``containerStatuses``: READY counts every container ready when the pod's
  ``Ready`` (or ``ContainersReady``) condition is ``True`` and none otherwise; RESTARTS is ``0``;
  STATUS is the phase (``Pending`` when unset), ``Terminating`` while a deletion is pending.
* Nodes carry no ``nodeInfo``: VERSION is empty (it is read from ``status.node_info`` if the
  object model ever grows one) and the wide OS/kernel/runtime columns say ``<unknown>``.
* Namespaces carry no status: STATUS is ``Active`` (``Terminating`` while deleting).
* Values the API server defaults are shown defaulted when an object arrives without them:
  Service ``type`` ``ClusterIP``, ``sessionAffinity`` ``None``, ``targetPort`` = ``port``,
  Deployment/ReplicaSet ``replicas`` 1.
* Real kubectl writes ``No resources found in default namespace.`` to *stderr*.  :func:`run`
  keeps the two streams apart (:class:`KubectlOutput`); :func:`kubectl` returns what a terminal
  shows, stdout followed by stderr.  Errors (exit status 1) raise
  :class:`~kubesim.errors.KubectlError` whose message is kubectl's stderr.
* Describe ends with the ``Events:`` section of the Events written about the object
  (:mod:`kubesim.events`, shown by :mod:`kubesim.kubectl.events`), and leaves it out when several
  objects are described, as kubectl does; ``get events`` prints the API server's event table.
  Times (``Start Time``) are printed in UTC.
* Unsupported but real output formats (``jsonpath``, ``custom-columns``, ...) raise a
  :class:`~kubesim.errors.KubectlError` that says kubesim does not implement them.

The package, along kubectl's own seams:

* :mod:`kubesim.kubectl.common` -- the :class:`Store` protocol, :class:`KubectlOutput`, resource
  names, ages, label lists and the tabwriter;
* :mod:`kubesim.kubectl.printers` -- ``get`` tables (and ``-o wide``);
* :mod:`kubesim.kubectl.describe` -- ``describe``;
* :mod:`kubesim.kubectl.events` -- Events: the ``get events`` row, describe's ``Events:``
  section;
* :mod:`kubesim.kubectl.commands` -- flag parsing and the commands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubesim import _lazy
from kubesim.kubectl.common import (
    KubectlOutput,
    Store,
    format_labels,
    human_duration,
    resolve_resource,
    tabwrite,
)

if TYPE_CHECKING:  # the lazily loaded names, for type checkers
    from kubesim.kubectl import commands as commands
    from kubesim.kubectl import describe as describe
    from kubesim.kubectl import events as events
    from kubesim.kubectl import gosort as gosort
    from kubesim.kubectl import inert_printers as inert_printers
    from kubesim.kubectl import printers as printers
    from kubesim.kubectl.commands import kubectl, run

__all__ = [
    "Store",
    "KubectlOutput",
    "resolve_resource",
    "kubectl",
    "run",
    "human_duration",
    "format_labels",
    "tabwrite",
]

#: The commands (and with them the printers and describers) load on first use
#: (:mod:`kubesim._lazy`): :func:`kubesim.scenarios.set_image` needs only
#: :mod:`kubesim.kubectl.write`, which every simulated rollout imports.
_LAZY: dict[str, str] = {"kubectl": "kubesim.kubectl.commands", "run": "kubesim.kubectl.commands"}

if not TYPE_CHECKING:  # type checkers see the names imported above, and no catch-all
    __getattr__, __dir__ = _lazy.attach(
        __name__, _LAZY, ("commands", "describe", "events", "gosort", "inert_printers", "printers")
    )
