// Package objstore is the one seam between cortexctl and object storage:
// backups go to S3-compatible stores (AWS S3, Cloudflare R2, MinIO) or, for
// development and the demo, to a directory.
//
// A Store streams: Put reads its body once, in parts, and never stages it on
// local disk; memory stays bounded by the part size times the upload
// concurrency. An object exists only once Put returned nil: a body that
// ends in an error, or a cancelled context, aborts the upload and leaves
// nothing a List or Get can see.
//
// Each backend classifies its own failures (see internal/exitcode): a store
// that cannot be reached is exitcode.Unavailable (69); a missing bucket,
// wrong credentials or a malformed URL is exitcode.Config (78). Errors name
// the store by its URL, never its credentials.
package objstore

import (
	"context"
	"errors"
	"io"
	"time"
)

// Object is what a store knows of one object.
type Object struct {
	Key      string    `json:"key"` // relative to the store's prefix
	Size     int64     `json:"size"`
	Modified time.Time `json:"modified"`
}

// PutOptions tune one upload.
type PutOptions struct {
	// SizeHint is the expected size in bytes (0: unknown). S3 chooses the
	// part size from it so that the upload stays well under 10,000 parts.
	SizeHint    int64
	ContentType string
}

// Store is an object store rooted at a prefix; keys are relative to it and
// use "/" as separator.
type Store interface {
	// Put streams body to key. On any error (body, network, ctx) the
	// upload is aborted and key does not exist afterwards, unless it
	// existed before (then it is unchanged). Returns the bytes written.
	Put(ctx context.Context, key string, body io.Reader, opts PutOptions) (int64, error)
	// Get opens key for reading; ErrNotFound if there is none.
	Get(ctx context.Context, key string) (io.ReadCloser, Object, error)
	// List returns every object whose key starts with prefix ("" for all),
	// sorted by key.
	List(ctx context.Context, prefix string) ([]Object, error)
	// Delete removes keys; a key that does not exist is not an error.
	Delete(ctx context.Context, keys ...string) error
	// String is the store's URL without credentials, e.g. s3://bucket/prefix.
	String() string
}

// Sweeper is a store that keeps what an interrupted write left behind
// (a file store's partial files, after a SIGKILL) and can remove it. S3
// keeps unfinished multipart uploads invisible; a lifecycle rule on the
// bucket removes those.
type Sweeper interface {
	// Sweep removes leftovers of writes older than olderThan (so a write
	// still in progress is never touched) and returns their names.
	Sweep(ctx context.Context, olderThan time.Duration) ([]string, error)
}

// ErrNotFound is wrapped by Get for a key that does not exist.
var ErrNotFound = errors.New("object not found")
