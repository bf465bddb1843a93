package cli

import (
	"encoding/base64"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// A ServiceAccount token as the TokenRequest API returns one (header.payload.signature).
const mgTestJWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6IkZlcnJ5In0.eyJpc3MiOiJrdWJlcm5ldGVzIiwic3ViIjoiZmVycnkifQ.c2lnbmF0dXJlLWJ5dGVzLWZvci1mZXJyeQ"

func mgB64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// mgYAML renders an object as the archive would, for substring assertions.
func mgYAML(t *testing.T, obj map[string]any) string {
	t.Helper()
	out, err := yaml.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestMustGatherRedactObject(t *testing.T) {
	for _, tc := range []struct {
		name string
		obj  map[string]any
		// gone must not appear in the redacted YAML; kept must.
		gone, kept []string
	}{{
		name: "Secret data and stringData become sizes, keys stay",
		obj: map[string]any{"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
			"metadata":   map[string]any{"name": "storage-creds", "namespace": "openshift-config"},
			"data":       map[string]any{"aws-secret-access-key": mgB64("s3cr3t-Access-Key-42")},
			"stringData": map[string]any{"password": "hunter2hunter2"}},
		gone: []string{"s3cr3t-Access-Key-42", mgB64("s3cr3t-Access-Key-42"), "hunter2hunter2"},
		kept: []string{"storage-creds", "aws-secret-access-key: <redacted 20 bytes>", "password: <redacted 14 bytes>"},
	}, {
		name: "a ServiceAccount token Secret",
		obj: map[string]any{"apiVersion": "v1", "kind": "Secret",
			"metadata": map[string]any{"name": "source-token"},
			"data":     map[string]any{"saToken": mgB64(mgTestJWT + "\n")}},
		gone: []string{mgTestJWT, mgB64(mgTestJWT + "\n"), "eyJ"},
		kept: []string{"saToken: <redacted " + strconv.Itoa(len(mgTestJWT)+1) + " bytes>"},
	}, {
		name: "last-applied annotation of any kind",
		obj: map[string]any{"apiVersion": "migration.openshift.io/v1alpha1", "kind": "MigStorage",
			"metadata": map[string]any{"name": "s3", "annotations": map[string]any{
				lastAppliedAnnotation: `{"kind":"Secret","data":{"k":"` + mgB64("applied-secret-value") + `"}}`,
				"note":                "kept annotation"}}},
		gone: []string{mgB64("applied-secret-value"), `"kind":"Secret"`},
		kept: []string{"kept annotation", lastAppliedAnnotation + ": <redacted"},
	}, {
		name: "literal env vars named like credentials, in a pod",
		obj: map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": "p"},
			"spec": map[string]any{"containers": []any{map[string]any{"name": "c", "env": []any{
				map[string]any{"name": "API_TOKEN", "value": "tok-123456789"},
				map[string]any{"name": "AWS_SECRET_ACCESS_KEY", "value": "awsSecret987654"},
				map[string]any{"name": "DB_Password", "value": "pw-value-1"},
				map[string]any{"name": "MY_CREDENTIALS", "value": "creds-value-1"},
				map[string]any{"name": "LOG_LEVEL", "value": "debug-level-9"},
				map[string]any{"name": "FROM_SECRET", "valueFrom": map[string]any{
					"secretKeyRef": map[string]any{"name": "s", "key": "k"}}},
			}}}}},
		gone: []string{"tok-123456789", "awsSecret987654", "pw-value-1", "creds-value-1"},
		kept: []string{"debug-level-9", "API_TOKEN", "secretKeyRef"},
	}, {
		name: "Velero BackupStorageLocation config",
		obj: map[string]any{"apiVersion": "velero.io/v1", "kind": "BackupStorageLocation",
			"metadata": map[string]any{"name": "bsl"},
			"spec": map[string]any{"provider": "aws", "config": map[string]any{
				"region": "us-east-1", "s3Url": "https://s3.example.com", "secretAccessKey": "bslSecretValue1",
				"sessionToken": "bslSessionTok1"},
				"credential": map[string]any{"name": "cloud-credentials", "key": "cloud"}}},
		gone: []string{"bslSecretValue1", "bslSessionTok1"},
		kept: []string{"us-east-1", "https://s3.example.com", "cloud-credentials", "key: cloud"},
	}, {
		name: "credentials in free-text strings of any object",
		obj: map[string]any{"apiVersion": "v1", "kind": "Event", "metadata": map[string]any{"name": "e"},
			"message": "GET with Authorization: Bearer abc.def-123 failed; proxy https://user:proxyPass99@proxy:3128",
			"note":    "token " + mgTestJWT},
		gone: []string{"abc.def-123", "proxyPass99", mgTestJWT},
		kept: []string{"Bearer <redacted>", "https://user:<redacted>@proxy:3128"},
	}, {
		name: "ordinary objects are untouched",
		obj: map[string]any{"apiVersion": "migration.openshift.io/v1alpha1", "kind": "MigPlan",
			"metadata": map[string]any{"name": "shop", "namespace": "openshift-migration"},
			"spec": map[string]any{"namespaces": []any{"shop:shop-prod"},
				"srcMigClusterRef": map[string]any{"name": "source", "namespace": "openshift-migration"}}},
		kept: []string{"shop:shop-prod", "name: source", "namespace: openshift-migration"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			before := mgYAML(t, tc.obj)
			got := mgYAML(t, redactObject(tc.obj))
			if after := mgYAML(t, tc.obj); after != before {
				t.Errorf("redactObject modified its argument:\n%s", after)
			}
			for _, s := range tc.gone {
				if strings.Contains(got, s) {
					t.Errorf("%q survived redaction:\n%s", s, got)
				}
			}
			for _, s := range tc.kept {
				if !strings.Contains(got, s) {
					t.Errorf("%q missing after redaction:\n%s", s, got)
				}
			}
		})
	}
}

func TestMustGatherScrubText(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"bearer header", "Authorization: Bearer sha256~AbC_def-123", "Authorization: Bearer <redacted>"},
		{"bearer lower case", "using bearer xyz123/abc== now", "using bearer <redacted> now"},
		{"JWT alone", "token=" + mgTestJWT + " end", "token=<redacted token> end"},
		{"JWT in JSON", `{"token":"` + mgTestJWT + `"}`, `{"token":"<redacted token>"}`},
		{"AWS credentials file", "[default]\naws_access_key_id=AKIAFERRY123\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG\n",
			"[default]\naws_access_key_id=<redacted>\naws_secret_access_key = <redacted>\n"},
		{"JSON log password", `{"level":"info","password":"hunter22","msg":"x"}`, `{"level":"info","password":"<redacted>","msg":"x"}`},
		{"camel-case secret key", "secretAccessKey: abcdEFGH1234", "secretAccessKey: <redacted>"},
		{"URL password", "proxy http://u:p4ssw0rd@proxy.example.com:3128 used", "proxy http://u:<redacted>@proxy.example.com:3128 used"},
		{"private key", "key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAK\n-----END RSA PRIVATE KEY-----\n",
			"key:\n-----BEGIN RSA PRIVATE KEY----- <redacted> -----END RSA PRIVATE KEY-----\n"},
		{"already redacted stays put", "saToken: <redacted 12 bytes>", "saToken: <redacted 12 bytes>"},
		{"YAML key on the next line is not a value", "passwordSecretRef:\n  name: creds", "passwordSecretRef:\n  name: creds"},
		{"certificates stay", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"},
		{"plain log line", `I0101 reconcile MigPlan openshift-migration/shop: Ready`, `I0101 reconcile MigPlan openshift-migration/shop: Ready`},
		{"booleans are no credentials", `{"token":false,"automountServiceAccountToken": true}`, `{"token":false,"automountServiceAccountToken": true}`},
		{"token Secret name", "token Secret openshift-config/source-token not found", "token Secret openshift-config/source-token not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := scrubText(tc.in); got != tc.want {
				t.Errorf("scrubText(%q)\n = %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestMustGatherSensitiveName(t *testing.T) {
	for name, want := range map[string]bool{
		"API_TOKEN": true, "aws_secret_access_key": true, "SSH_KEY": true, "DB_PASSWORD": true,
		"GOOGLE_APPLICATION_CREDENTIALS": true, "passwd": true,
		"LOG_LEVEL": false, "POD_NAMESPACE": false, "HTTPS_PROXY": false, "region": false,
	} {
		if got := sensitiveName(name); got != want {
			t.Errorf("sensitiveName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestMustGatherSecretScrubber(t *testing.T) {
	s := newSecretScrubber()
	s.addSecret(map[string]any{"kind": "Secret", "data": map[string]any{
		"aws-secret-access-key": mgB64("plainS3SecretValue"),
		"token":                 mgB64("opaque-token-value\n"),
		"short":                 mgB64("abc"),
		"namespace":             mgB64("openshift-migration"),
		"ca.crt":                mgB64("-----BEGIN CERTIFICATE-----"),
	}, "stringData": map[string]any{"other": "stringDataValue1"}})
	for _, tc := range []struct{ name, in, want string }{
		{"value in a log", "uploading with key plainS3SecretValue to bucket", "uploading with key <redacted> to bucket"},
		{"only known values: patterns are scrubText's", "password: hunter2hunter2", "password: hunter2hunter2"},
		{"base64 form", "cfg " + mgB64("plainS3SecretValue") + " end", "cfg <redacted> end"},
		{"trimmed token", "using opaque-token-value", "using <redacted>"},
		{"stringData", "x stringDataValue1 y", "x <redacted> y"},
		{"short values are left", "abc def", "abc def"},
		{"public keys are left", "namespace openshift-migration", "namespace openshift-migration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(s.scrub([]byte(tc.in))); got != tc.want {
				t.Errorf("scrub(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestMustGatherClusterNamespaces(t *testing.T) {
	const ns = "openshift-migration"
	source := &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "source"}}
	host := &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "host"}}
	other := &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "other"}}
	plans := []migv1.MigPlan{{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"},
		Spec: migv1.MigPlanSpec{
			Namespaces:        []string{"shop:shop-prod", "db"},
			SrcMigClusterRef:  &corev1.ObjectReference{Name: "source"},
			DestMigClusterRef: &corev1.ObjectReference{Namespace: ns, Name: "host"},
			Hooks: []migv1.MigPlanHook{
				{Reference: &corev1.ObjectReference{Name: "pre"}, ExecutionNamespace: "hooks-src"},
				{Reference: &corev1.ObjectReference{Name: "post"}, ExecutionNamespace: "hooks-dst"},
				{Reference: &corev1.ObjectReference{Name: "missing"}, ExecutionNamespace: "hooks-any"},
			},
		},
	}}
	hooks := []migv1.MigHook{
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pre"}, Spec: migv1.MigHookSpec{TargetCluster: migv1.HookTargetSource}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "post"}, Spec: migv1.MigHookSpec{TargetCluster: migv1.HookTargetDestination}},
	}
	for _, tc := range []struct {
		cluster *migv1.MigCluster
		want    []string
	}{
		{source, []string{"db", "hooks-any", "hooks-src", "shop"}},
		{host, []string{"db", "hooks-any", "hooks-dst", "shop-prod"}},
		{other, nil},
	} {
		if got := clusterNamespaces(tc.cluster, plans, hooks); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("clusterNamespaces(%s) = %v, want %v", tc.cluster.Name, got, tc.want)
		}
	}
}

func TestMustGatherReferencedSecrets(t *testing.T) {
	const ns = "openshift-migration"
	objs := []unstructured.Unstructured{
		{Object: map[string]any{"kind": "MigCluster", "metadata": map[string]any{"namespace": ns, "name": "source"},
			"spec": map[string]any{"serviceAccountSecretRef": map[string]any{"namespace": "openshift-config", "name": "source-token"}}}},
		{Object: map[string]any{"kind": "MigStorage", "metadata": map[string]any{"namespace": ns, "name": "s3"},
			"spec": map[string]any{
				"backupStorageConfig":  map[string]any{"credsSecretRef": map[string]any{"namespace": "openshift-config", "name": "s3-creds"}},
				"volumeSnapshotConfig": map[string]any{"credsSecretRef": map[string]any{"name": "local-creds"}},
			}}},
		{Object: map[string]any{"kind": "MigCluster", "metadata": map[string]any{"namespace": ns, "name": "elsewhere"},
			"spec": map[string]any{"serviceAccountSecretRef": map[string]any{"namespace": "kube-system", "name": "not-allowed"}}}},
	}
	want := []types.NamespacedName{
		{Namespace: "openshift-config", Name: "s3-creds"},
		{Namespace: "openshift-config", Name: "source-token"},
		{Namespace: ns, Name: "local-creds"},
	}
	if got := referencedSecrets(objs, ns); !reflect.DeepEqual(got, want) {
		t.Errorf("referencedSecrets = %v, want %v", got, want)
	}
}

func TestMustGatherPodLogs(t *testing.T) {
	pod := &corev1.Pod{Status: corev1.PodStatus{
		InitContainerStatuses: []corev1.ContainerStatus{{Name: "init", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{}}}},
		ContainerStatuses: []corev1.ContainerStatus{
			{Name: "rsync", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
				LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1}}},
			{Name: "waiting", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff"}}},
		},
	}}
	var files []string
	for _, l := range podLogs(pod) {
		files = append(files, l.file())
	}
	if want := []string{"init.log", "rsync.log", "rsync.previous.log"}; !reflect.DeepEqual(files, want) {
		t.Errorf("podLogs = %v, want %v", files, want)
	}
}

func TestMustGatherPaths(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	for dest, want := range map[string]string{
		"":                 "must-gather-20260304T050607Z.tar.gz",
		"/tmp/case":        "/tmp/case/must-gather-20260304T050607Z.tar.gz",
		"/tmp/case.tar.gz": "/tmp/case.tar.gz",
		"out.tgz":          "out.tgz",
	} {
		if got := archivePath(dest, now); got != want {
			t.Errorf("archivePath(%q) = %q, want %q", dest, got, want)
		}
	}
	if got, want := archiveName("c", "ns", "pods", "../x", "a/b.log"), "c/ns/pods/.._x/a_b.log"; got != want {
		t.Errorf("archiveName = %q, want %q", got, want)
	}
	if got, want := archiveName("c", "..", "x"), "c/_../x"; got != want {
		t.Errorf("archiveName = %q, want %q", got, want)
	}
}

func TestMustGatherKinds(t *testing.T) {
	got := strings.Join(migrationKinds(), ",")
	want := "DirectImageMigration,DirectImageStreamMigration,DirectVolumeMigration,DirectVolumeMigrationProgress," +
		"MigAnalytic,MigCluster,MigHook,MigMigration,MigPlan,MigStorage,MigrationController"
	if got != want {
		t.Errorf("migrationKinds = %s, want %s", got, want)
	}
}
