"""The workload controllers: ReplicaSet and Deployment (upstream ``pkg/controller/replicaset``
and ``pkg/controller/deployment``).

- :mod:`.rollout`: the pure Deployment algorithms (fenceposts, template hashes, rolling and
  recreate steps, proportional scaling), the reference;
- :mod:`.ranking`: the incremental pod-deletion ranking, checked against upstream's sort;
- :mod:`.replicaset`, :mod:`.deployment`: the controllers.
"""
