"""The EndpointSlice mirroring controller (upstream ``pkg/controller/endpointslicemirroring``).

- :mod:`.reconciler`: the upstream-faithful mirroring plan of an Endpoints object into slices;
- :mod:`.controller`: the controller itself: informers, work queue, writes.
"""
