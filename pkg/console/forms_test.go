package console

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

func TestClusterForm(t *testing.T) {
	const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
	for _, tc := range []struct {
		name    string
		form    url.Values
		wantErr string
	}{
		{"complete", url.Values{"name": {"source"}, "url": {"https://api.example:6443"}, "token": {" tok \n"}, "ca": {pem}, "registryPath": {"reg.example"}}, ""},
		{"no token", url.Values{"name": {"source"}, "url": {"https://api.example:6443"}}, "token"},
		{"bad URL", url.Values{"name": {"source"}, "url": {"api.example"}, "token": {"t"}}, "URL"},
		{"CA not PEM", url.Values{"name": {"source"}, "url": {"https://api.example:6443"}, "token": {"t"}, "ca": {"hello"}}, "PEM"},
		{"bad name", url.Values{"name": {"Source_1"}, "url": {"https://api.example:6443"}, "token": {"t"}}, "name"},
		{"host with a token", url.Values{"name": {"host"}, "host": {"on"}, "token": {"t"}}, "host cluster takes no"},
	} {
		secret, cluster, err := clusterFormOf(tc.form).objects("openshift-migration")
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: error %v, want one about %s", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if secret.Namespace != SecretNamespace || string(secret.Data[migv1.SaTokenKey]) != "tok" || secret.GenerateName != "source-" {
			t.Errorf("%s: secret %+v", tc.name, secret)
		}
		if cluster.Namespace != "openshift-migration" || cluster.Spec.URL != "https://api.example:6443" || cluster.Spec.ExposedRegistryPath != "reg.example" ||
			!strings.HasPrefix(string(cluster.Spec.CABundle), "-----BEGIN") || cluster.Spec.IsHostCluster {
			t.Errorf("%s: cluster %+v", tc.name, cluster.Spec)
		}
	}
}

func TestHostClusterForm(t *testing.T) {
	secret, cluster, err := clusterFormOf(url.Values{"name": {"host"}, "host": {"on"}, "registryPath": {"reg.host"}}).objects("ns")
	if err != nil || secret != nil || !cluster.Spec.IsHostCluster || cluster.Spec.URL != "" || cluster.Spec.ExposedRegistryPath != "reg.host" {
		t.Errorf("host cluster: %v %+v %v", secret, cluster, err)
	}
}

func TestStorageForm(t *testing.T) {
	secret, storage, err := storageFormOf(url.Values{"name": {"s3"}, "bucket": {"b"}, "endpoint": {"https://minio:9000"}, "accessKey": {"AK"}, "secretKey": {"SK"}}).objects("ns")
	if err != nil {
		t.Fatal(err)
	}
	cfg := storage.Spec.BackupStorageConfig
	if cfg.AwsBucketName != "b" || cfg.AwsRegion != "us-east-1" || !cfg.AwsS3ForcePathStyle || storage.Spec.BackupStorageProvider != migv1.ProviderAWS {
		t.Errorf("storage %+v", storage.Spec)
	}
	if string(secret.Data["aws-access-key-id"]) != "AK" || string(secret.Data["aws-secret-access-key"]) != "SK" {
		t.Errorf("secret %+v", secret.Data)
	}
	for _, form := range []url.Values{
		{"name": {"s3"}, "accessKey": {"AK"}, "secretKey": {"SK"}},
		{"name": {"s3"}, "bucket": {"b"}, "accessKey": {"AK"}},
		{"name": {"s3"}, "bucket": {"b"}, "accessKey": {"AK"}, "secretKey": {"SK"}, "endpoint": {"minio:9000"}},
	} {
		if _, _, err := storageFormOf(form).objects("ns"); err == nil {
			t.Errorf("form %v accepted", form)
		}
	}
}

func TestPlanForm(t *testing.T) {
	base := url.Values{"name": {"shop"}, "source": {"src"}, "destination": {"host"}, "storage": {"s3"}}
	with := func(extra url.Values) url.Values {
		v := url.Values{}
		for k, vs := range base {
			v[k] = vs
		}
		for k, vs := range extra {
			v[k] = vs
		}
		return v
	}
	for _, tc := range []struct {
		name    string
		form    url.Values
		want    []string
		wantErr string
	}{
		{"ticked, one mapped", with(url.Values{"ns": {"a", "b"}, "dest-a": {"a-new"}, "dest-b": {""}}), []string{"a:a-new", "b"}, ""},
		{"mapped to itself", with(url.Values{"ns": {"a"}, "dest-a": {"a"}}), []string{"a"}, ""},
		{"typed", with(url.Values{"more": {"x:y, z\nw"}}), []string{"x:y", "z", "w"}, ""},
		{"ticked and typed", with(url.Values{"ns": {"a"}, "more": {"b:c"}}), []string{"a", "b:c"}, ""},
		{"twice", with(url.Values{"ns": {"a"}, "more": {"a:b"}}), nil, "twice"},
		{"bad destination", with(url.Values{"ns": {"a"}, "dest-a": {"A_B"}}), nil, "destination namespace"},
		{"none", with(nil), nil, "at least one namespace"},
		{"same cluster", with(url.Values{"destination": {"src"}, "ns": {"a"}}), nil, "same cluster"},
		{"no storage", with(url.Values{"storage": {""}, "ns": {"a"}}), nil, "replication repository"},
	} {
		f, err := planFormOf(tc.form)
		var plan *migv1.MigPlan
		if err == nil {
			plan, err = f.plan("openshift-migration")
		}
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: error %v, want one about %q", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !slices.Equal(plan.Spec.Namespaces, tc.want) {
			t.Errorf("%s: namespaces %v, want %v", tc.name, plan.Spec.Namespaces, tc.want)
		}
		if plan.Spec.SrcMigClusterRef.Name != "src" || plan.Spec.DestMigClusterRef.Name != "host" || plan.Spec.MigStorageRef.Name != "s3" ||
			plan.Spec.SrcMigClusterRef.Namespace != "openshift-migration" {
			t.Errorf("%s: refs %+v", tc.name, plan.Spec)
		}
	}
}

func TestApplyVolumes(t *testing.T) {
	pvs := func() []migv1.PV {
		return []migv1.PV{
			{Name: "pv-a", PVC: migv1.PVC{Namespace: "shop", Name: "data"}, Supported: migv1.Supported{Actions: []string{"copy", "move"}}},
			{Name: "pv-b", PVC: migv1.PVC{Namespace: "shop", Name: "logs:old-logs"}, Supported: migv1.Supported{Actions: []string{"copy"}}},
		}
	}
	for _, tc := range []struct {
		name    string
		form    url.Values
		check   func(t *testing.T, pvs []migv1.PV)
		wantErr string
	}{
		{"rename, class, method, verify; clear a rename", url.Values{"pv-0": {"pv-a"}, "pv-1": {"pv-b"}, "action-0": {"copy"}, "rename-0": {"data-new"},
			"storageClass-0": {"fast"}, "copyMethod-0": {"snapshot"}, "verify-0": {"on"}, "action-1": {"skip"}, "rename-1": {""}},
			func(t *testing.T, pvs []migv1.PV) {
				if pvs[0].PVC.Name != "data:data-new" || pvs[0].Selection.StorageClass != "fast" || pvs[0].Selection.CopyMethod != "snapshot" || !pvs[0].Selection.Verify {
					t.Errorf("pv 0: %+v", pvs[0])
				}
				if pvs[1].PVC.Name != "logs" || pvs[1].Selection.Action != "skip" || pvs[1].Selection.Verify {
					t.Errorf("pv 1: %+v", pvs[1])
				}
			}, ""},
		{"renamed to its own name is no rename", url.Values{"pv-0": {"pv-a"}, "pv-1": {"pv-b"}, "rename-0": {"data"}, "rename-1": {"old-logs"}},
			func(t *testing.T, pvs []migv1.PV) {
				if pvs[0].PVC.Name != "data" || pvs[1].PVC.Name != "logs:old-logs" {
					t.Errorf("%+v", pvs)
				}
			}, ""},
		{"unsupported action", url.Values{"pv-0": {"pv-a"}, "pv-1": {"pv-b"}, "action-1": {"move"}}, nil, "not one of"},
		{"bad copy method", url.Values{"pv-0": {"pv-a"}, "pv-1": {"pv-b"}, "copyMethod-0": {"ftp"}}, nil, "copy method"},
		{"bad name", url.Values{"pv-0": {"pv-a"}, "pv-1": {"pv-b"}, "rename-0": {"Data New"}}, nil, "new name"},
		{"volumes changed meanwhile", url.Values{"pv-0": {"pv-b"}, "pv-1": {"pv-a"}}, nil, "reload"},
	} {
		got := pvs()
		err := applyVolumes(got, tc.form)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: error %v, want %q", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		tc.check(t, got)
	}
}

func TestHookForm(t *testing.T) {
	v := url.Values{"hookName": {"pre"}, "image": {"hooks.example/fail:1"}, "phase": {"PreBackup"}, "target": {"source"},
		"executionNamespace": {"hooks"}, "serviceAccount": {"runner"}, "deadline": {"60"}}
	f, err := hookFormOf(v)
	if err != nil {
		t.Fatal(err)
	}
	hook, ref, err := f.objects("ns")
	if err != nil {
		t.Fatal(err)
	}
	if !hook.Spec.Custom || hook.Spec.TargetCluster != "source" || hook.Spec.ActiveDeadlineSeconds != 60 || ref.Phase != "PreBackup" || ref.Reference.Name != "pre" {
		t.Errorf("hook %+v ref %+v", hook.Spec, ref)
	}
	v.Set("playbook", "- hosts: localhost\n")
	f, _ = hookFormOf(v)
	hook, _, _ = f.objects("ns")
	if hook.Spec.Custom || hook.Spec.Playbook != "LSBob3N0czogbG9jYWxob3N0Cg==" {
		t.Errorf("playbook hook %+v", hook.Spec)
	}
	for _, bad := range []struct{ key, value string }{{"phase", "Later"}, {"target", "both"}, {"image", ""}, {"serviceAccount", ""}} {
		w := url.Values{}
		for k, vs := range v {
			w[k] = vs
		}
		w.Set(bad.key, bad.value)
		f, _ := hookFormOf(w)
		if _, _, err := f.objects("ns"); err == nil {
			t.Errorf("%s=%q accepted", bad.key, bad.value)
		}
	}
	if _, err := hookFormOf(url.Values{"deadline": {"soon"}}); err == nil {
		t.Errorf("a deadline of soon accepted")
	}
}

func TestMigrationSpec(t *testing.T) {
	for kind, want := range map[string]migv1.MigMigrationSpec{
		"stage": {Stage: true}, "cutover": {QuiescePods: true}, "state": {MigrateState: true, QuiescePods: true}, "rollback": {Rollback: true},
	} {
		got, err := migrationSpec(kind, true)
		if err != nil || got != want {
			t.Errorf("%s: %+v %v", kind, got, err)
		}
	}
	if _, err := migrationSpec("delete", false); err == nil {
		t.Errorf("an unknown kind accepted")
	}
	// The plan page's table names each migration as its button did.
	for _, kind := range []string{"stage", "cutover", "state", "rollback"} {
		spec, _ := migrationSpec(kind, true)
		if got := migrationKind(&migv1.MigMigration{Spec: spec}); got != kind {
			t.Errorf("a %s migration is listed as %q", kind, got)
		}
	}
}

func TestSettingsPatch(t *testing.T) {
	current := []setting{{Key: "mig_pv_limit", Kind: kindNumber, Value: "100"}, {Key: "enable_dvm_pv_resizing", Kind: kindBool},
		{Key: "mig_controller_limits_memory", Kind: kindQuantity, Value: "10Gi"}, {Key: "pv_resizing_threshold", Kind: kindNumber}}
	for _, tc := range []struct {
		name, want, wantErr string
		form                url.Values
	}{
		{"nothing changed", "", "", url.Values{"mig_pv_limit": {"100"}, "enable_dvm_pv_resizing": {""}}},
		{"set, change, remove", `{"spec":{"enable_dvm_pv_resizing":true,"mig_controller_limits_memory":null,"mig_pv_limit":200}}`, "",
			url.Values{"mig_pv_limit": {"200"}, "enable_dvm_pv_resizing": {"true"}, "mig_controller_limits_memory": {""}}},
		{"fields not in the form are kept", `{"spec":{"pv_resizing_threshold":5}}`, "", url.Values{"pv_resizing_threshold": {"5"}}},
		{"not a number", "", "whole number", url.Values{"mig_pv_limit": {"lots"}}},
		{"not a bool", "", "true or false", url.Values{"enable_dvm_pv_resizing": {"yes please"}}},
	} {
		got, err := settingsPatch(current, tc.form)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: error %v", tc.name, err)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("%s: %s %v, want %s", tc.name, got, err, tc.want)
		}
	}
}
