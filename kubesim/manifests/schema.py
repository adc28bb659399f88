"""The schema every codec is generated from: for each class of :mod:`kubesim.objects`,
its OpenAPI definition name and its fields in Go struct order (JSON name, attribute, type,
``omitempty``, nested class or constant), with the upstream fields kubesim does not model;
``_TOP`` (the top-level kinds) and an import-time check that every attrs field is covered once.

Read by :mod:`kubesim.serve` too (``kubesim.manifests._SCHEMA``).

Imports: :mod:`kubesim.objects`, ``attrs``.
"""

from __future__ import annotations

from typing import Any

import attrs

from kubesim import objects as o

# ----------------------------------------------------------------------------------------------
# Schema: for every class, its OpenAPI definition name and its fields in Go struct order.
#
# A field is (json name, attribute name, type, omitempty[, struct class or const value]).
# Types:
#   str int32 int64 bool          Go value types (zero "", 0, False)
#   ?str ?int32 ?int64 ?bool      Go pointers (None = nil)
#   time  ?time                   metav1.Time value (zero -> null) / *metav1.Time
#   intstr ?intstr                intstr.IntOrString value (always written) / pointer
#   map ?map qmap                 map[string]string; nil-able selector map; ResourceList
#   [str] [cls]                   lists of strings / of structs
#   struct ?struct                value struct (always written) / pointer struct
#   raw                           *FieldsV1 (raw JSON text)
#   const                         not modelled, written as a constant, read and dropped
#   hostport                      ContainerPort.hostPort: int32 omitempty held as int | None

_META = "io.k8s.apimachinery.pkg.apis.meta.v1."
_CORE = "io.k8s.api.core.v1."
_DISC = "io.k8s.api.discovery.v1."
_APPS = "io.k8s.api.apps.v1."

_Field = tuple[Any, ...]  # (json, attr, type, omitempty[, extra])

_SCHEMA: dict[type, tuple[str, list[_Field], str]] = {}


def _schema(cls: type, openapi: str, fields: list[_Field], ignored: str = "") -> None:
    _SCHEMA[cls] = (openapi, fields, ignored)


_schema(o.OwnerReference, _META + "OwnerReference", [
    ("apiVersion", "api_version", "str", False),
    ("kind", "kind", "str", False),
    ("name", "name", "str", False),
    ("uid", "uid", "str", False),
    ("controller", "controller", "?bool", True),
    ("blockOwnerDeletion", "block_owner_deletion", "?bool", True),
])
_schema(o.ManagedFieldsEntry, _META + "ManagedFieldsEntry", [
    ("manager", "manager", "str", True),
    ("operation", "operation", "str", True),
    ("apiVersion", "api_version", "str", True),
    ("time", "time", "?time", True),
    ("fieldsType", "fields_type", "str", True),
    ("fieldsV1", "fields_v1", "raw", True),
    ("subresource", "subresource", "str", True),
])
_schema(o.ObjectMeta, _META + "ObjectMeta", [
    ("name", "name", "str", True),
    ("generateName", "generate_name", "str", True),
    ("namespace", "namespace", "str", True),
    ("selfLink", "self_link", "str", True),
    ("uid", "uid", "str", True),
    ("resourceVersion", "resource_version", "str", True),
    ("generation", "generation", "int64", True),
    ("creationTimestamp", "creation_timestamp", "time", True, "omitzero"),
    ("deletionTimestamp", "deletion_timestamp", "?time", True),
    ("deletionGracePeriodSeconds", "deletion_grace_period_seconds", "?int64", True),
    ("labels", "labels", "map", True),
    ("annotations", "annotations", "map", True),
    ("ownerReferences", "owner_references", ["cls", o.OwnerReference], True),
    ("finalizers", "finalizers", ["str"], True),
    ("managedFields", "managed_fields", ["cls", o.ManagedFieldsEntry], True),
])
_schema(o.LabelSelectorRequirement, _META + "LabelSelectorRequirement", [
    ("key", "key", "str", False),
    ("operator", "operator", "str", False),
    ("values", "values", ["str"], True),
])
_schema(o.LabelSelector, _META + "LabelSelector", [
    ("matchLabels", "match_labels", "map", True),
    ("matchExpressions", "match_expressions", ["cls", o.LabelSelectorRequirement], True),
])
_schema(o.ObjectReference, _CORE + "ObjectReference", [
    ("kind", "kind", "str", True),
    ("namespace", "namespace", "str", True),
    ("name", "name", "str", True),
    ("uid", "uid", "str", True),
    ("apiVersion", "api_version", "str", True),
    ("resourceVersion", "resource_version", "str", True),
    ("fieldPath", "field_path", "str", True),
])
_schema(o.ContainerPort, _CORE + "ContainerPort", [
    ("name", "name", "str", True),
    ("hostPort", "host_port", "hostport", True),
    ("containerPort", "container_port", "int32", False),
    ("protocol", "protocol", "str", True),
    ("hostIP", "host_ip", "str", True),
])
_schema(o.HTTPGetAction, _CORE + "HTTPGetAction", [
    ("path", "path", "str", True),
    ("port", "port", "intstr", False),
    ("host", "host", "str", True),
    ("scheme", "scheme", "str", True),
], ignored="httpHeaders protocol")
_schema(o.TCPSocketAction, _CORE + "TCPSocketAction", [
    ("port", "port", "intstr", False),
    ("host", "host", "str", True),
])
_schema(o.ExecAction, _CORE + "ExecAction", [
    ("command", "command", ["str"], True),
])
_schema(o.Probe, _CORE + "Probe", [
    ("exec", "exec", "?struct", True, o.ExecAction),
    ("httpGet", "http_get", "?struct", True, o.HTTPGetAction),
    ("tcpSocket", "tcp_socket", "?struct", True, o.TCPSocketAction),
    ("initialDelaySeconds", "initial_delay_seconds", "int32", True),
    ("timeoutSeconds", "timeout_seconds", "int32", True),
    ("periodSeconds", "period_seconds", "int32", True),
    ("successThreshold", "success_threshold", "int32", True),
    ("failureThreshold", "failure_threshold", "int32", True),
], ignored="grpc terminationGracePeriodSeconds")
_schema(o.SleepAction, _CORE + "SleepAction", [
    ("seconds", "seconds", "int64", False),
])
_schema(o.LifecycleHandler, _CORE + "LifecycleHandler", [
    ("exec", "exec", "?struct", True, o.ExecAction),
    ("httpGet", "http_get", "?struct", True, o.HTTPGetAction),
    ("tcpSocket", "tcp_socket", "?struct", True, o.TCPSocketAction),
    ("sleep", "sleep", "?struct", True, o.SleepAction),
])
_schema(o.Lifecycle, _CORE + "Lifecycle", [
    ("postStart", "post_start", "?struct", True, o.LifecycleHandler),
    ("preStop", "pre_stop", "?struct", True, o.LifecycleHandler),
], ignored="stopSignal")
_schema(o.ResourceRequirements, _CORE + "ResourceRequirements", [
    ("limits", "limits", "qmap", True),
    ("requests", "requests", "qmap", True),
], ignored="claims")
_schema(o.Container, _CORE + "Container", [
    ("name", "name", "str", False),
    ("image", "image", "str", True),
    ("ports", "ports", ["cls", o.ContainerPort], True),
    ("resources", "resources", "struct", True, o.ResourceRequirements),
    ("restartPolicy", "restart_policy", "?str", True),
    ("livenessProbe", "liveness_probe", "?struct", True, o.Probe),
    ("readinessProbe", "readiness_probe", "?struct", True, o.Probe),
    ("startupProbe", "startup_probe", "?struct", True, o.Probe),
    ("lifecycle", "lifecycle", "?struct", True, o.Lifecycle),
], ignored="command args workingDir envFrom env resizePolicy restartPolicyRules volumeMounts "
   "volumeDevices terminationMessagePath terminationMessagePolicy "
   "imagePullPolicy securityContext stdin stdinOnce tty")
_schema(o.Toleration, _CORE + "Toleration", [
    ("key", "key", "str", True),
    ("operator", "operator", "str", True),
    ("value", "value", "str", True),
    ("effect", "effect", "str", True),
    ("tolerationSeconds", "toleration_seconds", "?int64", True),
])
_schema(o.NodeSelectorRequirement, _CORE + "NodeSelectorRequirement", [
    ("key", "key", "str", False),
    ("operator", "operator", "str", False),
    ("values", "values", ["str"], True),
])
_schema(o.NodeSelectorTerm, _CORE + "NodeSelectorTerm", [
    ("matchExpressions", "match_expressions", ["cls", o.NodeSelectorRequirement], True),
    ("matchFields", "match_fields", ["cls", o.NodeSelectorRequirement], True),
])
_schema(o.NodeSelector, _CORE + "NodeSelector", [
    ("nodeSelectorTerms", "node_selector_terms", ["cls", o.NodeSelectorTerm], False),
])
_schema(o.PreferredSchedulingTerm, _CORE + "PreferredSchedulingTerm", [
    ("weight", "weight", "int32", False),
    ("preference", "preference", "struct", False, o.NodeSelectorTerm),
])
_schema(o.NodeAffinity, _CORE + "NodeAffinity", [
    ("requiredDuringSchedulingIgnoredDuringExecution", "required_during_scheduling_ignored_during_execution",
     "?struct", True, o.NodeSelector),
    ("preferredDuringSchedulingIgnoredDuringExecution", "preferred_during_scheduling_ignored_during_execution",
     ["cls", o.PreferredSchedulingTerm], True),
])
_schema(o.Affinity, _CORE + "Affinity", [
    ("nodeAffinity", "node_affinity", "?struct", True, o.NodeAffinity),
], ignored="podAffinity podAntiAffinity")
_schema(o.PodSpec, _CORE + "PodSpec", [
    ("initContainers", "init_containers", ["cls", o.Container], True),
    ("containers", "containers", ["cls", o.Container], False),
    ("restartPolicy", "restart_policy", "str", True),
    ("terminationGracePeriodSeconds", "termination_grace_period_seconds", "?int64", True),
    ("nodeSelector", "node_selector", "map", True),
    ("nodeName", "node_name", "str", True),
    ("hostNetwork", "host_network", "bool", True),
    ("hostname", "hostname", "str", True),
    ("subdomain", "subdomain", "str", True),
    ("affinity", "affinity", "?struct", True, o.Affinity),
    ("schedulerName", "scheduler_name", "str", True),
    ("tolerations", "tolerations", ["cls", o.Toleration], True),
    ("readinessGates", "readiness_gates", ["cls", o.PodReadinessGate], True),
], ignored="volumes ephemeralContainers activeDeadlineSeconds dnsPolicy serviceAccountName "
   "serviceAccount automountServiceAccountToken hostPID hostIPC "
   "shareProcessNamespace securityContext imagePullSecrets hostAliases "
   "priorityClassName priority dnsConfig runtimeClassName enableServiceLinks "
   "preemptionPolicy overhead topologySpreadConstraints setHostnameAsFQDN os hostUsers "
   "schedulingGates resourceClaims resources hostnameOverride schedulingGroup "
   "evictionResponders")
_schema(o.PodCondition, _CORE + "PodCondition", [
    ("type", "type", "str", False),
    ("status", "status", "str", False),
    ("lastProbeTime", "last_probe_time", "time", True),
    ("lastTransitionTime", "last_transition_time", "time", True),
    ("reason", "reason", "str", True),
    ("message", "message", "str", True),
], ignored="observedGeneration")
_schema(o.PodReadinessGate, _CORE + "PodReadinessGate", [
    ("conditionType", "condition_type", "str", False),
])
_schema(o.PodIP, _CORE + "PodIP", [("ip", "ip", "str", False)])
_schema(o.HostIP, _CORE + "HostIP", [("ip", "ip", "str", False)])
_schema(o.ContainerStateWaiting, _CORE + "ContainerStateWaiting", [
    ("reason", "reason", "str", True),
    ("message", "message", "str", True),
])
_schema(o.ContainerStateRunning, _CORE + "ContainerStateRunning", [
    ("startedAt", "started_at", "time", True),
])
_schema(o.ContainerStateTerminated, _CORE + "ContainerStateTerminated", [
    ("exitCode", "exit_code", "int32", False),
    ("signal", "signal", "int32", True),
    ("reason", "reason", "str", True),
    ("message", "message", "str", True),
    ("startedAt", "started_at", "time", True),
    ("finishedAt", "finished_at", "time", True),
    ("containerID", "container_id", "str", True),
])
_schema(o.ContainerState, _CORE + "ContainerState", [
    ("waiting", "waiting", "?struct", True, o.ContainerStateWaiting),
    ("running", "running", "?struct", True, o.ContainerStateRunning),
    ("terminated", "terminated", "?struct", True, o.ContainerStateTerminated),
])
_schema(o.ContainerStatus, _CORE + "ContainerStatus", [
    ("name", "name", "str", False),
    ("state", "state", "struct", True, o.ContainerState),
    ("lastState", "last_state", "struct", True, o.ContainerState),
    ("ready", "ready", "bool", False),
    ("restartCount", "restart_count", "int32", False),
    ("image", "image", "str", False),
    ("imageID", "image_id", "str", False),
    ("containerID", "container_id", "str", True),
    ("started", "started", "?bool", True),
], ignored="allocatedResources resources volumeMounts user allocatedResourcesStatus stopSignal")
_schema(o.PodStatus, _CORE + "PodStatus", [
    ("phase", "phase", "str", True),
    ("conditions", "conditions", ["cls", o.PodCondition], True),
    ("message", "message", "str", True),
    ("reason", "reason", "str", True),
    ("hostIP", "host_ip", "str", True),
    ("hostIPs", "host_ips", ["cls", o.HostIP], True),
    ("podIP", "pod_ip", "str", True),
    ("podIPs", "pod_ips", ["cls", o.PodIP], True),
    ("startTime", "start_time", "?time", True),
    ("initContainerStatuses", "init_container_statuses", ["cls", o.ContainerStatus], True),
    ("containerStatuses", "container_statuses", ["cls", o.ContainerStatus], True),
    ("qosClass", "qos_class", "str", True),
], ignored="observedGeneration nominatedNodeName "
   "ephemeralContainerStatuses resize resourceClaimStatuses "
   "extendedResourceClaimStatus allocatedResources resources "
   "nodeAllocatableResourceClaimStatuses volumeHealth")
_schema(o.PodTemplateSpec, _CORE + "PodTemplateSpec", [
    ("metadata", "metadata", "struct", True, o.ObjectMeta),
    ("spec", "spec", "struct", True, o.PodSpec),
])
_schema(o.Pod, _CORE + "Pod", [
    ("metadata", "metadata", "struct", True, o.ObjectMeta),
    ("spec", "spec", "struct", True, o.PodSpec),
    ("status", "status", "struct", True, o.PodStatus),
])
_schema(o.ServicePort, _CORE + "ServicePort", [
    ("name", "name", "str", True),
    ("protocol", "protocol", "str", True),
    ("appProtocol", "app_protocol", "?str", True),
    ("port", "port", "int32", False),
    ("targetPort", "target_port", "intstr", True),
    ("nodePort", "node_port", "int32", True),
])
_schema(o.ServiceSpec, _CORE + "ServiceSpec", [
    ("ports", "ports", ["cls", o.ServicePort], True),
    ("selector", "selector", "?map", True),
    ("clusterIP", "cluster_ip", "str", True),
    ("clusterIPs", "cluster_ips", ["str"], True),
    ("type", "type", "str", True),
    ("sessionAffinity", "session_affinity", "str", True),
    ("externalName", "external_name", "str", True),
    ("externalTrafficPolicy", "external_traffic_policy", "str", True),
    ("publishNotReadyAddresses", "publish_not_ready_addresses", "bool", True),
    ("ipFamilies", "ip_families", ["str"], True),
    ("ipFamilyPolicy", "ip_family_policy", "?str", True),
    ("internalTrafficPolicy", "internal_traffic_policy", "?str", True),
    ("trafficDistribution", "traffic_distribution", "?str", True),
], ignored="externalIPs loadBalancerIP loadBalancerSourceRanges healthCheckNodePort "
   "sessionAffinityConfig allocateLoadBalancerNodePorts loadBalancerClass")
_schema(o.Service, _CORE + "Service", [
    ("metadata", "metadata", "struct", True, o.ObjectMeta),
    ("spec", "spec", "struct", True, o.ServiceSpec),
    ("status", None, "const", True, {"loadBalancer": {}}),
])
_schema(o.Taint, _CORE + "Taint", [
    ("key", "key", "str", False),
    ("value", "value", "str", True),
    ("effect", "effect", "str", False),
    ("timeAdded", "time_added", "?time", True),
])
_schema(o.NodeSpec, _CORE + "NodeSpec", [
    ("podCIDR", "pod_cidr", "str", True),
    ("podCIDRs", "pod_cidrs", ["str"], True),
    ("unschedulable", "unschedulable", "bool", True),
    ("taints", "taints", ["cls", o.Taint], True),
], ignored="providerID configSource externalID podPreemptionPolicy")
_schema(o.NodeCondition, _CORE + "NodeCondition", [
    ("type", "type", "str", False),
    ("status", "status", "str", False),
    ("lastHeartbeatTime", "last_heartbeat_time", "time", True),
    ("lastTransitionTime", "last_transition_time", "time", True),
    ("reason", "reason", "str", True),
    ("message", "message", "str", True),
])
_schema(o.NodeAddress, _CORE + "NodeAddress", [
    ("type", "type", "str", False),
    ("address", "address", "str", False),
])
_schema(o.NodeSystemInfo, _CORE + "NodeSystemInfo", [
    ("machineID", "machine_id", "str", False),
    ("systemUUID", "system_uuid", "str", False),
    ("bootID", "boot_id", "str", False),
    ("kernelVersion", "kernel_version", "str", False),
    ("osImage", "os_image", "str", False),
    ("containerRuntimeVersion", "container_runtime_version", "str", False),
    ("kubeletVersion", "kubelet_version", "str", False),
    ("kubeProxyVersion", "kube_proxy_version", "str", False),
    ("operatingSystem", "operating_system", "str", False),
    ("architecture", "architecture", "str", False),
], ignored="swap")
_schema(o.NodeStatus, _CORE + "NodeStatus", [
    ("capacity", "capacity", "qmap", True),
    ("allocatable", "allocatable", "qmap", True),
    ("conditions", "conditions", ["cls", o.NodeCondition], True),
    ("addresses", "addresses", ["cls", o.NodeAddress], True),
    ("daemonEndpoints", None, "const", True, {"kubeletEndpoint": {"Port": 0}}),
    ("nodeInfo", "node_info", "struct", True, o.NodeSystemInfo),
], ignored="phase images volumesInUse volumesAttached config runtimeHandlers features "
   "declaredFeatures")
_schema(o.Node, _CORE + "Node", [
    ("metadata", "metadata", "struct", True, o.ObjectMeta),
    ("spec", "spec", "struct", True, o.NodeSpec),
    ("status", "status", "struct", True, o.NodeStatus),
])
_schema(o.NamespaceSpec, _CORE + "NamespaceSpec", [
    ("finalizers", "finalizers", ["str"], True),
])
_schema(o.NamespaceCondition, _CORE + "NamespaceCondition", [
    ("type", "type", "str", False),
    ("status", "status", "str", False),
    ("lastTransitionTime", "last_transition_time", "time", True),
    ("reason", "reason", "str", True),
    ("message", "message", "str", True),
])
_schema(o.NamespaceStatus, _CORE + "NamespaceStatus", [
    ("phase", "phase", "str", True),
    ("conditions", "conditions", ["cls", o.NamespaceCondition], True),
])
_schema(o.Namespace, _CORE + "Namespace", [
    ("metadata", "metadata", "struct", True, o.ObjectMeta),
    ("spec", "spec", "struct", True, o.NamespaceSpec),
    ("status", "status", "struct", True, o.NamespaceStatus),
])
_schema(o.EndpointAddress, _CORE + "EndpointAddress", [
    ("ip", "ip", "str", False),
    ("hostname", "hostname", "str", True),
    ("nodeName", "node_name", "?str", True),
    ("targetRef", "target_ref", "?struct", True, o.ObjectReference),
])
_schema(o.EndpointPort, _CORE + "EndpointPort", [
    ("name", "name", "str", True),
    ("port", "port", "int32", False),
    ("protocol", "protocol", "str", True),
    ("appProtocol", "app_protocol", "?str", True),
])
_schema(o.EndpointSubset, _CORE + "EndpointSubset", [
    ("addresses", "addresses", ["cls", o.EndpointAddress], True),
    ("notReadyAddresses", "not_ready_addresses", ["cls", o.EndpointAddress], True),
    ("ports", "ports", ["cls", o.EndpointPort], True),
])
_schema(o.Endpoints, _CORE + "Endpoints", [
    ("metadata", "metadata", "struct", True, o.ObjectMeta),
    ("subsets", "subsets", ["cls", o.EndpointSubset], True),
])
_schema(o.EndpointConditions, _DISC + "EndpointConditions", [
    ("ready", "ready", "?bool", True),
    ("serving", "serving", "?bool", True),
    ("terminating", "terminating", "?bool", True),
])
_schema(o.ForZone, _DISC + "ForZone", [("name", "name", "str", False)])
_schema(o.ForNode, _DISC + "ForNode", [("name", "name", "str", False)])
_schema(o.EndpointHints, _DISC + "EndpointHints", [
    ("forZones", "for_zones", ["cls", o.ForZone], True),
    ("forNodes", "for_nodes", ["cls", o.ForNode], True),
])
_schema(o.Endpoint, _DISC + "Endpoint", [
    ("addresses", "addresses", ["str"], False),
    ("conditions", "conditions", "struct", True, o.EndpointConditions),
    ("hostname", "hostname", "?str", True),
    ("targetRef", "target_ref", "?struct", True, o.ObjectReference),
    ("deprecatedTopology", "deprecated_topology", "map", True),
    ("nodeName", "node_name", "?str", True),
    ("zone", "zone", "?str", True),
    ("hints", "hints", "?struct", True, o.EndpointHints),
])
_schema(o.EndpointSlicePort, _DISC + "EndpointPort", [
    ("name", "name", "?str", True),
    ("protocol", "protocol", "?str", True),
    ("port", "port", "?int32", True),
    ("appProtocol", "app_protocol", "?str", True),
])
_schema(o.EndpointSlice, _DISC + "EndpointSlice", [
    ("metadata", "metadata", "struct", True, o.ObjectMeta),
    ("addressType", "address_type", "str", False),
    ("endpoints", "endpoints", ["cls", o.Endpoint], False),
    ("ports", "ports", ["cls", o.EndpointSlicePort], False),
])
_schema(o.RollingUpdateDeployment, _APPS + "RollingUpdateDeployment", [
    ("maxUnavailable", "max_unavailable", "?intstr", True),
    ("maxSurge", "max_surge", "?intstr", True),
])
_schema(o.DeploymentStrategy, _APPS + "DeploymentStrategy", [
    ("type", "type", "str", True),
    ("rollingUpdate", "rolling_update", "?struct", True, o.RollingUpdateDeployment),
])
_schema(o.DeploymentSpec, _APPS + "DeploymentSpec", [
    ("replicas", "replicas", "?int32", True),
    ("selector", "selector", "?struct", False, o.LabelSelector),
    ("template", "template", "struct", False, o.PodTemplateSpec),
    ("strategy", "strategy", "struct", True, o.DeploymentStrategy),
    ("minReadySeconds", "min_ready_seconds", "int32", True),
    ("revisionHistoryLimit", "revision_history_limit", "?int32", True),
    ("paused", "paused", "bool", True),
    ("progressDeadlineSeconds", "progress_deadline_seconds", "?int32", True),
])
_schema(o.DeploymentStatus, _APPS + "DeploymentStatus", [
    ("observedGeneration", "observed_generation", "int64", True),
    ("replicas", "replicas", "int32", True),
    ("updatedReplicas", "updated_replicas", "int32", True),
    ("readyReplicas", "ready_replicas", "int32", True),
    ("availableReplicas", "available_replicas", "int32", True),
    ("unavailableReplicas", "unavailable_replicas", "int32", True),
], ignored="terminatingReplicas conditions collisionCount")
_schema(o.Deployment, _APPS + "Deployment", [
    ("metadata", "metadata", "struct", True, o.ObjectMeta),
    ("spec", "spec", "struct", True, o.DeploymentSpec),
    ("status", "status", "struct", True, o.DeploymentStatus),
])
_schema(o.ReplicaSetSpec, _APPS + "ReplicaSetSpec", [
    ("replicas", "replicas", "?int32", True),
    ("minReadySeconds", "min_ready_seconds", "int32", True),
    ("selector", "selector", "?struct", False, o.LabelSelector),
    ("template", "template", "struct", True, o.PodTemplateSpec),
])
_schema(o.ReplicaSetStatus, _APPS + "ReplicaSetStatus", [
    ("replicas", "replicas", "int32", False),
    ("fullyLabeledReplicas", "fully_labeled_replicas", "int32", True),
    ("readyReplicas", "ready_replicas", "int32", True),
    ("availableReplicas", "available_replicas", "int32", True),
    ("observedGeneration", "observed_generation", "int64", True),
], ignored="terminatingReplicas conditions")
_schema(o.ReplicaSet, _APPS + "ReplicaSet", [
    ("metadata", "metadata", "struct", True, o.ObjectMeta),
    ("spec", "spec", "struct", True, o.ReplicaSetSpec),
    ("status", "status", "struct", True, o.ReplicaSetStatus),
])

_schema(o.RollingUpdateStatefulSetStrategy, _APPS + "RollingUpdateStatefulSetStrategy", [
    ("partition", "partition", "?int32", True),
    ("maxUnavailable", "max_unavailable", "?intstr", True),
])
_schema(o.StatefulSetUpdateStrategy, _APPS + "StatefulSetUpdateStrategy", [
    ("type", "type", "str", True),
    ("rollingUpdate", "rolling_update", "?struct", True, o.RollingUpdateStatefulSetStrategy),
])
_schema(o.StatefulSetSpec, _APPS + "StatefulSetSpec", [
    ("replicas", "replicas", "?int32", True),
    ("selector", "selector", "?struct", False, o.LabelSelector),
    ("template", "template", "struct", False, o.PodTemplateSpec),
    ("serviceName", "service_name", "str", False),
    ("podManagementPolicy", "pod_management_policy", "str", True),
    ("updateStrategy", "update_strategy", "struct", True, o.StatefulSetUpdateStrategy),
    ("revisionHistoryLimit", "revision_history_limit", "?int32", True),
    ("minReadySeconds", "min_ready_seconds", "int32", True),
], ignored="volumeClaimTemplates persistentVolumeClaimRetentionPolicy ordinals")
_schema(o.StatefulSetStatus, _APPS + "StatefulSetStatus", [
    ("observedGeneration", "observed_generation", "int64", True),
    ("replicas", "replicas", "int32", False),
    ("readyReplicas", "ready_replicas", "int32", True),
    ("currentReplicas", "current_replicas", "int32", True),
    ("updatedReplicas", "updated_replicas", "int32", True),
    ("currentRevision", "current_revision", "str", True),
    ("updateRevision", "update_revision", "str", True),
    ("collisionCount", "collision_count", "?int32", True),
    ("availableReplicas", "available_replicas", "int32", False),
], ignored="conditions")
_schema(o.StatefulSet, _APPS + "StatefulSet", [
    ("metadata", "metadata", "struct", True, o.ObjectMeta),
    ("spec", "spec", "struct", True, o.StatefulSetSpec),
    ("status", "status", "struct", True, o.StatefulSetStatus),
])
_schema(o.RollingUpdateDaemonSet, _APPS + "RollingUpdateDaemonSet", [
    ("maxUnavailable", "max_unavailable", "?intstr", True),
    ("maxSurge", "max_surge", "?intstr", True),
])
_schema(o.DaemonSetUpdateStrategy, _APPS + "DaemonSetUpdateStrategy", [
    ("type", "type", "str", True),
    ("rollingUpdate", "rolling_update", "?struct", True, o.RollingUpdateDaemonSet),
])
_schema(o.DaemonSetSpec, _APPS + "DaemonSetSpec", [
    ("selector", "selector", "?struct", False, o.LabelSelector),
    ("template", "template", "struct", False, o.PodTemplateSpec),
    ("updateStrategy", "update_strategy", "struct", True, o.DaemonSetUpdateStrategy),
    ("minReadySeconds", "min_ready_seconds", "int32", True),
    ("revisionHistoryLimit", "revision_history_limit", "?int32", True),
])
_schema(o.DaemonSetStatus, _APPS + "DaemonSetStatus", [
    ("currentNumberScheduled", "current_number_scheduled", "int32", False),
    ("numberMisscheduled", "number_misscheduled", "int32", False),
    ("desiredNumberScheduled", "desired_number_scheduled", "int32", False),
    ("numberReady", "number_ready", "int32", False),
    ("observedGeneration", "observed_generation", "int64", True),
    ("updatedNumberScheduled", "updated_number_scheduled", "int32", True),
    ("numberAvailable", "number_available", "int32", True),
    ("numberUnavailable", "number_unavailable", "int32", True),
    ("collisionCount", "collision_count", "?int32", True),
], ignored="conditions")
_schema(o.DaemonSet, _APPS + "DaemonSet", [
    ("metadata", "metadata", "struct", True, o.ObjectMeta),
    ("spec", "spec", "struct", True, o.DaemonSetSpec),
    ("status", "status", "struct", True, o.DaemonSetStatus),
])

_TOP: dict[type, str] = {cls: cls.kind for cls in o.KINDS.values()}  # type: ignore[attr-defined]


def _check_schema() -> None:
    # Every attrs field of every class is covered exactly once (import-time self-check).
    for cls, (_, fields, _) in _SCHEMA.items():
        names = [f[1] for f in fields if f[1] is not None]
        expected = [a.name for a in attrs.fields(cls)]
        if sorted(names) != sorted(expected):  # pragma: no cover - a programming error
            raise AssertionError(f"schema of {cls.__name__} covers {names}, not {expected}")


_check_schema()
