package s3

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// requestTimeout bounds each request the harness makes to the server.
const requestTimeout = 15 * time.Second

// Client returns an S3 client for the server with its root credentials and path-style
// addressing (buckets in the path, as S3-compatible stores expect).
func (s *Server) Client() *awss3.Client {
	return awss3.New(awss3.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
		HTTPClient:   &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig(s.CABundle)}},
	})
}

// CreateBucket creates an empty bucket.
func (s *Server) CreateBucket(ctx context.Context, name string) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	in := &awss3.CreateBucketInput{Bucket: aws.String(name)}
	if s.Region != DefaultRegion {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(s.Region)}
	}
	if _, err := s.Client().CreateBucket(ctx, in); err != nil {
		return fmt.Errorf("create bucket %s on %s: %w", name, s.Endpoint, err)
	}
	return nil
}

// Objects returns the keys of the objects in bucket, so that tests can check what was left.
func (s *Server) Objects(ctx context.Context, bucket string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	var keys []string
	pages := awss3.NewListObjectsV2Paginator(s.Client(), &awss3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list objects of bucket %s on %s: %w", bucket, s.Endpoint, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys, nil
}
