package migration_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/objectstore"
	"github.com/ferrymtc/ferry/test/fixtures"
	"github.com/ferrymtc/ferry/test/migenv"
	"github.com/ferrymtc/ferry/test/suite"
)

const ns = migenv.Namespace

var (
	env    *migenv.Env
	ctx    context.Context
	cancel context.CancelFunc
)

func TestMigrations(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "MigMigration end to end")
}

var _ = BeforeSuite(func() {
	suite.Configure()
	SetDefaultEventuallyTimeout(90 * time.Second)
	ctx, cancel = context.WithCancel(context.Background())
	var err error
	env, err = migenv.Start(ctx, migenv.Options{Dir: os.Getenv("FERRY_MIGENV_DIR"), Entrypoints: hookImages})
	Expect(err).NotTo(HaveOccurred())
})

var _ = AfterSuite(func() {
	if env != nil {
		Expect(env.Stop()).To(Succeed())
	}
	if cancel != nil {
		cancel()
	}
})

var _ = ReportAfterEach(func(r SpecReport) {
	if r.Failed() && env != nil {
		AddReportEntry("operator log tail", env.OperatorLogTail(8000))
		AddReportEntry("velero log tail", env.VeleroLogs(4000))
	}
})

// serve is the command of the test apps: it runs until SIGTERM.
var serve = []string{"sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"}

// app creates namespace name on the source with a small application: a Deployment web with
// replicas, a Service, a ConfigMap and a Secret labelled app=frontend, and a ConfigMap
// "internal" without that label.
func app(name string, replicas int32) {
	GinkgoHelper()
	appOn(env.Source.Client, name, replicas)
}

// appOn creates the test app (see app) in namespace name of the cluster c.
func appOn(c client.Client, name string, replicas int32) {
	GinkgoHelper()
	labels := map[string]string{"app": "web"}
	frontend := map[string]string{"app": "frontend"}
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "web", Labels: labels},
			Spec: appsv1.DeploymentSpec{
				Replicas: ptr.To(replicas),
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
					Containers: []corev1.Container{{Name: "web", Image: "registry.example/web:1", Command: serve}},
				}},
			}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "web", Labels: labels},
			Spec: corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}}}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "web-config", Labels: frontend}, Data: map[string]string{"greeting": "hello"}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "internal"}, Data: map[string]string{"x": "y"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "web-secret", Labels: frontend}, StringData: map[string]string{"password": "s3cr3t"}},
	}
	for _, obj := range objs {
		Expect(c.Create(ctx, obj)).To(Succeed())
	}
}

// readyPlan creates a plan from the source to the host over namespaces and waits until it is
// Ready.
func readyPlan(name string, namespaces []string, mutate func(*migv1.MigPlan)) *migv1.MigPlan {
	GinkgoHelper()
	plan := &migv1.MigPlan{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: migv1.MigPlanSpec{
		Namespaces:        namespaces,
		SrcMigClusterRef:  fixtures.Ref(ns, fixtures.SourceCluster),
		DestMigClusterRef: fixtures.Ref(ns, fixtures.HostCluster),
		MigStorageRef:     fixtures.Ref(ns, fixtures.Storage),
	}}
	if mutate != nil {
		mutate(plan)
	}
	Expect(env.Destination.Client.Create(ctx, plan)).To(Succeed())
	Expect(fixtures.WaitReady(ctx, env.Destination.Client, 90*time.Second, plan)).To(Succeed())
	return plan
}

// migrate creates a migration of plan with spec.
func migrate(name string, plan *migv1.MigPlan, spec migv1.MigMigrationSpec) *migv1.MigMigration {
	GinkgoHelper()
	spec.MigPlanRef = &corev1.ObjectReference{Namespace: plan.Namespace, Name: plan.Name}
	m := &migv1.MigMigration{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: spec}
	Expect(env.Destination.Client.Create(ctx, m)).To(Succeed())
	return m
}

// completed waits until the migration has ended and returns it.
func completed(m *migv1.MigMigration, timeout time.Duration) *migv1.MigMigration {
	GinkgoHelper()
	got := &migv1.MigMigration{}
	Eventually(func(g Gomega) {
		g.Expect(env.Destination.Client.Get(ctx, client.ObjectKeyFromObject(m), got)).To(Succeed())
		g.Expect(got.Status.Phase).To(Equal("Completed"), "phase %s, conditions %v, errors %v", got.Status.Phase, got.Status.Conditions, got.Status.Errors)
	}).WithTimeout(timeout).Should(Succeed())
	return got
}

// hasCondition says whether the migration has the condition type.
func hasCondition(m *migv1.MigMigration, t string) bool {
	return conditions.Find(m.Status.Conditions, t) != nil
}

// replicasOf returns the replicas of Deployment web in namespace on cluster c.
func replicasOf(c client.Client, namespace string) func() (int32, error) {
	return func() (int32, error) {
		d := &appsv1.Deployment{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "web"}, d); err != nil {
			return -1, err
		}
		return ptr.Deref(d.Spec.Replicas, 1), nil
	}
}

// exists says whether obj (with namespace and name set) exists on c.
func exists(c client.Client, obj client.Object) func() bool {
	return func() bool {
		err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj)
		return err == nil
	}
}

// veleroObjects lists the Backups (on the source) and Restores (on the destination) of the
// migration.
func veleroObjects(m *migv1.MigMigration) (backups, restores []string) {
	GinkgoHelper()
	sel := client.MatchingLabels{"migration.openshift.io/migrated-by-migmigration": string(m.UID)}
	bl := &velerov1.BackupList{}
	Expect(env.Source.Client.List(ctx, bl, client.InNamespace(ns), sel)).To(Succeed())
	for _, b := range bl.Items {
		backups = append(backups, fmt.Sprintf("%s:%s", b.Name, b.Status.Phase))
	}
	rl := &velerov1.RestoreList{}
	Expect(env.Destination.Client.List(ctx, rl, client.InNamespace(ns), sel)).To(Succeed())
	for _, r := range rl.Items {
		restores = append(restores, fmt.Sprintf("%s:%s", r.Name, r.Status.Phase))
	}
	return backups, restores
}

// bulk adds n ConfigMaps to namespace, to make its backup take a while.
func bulk(namespace string, n int) {
	GinkgoHelper()
	for i := range n {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: fmt.Sprintf("bulk-%03d", i)},
			Data: map[string]string{"data": strings.Repeat("x", 512)}}
		Expect(env.Source.Client.Create(ctx, cm)).To(Succeed())
	}
}

// deleteRequests lists the DeleteBackupRequests left on the source.
func deleteRequests() []string {
	GinkgoHelper()
	list := &velerov1.DeleteBackupRequestList{}
	Expect(env.Source.Client.List(ctx, list, client.InNamespace(ns))).To(Succeed())
	var out []string
	for _, r := range list.Items {
		out = append(out, r.Name+":"+string(r.Status.Phase))
	}
	return out
}

// bucketHolds says whether the bucket holds objects of a backup of the migration (under the
// prefix of the MigStorage's location).
func bucketHolds(m *migv1.MigMigration) bool {
	GinkgoHelper()
	keys, err := env.Store.Objects(ctx, migenv.Bucket)
	Expect(err).NotTo(HaveOccurred())
	for _, k := range keys {
		if strings.HasPrefix(k, objectstore.VeleroPrefix+"/backups/"+m.Name+"-") {
			return true
		}
	}
	return false
}
