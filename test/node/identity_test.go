package node

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

// TestContainerIdentity checks who a container runs as: its security contexts first, then the
// image's USER when known, else root; and that runAsNonRoot refuses root as the kubelet does.
func TestContainerIdentity(t *testing.T) {
	nonRoot := &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true)}
	for _, tc := range []struct {
		name      string
		pod       *corev1.PodSecurityContext
		ctr       *corev1.SecurityContext
		imageUser *int64
		wantUID   uint32
		wantErr   bool
	}{
		{name: "nothing set runs as root"},
		{name: "image user", imageUser: ptr.To[int64](65532), wantUID: 65532},
		{name: "runAsNonRoot with the image's non-root user", pod: nonRoot, imageUser: ptr.To[int64](65532), wantUID: 65532},
		{name: "runAsNonRoot without any user is refused", pod: nonRoot, wantErr: true},
		{name: "runAsNonRoot with an image running as root is refused", pod: nonRoot, imageUser: ptr.To[int64](0), wantErr: true},
		{name: "pod runAsUser wins over the image", pod: &corev1.PodSecurityContext{RunAsUser: ptr.To[int64](1001)}, imageUser: ptr.To[int64](65532), wantUID: 1001},
		{name: "container runAsUser wins over the pod", pod: &corev1.PodSecurityContext{RunAsUser: ptr.To[int64](1001)},
			ctr: &corev1.SecurityContext{RunAsUser: ptr.To[int64](1002)}, wantUID: 1002},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{SecurityContext: tc.pod}}
			id, err := containerIdentity(pod, &corev1.Container{Name: "c", SecurityContext: tc.ctr}, tc.imageUser)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("want an error, got identity %+v", id)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id.UID != tc.wantUID {
				t.Fatalf("uid %d, want %d", id.UID, tc.wantUID)
			}
		})
	}
}
