package stripeclient

import (
	"fmt"
	"strings"

	"github.com/rs/zerolog"
	"github.com/stripe/stripe-go/v85"
)

// stripe-go panics at New if the logger implements neither of its
// interfaces; make that a compile error instead.
var _ stripe.LeveledLoggerInterface = (*logAdapter)(nil)

// logAdapter routes stripe-go's leveled log lines to zerolog. It implements
// stripe.LeveledLoggerInterface. stripe-go does not log the API key, but the
// adapter scrubs it anyway, as the errors do.
type logAdapter struct {
	log    zerolog.Logger
	apiKey string
}

func newLogAdapter(log zerolog.Logger, apiKey string) *logAdapter {
	return &logAdapter{log: log.With().Str("component", "stripe-go").Logger(), apiKey: apiKey}
}

// Debugf logs stripe-go's debug lines (e.g. response bodies) at debug.
func (a *logAdapter) Debugf(format string, v ...any) { a.emit(a.log.Debug(), format, v) }

// Infof logs stripe-go's per-request lines at debug: one request makes
// several of them.
func (a *logAdapter) Infof(format string, v ...any) { a.emit(a.log.Debug(), format, v) }

// Warnf logs stripe-go's warnings (retries) at warn.
func (a *logAdapter) Warnf(format string, v ...any) { a.emit(a.log.Warn(), format, v) }

// Errorf logs stripe-go's errors at warn: the same failure reaches the
// caller as an error, and the caller decides how loud to be.
func (a *logAdapter) Errorf(format string, v ...any) { a.emit(a.log.Warn(), format, v) }

func (a *logAdapter) emit(e *zerolog.Event, format string, v []any) {
	if !e.Enabled() {
		return
	}
	msg := fmt.Sprintf(format, v...)
	if a.apiKey != "" {
		msg = strings.ReplaceAll(msg, a.apiKey, redacted)
	}
	e.Msg(msg)
}
