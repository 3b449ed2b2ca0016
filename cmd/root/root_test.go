package root_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
	"github.com/cortexlayer/cortexctl/cmd/cmdutil/cmdtest"
	"github.com/cortexlayer/cortexctl/cmd/root"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// The global flags: flag > environment > default, and their validation.
// `version` is the command under test: it never dials the database.

func execRoot(t *testing.T, env map[string]string, stdoutTTY bool, args ...string) (cmdutil.Settings, string, error) {
	t.Helper()
	f, out, _ := cmdtest.Factory(env)
	f.Settings = cmdutil.Settings{} // as main builds it: resolved by the root
	f.IOStreams.SetStdoutTTY(stdoutTTY)
	cmd := root.NewCmdRoot(f)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return f.Settings, out.String(), err
}

func TestGlobalSettings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  map[string]string
		tty  bool
		args []string
		want cmdutil.Settings
	}{
		{"defaults on a pipe: a table too", nil, false, nil, cmdutil.Settings{LogFormat: "auto", LogLevel: "info", Output: "table"}},
		{"defaults on a terminal", nil, true, nil, cmdutil.Settings{LogFormat: "auto", LogLevel: "info", Output: "table"}},
		{"environment", map[string]string{cmdutil.EnvDatabaseURL: "postgres://a@b/c", cmdutil.EnvLogFormat: "json",
			cmdutil.EnvLogLevel: "debug", cmdutil.EnvOutput: "table"}, false, nil,
			cmdutil.Settings{DatabaseURL: "postgres://a@b/c", LogFormat: "json", LogLevel: "debug", Output: "table"}},
		{"flags beat the environment", map[string]string{cmdutil.EnvDatabaseURL: "postgres://a@b/c", cmdutil.EnvOutput: "table",
			cmdutil.EnvLogLevel: "debug"}, false,
			[]string{"--database-url", "postgres://x@y/z", "-o", "json", "--log-level", "warn", "--log-format", "console"},
			cmdutil.Settings{DatabaseURL: "postgres://x@y/z", LogFormat: "console", LogLevel: "warn", Output: "json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, _, err := execRoot(t, tc.env, tc.tty, append([]string{"version"}, tc.args...)...)
			require.NoError(t, err)
			got.LogFormatFrom, got.LogLevelFrom, got.OutputFrom = "", "", "" // checked by TestGlobalRefusals' messages
			require.Equal(t, tc.want, got)
		})
	}
}

func TestGlobalRefusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"bad --output", nil, []string{"version", "--output", "yaml"}, `invalid --output "yaml": use table or json`},
		{"bad output from the environment names the variable", map[string]string{cmdutil.EnvOutput: "yaml"}, []string{"version"}, `invalid CORTEXCTL_OUTPUT "yaml": use table or json`},
		{"bad level from the environment", map[string]string{cmdutil.EnvLogLevel: "loud"}, []string{"version"}, `invalid CORTEXCTL_LOG_LEVEL "loud"`},
		{"bad format from the environment", map[string]string{cmdutil.EnvLogFormat: "xml"}, []string{"version"}, `invalid CORTEXCTL_LOG_FORMAT "xml"`},
		{"the flag, not the environment, is named when the flag is given", map[string]string{cmdutil.EnvOutput: "table"}, []string{"version", "-o", "yaml"}, `invalid --output "yaml"`},
		{"a typo gets a suggestion", nil, []string{"biling"}, `unknown command "biling" for "cortexctl"; did you mean "billing"?`},
		{"bad --log-level", nil, []string{"version", "--log-level", "loud"}, `invalid --log-level "loud"`},
		{"bad --log-format", nil, []string{"version", "--log-format", "xml"}, `invalid --log-format "xml"`},
		{"unknown command", nil, []string{"bogus"}, `unknown command "bogus" for "cortexctl"`},
		{"unknown subcommand", nil, []string{"billing", "bogus"}, `unknown command "bogus" for "cortexctl billing"`},
		{"unknown global flag", nil, []string{"--bogus", "version"}, "unknown flag: --bogus"},
		{"--database-url given but empty", nil, []string{"version", "--database-url", ""}, "--database-url was given but is empty"},
		{"--output given but empty", nil, []string{"version", "-o", ""}, "--output was given but is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := execRoot(t, tc.env, false, tc.args...)
			require.Error(t, err)
			require.Equal(t, exitcode.Usage, exitcode.Of(err), "%v", err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	const line = "cortexctl v0.0.0-cmdtest (commit abc1234, built 2026-11-27T00:00:00Z)\n"
	for _, tty := range []bool{true, false} {
		_, out, err := execRoot(t, nil, tty, "version")
		require.NoError(t, err)
		require.Equal(t, line, out, "one line on a terminal and on a pipe alike")
		_, out, err = execRoot(t, nil, tty, "--version")
		require.NoError(t, err)
		require.Equal(t, line, out, "--version says the same")
	}
	_, out, err := execRoot(t, nil, false, "version", "-o", "json")
	require.NoError(t, err)
	require.JSONEq(t, `{"version":"v0.0.0-cmdtest","commit":"abc1234","date":"2026-11-27T00:00:00Z"}`, out)
}

func TestCompletion(t *testing.T) {
	t.Parallel()
	for _, shell := range []string{"bash", "zsh", "fish"} {
		_, out, err := execRoot(t, nil, false, "completion", shell)
		require.NoError(t, err)
		require.Contains(t, out, "cortexctl", shell)
	}
}
