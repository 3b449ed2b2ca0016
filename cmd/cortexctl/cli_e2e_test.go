package main_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/db/dbtest"
	"github.com/cortexlayer/cortexctl/db/fixture"
)

// End-to-end tests of the binary's surface: help, version, how bad input
// and broken environments are refused, migrations, demo data, job history
// and the default output format.

// unreachableURL points at a port nothing listens on; its password must never
// be printed.
const (
	unreachablePassword = "s3cret-Pw-4711"
	unreachableURL      = "postgres://cortex:" + unreachablePassword + "@127.0.0.1:1/cortex?sslmode=disable&connect_timeout=5"
)

// emptyFixture is a database with no schema at all.
func emptyFixture(t testing.TB) *fixture.Fixture {
	return fixture.On(t, dbtest.NewEmpty(t))
}

// globalSection is the "Global Flags:" part of a subcommand's help.
func globalSection(t testing.TB, help string) string {
	t.Helper()
	_, after, ok := strings.Cut(help, "Global Flags:")
	require.Truef(t, ok, "no Global Flags section in:\n%s", help)
	return after
}

func TestCLIRootHelp(t *testing.T) {
	t.Parallel()
	c := newCLI(t, unreachableURL)
	r := c.runOK("--help")
	out := r.stdout
	for _, cmd := range []struct{ name, short string }{
		{"billing", "Daily billing jobs: overage charges and grace-period enforcement"},
		{"db", "Database schema, data and backups: migrate, seed, backup, backups, verify, restore"},
		{"jobs", "Job runs: history, show, status"},
		{"clients", "Clients: list, show, create, set-plan, rotate-key, revoke-key, enable, disable"},
		{"charges", "Overage charges: list the ledger, pending pushes and their errors"},
		{"version", "Print version, commit and build date"},
	} {
		require.Regexp(t, `(?m)^\s+`+cmd.name+`\s+`+regexp.QuoteMeta(cmd.short)+`$`, out, "command %s and its description", cmd.name)
	}
	require.Contains(t, out, "Exit codes:")
	for _, line := range []string{
		"0    success",
		"1    failed",
		"2    bad flags or arguments",
		"3    partial",
		"69   a dependency is unavailable",
		"75   skipped",
		"78   configuration error",
		"124  --timeout elapsed",
		"130  interrupted (SIGINT), 143 terminated (SIGTERM)",
	} {
		require.Contains(t, out, line)
	}
	require.Contains(t, out, "env DATABASE_URL")
	require.Regexp(t, `(?m)^\s+completion\s`, out, "shell completion is offered")
	require.Empty(t, r.stderr)

	// Without arguments the root prints the same help.
	require.Equal(t, out, c.runOK().stdout)
}

func TestCLISubcommandHelp(t *testing.T) {
	t.Parallel()
	c := newCLI(t, unreachableURL)

	overage := c.runOK("billing", "overage", "--help").stdout
	require.Contains(t, overage, "Examples:")
	require.Contains(t, overage, "cortexctl billing overage --dry-run")
	require.Contains(t, overage, "Needs STRIPE_API_KEY unless --no-stripe or --dry-run")
	require.Contains(t, overage, "--no-stripe")
	require.Contains(t, overage, "env STRIPE_API_BASE")
	require.Contains(t, overage, "Exit codes:")
	require.Contains(t, globalSection(t, overage), "env DATABASE_URL")
	require.Contains(t, globalSection(t, overage), "env CORTEXCTL_OUTPUT")

	grace := c.runOK("billing", "grace", "--help").stdout
	require.Contains(t, grace, "Examples:")
	require.Contains(t, grace, "cortexctl billing grace --dry-run")
	require.Contains(t, grace, "--grace-days")
	require.Contains(t, grace, "--as-of")
	require.Contains(t, grace, "Exit codes:")
	g := globalSection(t, grace)
	for _, env := range []string{"env DATABASE_URL", "env CORTEXCTL_LOG_FORMAT", "env CORTEXCTL_LOG_LEVEL", "env CORTEXCTL_OUTPUT"} {
		require.Contains(t, g, env)
	}

	// Every command that does something shows an example.
	for _, args := range [][]string{
		{"version"}, {"db", "migrate"}, {"db", "migrate", "status"}, {"db", "seed"}, {"jobs", "history"}, {"jobs", "show"},
		{"clients", "list"}, {"clients", "show"}, {"clients", "enable"}, {"clients", "disable"}, {"charges", "list"},
		{"clients", "create"}, {"clients", "set-plan"}, {"clients", "rotate-key"}, {"clients", "revoke-key"},
	} {
		out := c.runOK(append(args, "--help")...).stdout
		require.Containsf(t, out, "Examples:", "cortexctl %s --help", strings.Join(args, " "))
		require.Containsf(t, globalSection(t, out), "env DATABASE_URL", "cortexctl %s --help", strings.Join(args, " "))
	}
}

func TestCLIVersion(t *testing.T) {
	t.Parallel()
	c := newCLI(t, unreachableURL) // version never dials the database

	r := c.runOK("version", "--output", "table")
	require.Equal(t, "cortexctl "+testVersion+" (commit abc1234, built 2026-11-27T00:00:00Z)\n", r.stdout)

	v := decode[map[string]string](t, c.runOK("version", "--output", "json"))
	require.Equal(t, map[string]string{"version": testVersion, "commit": "abc1234", "date": "2026-11-27T00:00:00Z"}, v)

	// -o is --output.
	v = decode[map[string]string](t, c.runOK("version", "-o", "json"))
	require.Equal(t, testVersion, v["version"])
}

func TestCLIBadInput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"bogus"}, `unknown command "bogus" for "cortexctl"`},
		{"unknown subcommand", []string{"billing", "bogus"}, `unknown command "bogus" for "cortexctl billing"`},
		{"unknown flag", []string{"billing", "grace", "--bogus"}, "unknown flag: --bogus"},
		{"unknown global flag", []string{"--bogus", "version"}, "unknown flag: --bogus"},
		{"argument to a leaf command", []string{"version", "extra"}, `takes no arguments, got "extra"`},
		{"bad --as-of", []string{"billing", "grace", "--as-of", "yesterday"}, `invalid --as-of "yesterday"`},
		{"bad --as-of overage", []string{"billing", "overage", "--no-stripe", "--as-of", "2026-13-01"}, `invalid --as-of "2026-13-01"`},
		{"bad --as-of seed", []string{"db", "seed", "--demo", "--as-of", "soon"}, `invalid --as-of "soon"`},
		{"bad --output", []string{"version", "--output", "yaml"}, `invalid --output "yaml": use table or json`},
		{"bad --output env", []string{"version"}, `invalid CORTEXCTL_OUTPUT "xml"`},
		{"bad --log-level", []string{"billing", "grace", "--log-level", "loud"}, `invalid --log-level "loud"`},
		{"bad --log-format", []string{"version", "--log-format", "xml"}, `invalid --log-format "xml"`},
		{"--timeout 0s", []string{"billing", "grace", "--timeout", "0s"}, "--timeout must be positive, got 0s"},
		{"--timeout 0s overage", []string{"billing", "overage", "--no-stripe", "--timeout", "0s"}, "--timeout must be positive"},
		{"bad --timeout", []string{"billing", "grace", "--timeout", "soon"}, `invalid argument "soon" for "--timeout"`},
		{"bad --grace-days", []string{"billing", "grace", "--grace-days", "0"}, "--grace-days 0 is out of range"},
		{"bad --close-window", []string{"billing", "overage", "--no-stripe", "--close-window", "-1h"}, "--close-window -1h0m0s is out of range"},
		{"db seed without --demo", []string{"db", "seed"}, "nothing to seed: pass --demo"},
		{"jobs history --job bogus", []string{"jobs", "history", "--job", "bogus"}, `unknown --job "bogus"`},
		{"jobs history --limit 0", []string{"jobs", "history", "--limit", "0"}, "--limit 0 is out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var env []string
			if tc.name == "bad --output env" {
				env = append(env, "CORTEXCTL_OUTPUT=xml")
			}
			// The database is unreachable: bad input must be refused before
			// anything dials it (else this would exit 69).
			r := newCLI(t, unreachableURL, env...).run(tc.args...)
			requireOneLineError(t, r, 2, tc.want)
		})
	}
}

// An unreachable database is exit 69, and the password never shows.
func TestCLIUnreachableDatabase(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  []string
		args []string
	}{
		{"billing grace", nil, []string{"billing", "grace"}},
		{"billing overage", nil, []string{"billing", "overage", "--no-stripe"}},
		{"billing overage dry", nil, []string{"billing", "overage", "--dry-run"}},
		{"db migrate", nil, []string{"db", "migrate"}},
		{"db migrate status", nil, []string{"db", "migrate", "status"}},
		{"db seed", nil, []string{"db", "seed", "--demo"}},
		{"jobs history", nil, []string{"jobs", "history"}},
		{"flag URL", nil, []string{"billing", "grace", "--database-url", unreachableURL}},
		{"keyword/value string", []string{"DATABASE_URL=host=127.0.0.1 port=1 user=cortex password=" + unreachablePassword + " dbname=cortex"},
			[]string{"billing", "grace"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url := unreachableURL
			if tc.name == "flag URL" {
				url = ""
			}
			// --log-level debug: the "connecting" line names the database too.
			args := append([]string{"--log-level", "debug"}, tc.args...)
			r := newCLI(t, url, tc.env...).run(args...)
			requireOneLineError(t, r, 69, "database unreachable at cortex@127.0.0.1:1/cortex")
			require.NotContains(t, r.stderr, unreachablePassword)
		})
	}
}

// A database the migrations never ran on is a configuration error (78)
// that says what to run, and no command but `db migrate` creates tables.
func TestCLIUnmigratedDatabase(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"billing", "grace"},
		{"billing", "grace", "--dry-run"},
		{"billing", "overage", "--no-stripe"},
		{"db", "seed", "--demo"},
		{"jobs", "history"},
		{"jobs", "show", "1e05"},
		{"clients", "list"},
		{"clients", "show", "over@example.test"},
		{"clients", "enable", "over@example.test", "--note", "n"},
		{"clients", "disable", "over@example.test", "--note", "n"},
		{"charges", "list"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			f := emptyFixture(t)
			r := newCLI(t, f.DB.URL).run(args...)
			requireOneLineError(t, r, 78, "run `cortexctl db migrate`")
			require.False(t, f.TableExists("job_runs"))
			require.False(t, f.TableExists("goose_db_version"))
		})
	}
}

func TestCLIOverageNeedsStripeKey(t *testing.T) {
	t.Parallel()
	f := fixture.New(t)
	c := newCLI(t, f.DB.URL) // no STRIPE_API_KEY

	r := c.run("billing", "overage", "--as-of", "2026-10-15T00:00:00Z")
	requireOneLineError(t, r, 78, "STRIPE_API_KEY is not set")
	require.Contains(t, r.stderr, "--no-stripe")
	var status string
	var exit int
	f.Scalar(&status, `SELECT status FROM job_runs`)
	f.Scalar(&exit, `SELECT exit_code FROM job_runs`)
	require.Equal(t, []any{1, "failed", 78}, []any{f.JobRunCount(), status, exit},
		"a run refused by its preflight writes its job_runs row and nothing else")

	// A dry run calls no Stripe and needs no key.
	f.Usage(f.Client("starter"), 1300, at("2026-10-10T00:00:00Z"))
	before := f.Dump()
	dry := decode[overageJSON](t, c.runOK("billing", "overage", "--dry-run", "--as-of", "2026-10-15T00:00:00Z", "--output", "json"))
	require.True(t, dry.Run.DryRun)
	require.Equal(t, "succeeded", dry.Run.Status)
	require.False(t, dry.Report.Stripe.Enabled)
	require.EqualValues(t, 100, dry.Report.Totals.NewUnits)
	require.Equal(t, before, f.Dump())
}

func TestCLIMigrate(t *testing.T) {
	t.Parallel()
	f := emptyFixture(t)
	c := newCLI(t, f.DB.URL)

	type migrateOut struct {
		Applied []struct {
			Version int64  `json:"version"`
			Name    string `json:"name"`
		} `json:"applied"`
		SchemaVersion int64 `json:"schema_version"`
	}
	type statusOut []struct {
		Version   int64      `json:"version"`
		Name      string     `json:"name"`
		Applied   bool       `json:"applied"`
		AppliedAt *time.Time `json:"applied_at"`
	}

	// Every embedded migration, in order; the newest is the schema version.
	wantNames := []string{"00001_init.sql", "00002_operator_commands.sql", "00003_api.sql"}
	const latest = 3

	// Status on an empty database: pending, and it creates nothing.
	st := decode[statusOut](t, c.runOK("db", "migrate", "status", "--output", "json"))
	require.Len(t, st, len(wantNames))
	for i, m := range st {
		require.EqualValues(t, i+1, m.Version)
		require.Equal(t, wantNames[i], m.Name)
		require.False(t, m.Applied)
	}
	require.False(t, f.TableExists("goose_db_version"))

	first := decode[migrateOut](t, c.runOK("db", "migrate", "--output", "json"))
	require.Len(t, first.Applied, len(wantNames))
	for i, m := range first.Applied {
		require.EqualValues(t, i+1, m.Version)
		require.Equal(t, wantNames[i], m.Name)
	}
	require.EqualValues(t, latest, first.SchemaVersion)
	for _, table := range []string{"plans", "clients", "usage_logs", "payments", "job_runs", "overage_charges", "client_status_events"} {
		require.Truef(t, f.TableExists(table), "table %s", table)
	}

	r := c.runOK("db", "migrate", "--output", "json")
	require.Regexp(t, `"applied":\s*\[\]`, r.stdout, "nothing applied is an empty list, not null")
	second := decode[migrateOut](t, r)
	require.Empty(t, second.Applied)
	require.EqualValues(t, latest, second.SchemaVersion)

	st = decode[statusOut](t, c.runOK("db", "migrate", "status", "--output", "json"))
	require.Len(t, st, len(wantNames))
	for _, m := range st {
		require.True(t, m.Applied, m.Name)
		require.NotNil(t, m.AppliedAt, m.Name)
	}

	// The human form says the same.
	require.Contains(t, c.runOK("db", "migrate", "--output", "table").stdout, "schema is at version 3 (0 migrations applied now)")
	status := c.runOK("db", "migrate", "status", "--output", "table").stdout
	require.Regexp(t, `(?m)^1\s+00001_init\.sql\s+applied\s+\S+`, status)
	require.Regexp(t, `(?m)^2\s+00002_operator_commands\.sql\s+applied\s+\S+`, status)
	require.Regexp(t, `(?m)^3\s+00003_api\.sql\s+applied\s+\S+`, status)

	// Now the jobs accept the database.
	g := runGrace(t, c, "--as-of", rfc(graceAsOf))
	require.Equal(t, 0, g.Report.Totals.InGrace)
}

// Two `db migrate` at once on an empty database: both succeed, the schema
// is applied exactly once and is complete.
func TestCLIMigrateConcurrently(t *testing.T) {
	t.Parallel()
	f := emptyFixture(t)
	c := newCLI(t, f.DB.URL)

	type migrateOut struct {
		Applied       []struct{ Version int64 } `json:"applied"`
		SchemaVersion int64                     `json:"schema_version"`
	}
	cmd1, out1, err1 := c.start("db", "migrate", "--output", "json")
	cmd2, out2, err2 := c.start("db", "migrate", "--output", "json")
	r1 := c.wait(cmd1, out1, err1)
	r2 := c.wait(cmd2, out2, err2)
	require.Equalf(t, 0, r1.code, "first:\n%s", r1.stderr)
	require.Equalf(t, 0, r2.code, "second:\n%s", r2.stderr)
	m1, m2 := decode[migrateOut](t, r1), decode[migrateOut](t, r2)
	require.Equal(t, 3, len(m1.Applied)+len(m2.Applied), "each of the three migrations was applied once in all")
	require.EqualValues(t, 3, m1.SchemaVersion)
	require.EqualValues(t, 3, m2.SchemaVersion)

	var n int
	f.Scalar(&n, `SELECT count(*) FROM goose_db_version WHERE version_id IN (1, 2, 3) AND is_applied`)
	require.Equal(t, 3, n)
	for _, table := range []string{"plans", "clients", "usage_logs", "payments", "job_runs", "overage_charges", "client_status_events"} {
		require.Truef(t, f.TableExists(table), "table %s", table)
	}
	f.Scalar(&n, `SELECT count(*) FROM plans`)
	require.Equal(t, 3, n, "the plans were inserted once")
	f.Scalar(&n, `SELECT count(*) FROM pg_trigger WHERE tgrelid = 'clients'::regclass AND NOT tgisinternal`)
	require.Equal(t, 2, n)
	// And it works: a job runs on it.
	runGrace(t, c, "--as-of", rfc(graceAsOf))
}

// demoAsOf is late in a month, so the previous month is closed.
const demoAsOf = "2026-06-20T12:00:00Z"

func demoID(f *fixture.Fixture, name string) uuid.UUID {
	var id uuid.UUID
	f.Scalar(&id, `SELECT id FROM clients WHERE email = $1`, name+"@demo.cortexlayer.test")
	return id
}

func TestCLISeedDemoAndItsPromises(t *testing.T) {
	t.Parallel()
	f := fixture.New(t)
	c := newCLI(t, f.DB.URL)

	type demoClient struct {
		Email    string `json:"email"`
		Plan     string `json:"plan"`
		Status   string `json:"status"`
		Queries  int64  `json:"queries_this_month"`
		Scenario string `json:"scenario"`
	}
	seeded := decode[[]demoClient](t, c.runOK("db", "seed", "--demo", "--as-of", demoAsOf, "--output", "json"))
	require.Len(t, seeded, 11)
	for _, d := range seeded {
		require.True(t, strings.HasSuffix(d.Email, "@demo.cortexlayer.test"), d.Email)
		require.NotEmpty(t, d.Scenario)
	}
	var n int
	f.Scalar(&n, `SELECT count(*) FROM clients`)
	require.Equal(t, 11, n)

	// A client of someone else's, then: seeding again needs --force.
	other := f.Client("growth")
	before := f.Dump()
	r := c.run("db", "seed", "--demo", "--as-of", demoAsOf)
	requireOneLineError(t, r, 1, "pass --force")
	require.Equal(t, before, f.Dump())

	// --force replaces the demo clients and keeps the other.
	seeded = decode[[]demoClient](t, c.runOK("db", "seed", "--demo", "--force", "--as-of", demoAsOf, "--output", "json"))
	require.Len(t, seeded, 11)
	f.Scalar(&n, `SELECT count(*) FROM clients WHERE email LIKE '%@demo.cortexlayer.test'`)
	require.Equal(t, 11, n)
	f.Scalar(&n, `SELECT count(*) FROM clients`)
	require.Equal(t, 12, n)
	status, _ := f.Status(other)
	require.Equal(t, "active", status)

	// The overage job keeps the demo's promises.
	ov := decode[overageJSON](t, c.runOK("billing", "overage", "--no-stripe", "--output", "json", "--as-of", demoAsOf))
	require.Equal(t, "succeeded", ov.Run.Status)
	require.Equal(t, []string{"2026-06"}, ov.Report.Periods)
	require.Equal(t, "2026-05", ov.Report.ClosedPeriod)
	type want struct {
		used, before, newUnits, cents int64
		action                        string
	}
	got := map[uuid.UUID]want{}
	for _, l := range ov.Report.Clients {
		require.Equal(t, "2026-06", l.Period)
		require.Empty(t, l.Error)
		got[l.ClientID] = want{l.Used, l.ChargedBefore, l.NewUnits, l.AmountCents, l.Action}
	}
	require.Equal(t, map[uuid.UUID]want{
		demoID(f, "between"):   {1350, 0, 150, 150, "bill"},
		demoID(f, "over"):      {8000, 0, 2000, 2000, "bill+disable"},
		demoID(f, "growing"):   {61000, 500, 500, 500, "bill"},
		demoID(f, "recovered"): {200, 0, 0, 0, "reactivate"},
		demoID(f, "cancelled"): {1400, 0, 200, 200, "bill"},
	}, got)
	tot := ov.Report.Totals
	require.Equal(t, 12, tot.ClientsEvaluated)
	require.Equal(t, 4, tot.ChargesCreated)
	require.EqualValues(t, 2850, tot.NewUnits)
	require.Equal(t, map[string]int64{"usd": 2850}, tot.AmountCents)
	require.Equal(t, 1, tot.Disabled)
	require.Equal(t, 1, tot.Reactivated)
	require.Zero(t, tot.ClosedPeriodUnbilledUnits)
	require.Zero(t, tot.ClientsFailed)
	require.False(t, ov.Report.Stripe.Enabled)
	require.Equal(t, 4, ov.Report.Stripe.Pending)

	for name, w := range map[string]struct{ units, cents int64 }{
		"between": {150, 150}, "over": {2000, 2000}, "growing": {1000, 1000}, "cancelled": {200, 200}, "under": {0, 0},
	} {
		units, cents := f.Charged(demoID(f, name), "2026-06-01")
		require.Equalf(t, w.units, units, "%s units", name)
		require.Equalf(t, w.cents, cents, "%s cents", name)
	}
	for name, w := range map[string][2]string{
		"over": {"disabled", "hard_cap"}, "recovered": {"active", ""}, "cancelled": {"cancelled", ""}, "between": {"active", ""},
	} {
		status, reason := f.Status(demoID(f, name))
		require.Equalf(t, w, [2]string{status, reason}, "%s", name)
	}

	// The grace job keeps them too.
	g := runGrace(t, c, "--as-of", demoAsOf)
	expired, fresh, paid := demoID(f, "grace-expired"), demoID(f, "grace-fresh"), demoID(f, "grace-paid")
	require.Equal(t, map[uuid.UUID]string{expired: "disable", fresh: "none", paid: "reactivate"}, g.actions(t))
	require.Equal(t, 3, g.line(t, expired).FailedPayments)
	asOf, err := time.Parse(time.RFC3339, demoAsOf)
	require.NoError(t, err)
	require.NotNil(t, g.line(t, paid).PaidAt)
	require.True(t, asOf.Add(-24*time.Hour).Equal(*g.line(t, paid).PaidAt))
	require.True(t, asOf.Add(-3*24*time.Hour+graceWeek).Equal(g.line(t, fresh).Deadline))
	require.Equal(t, 3, g.Report.Totals.InGrace)
	require.Equal(t, 1, g.Report.Totals.Disabled)
	require.Equal(t, 1, g.Report.Totals.Reactivated)
	for name, w := range map[string][2]string{
		"grace-expired": {"disabled", "grace_expired"}, "grace-paid": {"active", ""}, "grace-fresh": {"grace_period", ""},
	} {
		status, reason := f.Status(demoID(f, name))
		require.Equalf(t, w, [2]string{status, reason}, "%s", name)
	}
}

func TestCLIJobsHistory(t *testing.T) {
	t.Parallel()
	f := fixture.New(t)
	c := newCLI(t, f.DB.URL)

	type run struct {
		ID         uuid.UUID  `json:"run_id"`
		Job        string     `json:"job"`
		Status     string     `json:"status"`
		DryRun     bool       `json:"dry_run"`
		AsOf       *time.Time `json:"as_of"`
		Version    string     `json:"version"`
		StartedAt  time.Time  `json:"started_at"`
		FinishedAt *time.Time `json:"finished_at"`
		ExitCode   *int       `json:"exit_code"`
		Error      *string    `json:"error"`
	}
	empty := c.runOK("jobs", "history", "--output", "json")
	require.JSONEq(t, "[]", empty.stdout)
	require.Contains(t, c.runOK("jobs", "history", "--output", "table").stdout, "no runs recorded yet")

	dry := runGrace(t, c, "--as-of", rfc(graceAsOf), "--dry-run")
	wet := runGrace(t, c, "--as-of", rfc(graceAsOf))
	// One active client far over its hard cap: the blast-radius guard refuses (exit 1).
	f.Usage(f.Client("starter"), 2000, at("2026-10-10T00:00:00Z"))
	r := c.run("billing", "overage", "--no-stripe", "--as-of", rfc(graceAsOf), "--output", "json")
	require.Equalf(t, 1, r.code, "stderr:\n%s", r.stderr)
	guarded := decode[overageJSON](t, r)

	hist := decode[[]run](t, c.runOK("jobs", "history", "--output", "json"))
	require.Len(t, hist, 3)
	require.Equal(t, []uuid.UUID{guarded.Run.ID, wet.Run.ID, dry.Run.ID}, []uuid.UUID{hist[0].ID, hist[1].ID, hist[2].ID}, "newest first")
	require.Equal(t, []string{"billing-overage", "billing-grace", "billing-grace"}, []string{hist[0].Job, hist[1].Job, hist[2].Job})
	require.Equal(t, []string{"failed", "succeeded", "succeeded"}, []string{hist[0].Status, hist[1].Status, hist[2].Status})
	require.Equal(t, []bool{false, false, true}, []bool{hist[0].DryRun, hist[1].DryRun, hist[2].DryRun})
	for i, h := range hist {
		require.NotNil(t, h.ExitCode)
		require.NotNil(t, h.FinishedAt)
		require.NotNil(t, h.AsOf)
		require.True(t, graceAsOf.Equal(*h.AsOf))
		require.Equal(t, testVersion, h.Version)
		if i > 0 {
			require.False(t, h.StartedAt.After(hist[i-1].StartedAt), "newest first")
		}
	}
	require.Equal(t, 1, *hist[0].ExitCode)
	require.NotNil(t, hist[0].Error)
	require.Contains(t, *hist[0].Error, "--max-disable-percent")
	require.Equal(t, 0, *hist[1].ExitCode)
	require.Nil(t, hist[1].Error)

	grace := decode[[]run](t, c.runOK("jobs", "history", "--job", "billing-grace", "--output", "json"))
	require.Len(t, grace, 2)
	require.Equal(t, wet.Run.ID, grace[0].ID)
	one := decode[[]run](t, c.runOK("jobs", "history", "--limit", "1", "--output", "json"))
	require.Len(t, one, 1)
	require.Equal(t, guarded.Run.ID, one[0].ID)

	tbl := c.runOK("jobs", "history", "--output", "table").stdout
	require.Contains(t, tbl, "STARTED")
	require.Contains(t, tbl, wet.Run.ID.String()[:8])
	require.Regexp(t, `billing-overage\s+failed\s+false`, tbl)
	require.Regexp(t, `billing-grace\s+succeeded\s+true`, tbl)

	requireOneLineError(t, c.run("jobs", "history", "--job", "bogus"), 2, `unknown --job "bogus": use one of billing-overage, billing-grace`)
	requireOneLineError(t, c.run("jobs", "history", "--limit", "0"), 2, "--limit 0 is out of range: use 1 to 1000")
	requireOneLineError(t, c.run("jobs", "history", "--limit", "1001"), 2, "--limit 1001 is out of range")
}

// Results are a table on a pipe too: the format never changes behind the
// caller's back. JSON is asked for, by -o json or CORTEXCTL_OUTPUT, the
// flag first.
func TestCLIDefaultOutputIsATableOnAPipe(t *testing.T) {
	t.Parallel()
	f := fixture.New(t)
	f.GraceClient("starter", graceAsOf.Add(-8*24*time.Hour))
	c := newCLI(t, f.DB.URL)

	require.Equal(t, "cortexctl "+testVersion+" (commit abc1234, built 2026-11-27T00:00:00Z)\n", c.runOK("version").stdout)
	g := c.runOK("billing", "grace", "--dry-run", "--as-of", rfc(graceAsOf)).stdout
	require.Contains(t, g, "billing-grace  run ")
	require.Regexp(t, `(?m)^CLIENT\s+PLAN\s+GRACE SINCE\s+DEADLINE`, g)
	require.Contains(t, c.runOK("jobs", "history").stdout, "STARTED")
	require.Regexp(t, `(?m)^1\s+00001_init\.sql\s+applied`, c.runOK("db", "migrate", "status").stdout)
	for _, out := range []string{g, c.runOK("jobs", "history").stdout} {
		for _, line := range strings.Split(out, "\n") {
			require.Equal(t, strings.TrimRight(line, " "), line, "no trailing spaces")
		}
	}

	// The environment picks JSON; the flag beats the environment.
	jc := newCLI(t, f.DB.URL, "CORTEXCTL_OUTPUT=json")
	v := decode[map[string]string](t, jc.runOK("version"))
	require.Equal(t, testVersion, v["version"])
	require.Len(t, decode[[]map[string]any](t, jc.runOK("jobs", "history")), 1)
	require.Contains(t, jc.runOK("jobs", "history", "-o", "table").stdout, "STARTED")
}
