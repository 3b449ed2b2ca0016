// Package dbtest gives each test its own PostgreSQL database, cloned from a
// template that holds the embedded migrations, so tests run in parallel
// against the real server and leave nothing behind.
//
// The server is CORTEXCTL_TEST_DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/postgres); its role must be able to
// create databases.
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cortexlayer/cortexctl/db"
)

// EnvURL names the variable that points tests at a server.
const EnvURL = "CORTEXCTL_TEST_DATABASE_URL"

const defaultURL = "postgres://postgres@127.0.0.1:5432/postgres"

// DB is one test's database.
type DB struct {
	Pool *db.Pool
	URL  string // connection string of this database, for the binary under test
	Name string
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// AdminURL is the maintenance database tests create their databases from.
func AdminURL() string {
	if u := os.Getenv(EnvURL); u != "" {
		return u
	}
	return defaultURL
}

// New returns a fresh, migrated database that is dropped when t ends.
func New(t testing.TB) *DB {
	t.Helper()
	templateOnce.Do(func() { templateName, templateErr = ensureTemplate() })
	if templateErr != nil {
		t.Fatalf("dbtest: prepare template database: %v", templateErr)
	}
	return create(t, templateName)
}

// NewEmpty returns a fresh database with no schema at all (not migrated).
func NewEmpty(t testing.TB) *DB {
	t.Helper()
	return create(t, "template0")
}

func create(t testing.TB, template string) *DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := "cortexctl_test_" + randomHex(6)
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		t.Fatalf("dbtest: connect to %s: %v (is PostgreSQL running? set %s)", db.Redact(AdminURL()), err, EnvURL)
	}
	defer func() { _ = admin.Close(ctx) }()
	if _, err := admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, pgx.Identifier{template}.Sanitize())); err != nil {
		t.Fatalf("dbtest: create database: %v", err)
	}
	u := withDatabase(AdminURL(), name)
	pool, err := db.Connect(ctx, u, "cortexctl-test")
	if err != nil {
		t.Fatalf("dbtest: connect to test database: %v", err)
	}
	t.Cleanup(func() {
		pool.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		conn, err := pgx.Connect(ctx, AdminURL())
		if err != nil {
			t.Errorf("dbtest: drop %s: %v", name, err)
			return
		}
		defer func() { _ = conn.Close(ctx) }()
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("dbtest: drop %s: %v", name, err)
		}
	})
	return &DB{Pool: pool, URL: u, Name: name}
}

// ensureTemplate creates, once per server and migration set, a migrated
// database to clone. Test binaries of several packages run at once, so the
// creation is serialized on an advisory lock.
func ensureTemplate() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name, err := templateNameFor(db.Migrations())
	if err != nil {
		return "", err
	}
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		return "", fmt.Errorf("connect to %s: %w (is PostgreSQL running? set %s)", db.Redact(AdminURL()), err, EnvURL)
	}
	defer func() { _ = admin.Close(ctx) }()
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock(hashtext('cortexctl-dbtest-template'))"); err != nil {
		return "", err
	}
	defer func() {
		_, _ = admin.Exec(context.Background(), "SELECT pg_advisory_unlock(hashtext('cortexctl-dbtest-template'))")
	}()

	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	// Build under a scratch name, then rename: a template is complete or absent.
	scratch := name + "_build"
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+scratch+" WITH (FORCE)"); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+scratch+" TEMPLATE template0"); err != nil {
		return "", err
	}
	pool, err := db.Connect(ctx, withDatabase(AdminURL(), scratch), "cortexctl-test-template")
	if err != nil {
		return "", err
	}
	_, err = db.Migrate(ctx, pool)
	pool.Close()
	if err != nil {
		return "", fmt.Errorf("migrate template: %w", err)
	}
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+scratch+" RENAME TO "+name); err != nil {
		return "", err
	}
	return name, nil
}

// templateNameFor names the template after a hash of the migrations, so a
// changed migration gets a new template and a stale one is never cloned.
func templateNameFor(fsys fs.FS) (string, error) {
	h := sha256.New()
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", err
	}
	return "cortexctl_tmpl_" + hex.EncodeToString(h.Sum(nil))[:12], nil
}

func withDatabase(connString, name string) string {
	u, err := url.Parse(connString)
	if err != nil || u.Scheme == "" {
		return connString + " dbname=" + name
	}
	u.Path = "/" + name
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
