package main_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/db/dbtest"
	"github.com/cortexlayer/cortexctl/internal/schedule"
	"github.com/cortexlayer/cortexctl/internal/testenv"
)

// The schedule as cron sees it: `schedule export` prints the committed
// crontabs byte for byte, the host crontabs are well-formed /etc/cron.d
// files, supercronic accepts its crontab, and supercronic running the
// committed grace line starts the real binary, which records its run.

// crontabFiles are the committed renderings, by format.
var crontabFiles = map[string]string{
	schedule.FormatHost:        "cortexctl.cron",
	schedule.FormatHostBinary:  "cortexctl-binary.cron",
	schedule.FormatSupercronic: "supercronic.cron",
}

func readCrontab(t testing.TB, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "crontab", file))
	require.NoError(t, err)
	return string(b)
}

func TestScheduleExportMatchesCommittedCrontabs(t *testing.T) {
	t.Parallel()
	// A database that does not answer: the export never connects.
	c := newCLI(t, unreachableURL)
	for format, file := range crontabFiles {
		r := c.runOK("schedule", "export", "--format", format)
		require.Equalf(t, readCrontab(t, file), r.stdout,
			"crontab/%s is not what `cortexctl schedule export --format %s` prints: the registry (internal/schedule) "+
				"or its rendering changed; run `make crontab` and commit crontab/", file, format)
		require.Empty(t, r.stderr)
	}
	r := c.runOK("schedule", "export", "--format", "k8s", "--image", "ghcr.io/cortexlayer/cortexctl:v1.4.0")
	require.Equal(t, len(schedule.Entries), strings.Count(r.stdout, "\nkind: CronJob\n"))
	require.Contains(t, r.stdout, `image: "ghcr.io/cortexlayer/cortexctl:v1.4.0"`)
	requireOneLineError(t, c.run("schedule", "export", "--format", "host", "--image", "x"), 2,
		"--image does not apply to --format host, only to k8s")
}

// cronDLine is a job line of an /etc/cron.d file.
type cronDLine struct {
	time    [5]string
	user    string
	command string
}

var (
	cronEnvRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)
	cronLineRE = regexp.MustCompile(`^(\S+)[ \t]+(\S+)[ \t]+(\S+)[ \t]+(\S+)[ \t]+(\S+)[ \t]+(\S+)[ \t]+(\S.*)$`)
	cronUserRE = regexp.MustCompile(`^[a-z_][a-z0-9_-]*$`)
	// minute, hour, day of month, month, day of week (0 and 7 are Sunday).
	cronRanges = [5][2]int{{0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 7}}
)

// parseCronD reads an /etc/cron.d file as cron does: comments, NAME=value
// settings and job lines of five time fields (numbers, *, ranges, lists,
// steps), a user and a command without % (cron's newline). cron ignores a
// last line without a newline, so that is an error too.
func parseCronD(text string) (map[string]string, []cronDLine, error) {
	if !strings.HasSuffix(text, "\n") {
		return nil, nil, errors.New("the last line has no newline: cron ignores it")
	}
	env := map[string]string{}
	var lines []cronDLine
	for i, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		trimmed := strings.TrimLeft(l, " \t")
		switch {
		case trimmed == "" || strings.HasPrefix(trimmed, "#"):
			continue
		case cronEnvRE.MatchString(trimmed):
			k, v, _ := strings.Cut(trimmed, "=")
			env[k] = v
			continue
		}
		m := cronLineRE.FindStringSubmatch(trimmed)
		if m == nil {
			return nil, nil, fmt.Errorf("line %d: want five time fields, a user and a command: %q", i+1, l)
		}
		var line cronDLine
		for f := range 5 {
			if err := checkCronField(m[f+1], cronRanges[f][0], cronRanges[f][1]); err != nil {
				return nil, nil, fmt.Errorf("line %d: time field %d %q: %w", i+1, f+1, m[f+1], err)
			}
			line.time[f] = m[f+1]
		}
		line.user, line.command = m[6], m[7]
		if !cronUserRE.MatchString(line.user) {
			return nil, nil, fmt.Errorf("line %d: %q is not a user", i+1, line.user)
		}
		if strings.Contains(line.command, "%") {
			return nil, nil, fmt.Errorf("line %d: %% in the command is a newline to cron", i+1)
		}
		lines = append(lines, line)
	}
	return env, lines, nil
}

func checkCronField(field string, lo, hi int) error {
	for item := range strings.SplitSeq(field, ",") {
		rng, step, hasStep := strings.Cut(item, "/")
		if hasStep {
			if n, err := strconv.Atoi(step); err != nil || n < 1 {
				return fmt.Errorf("step %q is not a positive number", step)
			}
		}
		if rng == "*" {
			continue
		}
		from, to, isRange := strings.Cut(rng, "-")
		if !isRange {
			to = from
		}
		a, errA := strconv.Atoi(from)
		b, errB := strconv.Atoi(to)
		if errA != nil || errB != nil || a < lo || b > hi || a > b {
			return fmt.Errorf("%q is not in %d-%d", rng, lo, hi)
		}
	}
	return nil
}

func TestCrontabHostFilesParse(t *testing.T) {
	t.Parallel()
	for format, user := range map[string]string{schedule.FormatHost: "root", schedule.FormatHostBinary: "cortexctl"} {
		env, lines, err := parseCronD(readCrontab(t, crontabFiles[format]))
		require.NoError(t, err, format)
		require.Equal(t, "UTC", env["CRON_TZ"], format)
		require.Equal(t, "UTC", env["TZ"], format)
		require.Len(t, lines, len(schedule.Entries), format)
		for i, e := range schedule.Entries {
			l := lines[i]
			require.Equal(t, strings.Fields(e.Cron), l.time[:], format)
			require.Equal(t, user, l.user, format)
			require.Contains(t, l.command, " "+strings.Join(e.Command(), " ")+" >>/var/log/cortexctl/"+e.Job+".json 2>>/var/log/cortexctl/"+e.Job+".log", format)
			require.NotContains(t, l.command, "DATABASE_URL", "secrets stay out of the crontab")
		}
	}
}

func TestCrontabParserRefusesBrokenLines(t *testing.T) {
	t.Parallel()
	good := "CRON_TZ=UTC\n# a comment\n30 1 * * * root cortexctl billing grace\n"
	_, lines, err := parseCronD(good)
	require.NoError(t, err)
	require.Equal(t, []cronDLine{{[5]string{"30", "1", "*", "*", "*"}, "root", "cortexctl billing grace"}}, lines)
	for _, broken := range []string{
		"30 1 * * root cortexctl billing grace\n",     // four time fields: "root" is read as the day of week
		"30 1 * * * cortexctl\n",                      // no user (or no command)
		"30 24 * * * root cortexctl billing grace\n",  // hour out of range
		"60 1 * * * root cortexctl billing grace\n",   // minute out of range
		"30 1 0 * * root cortexctl billing grace\n",   // day of month 0
		"*/0 1 * * * root cortexctl billing grace\n",  // step 0
		"30 1 * * * Root! cortexctl billing grace\n",  // not a user
		"30 1 * * * root date +%F\n",                  // % is a newline to cron
		"@daily root cortexctl billing grace\n",       // not five fields
		"30 1 * * * root cortexctl billing grace",     // no final newline
		"30 5-1 * * * root cortexctl billing grace\n", // backwards range
	} {
		_, _, err := parseCronD("CRON_TZ=UTC\n" + broken)
		require.Error(t, err, "%q", broken)
	}
}

// supercronicBinary finds the pinned supercronic: on PATH, else where `go
// install` put it; missing, the test fails saying how to install it
// (CORTEXCTL_TEST_SKIP=supercronic skips instead).
func supercronicBinary(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("supercronic"); err == nil {
		return p
	}
	dir := ""
	if out, err := exec.Command("go", "env", "GOBIN").Output(); err == nil {
		dir = strings.TrimSpace(string(out))
	}
	if dir == "" {
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			dir = filepath.Join(strings.Split(strings.TrimSpace(string(out)), string(os.PathListSeparator))[0], "bin")
		}
	}
	p := filepath.Join(dir, "supercronic")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	testenv.Need(t, "supercronic", fmt.Errorf("not on PATH nor at %s: run `make tools` (scripts/tools.sh installs the pinned version)", p))
	return ""
}

func TestSupercronicAcceptsCrontab(t *testing.T) {
	t.Parallel()
	bin := supercronicBinary(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-test", filepath.Join("..", "..", "crontab", "supercronic.cron")).CombinedOutput()
	require.NoError(t, err, "supercronic -test crontab/supercronic.cron:\n%s", out)
	require.Contains(t, string(out), "crontab is valid")
	require.Contains(t, string(out), "processes will be spawned using TZ: UTC")

	// The check has teeth: an hour out of range is refused.
	broken := filepath.Join(t.TempDir(), "broken.cron")
	require.NoError(t, os.WriteFile(broken, []byte(strings.Replace(readCrontab(t, "supercronic.cron"), "30 1 * * *", "30 25 * * *", 1)), 0o600))
	out, err = exec.CommandContext(ctx, bin, "-test", broken).CombinedOutput()
	require.Error(t, err, "supercronic accepted an hour of 25:\n%s", out)
}

// supercronic runs the committed grace line, every two seconds instead of
// daily, with the built binary first on PATH: a succeeded billing-grace run
// appears in job_runs, and its JSON result on supercronic's stdout.
func TestSupercronicRunsTheBinary(t *testing.T) {
	t.Parallel()
	bin := supercronicBinary(t)
	d := dbtest.New(t)
	grace, ok := schedule.Find("billing-grace")
	require.True(t, ok)

	var crontab strings.Builder
	committed := readCrontab(t, "supercronic.cron")
	line := grace.Cron + " cortexctl " + strings.Join(grace.Command(), " ")
	require.Contains(t, committed, "\n"+line+"\n")
	for l := range strings.Lines(committed) {
		if cronEnvRE.MatchString(l) {
			crontab.WriteString(l) // CRON_TZ, TZ
		}
	}
	crontab.WriteString("*/2 * * * * * *" + strings.TrimPrefix(line, grace.Cron) + "\n")
	file := filepath.Join(t.TempDir(), "supercronic.cron")
	require.NoError(t, os.WriteFile(file, []byte(crontab.String()), 0o600))

	cmd := exec.Command(bin, "-passthrough-logs", file)
	cmd.Env = []string{"PATH=" + filepath.Dir(binary) + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + t.TempDir(), "DATABASE_URL=" + d.URL, "GORACE=" + goraceOptions()}
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Start())
	done := make(chan struct{}) // closed once supercronic exited; waitErr is then set
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		select {
		case <-done:
		default:
			_ = cmd.Process.Kill()
			<-done
		}
	})

	require.Eventuallyf(t, func() bool {
		var n int
		err := d.Pool.QueryRow(t.Context(),
			`SELECT count(*) FROM job_runs WHERE job = 'billing-grace' AND status = 'succeeded' AND NOT dry_run`).Scan(&n)
		return err == nil && n > 0
	}, 20*time.Second, 200*time.Millisecond, "no succeeded billing-grace run in job_runs within 20s\nstdout:\n%s\nstderr:\n%s", &stdout, &stderr)
	require.Eventually(t, func() bool { return strings.Contains(stdout.String(), `"job": "billing-grace"`) }, 10*time.Second, 50*time.Millisecond,
		"the run's JSON result never reached supercronic's stdout:\n%s\nstderr:\n%s", &stdout, &stderr)

	// SIGTERM: supercronic waits for a run in progress, then exits.
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-done:
		require.NoError(t, waitErr, "supercronic on SIGTERM\nstderr:\n%s", &stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("supercronic did not stop within 30s of SIGTERM\nstderr:\n%s", &stderr)
	}
}
