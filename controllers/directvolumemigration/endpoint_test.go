package directvolumemigration

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/settings"
	"github.com/ferrymtc/ferry/pkg/transfer"
)

func node(name, ip string, ready, schedulable bool) *corev1.Node {
	status := corev1.ConditionTrue
	if !ready {
		status = corev1.ConditionFalse
	}
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{Unschedulable: !schedulable},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: status}},
			Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip}}}}
}

// TestNodePortEndpointListsSeveralNodes: a NodePort endpoint pinned to one node fails every
// remaining attempt when that node goes; the clients' stunnel tries a few Ready nodes in turn.
func TestNodePortEndpointListsSeveralNodes(t *testing.T) {
	names := transfer.NamesFor("uid-1")
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "x", Name: names.Server()},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Port: transfer.StunnelPort, NodePort: 31234}}}}
	objs := []client.Object{svc,
		node("a", "10.0.0.1", true, true), node("b", "10.0.0.2", false, true), node("c", "10.0.0.3", true, false),
		node("d", "10.0.0.4", true, true), node("e", "10.0.0.5", true, true), node("f", "10.0.0.6", true, true),
	}
	c := fake.NewClientBuilder().WithScheme(scheme.Scheme).WithObjects(objs...).Build()
	s := &Scope{DVM: dvm(nil), Destination: &Remote{Cluster: &migv1.MigCluster{}, Client: c}, Names: names,
		Settings: settings.Settings{RsyncEndpointType: migv1.RsyncEndpointNodePort}, Now: time.Now}
	ep, err := endpoint(context.Background(), s, "x")
	if err != nil || ep == nil {
		t.Fatalf("endpoint = %+v, %v", ep, err)
	}
	conf, err := transfer.ClientStunnelConf(*ep, nil)
	if err != nil {
		t.Fatal(err)
	}
	var connects []string
	for _, line := range strings.Split(conf, "\n") {
		if target, ok := strings.CutPrefix(line, "connect = "); ok {
			connects = append(connects, target)
		}
	}
	if strings.Join(connects, " ") != "10.0.0.1:31234 10.0.0.4:31234 10.0.0.5:31234" {
		t.Errorf("the clients connect to %v, want three Ready, schedulable nodes in a stable order", connects)
	}
}
