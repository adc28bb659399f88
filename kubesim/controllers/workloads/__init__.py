"""The workload controllers: ReplicaSet and Deployment (upstream ``pkg/controller/replicaset``
and ``pkg/controller/deployment``).

- the pure algorithms, the reference: :mod:`.fenceposts` (strategy defaults, replica counts,
  fenceposts), :mod:`.revisions` (template hashes, the new and old ReplicaSets),
  :mod:`.replicas` (ReplicaSet pod management and status) and :mod:`.rollout` (rolling and
  recreate steps, proportional scaling, Deployment status; it re-exports the other three);
- :mod:`.ranking`: the incremental pod-deletion ranking, checked against upstream's sort;
- :mod:`.replicaset`, :mod:`.deployment`, :mod:`.statefulset`, :mod:`.daemonset`: the controllers
  (the last two share :mod:`.common`: their owned-pod index, status writes and pod deletes).
"""
