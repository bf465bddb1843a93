package objectstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

const (
	// DefaultRegion is the S3 region when awsRegion is empty (MTC's and Velero's default).
	DefaultRegion = "us-east-1"
	// ProbePrefix is where the live test writes its object, apart from Velero's "velero/".
	ProbePrefix = "ferry-probe/"
	// DefaultRequestTimeout bounds each request of the live test.
	DefaultRequestTimeout = 15 * time.Second
	// probeAttempts is how often the SDK tries a request. One retry absorbs a dropped
	// connection; more would only delay the verdict, and the controller tests again soon.
	probeAttempts = 2
)

// s3Endpoint describes where and how the live test reaches an S3 store.
type s3Endpoint struct {
	// url is awsS3Url or awsPublicUrl; empty means AWS itself.
	url       string
	region    string
	pathStyle bool
	bucket    string
	kmsKeyID  string
}

func s3EndpointFor(cfg *migv1.BackupStorageConfig) s3Endpoint {
	e := s3Endpoint{url: cfg.AwsS3URL, region: cfg.AwsRegion, bucket: cfg.AwsBucketName, kmsKeyID: cfg.AwsKmsKeyID}
	if e.url == "" {
		e.url = cfg.AwsPublicURL
	}
	if e.region == "" {
		e.region = DefaultRegion
	}
	// S3-compatible stores rarely resolve bucket host names, so a custom endpoint always
	// gets path-style addressing, as in MTC; awsS3ForcePathStyle asks for it on AWS too.
	e.pathStyle = e.url != "" || cfg.AwsS3ForcePathStyle
	return e
}

// display names the endpoint in messages.
func (e s3Endpoint) display() string {
	if e.url != "" {
		return e.url
	}
	return fmt.Sprintf("s3.%s.amazonaws.com", e.region)
}

// testS3 writes a small object under ProbePrefix, reads it back, compares it and deletes it.
//
// Signature versions: aws-sdk-go-v2 signs only with AWS Signature Version 4, which is what ""
// and "4" mean. "1" is Velero's name for the legacy HMAC-SHA1 S3 signature (which AWS calls
// Signature Version 2), still needed by some old S3-compatible stores; the SDK cannot produce
// it, so the test signs with version 4 and says so when the store rejects the signature.
func testS3(ctx context.Context, cfg *migv1.BackupStorageConfig, data map[string][]byte, timeout time.Duration,
	proxy func(*http.Request) (*url.URL, error)) error {
	creds, err := AWSCredentialsFrom(data)
	if err != nil {
		return &TestError{Kind: FailureInvalidSettings, Message: err.Error(), Err: err}
	}
	e := s3EndpointFor(cfg)
	httpClient, err := s3HTTPClient(cfg.S3CustomCABundle, cfg.Insecure, proxy)
	if err != nil {
		return &TestError{Kind: FailureInvalidSettings, Message: err.Error(), Err: err}
	}
	client := s3.New(s3.Options{
		Region:           e.region,
		Credentials:      credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, ""),
		UsePathStyle:     e.pathStyle,
		HTTPClient:       httpClient,
		RetryMaxAttempts: probeAttempts,
		// Since 2025 the SDK adds CRC checksums to every upload by default; many S3-compatible
		// stores reject them, and Velero's own uploads would not send them.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}, func(o *s3.Options) {
		if e.url != "" {
			o.BaseEndpoint = aws.String(e.url)
		}
	})
	// Each test has its own transport (its own TLS settings): close its connections after.
	defer httpClient.CloseIdleConnections()
	p := &probe{client: client, endpoint: e, timeout: timeout, key: ProbePrefix + randomName(), sigV1: cfg.AwsSignatureVersion == "1"}
	return withProxyNote(redact(p.run(ctx), creds), e, proxy)
}

// probe is one live test of a bucket.
type probe struct {
	client   *s3.Client
	endpoint s3Endpoint
	timeout  time.Duration
	key      string
	sigV1    bool
}

func (p *probe) run(ctx context.Context) error {
	body := []byte("Ferry checks that this bucket can be written, read and cleaned: " + p.key + "\n")
	if err := p.put(ctx, body); err != nil {
		return err
	}
	readErr := p.get(ctx, body)
	// Delete even when the read failed, so that a failing store is not littered with probes.
	deleteErr := p.delete(ctx)
	if readErr != nil {
		return readErr
	}
	return deleteErr
}

func (p *probe) put(ctx context.Context, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	in := &s3.PutObjectInput{
		Bucket:        aws.String(p.endpoint.bucket),
		Key:           aws.String(p.key),
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
	}
	if p.endpoint.kmsKeyID != "" {
		in.ServerSideEncryption = types.ServerSideEncryptionAwsKms
		in.SSEKMSKeyId = aws.String(p.endpoint.kmsKeyID)
	}
	if _, err := p.client.PutObject(ctx, in); err != nil {
		return p.classify(ctx, "write", err)
	}
	return nil
}

func (p *probe) get(ctx context.Context, want []byte) error {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	out, err := p.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(p.endpoint.bucket), Key: aws.String(p.key)})
	if err != nil {
		return p.classify(ctx, "read back", err)
	}
	defer func() { _ = out.Body.Close() }()
	got, err := io.ReadAll(io.LimitReader(out.Body, int64(len(want))+1))
	if err != nil {
		return p.classify(ctx, "read back", err)
	}
	if !bytes.Equal(got, want) {
		return &TestError{Kind: FailureDataMismatch, Message: fmt.Sprintf(
			"the object read back from bucket %s at %s differs from the one written", p.endpoint.bucket, p.endpoint.display())}
	}
	return nil
}

func (p *probe) delete(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	if _, err := p.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(p.endpoint.bucket), Key: aws.String(p.key)}); err != nil {
		return p.classify(ctx, "delete", err)
	}
	return nil
}

// s3HTTPClient trusts the system roots plus caBundle, or skips verification when insecure,
// and connects through proxy, or the proxy from the environment (as Velero does) when nil.
func s3HTTPClient(caBundle []byte, insecure bool, proxy func(*http.Request) (*url.URL, error)) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if proxy != nil {
		tr.Proxy = proxy
	}
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	switch {
	case insecure:
		tr.TLSClientConfig.InsecureSkipVerify = true //nolint:gosec // the user asked for it with spec insecure.
	case len(caBundle) > 0:
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(caBundle) {
			return nil, errors.New("backupStorageConfig.s3CustomCABundle holds no PEM certificate")
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	return &http.Client{Transport: tr}, nil
}

func randomName() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms.
	return hex.EncodeToString(b)
}

// redact removes the credentials from a message, should a store ever echo them back.
func redact(err error, creds AWSCredentials) error {
	var te *TestError
	if !errors.As(err, &te) {
		return err
	}
	for _, s := range []string{creds.SecretAccessKey, creds.AccessKeyID} {
		// Shorter strings cannot be recognised in a message and would only garble it.
		if len(s) >= 4 {
			te.Message = strings.ReplaceAll(te.Message, s, "***")
		}
	}
	return te
}
