package migstorage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/objectstore"
	"github.com/ferrymtc/ferry/test/controlplane"
)

// fakeTester returns err and remembers that it was called.
type fakeTester struct {
	err    error
	called bool
}

func (f *fakeTester) TestBucket(context.Context, string, *migv1.BackupStorageConfig, map[string][]byte) error {
	f.called = true
	return f.err
}

var awsKeys = map[string][]byte{objectstore.AWSAccessKeyIDKey: []byte("AKID"), objectstore.AWSSecretAccessKeyKey: []byte("s3cr3t-value")}

func ref(name string) *corev1.ObjectReference { return &corev1.ObjectReference{Name: name} }

func validAWS() migv1.MigStorageSpec {
	return migv1.MigStorageSpec{BackupStorageProvider: "aws", BackupStorageConfig: migv1.BackupStorageConfig{
		CredsSecretRef: ref("creds"), AwsBucketName: "b"}}
}

// TestRunChecks runs the checks against a fake API server holding one Secret, "creds", and
// lists the conditions (type/reason) the storage ends up with.
func TestRunChecks(t *testing.T) {
	cases := []struct {
		name       string
		spec       func(*migv1.MigStorageSpec)
		testErr    error
		want       []string
		wantTested bool
	}{
		{"valid and tested", nil, nil, []string{"Ready/"}, true},
		{"no provider", func(s *migv1.MigStorageSpec) { s.BackupStorageProvider = "" }, nil,
			[]string{"InvalidBackupStorageProvider/NotSet"}, false},
		{"unknown provider", func(s *migv1.MigStorageSpec) { s.BackupStorageProvider = "minio" }, nil,
			[]string{"InvalidBackupStorageProvider/NotSupported"}, false},
		{"no secret ref", func(s *migv1.MigStorageSpec) { s.BackupStorageConfig.CredsSecretRef = nil }, nil,
			[]string{"InvalidBackupStorageCredsSecretRef/NotSet"}, false},
		{"secret missing", func(s *migv1.MigStorageSpec) { s.BackupStorageConfig.CredsSecretRef = ref("gone") }, nil,
			[]string{"InvalidBackupStorageCredsSecretRef/NotFound"}, false},
		{"no bucket", func(s *migv1.MigStorageSpec) { s.BackupStorageConfig.AwsBucketName = "" }, nil,
			[]string{"InvalidBackupStorageSettings/NotSupported"}, false},
		{"test failed", nil, &objectstore.TestError{Message: "bucket b does not exist at x"},
			[]string{"BackupStorageProviderTestFailed/TestFailed"}, true},
		{"test not supported", func(s *migv1.MigStorageSpec) {
			s.BackupStorageProvider = "gcp"
			s.BackupStorageConfig.GcpBucket = "g"
		}, fmt.Errorf("%w: gcp", objectstore.ErrLiveTestNotSupported),
			[]string{"InvalidBackupStorageSettings/NotSupported"}, false}, // the aws Secret lacks gcp-credentials.
		{"snapshot provider unknown, backup fine", func(s *migv1.MigStorageSpec) { s.VolumeSnapshotProvider = "ibm" }, nil,
			[]string{"InvalidVolumeSnapshotProvider/NotSupported"}, true},
		{"snapshot creds not set and backup failing", func(s *migv1.MigStorageSpec) {
			s.VolumeSnapshotProvider = "aws"
			s.BackupStorageConfig.AwsBucketName = ""
		}, nil, []string{"InvalidBackupStorageSettings/NotSupported", "InvalidVolumeSnapshotCredsSecretRef/NotSet"}, false},
		{"snapshot settings invalid", func(s *migv1.MigStorageSpec) {
			s.VolumeSnapshotProvider = "aws"
			s.VolumeSnapshotConfig = migv1.VolumeSnapshotConfig{CredsSecretRef: ref("creds"), SnapshotCreationTimeout: "soon"}
		}, nil, []string{"InvalidVolumeSnapshotSettings/NotSupported"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, tester := check(t, tc.spec, awsKeys, tc.testErr)
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("conditions = %v, want %v", got, tc.want)
			}
			if tester.called != tc.wantTested {
				t.Errorf("live test run = %v, want %v", tester.called, tc.wantTested)
			}
		})
	}
}

func TestUntestedProviderIsReadyWithAdvisory(t *testing.T) {
	gcp := map[string][]byte{objectstore.GCPCredentialsKey: []byte(`{"type":"service_account"}`)}
	got, _ := check(t, func(s *migv1.MigStorageSpec) {
		s.BackupStorageProvider = "gcp"
		s.BackupStorageConfig.GcpBucket = "g"
	}, gcp, fmt.Errorf("%w: gcp", objectstore.ErrLiveTestNotSupported))
	if strings.Join(got, ",") != "Ready/,BackupStorageProviderTestSkipped/NotSupported" {
		t.Fatalf("conditions = %v, want Ready and the Advisory skip", got)
	}
}

func TestCanceledTestIsAnError(t *testing.T) {
	s, r := checkScope(t, nil, awsKeys, fmt.Errorf("test: %w", context.Canceled))
	if err := r.runChecks(t.Context(), s); !errors.Is(err, context.Canceled) {
		t.Fatalf("runChecks = %v, want the cancellation back rather than a verdict", err)
	}
}

func TestMessagesNameFieldsAndProblems(t *testing.T) {
	c := invalidSettings(backupSide, []string{"backupStorageConfig.awsBucketName is required", "x"})
	if c.Message != "The `spec.backupStorageConfig` settings are not valid: backupStorageConfig.awsBucketName is required; x." {
		t.Errorf("settings message = %q", c.Message)
	}
	if got := testFailed(errors.New("bucket b does not exist.")).Message; got != "The backup storage test failed: bucket b does not exist." {
		t.Errorf("test failed message = %q", got)
	}
	if got := invalidProvider(backupSide, "").Message; got != "The `spec.backupStorageProvider` must be: (aws|gcp|azure)." {
		t.Errorf("provider message = %q", got)
	}
	for _, c := range []migv1.Condition{invalidProvider(snapshotSide, "x"), secretRefNotSet(snapshotSide), secretNotFound(backupSide, "ns/s")} {
		if c.Category != migv1.CategoryCritical || c.Status != migv1.True {
			t.Errorf("%s is %s/%s, want True/Critical", c.Type, c.Status, c.Category)
		}
	}
}

func TestSecretKeys(t *testing.T) {
	st := &migv1.MigStorage{ObjectMeta: metav1.ObjectMeta{Namespace: "openshift-migration"}}
	st.Spec.BackupStorageConfig.CredsSecretRef = &corev1.ObjectReference{Name: "a"}
	st.Spec.VolumeSnapshotConfig.CredsSecretRef = &corev1.ObjectReference{Namespace: "other", Name: "b"}
	if got := secretKeys(st); strings.Join(got, ",") != "openshift-migration/a,other/b" {
		t.Errorf("secretKeys = %v", got)
	}
	st.Spec.VolumeSnapshotConfig.CredsSecretRef = &corev1.ObjectReference{Namespace: "openshift-migration", Name: "a"}
	if got := secretKeys(st); len(got) != 1 {
		t.Errorf("secretKeys = %v, want the shared Secret once", got)
	}
}

// checkScope builds a reconciler over a fake API server with Secret "creds" holding data.
func checkScope(t *testing.T, mutate func(*migv1.MigStorageSpec), data map[string][]byte, testErr error) (*scope, *Reconciler) {
	t.Helper()
	scheme, err := controlplane.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "creds"}, Data: data}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(secret).Build()
	spec := validAWS()
	if mutate != nil {
		mutate(&spec)
	}
	st := &migv1.MigStorage{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "s"}, Spec: spec}
	return &scope{storage: st}, &Reconciler{Client: c, APIReader: c, Tester: &fakeTester{err: testErr}}
}

func check(t *testing.T, mutate func(*migv1.MigStorageSpec), data map[string][]byte, testErr error) ([]string, *fakeTester) {
	t.Helper()
	s, r := checkScope(t, mutate, data, testErr)
	if err := r.runChecks(t.Context(), s); err != nil {
		t.Fatalf("runChecks: %v", err)
	}
	var got []string
	for _, c := range conditionsFor(s) {
		got = append(got, c.Type+"/"+c.Reason)
	}
	return got, r.Tester.(*fakeTester)
}

// recordingReader remembers the keys it was asked for.
type recordingReader struct {
	client.Reader
	asked []string
}

func (r *recordingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	r.asked = append(r.asked, key.String())
	return r.Reader.Get(ctx, key, obj, opts...)
}

func TestCredentialsOnlyFromAllowedNamespaces(t *testing.T) {
	scheme, err := controlplane.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	var objs []client.Object
	for _, ns := range []string{"openshift-config", "ns", "kube-system", "tenant"} {
		objs = append(objs, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "creds"}, Data: awsKeys})
	}
	cases := []struct {
		backupNS, snapshotNS string
		want                 []string
	}{
		{"openshift-config", "", []string{"Ready/"}},
		{"ns", "", []string{"Ready/"}},
		{"kube-system", "", []string{"InvalidBackupStorageCredsSecretRef/NotSupported"}},
		{"openshift-config", "tenant", []string{"InvalidVolumeSnapshotCredsSecretRef/NotSupported"}},
	}
	for _, tc := range cases {
		t.Run(tc.backupNS+"+"+tc.snapshotNS, func(t *testing.T) {
			c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()
			reader := &recordingReader{Reader: c}
			spec := validAWS()
			spec.BackupStorageConfig.CredsSecretRef = &corev1.ObjectReference{Namespace: tc.backupNS, Name: "creds"}
			if tc.snapshotNS != "" {
				spec.VolumeSnapshotProvider = "aws"
				spec.VolumeSnapshotConfig.CredsSecretRef = &corev1.ObjectReference{Namespace: tc.snapshotNS, Name: "creds"}
			}
			s := &scope{storage: &migv1.MigStorage{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "s"}, Spec: spec}}
			r := &Reconciler{Client: c, APIReader: reader, Tester: &fakeTester{}}
			if err := r.runChecks(t.Context(), s); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range conditionsFor(s) {
				got = append(got, c.Type+"/"+c.Reason)
				if c.Category == migv1.CategoryCritical && (!strings.Contains(c.Message, "openshift-config") || !strings.Contains(c.Message, `"ns"`)) {
					t.Errorf("message %q does not name the allowed namespaces", c.Message)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("conditions = %v, want %v", got, tc.want)
			}
			for _, key := range reader.asked {
				if strings.HasPrefix(key, "kube-system/") || strings.HasPrefix(key, "tenant/") {
					t.Errorf("the Secret %s was read", key)
				}
			}
		})
	}
}
