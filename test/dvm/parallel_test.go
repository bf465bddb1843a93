package dvm_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/transfer"
)

var _ = Describe("rsync_parallel_transfers", Ordered, func() {
	const srcNS = "dvm-parallel"
	var volumes []*volume

	BeforeAll(func() {
		Expect(env.Source.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: srcNS}})).To(Succeed())
		for i := range 3 {
			v := &volume{claim: fmt.Sprintf("data-%d", i), targetNS: srcNS + "-copy", targetName: fmt.Sprintf("data-%d", i)}
			v.dir = GinkgoT().TempDir()
			Expect(os.Chmod(v.dir, 0o755)).To(Succeed())
			Expect(os.WriteFile(filepath.Join(v.dir, "data.bin"), make([]byte, 8<<20), 0o644)).To(Succeed())
			createVolume(env.Source.Client, srcNS, v, srcNS+"-"+v.claim, "1Gi")
			volumes = append(volumes, v)
		}
	})

	It("transfers no more PVCs at once than the setting allows", func() {
		// 8 MiB at 3 MiB/s: each transfer lasts about 3 s, longer than the timestamps' second.
		useMigrationController(migv1.MigrationControllerSpec{RsyncParallelTransfers: ptr.To(intstr.FromInt32(1)),
			RsyncOptBwlimit: ptr.To(intstr.FromInt32(3072))})
		// Every client pod's last state, from a watch (the DVM deletes them when it ends).
		var mu sync.Mutex
		pods := map[string]*corev1.Pod{}
		w, err := env.Source.Clientset.CoreV1().Pods(srcNS).Watch(ctx, metav1.ListOptions{
			LabelSelector: labels.Set{transfer.LabelApp: transfer.AppTransfer}.String()})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(w.Stop)
		go func() {
			for ev := range w.ResultChan() {
				if p, ok := ev.Object.(*corev1.Pod); ok {
					mu.Lock()
					pods[p.Name] = p
					mu.Unlock()
				}
			}
		}()
		dvm := newDVM("dvm-parallel", srcNS, volumes)
		dvm.Spec.RunAsRoot = nil
		Expect(env.Destination.Client.Create(ctx, dvm)).To(Succeed())
		got := waitCompleted(dvm)
		Expect(got.Status.Errors).To(BeEmpty())
		Expect(got.Status.SuccessfulPods).To(HaveLen(3))

		mu.Lock()
		defer mu.Unlock()
		type run struct{ created, finished metav1.Time }
		var runs []run
		for _, p := range pods {
			for _, st := range p.Status.ContainerStatuses {
				if st.State.Terminated != nil {
					runs = append(runs, run{p.CreationTimestamp, st.State.Terminated.FinishedAt})
				}
			}
		}
		Expect(runs).To(HaveLen(3), "one finished client pod per PVC")
		slices.SortFunc(runs, func(a, b run) int { return a.created.Compare(b.created.Time) })
		for i := 1; i < len(runs); i++ {
			Expect(runs[i].created.Time).NotTo(BeTemporally("<", runs[i-1].finished.Time),
				"client pod %d was created before client pod %d finished", i+1, i)
		}
	})
})
