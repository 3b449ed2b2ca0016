// Package objstoretest holds test helpers for code that stores objects
// through objstore: Run, the one contract suite every backend passes; File,
// a file:// store in a temporary directory (the fake: it behaves like S3
// where the callers can tell); S3, a fresh bucket on the S3-compatible
// server the tests use (versitygw, started by `make test`); and Gateway, a
// private versitygw a test can stop and restart.
package objstoretest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/internal/objstore"
)

// MultiPartSize is the size of the bodies the suite sends to prove
// multipart uploads: two parts of objstore.MinPartSize and a bit.
const MultiPartSize = 2*objstore.MinPartSize + objstore.MiB + 7

// Run runs the contract every objstore.Store keeps. open returns an empty
// store for one subtest; it must not have been opened with a part size above
// objstore.MinPartSize, so that MultiPartSize bodies take several parts.
// The subtests are not parallel: open may set environment variables.
func Run(t *testing.T, open func(t *testing.T) objstore.Store) {
	t.Run("RoundTripMultiPart", func(t *testing.T) {
		s := open(t)
		body := Random(1, MultiPartSize)
		n, err := s.Put(t.Context(), "db.dump", bytes.NewReader(body), objstore.PutOptions{SizeHint: int64(len(body))})
		require.NoError(t, err)
		require.Equal(t, int64(len(body)), n)
		obj := RequireBody(t, s, "db.dump", body)
		require.Equal(t, "db.dump", obj.Key)
		require.WithinDuration(t, time.Now(), obj.Modified, time.Minute)
	})

	t.Run("UnknownLength", func(t *testing.T) {
		s := open(t)
		body := Random(2, MultiPartSize)
		// A reader that hides its length: no Len, no Seek.
		n, err := s.Put(t.Context(), "stream", struct{ io.Reader }{bytes.NewReader(body)}, objstore.PutOptions{})
		require.NoError(t, err)
		require.Equal(t, int64(len(body)), n)
		RequireBody(t, s, "stream", body)
	})

	t.Run("SmallAndEmpty", func(t *testing.T) {
		s := open(t)
		for key, body := range map[string][]byte{"empty": {}, "small": []byte("manifest")} {
			n, err := s.Put(t.Context(), key, struct{ io.Reader }{bytes.NewReader(body)}, objstore.PutOptions{ContentType: "application/json"})
			require.NoError(t, err)
			require.Equal(t, int64(len(body)), n)
			RequireBody(t, s, key, body)
		}
		objs, err := s.List(t.Context(), "")
		require.NoError(t, err)
		require.Equal(t, []string{"empty", "small"}, Keys(objs))
		require.Equal(t, []int64{0, 8}, []int64{objs[0].Size, objs[1].Size})
	})

	t.Run("Overwrite", func(t *testing.T) {
		s := open(t)
		put(t, s, "k", "first version")
		put(t, s, "k", "second")
		RequireBody(t, s, "k", []byte("second"))
		objs, err := s.List(t.Context(), "")
		require.NoError(t, err)
		require.Len(t, objs, 1)
		require.Equal(t, int64(6), objs[0].Size)
	})

	t.Run("ListByPrefixSorted", func(t *testing.T) {
		s := open(t)
		for _, k := range []string{"b/2", "a/2", "a/10", "ab", "a/1", "a.b", "c"} {
			put(t, s, k, k)
		}
		for prefix, want := range map[string][]string{
			"":     {"a.b", "a/1", "a/10", "a/2", "ab", "b/2", "c"},
			"a/":   {"a/1", "a/10", "a/2"},
			"a":    {"a.b", "a/1", "a/10", "a/2", "ab"},
			"a/1":  {"a/1", "a/10"},
			"none": {},
		} {
			objs, err := s.List(t.Context(), prefix)
			require.NoError(t, err)
			require.Equal(t, want, Keys(objs), "List(%q)", prefix)
		}
	})

	t.Run("KeysWithSlashes", func(t *testing.T) {
		s := open(t)
		key := "2026/11/27/cortexctl-20261127T0300Z.dump"
		put(t, s, key, "dump")
		RequireBody(t, s, key, []byte("dump"))
		objs, err := s.List(t.Context(), "2026/11/")
		require.NoError(t, err)
		require.Equal(t, []string{key}, Keys(objs))
	})

	t.Run("DeleteIdempotent", func(t *testing.T) {
		s := open(t)
		put(t, s, "x/a", "a")
		put(t, s, "x/b", "b")
		require.NoError(t, s.Delete(t.Context(), "x/a", "never-existed"))
		require.NoError(t, s.Delete(t.Context(), "x/a"))
		require.NoError(t, s.Delete(t.Context()))
		requireMissing(t, s, "x/a")
		objs, err := s.List(t.Context(), "")
		require.NoError(t, err)
		require.Equal(t, []string{"x/b"}, Keys(objs))
	})

	t.Run("GetMissing", func(t *testing.T) {
		s := open(t)
		requireMissing(t, s, "nothing/here")
	})

	t.Run("InvalidKeys", func(t *testing.T) {
		s := open(t)
		for _, key := range []string{"", "/abs", "a//b", "a/../b", "./a", "dir/"} {
			_, err := s.Put(t.Context(), key, strings.NewReader("x"), objstore.PutOptions{})
			require.Error(t, err, "Put(%q)", key)
			_, _, err = s.Get(t.Context(), key)
			require.Error(t, err, "Get(%q)", key)
			require.Error(t, s.Delete(t.Context(), key), "Delete(%q)", key)
		}
		requireEmpty(t, s)
	})

	// A body that fails leaves nothing: neither the object nor a partial
	// upload or file that List shows; an existing object stays as it was.
	errBody := errors.New("pg_dump failed")
	for name, size := range map[string]int64{"Small": 1000, "MultiPart": MultiPartSize} {
		t.Run("FailingBody"+name, func(t *testing.T) {
			s := open(t)
			_, err := s.Put(t.Context(), "db.dump", FailAfter(Random(3, size), errBody), objstore.PutOptions{})
			require.ErrorIs(t, err, errBody)
			requireEmpty(t, s)
			requireMissing(t, s, "db.dump")

			put(t, s, "db.dump", "the last good one")
			_, err = s.Put(t.Context(), "db.dump", FailAfter(Random(3, size), errBody), objstore.PutOptions{})
			require.ErrorIs(t, err, errBody)
			RequireBody(t, s, "db.dump", []byte("the last good one"))
			objs, err := s.List(t.Context(), "")
			require.NoError(t, err)
			require.Equal(t, []string{"db.dump"}, Keys(objs))
		})
	}

	t.Run("CancelledMidPut", func(t *testing.T) {
		s := open(t)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		// The body goes on after the cancellation, as a pipe would.
		body := &hook{r: bytes.NewReader(Random(4, MultiPartSize)), at: objstore.MinPartSize + objstore.MiB, do: cancel}
		_, err := s.Put(ctx, "db.dump", body, objstore.PutOptions{})
		require.ErrorIs(t, err, context.Canceled)
		requireEmpty(t, s)
		requireMissing(t, s, "db.dump")
	})

	t.Run("InvisibleUntilComplete", func(t *testing.T) {
		s := open(t)
		seen := make(chan []objstore.Object, 1)
		// Halfway through the body, after a part has been sent.
		body := &hook{r: bytes.NewReader(Random(5, MultiPartSize)), at: objstore.MinPartSize + objstore.MiB, do: func() {
			objs, err := s.List(t.Context(), "")
			require.NoError(t, err)
			seen <- objs
		}}
		_, err := s.Put(t.Context(), "db.dump", body, objstore.PutOptions{})
		require.NoError(t, err)
		require.Empty(t, <-seen, "List during Put")
		objs, err := s.List(t.Context(), "")
		require.NoError(t, err)
		require.Equal(t, []string{"db.dump"}, Keys(objs))
	})

	t.Run("String", func(t *testing.T) {
		s := open(t)
		require.Regexp(t, `^(s3|file)://`, s.String())
	})
}

// Random returns n reproducible pseudo-random bytes for seed.
func Random(seed uint64, n int64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	_, _ = r.Read(b)
	return b
}

// RandomReader reads n reproducible pseudo-random bytes for seed, made as
// they are read.
func RandomReader(seed uint64, n int64) io.Reader {
	return io.LimitReader(rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)}), n)
}

// FailAfter returns a reader of body that then fails with err instead of
// ending.
func FailAfter(body []byte, err error) io.Reader {
	return io.MultiReader(bytes.NewReader(body), &errReader{err})
}

type errReader struct{ err error }

func (r *errReader) Read([]byte) (int, error) { return 0, r.err }

// hook reads r and calls do once, when at bytes have been read.
type hook struct {
	r    io.Reader
	n    int64
	at   int64
	do   func()
	done bool
}

func (h *hook) Read(p []byte) (int, error) {
	if !h.done && h.n >= h.at {
		h.done = true
		h.do()
	}
	if !h.done && int64(len(p)) > h.at-h.n {
		p = p[:h.at-h.n]
	}
	n, err := h.r.Read(p)
	h.n += int64(n)
	return n, err
}

// Hook returns a reader of r that calls do once, when at bytes have been
// read, before reading on.
func Hook(r io.Reader, at int64, do func()) io.Reader { return &hook{r: r, at: at, do: do} }

// Keys returns the keys of objs, never nil.
func Keys(objs []objstore.Object) []string {
	keys := []string{}
	for _, o := range objs {
		keys = append(keys, o.Key)
	}
	return keys
}

// RequireBody checks that key holds want (compared by hash: the bodies are
// large) and returns what Get said of it.
func RequireBody(t testing.TB, s objstore.Store, key string, want []byte) objstore.Object {
	t.Helper()
	rc, obj, err := s.Get(t.Context(), key)
	require.NoError(t, err)
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	require.NoError(t, err)
	require.Equal(t, int64(len(want)), n, "bytes read from %s", key)
	require.Equal(t, sha256.Sum256(want), [32]byte(h.Sum(nil)), "the body of %s", key)
	require.Equal(t, int64(len(want)), obj.Size)
	require.Equal(t, key, obj.Key)
	return obj
}

func put(t *testing.T, s objstore.Store, key, body string) {
	t.Helper()
	n, err := s.Put(t.Context(), key, strings.NewReader(body), objstore.PutOptions{})
	require.NoError(t, err)
	require.Equal(t, int64(len(body)), n)
}

func requireMissing(t *testing.T, s objstore.Store, key string) {
	t.Helper()
	rc, _, err := s.Get(t.Context(), key)
	if rc != nil {
		_ = rc.Close()
	}
	require.ErrorIs(t, err, objstore.ErrNotFound)
}

func requireEmpty(t *testing.T, s objstore.Store) {
	t.Helper()
	objs, err := s.List(t.Context(), "")
	require.NoError(t, err)
	require.Empty(t, objs)
}
