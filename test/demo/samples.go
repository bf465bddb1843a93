package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/test/controlplane"
	"github.com/ferrymtc/ferry/test/s3"
)

const (
	readyTimeout = 3 * time.Minute
	pollInterval = time.Second
)

// filler puts the real addresses and secrets into the samples, where a user would edit
// the lines marked CHANGE, and remembers the objects to watch.
type filler struct {
	source  *controlplane.ControlPlane
	token   string
	store   *s3.Server
	bucket  string
	watched []conditions.Patchable
}

func (f *filler) fill(obj client.Object) {
	switch o := obj.(type) {
	case *corev1.Secret:
		switch {
		case o.Data[migv1.SaTokenKey] != nil:
			o.Data = map[string][]byte{migv1.SaTokenKey: []byte(f.token)}
		case o.Data["aws-access-key-id"] != nil:
			o.Data = map[string][]byte{"aws-access-key-id": []byte(f.store.AccessKey), "aws-secret-access-key": []byte(f.store.SecretKey)}
		}
	case *migv1.MigCluster:
		if !o.Spec.IsHostCluster {
			o.Spec.URL, o.Spec.CABundle = f.source.URL(), f.source.CABundle()
		}
		f.watched = append(f.watched, o.DeepCopy())
	case *migv1.MigStorage:
		o.Spec.BackupStorageConfig.AwsS3URL = f.store.Endpoint
		o.Spec.BackupStorageConfig.AwsBucketName = f.bucket
		o.Spec.BackupStorageConfig.AwsRegion = f.store.Region
		f.watched = append(f.watched, o.DeepCopy())
	case *migv1.MigPlan:
		f.watched = append(f.watched, o.DeepCopy())
	}
}

// applySample creates the objects of a sample file on cp after fill adjusted them.
func applySample(ctx context.Context, cp *controlplane.ControlPlane, path string, fill func(client.Object)) error {
	objs, err := readObjects(path)
	if err != nil {
		return err
	}
	for _, obj := range objs {
		fill(obj)
		ns := &corev1.Namespace{}
		ns.Name = obj.GetNamespace()
		if err := cp.Client.Create(ctx, ns); client.IgnoreAlreadyExists(err) != nil {
			return fmt.Errorf("create namespace %s: %w", ns.Name, err)
		}
		if err := cp.Client.Create(ctx, obj); err != nil {
			return fmt.Errorf("create %s from %s: %w", obj.GetName(), path, err)
		}
	}
	return nil
}

func readObjects(path string) ([]client.Object, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open sample: %w", err)
	}
	defer func() { _ = f.Close() }()
	scheme, err := controlplane.Scheme()
	if err != nil {
		return nil, err
	}
	decoder := yaml.NewYAMLOrJSONDecoder(f, 4096)
	var out []client.Object
	for {
		raw := map[string]any{}
		if err := decoder.Decode(&raw); errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("decode %s: %w", path, err)
		}
		if len(raw) == 0 {
			continue
		}
		obj, err := toTyped(scheme, raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, obj)
	}
}

// watchUntilReady prints each object's conditions as they change until all are Ready; the
// last one (the plan) is read into plan.
func watchUntilReady(ctx context.Context, out io.Writer, c client.Client, plan *migv1.MigPlan, objs ...conditions.Patchable) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	last := map[string]string{}
	for {
		ready := 0
		for _, obj := range objs {
			if err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
				return fmt.Errorf("get %s: %w", obj.GetName(), err)
			}
			id := fmt.Sprintf("%T %s", obj, obj.GetName())
			if summary := summarize(obj.GetConditions()); summary != last[id] {
				say(out, "  %s %s: %s", kindOf(obj), obj.GetName(), summary)
				last[id] = summary
			}
			if conditions.IsTrue(obj.GetConditions(), migv1.Ready) {
				ready++
			}
			if p, ok := obj.(*migv1.MigPlan); ok {
				p.DeepCopyInto(plan)
			}
		}
		if ready == len(objs) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not everything was Ready after %s (see the operator log): %w", readyTimeout, ctx.Err())
		case <-time.After(pollInterval):
		}
	}
}
