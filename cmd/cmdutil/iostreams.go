package cmdutil

import (
	"bytes"
	"io"
	"os"

	"github.com/mattn/go-isatty"
)

// IOStreams are where a command writes: results to Out, logs and errors to
// ErrOut, and whether each is a terminal. Tests build them with Test and
// choose what counts as a terminal.
type IOStreams struct {
	Out    io.Writer
	ErrOut io.Writer

	outTTY, errTTY bool
}

// System is the process's stdout and stderr.
func System() *IOStreams {
	return &IOStreams{Out: os.Stdout, ErrOut: os.Stderr, outTTY: isTerminal(os.Stdout), errTTY: isTerminal(os.Stderr)}
}

// Test is a pair of buffers, neither a terminal.
func Test() (ios *IOStreams, out, errOut *bytes.Buffer) {
	out, errOut = &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{Out: out, ErrOut: errOut}, out, errOut
}

// IsStdoutTTY reports whether results go to a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.outTTY }

// IsStderrTTY reports whether logs go to a terminal.
func (s *IOStreams) IsStderrTTY() bool { return s.errTTY }

// SetStdoutTTY and SetStderrTTY override the detection, for tests.
func (s *IOStreams) SetStdoutTTY(tty bool) { s.outTTY = tty }
func (s *IOStreams) SetStderrTTY(tty bool) { s.errTTY = tty }

func isTerminal(f *os.File) bool {
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}
