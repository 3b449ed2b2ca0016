package objstore

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"
	"testing"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

func TestParseURL(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]location{
		"s3://bucket/prefix":         {scheme: "s3", bucket: "bucket", prefix: "prefix"},
		"s3://bucket/a/b/":           {scheme: "s3", bucket: "bucket", prefix: "a/b"},
		"s3://my.bucket//cortexctl/": {scheme: "s3", bucket: "my.bucket", prefix: "cortexctl"},
		"file:///var/backups":        {scheme: "file", dir: "/var/backups"},
		"file://localhost/srv/b":     {scheme: "file", dir: "/srv/b"},
		"file://./backups":           {scheme: "file", dir: "./backups"},
		"file://./a/b/":              {scheme: "file", dir: "./a/b/"},
	} {
		got, err := parseURL(raw)
		require.NoError(t, err, raw)
		require.Equal(t, want, got, raw)
	}
}

func TestParseURLRefuses(t *testing.T) {
	t.Parallel()
	for raw, why := range map[string]string{
		"":                               "no object store URL",
		"  ":                             "no object store URL",
		"s3://bucket":                    "a bucket root is refused: add a prefix, e.g. s3://bucket/cortexctl",
		"s3://bucket/":                   "a bucket root is refused",
		"s3://bucket///":                 "a bucket root is refused",
		"s3:///prefix":                   "it names no bucket",
		"s3://":                          "it names no bucket",
		"s3://bucket:9000/p":             "the bucket has a port",
		"s3://bucket/a/../b":             "empty, . or .. parts",
		"s3://bucket/p?region=eu":        "a query",
		"s3:bucket/p":                    "no // after the scheme",
		"gs://bucket/prefix":             `the scheme "gs" is not supported`,
		"https://host/bucket/p":          `the scheme "https" is not supported`,
		"/var/backups":                   "it has no scheme",
		"bucket/prefix":                  "it has no scheme",
		"file://":                        "it names no directory",
		"file:///":                       "it names no directory",
		"file://.":                       "it names no directory",
		"file://backups":                 `"backups" is read as a host: write three slashes`,
		"file:backups":                   "no // after the scheme",
		"s3://AKIAEXAMPLE:s3cr3t@bkt/p":  "credentials do not belong in it",
		"s3://AKIAEXAMPLE:s3cr3t@bkt":    "credentials do not belong in it",
		"s3://AKIA:s3%cr3t@bkt/p":        "it does not parse",
		"file://user:s3cr3t@localhost/x": "credentials do not belong in it",
	} {
		_, err := parseURL(raw)
		require.Error(t, err, raw)
		require.Contains(t, err.Error(), why, raw)
		require.Contains(t, err.Error(), URLForms, "%q: the message shows both accepted forms", raw)
		require.NotContains(t, err.Error(), "s3cr3t", "%q: never a credential in a message", raw)
	}
}

func TestOpenRefusesWithConfigCode(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{"", "s3://bucket", "ftp://x/y", "file://host/x"} {
		_, err := Open(t.Context(), raw, Options{})
		require.Equal(t, exitcode.Config, exitcode.Of(err), "%q: %v", raw, err)
	}
	_, err := Open(t.Context(), "s3://bucket/p", Options{Endpoint: "http://key:s3cr3t@127.0.0.1:1"})
	require.Equal(t, exitcode.Config, exitcode.Of(err))
	require.NotContains(t, err.Error(), "s3cr3t")
	_, err = Open(t.Context(), "s3://bucket/p", Options{Endpoint: "127.0.0.1:9000"})
	require.Equal(t, exitcode.Config, exitcode.Of(err))
	require.Contains(t, err.Error(), "want http(s)://host[:port]")
	_, err = Open(t.Context(), "file:///tmp/x", Options{Concurrency: -1})
	require.Equal(t, exitcode.Config, exitcode.Of(err))
}

func TestPartSize(t *testing.T) {
	t.Parallel()
	const GiB, TiB = 1 << 30, 1 << 40
	for _, c := range []struct{ min, hint, want int64 }{
		{0, 0, MinPartSize},
		{0, 1, MinPartSize},
		{0, 50 * GiB, MinPartSize}, // 50 GiB×1.25/9000 = 7.1 MiB
		{0, 60 * GiB, 9 * MiB},     // 8.5 MiB, rounded up
		{0, 100 * GiB, 15 * MiB},   // 14.2 MiB
		{0, TiB, 146 * MiB},        // 145.6 MiB
		{0, 40 * TiB, MaxPartSize}, // 5.7 GiB, capped
		{0, 1<<63 - 1, MaxPartSize},
		{5 * MiB, 0, MinPartSize},
		{64 * MiB, 0, 64 * MiB},
		{64 * MiB, TiB, 146 * MiB},
		{10 * GiB, 0, MaxPartSize},
	} {
		require.Equal(t, c.want, partSize(c.min, c.hint), "partSize(%d, %d)", c.min, c.hint)
	}
	// Whatever the hint, a body a quarter larger than it fits in 9,000
	// parts, well under S3's 10,000, up to the largest part size.
	for hint := int64(1); hint < MaxPartSize/5*4*targetParts; hint = hint*3 + 12345 {
		size := partSize(0, hint)
		require.Zero(t, size%MiB)
		body := hint + hint/4
		require.LessOrEqual(t, (body+size-1)/size, int64(targetParts), "hint %d, part size %d", hint, size)
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	// An answer without an error code the SDK knows, only its status.
	status := func(code int) error {
		return fmt.Errorf("operation error S3: GetObject: %w", &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: code}},
			Err:      errors.New("no body"),
		})
	}
	for name, c := range map[string]struct {
		err  error
		code int
	}{
		"no such bucket":    {&smithy.GenericAPIError{Code: "NoSuchBucket"}, exitcode.Config},
		"access denied":     {&smithy.GenericAPIError{Code: "AccessDenied"}, exitcode.Config},
		"unknown key":       {&smithy.GenericAPIError{Code: "InvalidAccessKeyId"}, exitcode.Config},
		"bad secret":        {&smithy.GenericAPIError{Code: "SignatureDoesNotMatch"}, exitcode.Config},
		"slow down":         {&smithy.GenericAPIError{Code: "SlowDown"}, exitcode.Unavailable},
		"refused":           {&smithyhttp.RequestSendError{Err: syscall.ECONNREFUSED}, exitcode.Unavailable},
		"timeout":           {&net.OpError{Op: "dial", Err: &timeoutError{}}, exitcode.Unavailable},
		"reset":             {fmt.Errorf("read: %w", syscall.ECONNRESET), exitcode.Unavailable},
		"503":               {status(http.StatusServiceUnavailable), exitcode.Unavailable},
		"429":               {status(http.StatusTooManyRequests), exitcode.Unavailable},
		"403":               {status(http.StatusForbidden), exitcode.Config},
		"400":               {status(http.StatusBadRequest), 0},
		"other api error":   {&smithy.GenericAPIError{Code: "InvalidArgument"}, 0},
		"not classified":    {errors.New("something else"), 0},
		"bare key not here": {&smithy.GenericAPIError{Code: "NoSuchKey"}, 0},
	} {
		code, _ := classify(c.err)
		require.Equal(t, c.code, code, name)
	}
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }
