package doctor

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/internal/objstore"
	"github.com/cortexlayer/cortexctl/internal/ratelimit"
	"github.com/cortexlayer/cortexctl/internal/stripeclient"
	"github.com/cortexlayer/cortexctl/jobs/backup"
)

// oneLine keeps a message on one line of the table.
func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }

// runDatabaseChecks runs database, then the checks that need it.
func runDatabaseChecks(ctx context.Context, opts *Options, record func(Result)) {
	f := opts.Factory
	var (
		pool    *db.Pool
		version string // the server's, read once for the database and pg_dump checks
		num     int
	)
	record(timed(ctx, opts, CheckDatabase, func(ctx context.Context) (string, string) {
		p, err := f.DB(ctx)
		if err != nil {
			return StatusFailed, oneLine(err) + "; check " + cmdutil.EnvDatabaseURL + " (host, port, user, password, database) and that PostgreSQL runs"
		}
		if err := p.QueryRow(ctx, "SELECT current_setting('server_version'), current_setting('server_version_num')::int").Scan(&version, &num); err != nil {
			return StatusFailed, oneLine(err)
		}
		pool = p
		return StatusOK, fmt.Sprintf("%s answers (PostgreSQL %s)", p.Name(), version)
	}))
	if pool == nil {
		for _, name := range []string{CheckSchema, CheckSession, CheckClock, CheckPgDump} {
			record(skipped(name, "not checked: it needs the database, which failed"))
		}
		return
	}
	record(timed(ctx, opts, CheckSchema, func(ctx context.Context) (string, string) { return checkSchema(ctx, pool) }))
	record(timed(ctx, opts, CheckSession, func(ctx context.Context) (string, string) {
		return checkSession(ctx, pool, f.Settings.DatabaseURL)
	}))
	record(timed(ctx, opts, CheckClock, func(ctx context.Context) (string, string) {
		return checkClock(ctx, pool, f.Now, opts.MaxSkew)
	}))
	record(timed(ctx, opts, CheckPgDump, func(ctx context.Context) (string, string) { return checkPgDump(ctx, version, num) }))
}

func checkSchema(ctx context.Context, pool *db.Pool) (string, string) {
	if err := db.CheckSchema(ctx, pool); err != nil {
		return StatusFailed, oneLine(err)
	}
	have, err := db.SchemaVersion(ctx, pool)
	if err != nil {
		return StatusFailed, oneLine(err)
	}
	return StatusOK, fmt.Sprintf("schema at version %d (this cortexctl needs %d)", have, db.LatestVersion())
}

// checkSession fails a connection that is not a session of its own, or
// whose URL names a transaction pooler even if this one check got lucky
// (an idle pooler may hand out the same backend each time).
func checkSession(ctx context.Context, pool *db.Pool, url string) (string, string) {
	const fix = "the jobs' advisory locks need a session: connect directly (Supabase: the direct connection on port 5432) or through a pooler in session mode"
	s, err := db.CheckSession(ctx, pool)
	if err != nil {
		return StatusFailed, fmt.Sprintf("could not check the session: %s; %s", oneLine(err), fix)
	}
	if hint := db.PoolerHint(url); hint != "" {
		return StatusFailed, hint + ": a transaction pooler; " + fix
	}
	if !s.Stable() {
		return StatusFailed, fmt.Sprintf("the connection is not a session of its own (backends %v answered one connection, advisory lock seen: %t): "+
			"it goes through a transaction pooler such as PgBouncer in transaction mode; %s", s.PIDs, s.LockSeen, fix)
	}
	return StatusOK, fmt.Sprintf("a session of its own: backend %d answered every statement and kept the advisory lock", s.PIDs[0])
}

// checkClock compares the host's clock with the database's, half the
// round trip being the measurement's own uncertainty.
func checkClock(ctx context.Context, q db.Querier, now func() time.Time, maxSkew time.Duration) (string, string) {
	start := time.Now()
	host := now()
	var dbNow time.Time
	if err := q.QueryRow(ctx, "SELECT clock_timestamp()").Scan(&dbNow); err != nil {
		return StatusFailed, "could not read the database's clock: " + oneLine(err)
	}
	rtt := time.Since(start)
	skew := host.Add(rtt / 2).Sub(dbNow) // > 0: the host is ahead
	abs := skew.Abs()
	if abs-rtt/2 > maxSkew {
		way := "ahead of"
		if skew < 0 {
			way = "behind"
		}
		return StatusFailed, fmt.Sprintf("the host's clock is %s %s the database's (more than --max-skew %s): "+
			"the jobs take the time from the database, the API from the host, and Stripe refuses webhook signatures more than 5 minutes off; "+
			"sync both clocks with NTP (chrony, systemd-timesyncd)", abs.Round(time.Millisecond), way, maxSkew)
	}
	return StatusOK, fmt.Sprintf("the host's clock is within %s of the database's (round trip %s)",
		abs.Round(time.Millisecond), rtt.Round(time.Microsecond))
}

// checkPgDump looks for a pg_dump for the server's major (version, as
// server_version and server_version_num say it).
func checkPgDump(ctx context.Context, version string, num int) (string, string) {
	tools, err := backup.FindTools(ctx, num/10000, backup.DefaultSearchDirs())
	if err != nil {
		return StatusFailed, oneLine(err) + "; db backup needs it"
	}
	return StatusOK, fmt.Sprintf("pg_dump %s (%s) for the server's PostgreSQL %s", tools.Version, tools.PgDump, version)
}

// StoreSettings say where backups live, resolved as the backup commands
// resolve them (flag > environment).
type StoreSettings struct {
	URL     string
	Options objstore.Options
}

// checkBucket puts a tiny object under .cortexctl-doctor/, reads it back
// and deletes it; a failure names the step.
func checkBucket(ctx context.Context, s StoreSettings) (string, string) {
	if s.URL == "" {
		return StatusSkipped, notConfigured(cmdutil.EnvBackupURL + " (or --to)")
	}
	store, err := objstore.Open(ctx, s.URL, s.Options)
	if err != nil {
		return StatusFailed, "open: " + oneLine(err)
	}
	key := ".cortexctl-doctor/" + rand.Text()
	body := []byte("cortexctl doctor " + key + "\n")
	if _, err := store.Put(ctx, key, bytes.NewReader(body), objstore.PutOptions{SizeHint: int64(len(body)), ContentType: "text/plain"}); err != nil {
		return StatusFailed, "put: " + oneLine(err) + "; the credentials must be allowed to write (s3:PutObject)"
	}
	status, msg := readBack(ctx, store, key, body)
	if err := store.Delete(ctx, key); err != nil {
		return StatusFailed, "delete: " + oneLine(err) + fmt.Sprintf("; %s/%s is left behind; the credentials must be allowed to delete (s3:DeleteObject), as db backup's retention does", store, key)
	}
	if status != StatusOK {
		return status, msg
	}
	return StatusOK, fmt.Sprintf("put, read back and deleted %d bytes at %s/%s", len(body), store, key)
}

func readBack(ctx context.Context, store objstore.Store, key string, want []byte) (string, string) {
	rc, _, err := store.Get(ctx, key)
	if err != nil {
		return StatusFailed, "get: " + oneLine(err) + "; the credentials must be allowed to read (s3:GetObject), as db verify and db restore do"
	}
	defer func() { _ = rc.Close() }()
	got, err := io.ReadAll(io.LimitReader(rc, int64(len(want))+1024))
	if err != nil {
		return StatusFailed, "get: " + oneLine(err)
	}
	if !bytes.Equal(got, want) {
		return StatusFailed, fmt.Sprintf("get: read back %d bytes that differ from the %d written: something between cortexctl and the store rewrites objects", len(got), len(want))
	}
	return StatusOK, ""
}

func checkStripe(ctx context.Context, opts *Options) (string, string) {
	f := opts.Factory
	key := f.Env(cmdutil.EnvStripeAPIKey)
	if key == "" {
		return StatusSkipped, notConfigured(cmdutil.EnvStripeAPIKey)
	}
	if err := stripeclient.CheckConfig(key, opts.StripeBase); err != nil {
		return StatusFailed, oneLine(err) + "; set " + cmdutil.EnvStripeAPIKey + " to the secret key of the Stripe dashboard (Developers, API keys)"
	}
	c := stripeclient.New(key, opts.StripeBase, stripeclient.WithLogger(f.Log()), stripeclient.WithMaxNetworkRetries(1))
	err := c.CheckKey(ctx)
	switch {
	case err == nil:
		return StatusOK, "Stripe accepted the key (a read of the balance)"
	case stripeclient.IsKeyRefused(err):
		return StatusFailed, "the key was refused: " + oneLine(err) + "; set " + cmdutil.EnvStripeAPIKey +
			" to a valid secret key of the Stripe dashboard (Developers, API keys), not a revoked or mistyped one"
	case stripeclient.IsUnavailable(err):
		return StatusFailed, "Stripe could not be reached: " + oneLine(err) + "; check the network, a proxy, or " + cmdutil.EnvStripeAPIBase
	default:
		return StatusFailed, "Stripe refused the call: " + oneLine(err)
	}
}

func checkRedis(ctx context.Context, url string) (string, string) {
	url = strings.TrimSpace(url)
	if url == "" {
		return StatusSkipped, notConfigured(cmdutil.EnvRedisURL)
	}
	r, err := ratelimit.NewRedis(url, ratelimit.RedisOptions{})
	if err != nil {
		return StatusFailed, oneLine(err) + "; set " + cmdutil.EnvRedisURL + " as " + ratelimit.URLForms
	}
	defer func() { _ = r.Close() }()
	if err := r.Ping(ctx); err != nil {
		return StatusFailed, "Redis did not answer: " + oneLine(err) + "; check " + cmdutil.EnvRedisURL + " (host, port, password) and that Redis runs"
	}
	return StatusOK, ratelimit.RedactURL(url) + " answered PING"
}
