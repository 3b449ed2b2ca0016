package exitcode_test

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

func TestOf(t *testing.T) {
	t.Parallel()
	// A real connect error from pgx: nothing listens on port 1.
	_, connErr := pgx.Connect(context.Background(), "postgres://u:p@127.0.0.1:1/x?connect_timeout=2")
	require.Error(t, connErr)

	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, exitcode.OK},
		{"plain error", errors.New("boom"), exitcode.Failed},
		{"typed", exitcode.Errorf(exitcode.Partial, "2 of 3 failed"), exitcode.Partial},
		{"typed, wrapped", fmt.Errorf("run: %w", exitcode.Errorf(exitcode.Config, "no key")), exitcode.Config},
		{"outermost typed wins", exitcode.New(exitcode.Usage, exitcode.Errorf(exitcode.Failed, "x")), exitcode.Usage},
		{"timeout", fmt.Errorf("stopped: %w", exitcode.ErrTimeout), exitcode.Timeout},
		{"SIGINT", exitcode.Signal{Sig: syscall.SIGINT}, exitcode.Interrupted},
		{"SIGTERM wrapped", fmt.Errorf("%w (%w)", exitcode.Signal{Sig: syscall.SIGTERM}, context.Canceled), exitcode.Terminated},
		{"signal beats the typed error it wraps", fmt.Errorf("%w: %w", exitcode.Signal{Sig: syscall.SIGTERM}, exitcode.Errorf(exitcode.Failed, "x")), exitcode.Terminated},
		{"database unreachable", connErr, exitcode.Unavailable},
		{"connection exception", &pgconn.PgError{Code: "08006"}, exitcode.Unavailable},
		{"server shutting down", &pgconn.PgError{Code: "57P01"}, exitcode.Unavailable},
		{"bad password is not waited out", &pgconn.PgError{Code: "28P01"}, exitcode.Failed},
		{"constraint violation", &pgconn.PgError{Code: "23505"}, exitcode.Failed},
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
