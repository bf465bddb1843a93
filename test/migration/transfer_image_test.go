package migration_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/hack/images"
	"github.com/ferrymtc/ferry/test/registry"
)

// stageWithTheTransferImage stages a volume with the transfer image hack/images builds (rsync,
// stunnel and their libraries from Debian's packages), pushed to both clusters' registries and
// named by rsync_transfer_image, as an admin of a disconnected cluster would mirror it: the
// rsync client and server pods run from that image's root file system, and the copy is
// identical.
func stageWithTheTransferImage() {
	const name = "imaged"
	b, err := images.New(ctx, images.Options{Logf: GinkgoWriter.Printf})
	Expect(err).NotTo(HaveOccurred())
	img, err := b.Build(ctx, images.Transfer)
	Expect(err).NotTo(HaveOccurred())
	var digest string
	for _, r := range []*registry.Registry{env.SourceRegistry, env.DestinationRegistry} {
		digest, err = r.Push(ctx, "ferrymtc/"+images.Repository(images.Transfer), "e2e", img)
		Expect(err).NotTo(HaveOccurred())
	}
	ref := registry.InternalHost + "/ferrymtc/" + images.Repository(images.Transfer) + "@" + digest
	mc := &migv1.MigrationController{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "migration-controller"},
		Spec: migv1.MigrationControllerSpec{RsyncTransferImage: ref}}
	Expect(env.Destination.Client.Create(ctx, mc)).To(Succeed())
	DeferCleanup(func() { Expect(env.Destination.Client.Delete(ctx, mc)).To(Succeed()) })

	dir := GinkgoT().TempDir()
	for i := range 10 {
		Expect(os.WriteFile(filepath.Join(dir, fmt.Sprintf("file-%02d", i)), []byte(fmt.Sprintf("content %d\n", i)), 0o644)).To(Succeed())
	}
	Expect(os.WriteFile(filepath.Join(dir, "large"), make([]byte, 8<<20), 0o600)).To(Succeed())
	appWithRootVolume(name, dir)
	src := env.Source.Client
	mountVolume(src, name, "true")

	// The transfer pods are deleted when the copy ends: record the image each ran while it runs.
	var mu sync.Mutex
	ran := map[string]string{} // cluster/pod -> imageID of its containers using the image
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(done)
		for {
			for cluster, c := range map[string]client.Client{"source": src, "destination": env.Destination.Client} {
				pods := &corev1.PodList{}
				if c.List(ctx, pods) != nil {
					continue
				}
				for _, p := range pods.Items {
					for _, s := range p.Status.ContainerStatuses {
						if s.Image == ref && s.ImageID != "" {
							mu.Lock()
							ran[cluster+"/"+p.Name+"/"+s.Name] = s.ImageID
							mu.Unlock()
						}
					}
				}
			}
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()

	plan := readyPlan(name, []string{name + ":" + name + "-new"}, nil)
	stage := completed(migrate(name+"-stage", plan, migv1.MigMigrationSpec{Stage: true, RunAsRoot: ptr.To(true)}), 4*time.Minute)
	close(stop)
	<-done
	Expect(hasCondition(stage, migv1.Succeeded)).To(BeTrue(), "conditions: %v", stage.Status.Conditions)
	Expect(checksums(destinationDataDir(name+"-new"))).To(Equal(checksums(dir)), "the copy is identical")
	mu.Lock()
	defer mu.Unlock()
	clusters := map[string]bool{}
	for key, id := range ran {
		Expect(id).To(Equal(ref), "%s ran the pushed image", key)
		cluster, _, _ := strings.Cut(key, "/")
		clusters[cluster] = true
	}
	Expect(clusters).To(Equal(map[string]bool{"source": true, "destination": true}),
		"the rsync client (source) and server (destination) ran the image: %v", ran)
	GinkgoWriter.Printf("containers that ran %s: %v\n", ref, ran)
}
