package backup_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/db/dbtest"
	"github.com/cortexlayer/cortexctl/db/fixture"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/internal/objstore"
	"github.com/cortexlayer/cortexctl/internal/objstore/objstoretest"
	"github.com/cortexlayer/cortexctl/jobs/backup"
	"github.com/cortexlayer/cortexctl/jobs/runner"
)

// The backup tests run against both backends through one matrix: a
// directory, and a real S3-compatible server (versitygw; make test starts
// it). The S3 cases set the AWS variables of the test, so they are not
// parallel.
var backends = []struct {
	name string
	open func(t *testing.T) objstore.Store
}{
	{"file", func(t *testing.T) objstore.Store { return objstoretest.File(t) }},
	{"s3", func(t *testing.T) objstore.Store { s, _ := objstoretest.S3(t); return s }},
}

// seeded is a migrated database with the demo data.
func seeded(t *testing.T) *fixture.Fixture {
	t.Helper()
	f := fixture.New(t)
	_, err := db.SeedDemo(context.Background(), f.DB.Pool, time.Date(2026, 6, 20, 12, 0, 0, 0, time.UTC), false)
	require.NoError(t, err)
	return f
}

// run makes one backup through the runner, as `db backup` does.
func run(t *testing.T, d *dbtest.DB, st objstore.Store, connString string, change func(*backup.Options)) (runner.Result[backup.Report], error) {
	t.Helper()
	opts := backup.Options{Retain: backup.DefaultRetain, KeepMin: backup.DefaultKeepMin, SearchDirs: backup.DefaultSearchDirs()}
	if change != nil {
		change(&opts)
	}
	r := &runner.Runner{Pool: d.Pool, Log: zerolog.Nop(), Version: "test"}
	return runner.Execute(context.Background(), r, runner.Job{Name: backup.Name, Params: opts.Params, DefaultAsOf: true},
		func(ctx context.Context, rn runner.Run) (backup.Report, error) {
			o := opts
			o.Params = rn.Job.Params
			return backup.Run(ctx, backup.Deps{DB: d.Pool, Store: st, ConnString: connString, RunID: rn.ID,
				Log: zerolog.Nop(), Lock: rn, Version: "test"}, o)
		})
}

func tools(t *testing.T) backup.Tools {
	t.Helper()
	tl, err := backup.FindTools(context.Background(), 15, backup.DefaultSearchDirs())
	require.NoError(t, err)
	return tl
}

func keys(t *testing.T, st objstore.Store) []string {
	t.Helper()
	objs, err := st.List(context.Background(), "")
	require.NoError(t, err)
	return objstoretest.Keys(objs)
}

// tableData is every row of every table of ours in a database, as JSON.
func tableData(t *testing.T, connString string) map[string]string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, connString)
	require.NoError(t, err)
	defer conn.Close(ctx)
	out := map[string]string{}
	for _, table := range []string{"plans", "clients", "usage_logs", "payments", "overage_charges", "client_status_events", "job_runs", "goose_db_version"} {
		var rows string
		require.NoError(t, conn.QueryRow(ctx, fmt.Sprintf(`SELECT coalesce(json_agg(t ORDER BY t::text), '[]')::text FROM %s t`, table)).Scan(&rows))
		out[table] = rows
	}
	return out
}

func TestBackupVerifyDrillRestoreRoundTrip(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			f := seeded(t)
			st := be.open(t)
			res, err := run(t, f.DB, st, f.DB.URL, nil)
			require.NoError(t, err)
			require.True(t, res.Ran)
			m := res.Report.Manifest
			require.NotNil(t, m)
			require.Equal(t, f.DB.Name, m.Database)
			require.Greater(t, m.TOCEntries, 10)
			require.EqualValues(t, 11, m.Tables["public.clients"])
			require.EqualValues(t, 3, m.Tables["public.plans"])
			require.Len(t, m.SHA256, 64)
			require.Equal(t, m.SHA256, m.DumpSHA256, "not encrypted: the stored object is the dump")
			require.False(t, m.FinishedAt.Before(m.StartedAt))
			require.Equal(t, []string{m.DumpKey, backup.ManifestKey(m.ID)}, keys(t, st))

			backups, _, err := backup.List(context.Background(), st)
			require.NoError(t, err)
			require.Len(t, backups, 1)
			require.True(t, backups[0].Valid)
			require.Equal(t, *m, backups[0].Manifest, "the manifest reads back as written")

			latest, err := backup.Pick(context.Background(), st, "latest")
			require.NoError(t, err)
			v, err := backup.Verify(context.Background(), st, tools(t), latest, nil, nil)
			require.NoError(t, err)
			require.True(t, v.OK)
			require.Equal(t, m.TOCEntries, v.TOCEntries)

			drill, err := backup.Verify(context.Background(), st, tools(t), latest, nil, f.DB.Pool)
			require.NoError(t, err, "%v", drill.Problems)
			require.True(t, drill.Drill)
			require.Len(t, drill.Tables, len(m.Tables))
			for _, tc := range drill.Tables {
				require.Equal(t, tc.Recorded, tc.Restored, tc.Table)
			}

			target := dbtest.NewEmpty(t)
			rep, err := backup.Restore(context.Background(), st, tools(t), latest, nil, target.URL, backup.RestoreOptions{})
			require.NoError(t, err)
			require.Equal(t, m.Size, rep.Size)
			source := tableData(t, f.DB.URL)
			restored := tableData(t, target.URL)
			for table, rows := range source {
				if table == "job_runs" {
					continue // the backup's own run row was written after the snapshot
				}
				require.Equal(t, rows, restored[table], "table %s restored equal to the source", table)
			}
		})
	}
}

func TestBackupPgDumpFailingKeepsNothingAndRunsNoRetention(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			f := seeded(t)
			st := be.open(t)
			// A good backup from ten days ago, which a successful run would delete.
			first, err := run(t, f.DB, st, f.DB.URL, nil)
			require.NoError(t, err)
			aged(t, st, *first.Report.Manifest, 10*24*time.Hour)
			before := keys(t, st)

			role := "cortexctl_limited_" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
			f.Exec(`CREATE ROLE ` + role + ` LOGIN`)
			t.Cleanup(func() {
				f.Exec(`REASSIGN OWNED BY ` + role + ` TO postgres`)
				f.Exec(`DROP OWNED BY ` + role)
				f.Exec(`DROP ROLE ` + role)
			})
			f.Exec(`GRANT USAGE ON SCHEMA public TO ` + role)
			f.Exec(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ` + role)
			f.Exec(`REVOKE SELECT ON usage_logs FROM ` + role)
			limited := withUser(t, f.DB.URL, role)

			res, err := run(t, f.DB, st, limited, func(o *backup.Options) { o.KeepMin = 1 })
			require.Error(t, err)
			require.Equal(t, exitcode.Failed, exitcode.Of(err), "%v", err)
			require.Contains(t, err.Error(), "pg_dump failed")
			require.Contains(t, err.Error(), "permission denied")
			require.Equal(t, runner.StatusFailed, res.Record.Status)
			require.Nil(t, res.Report.Manifest)
			require.Equal(t, before, keys(t, st), "nothing uploaded, and retention did not run")

			// The control: the same run that succeeds deletes the aged backup.
			_, err = run(t, f.DB, st, f.DB.URL, func(o *backup.Options) { o.KeepMin = 1 })
			require.NoError(t, err)
			require.NotContains(t, keys(t, st), backup.ManifestKey(first.Report.Manifest.ID))
		})
	}
}

// aged rewrites a backup's manifest as if it had started age ago.
func aged(t *testing.T, st objstore.Store, m backup.Manifest, age time.Duration) {
	t.Helper()
	m.StartedAt = m.StartedAt.Add(-age)
	body, err := json.Marshal(m)
	require.NoError(t, err)
	_, err = st.Put(context.Background(), backup.ManifestKey(m.ID), bytes.NewReader(body), objstore.PutOptions{})
	require.NoError(t, err)
}

func withUser(t *testing.T, conn, user string) string {
	t.Helper()
	u, err := url.Parse(conn)
	require.NoError(t, err)
	u.User = url.User(user)
	return u.String()
}

func TestBackupEncrypted(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			f := seeded(t)
			st := be.open(t)
			id, err := age.GenerateX25519Identity()
			require.NoError(t, err)
			res, err := run(t, f.DB, st, f.DB.URL, func(o *backup.Options) { o.Recipients = []string{id.Recipient().String()} })
			require.NoError(t, err)
			m := *res.Report.Manifest
			require.True(t, m.Encrypted)
			require.True(t, strings.HasSuffix(m.DumpKey, ".age"))
			require.NotEqual(t, m.SHA256, m.DumpSHA256)

			rc, _, err := st.Get(context.Background(), m.DumpKey)
			require.NoError(t, err)
			head := make([]byte, 64)
			_, err = io.ReadFull(rc, head)
			rc.Close()
			require.NoError(t, err)
			require.True(t, bytes.HasPrefix(head, []byte("age-encryption.org/v1")), "the stored bytes are an age file")
			require.NotContains(t, string(head), "PGDMP", "not a readable pg_dump archive")

			_, err = backup.Verify(context.Background(), st, tools(t), m, nil, nil)
			require.Equal(t, exitcode.Usage, exitcode.Of(err), "without the identity: %v", err)
			require.Contains(t, err.Error(), "pass --identity")
			other, err := age.GenerateX25519Identity()
			require.NoError(t, err)
			_, err = backup.Verify(context.Background(), st, tools(t), m, []age.Identity{other}, nil)
			require.Error(t, err, "the wrong identity cannot read it")

			v, err := backup.Verify(context.Background(), st, tools(t), m, []age.Identity{id}, nil)
			require.NoError(t, err)
			require.Equal(t, m.TOCEntries, v.TOCEntries)
			target := dbtest.NewEmpty(t)
			_, err = backup.Restore(context.Background(), st, tools(t), m, []age.Identity{id}, target.URL, backup.RestoreOptions{})
			require.NoError(t, err)
			var clients int
			require.NoError(t, pgxScalar(target.URL, `SELECT count(*) FROM clients`, &clients))
			require.Equal(t, 11, clients)
		})
	}
}

func pgxScalar(conn, sql string, dst any) error {
	c, err := pgx.Connect(context.Background(), conn)
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	return c.QueryRow(context.Background(), sql).Scan(dst)
}

func TestBackupCorruptedObjectFailsVerify(t *testing.T) {
	t.Parallel()
	f := seeded(t)
	st := objstoretest.File(t)
	res, err := run(t, f.DB, st, f.DB.URL, nil)
	require.NoError(t, err)
	m := *res.Report.Manifest
	rc, _, err := st.Get(context.Background(), m.DumpKey)
	require.NoError(t, err)
	data, err := io.ReadAll(rc)
	rc.Close()
	require.NoError(t, err)
	data[len(data)/2] ^= 0xff // one flipped byte, same size
	_, err = st.Put(context.Background(), m.DumpKey, bytes.NewReader(data), objstore.PutOptions{})
	require.NoError(t, err)

	v, err := backup.Verify(context.Background(), st, tools(t), m, nil, nil)
	require.Error(t, err)
	require.Equal(t, exitcode.Failed, exitcode.Of(err))
	require.False(t, v.OK)
	require.Contains(t, err.Error(), "the object is corrupted or was replaced")
}

// Retention over backups 1 to 20 days old and a foreign object: a real run
// deletes the old ones, keeps the recent ones and never the foreign one.
func TestBackupRetention(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			f := seeded(t)
			st := be.open(t)
			first, err := run(t, f.DB, st, f.DB.URL, nil)
			require.NoError(t, err)
			template := *first.Report.Manifest
			require.NoError(t, st.Delete(context.Background(), template.DumpKey, backup.ManifestKey(template.ID)))
			var ids []string
			for d := 1; d <= 20; d++ {
				m := template
				m.StartedAt = template.StartedAt.Add(-time.Duration(d)*24*time.Hour + time.Hour)
				m.ID = backup.BackupID(m.StartedAt, fmt.Sprintf("%08x", d))
				m.DumpKey = backup.DumpKey(m.ID, false)
				m.Size = 5
				_, err := st.Put(context.Background(), m.DumpKey, strings.NewReader("dump!"), objstore.PutOptions{})
				require.NoError(t, err)
				body, _ := json.Marshal(m)
				_, err = st.Put(context.Background(), backup.ManifestKey(m.ID), bytes.NewReader(body), objstore.PutOptions{})
				require.NoError(t, err)
				ids = append(ids, m.ID)
			}
			_, err = st.Put(context.Background(), "README-not-ours.txt", strings.NewReader("keep me"), objstore.PutOptions{})
			require.NoError(t, err)

			dry, err := run(t, f.DB, st, f.DB.URL, func(o *backup.Options) { o.DryRun = true })
			require.NoError(t, err)
			require.Len(t, dry.Report.Retention.Delete, 13, "days 8 to 20 would go")
			require.Empty(t, dry.Report.Deleted)
			require.Len(t, keys(t, st), 41, "a dry run writes and deletes nothing")

			res, err := run(t, f.DB, st, f.DB.URL, nil)
			require.NoError(t, err)
			require.Len(t, res.Report.Deleted, 26)
			left := keys(t, st)
			require.Contains(t, left, "README-not-ours.txt")
			for i, id := range ids {
				day := i + 1
				require.Equalf(t, day <= 7, contains(left, backup.ManifestKey(id)), "day %d", day)
			}
			require.Contains(t, left, backup.ManifestKey(res.Report.Manifest.ID))
			require.Equal(t, []string{"README-not-ours.txt"}, res.Report.Retention.Foreign)
		})
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestRestoreRefusals(t *testing.T) {
	t.Parallel()
	f := seeded(t)
	st := objstoretest.File(t)
	res, err := run(t, f.DB, st, f.DB.URL, nil)
	require.NoError(t, err)
	m := *res.Report.Manifest

	busy := dbtest.New(t) // migrated: it holds tables
	_, err = backup.Restore(context.Background(), st, tools(t), m, nil, busy.URL, backup.RestoreOptions{})
	require.Equal(t, exitcode.Usage, exitcode.Of(err), "%v", err)
	var tables int
	require.NoError(t, busy.Pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&tables))
	require.Contains(t, err.Error(), fmt.Sprintf("holds %d tables", tables))
	_, err = backup.Restore(context.Background(), st, tools(t), m, nil, busy.URL, backup.RestoreOptions{Clean: true})
	require.NoError(t, err, "--clean replaces what the backup holds")

	_, err = backup.Restore(context.Background(), st, tools(t), m, nil, f.DB.URL, backup.RestoreOptions{Clean: true})
	require.Equal(t, exitcode.Usage, exitcode.Of(err), "%v", err)
	require.Contains(t, err.Error(), "it is the database backup "+m.ID+" was taken from")
}

// The S3 server killed in the middle of the upload: the run fails, no
// manifest is written, nothing new is visible, older backups are untouched.
func TestBackupStoreKilledMidUpload(t *testing.T) {
	f := seeded(t)
	// Enough incompressible rows for a multipart upload of several parts.
	f.Exec(`CREATE TABLE filler (b text)`)
	f.Exec(`INSERT INTO filler SELECT md5(random()::text) || md5(random()::text) FROM generate_series(1, 400000)`)
	g := objstoretest.StartGateway(t)
	objstoretest.SetCredentials(t)
	bucket := objstoretest.NewBucket(t, g.Endpoint)
	st, err := objstore.Open(context.Background(), bucket.URL("prod"), objstoretest.Options(g.Endpoint))
	require.NoError(t, err)
	old, err := run(t, f.DB, st, f.DB.URL, nil)
	require.NoError(t, err)
	before := keys(t, st)

	done := make(chan error, 1)
	go func() { _, err := run(t, f.DB, st, f.DB.URL, nil); done <- err }()
	require.Eventually(t, func() bool {
		ups, err := bucket.Uploads(context.Background())
		return err == nil && len(ups) > 0
	}, time.Minute, 5*time.Millisecond, "the upload never started")
	g.Kill()
	var runErr error
	select {
	case runErr = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("the run did not end after the store died")
	}
	require.Error(t, runErr)
	require.NotEqual(t, exitcode.OK, exitcode.Of(runErr))
	g.Start()
	require.Equal(t, before, keys(t, st), "no manifest, no partial object; the older backup untouched")
	backups, _, err := backup.List(context.Background(), st)
	require.NoError(t, err)
	require.Len(t, backups, 1)
	require.Equal(t, old.Report.Manifest.ID, backups[0].Manifest.ID)
}

// countWriter counts what it is written.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// A progress writer (the terminal's bar) sees every byte pg_dump wrote.
func TestBackupProgressSeesEveryByte(t *testing.T) {
	t.Parallel()
	f := seeded(t)
	st := objstoretest.File(t)
	var progress countWriter
	r := &runner.Runner{Pool: f.DB.Pool, Log: zerolog.Nop(), Version: "test"}
	res, err := runner.Execute(context.Background(), r, runner.Job{Name: backup.Name, DefaultAsOf: true},
		func(ctx context.Context, rn runner.Run) (backup.Report, error) {
			return backup.Run(ctx, backup.Deps{DB: f.DB.Pool, Store: st, ConnString: f.DB.URL, RunID: rn.ID, Log: zerolog.Nop(),
				Lock: rn, Progress: &progress}, backup.Options{Params: rn.Job.Params, Retain: backup.DefaultRetain,
				KeepMin: backup.DefaultKeepMin, SearchDirs: backup.DefaultSearchDirs()})
		})
	require.NoError(t, err)
	require.Positive(t, progress.n)
	require.Equal(t, res.Report.Manifest.DumpSize, progress.n)
}

// A partial file a killed backup left in a file store is removed by the
// next successful backup once it is older than a day.
func TestBackupSweepsOldPartialFiles(t *testing.T) {
	t.Parallel()
	f := seeded(t)
	st := objstoretest.File(t)
	u, err := url.Parse(st.String())
	require.NoError(t, err)
	dir := filepath.Join(u.Path, "20261120T020000Z-deadbeef")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	partial := filepath.Join(dir, "dump.pgcustom.partial-123")
	require.NoError(t, os.WriteFile(partial, []byte("half a dump"), 0o600))
	long := time.Now().Add(-48 * time.Hour)
	require.NoError(t, os.Chtimes(partial, long, long))

	res, err := run(t, f.DB, st, f.DB.URL, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"20261120T020000Z-deadbeef/dump.pgcustom.partial-123"}, res.Report.Swept)
	require.NoFileExists(t, partial)
}
