package db

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"
)

// Session is what CheckSession saw of the connection it was handed.
type Session struct {
	// PIDs are the server backends that answered four statements on one
	// connection: two outside a transaction, then one in each of two
	// transactions. On a session of its own they are one backend.
	PIDs []uint32 `json:"pids"`
	// LockSeen: the advisory lock taken by the first statement was held
	// by the backend that answered the second.
	LockSeen bool `json:"lock_seen"`
}

// Stable reports whether the connection is a session of its own: one
// backend answered every statement and kept the advisory lock between them.
// Behind a pooler in transaction mode (PgBouncer pool_mode=transaction,
// Supavisor on port 6543) another backend may answer each transaction,
// and a job's advisory lock would be held by nobody it knows.
func (s Session) Stable() bool {
	if !s.LockSeen || len(s.PIDs) == 0 {
		return false
	}
	for _, p := range s.PIDs {
		if p != s.PIDs[0] {
			return false
		}
	}
	return true
}

// CheckSession takes a connection out of the pool and asks whether it is a
// server session of its own, as the jobs' advisory locks need: it takes an
// advisory lock under a random key, asks pg_locks in a separate statement
// whether this backend holds it, reads pg_backend_pid() in two transactions,
// and releases the lock. The key is random, so a lock left behind on a
// pooler's backend (the unlock may reach another one) blocks no job.
func CheckSession(ctx context.Context, pool *Pool) (Session, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return Session{}, err
	}
	defer conn.Release()
	var b [8]byte
	_, _ = rand.Read(b[:])
	key := int64(binary.BigEndian.Uint64(b[:]) >> 1) //nolint:gosec // 63 random bits, never negative
	u := uint64(key)                                 //nolint:gosec // the key's bits, split as pg_locks shows them

	var s Session
	var pid uint32
	var got bool
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid(), pg_try_advisory_lock($1)", key).Scan(&pid, &got); err != nil {
		return s, classify(fmt.Errorf("take an advisory lock: %w", err))
	}
	s.PIDs = append(s.PIDs, pid)
	var seen bool
	if err := conn.QueryRow(ctx, `
		SELECT pg_backend_pid(), EXISTS (
		    SELECT 1 FROM pg_locks
		    WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid() AND objsubid = 1
		      AND classid::bigint = $1 AND objid::bigint = $2
		      AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))`,
		int64(u>>32), int64(u&0xffffffff)).Scan(&pid, &seen); err != nil {
		return s, classify(fmt.Errorf("look for the advisory lock in pg_locks: %w", err))
	}
	s.PIDs = append(s.PIDs, pid)
	s.LockSeen = got && seen
	for range 2 {
		tx, err := conn.Begin(ctx)
		if err != nil {
			return s, classify(fmt.Errorf("begin: %w", err))
		}
		err = tx.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid)
		_ = tx.Rollback(ctx)
		if err != nil {
			return s, classify(fmt.Errorf("read the backend in a transaction: %w", err))
		}
		s.PIDs = append(s.PIDs, pid)
	}
	if got {
		if _, err := conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", key); err != nil {
			return s, classify(fmt.Errorf("release the advisory lock: %w", err))
		}
	}
	return s, nil
}

// PoolerHint says why a connection string looks like it goes through a
// transaction pooler, or "" if it does not: port 6543 (Supabase's
// Supavisor in transaction mode) or pgbouncer=true (Prisma's marker for
// PgBouncer). Keyword/value strings (port=6543) count too.
func PoolerHint(connString string) string {
	port, bouncer := "", false
	if u, err := url.Parse(connString); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		port = u.Port()
		q := u.Query()
		if p := q.Get("port"); p != "" {
			port = p
		}
		bouncer = strings.EqualFold(q.Get("pgbouncer"), "true")
	} else {
		for _, f := range strings.Fields(connString) {
			k, v, _ := strings.Cut(f, "=")
			switch strings.TrimSpace(k) {
			case "port":
				port = strings.Trim(v, "'")
			case "pgbouncer":
				bouncer = strings.EqualFold(strings.Trim(v, "'"), "true")
			}
		}
	}
	switch {
	case port == "6543":
		return "the URL's port is 6543, Supabase's transaction pooler"
	case bouncer:
		return "the URL says pgbouncer=true"
	}
	return ""
}
