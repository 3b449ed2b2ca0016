package jobs_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil/cmdtest"
	"github.com/cortexlayer/cortexctl/cmd/jobs"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// Flag parsing and validation of `jobs history`, through runF.

func TestHistoryFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		args  []string
		job   string
		limit int
	}{
		{"defaults", nil, "", 20},
		{"one job", []string{"--job", "billing-grace", "--limit", "5"}, "billing-grace", 5},
		{"the most", []string{"--limit", "1000"}, "", 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := cmdtest.Parse(t, jobs.NewCmdHistory, nil, tc.args...)
			require.Equal(t, tc.job, got.Job)
			require.Equal(t, tc.limit, got.Limit)
		})
	}
}

func TestHistoryRefusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown job", []string{"--job", "bogus"}, `unknown --job "bogus": use one of billing-overage, billing-grace`},
		{"job given but empty", []string{"--job", ""}, "--job was given but is empty"},
		{"limit 0", []string{"--limit", "0"}, "--limit 0 is out of range: use 1 to 1000"},
		{"limit 1001", []string{"--limit", "1001"}, "--limit 1001 is out of range"},
		{"limit not a number", []string{"--limit", "all"}, `invalid argument "all" for "--limit"`},
		{"an argument", []string{"overage"}, `takes no arguments, got "overage"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := cmdtest.Refuse(t, jobs.NewCmdHistory, nil, tc.args...)
			require.Equal(t, exitcode.Usage, exitcode.Of(err), "%v", err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}
