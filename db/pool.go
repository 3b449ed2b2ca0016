package db

import (
	"context"
	"errors"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// DB is what a job needs of the database: queries, and transactions for
// its units of work. *Pool is one; so is a bare *pgxpool.Pool, whose errors
// are not classified.
type DB interface {
	Querier
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Pool is cortexctl's connection pool. Every error it (and the rows,
// transactions and connections it hands out) returns that means the server
// could not be reached or the connection was lost carries
// exitcode.Unavailable, so callers decide on exitcode.Of alone and never ask
// pgx-specific questions.
type Pool struct {
	pgx *pgxpool.Pool
}

// NewPool wraps a pgx pool.
func NewPool(p *pgxpool.Pool) *Pool { return &Pool{pgx: p} }

// Pgx is the underlying pool, for libraries that want it (migrations).
func (p *Pool) Pgx() *pgxpool.Pool { return p.pgx }

// Name is the database as user@host:port/dbname, never with its password.
func (p *Pool) Name() string { return Describe(p.pgx.Config().ConnConfig) }

// Config is the pool's configuration.
func (p *Pool) Config() *pgxpool.Config { return p.pgx.Config() }

// Close closes every connection.
func (p *Pool) Close() { p.pgx.Close() }

// Ping checks that the server answers.
func (p *Pool) Ping(ctx context.Context) error { return classify(p.pgx.Ping(ctx)) }

func (p *Pool) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	tag, err := p.pgx.Exec(ctx, sql, args...)
	return tag, classify(err)
}

func (p *Pool) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	r, err := p.pgx.Query(ctx, sql, args...)
	if err != nil {
		return r, classify(err)
	}
	return rows{r}, nil
}

func (p *Pool) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return row{p.pgx.QueryRow(ctx, sql, args...)}
}

// Begin starts a transaction whose errors are classified like the pool's.
func (p *Pool) Begin(ctx context.Context) (pgx.Tx, error) {
	t, err := p.pgx.Begin(ctx)
	if err != nil {
		return nil, classify(err)
	}
	return tx{t}, nil
}

// Acquire takes a connection out of the pool; its errors are classified.
func (p *Pool) Acquire(ctx context.Context) (*pgxpool.Conn, error) {
	c, err := p.pgx.Acquire(ctx)
	return c, classify(err)
}

type rows struct{ pgx.Rows }

func (r rows) Err() error { return classify(r.Rows.Err()) }

func (r rows) Scan(dest ...any) error { return classify(r.Rows.Scan(dest...)) }

type row struct{ pgx.Row }

func (r row) Scan(dest ...any) error { return classify(r.Row.Scan(dest...)) }

type tx struct{ pgx.Tx }

func (t tx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	tag, err := t.Tx.Exec(ctx, sql, args...)
	return tag, classify(err)
}

func (t tx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	r, err := t.Tx.Query(ctx, sql, args...)
	if err != nil {
		return r, classify(err)
	}
	return rows{r}, nil
}

func (t tx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return row{t.Tx.QueryRow(ctx, sql, args...)}
}

func (t tx) Commit(ctx context.Context) error { return classify(t.Tx.Commit(ctx)) }

// classify wraps err as exitcode.Unavailable when it means the database
// could not be reached; other errors (and nil) are returned as they are.
func classify(err error) error {
	if !IsUnavailable(err) {
		return err
	}
	var coded *exitcode.Error
	if errors.As(err, &coded) {
		return err
	}
	return exitcode.New(exitcode.Unavailable, err)
}

// IsUnavailable reports whether err says the database could not be reached:
// a failed connect, a refused or reset connection, a connection lost
// mid-query, or a server shutting down or terminating the session. An error
// the server answered with for the query itself (a constraint, a statement
// timeout, a bad password) is not: waiting does not fix it.
func IsUnavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08: connection exception; 57P01-57P03: admin shutdown
		// (also pg_terminate_backend), crash shutdown, cannot connect now.
		return pgErr.Code[:2] == "08" || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03"
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || pgconn.SafeToRetry(err)
}
