package dvm_test

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/transfer"
	"github.com/ferrymtc/ferry/test/router"
)

// The destination gets the Route API and a router (test/router: HAProxy passing TLS through
// by SNI), as on OpenShift, where Route is the default rsync endpoint.
var _ = Describe("rsync_endpoint_type: Route", Ordered, func() {
	const srcNS, destNS, domain = "dvm-route", "dvm-route-copy", "apps.destination.example"
	vol := &volume{claim: "data", targetNS: destNS, targetName: "data"}
	var r *router.Router

	BeforeAll(func() {
		var err error
		r, err = router.Start(ctx, env.Destination.Client, domain, env.SourceNode().SetHost)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { Expect(r.Stop(ctx)).To(Succeed()) })
		src := env.Source.Client
		Expect(src.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: srcNS,
			Labels: map[string]string{"pod-security.kubernetes.io/enforce": "privileged"}}})).To(Succeed())
		vol.dir = GinkgoT().TempDir()
		Expect(fill(vol.dir, 7, 4<<20)).To(Succeed())
		createVolume(src, srcNS, vol, "dvm-route-"+vol.claim, "1Gi")
	})

	It("copies through a passthrough Route that a router admitted, naming its host by SNI", func() {
		useMigrationController(migv1.MigrationControllerSpec{RsyncEndpointType: migv1.RsyncEndpointRoute})
		seen := recordTransferObjects(env.Destination.Clientset, destNS)
		clientSide := recordTransferObjects(env.Source.Clientset, srcNS)
		dvm := newDVM("dvm-route", srcNS, []*volume{vol})
		Expect(env.Destination.Client.Create(ctx, dvm)).To(Succeed())
		got := waitCompleted(dvm)
		Expect(got.Status.Errors).To(BeEmpty())
		Expect(r.Err()).NotTo(HaveOccurred())
		Expect(diff(mustSnapshot(vol.dir), mustSnapshot(destinationDir(vol)))).To(BeEmpty())

		names := transfer.NamesFor(string(got.UID))
		svc := seen.service(destNS, names.Server())
		Expect(svc).NotTo(BeNil())
		Expect(svc.Spec.Type).To(Equal(corev1.ServiceTypeClusterIP), "a Route fronts a ClusterIP Service")
		host := names.Server() + "-" + destNS + "." + domain
		cm := clientSide.configMap(srcNS, names.Client())
		Expect(cm).NotTo(BeNil())
		Expect(cm.Data).To(HaveKeyWithValue(transfer.StunnelKey(destNS),
			And(ContainSubstring("connect = "+host+":443"), ContainSubstring("sni = "+host))))
		// The router passed the client's connection to the Route's Service.
		var logs strings.Builder
		for _, pod := range r.Pods() {
			b, err := env.Destination.Clientset.CoreV1().Pods(router.Namespace).GetLogs(pod, &corev1.PodLogOptions{}).DoRaw(ctx)
			Expect(err).NotTo(HaveOccurred())
			logs.Write(b)
		}
		Expect(logs.String()).To(ContainSubstring("passthrough be_0/route_" + strings.ReplaceAll(host, ".", "_")))
	})
})
