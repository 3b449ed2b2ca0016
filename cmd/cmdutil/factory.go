// Package cmdutil is what every cortexctl command shares: the Factory that
// hands out dependencies when a command first asks for them, the IO
// streams, the flags every job declares, the job-running and printing
// helpers. Only packages under cmd/ import it (and cobra).
package cmdutil

import (
	"context"
	"io"
	"strings"
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
}

// Factory hands out what commands need. Nothing is built until a command
// asks: a command that never touches the database never dials it.
type Factory struct {
	IOStreams *IOStreams
	Env       func(string) string // os.Getenv, or a map in tests
	Now       func() time.Time    // the host clock
	Build     BuildInfo
	Settings  Settings

	log  *zerolog.Logger
	pool *db.Pool
}

// Setup checks the resolved settings and builds the logger. The root
// command calls it once the flags are parsed.
func (f *Factory) Setup() error {
	s := &f.Settings
	level, err := zerolog.ParseLevel(strings.ToLower(s.LogLevel))
	if err != nil || s.LogLevel == "" {
		return exitcode.Errorf(exitcode.Usage, "invalid --log-level %q: use debug, info, warn or error", s.LogLevel)
	}
	var w io.Writer = f.IOStreams.ErrOut
	switch s.LogFormat {
	case "json":
	case "console":
		w = zerolog.ConsoleWriter{Out: f.IOStreams.ErrOut, TimeFormat: time.RFC3339, NoColor: !f.IOStreams.IsStderrTTY()}
	case "auto":
		if f.IOStreams.IsStderrTTY() {
			w = zerolog.ConsoleWriter{Out: f.IOStreams.ErrOut, TimeFormat: time.RFC3339}
		}
	default:
		return exitcode.Errorf(exitcode.Usage, "invalid --log-format %q: use auto, json or console", s.LogFormat)
	}
	switch s.Output {
	case "":
		s.Output = OutputJSON
		if f.IOStreams.IsStdoutTTY() {
			s.Output = OutputTable
		}
	case OutputTable, OutputJSON:
	default:
		return exitcode.Errorf(exitcode.Usage, "invalid --output %q: use table or json", s.Output)
	}
	log := zerolog.New(w).Level(level).With().Timestamp().Logger()
	f.log = &log
	return nil
}

// Log is the process's logger; a no-op one before Setup.
func (f *Factory) Log() zerolog.Logger {
	if f.log == nil {
		return zerolog.Nop()
	}
	return *f.log
}

// JSON reports whether results are printed as JSON.
func (f *Factory) JSON() bool { return f.Settings.Output == OutputJSON }

// DB connects on first use and checks the server answers.
func (f *Factory) DB(ctx context.Context) (*db.Pool, error) {
	if f.pool != nil {
		return f.pool, nil
	}
	url := f.Settings.DatabaseURL
	log := f.Log()
	log.Debug().Str("database", db.Redact(url)).Msg("connecting")
	pool, err := db.Connect(ctx, url, "cortexctl")
	if err != nil {
		return nil, err
	}
	f.pool = pool
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

// Stripe reads the Stripe settings from the environment (the base URL from
// the flag when given); a missing key is a configuration error, reported
// before any run starts.
func (f *Factory) Stripe(baseFlag string, baseChanged bool) (StripeSettings, error) {
	s := StripeSettings{APIKey: f.Env(EnvStripeAPIKey), APIBase: EnvOr(baseFlag, baseChanged, f.Env, EnvStripeAPIBase, "")}
	if s.APIKey == "" {
		return s, exitcode.Errorf(exitcode.Config,
			"%s is not set: billing overage will not bill without Stripe. Set it, or pass --no-stripe to record charges in the ledger only (a later run with the key pushes them)", EnvStripeAPIKey)
	}
	return s, nil
}

// StripeClient builds a Stripe client that logs through log (a run's logger).
func (s StripeSettings) Client(log zerolog.Logger) *stripeclient.Client {
	return stripeclient.New(s.APIKey, s.APIBase, stripeclient.WithLogger(log))
}

// Close releases what the factory built.
func (f *Factory) Close() {
	if f.pool != nil {
		f.pool.Close()
	}
}
