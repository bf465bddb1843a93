package directvolumemigration

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/settings"
	"github.com/ferrymtc/ferry/pkg/transfer"
)

func TestItineraries(t *testing.T) {
	its := Itineraries()
	want := map[string]string{
		VolumeMigrationItinerary: "Started Prepare CleanStaleRsyncResources WaitForStaleRsyncResourcesTerminated CreateDestinationNamespaces " +
			"DestinationNamespacesCreated CreateDestinationPVCs CreateRsyncRoute EnsureRsyncRouteAdmitted CreateRsyncConfig CreateStunnelConfig " +
			"CreatePVProgressCRs CreateRsyncTransferPods WaitForRsyncTransferPodsRunning RunRsyncOperations DeleteRsyncResources WaitForRsyncResourcesTerminated",
		VolumeMigrationRollbackItinerary: "Started Prepare CleanStaleRsyncResources WaitForStaleRsyncResourcesTerminated",
		VolumeMigrationFailedItinerary:   "MigrationFailed DeleteRsyncResources WaitForRsyncResourcesTerminated",
	}
	if len(its) != len(want) {
		t.Fatalf("%d itineraries", len(its))
	}
	for name, phases := range want {
		it := its[name]
		if err := it.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		var got []string
		for _, p := range it.Phases {
			got = append(got, p.Name)
			if _, ok := phaseDescriptions[p.Name]; !ok {
				t.Errorf("phase %s has no description", p.Name)
			}
		}
		if strings.Join(got, " ") != phases {
			t.Errorf("%s:\n got %s\nwant %s", name, strings.Join(got, " "), phases)
		}
	}
}

func dvm(mutate func(*migv1.DirectVolumeMigration)) *migv1.DirectVolumeMigration {
	d := &migv1.DirectVolumeMigration{
		ObjectMeta: metav1.ObjectMeta{Namespace: "openshift-migration", Name: "d", UID: types.UID("uid-1")},
		Spec: migv1.DirectVolumeMigrationSpec{
			SrcMigClusterRef:  &corev1.ObjectReference{Name: "src"},
			DestMigClusterRef: &corev1.ObjectReference{Name: "dst"},
			PersistentVolumeClaims: []migv1.PVCToMigrate{
				{ObjectReference: &corev1.ObjectReference{Namespace: "a", Name: "data"}, TargetStorageClass: "fast"},
			},
		},
	}
	if mutate != nil {
		mutate(d)
	}
	return d
}

func readyCluster(name string) *migv1.MigCluster {
	return &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Name: name},
		Status: migv1.MigClusterStatus{Conditions: migv1.Conditions{conditions.Required(migv1.Ready, "", "ready")}}}
}

func withURL(c *migv1.MigCluster, url string) *migv1.MigCluster {
	c.Spec.URL = url
	return c
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    *observed
		want []string
	}{
		{"valid", &observed{dvm: dvm(nil), src: readyCluster("src"), dest: readyCluster("dst")}, nil},
		{"ClusterIP between two clusters", &observed{dvm: dvm(nil), src: readyCluster("src"), dest: readyCluster("dst"),
			settings: settings.Settings{RsyncEndpointType: migv1.RsyncEndpointClusterIP}}, []string{"ClusterIPAcrossClusters/"}},
		{"ClusterIP within one cluster", &observed{dvm: dvm(func(d *migv1.DirectVolumeMigration) {
			d.Spec.DestMigClusterRef = d.Spec.SrcMigClusterRef
			d.Spec.PersistentVolumeClaims[0].TargetNamespace = "b"
		}), src: readyCluster("src"), dest: readyCluster("src"), settings: settings.Settings{RsyncEndpointType: migv1.RsyncEndpointClusterIP}}, nil},
		{"unset refs", &observed{dvm: dvm(func(d *migv1.DirectVolumeMigration) {
			d.Spec.SrcMigClusterRef, d.Spec.DestMigClusterRef = nil, nil
		})}, []string{"InvalidSourceClusterRef/NotSet", "InvalidDestinationClusterRef/NotSet"}},
		{"missing and not ready", &observed{dvm: dvm(nil), dest: &migv1.MigCluster{}},
			[]string{"InvalidSourceClusterRef/NotFound", "DestinationClusterNotReady/NotReady"}},
		{"no PVCs", &observed{dvm: dvm(func(d *migv1.DirectVolumeMigration) { d.Spec.PersistentVolumeClaims = nil }),
			src: readyCluster("src"), dest: readyCluster("dst")}, []string{"InvalidPVCs/NotSet"}},
		{"missing PVCs", &observed{dvm: dvm(nil), src: readyCluster("src"), dest: readyCluster("dst"), missingPVCs: []string{"a/data"}},
			[]string{"PodsNotFoundOnSourceCluster/NotFound"}},
		{"two PVCs into one", &observed{dvm: dvm(func(d *migv1.DirectVolumeMigration) {
			d.Spec.PersistentVolumeClaims = append(d.Spec.PersistentVolumeClaims, migv1.PVCToMigrate{
				ObjectReference: &corev1.ObjectReference{Namespace: "b", Name: "other"}, TargetNamespace: "a", TargetName: "data"})
		}), src: readyCluster("src"), dest: readyCluster("dst")}, []string{"InvalidSpec/NotSupported"}},
		{"within one cluster, onto itself", &observed{dvm: dvm(func(d *migv1.DirectVolumeMigration) {
			d.Spec.DestMigClusterRef = d.Spec.SrcMigClusterRef
		}), src: readyCluster("src"), dest: readyCluster("src")}, []string{"InvalidSpec/NotSupported"}},
		{"target namespace and name that are not names", &observed{dvm: dvm(func(d *migv1.DirectVolumeMigration) {
			d.Spec.PersistentVolumeClaims[0].TargetNamespace = "b;touch /tmp/x"
			d.Spec.PersistentVolumeClaims[0].TargetName = "Data\nx"
		}), src: readyCluster("src"), dest: readyCluster("dst")}, []string{"InvalidSpec/NotSupported"}},
		{"source namespace that is not a name", &observed{dvm: dvm(func(d *migv1.DirectVolumeMigration) {
			d.Spec.PersistentVolumeClaims[0].Namespace = "a b"
			d.Spec.PersistentVolumeClaims[0].TargetNamespace = "a"
		}), src: readyCluster("src"), dest: readyCluster("dst")}, []string{"InvalidSpec/NotSupported"}},
		{"a malformed stunnel_tcp_proxy", &observed{dvm: dvm(nil), src: readyCluster("src"), dest: readyCluster("dst"),
			settings: settings.Settings{StunnelTCPProxy: "http://u:p4ss@proxy:31a28"}}, []string{"InvalidTransferSettings/NotSupported"}},
		{"a stunnel_tcp_proxy that injects a line", &observed{dvm: dvm(nil), src: readyCluster("src"), dest: readyCluster("dst"),
			settings: settings.Settings{StunnelTCPProxy: "http://u:p%0Aexec=/bin/sh@proxy:3128"}}, []string{"InvalidTransferSettings/NotSupported"}},
		{"rsync extras outside the allowlist", &observed{dvm: dvm(nil), src: readyCluster("src"), dest: readyCluster("dst"),
			settings: settings.Settings{Rsync: settings.RsyncOptions{Extras: "--bwlimit=100 -n --existing -z"}}}, []string{"RsyncOptionsIgnored/NotSupported"}},
		{"rsync extras that filter files", &observed{dvm: dvm(nil), src: readyCluster("src"), dest: readyCluster("dst"),
			settings: settings.Settings{Rsync: settings.RsyncOptions{Extras: "--exclude=*.tmp -z"}}}, []string{"RsyncFiltersInEffect/"}},
		{"two MigClusters of one API server, onto itself", &observed{dvm: dvm(nil),
			src: withURL(readyCluster("src"), "https://api.example:6443"), dest: withURL(readyCluster("dst"), "https://API.example:6443/")},
			[]string{"InvalidSpec/NotSupported"}},
		{"another DVM running into the same PVC", &observed{dvm: dvm(nil), src: readyCluster("src"), dest: readyCluster("dst"),
			others: []migv1.DirectVolumeMigration{*dvm(func(d *migv1.DirectVolumeMigration) {
				d.Name, d.UID, d.Status.Phase = "other", "uid-2", RunRsyncOperations
			})}}, []string{"Postponed/Conflict"}},
		{"within one cluster, into another namespace", &observed{dvm: dvm(func(d *migv1.DirectVolumeMigration) {
			d.Spec.DestMigClusterRef = d.Spec.SrcMigClusterRef
			d.Spec.PersistentVolumeClaims[0].TargetNamespace = "b"
		}), src: readyCluster("src"), dest: readyCluster("src")}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, c := range validate(tc.o) {
				if c.Category != migv1.CategoryCritical && !slices.Contains([]string{migv1.ClusterIPAcrossClusters, migv1.RsyncOptionsIgnored, migv1.RsyncFiltersInEffect}, c.Type) {
					t.Errorf("%s is %s", c.Type, c.Category)
				}
				got = append(got, c.Type+"/"+c.Reason)
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			for _, c := range validate(tc.o) {
				if c.Type == migv1.RsyncOptionsIgnored && (!strings.Contains(c.Message, `"-n"`) || !strings.Contains(c.Message, `"--existing"`)) {
					t.Errorf("the warning does not name the options left out: %q", c.Message)
				}
				if strings.Contains(c.Message, "p4ss") {
					t.Errorf("the proxy password is in the condition %s: %q", c.Type, c.Message)
				}
			}
		})
	}
}

func TestDestinationPVC(t *testing.T) {
	d := dvm(nil)
	src := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "data", Labels: map[string]string{"app": "db"},
			Annotations: map[string]string{"pv.kubernetes.io/bind-completed": "yes"}},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}, VolumeName: "pv-1",
			StorageClassName: ptr.To("slow"), VolumeMode: ptr.To(corev1.PersistentVolumeFilesystem),
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
		Status: corev1.PersistentVolumeClaimStatus{Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("5Gi")}},
	}
	p := migv1.PVCToMigrate{ObjectReference: &corev1.ObjectReference{Namespace: "a", Name: "data"}, TargetStorageClass: "fast",
		TargetAccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, TargetNamespace: "b", TargetName: "copy"}
	got := destinationPVC(d, p, src)
	size := got.Spec.Resources.Requests[corev1.ResourceStorage]
	switch {
	case got.Namespace != "b" || got.Name != "copy":
		t.Errorf("name %s/%s", got.Namespace, got.Name)
	case *got.Spec.StorageClassName != "fast" || got.Spec.AccessModes[0] != corev1.ReadWriteOnce || got.Spec.VolumeName != "":
		t.Errorf("spec %+v", got.Spec)
	case size.String() != "5Gi":
		t.Errorf("size %s, want the source's capacity", size.String())
	case got.Labels["app"] != "db" || got.Labels[transfer.LabelMigratedByDVM] != "uid-1" || len(got.Annotations) != 0:
		t.Errorf("metadata %v %v", got.Labels, got.Annotations)
	}
	// An empty targetStorageClass means no class (static PVs on the destination), as the
	// seed documents and MTC does, not the source's class, which the destination may lack.
	p.TargetStorageClass = ""
	if got := destinationPVC(d, p, src); got.Spec.StorageClassName == nil || *got.Spec.StorageClassName != "" {
		t.Errorf("empty targetStorageClass: storageClassName %v, want \"\"", got.Spec.StorageClassName)
	}
}

// TestBackOffLimit: rsync_backoff_limit, when set, wins over the DVM's spec.backOffLimit, also
// when it is set to 20 (MTC's default, which used to read as "unset").
func TestBackOffLimit(t *testing.T) {
	for _, tc := range []struct {
		setting    *intstr.IntOrString
		spec, want int
	}{{nil, 0, 20}, {nil, 3, 3}, {ptr.To(intstr.FromInt32(5)), 3, 5}, {ptr.To(intstr.FromString("20")), 3, 20}} {
		s := &Scope{DVM: dvm(func(d *migv1.DirectVolumeMigration) { d.Spec.BackOffLimit = tc.spec }),
			Settings: settings.FromSpec(&migv1.MigrationControllerSpec{RsyncBackoffLimit: tc.setting})}
		if got := s.backOffLimit(); got != tc.want {
			t.Errorf("setting %v, spec %d: %d, want %d", tc.setting, tc.spec, got, tc.want)
		}
	}
}

func TestFinish(t *testing.T) {
	p1 := migv1.PVCToMigrate{ObjectReference: &corev1.ObjectReference{Namespace: "a", Name: "one"}}
	p2 := migv1.PVCToMigrate{ObjectReference: &corev1.ObjectReference{Namespace: "a", Name: "two"}}
	s := &Scope{DVM: dvm(nil)}
	if out := finish(s, []pvcOutcome{{pvc: p1, state: stateSucceeded}}); !out.Done {
		t.Errorf("all succeeded: %+v", out)
	}
	out := finish(s, []pvcOutcome{
		{pvc: p1, state: stateFailed, kind: transfer.FailureUnreachable, failure: "rsync endpoint unreachable: No route to host"},
		{pvc: p2, state: stateSucceeded},
	})
	if out.Fail == nil || !strings.Contains(out.Fail.Message, "rsync failed for 1 of 2 PVCs: a/one: rsync endpoint unreachable") {
		t.Fatalf("one failed: %+v", out)
	}
	if s.networkError == nil || s.networkError.Reason != migv1.RsyncNoRouteToHost || !s.networkError.Durable {
		t.Errorf("network error %+v", s.networkError)
	}
	s = &Scope{DVM: dvm(nil)}
	finish(s, []pvcOutcome{{pvc: p1, state: stateFailed, kind: transfer.FailureTLS, failure: "TLS refused"}})
	if s.networkError != nil {
		t.Errorf("TLS failure diagnosed as a network error")
	}
}

func TestSelectItineraryAndCursor(t *testing.T) {
	d := dvm(nil)
	if got := selectItinerary(d); got != VolumeMigrationItinerary {
		t.Errorf("new DVM: %s", got)
	}
	d.Spec.MigrationType = ptr.To(migv1.MigrationTypeRollback)
	if got := selectItinerary(d); got != VolumeMigrationRollbackItinerary {
		t.Errorf("rollback: %s", got)
	}
	d.Status.Errors = []string{"x"}
	if got := selectItinerary(d); got != VolumeMigrationFailedItinerary {
		t.Errorf("failed: %s", got)
	}
	at := metav1.Now()
	d.Status.Phase = RunRsyncOperations
	running := conditions.Advisory(migv1.Running, RunRsyncOperations, "Step: 15/17")
	running.LastTransitionTime = at
	d.Status.Conditions = migv1.Conditions{running}
	if cur := cursorOf(d); !cur.PhaseStartedAt.Equal(at.Time) {
		t.Errorf("cursor %+v", cur)
	}
	d.Status.Phase = itinerary.Completed
	if cur := cursorOf(d); !cur.PhaseStartedAt.IsZero() {
		t.Errorf("stale Running gave a start time: %+v", cur)
	}
}

func TestTail(t *testing.T) {
	got, err := tail(strings.NewReader(strings.Repeat("a", 100)+"END"), 10)
	if err != nil || got != "aaaaaaaEND" {
		t.Errorf("tail = %q, %v", got, err)
	}
}
