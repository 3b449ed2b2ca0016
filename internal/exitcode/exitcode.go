// Package exitcode names the process exit codes of cortexctl and carries them
// on errors, so that only main decides how the process ends.
//
// It imports the standard library only: each adapter (db, stripeclient, and
// later object storage and Redis) decides what its own failures mean and
// wraps them with New, e.g. a database that cannot be reached as
// Unavailable. An error that carries no code exits with Failed.
package exitcode

import (
	"errors"
	"fmt"
	"syscall"
)

// The exit codes, as documented in docs/jobs.md and in `cortexctl --help`.
const (
	OK          = 0   // success, including "nothing to do"
	Failed      = 1   // the run failed
	Usage       = 2   // bad flags or arguments
	Partial     = 3   // some units failed, the rest committed
	Unavailable = 69  // a dependency (database, Stripe) is unavailable
	Locked      = 75  // skipped: another run holds the job's lock
	Config      = 78  // configuration error (missing key, unmigrated database)
	Timeout     = 124 // --timeout elapsed
	Interrupted = 130 // SIGINT
	Terminated  = 143 // SIGTERM
)

// Error is an error that says which exit code it ends the process with.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// New wraps err with code. A nil err stays nil.
func New(code int, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Err: err}
}

// Errorf formats an error that exits with code.
func Errorf(code int, format string, args ...any) error {
	return &Error{Code: code, Err: fmt.Errorf(format, args...)}
}

// Signal is the context cause set when SIGINT or SIGTERM stops a run.
type Signal struct{ Sig syscall.Signal }

func (s Signal) Error() string {
	if s.Sig == syscall.SIGTERM {
		return "terminated (SIGTERM)"
	}
	return "interrupted (SIGINT)"
}

// ErrTimeout is the context cause set when --timeout elapses.
var ErrTimeout = errors.New("timed out (--timeout elapsed)")

// Of returns the exit code err ends the process with: a signal's or a
// timeout's first, else the code of the outermost *Error, else Failed.
func Of(err error) int {
	if err == nil {
		return OK
	}
	var sig Signal
	if errors.As(err, &sig) {
		if sig.Sig == syscall.SIGTERM {
			return Terminated
		}
		return Interrupted
	}
	if errors.Is(err, ErrTimeout) {
		return Timeout
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Failed
}
