"""The node side: the scheduler, the kubelet (phases, probes, termination) and the node-lifecycle
controller (taints and eviction).
"""
