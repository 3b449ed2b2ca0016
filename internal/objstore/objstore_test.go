package objstore_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/internal/objstore"
	"github.com/cortexlayer/cortexctl/internal/objstore/objstoretest"
)

func TestFileContract(t *testing.T) {
	t.Parallel()
	objstoretest.Run(t, func(t *testing.T) objstore.Store { return objstoretest.File(t) })
}

func TestS3Contract(t *testing.T) {
	objstoretest.Run(t, func(t *testing.T) objstore.Store {
		s, _ := objstoretest.S3(t)
		return s
	})
}

// A file store writes <key>.partial-<random> and renames it: what a crash
// leaves behind is never listed nor read, and the directory holds nothing
// else after a failed Put.
func TestFilePartials(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := objstore.Open(t.Context(), "file://"+dir, objstore.Options{})
	require.NoError(t, err)
	require.Equal(t, "file://"+dir, s.String())

	// As a crash mid-Put would leave it.
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "2026"), 0o750))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "2026", "db.dump.partial-123"), []byte("half"), 0o600))
	objs, err := s.List(t.Context(), "")
	require.NoError(t, err)
	require.Empty(t, objs)
	_, _, err = s.Get(t.Context(), "2026/db.dump.partial-123")
	require.Error(t, err)

	var during []string
	body := objstoretest.Hook(strings.NewReader("complete dump"), 4, func() { during = files(t, dir) })
	_, err = s.Put(t.Context(), "2026/db.dump", body, objstore.PutOptions{})
	require.NoError(t, err)
	require.Len(t, during, 2, "while Put writes: its partial file beside the crashed one")
	require.Contains(t, during, "2026/db.dump.partial-123")
	for _, f := range during {
		require.Regexp(t, `^2026/db\.dump\.partial-\d+$`, f)
	}
	require.Equal(t, []string{"2026/db.dump", "2026/db.dump.partial-123"}, files(t, dir))
	info, err := os.Stat(filepath.Join(dir, "2026", "db.dump"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "backups are readable by their owner only")

	_, err = s.Put(t.Context(), "2026/other", objstoretest.FailAfter([]byte("half"), io.ErrClosedPipe), objstore.PutOptions{})
	require.ErrorIs(t, err, io.ErrClosedPipe)
	require.Equal(t, []string{"2026/db.dump", "2026/db.dump.partial-123"}, files(t, dir), "the failed Put removed its partial file")
}

// files lists the regular files under dir, relative and sorted.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return err
	}))
	return out
}

// file://./dir is relative to the working directory, for the demo; Open
// creates the directory.
func TestFileRelativeURL(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	s, err := objstore.Open(t.Context(), "file://./backups/dev", objstore.Options{})
	require.NoError(t, err)
	require.Equal(t, "file://"+filepath.Join(dir, "backups", "dev"), s.String())
	_, err = s.Put(t.Context(), "k", bytes.NewReader([]byte("v")), objstore.PutOptions{})
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join(dir, "backups", "dev", "k"))
	require.NoError(t, err)
	require.Equal(t, "v", string(got))
}

func TestFileKeyAndDirectory(t *testing.T) {
	t.Parallel()
	s := objstoretest.File(t)
	_, err := s.Put(t.Context(), "a/b", strings.NewReader("x"), objstore.PutOptions{})
	require.NoError(t, err)
	// "a" is a directory here, not an object.
	_, _, err = s.Get(t.Context(), "a")
	require.ErrorIs(t, err, objstore.ErrNotFound)
	require.NoError(t, s.Delete(t.Context(), "a"))
	_, err = s.Put(t.Context(), "x.partial-1", strings.NewReader("x"), objstore.PutOptions{})
	require.ErrorContains(t, err, ".partial-")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = s.Put(ctx, "c", strings.NewReader("x"), objstore.PutOptions{})
	require.ErrorIs(t, err, context.Canceled)
}
