package migstorage_test

import (
	"fmt"
	"net"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/objectstore"
)

var seq int

func uniqueName(prefix string) string {
	seq++
	return fmt.Sprintf("%s-%d", prefix, seq)
}

// credsSecret creates a Secret in the operator's namespace with the given data.
func credsSecret(data map[string][]byte) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: opNamespace, Name: uniqueName("creds")}, Data: data}
	Expect(cp.Client.Create(ctx, s)).To(Succeed())
	return s
}

func s3Keys(access, secret string) map[string][]byte {
	return map[string][]byte{objectstore.AWSAccessKeyIDKey: []byte(access), objectstore.AWSSecretAccessKeyKey: []byte(secret)}
}

// storage creates a MigStorage for the test S3 server's bucket with credentials from secret.
func storage(secretName string, mutate ...func(*migv1.MigStorageSpec)) *migv1.MigStorage {
	st := &migv1.MigStorage{
		ObjectMeta: metav1.ObjectMeta{Namespace: opNamespace, Name: uniqueName("storage")},
		Spec: migv1.MigStorageSpec{BackupStorageProvider: "aws", BackupStorageConfig: migv1.BackupStorageConfig{
			AwsBucketName: bucket, AwsS3URL: store.Endpoint, AwsRegion: store.Region,
			CredsSecretRef: &corev1.ObjectReference{Namespace: opNamespace, Name: secretName},
		}},
	}
	for _, m := range mutate {
		m(&st.Spec)
	}
	Expect(cp.Client.Create(ctx, st)).To(Succeed())
	return st
}

func get(st *migv1.MigStorage) *migv1.MigStorage {
	got := &migv1.MigStorage{}
	Expect(cp.Client.Get(ctx, client.ObjectKeyFromObject(st), got)).To(Succeed())
	return got
}

// condition returns a function that reads the storage's condition of the given type.
func condition(st *migv1.MigStorage, conditionType string) func() *migv1.Condition {
	return func() *migv1.Condition {
		return conditions.Find(get(st).Status.Conditions, conditionType)
	}
}

func beCritical(reason string, message ...string) OmegaMatcher {
	m := []OmegaMatcher{Not(BeNil()), HaveField("Status", migv1.True), HaveField("Category", migv1.CategoryCritical), HaveField("Reason", reason)}
	for _, s := range message {
		m = append(m, HaveField("Message", ContainSubstring(s)))
	}
	return And(m...)
}

var beReady = And(Not(BeNil()), HaveField("Status", migv1.True), HaveField("Message", "The storage is ready."))

var _ = Describe("MigStorage", func() {
	It("makes a storage with working credentials Ready and leaves nothing in the bucket", func() {
		st := storage(credsSecret(s3Keys(store.AccessKey, store.SecretKey)).Name)
		Eventually(condition(st, migv1.Ready)).Should(beReady)
		Expect(get(st).Status.Conditions).To(HaveLen(1))
		Expect(store.Objects(ctx, bucket)).To(BeEmpty())
	})

	It("reports wrong credentials, and becomes Ready without a restart once the Secret is fixed", func() {
		secret := credsSecret(s3Keys(store.AccessKey, "wrong-secret-for-test"))
		st := storage(secret.Name)
		Eventually(condition(st, migv1.BackupStorageProviderTestFailed)).Should(beCritical(migv1.TestFailed,
			"access denied: check aws-access-key-id/aws-secret-access-key"))
		Expect(condition(st, migv1.Ready)()).To(BeNil())

		secret.Data = s3Keys(store.AccessKey, store.SecretKey)
		Expect(cp.Client.Update(ctx, secret)).To(Succeed())
		// Well within the 15s recheck: the Secret watch, not the timer, triggers the test.
		Eventually(condition(st, migv1.Ready), 8*time.Second).Should(beReady)
		Expect(condition(st, migv1.BackupStorageProviderTestFailed)()).To(BeNil())
	})

	It("reports a bucket that does not exist", func() {
		st := storage(credsSecret(s3Keys(store.AccessKey, store.SecretKey)).Name, func(s *migv1.MigStorageSpec) {
			s.BackupStorageConfig.AwsBucketName = "no-such-bucket"
		})
		Eventually(condition(st, migv1.BackupStorageProviderTestFailed)).Should(beCritical(migv1.TestFailed,
			"bucket no-such-bucket does not exist"))
	})

	It("reports an unreachable endpoint within seconds", func() {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		closed := "http://" + l.Addr().String()
		Expect(l.Close()).To(Succeed())
		st := storage(credsSecret(s3Keys(store.AccessKey, store.SecretKey)).Name, func(s *migv1.MigStorageSpec) {
			s.BackupStorageConfig.AwsS3URL = closed
		})
		Eventually(condition(st, migv1.BackupStorageProviderTestFailed), 8*time.Second).Should(beCritical(migv1.TestFailed,
			"cannot reach "+closed, "connection refused"))
	})

	It("reports a missing Secret, and becomes Ready once it is created", func() {
		name := uniqueName("later")
		st := storage(name)
		Eventually(condition(st, migv1.InvalidBackupStorageCredsSecretRef)).Should(beCritical(migv1.NotFound, opNamespace+"/"+name))

		Expect(cp.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: opNamespace, Name: name},
			Data: s3Keys(store.AccessKey, store.SecretKey)})).To(Succeed())
		Eventually(condition(st, migv1.Ready), 8*time.Second).Should(beReady)
	})

	It("reports an unset Secret reference and Secrets without the S3 keys", func() {
		unset := storage("", func(s *migv1.MigStorageSpec) { s.BackupStorageConfig.CredsSecretRef = nil })
		Eventually(condition(unset, migv1.InvalidBackupStorageCredsSecretRef)).Should(beCritical(migv1.NotSet))

		noKeys := storage(credsSecret(map[string][]byte{"access": []byte("x")}).Name)
		Eventually(condition(noKeys, migv1.InvalidBackupStorageSettings)).Should(beCritical(migv1.NotSupported,
			objectstore.AWSAccessKeyIDKey, objectstore.AWSSecretAccessKeyKey))
	})

	It("reports a missing or unknown provider", func() {
		secret := credsSecret(s3Keys(store.AccessKey, store.SecretKey)).Name
		Eventually(condition(storage(secret, func(s *migv1.MigStorageSpec) { s.BackupStorageProvider = "" }), migv1.InvalidBackupStorageProvider)).
			Should(beCritical(migv1.NotSet, "(aws|gcp|azure)"))
		Eventually(condition(storage(secret, func(s *migv1.MigStorageSpec) { s.BackupStorageProvider = "minio" }), migv1.InvalidBackupStorageProvider)).
			Should(beCritical(migv1.NotSupported, `"minio"`))
	})

	It("validates the volume snapshot provider only when one is set", func() {
		secret := credsSecret(s3Keys(store.AccessKey, store.SecretKey)).Name
		noRef := storage(secret, func(s *migv1.MigStorageSpec) { s.VolumeSnapshotProvider = "aws" })
		Eventually(condition(noRef, migv1.InvalidVolumeSnapshotCredsSecretRef)).Should(beCritical(migv1.NotSet))

		badTimeout := storage(secret, func(s *migv1.MigStorageSpec) {
			s.VolumeSnapshotProvider = "aws"
			s.VolumeSnapshotConfig = migv1.VolumeSnapshotConfig{
				CredsSecretRef:          &corev1.ObjectReference{Namespace: opNamespace, Name: secret},
				SnapshotCreationTimeout: "ten minutes",
			}
		})
		Eventually(condition(badTimeout, migv1.InvalidVolumeSnapshotSettings)).Should(beCritical(migv1.NotSupported, "snapshotCreationTimeout"))

		unknown := storage(secret, func(s *migv1.MigStorageSpec) { s.VolumeSnapshotProvider = "ibm" })
		Eventually(condition(unknown, migv1.InvalidVolumeSnapshotProvider)).Should(beCritical(migv1.NotSupported))
	})

	It("makes a valid GCP storage Ready and says the bucket was not tested", func() {
		secret := credsSecret(map[string][]byte{objectstore.GCPCredentialsKey: []byte(`{"type":"service_account"}`)})
		st := storage(secret.Name, func(s *migv1.MigStorageSpec) {
			s.BackupStorageProvider = "gcp"
			s.BackupStorageConfig = migv1.BackupStorageConfig{GcpBucket: "g",
				CredsSecretRef: &corev1.ObjectReference{Namespace: opNamespace, Name: secret.Name}}
		})
		Eventually(condition(st, migv1.Ready)).Should(beReady)
		Expect(condition(st, "BackupStorageProviderTestSkipped")()).To(And(Not(BeNil()),
			HaveField("Category", migv1.CategoryAdvisory), HaveField("Message", ContainSubstring("not tested"))))
	})

	It("resets spec.refresh after revalidating", func() {
		st := storage(credsSecret(s3Keys(store.AccessKey, store.SecretKey)).Name, func(s *migv1.MigStorageSpec) { s.Refresh = true })
		Eventually(func() bool { return get(st).Spec.Refresh }).Should(BeFalse())
		Eventually(condition(st, migv1.Ready)).Should(beReady)
	})

	It("never puts credentials into conditions or events", func() {
		const wrong = "a-wrong-secret-that-must-not-leak"
		st := storage(credsSecret(s3Keys(store.AccessKey, wrong)).Name)
		Eventually(condition(st, migv1.BackupStorageProviderTestFailed)).ShouldNot(BeNil())
		for _, c := range get(st).Status.Conditions {
			Expect(c.Message).NotTo(SatisfyAny(ContainSubstring(wrong), ContainSubstring(store.AccessKey)))
		}
		events := &eventsv1.EventList{}
		Eventually(func() int {
			Expect(cp.Client.List(ctx, events, client.InNamespace(opNamespace))).To(Succeed())
			n := 0
			for _, e := range events.Items {
				if e.Regarding.Name == st.Name {
					n++
					Expect(e.Note).NotTo(SatisfyAny(ContainSubstring(wrong), ContainSubstring(store.AccessKey)))
				}
			}
			return n
		}).Should(BeNumerically(">", 0), "the condition change is reported as an event")
	})
})
