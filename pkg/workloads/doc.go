// Package workloads reads the pod templates of an application's workloads (Deployments,
// StatefulSets, DaemonSets, ReplicaSets, Jobs and CronJobs): which claims a scaled-down
// application mounts, for plan discovery (a claim of a stopped workload still counts as in
// use) and for the stage pods of a quiesced application (their security context).
//
// The caller says how to list, so that a plan over thousands of namespaces can list
// cluster-wide and keep its own, while a migration lists one namespace. DeploymentConfigs,
// ReplicationControllers and VirtualMachines are not read: MTC read DeploymentConfigs here,
// which the local clusters cannot serve to test against.
package workloads
