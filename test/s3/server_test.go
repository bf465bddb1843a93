package s3

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

func TestServerStoresObjectsAndStops(t *testing.T) {
	ctx := context.Background()
	srv, err := Start(Options{})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer func() { _ = srv.Stop() }()
	if !strings.HasPrefix(srv.Endpoint, "http://127.0.0.1:") {
		t.Errorf("Endpoint = %q, want a loopback http URL", srv.Endpoint)
	}
	if err := srv.CreateBucket(ctx, "backups"); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	_, err = srv.Client().PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("backups"), Key: aws.String("a/b"), Body: strings.NewReader("x")})
	if err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	keys, err := srv.Objects(ctx, "backups")
	if err != nil || len(keys) != 1 || keys[0] != "a/b" {
		t.Fatalf("Objects = %v, %v; want [a/b]", keys, err)
	}

	// A client with a wrong secret must be refused: the server really checks signatures.
	wrong := &Server{Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: "not-the-secret", Region: srv.Region}
	_, err = wrong.Client().ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String("backups")})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "SignatureDoesNotMatch" {
		t.Fatalf("wrong secret: err = %v, want SignatureDoesNotMatch", err)
	}

	if err := srv.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if _, err := srv.Objects(ctx, "backups"); err == nil {
		t.Fatal("the server still answers after Stop")
	}
}

func TestServerWithTLS(t *testing.T) {
	srv, err := Start(Options{TLS: true, Region: "minio"})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer func() { _ = srv.Stop() }()
	if !strings.HasPrefix(srv.Endpoint, "https://127.0.0.1:") || len(srv.CABundle) == 0 {
		t.Fatalf("Endpoint = %q, CABundle %d bytes; want https and a CA", srv.Endpoint, len(srv.CABundle))
	}
	if err := srv.CreateBucket(context.Background(), "secure"); err != nil {
		t.Fatalf("CreateBucket over TLS in region minio: %v", err)
	}
}

// TestServerInterruptedAndResumed: an outage refuses clients; after Resume the same endpoint
// serves the same objects.
func TestServerInterruptedAndResumed(t *testing.T) {
	ctx := context.Background()
	srv, err := Start(Options{})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer func() { _ = srv.Stop() }()
	if err := srv.CreateBucket(ctx, "backups"); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	if err := srv.Interrupt(); err != nil {
		t.Fatalf("Interrupt: %v", err)
	}
	if _, err := srv.Objects(ctx, "backups"); err == nil {
		t.Fatal("the server still answers while interrupted")
	}
	if err := srv.Resume(); err != nil {
		t.Fatalf("Resume: %v", err)
	}
	if _, err := srv.Objects(ctx, "backups"); err != nil {
		t.Fatalf("the bucket is gone after Resume: %v", err)
	}
}
