// Package cmdutil is what every cortexctl command shares: the Factory that
// hands out dependencies when a command first asks for them, the IO
// streams, the flags every job declares, the job-running and printing
// helpers. Only packages under cmd/ import it (and cobra).
package cmdutil

import (
	"context"
	stdlog "log"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/internal/stripeclient"
	"github.com/cortexlayer/cortexctl/jobs/runner"
)

// BuildInfo is what the Makefile stamps into the binary.
type BuildInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Date    string `json:"date"`
}

// Settings are the global flags, resolved (flag > environment > default)
// by the root command before any subcommand runs.
type Settings struct {
	DatabaseURL string
	LogFormat   string // auto, json, console
	LogLevel    string
	Output      string // table or json

	// Where each came from, to name it in an error: the flag ("--output")
	// or the environment variable ("CORTEXCTL_OUTPUT").
	LogFormatFrom, LogLevelFrom, OutputFrom string
}

// from names the source of a setting: src if known, else the flag.
func from(src, flag string) string {
	if src != "" {
		return src
	}
	return "--" + flag
}

// Factory hands out what commands need. Nothing is built until a command
// asks: a command that never touches the database never dials it.
type Factory struct {
	IOStreams *IOStreams
	Env       func(string) string // os.Getenv, or a map in tests
	Environ   func() []string     // os.Environ: which variables are set at all
	Now       func() time.Time    // the host clock
	Build     BuildInfo
	Settings  Settings
	// AppName and PoolMaxConns shape the pool DB opens (application_name,
	// and its size unless the URL sets pool_max_conns); zero: a job's.
	AppName      string
	PoolMaxConns int32

	log      atomic.Pointer[zerolog.Logger] // read by main's signal handler too
	stopping atomic.Pointer[string]         // what the first signal does, if a command says
	pool     *db.Pool
}

// DefaultStopping is what the first SIGINT or SIGTERM does to a job.
const DefaultStopping = "stopping after the current client (nothing half-written); send SIGINT again to abort at once"

// SetStopping says what the first signal does to the running command, for
// main's log line (a server finishes its requests; a job its client).
func (f *Factory) SetStopping(msg string) { f.stopping.Store(&msg) }

// Stopping is what the first signal does to the running command.
func (f *Factory) Stopping() string {
	if m := f.stopping.Load(); m != nil {
		return *m
	}
	return DefaultStopping
}

// Setup checks the resolved settings and builds the logger. The root
// command calls it once the flags are parsed.
func (f *Factory) Setup() error {
	s := &f.Settings
	level, err := zerolog.ParseLevel(strings.ToLower(s.LogLevel))
	if err != nil || s.LogLevel == "" {
		return exitcode.Errorf(exitcode.Usage, "invalid %s %q: use debug, info, warn or error", from(s.LogLevelFrom, "log-level"), s.LogLevel)
	}
	w := f.IOStreams.ErrOut
	switch s.LogFormat {
	case "json":
	case "console":
		w = zerolog.ConsoleWriter{Out: f.IOStreams.ErrOut, TimeFormat: time.RFC3339, NoColor: !f.IOStreams.IsStderrTTY()}
	case "auto":
		if f.IOStreams.IsStderrTTY() {
			w = zerolog.ConsoleWriter{Out: f.IOStreams.ErrOut, TimeFormat: time.RFC3339}
		}
	default:
		return exitcode.Errorf(exitcode.Usage, "invalid %s %q: use auto, json or console", from(s.LogFormatFrom, "log-format"), s.LogFormat)
	}
	switch s.Output {
	case "":
		// A table on a terminal and on a pipe alike: the format never
		// changes behind the caller's back. JSON is asked for.
		s.Output = OutputTable
	case OutputTable, OutputJSON:
	default:
		return exitcode.Errorf(exitcode.Usage, "invalid %s %q: use table or json", from(s.OutputFrom, "output"), s.Output)
	}
	log := zerolog.New(w).Level(level).With().Timestamp().Logger()
	f.log.Store(&log)
	// Libraries that print through the standard logger (the S3 transfer
	// manager does, once) write through this one: stderr stays all JSON.
	stdlog.SetFlags(0)
	stdlog.SetOutput(log.With().Str("component", "stdlib").Logger())
	return nil
}

// Log is the process's logger; a no-op one before Setup.
func (f *Factory) Log() zerolog.Logger {
	if l := f.log.Load(); l != nil {
		return *l
	}
	return zerolog.Nop()
}

// JSONLogs reports whether log lines are JSON (--log-format json, or auto
// with stderr not a terminal). Before Setup it reads the settings as given.
func (f *Factory) JSONLogs() bool {
	format := f.Settings.LogFormat
	if f.Settings.LogFormatFrom == "" && f.Env(EnvLogFormat) != "" {
		format = f.Env(EnvLogFormat) // the flags were never resolved (a flag error)
	}
	switch format {
	case "json":
		return true
	case "console":
		return false
	default:
		return !f.IOStreams.IsStderrTTY()
	}
}

// JSON reports whether results are printed as JSON.
func (f *Factory) JSON() bool { return f.Settings.Output == OutputJSON }

// DB connects on first use and checks the server answers.
func (f *Factory) DB(ctx context.Context) (*db.Pool, error) {
	if f.pool != nil {
		return f.pool, nil
	}
	url := f.Settings.DatabaseURL
	if url == "" && !f.libpqEnv() {
		return nil, exitcode.Errorf(exitcode.Config,
			"no database given: set %s (or --database-url), e.g. postgres://cortexctl@db.internal:5432/cortexlayer; cortexctl does not guess one from libpq's defaults", EnvDatabaseURL)
	}
	log := f.Log()
	log.Debug().Str("database", db.Redact(url)).Msg("connecting")
	app, size := f.AppName, f.PoolMaxConns
	if app == "" {
		app = "cortexctl"
	}
	if size == 0 {
		size = db.DefaultMaxConns
	}
	pool, err := db.ConnectSized(ctx, url, app, size)
	if err != nil {
		return nil, err
	}
	f.pool = pool
	return pool, nil
}

// libpqEnv reports whether a PG* variable names a database to libpq.
func (f *Factory) libpqEnv() bool {
	if f.Environ == nil {
		return false
	}
	for _, kv := range f.Environ() {
		if k, v, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "PG") && v != "" {
			return true
		}
	}
	return false
}

// MigratedDB is DB for a command that reads or writes the schema: it also
// refuses a database whose schema is older than this binary (exit 78).
func (f *Factory) MigratedDB(ctx context.Context) (*db.Pool, error) {
	pool, err := f.DB(ctx)
	if err != nil {
		return nil, err
	}
	if err := db.CheckSchema(ctx, pool); err != nil {
		return nil, err
	}
	return pool, nil
}

// Runner builds the job runner on the database.
func (f *Factory) Runner(ctx context.Context) (*runner.Runner, error) {
	pool, err := f.DB(ctx)
	if err != nil {
		return nil, err
	}
	return &runner.Runner{Pool: pool, Log: f.Log(), Now: f.Now, Version: f.Build.Version}, nil
}

// StripeSettings are where and how to reach Stripe.
type StripeSettings struct {
	APIKey  string // secret: from the environment only
	APIBase string // "" is Stripe's own API
}

// Stripe reads the Stripe settings: the key from the environment, the base
// URL from the flag when given, else the environment. They are checked by
// the run's preflight (Check), before it takes its lock.
func (f *Factory) Stripe(baseFlag string, baseChanged bool) StripeSettings {
	return StripeSettings{APIKey: f.Env(EnvStripeAPIKey), APIBase: EnvOr(baseFlag, baseChanged, f.Env, EnvStripeAPIBase, "")}
}

// Check refuses settings Stripe cannot be used with (exit 78), naming what
// to set.
func (s StripeSettings) Check() error {
	if s.APIKey == "" {
		return exitcode.Errorf(exitcode.Config,
			"%s is not set: billing overage will not bill without Stripe. Set it, or pass --no-stripe to record charges in the ledger only (a later run with the key pushes them)", EnvStripeAPIKey)
	}
	return stripeclient.CheckConfig(s.APIKey, s.APIBase)
}

// Client builds a Stripe client that logs through log (a run's logger).
func (s StripeSettings) Client(log zerolog.Logger) *stripeclient.Client {
	return stripeclient.New(s.APIKey, s.APIBase, stripeclient.WithLogger(log))
}

// Close releases what the factory built.
func (f *Factory) Close() {
	if f.pool != nil {
		f.pool.Close()
	}
}
