package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/db/fixture"
)

// binary is cortexctl built once for the package's tests, run as cron would.
var binary string

const testVersion = "v0.0.0-test"

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cortexctl-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "cortexctl")
	build := exec.Command("go", "build", "-race", "-o", binary,
		"-ldflags", "-X main.version="+testVersion+" -X main.commit=abc1234 -X main.date=2026-11-27T00:00:00Z", ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build cortexctl:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one run of the binary left behind.
type result struct {
	code   int
	stdout string
	stderr string
}

// cli runs the binary against one test database, with a clean environment.
type cli struct {
	t   testing.TB
	env []string
}

func newCLI(t testing.TB, databaseURL string, env ...string) *cli {
	base := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "DATABASE_URL=" + databaseURL, "CORTEXCTL_LOG_FORMAT=json",
		"GORACE=" + goraceOptions()}
	return &cli{t: t, env: append(base, env...)}
}

// goraceOptions are the race detector's options for the binary: the
// caller's GORACE, and unless it says otherwise a 10ms wait at exit for
// late race reports instead of the default 1s, which every one of the
// hundred-odd runs would otherwise spend doing nothing. A race still fails
// the run (exit 66) and prints its report on stderr.
func goraceOptions() string {
	opts := os.Getenv("GORACE")
	if !strings.Contains(opts, "atexit_sleep_ms") {
		opts = strings.TrimSpace(opts + " atexit_sleep_ms=10")
	}
	return opts
}

// start launches the binary without waiting for it.
// syncBuffer is a process's output, safe to read while the process writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitForLine waits until the running process has written want to buf.
func waitForLine(t testing.TB, buf *syncBuffer, want string) {
	t.Helper()
	require.Eventuallyf(t, func() bool { return strings.Contains(buf.String(), want) }, time.Minute, 10*time.Millisecond,
		"the process never wrote %q; so far:\n%s", want, buf)
}

func (c *cli) start(args ...string) (*exec.Cmd, *syncBuffer, *syncBuffer) {
	c.t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = c.env
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(c.t, cmd.Start())
	return cmd, &stdout, &stderr
}

// wait waits for a started run, at most two minutes.
func (c *cli) wait(cmd *exec.Cmd, stdout, stderr *syncBuffer) result {
	c.t.Helper()
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait() // a non-zero exit is an error here; the exit code is read below
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		_ = cmd.Process.Kill()
		<-done
		c.t.Fatalf("cortexctl %v did not finish in 2 minutes; stderr:\n%s", cmd.Args[1:], stderr)
	}
	return result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

func (c *cli) run(args ...string) result {
	c.t.Helper()
	return c.wait(c.start(args...))
}

// runOK runs and requires exit 0.
func (c *cli) runOK(args ...string) result {
	c.t.Helper()
	r := c.run(args...)
	require.Equalf(c.t, 0, r.code, "cortexctl %v\nstdout:\n%s\nstderr:\n%s", args, r.stdout, r.stderr)
	return r
}

// overageJSON is the part of `billing overage --output json` tests read.
type overageJSON struct {
	Run struct {
		ID       uuid.UUID `json:"run_id"`
		Status   string    `json:"status"`
		DryRun   bool      `json:"dry_run"`
		AsOf     time.Time `json:"as_of"`
		ExitCode int       `json:"exit_code"`
	} `json:"run"`
	Report *struct {
		AsOf         time.Time `json:"as_of"`
		Periods      []string  `json:"periods"`
		ClosedPeriod string    `json:"closed_period"`
		Clients      []struct {
			ClientID      uuid.UUID `json:"client_id"`
			Period        string    `json:"period"`
			Used          int64     `json:"used"`
			ChargedBefore int64     `json:"units_charged_before"`
			NewUnits      int64     `json:"new_units"`
			AmountCents   int64     `json:"amount_cents"`
			Action        string    `json:"action"`
			Unbilled      int64     `json:"unbilled_units"`
			Error         string    `json:"error"`
		} `json:"clients"`
		Stripe struct {
			Enabled   bool `json:"enabled"`
			Attempted int  `json:"attempted"`
			Posted    int  `json:"posted"`
			Failed    int  `json:"failed"`
			Pending   int  `json:"pending"`
		} `json:"stripe"`
		Totals struct {
			ClientsEvaluated          int              `json:"clients_evaluated"`
			ChargesCreated            int              `json:"charges_created"`
			NewUnits                  int64            `json:"new_units"`
			AmountCents               map[string]int64 `json:"amount_cents"`
			Disabled                  int              `json:"disabled"`
			Reactivated               int              `json:"reactivated"`
			ClosedPeriodUnbilledUnits int64            `json:"closed_period_unbilled_units"`
			ClientsFailed             int              `json:"clients_failed"`
		} `json:"totals"`
	} `json:"report"`
}

func decode[T any](t testing.TB, r result) T {
	t.Helper()
	var v T
	require.NoErrorf(t, json.Unmarshal([]byte(r.stdout), &v), "stdout is not the JSON report:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	return v
}

// requireOneLineError checks a refused run: the exit code, nothing on
// stdout, and a single "Error: ..." line (no stack trace) containing want.
func requireOneLineError(t testing.TB, r result, code int, want string) {
	t.Helper()
	require.Equalf(t, code, r.code, "stderr:\n%s", r.stderr)
	require.Empty(t, r.stdout)
	final := finalError(t, r)
	require.Contains(t, final.Error, want)
	require.Equal(t, code, final.ExitCode)
}

// logLine is one JSON log line on stderr.
type logLine struct {
	Level    string `json:"level"`
	Message  string `json:"message"`
	Error    string `json:"error"`
	ExitCode int    `json:"exit_code"`
}

// finalError checks that every line on stderr is JSON (the harness runs
// with CORTEXCTL_LOG_FORMAT=json), that exactly one is the final
// "cortexctl failed" line and that it is the last, and returns it. Nothing
// on stderr is a stack trace.
func finalError(t testing.TB, r result) logLine {
	t.Helper()
	var finals []logLine
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	for i, l := range lines {
		var ll logLine
		require.NoErrorf(t, json.Unmarshal([]byte(l), &ll), "stderr line %d is not JSON: %q\nstderr:\n%s", i+1, l, r.stderr)
		if ll.Message == "cortexctl failed" {
			require.Equalf(t, len(lines)-1, i, "the final error is the last line, stderr:\n%s", r.stderr)
			require.Equal(t, "error", ll.Level)
			finals = append(finals, ll)
		}
	}
	require.Lenf(t, finals, 1, "want one final error line, stderr:\n%s", r.stderr)
	require.NotContains(t, r.stderr, "goroutine ")
	require.NotContains(t, r.stderr, "panic")
	return finals[0]
}

// at is an instant written in a test.
func at(s string) time.Time { return fixture.Time(s) }

func signal(t testing.TB, cmd *exec.Cmd, sig syscall.Signal) {
	t.Helper()
	require.NoError(t, cmd.Process.Signal(sig))
}
