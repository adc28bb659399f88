"""The Endpoints controller (upstream ``pkg/controller/endpoint``).

- :mod:`.reconciler`: the upstream-faithful desired Endpoints (subsets repacked, truncated), the oracle;
- :mod:`.incremental`: the incremental engine, whose writes equal the reconciler's;
- :mod:`.controller`: the controller itself: informers, work queue, trigger times, writes.
"""
