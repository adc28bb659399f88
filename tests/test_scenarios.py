"""The ready-made scenarios, and cluster-wide properties of the dynamics they drive."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kubesim
from kubesim import scenarios as sc


def test_load_test_shape() -> None:
    cluster = kubesim.Cluster(seed=0, nodes=10)
    names = sc.load_test(cluster, big=0, medium=1, small=3)
    cluster.run()
    assert names == ["medium-0", "small-0", "small-1", "small-2"]
    for name, size in (("medium-0", 30), ("small-0", 5)):
        ep = cluster.get("Endpoints", name)
        assert sum(len(s.addresses) for s in ep.subsets) == size
    with pytest.raises(kubesim.InvalidOption):
        sc.load_test(cluster, big=-1)


def test_huge_service_rolls_out_with_slices_of_100() -> None:
    cluster = kubesim.Cluster(seed=0, nodes=20)
    sc.huge_service(cluster, pods=250)
    cluster.run()
    pods = cluster.list("pods", selector="app=huge-service")
    assert len(pods) == 250 and {p.spec.containers[0].image for p in pods} == {"nginx:1.26"}
    lengths = sorted(len(s.endpoints) for s in cluster.list("endpointslices"))
    assert sum(lengths) == 250 and max(lengths) <= 100


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), replicas=st.integers(1, 40), nodes=st.integers(1, 4))
def test_pod_ips_are_unique_and_inside_their_node_cidr(seed: int, replicas: int, nodes: int) -> None:
    cluster = kubesim.Cluster(seed=seed, nodes=nodes)
    sc.deploy(cluster, "web", replicas=replicas)
    cluster.run()
    sc.set_image(cluster, "web", "nginx:1.26")  # churn: freed IPs are reused later, never doubled
    cluster.run()
    sc.scale(cluster, "web", replicas + 3)
    cluster.run()
    pods = [p for p in cluster.list("pods") if p.status.pod_ip]
    ips = [p.status.pod_ip for p in pods]
    assert len(ips) == len(set(ips))
    for p in pods:
        node = cluster.get("Node", p.spec.node_name, "")
        assert ipaddress.ip_address(p.status.pod_ip) in ipaddress.ip_network(node.spec.pod_cidr)
    svc_ips = [s.spec.cluster_ip for s in cluster.list("services", None)]
    assert all(ipaddress.ip_address(ip) in ipaddress.ip_network("10.96.0.0/12") for ip in svc_ips)
