// Package cmdtest helps test commands without a database: a Factory whose
// environment, clock and streams the test sets, and a way to execute one
// command with arguments as the root would (same flag error handling).
package cmdtest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
)

// Now is the host clock of every test factory.
var Now = time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)

// Factory is a factory with the given environment, the clock at Now, and
// buffers for streams (neither a terminal). Its DatabaseURL points nowhere:
// a command that reaches the database in a runF test is a bug.
func Factory(env map[string]string) (f *cmdutil.Factory, out, errOut *bytes.Buffer) {
	ios, out, errOut := cmdutil.Test()
	f = &cmdutil.Factory{
		IOStreams: ios,
		Env:       func(k string) string { return env[k] },
		Environ: func() []string {
			var kv []string
			for k, v := range env {
				kv = append(kv, k+"="+v)
			}
			return kv
		},
		Now:      func() time.Time { return Now },
		Build:    cmdutil.BuildInfo{Version: "v0.0.0-cmdtest", Commit: "abc1234", Date: "2026-11-27T00:00:00Z"},
		Settings: cmdutil.Settings{DatabaseURL: "postgres://nobody@127.0.0.1:1/none", LogFormat: "json", LogLevel: "info", Output: cmdutil.OutputJSON},
	}
	return f, out, errOut
}

// Exec runs cmd with args the way the root command would run it.
func Exec(cmd *cobra.Command, args ...string) error {
	cmd.SetArgs(args)
	cmd.SetFlagErrorFunc(cmdutil.FlagError)
	cmd.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error { return cmdutil.RefuseEmptyFlags(cmd) }
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	var sink bytes.Buffer
	cmd.SetOut(&sink)
	cmd.SetErr(&sink)
	return cmd.ExecuteContext(context.Background())
}

// NewCmd is the shape of every command constructor.
type NewCmd[O any] func(*cmdutil.Factory, func(*O) error) *cobra.Command

// Parse runs the command built by newCmd with args and env, and returns the
// options its runF received; the test fails if the command refused them.
func Parse[O any](t testing.TB, newCmd NewCmd[O], env map[string]string, args ...string) *O {
	t.Helper()
	f, _, _ := Factory(env)
	var got *O
	require.NoError(t, Exec(newCmd(f, func(o *O) error { got = o; return nil }), args...))
	require.NotNil(t, got, "runF was not called")
	return got
}

// Refuse runs the command built by newCmd with args and env, and returns
// the error it refused them with; the test fails if runF was called.
func Refuse[O any](t testing.TB, newCmd NewCmd[O], env map[string]string, args ...string) error {
	t.Helper()
	f, _, _ := Factory(env)
	err := Exec(newCmd(f, func(*O) error {
		t.Errorf("runF called for input that must be refused: %q", args)
		return nil
	}), args...)
	require.Error(t, err, "args %q", args)
	return err
}
