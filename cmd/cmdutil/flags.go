package cmdutil

import (
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/jobs/runner"
)

// ExitCodesHelp ends the help of every command that runs a job.
const ExitCodesHelp = `Exit codes:
  0    success, including "nothing to do"
  1    failed (including a refused blast-radius guard)
  2    bad flags or arguments
  3    partial: some clients failed, the rest committed
  69   a dependency is unavailable (database, Stripe)
  75   skipped: another run of the job holds its lock
  78   configuration error (missing STRIPE_API_KEY, unmigrated database)
  124  --timeout elapsed
  130  interrupted (SIGINT), 143 terminated (SIGTERM)`

// NoArgs rejects positional arguments, naming an unknown subcommand.
func NoArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if cmd.HasSubCommands() {
		return exitcode.Errorf(exitcode.Usage, "unknown command %q for %q (see '%s --help')", args[0], cmd.CommandPath(), cmd.CommandPath())
	}
	return exitcode.Errorf(exitcode.Usage, "%s takes no arguments, got %q", cmd.CommandPath(), strings.Join(args, " "))
}

// FlagError turns cobra's flag parsing errors into usage errors (exit 2).
func FlagError(cmd *cobra.Command, err error) error {
	return exitcode.Errorf(exitcode.Usage, "%v (see '%s --help')", err, cmd.CommandPath())
}

// Group is a command that only holds subcommands.
func Group(use, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{
		Use: use, Short: short, Args: NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	c.AddCommand(subs...)
	return c
}

// ParseAsOf reads an --as-of: RFC 3339, or a date meaning 00:00 UTC that
// day; empty means now.
func ParseAsOf(s string, now func() time.Time) (time.Time, error) {
	if s == "" {
		return now().UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, exitcode.Errorf(exitcode.Usage,
		"invalid --as-of %q: use RFC 3339 (2026-11-27T02:00:00Z) or a date (2026-11-27, meaning 00:00 UTC)", s)
}

// JobFlags are the flags every job shares, declared once: --as-of,
// --dry-run, --timeout, --client. They resolve into runner.Params, which
// every job's Options embed.
type JobFlags struct {
	asOf, client   string
	dryRun         bool
	timeout        time.Duration
	defaultTimeout time.Duration
}

// Bind declares the flags on cmd. ignored names what the job ignores at or
// after as-of ("usage", "a payment").
func (j *JobFlags) Bind(cmd *cobra.Command, defaultTimeout time.Duration, ignored string) {
	fl := cmd.Flags()
	fl.StringVar(&j.asOf, "as-of", "", "evaluate as if run at this instant: RFC 3339 or a date (00:00 UTC); "+ignored+" at or after it is ignored (default now)")
	fl.BoolVar(&j.dryRun, "dry-run", false, "evaluate and report, write nothing but the run's own job_runs row")
	fl.DurationVar(&j.timeout, "timeout", defaultTimeout, "stop the run cleanly after this long (between clients)")
	fl.StringVar(&j.client, "client", "", "only this client (its id)")
}

// Params resolves the flags; now is the clock an absent --as-of reads.
func (j *JobFlags) Params(now func() time.Time) (runner.Params, error) {
	asOf, err := ParseAsOf(j.asOf, now)
	if err != nil {
		return runner.Params{}, err
	}
	if j.timeout <= 0 {
		return runner.Params{}, exitcode.Errorf(exitcode.Usage, "--timeout must be positive, got %s", j.timeout)
	}
	p := runner.Params{AsOf: asOf, DryRun: j.dryRun, Timeout: j.timeout}
	if j.client != "" {
		if p.ClientID, err = uuid.Parse(j.client); err != nil {
			return runner.Params{}, exitcode.Errorf(exitcode.Usage, "invalid --client %q: it takes a client id (a UUID)", j.client)
		}
	}
	return p, nil
}
