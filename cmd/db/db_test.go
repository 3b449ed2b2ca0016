package db_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil/cmdtest"
	dbcmd "github.com/cortexlayer/cortexctl/cmd/db"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// Flag parsing and validation of the `db` commands, through runF.

func TestSeedFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		args  []string
		asOf  time.Time
		force bool
	}{
		{"defaults to now", []string{"--demo"}, cmdtest.Now, false},
		{"as-of and force", []string{"--demo", "--force", "--as-of", "2026-06-20T12:00:00Z"}, time.Date(2026, 6, 20, 12, 0, 0, 0, time.UTC), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, _, _ := cmdtest.Factory(nil)
			var got *dbcmd.SeedOptions
			require.NoError(t, cmdtest.Exec(dbcmd.NewCmdSeed(f, func(o *dbcmd.SeedOptions) error { got = o; return nil }), tc.args...))
			require.NotNil(t, got)
			require.Equal(t, tc.asOf, got.AsOf)
			require.Equal(t, tc.force, got.Force)
		})
	}
}

func TestDBRefusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cmd  string
		args []string
		want string
	}{
		{"seed without --demo", "seed", nil, "nothing to seed: pass --demo"},
		{"seed bad --as-of", "seed", []string{"--demo", "--as-of", "soon"}, `invalid --as-of "soon"`},
		{"seed unknown flag", "seed", []string{"--demo", "--all"}, "unknown flag: --all"},
		{"migrate takes no argument", "migrate", []string{"up"}, `takes no arguments, got "up"`},
		{"migrate status takes no argument", "status", []string{"now"}, `takes no arguments, got "now"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, _, _ := cmdtest.Factory(nil)
			never := func(any) error { t.Error("runF called for input that must be refused"); return nil }
			var err error
			switch tc.cmd {
			case "seed":
				err = cmdtest.Exec(dbcmd.NewCmdSeed(f, func(o *dbcmd.SeedOptions) error { return never(o) }), tc.args...)
			case "migrate":
				err = cmdtest.Exec(dbcmd.NewCmdMigrate(f, func(o *dbcmd.MigrateOptions) error { return never(o) }), tc.args...)
			case "status":
				err = cmdtest.Exec(dbcmd.NewCmdMigrateStatus(f, func(o *dbcmd.MigrateOptions) error { return never(o) }), tc.args...)
			}
			require.Error(t, err)
			require.Equal(t, exitcode.Usage, exitcode.Of(err), "%v", err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestMigrateReachesRunF(t *testing.T) {
	t.Parallel()
	f, _, _ := cmdtest.Factory(nil)
	called := 0
	run := func(o *dbcmd.MigrateOptions) error { require.Same(t, f, o.Factory); called++; return nil }
	require.NoError(t, cmdtest.Exec(dbcmd.NewCmdMigrate(f, run)))
	require.NoError(t, cmdtest.Exec(dbcmd.NewCmdMigrateStatus(f, run)))
	require.Equal(t, 2, called)
}
