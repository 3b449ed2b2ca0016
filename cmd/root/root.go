// Package root assembles the cortexctl command tree: the global flags, the
// version command, and one command group per noun (billing, charges,
// clients, db, jobs, schedule), with api and doctor.
package root

import (
	"fmt"

	"github.com/spf13/cobra"

	apicmd "github.com/cortexlayer/cortexctl/cmd/api"
	"github.com/cortexlayer/cortexctl/cmd/billing"
	"github.com/cortexlayer/cortexctl/cmd/charges"
	"github.com/cortexlayer/cortexctl/cmd/clients"
	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
	dbcmd "github.com/cortexlayer/cortexctl/cmd/db"
	"github.com/cortexlayer/cortexctl/cmd/doctor"
	"github.com/cortexlayer/cortexctl/cmd/jobs"
	"github.com/cortexlayer/cortexctl/cmd/schedule"
)

// NewCmdRoot is `cortexctl`.
func NewCmdRoot(f *cmdutil.Factory) *cobra.Command {
	s := &f.Settings
	root := &cobra.Command{
		Use:   "cortexctl",
		Short: "CortexLayer operations: billing jobs, clients and charges, migrations, run history",
		Long: `cortexctl runs CortexLayer's scheduled jobs. Each command runs to completion
and exits; cron starts them. Results go to stdout (a table, or JSON with
-o json), logs to stderr (JSON when stderr is not a terminal).

` + cmdutil.ExitCodesHelp,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cmdutil.NoArgs,
		RunE:          func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := cmdutil.RefuseEmptyFlags(cmd); err != nil {
				return err
			}
			fl := cmd.Flags()
			source := func(flag, env string) string {
				if !fl.Changed(flag) && f.Env(env) != "" {
					return env
				}
				return "--" + flag
			}
			s.DatabaseURL = cmdutil.EnvOr(s.DatabaseURL, fl.Changed("database-url"), f.Env, cmdutil.EnvDatabaseURL, "")
			s.LogFormat = cmdutil.EnvOr(s.LogFormat, fl.Changed("log-format"), f.Env, cmdutil.EnvLogFormat, "auto")
			s.LogLevel = cmdutil.EnvOr(s.LogLevel, fl.Changed("log-level"), f.Env, cmdutil.EnvLogLevel, "info")
			s.Output = cmdutil.EnvOr(s.Output, fl.Changed("output"), f.Env, cmdutil.EnvOutput, "")
			s.LogFormatFrom = source("log-format", cmdutil.EnvLogFormat)
			s.LogLevelFrom = source("log-level", cmdutil.EnvLogLevel)
			s.OutputFrom = source("output", cmdutil.EnvOutput)
			return f.Setup()
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&s.DatabaseURL, "database-url", "",
		"PostgreSQL connection string (env "+cmdutil.EnvDatabaseURL+"; else libpq's PG* variables)")
	pf.StringVar(&s.LogFormat, "log-format", "auto", "log format: auto (console on a terminal, JSON otherwise), json, console (env "+cmdutil.EnvLogFormat+")")
	pf.StringVar(&s.LogLevel, "log-level", "info", "log level: debug, info, warn, error (env "+cmdutil.EnvLogLevel+")")
	pf.StringVarP(&s.Output, "output", "o", "", "result format: table or json (default table) (env "+cmdutil.EnvOutput+")")
	root.SetFlagErrorFunc(cmdutil.FlagError)
	root.SetOut(f.IOStreams.Out)
	root.SetErr(f.IOStreams.ErrOut)
	b := f.Build
	root.Version = fmt.Sprintf("%s (commit %s, built %s)", b.Version, b.Commit, b.Date)
	root.SetVersionTemplate("cortexctl {{.Version}}\n")

	root.AddCommand(newCmdVersion(f), billing.NewCmdBilling(f), dbcmd.NewCmdDB(f), jobs.NewCmdJobs(f),
		clients.NewCmdClients(f), charges.NewCmdCharges(f), schedule.NewCmdSchedule(f), apicmd.NewCmdAPI(f, nil), doctor.NewCmdDoctor(f, nil))
	return root
}

func newCmdVersion(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print version, commit and build date",
		Example: "  cortexctl version\n  cortexctl version --output json",
		Args:    cmdutil.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			b := f.Build
			if f.JSON() {
				return cmdutil.WriteJSON(f.IOStreams.Out, b)
			}
			_, err := fmt.Fprintf(f.IOStreams.Out, "cortexctl %s (commit %s, built %s)\n", b.Version, b.Commit, b.Date)
			return err
		},
	}
}
