package node

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

// watchPods runs an informer on the pods bound to this node and hands each to its worker.
func (n *Node) watchPods(ctx context.Context) error {
	factory := informers.NewSharedInformerFactoryWithOptions(n.cs, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", n.name).String()
	}))
	inf := factory.Core().V1().Pods().Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { n.podChanged(obj) },
		UpdateFunc: func(_, obj any) { n.podChanged(obj) },
		DeleteFunc: n.podDeleted,
	}); err != nil {
		return err
	}
	factory.Start(n.ctx.Done())
	n.bg.Add(1)
	go func() { defer n.bg.Done(); <-n.ctx.Done(); factory.Shutdown() }()
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return fmt.Errorf("pod informer of node %s did not sync", n.name)
	}
	return nil
}

func (n *Node) podChanged(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stopping {
		return
	}
	if w := n.workers[pod.UID]; w != nil {
		w.update(pod)
		return
	}
	switch {
	case pod.DeletionTimestamp != nil:
		// Nothing of it runs here: finish the deletion as the kubelet would.
		n.pods.Add(1)
		go func() { defer n.pods.Done(); n.deletePod(pod) }()
	case pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed:
		// Finished before this node started: nothing to run.
	default:
		w := newPodWorker(n, pod)
		n.workers[pod.UID] = w
		n.byName[pod.Namespace+"/"+pod.Name] = w
		n.pods.Add(1)
		go func() { defer n.pods.Done(); w.run() }()
	}
}

func (n *Node) podDeleted(obj any) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	n.mu.Lock()
	w := n.workers[pod.UID]
	n.mu.Unlock()
	if w != nil {
		w.markGone()
	}
}

// forget drops a finished worker.
func (n *Node) forget(w *podWorker) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.workers, w.uid)
	if n.byName[w.key] == w {
		delete(n.byName, w.key)
	}
}

// deletePod removes a pod object whose processes are all gone, with grace period 0 and the
// pod's UID as precondition (a new pod of the same name is left alone).
func (n *Node) deletePod(pod *corev1.Pod) {
	ctx, cancel := context.WithTimeout(n.ctx, apiTimeout)
	defer cancel()
	err := n.cs.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: ptr.To[int64](0),
		Preconditions:      metav1.NewUIDPreconditions(string(pod.UID)),
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) && n.ctx.Err() == nil {
		n.logf("process node %s: delete pod %s/%s: %v", n.name, pod.Namespace, pod.Name, err)
	}
}
