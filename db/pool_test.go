package db_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/db/dbtest"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

func TestIsUnavailable(t *testing.T) {
	t.Parallel()
	// A real connect error from pgx: nothing listens on port 1.
	_, connErr := pgx.Connect(context.Background(), "postgres://u:p@127.0.0.1:1/x?connect_timeout=2")
	require.Error(t, connErr)
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"nothing listens", connErr, true},
		{"connection exception", &pgconn.PgError{Code: "08006"}, true},
		{"terminated by an administrator", fmt.Errorf("commit: %w", &pgconn.PgError{Code: "57P01"}), true},
		{"bad password is not waited out", &pgconn.PgError{Code: "28P01"}, false},
		{"constraint violation", &pgconn.PgError{Code: "23505"}, false},
		{"statement timeout", &pgconn.PgError{Code: "57014"}, false},
		{"cancelled", context.Canceled, false},
		{"no rows", pgx.ErrNoRows, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, db.IsUnavailable(tc.err))
		})
	}
}

// A session terminated under a query, a transaction or a row scan gives an
// error that exits 69 by itself; the query's own failures do not.
func TestPoolClassifiesLostConnections(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ctx := context.Background()

	// Pin one connection, so terminating its backend hits the next query on it.
	pool, err := db.Connect(ctx, d.URL+"?pool_max_conns=1", "cortexctl-test")
	require.NoError(t, err)
	defer pool.Close()
	terminate := func() {
		t.Helper()
		var pid int
		require.NoError(t, pool.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid))
		_, err := d.Pool.Exec(ctx, `SELECT pg_terminate_backend($1)`, pid)
		require.NoError(t, err)
	}

	terminate()
	var one int
	err = pool.QueryRow(ctx, `SELECT 1`).Scan(&one)
	require.Error(t, err)
	require.Equal(t, exitcode.Unavailable, exitcode.Of(err), "row scan after termination: %v", err)

	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	var pid int
	require.NoError(t, tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid))
	_, err = d.Pool.Exec(ctx, `SELECT pg_terminate_backend($1)`, pid)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `SELECT 1`)
	require.Error(t, err)
	require.Equal(t, exitcode.Unavailable, exitcode.Of(err), "exec in a transaction after termination: %v", err)
	_ = tx.Rollback(ctx)

	// The server answering with an error about the query is not unavailability.
	_, err = pool.Exec(ctx, `SELECT 1/0`)
	require.Error(t, err)
	require.Equal(t, exitcode.Failed, exitcode.Of(err))
	err = pool.QueryRow(ctx, `SELECT 1 WHERE false`).Scan(&one)
	require.True(t, errors.Is(err, pgx.ErrNoRows), "no rows is still pgx.ErrNoRows: %v", err)
	rows, err := pool.Query(ctx, `SELECT 1/0`)
	if err == nil {
		_, err = pgx.CollectRows(rows, pgx.RowTo[int])
	}
	require.Error(t, err)
	require.Equal(t, exitcode.Failed, exitcode.Of(err))
}

func TestParseConfigPoolSize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		conn string
		want int32
	}{
		{"postgres://u@h/db", db.DefaultMaxConns},
		{"postgres://u@h/db?pool_max_conns=25", 25},
		{"postgres://u@h/db?pool_max_conns=4&pool_min_conns=2", 4},
		{"host=h user=u dbname=db", db.DefaultMaxConns},
		{"host=h user=u dbname=db pool_max_conns=30", 30},
	} {
		t.Run(tc.conn, func(t *testing.T) {
			t.Parallel()
			cfg, err := db.ParseConfig(tc.conn, "test")
			require.NoError(t, err)
			require.Equal(t, tc.want, cfg.MaxConns)
		})
	}
	cfg, err := db.ParseConfig("postgres://u@h/db?pool_min_conns=2&statement_timeout=1000&application_name=x", "test")
	require.NoError(t, err)
	require.EqualValues(t, 2, cfg.MinConns)
	require.Equal(t, "1000", cfg.ConnConfig.RuntimeParams["statement_timeout"])
	require.Equal(t, "x", cfg.ConnConfig.RuntimeParams["application_name"])
}
