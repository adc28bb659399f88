"""The EndpointSlice controller (upstream ``pkg/controller/endpointslice`` and the
``kubernetes/endpointslice`` staging repository).

- :mod:`.reconciler`: the upstream-faithful planner, a full recompute per sync (the oracle);
- :mod:`.incremental`: the incremental planner, whose plans equal the reconciler's;
- :mod:`.topology`: topology hints (the topology cache and the traffic-distribution heuristics);
- :mod:`.controller`: the controller itself: informers, work queue, staleness, writes.
"""
