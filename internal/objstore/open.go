package objstore

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"

	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// URLForms lists the store URLs Open accepts, for messages that say how to
// fix a missing or malformed one.
const URLForms = "s3://bucket/prefix or file:///absolute/dir"

// Part sizes of S3 multipart uploads (see Options.PartSize).
const (
	MiB = 1 << 20
	// MinPartSize is the smallest part size Put uses (S3's own minimum is 5 MiB).
	MinPartSize = 8 * MiB
	// MaxPartSize is S3's largest part.
	MaxPartSize = 5 << 30
	// targetParts is how many parts SizeHint×1.25 may take at most: well
	// under S3's limit of 10,000, so that a body a quarter larger than its
	// hint still fits.
	targetParts = 9000
	// DefaultConcurrency is how many parts upload at once when
	// Options.Concurrency is 0.
	DefaultConcurrency = 4
)

// Options configure Open. The zero value suits AWS S3 (region and
// credentials from the default chain) and file://.
type Options struct {
	// Endpoint is the URL of an S3-compatible server (Cloudflare R2, MinIO,
	// versitygw), e.g. http://127.0.0.1:9000; empty for AWS S3. Callers pass
	// AWS_ENDPOINT_URL_S3 here. With a custom endpoint (this one, or one the
	// AWS SDK found in its own configuration) request checksums are sent and
	// response checksums checked only where an operation requires them: many
	// S3-compatible stores reject the SDK's default checksum headers.
	Endpoint string
	// Region of the bucket; empty: the default chain's (AWS_REGION, the
	// profile), else us-east-1. R2 takes "auto".
	Region string
	// PathStyle addresses the bucket in the URL path (http://host/bucket/key)
	// instead of the host name, as MinIO and versitygw need.
	PathStyle bool
	// PartSize is the smallest part size in bytes of a multipart upload; 0
	// lets Put choose from PutOptions.SizeHint. Put uses the largest of
	// PartSize, SizeHint×1.25/9000 rounded up to a MiB, and MinPartSize,
	// capped at MaxPartSize. A body smaller than one part is sent with a
	// single PutObject.
	PartSize int64
	// Concurrency is how many parts upload at once (0: DefaultConcurrency).
	// Put holds about (Concurrency+2) parts in memory.
	Concurrency int
}

// Open returns the store at rawURL: s3://bucket/prefix, file:///absolute/dir,
// or file://./relative/dir. A malformed URL is an exitcode.Config error that
// shows both accepted forms; so is an s3 bucket root without a prefix.
//
// Open checks that the store can be used before it returns: an S3 store
// must answer and let its credentials list the prefix (exitcode.Unavailable
// when it cannot be reached; exitcode.Config for missing credentials, a
// missing bucket or credentials it rejects), and a file store's directory
// is created if missing.
func Open(ctx context.Context, rawURL string, o Options) (Store, error) {
	loc, err := parseURL(rawURL)
	if err != nil {
		return nil, exitcode.New(exitcode.Config, err)
	}
	if o.PartSize < 0 || o.Concurrency < 0 {
		return nil, exitcode.Errorf(exitcode.Config,
			"object store options: part size (%d) and concurrency (%d) must not be negative", o.PartSize, o.Concurrency)
	}
	if o.Concurrency == 0 {
		o.Concurrency = DefaultConcurrency
	}
	switch loc.scheme {
	case "file":
		return openFile(loc.dir)
	default:
		return openS3(ctx, loc, o)
	}
}

// location is a parsed store URL.
type location struct {
	scheme string // "s3" or "file"
	bucket string // s3
	prefix string // s3: without leading or trailing "/"
	dir    string // file: as given (absolute, or relative with ./)
}

var userinfo = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*://).*@`)

// shownURL is raw as it may appear in a message: anything before an "@" in
// it (user info, where credentials would be) is replaced by ***.
func shownURL(raw string) string {
	return userinfo.ReplaceAllString(raw, "${1}***@")
}

func parseURL(raw string) (location, error) {
	if strings.TrimSpace(raw) == "" {
		return location{}, fmt.Errorf("no object store URL: give %s", URLForms)
	}
	shown := shownURL(raw)
	bad := func(why string) error {
		return fmt.Errorf("object store URL %q: %s; want %s", shown, why, URLForms)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return location{}, bad("it does not parse as a URL")
	}
	if u.User != nil {
		return location{}, bad("credentials do not belong in it (they come from the AWS default chain: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ...)")
	}
	if u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return location{}, bad("it has parts a store URL does not take (a query, a fragment, or no // after the scheme)")
	}
	switch u.Scheme {
	case "s3":
		if u.Host == "" {
			return location{}, bad("it names no bucket")
		}
		if u.Port() != "" {
			return location{}, bad("the bucket has a port: give the server with the S3 endpoint option (AWS_ENDPOINT_URL_S3) instead")
		}
		prefix := strings.Trim(u.Path, "/")
		if prefix == "" {
			return location{}, bad("a bucket root is refused: add a prefix, e.g. s3://" + u.Host + "/cortexctl")
		}
		if err := checkKey(prefix); err != nil {
			return location{}, bad("the prefix has empty, . or .. parts")
		}
		return location{scheme: "s3", bucket: u.Host, prefix: prefix}, nil
	case "file":
		dir := u.Path
		switch u.Host {
		case "", "localhost":
		case ".":
			dir = "." + dir
		default:
			return location{}, bad(fmt.Sprintf("%q is read as a host: write three slashes for an absolute directory (file:///dir) or file://./dir for a relative one", u.Host))
		}
		if strings.Trim(dir, "/.") == "" {
			return location{}, bad("it names no directory")
		}
		return location{scheme: "file", dir: dir}, nil
	case "":
		return location{}, bad("it has no scheme")
	default:
		return location{}, bad(fmt.Sprintf("the scheme %q is not supported", u.Scheme))
	}
}

// checkKey rejects keys that the backends cannot store under the same name:
// a key is one or more "/"-separated names, none empty, "." or "..".
func checkKey(key string) error {
	for name := range strings.SplitSeq(key, "/") {
		if name == "" || name == "." || name == ".." {
			return fmt.Errorf(`invalid object key %q: want names separated by "/" such as 2026/11/db.dump, none empty, "." or ".."`, key)
		}
	}
	return nil
}

// partSize is the part size of an upload: the largest of min, sizeHint×1.25
// spread over targetParts parts (rounded up to a MiB) and MinPartSize,
// capped at MaxPartSize.
func partSize(minSize, sizeHint int64) int64 {
	size := max(minSize, MinPartSize)
	if sizeHint > 0 {
		if sizeHint >= MaxPartSize/5*4*targetParts {
			return MaxPartSize
		}
		need := (sizeHint + sizeHint/4 + targetParts - 1) / targetParts
		need = (need + MiB - 1) / MiB * MiB
		size = max(size, need)
	}
	return min(size, MaxPartSize)
}

// bodyReader reads a Put's body: it stops at ctx's end, counts the bytes,
// and remembers the body's own failure so that Put can tell it from the
// store's.
type bodyReader struct {
	ctx context.Context
	r   io.Reader
	n   int64
	err error // the body's own error (not io.EOF), if it failed
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if err := b.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}
