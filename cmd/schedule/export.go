package schedule

import (
	"regexp"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/internal/schedule"
)

// ExportOptions are `schedule export`'s inputs once validated.
type ExportOptions struct {
	Factory *cmdutil.Factory
	Format  string
	schedule.Options
}

// exportFlags are the flags that shape a rendering, and the formats each
// applies to: given with another format, a flag is refused.
var exportFlags = []struct {
	name, usage string
	field       func(*schedule.Options) *string
	formats     []string
}{
	{"user", "the user field of /etc/cron.d (default root for host, cortexctl for host-binary)",
		func(o *schedule.Options) *string { return &o.User }, []string{schedule.FormatHost, schedule.FormatHostBinary}},
	{"log-dir", "where each run appends its result (<job>.json) and logs (<job>.log) (default /var/log/cortexctl)",
		func(o *schedule.Options) *string { return &o.LogDir }, []string{schedule.FormatHost, schedule.FormatHostBinary}},
	{"compose-file", "the compose file whose --service runs the jobs (default /opt/cortexlayer/infra/docker-compose.yml)",
		func(o *schedule.Options) *string { return &o.ComposeFile }, []string{schedule.FormatHost}},
	{"service", "the compose service, ENTRYPOINT [\"cortexctl\"], that runs the jobs (default cron)",
		func(o *schedule.Options) *string { return &o.Service }, []string{schedule.FormatHost}},
	{"binary", "the cortexctl binary on the host (default /usr/local/bin/cortexctl)",
		func(o *schedule.Options) *string { return &o.Binary }, []string{schedule.FormatHostBinary}},
	{"env-file", "KEY=value lines with the secrets, read before each run (default /etc/cortexlayer/env)",
		func(o *schedule.Options) *string { return &o.EnvFile }, []string{schedule.FormatHostBinary}},
	{"image", "the container image, entrypoint cortexctl (default ghcr.io/cortexlayer/cortexctl:latest)",
		func(o *schedule.Options) *string { return &o.Image }, []string{schedule.FormatK8s}},
	{"secret", "the Secret whose keys are the jobs' environment (default cortexctl)",
		func(o *schedule.Options) *string { return &o.Secret }, []string{schedule.FormatK8s}},
	{"namespace", "the CronJobs' namespace (default: none, kubectl's current one)",
		func(o *schedule.Options) *string { return &o.Namespace }, []string{schedule.FormatK8s}},
}

var (
	userRE = regexp.MustCompile(`^[a-z_][a-z0-9_-]*$`)
	nameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$`) // a Kubernetes object name
)

// NewCmdExport is `cortexctl schedule export`.
func NewCmdExport(f *cmdutil.Factory, runF func(*ExportOptions) error) *cobra.Command {
	opts := &ExportOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "export --format host|host-binary|supercronic|k8s",
		Short: "Print the jobs' schedule as a crontab or Kubernetes CronJobs",
		Long: `Prints the one schedule of the jobs (internal/schedule, in UTC) in a format:

  host         /etc/cron.d/cortexctl running each job with docker compose run
  host-binary  /etc/cron.d/cortexctl running a cortexctl binary on the host
  supercronic  the crontab of supercronic in the compose cron sidecar
  k8s          a Kubernetes CronJob per job (YAML documents)

Every job runs with --output json --log-format json. The files in crontab/
are this command's output with the defaults (make crontab writes them).
Text, whatever --output says; never connects to the database.`,
		Example: `  cortexctl schedule export --format host | sudo tee /etc/cron.d/cortexctl
  cortexctl schedule export --format host-binary --user cortexctl --env-file /etc/cortexlayer/env
  cortexctl schedule export --format k8s --image ghcr.io/cortexlayer/cortexctl:v1.4.0 | kubectl apply -f -`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.validate(cmd); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return schedule.Render(opts.Factory.IOStreams.Out, opts.Format, opts.Options)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "", "the rendering: "+strings.Join(schedule.Formats, ", ")+" (required)")
	for _, fl := range exportFlags {
		cmd.Flags().StringVar(fl.field(&opts.Options), fl.name, "", fl.usage+"; "+strings.Join(fl.formats, ", ")+" only")
	}
	return cmd
}

func (o *ExportOptions) validate(cmd *cobra.Command) error {
	if o.Format == "" {
		return exitcode.Errorf(exitcode.Usage, "--format is required: use one of %s", strings.Join(schedule.Formats, ", "))
	}
	if !slices.Contains(schedule.Formats, o.Format) {
		return exitcode.Errorf(exitcode.Usage, "unknown --format %q: use one of %s", o.Format, strings.Join(schedule.Formats, ", "))
	}
	for _, fl := range exportFlags {
		if !cmd.Flags().Changed(fl.name) {
			continue
		}
		if !slices.Contains(fl.formats, o.Format) {
			return exitcode.Errorf(exitcode.Usage, "--%s does not apply to --format %s, only to %s", fl.name, o.Format, strings.Join(fl.formats, ", "))
		}
		v := *fl.field(&o.Options)
		// A crontab line splits on blanks and turns % into a newline.
		if strings.ContainsAny(v, " \t\n%\"'\\") {
			return exitcode.Errorf(exitcode.Usage, "--%s %q: no blanks, quotes, backslashes or %%", fl.name, v)
		}
		switch fl.name {
		case "user":
			if !userRE.MatchString(v) {
				return exitcode.Errorf(exitcode.Usage, "--user %q is not a user name: lower-case letters, digits, _ and -", v)
			}
		case "log-dir", "compose-file", "binary", "env-file":
			if !strings.HasPrefix(v, "/") {
				return exitcode.Errorf(exitcode.Usage, "--%s %q: give an absolute path (cron's working directory is the user's home)", fl.name, v)
			}
		case "secret", "namespace":
			if !nameRE.MatchString(v) || len(v) > 63 {
				return exitcode.Errorf(exitcode.Usage, "--%s %q is not a Kubernetes name: lower-case letters, digits and -", fl.name, v)
			}
		}
	}
	return nil
}
