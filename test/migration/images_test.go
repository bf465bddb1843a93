package migration_test

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/imagestream"
	"github.com/ferrymtc/ferry/pkg/permissions"
	"github.com/ferrymtc/ferry/test/fixtures"
	"github.com/ferrymtc/ferry/test/registry"
)

// imageApp is an application built into the source cluster's internal registry, as a
// BuildConfig would leave it: ImageStream web with tags v1 (pushed twice: a history of two
// images), latest and multi (an OCI index of two platforms), layers shared between them, and
// a Deployment running web:latest by digest through the internal registry's name, without a
// command: the process node pulls the image and runs its entrypoint.
type imageApp struct {
	namespace string
	// digests are the tags' newest digests; oldV1 is v1's first image.
	digests map[string]string
	oldV1   string
}

// buildImageApp pushes the images and creates the ImageStream and the Deployment.
func buildImageApp(namespace string) *imageApp {
	GinkgoHelper()
	src := env.SourceRegistry
	Expect(env.Source.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}})).To(Succeed())
	is := imagestream.New()
	is.SetNamespace(namespace)
	is.SetName("web")
	is.Object["spec"] = map[string]any{"lookupPolicy": map[string]any{"local": true}}
	Expect(env.Source.Client.Create(ctx, is)).To(Succeed())

	base1, err := registry.RandomLayer(3 << 20)
	Expect(err).NotTo(HaveOccurred())
	base2, err := registry.RandomLayer(2 << 20)
	Expect(err).NotTo(HaveOccurred())
	spec := func(own ...int64) registry.ImageSpec {
		return registry.ImageSpec{Shared: []v1.Layer{base1, base2}, LayerSizes: own, Entrypoint: serve}
	}
	app := &imageApp{namespace: namespace, digests: map[string]string{}}
	repo := namespace + "/web"
	app.oldV1, err = src.PushRandomImage(ctx, repo, "v1", spec(512<<10))
	Expect(err).NotTo(HaveOccurred())
	// Let the image controller record the first v1 before it moves.
	Eventually(tagDigests(env.Source.Client, namespace, "web")).Should(HaveKeyWithValue("v1", app.oldV1))
	for tag, s := range map[string]registry.ImageSpec{"v1": spec(1 << 20), "latest": spec(1<<20, 256<<10)} {
		app.digests[tag], err = src.PushRandomImage(ctx, repo, tag, s)
		Expect(err).NotTo(HaveOccurred())
	}
	multi := spec(256 << 10)
	multi.Platforms = []string{"linux/amd64", "linux/arm64"}
	app.digests["multi"], err = src.PushRandomImage(ctx, repo, "multi", multi)
	Expect(err).NotTo(HaveOccurred())
	Eventually(tagDigests(env.Source.Client, namespace, "web")).Should(Equal(app.digests))

	labels := map[string]string{"app": "web"}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "web", Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
				Containers: []corev1.Container{{Name: "web", Image: src.InternalRepository(repo) + "@" + app.digests["latest"]}},
			}},
		}}
	Expect(env.Source.Client.Create(ctx, d)).To(Succeed())
	Expect(env.Source.Client.Create(ctx, buildConfig(namespace, src.InternalRepository(repo)+":v1"))).To(Succeed())
	Eventually(runningImages(env.Source.Client, namespace)).Should(ConsistOf(registry.InternalHost + "/" + repo + "@" + app.digests["latest"]))
	return app
}

// buildConfig is the BuildConfig that would have built web: a source build on a builder
// image of the internal registry, rebuilt when web:v1 changes, pushing to web:latest.
func buildConfig(namespace, builder string) *unstructured.Unstructured {
	bc := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{
		"source":   map[string]any{"type": "Git", "git": map[string]any{"uri": "https://example.com/web.git"}},
		"strategy": map[string]any{"type": "Source", "sourceStrategy": map[string]any{"from": map[string]any{"kind": "DockerImage", "name": builder}}},
		"output":   map[string]any{"to": map[string]any{"kind": "ImageStreamTag", "name": "web:latest"}},
		"triggers": []any{map[string]any{"type": "ImageChange", "imageChange": map[string]any{
			"from": map[string]any{"kind": "ImageStreamTag", "namespace": namespace, "name": "web:v1"}}}},
	}}}
	bc.SetGroupVersionKind(imagestream.BuildConfigGVK)
	bc.SetNamespace(namespace)
	bc.SetName("web")
	return bc
}

// tagDigests reads the newest digest of each tag of an ImageStream's status.
func tagDigests(c client.Client, namespace, name string) func() (map[string]string, error) {
	return func() (map[string]string, error) {
		is := imagestream.New()
		if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, is); err != nil {
			return nil, err
		}
		st, err := imagestream.StatusOf(is)
		if err != nil {
			return nil, err
		}
		out := map[string]string{}
		for _, t := range st.Tags {
			if len(t.Items) > 0 {
				out[t.Tag] = t.Items[0].Image
			}
		}
		return out, nil
	}
}

// runningImages lists the image IDs of the running containers of the web pods: what the node
// pulled.
func runningImages(c client.Client, namespace string) func() ([]string, error) {
	return func() ([]string, error) {
		pods := &corev1.PodList{}
		if err := c.List(ctx, pods, client.InNamespace(namespace), client.MatchingLabels{"app": "web"}); err != nil {
			return nil, err
		}
		var out []string
		for _, p := range pods.Items {
			for _, cs := range p.Status.ContainerStatuses {
				if cs.State.Running != nil {
					out = append(out, cs.ImageID)
				}
			}
		}
		return out, nil
	}
}

// registryDigests reads the digest of each tag from a registry.
func registryDigests(r *registry.Registry, repo string, tags []string) map[string]string {
	GinkgoHelper()
	out := map[string]string{}
	for _, tag := range tags {
		d, err := r.Digest(ctx, repo, tag)
		Expect(err).NotTo(HaveOccurred(), "tag %s of %s", tag, repo)
		out[tag] = d
	}
	return out
}

// directImageMigration returns the DIM of a migration.
func directImageMigration(m *migv1.MigMigration) *migv1.DirectImageMigration {
	GinkgoHelper()
	dims := &migv1.DirectImageMigrationList{}
	Expect(env.Destination.Client.List(ctx, dims, client.InNamespace(ns), client.MatchingLabels{"migmigration": string(m.UID)})).To(Succeed())
	Expect(dims.Items).To(HaveLen(1), "one DirectImageMigration per migration")
	return &dims.Items[0]
}

// imageStreamMigrations returns the DISMs of a migration's DIM.
func imageStreamMigrations(m *migv1.MigMigration) []migv1.DirectImageStreamMigration {
	GinkgoHelper()
	list := &migv1.DirectImageStreamMigrationList{}
	Expect(env.Destination.Client.List(ctx, list, client.InNamespace(ns), client.MatchingLabels{"directimagemigration": string(directImageMigration(m).UID)})).To(Succeed())
	return list.Items
}

// migrateImages stages, then cuts over, a namespace whose Deployment runs an image of the
// source's internal registry, with a namespace mapping.
func migrateImages() {
	app := buildImageApp("imgapp")
	plan := readyPlan("images", []string{"imgapp:imgapp-moved"}, nil)
	tags := []string{"v1", "latest", "multi"}

	By("a stage copies every tag, and v1's older image by digest, with identical digests")
	stage := completed(migrate("images-stage", plan, migv1.MigMigrationSpec{Stage: true}), 5*time.Minute)
	Expect(hasCondition(stage, migv1.Succeeded)).To(BeTrue(), "conditions %v, errors %v\n%s", stage.Status.Conditions, stage.Status.Errors, describeDIM(stage))
	Expect(registryDigests(env.DestinationRegistry, "imgapp-moved/web", tags)).To(Equal(app.digests))
	ref, err := name.NewDigest(env.DestinationRegistry.Repository("imgapp-moved/web") + "@" + app.oldV1)
	Expect(err).NotTo(HaveOccurred())
	_, err = remote.Head(ref, env.DestinationRegistry.RemoteOptions(ctx)...)
	Expect(err).NotTo(HaveOccurred(), "v1's first image is kept by digest")
	disms := imageStreamMigrations(stage)
	Expect(disms).To(HaveLen(1))
	By("the DirectImageMigration and its DirectImageStreamMigration read as MTC's do")
	dim := directImageMigration(stage)
	Expect(dim.Status.Phase).To(Equal("Completed"))
	Expect(conditions.IsTrue(dim.Status.Conditions, migv1.Succeeded)).To(BeTrue(), "conditions %v", dim.Status.Conditions)
	Expect(dim.Status.SuccessfulISs).To(HaveLen(1))
	Expect(dim.Status.NewISs).To(BeEmpty())
	Expect(dim.Status.FailedISs).To(BeEmpty())
	item := dim.Status.SuccessfulISs[0]
	Expect([]string{item.Namespace, item.Name, item.DestNamespace, item.DirectMigration.Name}).To(Equal([]string{"imgapp", "web", "imgapp-moved", disms[0].Name}))
	Expect(disms[0].Status.Phase).To(Equal("Completed"))
	Expect(conditions.IsTrue(disms[0].Status.Conditions, migv1.Succeeded)).To(BeTrue(), "conditions %v", disms[0].Status.Conditions)
	Expect(disms[0].Spec.ImageStreamRef.Name).To(Equal("web"))
	Expect(disms[0].Spec.DestNamespace).To(Equal("imgapp-moved"))
	first := disms[0].Status.Progress
	Expect(first).NotTo(BeNil())
	Expect(first.TotalImages).To(Equal(4), "v1 twice, latest, multi")
	Expect(first.CopiedImages).To(Equal(4))
	Expect(first.CopiedBytes).To(BeNumerically(">", 5<<20), "the shared layers and each image's own")
	Expect(strings.Join(stepProgress(stage, "DirectImage"), "\n")).To(ContainSubstring("ImageStream imgapp/web"))
	Expect(tagDigests(env.Destination.Client, "imgapp-moved", "web")()).To(Equal(app.digests),
		"the destination ImageStream resolves every tag to the copied digests")

	By("the cutover copies nothing new, and the destination runs the image from the destination registry")
	final := completed(migrate("images-final", plan, migv1.MigMigrationSpec{QuiescePods: true}), 5*time.Minute)
	Expect(hasCondition(final, migv1.Succeeded)).To(BeTrue(), "conditions %v, errors %v\n%s", final.Status.Conditions, final.Status.Errors, describeDIM(final))
	disms = imageStreamMigrations(final)
	Expect(disms).To(HaveLen(1))
	second := disms[0].Status.Progress
	Expect(second).NotTo(BeNil())
	Expect(second.CopiedBytes).To(BeZero(), "everything was there already")
	Expect(second.SkippedBytes).To(BeNumerically(">", 0))
	dest := imagestream.New()
	Expect(env.Destination.Client.Get(ctx, client.ObjectKey{Namespace: "imgapp-moved", Name: "web"}, dest)).To(Succeed())
	Expect(dest.GetLabels()).To(HaveKeyWithValue("migration.openshift.io/migrated-by-migplan", string(plan.UID)),
		"the destination stream, created by the first push, is the plan's: a rollback deletes it")
	moved := registry.InternalHost + "/imgapp-moved/web@" + app.digests["latest"]
	d := &appsv1.Deployment{}
	Expect(env.Destination.Client.Get(ctx, client.ObjectKey{Namespace: "imgapp-moved", Name: "web"}, d)).To(Succeed())
	Expect(d.Spec.Template.Spec.Containers[0].Image).To(Equal(moved))
	Eventually(runningImages(env.Destination.Client, "imgapp-moved")).Should(ConsistOf(moved),
		"the destination pod runs the image that only the destination registry holds under imgapp-moved")
	bc := buildConfig("", "")
	Expect(env.Destination.Client.Get(ctx, client.ObjectKey{Namespace: "imgapp-moved", Name: "web"}, bc)).To(Succeed())
	builder, _, _ := unstructured.NestedString(bc.Object, "spec", "strategy", "sourceStrategy", "from", "name")
	Expect(builder).To(
		Equal(registry.InternalHost+"/imgapp-moved/web:v1"), "the BuildConfig builds on the builder image in the destination registry")
	triggers, _, _ := unstructured.NestedSlice(bc.Object, "spec", "triggers")
	Expect(triggers).To(ConsistOf(HaveKeyWithValue("imageChange", HaveKeyWithValue("from", HaveKeyWithValue("namespace", "imgapp-moved")))),
		"its image change trigger follows the moved stream")
	output, _, _ := unstructured.NestedString(bc.Object, "spec", "output", "to", "name")
	Expect(output).To(Equal("web:latest"), "its output stays in its own namespace")
}

// stepProgress returns the progress lines of a pipeline step.
func stepProgress(m *migv1.MigMigration, step string) []string {
	for _, s := range m.Status.Pipeline {
		if s.Name == step {
			return s.Progress
		}
	}
	return nil
}

// failImagesWithWrongRegistryCredentials checks both ends of registry credentials. A source
// token that may not pull images is refused up front: the MigCluster names the missing
// permission, and no plan can use it. A token the registry does not accept at all (the
// MigCluster's exposedRegistryPath names another cluster's registry, which has never heard of
// the token) passes every API check, so the cutover starts: it fails naming the refusal, and
// the source application runs again.
func failImagesWithWrongRegistryCredentials() {
	buildImageApp("imgdenied")
	source := &migv1.MigCluster{}
	Expect(env.Destination.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: fixtures.SourceCluster}, source)).To(Succeed())

	By("a token without image pulls is refused by the MigCluster, naming the permission")
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "ferry-test-source-without-image-pull"}}
	for _, r := range permissions.SourceRules {
		if !slices.Contains(r.Resources, "imagestreams/layers") {
			role.Rules = append(role.Rules, rbacv1.PolicyRule{APIGroups: r.Groups, Resources: r.Resources, Verbs: r.Verbs})
		}
	}
	Expect(env.Source.Client.Create(ctx, role)).To(Succeed())
	token, err := env.Source.MintToken(ctx, ns, "no-image-pull", role.Name)
	Expect(err).NotTo(HaveOccurred())
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: fixtures.SecretNamespace, Name: "no-image-pull"},
		Data: map[string][]byte{migv1.SaTokenKey: []byte(token)}}
	Expect(env.Destination.Client.Create(ctx, secret)).To(Succeed())
	noPull := &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "source-no-image-pull"}, Spec: *source.Spec.DeepCopy()}
	noPull.Spec.ServiceAccountSecretRef = &corev1.ObjectReference{Namespace: fixtures.SecretNamespace, Name: secret.Name}
	Expect(env.Destination.Client.Create(ctx, noPull)).To(Succeed())
	Eventually(func(g Gomega) {
		g.Expect(env.Destination.Client.Get(ctx, client.ObjectKeyFromObject(noPull), noPull)).To(Succeed())
		c := conditions.Find(noPull.Status.Conditions, migv1.SaTokenNotPrivileged)
		g.Expect(c).NotTo(BeNil(), "conditions %v", noPull.Status.Conditions)
		g.Expect(c.Message).To(ContainSubstring("As a source it lacks: get imagestreams.image.openshift.io/layers."))
	}).Should(Succeed())

	By("a registry that refuses the token fails the cutover, and the source application runs again")
	wrong := &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "source-wrong-registry"}, Spec: *source.Spec.DeepCopy()}
	wrong.Spec.ExposedRegistryPath = env.DestinationRegistry.Address
	wrong.Spec.CABundle = append(append(slices.Clone(env.Source.CABundle()), '\n'), env.DestinationRegistry.CAPEM...)
	Expect(env.Destination.Client.Create(ctx, wrong)).To(Succeed())
	Expect(fixtures.WaitReady(ctx, env.Destination.Client, 90*time.Second, wrong)).To(Succeed())
	plan := readyPlan("images-denied", []string{"imgdenied"}, func(p *migv1.MigPlan) {
		p.Spec.SrcMigClusterRef = fixtures.Ref(ns, wrong.Name)
	})
	m := completed(migrate("images-denied", plan, migv1.MigMigrationSpec{QuiescePods: true}), 5*time.Minute)
	Expect(hasCondition(m, migv1.Failed)).To(BeTrue(), "conditions %v\n%s", m.Status.Conditions, describeDIM(m))
	Expect(strings.Join(m.Status.Errors, "\n")).To(And(ContainSubstring("imgdenied/web"), ContainSubstring("RegistryAuthenticationFailed")),
		"the error names the stream and the refusal")
	Eventually(replicasOf(env.Source.Client, "imgdenied")).Should(BeEquivalentTo(1), "the source application is started again")
	Eventually(runningImages(env.Source.Client, "imgdenied")).Should(HaveLen(1))
	Expect(env.Destination.Client.Delete(ctx, plan)).To(Succeed())
}

// describeDIM prints a migration's DIM for a failed test's report.
func describeDIM(m *migv1.MigMigration) string {
	list := &migv1.DirectImageMigrationList{}
	if err := env.Destination.Client.List(ctx, list, client.InNamespace(ns), client.MatchingLabels{"migmigration": string(m.UID)}); err != nil {
		return err.Error()
	}
	var out []string
	for _, d := range list.Items {
		out = append(out, fmt.Sprintf("%s: phase %s errors %v conditions %v", d.Name, d.Status.Phase, d.Status.Errors, d.Status.Conditions))
	}
	return strings.Join(out, "\n")
}

// keepImageStreamsWithoutCopy cuts over a namespace with an ImageStream while the
// MigrationController says disable_image_copy: the ImageStream object arrives (moved with the
// Velero backup, as the setting's name promises) and no image migration runs.
func keepImageStreamsWithoutCopy() {
	mc := &migv1.MigrationController{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "migration-controller"},
		Spec: migv1.MigrationControllerSpec{DisableImageCopy: true}}
	Expect(env.Destination.Client.Create(ctx, mc)).To(Succeed())
	DeferCleanup(func() { Expect(env.Destination.Client.Delete(ctx, mc)).To(Succeed()) })

	app("keepis", 1)
	is := imagestream.New()
	is.SetNamespace("keepis")
	is.SetName("web")
	is.Object["spec"] = map[string]any{"tags": []any{map[string]any{
		"name": "stable", "from": map[string]any{"kind": "DockerImage", "name": "quay.io/example/web:1"}}}}
	Expect(env.Source.Client.Create(ctx, is)).To(Succeed())

	plan := readyPlan("keepis", []string{"keepis:keepis-new"}, nil)
	final := completed(migrate("keepis-final", plan, migv1.MigMigrationSpec{QuiescePods: true}), 3*time.Minute)
	Expect(final.Status.Errors).To(BeEmpty())
	Expect(hasCondition(final, migv1.Succeeded) || hasCondition(final, migv1.SucceededWithWarnings)).To(BeTrue(), "conditions %v", final.Status.Conditions)

	moved := imagestream.New()
	Expect(env.Destination.Client.Get(ctx, client.ObjectKey{Namespace: "keepis-new", Name: "web"}, moved)).To(Succeed(),
		"the ImageStream object is kept")
	tags, _, _ := unstructured.NestedSlice(moved.Object, "spec", "tags")
	Expect(tags).To(ConsistOf(HaveKeyWithValue("name", "stable")))
	var dims migv1.DirectImageMigrationList
	Expect(env.Destination.Client.List(ctx, &dims, client.InNamespace(ns), client.MatchingLabels{"migmigration": string(final.UID)})).To(Succeed())
	Expect(dims.Items).To(BeEmpty(), "no image migration runs")
}
