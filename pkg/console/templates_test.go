package console

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/migview"
)

// TestPagesRender renders every page, whole and its live region, with typical data: a
// template error would otherwise show only when a user opens the page.
func TestPagesRender(t *testing.T) {
	pages, err := parsePages()
	if err != nil {
		t.Fatal(err)
	}
	ref := func(n string) *corev1.ObjectReference { return &corev1.ObjectReference{Name: n} }
	conds := migv1.Conditions{{Type: migv1.Ready, Status: migv1.True}, {Type: "InvalidURL", Status: migv1.True, Category: migv1.CategoryCritical, Message: "bad <url>"}}
	plan := &migv1.MigPlan{ObjectMeta: metav1.ObjectMeta{Name: "shop"}, Spec: migv1.MigPlanSpec{SrcMigClusterRef: ref("src"), DestMigClusterRef: ref("host"),
		MigStorageRef: ref("s3"), Namespaces: []string{"shop:shop-new"}, PersistentVolumes: []migv1.PV{{Name: "pv", Capacity: resource.MustParse("1Gi"),
			PVC: migv1.PVC{Namespace: "shop", Name: "data:data-new"}, Supported: migv1.Supported{Actions: []string{"copy"}, CopyMethods: []string{"filesystem"}},
			Selection: migv1.Selection{Action: "copy", CopyMethod: "filesystem"}}}}, Status: migv1.MigPlanStatus{Conditions: conds}}
	now := time.Now()
	started := metav1.NewTime(now.Add(-time.Minute))
	mig := &migv1.MigMigration{ObjectMeta: metav1.ObjectMeta{Name: "m"}, Spec: migv1.MigMigrationSpec{MigPlanRef: ref("shop")},
		Status: migv1.MigMigrationStatus{Pipeline: []*migv1.Step{{Name: "DirectVolume", Started: &started, Failed: true}},
			Conditions: migv1.Conditions{{Type: migv1.Failed, Status: migv1.True, Reason: "Boom"}}, Errors: []string{"hook said <no>"}}}
	for page, v := range map[string]view{
		"login":      {Title: "Log in", Error: "x"},
		"clusters":   {D: []row{{Name: "src", Detail: "https://x", Ready: true, Conditions: conds}}, Form: map[string]string{"name": "a"}},
		"storages":   {D: []row{{Name: "s3", Conditions: conds}}},
		"plans":      {D: []row{{Name: "shop"}}, E: wizard{Clusters: []string{"src", "host"}, Storages: []string{"s3"}, Source: "src", Host: "host", Namespaces: []string{"shop", "db"}}},
		"plan":       {D: planData{Plan: plan, Ready: true, Migrations: []migrationRow{{Name: "m"}}, Hooks: []hookRow{{Name: "h"}}}, E: map[string]any{"Phases": hookPhases}},
		"migrations": {D: []migrationRow{{Name: "m", Kind: "stage"}}},
		"migration":  {D: migrationView(mig, []migview.Volume{{PVC: "shop/data", State: migview.Running}}, nil, now)},
		"settings":   {D: settingsData{Found: true, Name: "migration-controller", Settings: settingsDoc}},
	} {
		v.User, v.CSRF, v.Title = "alice", "tok", page
		var buf bytes.Buffer
		if err := pages[page].ExecuteTemplate(&buf, "layout", v); err != nil {
			t.Errorf("%s: %v", page, err)
			continue
		}
		html := buf.String()
		if strings.Contains(html, "<url>") || strings.Contains(html, "<no>") {
			t.Errorf("%s: a condition's or an error's text is not escaped", page)
		}
		for _, missing := range unlabelled(html) {
			t.Errorf("%s: field %s has no label", page, missing)
		}
		if page != "login" {
			if _, err := (&Server{pages: pages}).renderLive(page, v); err != nil {
				t.Errorf("%s live: %v", page, err)
			}
		}
	}
}

var fieldRE = regexp.MustCompile(`<(input|select|textarea)\b[^>]*>`)
var idRE = regexp.MustCompile(`\bid="([^"]+)"`)

// unlabelled lists the form fields of html that no <label for> names and that have no
// aria-label (hidden inputs aside).
func unlabelled(html string) []string {
	var out []string
	for _, field := range fieldRE.FindAllString(html, -1) {
		if strings.Contains(field, `type="hidden"`) || strings.Contains(field, "aria-label=") {
			continue
		}
		id := idRE.FindStringSubmatch(field)
		if id == nil || !strings.Contains(html, `for="`+id[1]+`"`) {
			out = append(out, field)
		}
	}
	return out
}
