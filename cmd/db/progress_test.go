package db

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil/cmdtest"
)

// A progress bar goes to stderr on a terminal only: cron and pipes get none.
func TestProgressOnlyOnATerminal(t *testing.T) {
	t.Parallel()
	f, _, errOut := cmdtest.Factory(nil)
	b := progress(f, "pg_dump")
	require.Nil(t, b.w)
	b.finish()
	require.Empty(t, errOut.String())

	f, _, errOut = cmdtest.Factory(nil)
	f.IOStreams.SetStderrTTY(true)
	b = progress(f, "pg_dump → file:///backups")
	require.NotNil(t, b.w)
	_, err := b.w.Write([]byte(strings.Repeat("x", 3<<20)))
	require.NoError(t, err)
	b.finish()
	require.Contains(t, errOut.String(), "pg_dump → file:///backups")
	require.Contains(t, errOut.String(), "3.1 MB", "the bytes streamed so far")
}
