package cmdutil

import (
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

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
		hint := ""
		if cmd.SuggestionsMinimumDistance <= 0 {
			cmd.SuggestionsMinimumDistance = 2 // cobra's default, which it sets only on its own path
		}
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			hint = fmt.Sprintf("; did you mean %q?", s[0])
		}
		return exitcode.Errorf(exitcode.Usage, "unknown command %q for %q%s (see '%s --help')", args[0], cmd.CommandPath(), hint, cmd.CommandPath())
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

// RefuseEmptyFlags refuses a string flag that was given with an empty
// value: given-but-empty must never fall back to a default that means "all
// clients", "every job" or "whatever libpq finds". The root command runs it
// before every command.
func RefuseEmptyFlags(cmd *cobra.Command) error {
	var err error
	cmd.Flags().Visit(func(f *pflag.Flag) {
		empty := false
		switch f.Value.Type() {
		case "string":
			empty = strings.TrimSpace(f.Value.String()) == ""
		case "stringSlice", "stringArray":
			empty = f.Value.String() == "[]"
		}
		if err == nil && empty {
			err = exitcode.Errorf(exitcode.Usage, "--%s was given but is empty: give it a value, or leave the flag out", f.Name)
		}
	})
	return err
}

// ParseAsOf reads an --as-of: RFC 3339 (any offset, any sub-second
// digits), or a date meaning 00:00 UTC that day. The instant is truncated
// to the microsecond, as PostgreSQL keeps it, so the instant evaluated is
// the instant recorded.
func ParseAsOf(s string) (time.Time, error) { return ParseInstant("as-of", s) }

// ParseInstant reads the instant given to --flag as ParseAsOf does: RFC
// 3339, or a date meaning 00:00 UTC that day.
func ParseInstant(flag, s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC().Truncate(time.Microsecond), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, exitcode.Errorf(exitcode.Usage,
		"invalid --%s %q: use RFC 3339 (2026-11-27T02:00:00Z) or a date (2026-11-27, meaning 00:00 UTC)", flag, s)
}

// OneArg accepts exactly one positional argument, not blank; what names
// it in the errors ("a client: its id or e-mail").
func OneArg(what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) == 0:
			return exitcode.Errorf(exitcode.Usage, "%s needs %s (see '%s --help')", cmd.CommandPath(), what, cmd.CommandPath())
		case len(args) > 1:
			return exitcode.Errorf(exitcode.Usage, "%s takes one argument, %s; got %d: %q", cmd.CommandPath(), what, len(args), strings.Join(args, " "))
		case strings.TrimSpace(args[0]) == "":
			return exitcode.Errorf(exitcode.Usage, "%s was given an empty argument: it needs %s", cmd.CommandPath(), what)
		}
		return nil
	}
}

// JobFlags are the flags every job shares, declared once: --as-of,
// --dry-run, --timeout, --client. They resolve into runner.Params, which
// every job's Options embed.
type JobFlags struct {
	asOf, client string
	dryRun       bool
	timeout      time.Duration
}

// Bind declares the flags on cmd. ignored names what the job ignores at or
// after as-of ("usage", "a payment").
func (j *JobFlags) Bind(cmd *cobra.Command, defaultTimeout time.Duration, ignored string) {
	fl := cmd.Flags()
	fl.StringVar(&j.asOf, "as-of", "", "evaluate as if run at this instant: RFC 3339 or a date (00:00 UTC); "+ignored+" at or after it is ignored (default: the database's clock when the run starts)")
	fl.BoolVar(&j.dryRun, "dry-run", false, "evaluate and report, write nothing but the run's own job_runs row")
	fl.DurationVar(&j.timeout, "timeout", defaultTimeout, "stop the run cleanly after this long (between clients)")
	fl.StringVar(&j.client, "client", "", "only this client (its id)")
}

// BindRun declares only --dry-run and --timeout, for a job that evaluates
// no instant and no client (db backup).
func (j *JobFlags) BindRun(cmd *cobra.Command, defaultTimeout time.Duration) {
	fl := cmd.Flags()
	fl.BoolVar(&j.dryRun, "dry-run", false, "say what would be done, write nothing but the run's own job_runs row")
	fl.DurationVar(&j.timeout, "timeout", defaultTimeout, "stop the run after this long")
}

// Params resolves the flags. Without --as-of, AsOf stays zero: the runner
// takes the database's clock once the run holds its lock.
func (j *JobFlags) Params() (runner.Params, error) {
	p := runner.Params{DryRun: j.dryRun, Timeout: j.timeout}
	if j.asOf != "" {
		var err error
		if p.AsOf, err = ParseAsOf(j.asOf); err != nil {
			return runner.Params{}, err
		}
	}
	if j.timeout <= 0 {
		return runner.Params{}, exitcode.Errorf(exitcode.Usage, "--timeout must be positive, got %s", j.timeout)
	}
	if j.client != "" {
		id, err := uuid.Parse(j.client)
		if err != nil {
			return runner.Params{}, exitcode.Errorf(exitcode.Usage, "invalid --client %q: it takes a client id (a UUID)", j.client)
		}
		if id == uuid.Nil {
			return runner.Params{}, exitcode.Errorf(exitcode.Usage, "--client %s is the nil UUID, which no client has: give a client's id, or leave the flag out for every client", j.client)
		}
		p.ClientID = id
	}
	return p, nil
}
