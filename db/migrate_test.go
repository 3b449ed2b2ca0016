package db_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/db/dbtest"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

func TestMigrateConcurrentlyThenAgainIsNoop(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.NewEmpty(t)

	err := db.CheckSchema(ctx, d.Pool)
	require.Error(t, err)
	require.Equal(t, exitcode.Config, exitcode.Of(err))
	require.Contains(t, err.Error(), "cortexctl db migrate")

	// Two migrations at once: one applies, the other waits and finds nothing to do.
	var wg sync.WaitGroup
	applied := make([][]db.Applied, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() { applied[i], errs[i] = db.Migrate(ctx, d.Pool) })
	}
	wg.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	require.Equal(t, int(db.LatestVersion()), len(applied[0])+len(applied[1]), "each migration applied exactly once")

	again, err := db.Migrate(ctx, d.Pool)
	require.NoError(t, err)
	require.Empty(t, again)
	require.NoError(t, db.CheckSchema(ctx, d.Pool))

	st, err := db.MigrationStatus(ctx, d.Pool)
	require.NoError(t, err)
	require.Len(t, st, int(db.LatestVersion()))
	for _, s := range st {
		require.True(t, s.Applied, s.Name)
	}

	var plans int
	require.NoError(t, d.Pool.QueryRow(ctx, `SELECT count(*) FROM plans`).Scan(&plans))
	require.Equal(t, 3, plans)
}

func TestStatusOfUnmigratedDatabaseChangesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.NewEmpty(t)
	st, err := db.MigrationStatus(ctx, d.Pool)
	require.NoError(t, err)
	require.NotEmpty(t, st)
	require.False(t, st[0].Applied)
	v, err := db.SchemaVersion(ctx, d.Pool)
	require.NoError(t, err)
	require.Zero(t, v, "status must not create goose's table")
}

func TestRedact(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"postgres://u:secret@h:5432/d":           "postgres://u:xxxxx@h:5432/d",
		"postgres://u@h/d?password=secret":       "postgres://u@h/d?password=xxxxx",
		"host=h user=u password=secret dbname=d": "host=h user=u password=xxxxx dbname=d",
		"postgres://h/d":                         "postgres://h/d",
	} {
		require.Equal(t, want, db.Redact(in))
		require.NotContains(t, db.Redact(in), "secret")
	}
}
