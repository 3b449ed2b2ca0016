package db_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/db/dbtest"
)

func TestCheckSessionOnADirectConnection(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)

	s, err := db.CheckSession(t.Context(), d.Pool)
	require.NoError(t, err)
	require.True(t, s.Stable(), "a direct connection is a session: %+v", s)
	require.Len(t, s.PIDs, 4)
	require.True(t, s.LockSeen)

	var left int
	require.NoError(t, d.Pool.QueryRow(t.Context(), `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&left))
	require.Zero(t, left, "the check releases its lock")
}

func TestSessionStable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		s    db.Session
		want bool
	}{
		{"one backend, lock seen", db.Session{PIDs: []uint32{7, 7, 7, 7}, LockSeen: true}, true},
		{"the backend changed between transactions", db.Session{PIDs: []uint32{7, 7, 7, 8}, LockSeen: true}, false},
		{"the lock was not seen", db.Session{PIDs: []uint32{7, 7, 7, 7}}, false},
		{"nothing seen", db.Session{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, tc.s.Stable())
		})
	}
}

func TestPoolerHint(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ url, want string }{
		{"postgres://u:p@db.example.supabase.co:5432/postgres", ""},
		{"postgres://u:p@aws-0-eu.pooler.supabase.com:6543/postgres", "port is 6543"},
		{"postgresql://u@h/db?port=6543", "port is 6543"},
		{"postgres://u@h:5432/db?pgbouncer=true", "pgbouncer=true"},
		{"host=h port=6543 dbname=d", "port is 6543"},
		{"host=h port=5432 dbname=d pgbouncer=true", "pgbouncer=true"},
		{"host=h dbname=d", ""},
		{"", ""},
	} {
		got := db.PoolerHint(tc.url)
		if tc.want == "" {
			require.Empty(t, got, tc.url)
		} else {
			require.Contains(t, got, tc.want, tc.url)
		}
	}
}
