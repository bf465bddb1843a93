package migenv

import (
	"context"
	"fmt"

	"github.com/ferrymtc/ferry/test/controlplane"
	"github.com/ferrymtc/ferry/test/velero"
)

// StopVelero stops the Velero server of cluster (env.Source or env.Destination): Backups and
// Restores created there stay New until StartVelero, as with a Velero deployment scaled
// down or crash-looping. The BackupStorageLocation keeps its last status (Available).
func (e *Env) StopVelero(cluster *controlplane.ControlPlane) error {
	i, err := e.veleroOf(cluster)
	if err != nil {
		return err
	}
	return e.veleros[i].Stop()
}

// KillVelero kills the Velero server of cluster and its plugins with SIGKILL, as the loss of
// Velero's pod would, mid-operation. StartVelero runs a new one.
func (e *Env) KillVelero(cluster *controlplane.ControlPlane) error {
	i, err := e.veleroOf(cluster)
	if err != nil {
		return err
	}
	return e.veleros[i].Kill()
}

// StartVelero starts a new Velero server for cluster (after StopVelero or KillVelero) on the
// environment's bucket, as its Deployment would, and waits until it has validated its
// storage location.
func (e *Env) StartVelero(ctx context.Context, cluster *controlplane.ControlPlane) error {
	i, err := e.veleroOf(cluster)
	if err != nil {
		return err
	}
	path := e.SourceKubeconfig
	if cluster == e.Destination {
		path = e.DestinationKubeconfig
	}
	srv, err := velero.Start(ctx, e.veleroOptions(path))
	if err != nil {
		return fmt.Errorf("start Velero for %s again: %w", cluster.Name, err)
	}
	e.veleros[i] = srv
	return nil
}

// veleroOf is the index in e.veleros of cluster's server (Start starts the source's first).
func (e *Env) veleroOf(cluster *controlplane.ControlPlane) (int, error) {
	switch {
	case cluster == e.Source && len(e.veleros) > 0:
		return 0, nil
	case cluster == e.Destination && len(e.veleros) > 1:
		return 1, nil
	}
	return 0, fmt.Errorf("no Velero server for cluster %s", cluster.Name)
}

// veleroLocationPrefix is where the Velero servers' own location ("default") keeps backups in
// Bucket; Ferry's MigStorage location uses another prefix of the same bucket.
const veleroLocationPrefix = "velero-default"

// veleroOptions are the options of the Velero server of the cluster whose admin kubeconfig is
// at kubeconfig.
func (e *Env) veleroOptions(kubeconfig string) velero.Options {
	return velero.Options{Kubeconfig: kubeconfig, Namespace: Namespace, S3: e.Store, Bucket: Bucket, Prefix: veleroLocationPrefix,
		ConcurrentBackups: e.veleroConcurrentBackups}
}
