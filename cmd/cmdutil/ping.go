package cmdutil

import (
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/cortexlayer/cortexctl/internal/deadman"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/jobs/runner"
)

// PingWait bounds how long a job's process waits, once the run is over,
// for its dead-man's switch pings: each ping also gives up after
// deadman.DefaultTimeout, and none ever fails the run.
const PingWait = 3 * time.Second

// jobPings are one run's dead-man's switch pings. The zero value (no URL
// set, a dry run, a bad URL) sends nothing.
type jobPings struct {
	p   *deadman.Pinger
	job string
	log zerolog.Logger
}

// pings reads job's ping URL from the environment. A dry run pings
// nothing: it must not tell the switch that the job ran. A URL cortexctl
// cannot use is logged and ignored: a ping never fails a run.
func (f *Factory) pings(job runner.Job) *jobPings {
	log := f.Log().With().Str("job", job.Name).Logger()
	jp := &jobPings{job: job.Name, log: log}
	raw := f.Env(EnvPingURL(job.Name))
	if raw == "" {
		return jp
	}
	if job.DryRun {
		log.Debug().Msg("a dry run sends no dead-man ping")
		return jp
	}
	p, err := deadman.New(raw, deadman.Options{
		UserAgent: "cortexctl/" + f.Build.Version,
		Report: func(r deadman.Result) {
			l := log.With().Str("ping", r.Event).Str("ping_url", r.URL).Int("http_status", r.Status).Logger()
			if r.Err != nil {
				l.Warn().Str("error", r.Err.Error()).Msg("dead-man ping")
				return
			}
			l.Debug().Msg("dead-man ping")
		},
	})
	if err != nil {
		log.Error().Str("error", err.Error()).Str("variable", EnvPingURL(job.Name)).Msg("dead-man ping URL unusable; the run sends no pings")
		return jp
	}
	jp.p = p
	return jp
}

// start says the run started (the job function is about to run).
func (jp *jobPings) start(id uuid.UUID) {
	if jp.p != nil {
		jp.p.Start(id.String())
	}
}

// finish says how the run ended: success, or its exit code with the error.
// A run skipped for the lock (75) is a log-only event, not a failure; a run
// refused for bad arguments (2) changed nothing and is not pinged; a run
// refused before it had a job_runs row (database down, 78) pings its code
// without a run id.
func (jp *jobPings) finish(started bool, rec runner.Record, err error) {
	if jp.p == nil {
		return
	}
	rid := ""
	if started {
		rid = rec.ID.String()
	}
	switch code := exitcode.Of(err); code {
	case exitcode.OK:
		msg := fmt.Sprintf("%s %s, run %s", jp.job, rec.Status, rid)
		if rec.FinishedAt != nil {
			msg += " in " + rec.FinishedAt.Sub(rec.StartedAt).Round(time.Millisecond).String()
		}
		jp.p.Success(rid, msg)
	case exitcode.Locked:
		jp.log.Info().Msg("skipped for the lock: a log-only dead-man ping, not a failure")
		jp.p.Log(rid, "skipped (exit 75): "+err.Error())
	case exitcode.Usage:
		jp.log.Info().Msg("refused for bad arguments (exit 2): no dead-man ping")
	default:
		jp.p.Fail(rid, code, fmt.Sprintf("exit %d: %s", code, err))
	}
}

// close waits for the pings, at most PingWait.
func (jp *jobPings) close() {
	if jp.p != nil {
		jp.p.Close(PingWait)
	}
}
