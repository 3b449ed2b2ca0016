package cmdutil_test

import (
	stdlog "log"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil/cmdtest"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// With no --database-url, no DATABASE_URL and no PG* variable, cortexctl
// refuses to guess (libpq would pick a database named after the OS user).
func TestDBNeedsADatabase(t *testing.T) { // not parallel: it sets PG* variables for pgx
	f, _, _ := cmdtest.Factory(nil)
	f.Settings.DatabaseURL = ""
	_, err := f.DB(t.Context())
	require.Error(t, err)
	require.Equal(t, exitcode.Config, exitcode.Of(err), "%v", err)
	require.Contains(t, err.Error(), "no database given: set DATABASE_URL (or --database-url)")

	// A PG* variable is a database named on purpose: libpq's way is honoured.
	env := map[string]string{"PGHOST": "127.0.0.1", "PGPORT": "1", "PGCONNECT_TIMEOUT": "2"}
	for k, v := range env {
		t.Setenv(k, v) // what libpq (pgx) reads
	}
	f, _, _ = cmdtest.Factory(env) // what cortexctl sees
	f.Settings.DatabaseURL = ""
	_, err = f.DB(t.Context())
	require.Error(t, err)
	require.Equal(t, exitcode.Unavailable, exitcode.Of(err), "it dials what PG* names: %v", err)
}

// A library line printed through the standard logger comes out as a JSON
// log line like every other.
func TestStandardLoggerGoesThroughZerolog(t *testing.T) { // not parallel: the standard logger is global
	f, _, errOut := cmdtest.Factory(nil)
	require.NoError(t, f.Setup())
	t.Cleanup(func() { stdlog.SetOutput(os.Stderr) })
	stdlog.Printf("failed to complete upload %s", "abc")
	require.Contains(t, errOut.String(), `"component":"stdlib"`)
	require.Contains(t, errOut.String(), `"message":"failed to complete upload abc`)
}
