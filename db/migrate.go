package db

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

//go:embed migrations/*.sql
var embedded embed.FS

// Migrations is the embedded migration set, for tests that hash it.
func Migrations() fs.FS {
	sub, err := fs.Sub(embedded, "migrations")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory exists
	}
	return sub
}

// versionTable is goose's bookkeeping table.
const versionTable = "goose_db_version"

// migrationLockID is the advisory lock goose holds while migrating, so two
// `db migrate` at once run one after the other.
const migrationLockID = 0x636f727465786d67 // "cortexmg"

func provider(pool *Pool) (*goose.Provider, func() error, error) {
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID), lock.WithLockTimeout(2, 150))
	if err != nil {
		return nil, nil, err
	}
	sqlDB := stdlib.OpenDBFromPool(pool.Pgx())
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, Migrations(),
		goose.WithSessionLocker(locker), goose.WithTableName(versionTable))
	if err != nil {
		_ = sqlDB.Close()
		return nil, nil, fmt.Errorf("load embedded migrations: %w", err)
	}
	return p, sqlDB.Close, nil
}

// Applied is one migration that `db migrate` applied.
type Applied struct {
	Version  int64         `json:"version"`
	Name     string        `json:"name"`
	Duration time.Duration `json:"-"`
}

// Migrate applies every pending embedded migration. Running it again is a
// no-op; concurrent runs serialize on an advisory lock.
func Migrate(ctx context.Context, pool *Pool) ([]Applied, error) {
	p, closeDB, err := provider(pool)
	if err != nil {
		return nil, err
	}
	defer func() { _ = closeDB() }()
	results, err := p.Up(ctx)
	if err != nil {
		var partial *goose.PartialError
		if errors.As(err, &partial) && partial.Failed != nil {
			return nil, fmt.Errorf("migration %s failed (earlier ones in this run were applied): %w",
				partial.Failed.Source.Path, partial.Err)
		}
		return nil, fmt.Errorf("migrate: %w", err)
	}
	out := make([]Applied, 0, len(results))
	for _, r := range results {
		out = append(out, Applied{Version: r.Source.Version, Name: r.Source.Path, Duration: r.Duration})
	}
	return out, nil
}

// MigrationState is one embedded migration and whether it is applied.
type MigrationState struct {
	Version   int64      `json:"version"`
	Name      string     `json:"name"`
	Applied   bool       `json:"applied"`
	AppliedAt *time.Time `json:"applied_at,omitempty"`
}

// MigrationStatus lists every embedded migration and its state, without
// changing the database.
func MigrationStatus(ctx context.Context, pool *Pool) ([]MigrationState, error) {
	current, err := SchemaVersion(ctx, pool)
	if err != nil {
		return nil, err
	}
	p, closeDB, err := provider(pool)
	if err != nil {
		return nil, err
	}
	defer func() { _ = closeDB() }()
	if current == 0 {
		// goose's Status would create its table; an unmigrated database is read as is.
		var out []MigrationState
		for _, s := range p.ListSources() {
			out = append(out, MigrationState{Version: s.Version, Name: s.Path})
		}
		return out, nil
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	out := make([]MigrationState, 0, len(st))
	for _, s := range st {
		m := MigrationState{Version: s.Source.Version, Name: s.Source.Path, Applied: s.State == goose.StateApplied}
		if m.Applied {
			at := s.AppliedAt.UTC()
			m.AppliedAt = &at
		}
		out = append(out, m)
	}
	return out, nil
}

// SchemaVersion returns the newest applied migration version, 0 if none.
func SchemaVersion(ctx context.Context, q Querier) (int64, error) {
	var exists bool
	if err := q.QueryRow(ctx, `SELECT to_regclass('`+versionTable+`') IS NOT NULL`).Scan(&exists); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if !exists {
		return 0, nil
	}
	var v int64
	if err := q.QueryRow(ctx, `SELECT coalesce(max(version_id), 0) FROM `+versionTable+` WHERE is_applied`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// LatestVersion is the newest embedded migration version.
func LatestVersion() int64 {
	entries, _ := fs.ReadDir(Migrations(), ".")
	var latest int64
	for _, e := range entries {
		if v, err := goose.NumericComponent(e.Name()); err == nil && v > latest {
			latest = v
		}
	}
	return latest
}

// CheckSchema returns an exitcode.Config error when the database is behind
// the migrations this binary embeds.
func CheckSchema(ctx context.Context, q Querier) error {
	have, err := SchemaVersion(ctx, q)
	if err != nil {
		return err
	}
	if want := LatestVersion(); have < want {
		name := "database"
		if n, ok := q.(interface{ Name() string }); ok {
			name += " " + n.Name()
		}
		return exitcode.Errorf(exitcode.Config,
			"%s: schema is at version %d, this cortexctl needs %d: run `cortexctl db migrate` against it", name, have, want)
	}
	return nil
}
