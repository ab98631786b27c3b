"""What a cluster's controllers and kubelets would do, as functions over the object store.

Each module is one controller: `deployments` (rollouts), `replicasets` (Pods per
ReplicaSet, quota admission), `scheduler`, `kubelet` (Pod status from faults and time),
`endpoints`, `quota`. `sandbox.world.World` runs them in order on every sync.
"""
