// Package db opens cortexctl's PostgreSQL pool, owns the embedded schema
// migrations and the small set of queries every command shares.
package db

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// Querier is satisfied by a pool, a connection and a transaction, so query
// helpers run inside or outside a transaction alike.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Nullable is nil for the zero value of T (a query's "no filter", a NULL
// column), else a pointer to v.
func Nullable[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

// NameWriter names who makes the changes of the transaction q, for the
// trigger that records every client status change in client_status_events.
func NameWriter(ctx context.Context, q Querier, actor, jobRunID string) error {
	_, err := q.Exec(ctx, `SELECT set_config('cortexctl.actor', $1, true), set_config('cortexctl.job_run_id', $2, true)`, actor, jobRunID)
	if err != nil {
		return fmt.Errorf("name the writer: %w", err)
	}
	return nil
}

// WriteNote records why the changes of the transaction q are made, in the
// writer's words, on the client_status_events rows the trigger writes.
func WriteNote(ctx context.Context, q Querier, note string) error {
	if _, err := q.Exec(ctx, `SELECT set_config('cortexctl.note', $1, true)`, note); err != nil {
		return fmt.Errorf("record the note: %w", err)
	}
	return nil
}

// Defaults applied when the connection string does not set them.
const (
	DefaultStatementTimeout = 5 * time.Minute
	DefaultConnectTimeout   = 10 * time.Second
	// DefaultMaxConns bounds the pool of a one-shot job; pool_max_conns in
	// the connection string overrides it (the API wants more).
	DefaultMaxConns = 4
)

// ParseConfig parses a connection string (empty: libpq's PG* environment
// variables and defaults) and applies cortexctl's session defaults:
// application_name, statement_timeout and the pool size, each unless the
// string sets it (pool_max_conns and the other pool_* settings are pgx's).
func ParseConfig(connString, appName string) (*pgxpool.Config, error) {
	return parseConfig(connString, appName, DefaultMaxConns)
}

func parseConfig(connString, appName string, maxConns int32) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		// pgx's parse errors may quote the string; name only its redacted form.
		return nil, exitcode.Errorf(exitcode.Config, "invalid database URL %s: %s", Redact(connString), scrub(err, connString))
	}
	rp := cfg.ConnConfig.RuntimeParams
	if rp["application_name"] == "" {
		rp["application_name"] = appName
	}
	if rp["statement_timeout"] == "" {
		rp["statement_timeout"] = fmt.Sprint(DefaultStatementTimeout.Milliseconds())
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	if !hasSetting(connString, "pool_max_conns") {
		cfg.MaxConns = maxConns
	}
	return cfg, nil
}

// hasSetting reports whether a connection string (URL or keyword/value
// form) sets key. pgx reads the pool_* settings itself; cortexctl only
// needs to know not to override them.
func hasSetting(connString, key string) bool {
	if u, err := url.Parse(connString); err == nil && u.Scheme != "" {
		return u.Query().Has(key)
	}
	for _, f := range strings.Fields(connString) {
		if k, _, ok := strings.Cut(f, "="); ok && strings.TrimSpace(k) == key {
			return true
		}
	}
	return false
}

// Connect opens a pool and checks that the server answers. An unreachable
// server is an exitcode.Unavailable error naming the redacted address.
func Connect(ctx context.Context, connString, appName string) (*Pool, error) {
	return ConnectSized(ctx, connString, appName, DefaultMaxConns)
}

// ConnectSized is Connect with a pool of maxConns connections unless the
// connection string sets pool_max_conns.
func ConnectSized(ctx context.Context, connString, appName string, maxConns int32) (*Pool, error) {
	cfg, err := parseConfig(connString, appName, maxConns)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, Unreachable(cfg.ConnConfig, err)
	}
	return NewPool(pool), nil
}

// Unreachable wraps a failure to reach the server as exitcode.Unavailable,
// naming the server without its password.
func Unreachable(cc *pgx.ConnConfig, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && !IsUnavailable(err) {
		// The server answered and refused: bad password, missing database, ...
		return exitcode.Errorf(exitcode.Config, "database %s refused the connection: %s", Describe(cc), pgErr.Message)
	}
	return exitcode.Errorf(exitcode.Unavailable, "database unreachable at %s: %s", Describe(cc), rootCause(err))
}

// Describe names a connection target as user@host:port/database.
func Describe(cc *pgx.ConnConfig) string {
	return fmt.Sprintf("%s@%s:%d/%s", cc.User, cc.Host, cc.Port, cc.Database)
}

// Redact returns connString with any password replaced by "xxxxx", for
// logs and error messages. Both URL and keyword/value forms are handled.
func Redact(connString string) string {
	if connString == "" {
		return "(from PG* environment)"
	}
	if u, err := url.Parse(connString); err == nil && u.Scheme != "" {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	fields := strings.Fields(connString)
	for i, f := range fields {
		if k, _, ok := strings.Cut(f, "="); ok && k == "password" {
			fields[i] = "password=xxxxx"
		}
	}
	return strings.Join(fields, " ")
}

// scrub removes connString from err's text, in case a parser echoed it.
func scrub(err error, connString string) string {
	msg := err.Error()
	if connString != "" {
		msg = strings.ReplaceAll(msg, connString, Redact(connString))
	}
	return msg
}

// rootCause shortens pgx's connect errors, which repeat one line per
// address tried, to their distinct lines.
func rootCause(err error) string {
	var out []string
	for _, l := range strings.Split(err.Error(), "\n") {
		if l = strings.TrimSpace(l); l != "" && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "; ")
}
