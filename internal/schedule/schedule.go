// Package schedule is the one registry of when cortexctl's jobs run: each
// job's cron line (in UTC), the command it runs and how old its last
// success may grow before someone must look. The crontabs under crontab/,
// the Kubernetes CronJobs (`cortexctl schedule export`) and `cortexctl jobs
// status --check` are all derived from it, so they cannot drift apart. It
// uses the standard library only.
package schedule

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Entry is one scheduled job.
type Entry struct {
	// Job is the job's name in job_runs (and its advisory lock).
	Job string
	// Args are cortexctl's arguments that run it (before the flags every
	// scheduled run gets: see Flags).
	Args []string
	// Cron is the standard five-field schedule, in UTC.
	Cron string
	// MaxAge is how old the job's last success may be before `jobs status
	// --check` fails: its period plus a margin for a slow run, a retry after
	// a dependency was down, or a delayed start.
	MaxAge time.Duration
	// What says in a few words what the run does, for crontab comments.
	What string
}

// Flags are given to every scheduled run: JSON results and JSON logs, so
// what cron captures is machine-readable.
var Flags = []string{"--output", "json", "--log-format", "json"}

// Entries are the scheduled jobs, in the order they run each night.
// billing grace runs after billing overage: a client the overage run
// disables for its hard cap is then no longer in grace.
var Entries = []Entry{
	{Job: "billing-overage", Args: []string{"billing", "overage"}, Cron: "0 1 * * *", MaxAge: 26 * time.Hour,
		What: "bill usage beyond the soft cap, disable beyond the hard cap"},
	{Job: "billing-grace", Args: []string{"billing", "grace"}, Cron: "30 1 * * *", MaxAge: 26 * time.Hour,
		What: "disable clients 7 days in grace without a payment"},
	{Job: "db-backup", Args: []string{"db", "backup"}, Cron: "0 3 * * *", MaxAge: 26 * time.Hour,
		What: "pg_dump to object storage, keep the last 7 days"},
}

// Find returns the entry of a job.
func Find(job string) (Entry, bool) {
	i := slices.IndexFunc(Entries, func(e Entry) bool { return e.Job == job })
	if i < 0 {
		return Entry{}, false
	}
	return Entries[i], true
}

// Command is the full argument list of a scheduled run.
func (e Entry) Command() []string { return append(slices.Clone(e.Args), Flags...) }

// Jobs are the names of the scheduled jobs.
func Jobs() []string {
	out := make([]string, len(Entries))
	for i, e := range Entries {
		out[i] = e.Job
	}
	return out
}

// Check reports an entry the registry must not hold: a cron line that is not
// five plain fields, or a MaxAge shorter than a day (every job is daily).
func (e Entry) Check() error {
	if strings.Trim(e.Cron, "0123456789*/,- ") != "" {
		return fmt.Errorf("%s: cron %q: only digits and * / , - in five fields", e.Job, e.Cron)
	}
	if n := len(strings.Fields(e.Cron)); n != 5 {
		return fmt.Errorf("%s: cron %q has %d fields, want 5", e.Job, e.Cron, n)
	}
	if e.MaxAge < 24*time.Hour {
		return fmt.Errorf("%s: max age %s is shorter than the daily period", e.Job, e.MaxAge)
	}
	return nil
}
