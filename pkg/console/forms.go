package console

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/clustercache"
)

// SecretNamespace is where the console puts token and credential Secrets, as MTC's console
// does.
const SecretNamespace = "openshift-config"

func checkName(what, name string) error {
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return fmt.Errorf("%s %q: %s", what, name, strings.Join(errs, "; "))
	}
	return nil
}

// clusterForm is the "Add cluster" form.
type clusterForm struct {
	Name, URL, Token, CA, RegistryPath string
	// Host registers the cluster the operator runs on: no URL or token, the operator's own
	// connection (MTC's isHostCluster).
	Insecure, Host bool
}

func clusterFormOf(v url.Values) clusterForm {
	return clusterForm{
		Name: strings.TrimSpace(v.Get("name")), URL: strings.TrimSpace(v.Get("url")),
		Token: strings.TrimSpace(v.Get("token")), CA: strings.TrimSpace(v.Get("ca")),
		RegistryPath: strings.TrimSpace(v.Get("registryPath")), Insecure: v.Get("insecure") == "on",
		Host: v.Get("host") == "on",
	}
}

// objects are the token Secret and the MigCluster the form creates, as MTC's console makes
// them: the Secret in openshift-config with key saToken, referenced by the MigCluster. The
// host cluster has no Secret (nil).
func (f clusterForm) objects(namespace string) (*corev1.Secret, *migv1.MigCluster, error) {
	if err := checkName("name", f.Name); err != nil {
		return nil, nil, err
	}
	if f.Host {
		if f.URL != "" || f.Token != "" {
			return nil, nil, fmt.Errorf("the host cluster takes no URL or token: the operator uses its own connection")
		}
		return nil, &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: f.Name},
			Spec: migv1.MigClusterSpec{IsHostCluster: true, ExposedRegistryPath: f.RegistryPath}}, nil
	}
	if err := clustercache.ValidateURL(f.URL); err != nil {
		return nil, nil, fmt.Errorf("URL: %w", err)
	}
	if f.Token == "" {
		return nil, nil, fmt.Errorf("token: a remote cluster needs a service account token")
	}
	if f.CA != "" && !strings.Contains(f.CA, "-----BEGIN CERTIFICATE-----") {
		return nil, nil, fmt.Errorf("CA bundle: not a PEM certificate")
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: SecretNamespace, GenerateName: f.Name + "-"},
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{migv1.SaTokenKey: []byte(f.Token)},
	}
	cluster := &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: f.Name},
		Spec: migv1.MigClusterSpec{URL: f.URL, Insecure: f.Insecure, ExposedRegistryPath: f.RegistryPath}}
	if f.CA != "" {
		cluster.Spec.CABundle = []byte(f.CA + "\n")
	}
	return secret, cluster, nil
}

// storageForm is the "Add replication repository" form (S3).
type storageForm struct {
	Name, Bucket, Endpoint, Region, AccessKey, SecretKey, CA string
}

func storageFormOf(v url.Values) storageForm {
	f := storageForm{}
	for field, dst := range map[string]*string{"name": &f.Name, "bucket": &f.Bucket, "endpoint": &f.Endpoint,
		"region": &f.Region, "accessKey": &f.AccessKey, "secretKey": &f.SecretKey, "ca": &f.CA} {
		*dst = strings.TrimSpace(v.Get(field))
	}
	return f
}

func (f storageForm) objects(namespace string) (*corev1.Secret, *migv1.MigStorage, error) {
	if err := checkName("name", f.Name); err != nil {
		return nil, nil, err
	}
	switch {
	case f.Bucket == "":
		return nil, nil, fmt.Errorf("bucket: required")
	case f.AccessKey == "" || f.SecretKey == "":
		return nil, nil, fmt.Errorf("keys: the access key and the secret key are required")
	}
	if f.Endpoint != "" {
		if u, err := url.Parse(f.Endpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, nil, fmt.Errorf("endpoint %q: an http(s) URL", f.Endpoint)
		}
	}
	region := f.Region
	if region == "" {
		region = "us-east-1"
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: SecretNamespace, GenerateName: f.Name + "-"},
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{"aws-access-key-id": []byte(f.AccessKey), "aws-secret-access-key": []byte(f.SecretKey)},
	}
	cfg := migv1.BackupStorageConfig{AwsBucketName: f.Bucket, AwsS3URL: f.Endpoint, AwsRegion: region,
		AwsS3ForcePathStyle: f.Endpoint != ""}
	if f.CA != "" {
		cfg.S3CustomCABundle = []byte(f.CA + "\n")
	}
	storage := &migv1.MigStorage{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: f.Name},
		Spec: migv1.MigStorageSpec{BackupStorageProvider: migv1.ProviderAWS, BackupStorageConfig: cfg}}
	return secret, storage, nil
}

// planForm is the plan wizard.
type planForm struct {
	Name, Source, Destination, Storage string
	// Namespaces are the plan's spec.namespaces: SOURCE or SOURCE:DESTINATION.
	Namespaces                      []string
	IndirectVolumes, IndirectImages bool
}

// planFormOf reads the wizard: each ticked namespace ("ns" values) with its destination name
// ("dest-NS", empty to keep the name), then the typed ones ("more": SRC[:DST], comma or
// white-space separated) for namespaces the list does not show.
func planFormOf(v url.Values) (planForm, error) {
	f := planForm{Name: strings.TrimSpace(v.Get("name")), Source: v.Get("source"), Destination: v.Get("destination"),
		Storage: v.Get("storage"), IndirectVolumes: v.Get("indirectVolumes") == "on", IndirectImages: v.Get("indirectImages") == "on"}
	seen := map[string]bool{}
	add := func(src, dst string) error {
		src, dst = strings.TrimSpace(src), strings.TrimSpace(dst)
		if errs := validation.IsDNS1123Label(src); len(errs) > 0 {
			return fmt.Errorf("namespace %q: %s", src, strings.Join(errs, "; "))
		}
		if seen[src] {
			return fmt.Errorf("namespace %s is given twice", src)
		}
		seen[src] = true
		if dst == "" || dst == src {
			f.Namespaces = append(f.Namespaces, src)
			return nil
		}
		if errs := validation.IsDNS1123Label(dst); len(errs) > 0 {
			return fmt.Errorf("destination namespace %q: %s", dst, strings.Join(errs, "; "))
		}
		f.Namespaces = append(f.Namespaces, src+":"+dst)
		return nil
	}
	for _, ns := range v["ns"] {
		if err := add(ns, v.Get("dest-"+ns)); err != nil {
			return f, err
		}
	}
	for _, item := range strings.FieldsFunc(v.Get("more"), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		src, dst, _ := strings.Cut(item, ":")
		if err := add(src, dst); err != nil {
			return f, err
		}
	}
	return f, nil
}

func (f planForm) plan(namespace string) (*migv1.MigPlan, error) {
	if err := checkName("name", f.Name); err != nil {
		return nil, err
	}
	switch {
	case f.Source == "" || f.Destination == "":
		return nil, fmt.Errorf("choose a source and a destination cluster")
	case f.Source == f.Destination:
		return nil, fmt.Errorf("the source and the destination are the same cluster (%s): a plan moves namespaces between clusters", f.Source)
	case f.Storage == "":
		return nil, fmt.Errorf("choose a replication repository")
	case len(f.Namespaces) == 0:
		return nil, fmt.Errorf("choose at least one namespace")
	}
	ref := func(name string) *corev1.ObjectReference {
		return &corev1.ObjectReference{Namespace: namespace, Name: name}
	}
	return &migv1.MigPlan{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: f.Name}, Spec: migv1.MigPlanSpec{
		Namespaces: f.Namespaces, SrcMigClusterRef: ref(f.Source), DestMigClusterRef: ref(f.Destination),
		MigStorageRef: ref(f.Storage), IndirectVolumeMigration: f.IndirectVolumes, IndirectImageMigration: f.IndirectImages,
	}}, nil
}

// applyVolumes puts the plan page's volume choices on the plan's PVs: for PV i, "action-i",
// "storageClass-i", "copyMethod-i", "rename-i" (the destination PVC name; MTC keeps it in
// pvc.name as SOURCE:DESTINATION) and "verify-i". Empty values leave a field as it is.
func applyVolumes(pvs []migv1.PV, v url.Values) error {
	for i := range pvs {
		pv := &pvs[i]
		key := func(field string) string { return v.Get(field + "-" + strconv.Itoa(i)) }
		if v.Get("pv-"+strconv.Itoa(i)) != pv.Name {
			return fmt.Errorf("the plan's volumes changed while you edited them: reload the page")
		}
		if a := key("action"); a != "" {
			if !contains(pv.Supported.Actions, a) && a != migv1.PvSkipAction {
				return fmt.Errorf("volume %s: action %s is not one of %v", pvcName(*pv), a, pv.Supported.Actions)
			}
			pv.Selection.Action = a
		}
		if m := key("copyMethod"); m != "" {
			switch m {
			case migv1.PvFilesystemCopyMethod, migv1.PvBlockCopyMethod, migv1.PvSnapshotCopyMethod:
			default:
				return fmt.Errorf("volume %s: copy method %s is not filesystem, block or snapshot", pvcName(*pv), m)
			}
			pv.Selection.CopyMethod = m
		}
		pv.Selection.StorageClass = strings.TrimSpace(key("storageClass"))
		pv.Selection.Verify = key("verify") == "on"
		source, _, _ := strings.Cut(pv.PVC.Name, ":")
		rename := strings.TrimSpace(key("rename"))
		if rename == "" || rename == source {
			pv.PVC.Name = source
		} else {
			if errs := validation.IsDNS1123Subdomain(rename); len(errs) > 0 {
				return fmt.Errorf("volume %s: new name %q: %s", pvcName(*pv), rename, strings.Join(errs, "; "))
			}
			pv.PVC.Name = source + ":" + rename
		}
	}
	return nil
}

// pvcName is NAMESPACE/SOURCE of a plan's PV.
func pvcName(pv migv1.PV) string {
	source, _, _ := strings.Cut(pv.PVC.Name, ":")
	return pv.PVC.Namespace + "/" + source
}

// pvcRename is the destination name of a renamed PVC, else "".
func pvcRename(pv migv1.PV) string {
	_, dest, _ := strings.Cut(pv.PVC.Name, ":")
	return dest
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// hookForm adds a hook to a plan: a MigHook and the plan's reference to it.
type hookForm struct {
	Name, Image, Playbook, Phase, Target, ExecutionNamespace, ServiceAccount string
	Deadline                                                                 int64
}

func hookFormOf(v url.Values) (hookForm, error) {
	f := hookForm{Name: strings.TrimSpace(v.Get("hookName")), Image: strings.TrimSpace(v.Get("image")),
		Playbook: v.Get("playbook"), Phase: v.Get("phase"), Target: v.Get("target"),
		ExecutionNamespace: strings.TrimSpace(v.Get("executionNamespace")), ServiceAccount: strings.TrimSpace(v.Get("serviceAccount"))}
	if d := strings.TrimSpace(v.Get("deadline")); d != "" {
		n, err := strconv.ParseInt(d, 10, 64)
		if err != nil || n < 0 {
			return f, fmt.Errorf("deadline %q: seconds, a whole number", d)
		}
		f.Deadline = n
	}
	return f, nil
}

// hookPhases are MigPlan hook phases in the order a migration runs them.
var hookPhases = []string{migv1.HookPhasePreBackup, migv1.HookPhasePostBackup, migv1.HookPhasePreRestore, migv1.HookPhasePostRestore}

func (f hookForm) objects(namespace string) (*migv1.MigHook, migv1.MigPlanHook, error) {
	if err := checkName("hook name", f.Name); err != nil {
		return nil, migv1.MigPlanHook{}, err
	}
	switch {
	case f.Image == "":
		return nil, migv1.MigPlanHook{}, fmt.Errorf("hook image: required")
	case !contains(hookPhases, f.Phase):
		return nil, migv1.MigPlanHook{}, fmt.Errorf("hook phase %q: one of %v", f.Phase, hookPhases)
	case f.Target != "source" && f.Target != "destination":
		return nil, migv1.MigPlanHook{}, fmt.Errorf("hook cluster %q: source or destination", f.Target)
	case f.ExecutionNamespace == "" || f.ServiceAccount == "":
		return nil, migv1.MigPlanHook{}, fmt.Errorf("hook: the namespace it runs in and its service account are required")
	}
	hook := &migv1.MigHook{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: f.Name}, Spec: migv1.MigHookSpec{
		Custom: f.Playbook == "", Image: f.Image, TargetCluster: f.Target, ActiveDeadlineSeconds: f.Deadline}}
	if f.Playbook != "" {
		hook.Spec.Playbook = encodePlaybook(f.Playbook)
	}
	ref := migv1.MigPlanHook{Reference: &corev1.ObjectReference{Namespace: namespace, Name: f.Name}, Phase: f.Phase,
		ExecutionNamespace: f.ExecutionNamespace, ServiceAccount: f.ServiceAccount}
	return hook, ref, nil
}

// migrationSpec is the MigMigration a plan page's button starts.
func migrationSpec(kind string, quiesce bool) (migv1.MigMigrationSpec, error) {
	switch kind {
	case "stage":
		return migv1.MigMigrationSpec{Stage: true}, nil
	case "cutover":
		return migv1.MigMigrationSpec{QuiescePods: quiesce}, nil
	case "state":
		// A plan that renames claims moves them this way (MTC refuses stages and cutovers of it).
		return migv1.MigMigrationSpec{MigrateState: true, QuiescePods: quiesce}, nil
	case "rollback":
		return migv1.MigMigrationSpec{Rollback: true}, nil
	}
	return migv1.MigMigrationSpec{}, fmt.Errorf("unknown migration %q: stage, cutover, state or rollback", kind)
}

// encodePlaybook is the playbook as MigHook keeps it: base64.
func encodePlaybook(playbook string) string {
	return base64.StdEncoding.EncodeToString([]byte(playbook))
}
