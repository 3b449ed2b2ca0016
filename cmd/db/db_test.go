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
			got := cmdtest.Parse(t, dbcmd.NewCmdSeed, nil, tc.args...)
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
		{"seed --as-of given but empty", "seed", []string{"--demo", "--as-of", ""}, "--as-of was given but is empty"},
		{"migrate takes no argument", "migrate", []string{"up"}, `takes no arguments, got "up"`},
		{"migrate status takes no argument", "status", []string{"now"}, `takes no arguments, got "now"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var err error
			switch tc.cmd {
			case "seed":
				err = cmdtest.Refuse(t, dbcmd.NewCmdSeed, nil, tc.args...)
			case "migrate":
				err = cmdtest.Refuse(t, dbcmd.NewCmdMigrate, nil, tc.args...)
			case "status":
				err = cmdtest.Refuse(t, dbcmd.NewCmdMigrateStatus, nil, tc.args...)
			}
			require.Equal(t, exitcode.Usage, exitcode.Of(err), "%v", err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestMigrateReachesRunF(t *testing.T) {
	t.Parallel()
	require.NotNil(t, cmdtest.Parse(t, dbcmd.NewCmdMigrate, nil).Factory)
	require.NotNil(t, cmdtest.Parse(t, dbcmd.NewCmdMigrateStatus, nil).Factory)
}
