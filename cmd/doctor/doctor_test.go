package doctor_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
	"github.com/cortexlayer/cortexctl/cmd/cmdutil/cmdtest"
	"github.com/cortexlayer/cortexctl/cmd/doctor"
	"github.com/cortexlayer/cortexctl/db/dbtest"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/internal/objstore"
	"github.com/cortexlayer/cortexctl/internal/objstore/objstoretest"
	"github.com/cortexlayer/cortexctl/internal/ratelimit/ratelimittest"
	"github.com/cortexlayer/cortexctl/internal/stripeclient/stripetest"
)

// Flag parsing and validation, through runF.

func TestDoctorFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		env   map[string]string
		args  []string
		check func(t *testing.T, o *doctor.Options)
	}{
		{"defaults", nil, nil, func(t *testing.T, o *doctor.Options) {
			require.Equal(t, doctor.DefaultCheckTimeout, o.CheckTimeout)
			require.Equal(t, doctor.DefaultMaxSkew, o.MaxSkew)
			require.Empty(t, o.Store.URL)
			require.Empty(t, o.StripeBase)
		}},
		{"the store from the environment", map[string]string{cmdutil.EnvBackupURL: "s3://b/p", cmdutil.EnvS3Endpoint: "http://127.0.0.1:7070", cmdutil.EnvAWSRegion: "auto"}, nil,
			func(t *testing.T, o *doctor.Options) {
				require.Equal(t, "s3://b/p", o.Store.URL)
				require.Equal(t, "http://127.0.0.1:7070", o.Store.Options.Endpoint)
				require.Equal(t, "auto", o.Store.Options.Region)
				require.True(t, o.Store.Options.PathStyle, "path style with an endpoint")
			}},
		{"flags win over the environment", map[string]string{cmdutil.EnvBackupURL: "s3://b/p", cmdutil.EnvStripeAPIBase: "http://env:1"},
			[]string{"--to", "file:///var/backups", "--stripe-api-base", "http://127.0.0.1:12111", "--check-timeout", "3s", "--max-skew", "1m"},
			func(t *testing.T, o *doctor.Options) {
				require.Equal(t, "file:///var/backups", o.Store.URL)
				require.False(t, o.Store.Options.PathStyle, "no endpoint, no path style")
				require.Equal(t, "http://127.0.0.1:12111", o.StripeBase)
				require.Equal(t, 3*time.Second, o.CheckTimeout)
				require.Equal(t, time.Minute, o.MaxSkew)
			}},
		{"the Stripe base from the environment", map[string]string{cmdutil.EnvStripeAPIBase: "http://env:1"}, nil, func(t *testing.T, o *doctor.Options) {
			require.Equal(t, "http://env:1", o.StripeBase)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.check(t, cmdtest.Parse(t, doctor.NewCmdDoctor, tc.env, tc.args...))
		})
	}
}

func TestDoctorRefusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no timeout", []string{"--check-timeout", "0s"}, "--check-timeout 0s must be positive"},
		{"negative skew", []string{"--max-skew", "-1s"}, "--max-skew -1s must be positive"},
		{"not a duration", []string{"--check-timeout", "ten"}, `invalid argument "ten" for "--check-timeout"`},
		{"an argument", []string{"now"}, `takes no arguments, got "now"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := cmdtest.Refuse(t, doctor.NewCmdDoctor, nil, tc.args...)
			require.Equal(t, exitcode.Usage, exitcode.Of(err), "%v", err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

// The checks against the real services.

// run executes `doctor` with the factory and returns the report it printed
// (JSON) and the command's error.
func run(t *testing.T, f *cmdutil.Factory, out *bytes.Buffer, args ...string) (doctor.Report, error) {
	t.Helper()
	err := cmdtest.Exec(doctor.NewCmdDoctor(f, nil), args...)
	var rep doctor.Report
	require.NoErrorf(t, json.Unmarshal(out.Bytes(), &rep), "stdout is not the JSON report:\n%s", out)
	return rep, err
}

// factory is a factory on a test database with the host's real clock.
func factory(t *testing.T, url string, env map[string]string) (*cmdutil.Factory, *bytes.Buffer) {
	t.Helper()
	f, out, _ := cmdtest.Factory(env)
	f.Settings.DatabaseURL = url
	f.Now = time.Now
	t.Cleanup(f.Close)
	return f, out
}

func byName(rep doctor.Report) map[string]doctor.Result {
	m := map[string]doctor.Result{}
	for _, c := range rep.Checks {
		m[c.Name] = c
	}
	return m
}

func requireStatus(t *testing.T, rep doctor.Report, name, status, msg string) {
	t.Helper()
	c, ok := byName(rep)[name]
	require.Truef(t, ok, "no check %s in %+v", name, rep)
	require.Equalf(t, status, c.Status, "%s: %s", name, c.Message)
	require.Contains(t, c.Message, msg, name)
	require.NotContains(t, c.Message, "\n", "one line")
}

func TestDoctorAllPass(t *testing.T) {
	// Not parallel: SetCredentials sets the AWS variables of the process.
	endpoint := objstoretest.Endpoint(t)
	objstoretest.SetCredentials(t)
	bucket := objstoretest.NewBucket(t, endpoint)
	d := dbtest.New(t)
	f, out := factory(t, d.URL, map[string]string{
		cmdutil.EnvBackupURL: bucket.URL("cortexlayer/prod"), cmdutil.EnvS3Endpoint: endpoint, cmdutil.EnvAWSRegion: objstoretest.Region,
		cmdutil.EnvStripeAPIKey: "sk_test_123", cmdutil.EnvStripeAPIBase: stripetest.MockURL(t),
		cmdutil.EnvRedisURL: ratelimittest.URL(t),
	})

	rep, err := run(t, f, out)
	require.NoError(t, err, "stdout:\n%s", out)
	require.True(t, rep.OK)
	require.Zero(t, rep.Failed)
	require.Zero(t, rep.Skipped)
	names := []string{}
	for _, c := range rep.Checks {
		names = append(names, c.Name)
		require.Equalf(t, doctor.StatusOK, c.Status, "%s: %s", c.Name, c.Message)
	}
	require.Equal(t, doctor.Checks, names)
	requireStatus(t, rep, doctor.CheckSchema, doctor.StatusOK, "schema at version")
	requireStatus(t, rep, doctor.CheckSession, doctor.StatusOK, "a session of its own")
	requireStatus(t, rep, doctor.CheckPgDump, doctor.StatusOK, "pg_dump ")
	requireStatus(t, rep, doctor.CheckBucket, doctor.StatusOK, "put, read back and deleted")
	requireStatus(t, rep, doctor.CheckStripe, doctor.StatusOK, "Stripe accepted the key")
	requireStatus(t, rep, doctor.CheckRedis, doctor.StatusOK, "answered PING")

	store, err := objstore.Open(t.Context(), bucket.URL("cortexlayer/prod"), objstoretest.Options(endpoint))
	require.NoError(t, err)
	left, err := store.List(t.Context(), "")
	require.NoError(t, err)
	require.Empty(t, left, "the doctor's object is deleted")
}

func TestDoctorSkipsWhatIsNotConfiguredWithoutFailing(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	f, out := factory(t, d.URL, nil)
	f.Settings.Output = cmdutil.OutputTable

	err := cmdtest.Exec(doctor.NewCmdDoctor(f, nil))
	require.NoError(t, err, "skipped checks do not fail the run:\n%s", out)
	table := out.String()
	for _, want := range []string{
		"✓  database", "✓  schema", "✓  session", "✓  clock", "✓  pg_dump",
		"–  backup-bucket  skipped", "not configured: set BACKUP_URL (or --to) to check it",
		"–  stripe         skipped", "not configured: set STRIPE_API_KEY to check it",
		"–  redis          skipped", "not configured: set REDIS_URL to check it",
		"all good (3 skipped: a skipped check does not fail the run)",
	} {
		require.Contains(t, table, want)
	}
	require.NotContains(t, table, "✗")
}

func TestDoctorUnmigratedDatabase(t *testing.T) {
	t.Parallel()
	d := dbtest.NewEmpty(t)
	f, out := factory(t, d.URL, nil)

	rep, err := run(t, f, out)
	require.Equal(t, exitcode.Failed, exitcode.Of(err), "%v", err)
	require.Contains(t, err.Error(), "1 check failed: schema:")
	require.Equal(t, 1, rep.Failed)
	require.False(t, rep.OK)
	requireStatus(t, rep, doctor.CheckSchema, doctor.StatusFailed, "run `cortexctl db migrate`")
	// The others still ran.
	requireStatus(t, rep, doctor.CheckSession, doctor.StatusOK, "a session of its own")
	requireStatus(t, rep, doctor.CheckClock, doctor.StatusOK, "within")
	requireStatus(t, rep, doctor.CheckPgDump, doctor.StatusOK, "pg_dump ")
}

func TestDoctorUnreachableDatabaseSkipsWhatNeedsIt(t *testing.T) {
	t.Parallel()
	f, out := factory(t, "postgres://nobody@127.0.0.1:1/none?connect_timeout=2", map[string]string{cmdutil.EnvBackupURL: "file://" + t.TempDir()})

	rep, err := run(t, f, out)
	require.Equal(t, exitcode.Failed, exitcode.Of(err), "%v", err)
	requireStatus(t, rep, doctor.CheckDatabase, doctor.StatusFailed, "database unreachable at nobody@127.0.0.1:1/none")
	for _, name := range []string{doctor.CheckSchema, doctor.CheckSession, doctor.CheckClock, doctor.CheckPgDump} {
		requireStatus(t, rep, name, doctor.StatusSkipped, "it needs the database, which failed")
	}
	requireStatus(t, rep, doctor.CheckBucket, doctor.StatusOK, "put, read back and deleted")
	require.Equal(t, 1, rep.Failed)
}

func TestDoctorFailures(t *testing.T) {
	t.Parallel()
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: sk_test_***oops"}}`))
	}))
	t.Cleanup(refusing.Close)
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	notADir := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(notADir, []byte("x"), 0o600))

	for _, tc := range []struct {
		name, check, msg string
		env              map[string]string
	}{
		{"Redis unreachable", doctor.CheckRedis, "Redis did not answer", map[string]string{cmdutil.EnvRedisURL: "redis://127.0.0.1:1"}},
		{"Redis URL malformed", doctor.CheckRedis, "set REDIS_URL as redis://", map[string]string{cmdutil.EnvRedisURL: "http://127.0.0.1:6379"}},
		{"Stripe key refused", doctor.CheckStripe, "the key was refused", map[string]string{cmdutil.EnvStripeAPIKey: "sk_test_oops", cmdutil.EnvStripeAPIBase: refusing.URL}},
		{"Stripe unreachable", doctor.CheckStripe, "Stripe could not be reached", map[string]string{cmdutil.EnvStripeAPIKey: "sk_test_123", cmdutil.EnvStripeAPIBase: gone.URL}},
		{"Stripe key malformed", doctor.CheckStripe, "does not look like one", map[string]string{cmdutil.EnvStripeAPIKey: "pk_test_123"}},
		{"bucket cannot be opened", doctor.CheckBucket, "open: ", map[string]string{cmdutil.EnvBackupURL: "file://" + notADir + "/backups"}},
		{"bucket URL malformed", doctor.CheckBucket, "open: ", map[string]string{cmdutil.EnvBackupURL: "ftp://backups"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, out := factory(t, "postgres://nobody@127.0.0.1:1/none", tc.env)
			rep, err := run(t, f, out, "--check-timeout", "5s")
			require.Equal(t, exitcode.Failed, exitcode.Of(err))
			requireStatus(t, rep, tc.check, doctor.StatusFailed, tc.msg)
			require.Contains(t, err.Error(), tc.check+": ", "stderr names the failed check")
			require.NotContains(t, out.String(), "sk_test_oops", "the key never appears")
		})
	}
}

func TestDoctorBadBucketNamesTheStep(t *testing.T) {
	endpoint := objstoretest.Endpoint(t)
	objstoretest.SetCredentials(t)
	f, out := factory(t, "postgres://nobody@127.0.0.1:1/none", map[string]string{
		cmdutil.EnvBackupURL:  "s3://cortexctl-test-no-such-bucket-" + strings.ToLower(t.Name()[:4]) + "/prod",
		cmdutil.EnvS3Endpoint: endpoint, cmdutil.EnvAWSRegion: objstoretest.Region,
	})
	rep, _ := run(t, f, out)
	requireStatus(t, rep, doctor.CheckBucket, doctor.StatusFailed, "open: ")
}

func TestDoctorClockSkew(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	for _, tc := range []struct {
		name   string
		offset time.Duration
		status string
		msg    string
	}{
		{"in step", 0, doctor.StatusOK, "within"},
		{"a second off", time.Second, doctor.StatusOK, "within"},
		{"host ahead", 10 * time.Second, doctor.StatusFailed, "ahead of the database's (more than --max-skew 5s)"},
		{"host behind", -time.Hour, doctor.StatusFailed, "behind the database's"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, out := factory(t, d.URL, nil)
			f.Now = func() time.Time { return time.Now().Add(tc.offset) }
			rep, err := run(t, f, out)
			requireStatus(t, rep, doctor.CheckClock, tc.status, tc.msg)
			if tc.status == doctor.StatusFailed {
				require.Equal(t, exitcode.Failed, exitcode.Of(err))
				requireStatus(t, rep, doctor.CheckClock, tc.status, "sync both clocks with NTP")
			} else {
				require.NoError(t, err)
			}
		})
	}
}

func TestDoctorCheckTimeout(t *testing.T) {
	t.Parallel()
	hanging := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(hanging.Close)
	d := dbtest.New(t)
	f, out := factory(t, d.URL, map[string]string{cmdutil.EnvStripeAPIKey: "sk_test_123", cmdutil.EnvStripeAPIBase: hanging.URL})

	start := time.Now()
	rep, err := run(t, f, out, "--check-timeout", "3s") // room for pg_dump --version on a busy machine
	require.Less(t, time.Since(start), 9*time.Second, "the hanging check is cut off by its own timeout, not the default 10s")
	require.Equal(t, exitcode.Failed, exitcode.Of(err))
	requireStatus(t, rep, doctor.CheckStripe, doctor.StatusFailed, "timed out after 3s (--check-timeout)")
	require.Equal(t, 1, rep.Failed, "the others ran and passed: %+v", rep)
	requireStatus(t, rep, doctor.CheckPgDump, doctor.StatusOK, "pg_dump ")
}
