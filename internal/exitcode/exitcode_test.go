package exitcode_test

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

func TestOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, exitcode.OK},
		{"plain error", errors.New("boom"), exitcode.Failed},
		{"typed", exitcode.Errorf(exitcode.Partial, "2 of 3 failed"), exitcode.Partial},
		{"typed, wrapped", fmt.Errorf("run: %w", exitcode.Errorf(exitcode.Config, "no key")), exitcode.Config},
		{"adapter's unavailable, wrapped by a job", fmt.Errorf("client 1: %w", exitcode.New(exitcode.Unavailable, errors.New("conn reset"))), exitcode.Unavailable},
		{"outermost typed wins", exitcode.New(exitcode.Usage, exitcode.Errorf(exitcode.Failed, "x")), exitcode.Usage},
		{"timeout", fmt.Errorf("stopped: %w", exitcode.ErrTimeout), exitcode.Timeout},
		{"SIGINT", exitcode.Signal{Sig: syscall.SIGINT}, exitcode.Interrupted},
		{"SIGTERM wrapped", fmt.Errorf("%w (%w)", exitcode.Signal{Sig: syscall.SIGTERM}, context.Canceled), exitcode.Terminated},
		{"signal beats the typed error it wraps", fmt.Errorf("%w: %w", exitcode.Signal{Sig: syscall.SIGTERM}, exitcode.Errorf(exitcode.Failed, "x")), exitcode.Terminated},
		{"cancelled", context.Canceled, exitcode.Failed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, exitcode.Of(tc.err))
		})
	}
}

func TestNewKeepsNil(t *testing.T) {
	t.Parallel()
	require.NoError(t, exitcode.New(exitcode.Failed, nil))
}
