package schedule

import (
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil/cmdtest"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/internal/schedule"
)

// `schedule export`'s flags through runF (no database), and what it prints.

func TestExportFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		args   []string
		format string
		want   schedule.Options
	}{
		{"host", []string{"--format", "host"}, "host", schedule.Options{}},
		{"host with its flags", []string{"--format", "host", "--user", "deploy", "--compose-file", "/srv/compose.yml", "--service", "jobs", "--log-dir", "/srv/log"},
			"host", schedule.Options{User: "deploy", ComposeFile: "/srv/compose.yml", Service: "jobs", LogDir: "/srv/log"}},
		{"host-binary with its flags", []string{"--format", "host-binary", "--binary", "/opt/bin/cortexctl", "--env-file", "/etc/cx.env", "--user", "svc_cx"},
			"host-binary", schedule.Options{Binary: "/opt/bin/cortexctl", EnvFile: "/etc/cx.env", User: "svc_cx"}},
		{"supercronic", []string{"--format", "supercronic"}, "supercronic", schedule.Options{}},
		{"k8s with its flags", []string{"--format", "k8s", "--image", "ghcr.io/cortexlayer/cortexctl:v1.4.0", "--secret", "cortexctl-prod", "--namespace", "billing"},
			"k8s", schedule.Options{Image: "ghcr.io/cortexlayer/cortexctl:v1.4.0", Secret: "cortexctl-prod", Namespace: "billing"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := cmdtest.Parse(t, NewCmdExport, nil, tc.args...)
			require.Equal(t, tc.format, got.Format)
			require.Equal(t, tc.want, got.Options)
		})
	}
}

func TestExportRefusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no format", nil, "--format is required: use one of host, host-binary, supercronic, k8s"},
		{"unknown format", []string{"--format", "systemd"}, `unknown --format "systemd": use one of host, host-binary, supercronic, k8s`},
		{"empty format", []string{"--format", ""}, "--format was given but is empty"},
		{"image with host", []string{"--format", "host", "--image", "x:1"}, "--image does not apply to --format host, only to k8s"},
		{"user with supercronic", []string{"--format", "supercronic", "--user", "root"}, "--user does not apply to --format supercronic, only to host, host-binary"},
		{"binary with host", []string{"--format", "host", "--binary", "/usr/bin/cortexctl"}, "--binary does not apply to --format host, only to host-binary"},
		{"compose file with host-binary", []string{"--format", "host-binary", "--compose-file", "/x.yml"}, "--compose-file does not apply to --format host-binary, only to host"},
		{"bad user", []string{"--format", "host", "--user", "Root!"}, `--user "Root!" is not a user name`},
		{"relative env file", []string{"--format", "host-binary", "--env-file", "env"}, `--env-file "env": give an absolute path`},
		{"percent in a path", []string{"--format", "host", "--log-dir", "/var/log/%d"}, `--log-dir "/var/log/%d": no blanks, quotes, backslashes or %`},
		{"blank in a path", []string{"--format", "host-binary", "--binary", "/opt/my bin/cortexctl"}, "no blanks"},
		{"bad secret", []string{"--format", "k8s", "--secret", "Cortex_Secret"}, `--secret "Cortex_Secret" is not a Kubernetes name`},
		{"an argument", []string{"--format", "host", "now"}, "now"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := cmdtest.Refuse(t, NewCmdExport, nil, tc.args...)
			require.Equal(t, exitcode.Usage, exitcode.Of(err), "%v", err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

// The committed crontabs are the command's output with the defaults; the
// binary's own output is compared in cmd/cortexctl too.
func TestExportPrintsTheCommittedCrontabs(t *testing.T) {
	t.Parallel()
	for format, file := range map[string]string{
		"host": "cortexctl.cron", "host-binary": "cortexctl-binary.cron", "supercronic": "supercronic.cron",
	} {
		f, out, _ := cmdtest.Factory(nil)
		require.NoError(t, cmdtest.Exec(NewCmdExport(f, nil), "--format", format))
		want, err := os.ReadFile("../../crontab/" + file)
		require.NoError(t, err)
		require.Equal(t, string(want), out.String(),
			"crontab/%s is not what `schedule export --format %s` prints: run `make crontab` and commit the result", file, format)
	}
	f, out, _ := cmdtest.Factory(nil)
	require.NoError(t, cmdtest.Exec(NewCmdExport(f, nil), "--format", "k8s", "--image", "registry.example/cx:v9"))
	var want bytes.Buffer
	require.NoError(t, schedule.Render(&want, "k8s", schedule.Options{Image: "registry.example/cx:v9"}))
	require.Equal(t, want.String(), out.String())
	require.Contains(t, out.String(), `image: "registry.example/cx:v9"`)
}
