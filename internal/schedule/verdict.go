package schedule

import (
	"fmt"
	"strings"
	"time"
)

// The states a verdict can name, as `jobs status` prints them.
const (
	StateOK             = "ok"              // the last run succeeded and so did a fresh run
	StateRunning        = "running"         // a run is in progress; the last success is fresh
	StateRetrying       = "retrying"        // the last run hit a passing trouble (69, 124, 130, 143, killed); the next run retries
	StateSkipped        = "skipped"         // the last run found the lock taken (75)
	StateRefused        = "refused"         // the last run was refused for bad arguments (2) and changed nothing
	StateStale          = "stale"           // the last success is older than the job's MaxAge
	StateNeverSucceeded = "never_succeeded" // no success recorded at all
	StateNeedsHuman     = "needs_human"     // the last run exited 1, 3 or 78: rerunning alone will not fix it
	StateUnscheduled    = "unscheduled"     // not in the registry: reported, never judged
)

// Exit codes the verdict tells apart. They are internal/exitcode's, spelled
// out here because this package imports the standard library only (a test
// checks the two agree).
const (
	codeOK          = 0
	codeFailed      = 1
	codeUsage       = 2
	codePartial     = 3
	codeUnavailable = 69
	codeLocked      = 75
	codeConfig      = 78
)

// LastRun is what a verdict needs of a job's newest real run.
type LastRun struct {
	Running  bool // no outcome recorded yet
	ExitCode *int // nil: running, or closed as interrupted without a code (killed)
}

// Verdict is the judgement of one job: its state, whether it fails `jobs
// status --check`, and one line saying why.
type Verdict struct {
	State   string        `json:"state"`
	Failing bool          `json:"failing"`
	Reason  string        `json:"reason"`
	Age     time.Duration `json:"-"` // of the last success; 0 if none
}

// Judge decides a job's verdict at now (the database's clock): last is its
// newest real run (nil if it never ran), lastSuccess when its newest
// success finished (nil if none), maxAge its Entry's MaxAge (0 for a job
// the registry does not hold: reported, never failing).
//
// A job fails when its last success is older than maxAge or missing, or
// when its last run needs a human: exit 1 (failed, e.g. the guard), 3
// (partial) or 78 (configuration). A last run that exited 69 (a dependency
// was down), 75 (skipped for the lock), 124, 130 or 143 (timed out,
// interrupted), or was killed, is reported but does not fail while the last
// success is fresh: the next run retries. Nor does a run refused for bad
// arguments (2: a person's mistyped --as-of; it changed nothing, and a
// scheduled run, which gives none, is never refused for it): a schedule
// that is itself wrong shows as a stale success.
func Judge(now time.Time, maxAge time.Duration, last *LastRun, lastSuccess *time.Time) Verdict {
	var v Verdict
	if lastSuccess != nil {
		v.Age = max(now.Sub(*lastSuccess), 0)
	}
	if maxAge <= 0 {
		v.State, v.Reason = StateUnscheduled, "not a scheduled job: reported, not checked"
		if last != nil {
			v.Reason += "; last run " + describe(*last)
		}
		return v
	}
	var problems []string
	human := last != nil && !last.Running && needsHuman(last.ExitCode)
	if human {
		v.State = StateNeedsHuman
		problems = append(problems, "last run "+describe(*last)+": rerunning will not fix it, see docs/operations.md#recover")
	}
	switch {
	case lastSuccess == nil:
		if !human {
			v.State = StateNeverSucceeded
		}
		what := "never succeeded"
		if last == nil {
			what = "never ran"
		} else if last.Running {
			what = "never succeeded (a run is in progress)"
		}
		problems = append(problems, fmt.Sprintf("%s (max age %s)", what, Approx(maxAge)))
	case v.Age > maxAge:
		if !human {
			v.State = StateStale
		}
		problems = append(problems, fmt.Sprintf("last success %s ago is older than its max age %s", Approx(v.Age), Approx(maxAge)))
	}
	if len(problems) > 0 {
		v.Failing, v.Reason = true, strings.Join(problems, "; ")
		return v
	}
	fresh := fmt.Sprintf("last success %s ago (max age %s)", Approx(v.Age), Approx(maxAge))
	switch {
	case last == nil || (last.ExitCode != nil && *last.ExitCode == codeOK):
		v.State, v.Reason = StateOK, fresh
	case last.Running:
		v.State, v.Reason = StateRunning, "a run is in progress; "+fresh
	case last.ExitCode != nil && *last.ExitCode == codeLocked:
		v.State, v.Reason = StateSkipped, "last run skipped (75: another run held the lock); "+fresh
	case last.ExitCode != nil && *last.ExitCode == codeUsage:
		v.State, v.Reason = StateRefused, "last run "+describe(*last)+" changed nothing; "+fresh
	default:
		v.State, v.Reason = StateRetrying, "last run "+describe(*last)+", the next run retries; "+fresh
	}
	return v
}

// needsHuman reports whether a finished run's exit code asks for a person.
// A run closed without a code was killed: the next run retries.
func needsHuman(code *int) bool {
	if code == nil {
		return false
	}
	switch *code {
	case codeFailed, codePartial, codeConfig:
		return true
	}
	return false
}

func describe(r LastRun) string {
	switch {
	case r.Running:
		return "is running"
	case r.ExitCode == nil:
		return "was killed (no exit code recorded)"
	}
	names := map[int]string{codeOK: "succeeded", codeFailed: "failed", codeUsage: "bad arguments", codePartial: "partial",
		codeUnavailable: "a dependency was unavailable", codeLocked: "skipped: lock held", codeConfig: "configuration error",
		124: "timed out", 130: "interrupted", 143: "terminated"}
	name, ok := names[*r.ExitCode]
	if !ok {
		name = "failed"
	}
	return fmt.Sprintf("exited %d (%s)", *r.ExitCode, name)
}

// Approx prints a duration to the minute (to the second under one), as
// 26h, 1h30m, 45s: how verdicts and `jobs status` print ages.
func Approx(d time.Duration) string {
	if d < time.Minute {
		return d.Round(time.Second).String()
	}
	s := strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
