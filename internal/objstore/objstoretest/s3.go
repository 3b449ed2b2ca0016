package objstoretest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/internal/objstore"
	"github.com/cortexlayer/cortexctl/internal/testenv"
)

const (
	// EnvEndpoint names the environment variable that points the tests at
	// a running S3-compatible server.
	EnvEndpoint = "CORTEXCTL_TEST_S3_ENDPOINT"
	// DefaultEndpoint is where Endpoint looks when EnvEndpoint is unset:
	// where `make test` starts versitygw.
	DefaultEndpoint = "http://127.0.0.1:7070"
	// AccessKey and SecretKey are the test server's root credentials
	// (versitygw's ROOT_ACCESS_KEY and ROOT_SECRET_KEY in scripts/test.sh).
	AccessKey = "cortexctl-test"
	SecretKey = "cortexctl-test-secret"
	// Region is the region the tests use.
	Region = "us-east-1"
	// Service is the S3 server's name in testenv.EnvSkip
	// (CORTEXCTL_TEST_SKIP=s3).
	Service = "s3"
)

// Endpoint returns the URL of the S3 server the tests use: $EnvEndpoint if
// set, else DefaultEndpoint. It checks that something accepts connections
// there; if not, the test fails with how to start it (`make test` does), or
// is skipped if CORTEXCTL_TEST_SKIP lists s3 (see testenv.Need).
func Endpoint(t testing.TB) string {
	t.Helper()
	return testenv.URL(t, Service, EnvEndpoint, DefaultEndpoint, fmt.Sprintf("set %s to where an S3 server with access key %s "+
		"and secret %s runs, or start `ROOT_ACCESS_KEY=%s ROOT_SECRET_KEY=%s versitygw --port 127.0.0.1:7070 posix DIR` "+
		"yourself; `make tools` installs the pinned versitygw", EnvEndpoint, AccessKey, SecretKey, AccessKey, SecretKey))
}

// SetCredentials points the AWS default credential chain of this test at
// the test server's credentials, and away from anything on the machine
// (the developer's profile, an instance role): no test reaches AWS. It uses
// t.Setenv, so the test must not be parallel.
func SetCredentials(t testing.TB) {
	t.Helper()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           AccessKey,
		"AWS_SECRET_ACCESS_KEY":       SecretKey,
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		t.Setenv(k, v)
	}
	// Unset, not empty: the aws CLI reads AWS_PROFILE="" as a profile.
	for _, k := range []string{"AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
		"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		t.Setenv(k, "") // restores the old value when t ends
		_ = os.Unsetenv(k)
	}
}

// Options returns the objstore options for the S3 server at endpoint, with
// the smallest part size and two parts in flight.
func Options(endpoint string) objstore.Options {
	return objstore.Options{Endpoint: endpoint, Region: Region, PathStyle: true, Concurrency: 2}
}

// Client returns an SDK client for the S3 server at endpoint with the test
// credentials, for what a test checks or prepares behind the store's back.
func Client(endpoint string) *s3.Client {
	return s3.New(s3.Options{
		Region:                     Region,
		BaseEndpoint:               aws.String(endpoint),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// Bucket is a bucket made for one test on the server at Endpoint.
type Bucket struct {
	Name     string
	Endpoint string
	Client   *s3.Client
}

// URL returns the store URL of prefix in the bucket.
func (b Bucket) URL(prefix string) string { return "s3://" + b.Name + "/" + prefix }

// NewBucket creates a bucket with a fresh name on the server at endpoint
// and removes it, with whatever is left in it, when t ends.
func NewBucket(t testing.TB, endpoint string) Bucket {
	t.Helper()
	b := Bucket{Name: "cortexctl-test-" + strings.ToLower(rand.Text()[:12]), Endpoint: endpoint, Client: Client(endpoint)}
	_, err := b.Client.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(b.Name)})
	require.NoError(t, err, "create bucket %s at %s", b.Name, endpoint)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := b.Empty(ctx); err != nil {
			t.Errorf("empty bucket %s: %v", b.Name, err)
			return
		}
		if _, err := b.Client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(b.Name)}); err != nil {
			t.Errorf("delete bucket %s: %v", b.Name, err)
		}
	})
	return b
}

// Empty deletes every object in the bucket and aborts its unfinished
// multipart uploads.
func (b Bucket) Empty(ctx context.Context) error {
	uploads, err := b.Uploads(ctx)
	if err != nil {
		return err
	}
	for _, u := range uploads {
		_, err := b.Client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
			Bucket: aws.String(b.Name), Key: aws.String(u.Key), UploadId: aws.String(u.ID),
		})
		if err != nil {
			return err
		}
	}
	pages := s3.NewListObjectsV2Paginator(b.Client, &s3.ListObjectsV2Input{Bucket: aws.String(b.Name)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, o := range page.Contents {
			if _, err := b.Client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.Name), Key: o.Key}); err != nil {
				return err
			}
		}
	}
	return nil
}

// Upload is an unfinished multipart upload.
type Upload struct{ Key, ID string }

// Uploads lists the bucket's unfinished multipart uploads: what a failed
// Put would leave behind (invisible to List and Get, but stored and paid
// for) if it did not abort.
func (b Bucket) Uploads(ctx context.Context) ([]Upload, error) {
	out, err := b.Client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(b.Name)})
	if err != nil {
		return nil, err
	}
	uploads := []Upload{}
	for _, u := range out.Uploads {
		uploads = append(uploads, Upload{Key: aws.ToString(u.Key), ID: aws.ToString(u.UploadId)})
	}
	return uploads, nil
}

// S3 returns a store at a fresh bucket on the test server (see Endpoint)
// with the test credentials set (see SetCredentials), and the bucket for
// checks behind the store's back.
func S3(t *testing.T) (objstore.Store, Bucket) {
	t.Helper()
	endpoint := Endpoint(t)
	SetCredentials(t)
	b := NewBucket(t, endpoint)
	s, err := objstore.Open(t.Context(), b.URL("backups"), Options(endpoint))
	require.NoError(t, err)
	return s, b
}

// File returns a file:// store in a new temporary directory.
func File(t testing.TB) objstore.Store {
	t.Helper()
	s, err := objstore.Open(t.Context(), "file://"+filepath.ToSlash(t.TempDir()), objstore.Options{})
	require.NoError(t, err)
	return s
}

// ErrNoVersitygw says that the versitygw binary was not found.
var ErrNoVersitygw = errors.New("versitygw not found in PATH nor in $(go env GOPATH)/bin: `make tools` installs the pinned one")
