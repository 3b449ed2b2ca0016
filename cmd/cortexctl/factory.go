package main

import (
	"context"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"

	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/internal/stripeclient"
	"github.com/cortexlayer/cortexctl/jobs/runner"
)

// globals are the persistent flags of every command.
type globals struct {
	databaseURL string
	logFormat   string
	logLevel    string
	output      string
}

// factory hands out what commands need, built only when asked: a command
// that never touches the database never dials it.
type factory struct {
	stdout, stderr io.Writer
	now            func() time.Time
	env            func(string) string
	g              globals

	log  zerolog.Logger
	pool *pgxpool.Pool
}

// setup resolves the global flags once they are parsed.
func (f *factory) setup() error {
	level, err := zerolog.ParseLevel(strings.ToLower(f.g.logLevel))
	if err != nil || f.g.logLevel == "" {
		return exitcode.Errorf(exitcode.Usage, "invalid --log-level %q: use debug, info, warn or error", f.g.logLevel)
	}
	var w io.Writer = f.stderr
	switch f.g.logFormat {
	case "json":
	case "console":
		w = zerolog.ConsoleWriter{Out: f.stderr, TimeFormat: time.RFC3339, NoColor: !isTTY(f.stderr)}
	case "auto":
		if isTTY(f.stderr) {
			w = zerolog.ConsoleWriter{Out: f.stderr, TimeFormat: time.RFC3339}
		}
	default:
		return exitcode.Errorf(exitcode.Usage, "invalid --log-format %q: use auto, json or console", f.g.logFormat)
	}
	switch f.g.output {
	case "":
		f.g.output = "json"
		if isTTY(f.stdout) {
			f.g.output = "table"
		}
	case "table", "json":
	default:
		return exitcode.Errorf(exitcode.Usage, "invalid --output %q: use table or json", f.g.output)
	}
	f.log = zerolog.New(w).Level(level).With().Timestamp().Logger()
	return nil
}

func isTTY(w io.Writer) bool {
	file, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(file.Fd()) || isatty.IsCygwinTerminal(file.Fd()))
}

// DB connects on first use and checks the server answers.
func (f *factory) DB(ctx context.Context) (*pgxpool.Pool, error) {
	if f.pool != nil {
		return f.pool, nil
	}
	url := f.g.databaseURL
	f.log.Debug().Str("database", db.Redact(url)).Msg("connecting")
	pool, err := db.Connect(ctx, url, "cortexctl")
	if err != nil {
		return nil, err
	}
	f.pool = pool
	return pool, nil
}

// Runner builds the job runner on the database.
func (f *factory) Runner(ctx context.Context) (*runner.Runner, error) {
	pool, err := f.DB(ctx)
	if err != nil {
		return nil, err
	}
	return &runner.Runner{Pool: pool, Log: f.log, Now: f.now, Version: version}, nil
}

// Stripe returns a constructor of the Stripe client from STRIPE_API_KEY,
// so the client logs through the run's logger; a missing key is a
// configuration error, reported before any run starts.
func (f *factory) Stripe(baseURL string) (func(zerolog.Logger) *stripeclient.Client, error) {
	key := f.env(EnvStripeAPIKey)
	if key == "" {
		return nil, exitcode.Errorf(exitcode.Config,
			"%s is not set: billing overage will not bill without Stripe. Set it, or pass --no-stripe to record charges in the ledger only (a later run with the key pushes them)", EnvStripeAPIKey)
	}
	return func(log zerolog.Logger) *stripeclient.Client {
		return stripeclient.New(key, baseURL, stripeclient.WithLogger(log))
	}, nil
}

func (f *factory) close() {
	if f.pool != nil {
		f.pool.Close()
	}
}

// envOr returns the flag's value if it was set, else the variable's, else def.
func envOr(flagValue string, changed bool, env func(string) string, name, def string) string {
	if changed {
		return flagValue
	}
	if v := env(name); v != "" {
		return v
	}
	return def
}
