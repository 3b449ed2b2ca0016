package main_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/db/dbtest"
	"github.com/cortexlayer/cortexctl/db/fixture"
	"github.com/cortexlayer/cortexctl/internal/objstore/objstoretest"
)

// End-to-end tests of `db backup`, `db backups`, `db verify`, `db restore`
// through the binary, against a directory and a real S3-compatible server.

type backupJSON struct {
	Run struct {
		Status   string `json:"status"`
		ExitCode int    `json:"exit_code"`
	} `json:"run"`
	Report *struct {
		ID       string `json:"id"`
		Manifest *struct {
			DumpKey    string           `json:"dump_key"`
			Size       int64            `json:"size"`
			TOCEntries int              `json:"toc_entries"`
			Tables     map[string]int64 `json:"tables"`
		} `json:"manifest"`
		Deleted []string `json:"deleted"`
	} `json:"report"`
}

type listedJSON []struct {
	Manifest struct {
		ID string `json:"id"`
	} `json:"manifest"`
	Valid    bool `json:"valid"`
	Verified *struct {
		OK    bool `json:"ok"`
		Drill bool `json:"drill"`
	} `json:"verified"`
}

func TestBackupCycleThroughTheBinary(t *testing.T) {
	for _, store := range []struct {
		name string
		env  func(t *testing.T) []string
	}{
		{"file", func(t *testing.T) []string { return []string{"BACKUP_URL=file://" + t.TempDir()} }},
		{"s3", func(t *testing.T) []string {
			endpoint := objstoretest.Endpoint(t)
			bucket := objstoretest.NewBucket(t, endpoint)
			return []string{"BACKUP_URL=" + bucket.URL("cortexlayer/prod"), "AWS_ENDPOINT_URL_S3=" + endpoint,
				"AWS_ACCESS_KEY_ID=" + objstoretest.AccessKey, "AWS_SECRET_ACCESS_KEY=" + objstoretest.SecretKey, "AWS_REGION=us-east-1",
				"AWS_EC2_METADATA_DISABLED=true"}
		}},
	} {
		t.Run(store.name, func(t *testing.T) {
			t.Parallel()
			f := fixture.New(t)
			_, err := db.SeedDemo(context.Background(), f.DB.Pool, time.Date(2026, 6, 20, 12, 0, 0, 0, time.UTC), false)
			require.NoError(t, err)
			c := newCLI(t, f.DB.URL, store.env(t)...)

			b := decode[backupJSON](t, c.runOK("db", "backup", "-o", "json"))
			require.Equal(t, "succeeded", b.Run.Status)
			require.NotNil(t, b.Report.Manifest)
			require.EqualValues(t, 11, b.Report.Manifest.Tables["public.clients"])
			require.Positive(t, b.Report.Manifest.TOCEntries)

			list := decode[listedJSON](t, c.runOK("db", "backups", "-o", "json"))
			require.Len(t, list, 1)
			require.Equal(t, b.Report.ID, list[0].Manifest.ID)
			require.True(t, list[0].Valid)
			require.Nil(t, list[0].Verified)

			require.Contains(t, c.runOK("db", "verify").stdout, "verified: ok")
			drill := c.runOK("db", "verify", b.Report.ID, "--drill").stdout
			require.Regexp(t, `public\.clients\s+11\s+11`, drill)
			list = decode[listedJSON](t, c.runOK("db", "backups", "-o", "json"))
			require.NotNil(t, list[0].Verified)
			require.True(t, list[0].Verified.OK)
			require.True(t, list[0].Verified.Drill)
			require.Contains(t, c.runOK("db", "backups").stdout, "(drill)")

			target := dbtest.NewEmpty(t)
			out := c.runOK("db", "restore", "latest", "--target-url", target.URL).stdout
			require.Contains(t, out, "restored backup "+b.Report.ID)
			var clients int
			require.NoError(t, pgxScalar(target.URL, `SELECT count(*) FROM clients`, &clients))
			require.Equal(t, 11, clients)
			var tables int
			require.NoError(t, pgxScalar(target.URL, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`, &tables))
			requireOneLineError(t, c.run("db", "restore", "latest", "--target-url", target.URL), 2, fmt.Sprintf("it holds %d tables", tables))

			hist := c.runOK("jobs", "history", "--job", "db-backup").stdout
			require.Contains(t, hist, "db-backup")
		})
	}
}

func TestBackupRefusals(t *testing.T) {
	t.Parallel()
	f := fixture.New(t)
	c := newCLI(t, f.DB.URL)
	requireOneLineError(t, c.run("db", "backup"), 78, "no backup destination: set BACKUP_URL or --to")
	require.Zero(t, f.JobRunCount(), "refused before the run")
	requireOneLineError(t, c.run("db", "backup", "--to", "ftp://host/dir"), 78, "s3://bucket/prefix")
	var status string
	f.Scalar(&status, `SELECT status FROM job_runs WHERE job = 'db-backup'`)
	require.Equal(t, "failed", status, "the preflight refusal is recorded")
	requireOneLineError(t, c.run("db", "backups", "--to", "s3://bucket-only"), 78, "prefix")
	dir := "file://" + t.TempDir()
	requireOneLineError(t, c.run("db", "verify", "--to", dir), 1, "no valid backup in")
	requireOneLineError(t, c.run("db", "restore", "nope", "--to", dir, "--target-url", f.DB.URL), 2, `no backup "nope"`)
}

func pgxScalar(conn, sql string, dst any) error {
	c, err := pgx.Connect(context.Background(), conn)
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	return c.QueryRow(context.Background(), sql).Scan(dst)
}
