package schedule

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// The renderings of the registry `cortexctl schedule export` prints and
// crontab/ holds. Each is text built here from Entries and Flags, so
// changing the registry changes every one of them.
const (
	FormatHost        = "host"        // /etc/cron.d file running each job through docker compose
	FormatHostBinary  = "host-binary" // /etc/cron.d file running a cortexctl binary installed on the host
	FormatSupercronic = "supercronic" // crontab of supercronic in the compose cron sidecar
	FormatK8s         = "k8s"         // Kubernetes CronJobs, one YAML document per job
)

// Formats are the renderings, in the order help lists them.
var Formats = []string{FormatHost, FormatHostBinary, FormatSupercronic, FormatK8s}

// Options are what a rendering needs beyond the registry. A zero field takes
// its default (see Defaults); a field a format does not use is ignored.
type Options struct {
	User        string // host, host-binary: the user field of /etc/cron.d
	ComposeFile string // host: the compose file of the project whose Service runs the jobs
	Service     string // host: the compose service whose entrypoint is cortexctl
	Binary      string // host-binary: the cortexctl binary
	EnvFile     string // host-binary: KEY=value lines (the secrets), read before each run
	LogDir      string // host, host-binary: where each job's stdout (.json) and stderr (.log) are appended
	Image       string // k8s: the container image, entrypoint cortexctl
	Secret      string // k8s: the Secret whose keys become the container's environment
	Namespace   string // k8s: metadata.namespace; empty: none (kubectl's current namespace)
}

// Defaults fills o's empty fields for format.
func Defaults(format string, o Options) Options {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	switch format {
	case FormatHost:
		def(&o.User, "root") // docker compose needs the Docker socket
	case FormatHostBinary:
		def(&o.User, "cortexctl")
	}
	def(&o.ComposeFile, "/opt/cortexlayer/infra/docker-compose.yml")
	def(&o.Service, "cron")
	def(&o.Binary, "/usr/local/bin/cortexctl")
	def(&o.EnvFile, "/etc/cortexlayer/env")
	def(&o.LogDir, "/var/log/cortexctl")
	def(&o.Image, "ghcr.io/cortexlayer/cortexctl:latest")
	def(&o.Secret, "cortexctl")
	return o
}

// Render writes the registry in format to w; o's empty fields take their
// defaults.
func Render(w io.Writer, format string, o Options) error {
	o = Defaults(format, o)
	var b strings.Builder
	switch format {
	case FormatHost:
		renderHost(&b, o, false)
	case FormatHostBinary:
		renderHost(&b, o, true)
	case FormatSupercronic:
		renderSupercronic(&b)
	case FormatK8s:
		renderK8s(&b, o)
	default:
		return fmt.Errorf("unknown format %q: use one of %s", format, strings.Join(Formats, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

const generated = "# Generated from internal/schedule by `cortexctl schedule export --format %s`: do not edit.\n" +
	"# Change the registry, then run `make crontab` (or redirect the command above).\n"

// timesInUTC is the part of every crontab's header about time zones.
const timesInUTC = `# Every time below is UTC. CRON_TZ=UTC says so to crons that read it
# (cronie, supercronic); Debian's cron ignores it and uses the host's zone,
# so set that to UTC (timedatectl set-timezone Etc/UTC). TZ=UTC is the jobs'
# own zone; they compute in UTC whatever it is.
CRON_TZ=UTC
TZ=UTC
`

// order says why the jobs run in the registry's order.
const order = `# billing grace runs after billing overage: a client the overage run
# disables for its hard cap is then no longer in grace.
`

func renderHost(b *strings.Builder, o Options, binary bool) {
	format := FormatHost
	if binary {
		format = FormatHostBinary
	}
	fmt.Fprintf(b, "# /etc/cron.d/cortexctl: CortexLayer's scheduled jobs (cortexctl).\n")
	fmt.Fprintf(b, generated, format)
	b.WriteString("# Install it as /etc/cron.d/cortexctl (no dot in the name: Debian's cron skips those):\n")
	b.WriteString("#   cortexctl schedule export --format " + format + " | sudo tee /etc/cron.d/cortexctl\n")
	if binary {
		fmt.Fprintf(b, `#
# Each line runs %s as user %s. Before each run the shell
# exports the KEY=value lines of %s (DATABASE_URL,
# STRIPE_API_KEY, BACKUP_URL, ...; owner %s, mode 0600): the
# secrets stay out of this file and off command lines.
`, o.Binary, o.User, o.EnvFile, o.User)
	} else {
		fmt.Fprintf(b, `#
# Each line runs cortexctl in a one-off container of the compose service
# %q (image cortexctl, ENTRYPOINT ["cortexctl"]) of the compose project
# in %s: docker compose run --rm (removed when it exits),
# --no-deps (starts nothing else), -T (no terminal), --entrypoint cortexctl
# (the sidecar of that service runs supercronic instead). The secrets come
# from that service's env_file, never from this file. User %s may use Docker.
`, o.Service, composeDir(o.ComposeFile), o.User)
	}
	fmt.Fprintf(b, `# Each run appends its JSON result (stdout) to %s/<job>.json and
# its JSON log lines (stderr) to %s/<job>.log; make the directory,
# writable by %s, and rotate both files.
#
`, o.LogDir, o.LogDir, o.User)
	b.WriteString(timesInUTC)
	b.WriteString("SHELL=/bin/sh\nPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n#\n")
	b.WriteString(order)
	for _, e := range Entries {
		var run string
		if binary {
			run = "set -a && . " + o.EnvFile + " && set +a && exec " + o.Binary + " " + strings.Join(e.Command(), " ")
		} else {
			run = "docker compose -f " + o.ComposeFile + " run --rm --no-deps -T --entrypoint cortexctl " + o.Service + " " + strings.Join(e.Command(), " ")
		}
		fmt.Fprintf(b, "\n# %s (%s): %s, %s.\n", strings.Join(e.Args, " "), e.Job, e.What, when(e.Cron))
		fmt.Fprintf(b, "%s %s %s >>%s/%s.json 2>>%s/%s.log\n", e.Cron, o.User, run, o.LogDir, e.Job, o.LogDir, e.Job)
	}
}

func composeDir(file string) string {
	if i := strings.LastIndex(file, "/"); i > 0 {
		return file[:i]
	}
	return "."
}

func renderSupercronic(b *strings.Builder) {
	b.WriteString("# Crontab of supercronic, PID 1 of the compose service \"cron\" (image cortexctl),\n")
	b.WriteString("# started as, e.g.: supercronic -passthrough-logs /etc/cortexctl/supercronic.cron\n")
	fmt.Fprintf(b, generated, FormatSupercronic)
	b.WriteString(`#
# Each job runs cortexctl in the sidecar, with the sidecar's environment
# (its env_file holds the secrets). With -passthrough-logs, supercronic
# writes each run's JSON result and JSON log lines unchanged to its own
# stdout and stderr: the container's log (docker compose logs cron).
# A job still running when its next time comes is skipped, not doubled.
#
`)
	b.WriteString(timesInUTC)
	b.WriteString("#\n")
	b.WriteString(order)
	for _, e := range Entries {
		fmt.Fprintf(b, "\n# %s (%s): %s, %s.\n", strings.Join(e.Args, " "), e.Job, e.What, when(e.Cron))
		fmt.Fprintf(b, "%s cortexctl %s\n", e.Cron, strings.Join(e.Command(), " "))
	}
}

// Kubernetes settings of every CronJob. The exit codes a retry cannot fix
// fail the Job at once: 2 (bad flags), 75 (another run holds the lock),
// 78 (configuration). Others (69 unavailable, 1, 3 partial) are retried.
const (
	k8sStartingDeadlineSeconds = 3600
	k8sHistoryLimit            = 3
	k8sBackoffLimit            = 2
)

// NoRetryExitCodes are the exit codes on which a CronJob's Job fails
// without a retry.
var NoRetryExitCodes = []int{2, 75, 78}

func renderK8s(b *strings.Builder, o Options) {
	b.WriteString("# Kubernetes CronJobs of cortexctl's scheduled jobs, in UTC.\n")
	b.WriteString("# Generated from internal/schedule by `cortexctl schedule export --format k8s`.\n")
	fmt.Fprintf(b, "# Apply: cortexctl schedule export --format k8s --image IMAGE | kubectl apply -f -\n")
	fmt.Fprintf(b, "# The Secret %q holds the environment (DATABASE_URL, STRIPE_API_KEY, ...).\n", o.Secret)
	codes := make([]string, len(NoRetryExitCodes))
	for i, c := range NoRetryExitCodes {
		codes[i] = fmt.Sprint(c)
	}
	for _, e := range Entries {
		name := "cortexctl-" + e.Job
		labels := "    app.kubernetes.io/name: cortexctl\n    app.kubernetes.io/component: " + e.Job + "\n"
		ns := ""
		if o.Namespace != "" {
			ns = "  namespace: " + quote(o.Namespace) + "\n"
		}
		fmt.Fprintf(b, `---
# %s: %s, %s.
apiVersion: batch/v1
kind: CronJob
metadata:
  name: %s
%s  labels:
%sspec:
  schedule: %s
  timeZone: Etc/UTC
  concurrencyPolicy: Forbid
  startingDeadlineSeconds: %d
  successfulJobsHistoryLimit: %d
  failedJobsHistoryLimit: %d
  jobTemplate:
    spec:
      backoffLimit: %d
      podFailurePolicy:
        rules:
          - action: FailJob
            onExitCodes:
              containerName: cortexctl
              operator: In
              values: [%s]
      template:
        metadata:
          labels:
%s        spec:
          restartPolicy: Never
          containers:
            - name: cortexctl
              image: %s
              args: [%s]
              envFrom:
                - secretRef:
                    name: %s
`, strings.Join(e.Args, " "), e.What, when(e.Cron), name, ns, labels, quote(e.Cron),
			k8sStartingDeadlineSeconds, k8sHistoryLimit, k8sHistoryLimit, k8sBackoffLimit,
			strings.Join(codes, ", "), indent(labels, "        "), quote(o.Image), quoteAll(e.Command()), quote(o.Secret))
	}
}

// quote is s as a YAML double-quoted scalar (JSON's string syntax is YAML's).
func quote(s string) string {
	q, _ := json.Marshal(s) // a string always marshals
	return string(q)
}

func quoteAll(ss []string) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = quote(s)
	}
	return strings.Join(out, ", ")
}

func indent(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "")
}

// when says a five-field cron line in words when it is a daily one
// ("daily at 01:30 UTC"), else gives it as is.
func when(cron string) string {
	f := strings.Fields(cron)
	if len(f) == 5 && slices.Equal(f[2:], []string{"*", "*", "*"}) {
		m, errM := strconv.Atoi(f[0])
		h, errH := strconv.Atoi(f[1])
		if errM == nil && errH == nil {
			return fmt.Sprintf("daily at %02d:%02d UTC", h, m)
		}
	}
	return "at " + cron + " UTC"
}
