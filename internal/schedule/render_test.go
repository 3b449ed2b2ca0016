package schedule

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

func render(t *testing.T, format string, o Options) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, Render(&b, format, o))
	return b.String()
}

// jobLines are the lines of a crontab that are neither blank, comments nor
// NAME=value settings.
func jobLines(s string) []string {
	var out []string
	for l := range strings.Lines(s) {
		l = strings.TrimSuffix(l, "\n")
		if l == "" || strings.HasPrefix(l, "#") || strings.Contains(strings.Fields(l)[0], "=") {
			continue
		}
		out = append(out, l)
	}
	return out
}

func TestRenderCrontabs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		format string
		o      Options
		line   func(Entry) string
	}{
		{FormatHost, Options{}, func(e Entry) string {
			return e.Cron + " root docker compose -f /opt/cortexlayer/infra/docker-compose.yml run --rm --no-deps -T --entrypoint cortexctl cron " +
				strings.Join(e.Command(), " ") + " >>/var/log/cortexctl/" + e.Job + ".json 2>>/var/log/cortexctl/" + e.Job + ".log"
		}},
		{FormatHost, Options{User: "deploy", ComposeFile: "/srv/infra/compose.yml", Service: "jobs", LogDir: "/srv/log"}, func(e Entry) string {
			return e.Cron + " deploy docker compose -f /srv/infra/compose.yml run --rm --no-deps -T --entrypoint cortexctl jobs " +
				strings.Join(e.Command(), " ") + " >>/srv/log/" + e.Job + ".json 2>>/srv/log/" + e.Job + ".log"
		}},
		{FormatHostBinary, Options{}, func(e Entry) string {
			return e.Cron + " cortexctl set -a && . /etc/cortexlayer/env && set +a && exec /usr/local/bin/cortexctl " +
				strings.Join(e.Command(), " ") + " >>/var/log/cortexctl/" + e.Job + ".json 2>>/var/log/cortexctl/" + e.Job + ".log"
		}},
		{FormatSupercronic, Options{}, func(e Entry) string { return e.Cron + " cortexctl " + strings.Join(e.Command(), " ") }},
	} {
		t.Run(tc.format, func(t *testing.T) {
			t.Parallel()
			out := render(t, tc.format, tc.o)
			want := make([]string, len(Entries))
			for i, e := range Entries {
				want[i] = tc.line(e)
				// Each line is preceded by the comment that says what it does.
				require.Contains(t, out, "\n# "+strings.Join(e.Args, " ")+" ("+e.Job+"): "+e.What+", "+when(e.Cron)+".\n"+want[i]+"\n")
				require.Contains(t, want[i], "--output json --log-format json")
			}
			require.Equal(t, want, jobLines(out), "one line per entry, in the registry's order")
			require.Contains(t, out, "\nCRON_TZ=UTC\nTZ=UTC\n")
			require.NotContains(t, out, "%", "cron turns % into a newline")
			require.NotContains(t, out, "DATABASE_URL=", "no secret in a crontab")
			require.True(t, strings.HasSuffix(out, "\n"))
		})
	}
}

func TestWhen(t *testing.T) {
	t.Parallel()
	require.Equal(t, "daily at 01:30 UTC", when("30 1 * * *"))
	require.Equal(t, "daily at 23:05 UTC", when("5 23 * * *"))
	require.Equal(t, "at */15 * * * * UTC", when("*/15 * * * *"))
	require.Equal(t, "at 0 1 * * 1 UTC", when("0 1 * * 1"))
}

func TestRenderRefusesUnknownFormat(t *testing.T) {
	t.Parallel()
	err := Render(io.Discard, "systemd", Options{})
	require.EqualError(t, err, `unknown format "systemd": use one of host, host-binary, supercronic, k8s`)
}

// cronJob is the part of a batch/v1 CronJob the k8s rendering sets.
type cronJob struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name      string            `yaml:"name"`
		Namespace string            `yaml:"namespace"`
		Labels    map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Spec struct {
		Schedule                   string `yaml:"schedule"`
		TimeZone                   string `yaml:"timeZone"`
		ConcurrencyPolicy          string `yaml:"concurrencyPolicy"`
		StartingDeadlineSeconds    *int   `yaml:"startingDeadlineSeconds"`
		SuccessfulJobsHistoryLimit *int   `yaml:"successfulJobsHistoryLimit"`
		FailedJobsHistoryLimit     *int   `yaml:"failedJobsHistoryLimit"`
		JobTemplate                struct {
			Spec struct {
				BackoffLimit     *int `yaml:"backoffLimit"`
				PodFailurePolicy struct {
					Rules []struct {
						Action      string `yaml:"action"`
						OnExitCodes struct {
							ContainerName string `yaml:"containerName"`
							Operator      string `yaml:"operator"`
							Values        []int  `yaml:"values"`
						} `yaml:"onExitCodes"`
					} `yaml:"rules"`
				} `yaml:"podFailurePolicy"`
				Template struct {
					Metadata struct {
						Labels map[string]string `yaml:"labels"`
					} `yaml:"metadata"`
					Spec struct {
						RestartPolicy string `yaml:"restartPolicy"`
						Containers    []struct {
							Name    string   `yaml:"name"`
							Image   string   `yaml:"image"`
							Command []string `yaml:"command"`
							Args    []string `yaml:"args"`
							EnvFrom []struct {
								SecretRef struct {
									Name string `yaml:"name"`
								} `yaml:"secretRef"`
							} `yaml:"envFrom"`
						} `yaml:"containers"`
					} `yaml:"spec"`
				} `yaml:"template"`
			} `yaml:"spec"`
		} `yaml:"jobTemplate"`
	} `yaml:"spec"`
}

// parseCronJobs reads every YAML document of s, refusing unknown fields.
func parseCronJobs(t *testing.T, s string) []cronJob {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(s))
	dec.KnownFields(true)
	var out []cronJob
	for {
		var cj cronJob
		err := dec.Decode(&cj)
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err, "the k8s rendering is not the YAML of CronJobs:\n%s", s)
		out = append(out, cj)
	}
}

func TestRenderK8s(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                   string
		o                      Options
		image, secret, namespc string
	}{
		{"defaults", Options{}, "ghcr.io/cortexlayer/cortexctl:latest", "cortexctl", ""},
		{"flags", Options{Image: "registry.example/cortexctl@sha256:abc", Secret: "cortexctl-prod", Namespace: "billing"},
			"registry.example/cortexctl@sha256:abc", "cortexctl-prod", "billing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			jobs := parseCronJobs(t, render(t, FormatK8s, tc.o))
			require.Len(t, jobs, len(Entries), "one CronJob per job")
			for i, e := range Entries {
				cj := jobs[i]
				require.Equal(t, "batch/v1", cj.APIVersion)
				require.Equal(t, "CronJob", cj.Kind)
				require.Equal(t, "cortexctl-"+e.Job, cj.Metadata.Name)
				require.Equal(t, tc.namespc, cj.Metadata.Namespace)
				require.Equal(t, e.Job, cj.Metadata.Labels["app.kubernetes.io/component"])
				s := cj.Spec
				require.Equal(t, e.Cron, s.Schedule)
				require.Equal(t, "Etc/UTC", s.TimeZone)
				require.Equal(t, "Forbid", s.ConcurrencyPolicy)
				require.NotNil(t, s.StartingDeadlineSeconds)
				require.Positive(t, *s.StartingDeadlineSeconds)
				require.NotNil(t, s.SuccessfulJobsHistoryLimit)
				require.NotNil(t, s.FailedJobsHistoryLimit)
				js := s.JobTemplate.Spec
				require.NotNil(t, js.BackoffLimit)
				require.Positive(t, *js.BackoffLimit, "exit 69 (a dependency down) is retried")
				require.Len(t, js.PodFailurePolicy.Rules, 1)
				rule := js.PodFailurePolicy.Rules[0]
				require.Equal(t, "FailJob", rule.Action)
				require.Equal(t, "In", rule.OnExitCodes.Operator)
				require.Equal(t, "cortexctl", rule.OnExitCodes.ContainerName)
				require.Equal(t, []int{2, 75, 78}, rule.OnExitCodes.Values, "usage, lock held and configuration are not retried")
				pod := js.Template
				require.Equal(t, e.Job, pod.Metadata.Labels["app.kubernetes.io/component"])
				require.Equal(t, "Never", pod.Spec.RestartPolicy, "podFailurePolicy needs restartPolicy Never")
				require.Len(t, pod.Spec.Containers, 1)
				c := pod.Spec.Containers[0]
				require.Equal(t, "cortexctl", c.Name)
				require.Equal(t, tc.image, c.Image)
				require.Nil(t, c.Command, "the image's entrypoint is cortexctl")
				require.Equal(t, e.Command(), c.Args)
				require.Len(t, c.EnvFrom, 1)
				require.Equal(t, tc.secret, c.EnvFrom[0].SecretRef.Name)
			}
		})
	}
}
