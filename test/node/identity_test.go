package node

import (
	"os"
	"path/filepath"
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

func TestWithHome(t *testing.T) {
	passwd := filepath.Join(t.TempDir(), "passwd")
	if err := os.WriteFile(passwd, []byte("root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532::/home/nonroot:/sbin/nologin\nnohome:x:7:7::::\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		uid  uint32
		want string
	}{
		{"root", 0, "/root"},
		{"a user with a home", 65532, "/home/nonroot"},
		{"a user without a home", 7, "/"},
		{"a user passwd does not know", 1000, "/"},
	}
	for _, c := range cases {
		if got := passwdHome(passwd, c.uid); got != c.want {
			t.Errorf("%s: home %q, want %q", c.name, got, c.want)
		}
	}
	if got := passwdHome(filepath.Join(t.TempDir(), "none"), 0); got != "/" {
		t.Errorf("without a passwd file: home %q, want /", got)
	}
	if env := withHome([]string{"PATH=/bin", "HOME=/data"}, nil); len(env) != 2 || env[1] != "HOME=/data" {
		t.Errorf("withHome overrode the container's own HOME: %v", env)
	}
}
