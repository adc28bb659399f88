"""The ``kubesim serve`` command (also ``python -m kubesim.serve``): parse, build, serve.

It builds one :class:`kubesim.Cluster` from the options, applies the ``-f`` manifests, starts a
:class:`~kubesim.serve.app.Server`, writes a kubeconfig (``--kubeconfig PATH``, by default
``kubesim-<port>.kubeconfig`` in the temporary directory) and prints how to use it, or prints the
kubeconfig itself with ``--print-kubeconfig``. It binds ``127.0.0.1`` unless ``--host`` says
otherwise; any address that is not loopback gets a warning that there is no authentication
(``--token`` requires a bearer token).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
import tempfile
from collections.abc import Sequence
from typing import Any

__all__ = ["main", "build_parser", "build_cluster", "add_arguments", "is_loopback", "exposure_warning"]


def _non_negative(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not v >= 0 or v == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number >= 0")
    return v


def _port(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= v <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} must be between 0 and 65535 (0: any free port)")
    return v


def is_loopback(host: str) -> bool:
    """``True`` for ``localhost`` and addresses in 127.0.0.0/8 or ``::1``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str, token: str | None) -> str | None:
    """The warning printed when the server listens beyond loopback (``None`` on loopback)."""
    if is_loopback(host):
        return None
    text = (f"WARNING: kubesim serve listens on {host}: anyone who can reach this address can read and "
            "change the simulated cluster")
    if token:
        return text + " with the bearer token"
    return text + "; there is NO authentication (use --token to require a bearer token)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``kubesim serve`` (shared with ``kubesim/__main__.py``)."""
    p.add_argument("--port", type=_port, default=6443, help="TCP port (default 6443; 0: any free port)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1; anything else is reachable from other machines "
                        "and has no authentication unless --token is given)")
    p.add_argument("--speed", type=_non_negative, default=1.0,
                   help="virtual seconds per wall second (default 1; 0: time moves only when asked "
                        "through /apis/kubesim.io/v1alpha1/advance or /run)")
    p.add_argument("--token", default=None,
                   help="require 'Authorization: Bearer TOKEN' on every request (kubectl sends tokens only over "
                        "TLS: add --tls-cert-file and --tls-private-key-file)")
    p.add_argument("--tls-cert-file", default=None, metavar="PATH",
                   help="serve HTTPS with this certificate (PEM); the kubeconfig trusts it as its own authority")
    p.add_argument("--tls-private-key-file", default=None, metavar="PATH", help="the certificate's private key (PEM)")
    p.add_argument("--kubeconfig", default=None, metavar="PATH",
                   help="write the kubeconfig here (default: kubesim-PORT.kubeconfig in the temporary directory)")
    p.add_argument("--print-kubeconfig", action="store_true", help="print the kubeconfig on stdout")
    p.add_argument("-f", "--filename", action="append", default=[], metavar="FILE",
                   help="kubectl-apply these manifests before serving (repeatable; at virtual time 0, as the "
                        "actor 'kubectl')")
    g = p.add_argument_group("cluster options")
    g.add_argument("--seed", type=int, default=0, help="the seed of every random choice (default 0)")
    g.add_argument("--nodes", type=int, default=3, help="Ready nodes node-1 ... node-N (default 3)")
    g.add_argument("--zones", type=int, default=3, help="zones the nodes are spread over (default 3)")
    g.add_argument("--max-endpoints-per-slice", type=int, default=100, metavar="N",
                   help="kube-controller-manager --max-endpoints-per-slice (default 100)")
    g.add_argument("--endpoint-updates-batch-period", type=_non_negative, default=0.0, metavar="SECONDS")
    g.add_argument("--endpointslice-updates-batch-period", type=_non_negative, default=0.0, metavar="SECONDS")
    g.add_argument("--mirroring-endpointslice-updates-batch-period", type=_non_negative, default=0.0, metavar="SECONDS")
    g.add_argument("--mirroring-max-endpoints-per-subset", type=int, default=1000, metavar="N")
    g.add_argument("--no-endpoints-truncate", action="store_true",
                   help="the pre-1.22 Endpoints controller, which never truncates at 1000 addresses")
    g.add_argument("--slice-reconciler", choices=("fast", "reference"), default="fast",
                   help="the EndpointSlice controller's planner (default fast; reference: upstream's full recompute)")
    g.add_argument("--endpoints-reconciler", choices=("fast", "reference"), default="fast",
                   help="the Endpoints controller's planner (default fast)")
    g.add_argument("--prefer-same-traffic-distribution", action="store_true",
                   help="the PreferSameTrafficDistribution feature gate")
    g.add_argument("--max-request-bytes", type=int, default=None, metavar="N",
                   help="etcd's --max-request-bytes (default 1.5 MiB)")
    g.add_argument("--record-objects", action="store_true",
                   help="keep every written object in the change log (replayable; costs memory)")
    g.add_argument("--dual-stack", action="store_true", help="give nodes and Services IPv6 ranges too")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kubesim serve",
        description="Serve one simulated cluster behind the Kubernetes API, for real kubectl and clients.",
    )
    add_arguments(p)
    return p


def build_cluster(args: argparse.Namespace) -> Any:
    """The :class:`kubesim.Cluster` the options describe, with the ``-f`` manifests applied.
    Raises :class:`~kubesim.errors.KubesimError` for bad options or manifests."""
    from kubesim import Cluster

    extra = {} if args.max_request_bytes is None else {"max_request_bytes": args.max_request_bytes}
    cluster = Cluster(
        seed=args.seed, nodes=args.nodes, zones=args.zones,
        max_endpoints_per_slice=args.max_endpoints_per_slice,
        endpoint_updates_batch_period=args.endpoint_updates_batch_period,
        endpointslice_updates_batch_period=args.endpointslice_updates_batch_period,
        mirroring_endpointslice_updates_batch_period=args.mirroring_endpointslice_updates_batch_period,
        mirroring_max_endpoints_per_subset=args.mirroring_max_endpoints_per_subset,
        endpoints_truncate=not args.no_endpoints_truncate,
        slice_reconciler=args.slice_reconciler,
        endpoints_reconciler=args.endpoints_reconciler,
        prefer_same_traffic_distribution=args.prefer_same_traffic_distribution,
        dual_stack=args.dual_stack,
        record_objects=args.record_objects,
        **extra,
    )
    for path in args.filename:
        cluster.apply_file(path)
    return cluster


def run(args: argparse.Namespace) -> int:
    """Build the cluster and serve until interrupted. Returns the exit status."""
    try:
        from kubesim.serve.app import Server
    except ImportError as exc:  # the optional HTTP stack is missing
        print(f"kubesim serve needs the serve extra: pip install 'kubesim[serve]' ({exc})", file=sys.stderr)
        return 1
    from kubesim.errors import KubesimError
    from kubesim.serve import kubeconfig

    try:
        cluster = build_cluster(args)
    except KubesimError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        server = Server(cluster, host=args.host, port=args.port, speed=args.speed, token=args.token,
                        tls_cert_file=args.tls_cert_file, tls_key_file=args.tls_private_key_file)
    except (ValueError, OSError) as exc:  # a missing or unreadable certificate
        what = f" ({args.tls_cert_file}, {args.tls_private_key_file})" if args.tls_cert_file else ""
        print(f"error: cannot load the TLS certificate and key{what}: {getattr(exc, 'strerror', None) or exc}",
              file=sys.stderr)
        return 1

    def ready(srv: Server) -> None:
        path = args.kubeconfig or os.path.join(tempfile.gettempdir(), f"kubesim-{srv.port}.kubeconfig")
        kubeconfig.write(path, srv.url, token=args.token, ca_file=args.tls_cert_file)
        warning = exposure_warning(args.host, args.token)
        if warning:
            print(warning, file=sys.stderr)
        if args.token and not args.tls_cert_file:
            print("note: kubectl and client-go send a bearer token only over TLS: with --token, also give "
                  "--tls-cert-file and --tls-private-key-file for kubectl to authenticate", file=sys.stderr)
        if args.print_kubeconfig:
            print(kubeconfig.dumps(srv.url, token=args.token, ca_file=args.tls_cert_file), end="", flush=True)
        print(f"kubesim serve: {args.nodes} nodes, speed {args.speed:g}, serving the Kubernetes API at {srv.url}",
              file=sys.stderr)
        print(f"kubeconfig written to {path}; use it with:\n  export KUBECONFIG={path}", file=sys.stderr, flush=True)

    try:
        server.run_forever(on_ready=ready)
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run(build_parser().parse_args(argv))
