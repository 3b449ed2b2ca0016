package objstore_test

// Tests of the S3 backend that the shared suite cannot express: what it
// leaves on the server, what it sends, and how it fails. They run against
// versitygw (see objstoretest.Endpoint); none is parallel, because the AWS
// credential chain is set through the environment.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/internal/objstore"
	"github.com/cortexlayer/cortexctl/internal/objstore/objstoretest"
	"github.com/cortexlayer/cortexctl/internal/testenv"
)

// A failed or cancelled multipart Put aborts its upload: nothing stays on
// the server, not even parts that List cannot show (and S3 would bill).
func TestS3FailedPutAbortsUpload(t *testing.T) {
	s, b := objstoretest.S3(t)
	body := objstoretest.Random(1, objstoretest.MultiPartSize)

	_, err := s.Put(t.Context(), "failed", objstoretest.FailAfter(body, errPgDump), objstore.PutOptions{})
	require.ErrorIs(t, err, errPgDump)
	require.Equal(t, exitcode.Failed, exitcode.Of(err), "the body's failure is not the store's")

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	_, err = s.Put(ctx, "cancelled", objstoretest.Hook(bytes.NewReader(body), 2*objstore.MinPartSize, cancel), objstore.PutOptions{})
	require.ErrorIs(t, err, context.Canceled)

	uploads, err := b.Uploads(t.Context())
	require.NoError(t, err)
	require.Empty(t, uploads, "unfinished multipart uploads")
}

var errPgDump = errors.New("pg_dump: exit status 1")

// Put streams: parts reach the server while the body is still being
// produced, so memory holds a few parts, never the whole body.
func TestS3PutStreamsParts(t *testing.T) {
	s, b := objstoretest.S3(t)
	body := objstoretest.Random(2, 5*objstore.MinPartSize)
	parts := 0
	// With the body's reader stopped after three parts, wait until the
	// first two (two in flight at most) are stored.
	held := objstoretest.Hook(bytes.NewReader(body), 3*objstore.MinPartSize, func() {
		require.Eventually(t, func() bool {
			uploads, err := b.Uploads(t.Context())
			if err != nil || len(uploads) != 1 {
				return false
			}
			out, err := b.Client.ListParts(t.Context(), &s3.ListPartsInput{
				Bucket: aws.String(b.Name), Key: aws.String(uploads[0].Key), UploadId: aws.String(uploads[0].ID),
			})
			if err != nil {
				return false
			}
			parts = len(out.Parts)
			return parts >= 2
		}, 20*time.Second, 20*time.Millisecond, "parts stored before the body ended")
	})
	n, err := s.Put(t.Context(), "db.dump", held, objstore.PutOptions{})
	require.NoError(t, err)
	require.Equal(t, int64(len(body)), n)
	require.GreaterOrEqual(t, parts, 2)
	objstoretest.RequireBody(t, s, "db.dump", body)
}

// With a custom endpoint the SDK sends no checksum headers (nor
// aws-chunked bodies with checksum trailers) unless an operation requires
// them: R2 and other S3-compatible stores reject the SDK's defaults.
func TestS3CustomEndpointSendsNoChecksums(t *testing.T) {
	endpoint := objstoretest.Endpoint(t)
	objstoretest.SetCredentials(t)
	b := objstoretest.NewBucket(t, endpoint)

	target, err := url.Parse(endpoint)
	require.NoError(t, err)
	var mu sync.Mutex
	var seen []string
	proxy := httputil.NewSingleHostReverseProxy(target)
	recorder := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := r.Method + " " + strings.Join(queryNames(r.URL.Query()), "&")
		mu.Lock()
		seen = append(seen, op)
		mu.Unlock()
		for name, v := range r.Header {
			lower := strings.ToLower(name)
			if strings.HasPrefix(lower, "x-amz-checksum") || lower == "x-amz-sdk-checksum-algorithm" ||
				lower == "x-amz-trailer" || (lower == "content-encoding" && strings.Contains(strings.Join(v, ","), "aws-chunked")) {
				t.Errorf("%s sent %s: %v", op, name, v)
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	defer recorder.Close()

	s, err := objstore.Open(t.Context(), b.URL("backups"), objstoretest.Options(recorder.URL))
	require.NoError(t, err)
	body := objstoretest.Random(3, objstoretest.MultiPartSize)
	_, err = s.Put(t.Context(), "big", bytes.NewReader(body), objstore.PutOptions{})
	require.NoError(t, err)
	_, err = s.Put(t.Context(), "small", strings.NewReader("manifest"), objstore.PutOptions{})
	require.NoError(t, err)
	objstoretest.RequireBody(t, s, "big", body)
	_, err = s.List(t.Context(), "")
	require.NoError(t, err)
	require.NoError(t, s.Delete(t.Context(), "big", "small"))

	mu.Lock()
	defer mu.Unlock()
	// The calls went through the recorder: each operation, by the names
	// of its query parameters.
	for _, op := range []string{
		"GET list-type&max-keys&prefix", // Open's probe: ListObjectsV2
		"POST uploads",                  // CreateMultipartUpload
		"PUT partNumber&uploadId&x-id",  // UploadPart
		"POST uploadId",                 // CompleteMultipartUpload
		"PUT x-id",                      // PutObject
		"GET x-id",                      // GetObject
		"GET list-type&prefix",          // ListObjectsV2
		"DELETE x-id",                   // DeleteObject
	} {
		require.Contains(t, seen, op)
	}
}

// queryNames are the sorted names of q: the S3 operation, without values.
func queryNames(q url.Values) []string {
	names := []string{}
	for k := range q {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// The store sees only its prefix: objects beside it are neither listed nor
// deleted, and its own land under prefix/.
func TestS3Prefix(t *testing.T) {
	s, b := objstoretest.S3(t)
	require.Equal(t, b.URL("backups"), s.String())
	// (versitygw's posix backend cannot hold an object "backups" beside
	// "backups/x".)
	for _, key := range []string{"other/x", "backupsX/y", "backups.old"} {
		_, err := b.Client.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key), Body: strings.NewReader("x")})
		require.NoError(t, err)
	}
	_, err := s.Put(t.Context(), "x", strings.NewReader("mine"), objstore.PutOptions{})
	require.NoError(t, err)
	objs, err := s.List(t.Context(), "")
	require.NoError(t, err)
	require.Equal(t, []string{"x"}, objstoretest.Keys(objs))
	_, err = b.Client.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(b.Name), Key: aws.String("backups/x")})
	require.NoError(t, err)
	require.NoError(t, s.Delete(t.Context(), "x", "y"))
	_, err = b.Client.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(b.Name), Key: aws.String("other/x")})
	require.NoError(t, err, "an object outside the prefix survives")
}

// Bad settings end with exit 78 and say what to fix; an unreachable store
// with 69. No message carries a credential.
func TestS3Errors(t *testing.T) {
	endpoint := objstoretest.Endpoint(t)

	open := func(t *testing.T, rawURL, endpoint string) error {
		t.Helper()
		s, err := objstore.Open(t.Context(), rawURL, objstoretest.Options(endpoint))
		require.Error(t, err)
		require.Nil(t, s)
		require.NotContains(t, err.Error(), objstoretest.SecretKey)
		require.NotContains(t, err.Error(), "wrong-secret")
		t.Log(err)
		return err
	}

	t.Run("WrongSecret", func(t *testing.T) {
		objstoretest.SetCredentials(t)
		b := objstoretest.NewBucket(t, endpoint)
		t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret")
		err := open(t, b.URL("p"), endpoint)
		require.Equal(t, exitcode.Config, exitcode.Of(err))
		require.Contains(t, err.Error(), "check AWS_SECRET_ACCESS_KEY")
	})

	t.Run("UnknownAccessKey", func(t *testing.T) {
		objstoretest.SetCredentials(t)
		b := objstoretest.NewBucket(t, endpoint)
		t.Setenv("AWS_ACCESS_KEY_ID", "nobody")
		err := open(t, b.URL("p"), endpoint)
		require.Equal(t, exitcode.Config, exitcode.Of(err))
		require.Contains(t, err.Error(), "check AWS_ACCESS_KEY_ID")
	})

	t.Run("NoCredentials", func(t *testing.T) {
		objstoretest.SetCredentials(t)
		t.Setenv("AWS_ACCESS_KEY_ID", "")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "")
		err := open(t, "s3://cortexctl-test-none/p", endpoint)
		require.Equal(t, exitcode.Config, exitcode.Of(err))
		require.Contains(t, err.Error(), "no AWS credentials: set AWS_ACCESS_KEY_ID")
	})

	t.Run("MissingBucket", func(t *testing.T) {
		objstoretest.SetCredentials(t)
		err := open(t, "s3://cortexctl-test-no-such-bucket/p", endpoint)
		require.Equal(t, exitcode.Config, exitcode.Of(err))
		require.Contains(t, err.Error(), `the bucket "cortexctl-test-no-such-bucket" does not exist`)
	})

	t.Run("BucketGoneAfterOpen", func(t *testing.T) {
		objstoretest.SetCredentials(t)
		b := objstoretest.NewBucket(t, endpoint)
		s, err := objstore.Open(t.Context(), b.URL("p"), objstoretest.Options(endpoint))
		require.NoError(t, err)
		_, err = b.Client.DeleteBucket(t.Context(), &s3.DeleteBucketInput{Bucket: aws.String(b.Name)})
		require.NoError(t, err)
		_, err = s.Put(t.Context(), "k", strings.NewReader("v"), objstore.PutOptions{})
		require.Equal(t, exitcode.Config, exitcode.Of(err), "%v", err)
		_, err = b.Client.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(b.Name)})
		require.NoError(t, err) // for the cleanup
	})

	t.Run("NothingListening", func(t *testing.T) {
		objstoretest.SetCredentials(t)
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		closed := "http://" + l.Addr().String()
		require.NoError(t, l.Close())
		err = open(t, "s3://bucket/p", closed)
		require.Equal(t, exitcode.Unavailable, exitcode.Of(err))
		require.Contains(t, err.Error(), "cannot reach "+closed)
	})
}

// The S3 server dies in the middle of a multipart Put: Put fails with 69,
// and once the server is back nothing of the object is visible.
func TestS3ServerStoppedMidUpload(t *testing.T) {
	gw := objstoretest.StartGateway(t)
	objstoretest.SetCredentials(t)
	b := objstoretest.NewBucket(t, gw.Endpoint)
	s, err := objstore.Open(t.Context(), b.URL("backups"), objstoretest.Options(gw.Endpoint))
	require.NoError(t, err)

	// 40 parts' worth; the server dies after three have been read.
	body := objstoretest.Hook(objstoretest.RandomReader(5, 40*objstore.MinPartSize), 3*objstore.MinPartSize, gw.Kill)
	start := time.Now()
	_, err = s.Put(t.Context(), "db.dump", body, objstore.PutOptions{})
	require.Error(t, err)
	t.Logf("Put failed after %s: %v", time.Since(start).Round(time.Millisecond), err)
	require.Equal(t, exitcode.Unavailable, exitcode.Of(err))

	gw.Start()
	objs, err := s.List(t.Context(), "")
	require.NoError(t, err)
	require.Empty(t, objs)
	_, _, err = s.Get(t.Context(), "db.dump")
	require.ErrorIs(t, err, objstore.ErrNotFound)
	// The abort could not reach the dead server: the upload stays,
	// unfinished and invisible, until a lifecycle rule or Empty removes it.
	uploads, err := b.Uploads(t.Context())
	require.NoError(t, err)
	t.Logf("unfinished uploads after the restart: %d", len(uploads))
}

// The aws CLI, an independent client, reads what Put stored byte for byte,
// as one multipart object; and Get reads what the CLI stored.
func TestS3ObjectsReadByAWSCLI(t *testing.T) {
	_, err := exec.LookPath("aws")
	if err != nil {
		err = fmt.Errorf("the aws CLI is not installed (apt-get install awscli): %w", err)
	}
	testenv.Need(t, "aws-cli", err)
	s, b := objstoretest.S3(t)
	awsCLI := func(stdin []byte, args ...string) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "aws", append([]string{"--endpoint-url", b.Endpoint, "--region", objstoretest.Region}, args...)...)
		cmd.Stdin = bytes.NewReader(stdin)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output() // the environment has the test credentials (SetCredentials)
		require.NoError(t, err, "aws %s: %s", strings.Join(args, " "), stderr.String())
		return out
	}

	body := objstoretest.Random(6, objstoretest.MultiPartSize)
	_, err = s.Put(t.Context(), "2026/db.dump", bytes.NewReader(body), objstore.PutOptions{})
	require.NoError(t, err)
	var head struct {
		ContentLength int64
		ETag          string
	}
	require.NoError(t, json.Unmarshal(awsCLI(nil, "s3api", "head-object", "--bucket", b.Name, "--key", "backups/2026/db.dump"), &head))
	require.Equal(t, int64(len(body)), head.ContentLength)
	require.True(t, strings.HasSuffix(head.ETag, `-3"`), "a multipart object of 3 parts has an ETag ending in -3: %s", head.ETag)
	got := awsCLI(nil, "s3", "cp", "s3://"+b.Name+"/backups/2026/db.dump", "-")
	require.Equal(t, sha256.Sum256(body), sha256.Sum256(got), "the bytes the aws CLI read")

	theirs := objstoretest.Random(7, 3*objstore.MiB)
	awsCLI(theirs, "s3", "cp", "-", "s3://"+b.Name+"/backups/from-cli")
	objstoretest.RequireBody(t, s, "from-cli", theirs)
}
