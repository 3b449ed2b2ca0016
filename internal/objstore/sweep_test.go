package objstore_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/internal/objstore"
	"github.com/cortexlayer/cortexctl/internal/objstore/objstoretest"
)

// A file store keeps the partial file of a Put killed before it could clean
// up (SIGKILL); Sweep removes those older than asked, never a fresh one (a
// write may still be in progress), and never a finished object.
func TestFileSweepRemovesOnlyOldPartials(t *testing.T) {
	t.Parallel()
	st := objstoretest.File(t)
	_, err := st.Put(context.Background(), "20261127T020000Z-1a2b3c4d/dump.pgcustom", strings.NewReader("done"), objstore.PutOptions{})
	require.NoError(t, err)
	u, err := url.Parse(st.String())
	require.NoError(t, err)
	dir := filepath.Join(u.Path, "20261127T020000Z-1a2b3c4d")
	old := filepath.Join(dir, "dump.pgcustom.partial-111")
	fresh := filepath.Join(dir, "dump.pgcustom.age.partial-222")
	for _, p := range []string{old, fresh} {
		require.NoError(t, os.WriteFile(p, []byte("half"), 0o600))
	}
	long := time.Now().Add(-25 * time.Hour)
	require.NoError(t, os.Chtimes(old, long, long))

	objs, err := st.List(context.Background(), "")
	require.NoError(t, err)
	require.Equal(t, []string{"20261127T020000Z-1a2b3c4d/dump.pgcustom"}, objstoretest.Keys(objs), "partials are never listed")

	swept, err := st.(objstore.Sweeper).Sweep(context.Background(), 24*time.Hour)
	require.NoError(t, err)
	require.Equal(t, []string{"20261127T020000Z-1a2b3c4d/dump.pgcustom.partial-111"}, swept)
	require.NoFileExists(t, old)
	require.FileExists(t, fresh)
	objs, err = st.List(context.Background(), "")
	require.NoError(t, err)
	require.Len(t, objs, 1, "the finished object stays")
}
