package schedule

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestEntriesAreWellFormed(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"billing-overage", "billing-grace", "db-backup"}, Jobs())
	for _, e := range Entries {
		require.NoError(t, e.Check())
		got, ok := Find(e.Job)
		require.True(t, ok)
		require.Equal(t, e.Job, got.Job)
		require.Equal(t, append(append([]string{}, e.Args...), "--output", "json", "--log-format", "json"), e.Command())
	}
	_, ok := Find("nope")
	require.False(t, ok)
}

func TestCheckRefusesBadEntries(t *testing.T) {
	t.Parallel()
	for _, e := range []Entry{
		{Job: "a", Cron: "0 1 * *", MaxAge: 26 * time.Hour},
		{Job: "b", Cron: "0 1 * * * *", MaxAge: 26 * time.Hour},
		{Job: "c", Cron: "@daily", MaxAge: 26 * time.Hour},
		{Job: "d", Cron: "0 1 * * *", MaxAge: time.Hour},
	} {
		require.Error(t, e.Check(), e.Job)
	}
}
