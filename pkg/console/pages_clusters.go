package console

import (
	"context"
	"fmt"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
)

// row is an object of a list page with its conditions.
type row struct {
	Name, Detail string
	Host, Ready  bool
	Conditions   migv1.Conditions
}

func readyOf(list migv1.Conditions) bool { return conditions.IsTrue(list, migv1.Ready) }

func (s *Server) loadClusters(ctx context.Context, c client.Client, _ string) (any, error) {
	list := &migv1.MigClusterList{}
	if err := c.List(ctx, list, client.InNamespace(s.namespace)); err != nil {
		return nil, fmt.Errorf("list MigClusters: %w", err)
	}
	rows := make([]row, 0, len(list.Items))
	for _, m := range list.Items {
		detail := m.Spec.URL
		if m.Spec.IsHostCluster {
			detail = "the cluster the console and the operator run on"
		}
		rows = append(rows, row{Name: m.Name, Detail: detail, Host: m.Spec.IsHostCluster, Ready: readyOf(m.Status.Conditions), Conditions: m.Status.Conditions})
	}
	return rows, nil
}

func (s *Server) clustersPage(w http.ResponseWriter, r *http.Request, req *request) {
	s.listPage(w, r, req, "clusters", "Clusters", nil, "")
}

// listPage renders a page whose live part the view's loader fills.
func (s *Server) listPage(w http.ResponseWriter, r *http.Request, req *request, page, title string, form map[string]string, formErr string) {
	ctx, cancel := timeout(r)
	defer cancel()
	data, err := liveViews[page].load(s, ctx, req.client, "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.viewFor(req, title, page)
	v.D, v.Live, v.Form, v.Error = data, "/events?view="+page, form, formErr
	status := http.StatusOK
	if formErr != "" {
		status = http.StatusUnprocessableEntity
	}
	s.render(w, status, page, v)
}

// createWithSecret creates the Secret (with a generated name), points obj at it with ref,
// and creates obj; the Secret is deleted again when obj cannot be created, so a refused form
// leaves nothing behind.
func createWithSecret(ctx context.Context, c client.Client, secret *corev1.Secret, obj client.Object, ref func(*corev1.ObjectReference)) error {
	if err := c.Create(ctx, secret); err != nil {
		return fmt.Errorf("create the Secret in %s: %w", secret.Namespace, err)
	}
	ref(&corev1.ObjectReference{Namespace: secret.Namespace, Name: secret.Name})
	if err := c.Create(ctx, obj); err != nil {
		_ = c.Delete(context.WithoutCancel(ctx), secret)
		return fmt.Errorf("create %s: %w", obj.GetName(), err)
	}
	return nil
}

func (s *Server) addCluster(w http.ResponseWriter, r *http.Request, req *request) {
	f := clusterFormOf(r.PostForm)
	form := map[string]string{"name": f.Name, "url": f.URL, "ca": f.CA, "registryPath": f.RegistryPath}
	secret, cluster, err := f.objects(s.namespace)
	if err == nil {
		ctx, cancel := timeout(r)
		defer cancel()
		if secret == nil {
			if err = req.client.Create(ctx, cluster); err != nil {
				err = fmt.Errorf("create %s: %w", cluster.Name, err)
			}
		} else {
			err = createWithSecret(ctx, req.client, secret, cluster, func(ref *corev1.ObjectReference) { cluster.Spec.ServiceAccountSecretRef = ref })
		}
	}
	if err != nil {
		s.listPage(w, r, req, "clusters", "Clusters", form, "The cluster was not added: "+err.Error())
		return
	}
	see(w, r, "/clusters#cluster-"+cluster.Name)
}

func (s *Server) loadStorages(ctx context.Context, c client.Client, _ string) (any, error) {
	list := &migv1.MigStorageList{}
	if err := c.List(ctx, list, client.InNamespace(s.namespace)); err != nil {
		return nil, fmt.Errorf("list MigStorages: %w", err)
	}
	rows := make([]row, 0, len(list.Items))
	for _, m := range list.Items {
		cfg := m.Spec.BackupStorageConfig
		detail := "s3://" + cfg.AwsBucketName
		if cfg.AwsS3URL != "" {
			detail += " at " + cfg.AwsS3URL
		}
		rows = append(rows, row{Name: m.Name, Detail: detail, Ready: readyOf(m.Status.Conditions), Conditions: m.Status.Conditions})
	}
	return rows, nil
}

func (s *Server) storagesPage(w http.ResponseWriter, r *http.Request, req *request) {
	s.listPage(w, r, req, "storages", "Replication repositories", nil, "")
}

func (s *Server) addStorage(w http.ResponseWriter, r *http.Request, req *request) {
	f := storageFormOf(r.PostForm)
	form := map[string]string{"name": f.Name, "bucket": f.Bucket, "endpoint": f.Endpoint, "region": f.Region, "ca": f.CA}
	secret, storage, err := f.objects(s.namespace)
	if err == nil {
		ctx, cancel := timeout(r)
		defer cancel()
		err = createWithSecret(ctx, req.client, secret, storage, func(ref *corev1.ObjectReference) { storage.Spec.BackupStorageConfig.CredsSecretRef = ref })
	}
	if err != nil {
		s.listPage(w, r, req, "storages", "Replication repositories", form, "The repository was not added: "+err.Error())
		return
	}
	see(w, r, "/storages#storage-"+storage.Name)
}
