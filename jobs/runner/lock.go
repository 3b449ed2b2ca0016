package runner

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// heldLock is a job's advisory lock and the connection that holds it. The
// connection is taken out of the pool: nothing else may use it.
type heldLock struct {
	conn *pgx.Conn
	key  int64
	pid  uint32 // the backend of conn, which holds the lock
	job  string
	mu   sync.Mutex // serializes the watchdog and release on conn
}

// acquire tries the job's lock once; nil, nil means another session holds it.
func acquire(ctx context.Context, pool *db.Pool, job string) (*heldLock, error) {
	pc, err := pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	conn := pc.Hijack()
	key := LockKey(job)
	var got bool
	if _, err := conn.Exec(ctx, "SELECT set_config('application_name', $1, false)", "cortexctl/"+job+"/lock"); err != nil {
		_ = conn.Close(ctx)
		return nil, err
	}
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&got); err != nil {
		_ = conn.Close(ctx)
		return nil, err
	}
	if !got {
		_ = conn.Close(ctx)
		return nil, nil
	}
	return &heldLock{conn: conn, key: key, pid: conn.PgConn().PID(), job: job}, nil
}

// heldSQL asks pg_locks whether backend $1 holds the advisory lock whose
// bigint key is split into $2 (high 32 bits) and $3 (low 32 bits).
const heldSQL = `
	SELECT EXISTS (
	    SELECT 1 FROM pg_locks
	    WHERE locktype = 'advisory' AND granted AND pid = $1 AND objsubid = 1
	      AND classid::bigint = $2 AND objid::bigint = $3
	      AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))`

// check asks the server, through q (any connection but the lock's own),
// whether the lock connection's backend still holds the lock.
func (l *heldLock) check(ctx context.Context, q db.Querier) error {
	u := uint64(l.key) //nolint:gosec // the key's bits, split as pg_locks shows them
	var held bool
	if err := q.QueryRow(ctx, heldSQL, int64(l.pid), int64(u>>32), int64(u&0xffffffff)).Scan(&held); err != nil {
		return fmt.Errorf("check the %s lock is still held: %w", l.job, err)
	}
	if !held {
		return exitcode.Errorf(exitcode.Unavailable,
			"lost the %s lock (its connection, backend %d, is gone): stopped before committing anything more, so that no other run overlaps", l.job, l.pid)
	}
	return nil
}

// watch checks the lock connection every interval until ctx ends or the
// returned stop is called, and calls lost once if the connection fails.
func (l *heldLock) watch(ctx context.Context, every time.Duration, lost func(error)) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			l.mu.Lock()
			// Not derived from the run's context: cancelling a ping in flight
			// would close the connection and drop the lock mid-unit.
			pingCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), every+5*time.Second)
			err := l.conn.Ping(pingCtx)
			cancel()
			l.mu.Unlock()
			if err != nil && ctx.Err() == nil {
				lost(err)
				return
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// release unlocks and closes the connection. Closing alone would release
// the lock too; unlocking first makes the release explicit in the server log.
func (l *heldLock) release(log zerolog.Logger) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := l.conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", l.key); err != nil && !l.conn.IsClosed() {
		log.Warn().Err(fmt.Errorf("unlock: %w", err)).Msg("closing the lock connection instead")
	}
	_ = l.conn.Close(ctx)
}
