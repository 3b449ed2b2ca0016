package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// abortTimeout bounds the AbortMultipartUpload sent after a failed or
// cancelled upload, on a context of its own (the upload's may be over).
const abortTimeout = 30 * time.Second

// defaultRegion is the region when neither Options nor the AWS
// configuration names one; S3-compatible stores accept it.
const defaultRegion = "us-east-1"

// s3Store keeps objects in bucket under prefix/.
type s3Store struct {
	client *s3.Client
	bucket string
	prefix string // ends with "/"
	// whenRequired: a custom endpoint; checksums only where required.
	whenRequired bool
	partSize     int64
	concurrency  int
	endpoint     string // for messages: "AWS S3" or the custom endpoint
}

func openS3(ctx context.Context, loc location, o Options) (Store, error) {
	s := &s3Store{
		bucket:      loc.bucket,
		prefix:      loc.prefix + "/",
		partSize:    o.PartSize,
		concurrency: o.Concurrency,
	}
	if o.Endpoint != "" {
		u, err := url.Parse(o.Endpoint)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil {
			return nil, exitcode.Errorf(exitcode.Config,
				"S3 endpoint %q: want http(s)://host[:port] without credentials, e.g. http://127.0.0.1:9000", shownURL(o.Endpoint))
		}
	}
	var loadOpts []func(*config.LoadOptions) error
	if o.Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(o.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, exitcode.Errorf(exitcode.Config, "object store %s: load the AWS configuration: %w", s, err)
	}
	if cfg.Region == "" {
		cfg.Region = defaultRegion
	}
	s.client = s3.NewFromConfig(cfg, func(so *s3.Options) {
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
		}
		so.UsePathStyle = o.PathStyle
		// so.BaseEndpoint is also set when the SDK found an endpoint in its
		// own configuration (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, profile).
		if so.BaseEndpoint != nil {
			so.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			so.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		}
	})
	s.endpoint = "AWS S3"
	if ep := s.client.Options().BaseEndpoint; ep != nil {
		s.whenRequired = true
		s.endpoint = shownURL(*ep)
	}

	if cfg.Credentials == nil {
		return nil, exitcode.Errorf(exitcode.Config, "object store %s: %s", s, noCredentials)
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("object store %s: %w", s, ctx.Err())
		}
		return nil, exitcode.Errorf(exitcode.Config, "object store %s: %s: %w", s, noCredentials, err)
	}
	// The cheapest call that proves the bucket exists, the store answers
	// and the credentials may list the prefix.
	_, err = s.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
		Bucket:  aws.String(s.bucket),
		Prefix:  aws.String(s.prefix),
		MaxKeys: aws.Int32(1),
	})
	if err != nil {
		return nil, s.fail(ctx, "open", "", err)
	}
	return s, nil
}

const noCredentials = "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE " +
	"(or run where an instance or container role provides them)"

func (s *s3Store) String() string {
	return "s3://" + s.bucket + "/" + strings.TrimSuffix(s.prefix, "/")
}

// where names key in messages.
func (s *s3Store) where(key string) string {
	if key == "" {
		return s.String()
	}
	return s.String() + "/" + key
}

// Put streams body with the transfer manager: a body smaller than one part
// is a single PutObject; a larger one, or one of unknown length, a multipart
// upload with at most s.concurrency parts in flight, aborted on any error.
func (s *s3Store) Put(ctx context.Context, key string, body io.Reader, opts PutOptions) (int64, error) {
	if err := checkKey(key); err != nil {
		return 0, fmt.Errorf("put %s: %w", s, err)
	}
	size := partSize(s.partSize, opts.SizeHint)
	tm := transfermanager.New(s.client, func(o *transfermanager.Options) {
		o.PartSizeBytes = size
		o.MultipartUploadThreshold = size
		o.Concurrency = s.concurrency
		// The abort after a failure gets a fresh context: after a
		// cancellation the upload's own would fail it.
		o.FailTimeout = abortTimeout
		if s.whenRequired {
			// The transfer manager's own setting wins over the client's.
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		}
	})
	// bodyReader is not an io.Seeker, so the transfer manager reads it once,
	// part by part, into a pool of Concurrency+1 part buffers.
	br := &bodyReader{ctx: ctx, r: body}
	in := &transfermanager.UploadObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(s.prefix + key),
		Body:   br,
	}
	if opts.ContentType != "" {
		in.ContentType = aws.String(opts.ContentType)
	}
	if _, err := tm.UploadObject(ctx, in); err != nil {
		if br.err != nil {
			// The body's own failure, with its own exit code if it has one.
			if !errors.Is(err, br.err) {
				return 0, fmt.Errorf("put %s: %w (then: %v)", s.where(key), br.err, err) //nolint:errorlint // the body's error decides; the upload's is only told
			}
			return 0, fmt.Errorf("put %s: %w", s.where(key), err)
		}
		return 0, s.fail(ctx, "put", key, err)
	}
	return br.n, nil
}

func (s *s3Store) Get(ctx context.Context, key string) (io.ReadCloser, Object, error) {
	if err := checkKey(key); err != nil {
		return nil, Object{}, fmt.Errorf("get %s: %w", s, err)
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(s.prefix + key),
	})
	if err != nil {
		if notFound(err) {
			return nil, Object{}, fmt.Errorf("get %s: %w", s.where(key), ErrNotFound)
		}
		return nil, Object{}, s.fail(ctx, "get", key, err)
	}
	return out.Body, Object{
		Key:      key,
		Size:     aws.ToInt64(out.ContentLength),
		Modified: aws.ToTime(out.LastModified),
	}, nil
}

func (s *s3Store) List(ctx context.Context, prefix string) ([]Object, error) {
	objs := []Object{}
	pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(s.bucket),
		Prefix: aws.String(s.prefix + prefix),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, s.fail(ctx, "list", prefix, err)
		}
		for _, o := range page.Contents {
			key, ok := strings.CutPrefix(aws.ToString(o.Key), s.prefix)
			if !ok {
				continue
			}
			objs = append(objs, Object{Key: key, Size: aws.ToInt64(o.Size), Modified: aws.ToTime(o.LastModified)})
		}
	}
	// S3 lists in UTF-8 binary order already; S3-compatible stores may not.
	slices.SortFunc(objs, func(a, b Object) int { return strings.Compare(a.Key, b.Key) })
	return objs, nil
}

// Delete sends one DeleteObject per key rather than a DeleteObjects batch:
// DeleteObjects requires a checksum header that some S3-compatible stores
// reject, and a backup deletes a handful of keys at a time.
func (s *s3Store) Delete(ctx context.Context, keys ...string) error {
	for _, key := range keys {
		if err := checkKey(key); err != nil {
			return fmt.Errorf("delete %s: %w", s, err)
		}
	}
	for _, key := range keys {
		_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{
			Bucket: aws.String(s.bucket),
			Key:    aws.String(s.prefix + key),
		})
		if err != nil && !notFound(err) {
			return s.fail(ctx, "delete", key, err)
		}
	}
	return nil
}
