// Package doctor holds `cortexctl doctor`: it checks what a deployment
// needs (the database and its schema, a session for advisory locks, the
// clock, pg_dump, the backup bucket, Stripe, Redis) and says in plain words
// what is wrong and how to fix it.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
	"github.com/cortexlayer/cortexctl/internal/english"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// The statuses of a check.
const (
	StatusOK      = "ok"
	StatusFailed  = "failed"
	StatusSkipped = "skipped" // not configured, or needs a check that failed; never fails the run
)

// The checks, in the order they are reported.
const (
	CheckDatabase = "database"
	CheckSchema   = "schema"
	CheckSession  = "session"
	CheckClock    = "clock"
	CheckPgDump   = "pg_dump"
	CheckBucket   = "backup-bucket"
	CheckStripe   = "stripe"
	CheckRedis    = "redis"
)

// Checks are the checks' names, in order.
var Checks = []string{CheckDatabase, CheckSchema, CheckSession, CheckClock, CheckPgDump, CheckBucket, CheckStripe, CheckRedis}

// Defaults.
const (
	DefaultCheckTimeout = 10 * time.Second
	// DefaultMaxSkew is how far the host's clock may be from the database's:
	// the jobs take the time from the database, the API from the host.
	DefaultMaxSkew = 5 * time.Second
)

// Options are `doctor`'s inputs once its flags are validated.
type Options struct {
	Factory      *cmdutil.Factory
	CheckTimeout time.Duration
	MaxSkew      time.Duration
	Store        StoreSettings
	StripeBase   string // resolved: flag > STRIPE_API_BASE > ""
}

// Result is one check's outcome.
type Result struct {
	Name       string `json:"name"`
	Status     string `json:"status"`
	DurationMS int64  `json:"duration_ms"`
	Message    string `json:"message"`
}

// Report is what doctor prints.
type Report struct {
	OK      bool     `json:"ok"` // no check failed (skipped ones do not count)
	Failed  int      `json:"failed"`
	Skipped int      `json:"skipped"`
	Checks  []Result `json:"checks"`
}

// NewCmdDoctor is `cortexctl doctor`.
func NewCmdDoctor(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Factory: f}
	var store cmdutil.StoreFlags
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check what a deployment needs, and say what is wrong",
		Long: `Checks, each with its own timeout, and all of them even when one fails:

  database       ` + cmdutil.EnvDatabaseURL + ` answers
  schema         the schema is migrated as far as this cortexctl needs
  session        the connection is a session of its own (advisory locks need one):
                 not a transaction pooler such as PgBouncer in transaction mode
  clock          the host's clock is within --max-skew of the database's
  pg_dump        a pg_dump of the server's major version or newer is installed
  backup-bucket  a tiny object can be put, read back and deleted under
                 .cortexctl-doctor/ at ` + cmdutil.EnvBackupURL + ` (or --to)
  stripe         Stripe accepts ` + cmdutil.EnvStripeAPIKey + ` (one read-only call: the balance)
  redis          the Redis at ` + cmdutil.EnvRedisURL + ` answers PING

A check whose setting is absent (no ` + cmdutil.EnvBackupURL + `, ` + cmdutil.EnvStripeAPIKey + ` or ` + cmdutil.EnvRedisURL + `) is
skipped, and so is one that needs the database when the database failed: a
skipped check does not fail the run. Exit 0 when no check failed, 1 when
one did; the failures are listed on stderr as well.`,
		Example: `  cortexctl doctor
  cortexctl doctor --output json
  BACKUP_URL=s3://backups/cortexlayer AWS_ENDPOINT_URL_S3=https://<account>.r2.cloudflarestorage.com cortexctl doctor`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.CheckTimeout <= 0 {
				return exitcode.Errorf(exitcode.Usage, "--check-timeout %s must be positive, e.g. 10s", opts.CheckTimeout)
			}
			if opts.MaxSkew <= 0 {
				return exitcode.Errorf(exitcode.Usage, "--max-skew %s must be positive, e.g. 5s", opts.MaxSkew)
			}
			store.Apply(f)
			opts.Store = StoreSettings{URL: store.URL, Options: store.Options()}
			opts.StripeBase = f.Stripe(opts.StripeBase, cmd.Flags().Changed("stripe-api-base")).APIBase
			if runF != nil {
				return runF(opts)
			}
			return runDoctor(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.DurationVar(&opts.CheckTimeout, "check-timeout", DefaultCheckTimeout, "how long each check may take")
	fl.DurationVar(&opts.MaxSkew, "max-skew", DefaultMaxSkew, "how far the host's clock may be from the database's")
	fl.StringVar(&opts.StripeBase, "stripe-api-base", "", "Stripe API base URL, e.g. http://127.0.0.1:12111 for stripe-mock (env "+cmdutil.EnvStripeAPIBase+")")
	store.Bind(cmd)
	return cmd
}

func runDoctor(ctx context.Context, opts *Options) error {
	rep := Run(ctx, opts)
	f := opts.Factory
	if f.JSON() {
		if err := cmdutil.WriteJSON(f.IOStreams.Out, rep); err != nil {
			return err
		}
	} else if err := writeTable(f, rep); err != nil {
		return err
	}
	if rep.Failed == 0 {
		return nil
	}
	var lines []string
	for _, c := range rep.Checks {
		if c.Status == StatusFailed {
			lines = append(lines, c.Name+": "+c.Message)
		}
	}
	return exitcode.Errorf(exitcode.Failed, "%s failed: %s", english.Plural(rep.Failed, "check"), strings.Join(lines, "; "))
}

// Run runs every check and returns the report. The database checks run in
// order on one connection pool (each needs the one before); the others
// run beside them.
func Run(ctx context.Context, opts *Options) Report {
	byName := map[string]Result{}
	var mu sync.Mutex
	record := func(r Result) {
		mu.Lock()
		defer mu.Unlock()
		byName[r.Name] = r
	}
	var wg sync.WaitGroup
	wg.Go(func() { runDatabaseChecks(ctx, opts, record) })
	wg.Go(func() {
		record(timed(ctx, opts, CheckBucket, func(ctx context.Context) (string, string) { return checkBucket(ctx, opts.Store) }))
	})
	wg.Go(func() {
		record(timed(ctx, opts, CheckStripe, func(ctx context.Context) (string, string) { return checkStripe(ctx, opts) }))
	})
	wg.Go(func() {
		record(timed(ctx, opts, CheckRedis, func(ctx context.Context) (string, string) {
			return checkRedis(ctx, opts.Factory.Env(cmdutil.EnvRedisURL))
		}))
	})
	wg.Wait()

	rep := Report{Checks: make([]Result, 0, len(Checks))}
	for _, name := range Checks {
		r := byName[name]
		switch r.Status {
		case StatusFailed:
			rep.Failed++
		case StatusSkipped:
			rep.Skipped++
		}
		rep.Checks = append(rep.Checks, r)
	}
	rep.OK = rep.Failed == 0
	return rep
}

// timed runs one check under its own timeout and measures it.
func timed(ctx context.Context, opts *Options, name string, check func(context.Context) (status, msg string)) Result {
	ctx, cancel := context.WithTimeout(ctx, opts.CheckTimeout)
	defer cancel()
	start := time.Now()
	status, msg := check(ctx)
	if status != StatusOK && ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && !strings.Contains(msg, "timed out") {
		msg = fmt.Sprintf("timed out after %s (--check-timeout): %s", opts.CheckTimeout, msg)
	}
	return Result{Name: name, Status: status, DurationMS: time.Since(start).Milliseconds(), Message: msg}
}

func skipped(name, msg string) Result { return Result{Name: name, Status: StatusSkipped, Message: msg} }

// notConfigured is the message of a check whose setting is absent.
func notConfigured(setting string) string {
	return "not configured: set " + setting + " to check it"
}

func symbol(status string) string {
	switch status {
	case StatusOK:
		return "✓"
	case StatusFailed:
		return "✗"
	default:
		return "–"
	}
}

func writeTable(f *cmdutil.Factory, rep Report) error {
	rows := [][]string{{"", "CHECK", "STATUS", "TIME", "MESSAGE"}}
	for _, c := range rep.Checks {
		rows = append(rows, []string{symbol(c.Status), c.Name, c.Status, fmt.Sprintf("%dms", c.DurationMS), c.Message})
	}
	out := f.IOStreams.Out
	if err := cmdutil.Table(out, rows); err != nil {
		return err
	}
	verdict := "all good"
	if !rep.OK {
		verdict = english.Plural(rep.Failed, "check") + " failed"
	}
	note := ""
	if rep.Skipped > 0 {
		note = fmt.Sprintf(" (%d skipped: a skipped check does not fail the run)", rep.Skipped)
	}
	_, err := fmt.Fprintf(out, "\n%s%s\n", verdict, note)
	return err
}
