package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

const exitCodesHelp = `Exit codes:
  0    success, including "nothing to do"
  1    failed (including a refused blast-radius guard)
  2    bad flags or arguments
  3    partial: some clients failed, the rest committed
  69   a dependency is unavailable (database, Stripe)
  75   skipped: another run of the job holds its lock
  78   configuration error (missing STRIPE_API_KEY, unmigrated database)
  124  --timeout elapsed
  130  interrupted (SIGINT), 143 terminated (SIGTERM)`

func newRootCmd(f *factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "cortexctl",
		Short: "CortexLayer operations: billing jobs, migrations, run history",
		Long: `cortexctl runs CortexLayer's scheduled jobs. Each command runs to completion
and exits; cron starts them. Results go to stdout (a table on a terminal,
JSON otherwise), logs to stderr.

` + exitCodesHelp,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          noArgs,
		RunE:          func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			fl := cmd.Flags()
			f.g.databaseURL = envOr(f.g.databaseURL, fl.Changed("database-url"), f.env, EnvDatabaseURL, "")
			f.g.logFormat = envOr(f.g.logFormat, fl.Changed("log-format"), f.env, EnvLogFormat, "auto")
			f.g.logLevel = envOr(f.g.logLevel, fl.Changed("log-level"), f.env, EnvLogLevel, "info")
			f.g.output = envOr(f.g.output, fl.Changed("output"), f.env, EnvOutput, "")
			return f.setup()
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&f.g.databaseURL, "database-url", "",
		"PostgreSQL connection string (env "+EnvDatabaseURL+"; else libpq's PG* variables)")
	pf.StringVar(&f.g.logFormat, "log-format", "auto", "log format: auto (console on a terminal, JSON otherwise), json, console (env "+EnvLogFormat+")")
	pf.StringVar(&f.g.logLevel, "log-level", "info", "log level: debug, info, warn, error (env "+EnvLogLevel+")")
	pf.StringVarP(&f.g.output, "output", "o", "", "result format: table or json (default: table on a terminal, JSON otherwise) (env "+EnvOutput+")")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return exitcode.Errorf(exitcode.Usage, "%v (see '%s --help')", err, cmd.CommandPath())
	})
	root.SetOut(f.stdout)
	root.SetErr(f.stderr)
	root.CompletionOptions.DisableDefaultCmd = true

	root.AddCommand(newVersionCmd(f), newBillingCmd(f), newDBCmd(f), newJobsCmd(f))
	return root
}

// noArgs rejects positional arguments, naming an unknown subcommand.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if cmd.HasSubCommands() {
		return exitcode.Errorf(exitcode.Usage, "unknown command %q for %q (see '%s --help')", args[0], cmd.CommandPath(), cmd.CommandPath())
	}
	return exitcode.Errorf(exitcode.Usage, "%s takes no arguments, got %q", cmd.CommandPath(), strings.Join(args, " "))
}

// group is a command that only holds subcommands.
func group(use, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{
		Use: use, Short: short, Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	c.AddCommand(subs...)
	return c
}

// parseAsOf reads --as-of: RFC 3339, or a date meaning 00:00 UTC that day.
func parseAsOf(s string, now func() time.Time) (time.Time, error) {
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

func newVersionCmd(f *factory) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print version, commit and build date",
		Example: "  cortexctl version\n  cortexctl version --output json",
		Args:    noArgs,
		RunE: func(*cobra.Command, []string) error {
			v := map[string]string{"version": version, "commit": commit, "date": date}
			if f.g.output == "json" {
				return writeJSON(f.stdout, v)
			}
			_, err := fmt.Fprintf(f.stdout, "cortexctl %s (commit %s, built %s)\n", version, commit, date)
			return err
		},
	}
}
