package clients_test

import (
	"os/user"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/cmd/clients"
	"github.com/cortexlayer/cortexctl/cmd/cmdutil/cmdtest"
	"github.com/cortexlayer/cortexctl/db/admin"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// Flag parsing and validation of the `clients` commands, through runF: no
// database is dialled.

const clientID = "0b5d6d4e-7a8c-4c1e-9f7a-2d3b4c5d6e7f"

// osUser is who the commands record as the actor when --actor is not given.
func osUser(t *testing.T) string {
	t.Helper()
	u, err := user.Current()
	require.NoError(t, err)
	require.NotEmpty(t, u.Username)
	return u.Username
}

func TestListFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want admin.ClientFilter
	}{
		{"defaults: every client", nil, admin.ClientFilter{}},
		{"every filter", []string{"--status", "disabled", "--plan", "growth", "--over-soft-cap"},
			admin.ClientFilter{Status: "disabled", Plan: "growth", OverSoftCap: true}},
		{"grace", []string{"--status", "grace_period"}, admin.ClientFilter{Status: "grace_period"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := cmdtest.Parse(t, clients.NewCmdList, nil, tc.args...)
			require.Equal(t, tc.want, got.Filter)
			require.NotNil(t, got.Factory)
		})
	}
}

func TestListRefusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown status", []string{"--status", "paused"}, `unknown --status "paused": use one of active, grace_period, disabled, cancelled`},
		{"status given but empty", []string{"--status", ""}, "--status was given but is empty"},
		{"plan given but empty", []string{"--plan", " "}, "--plan was given but is empty"},
		{"an argument", []string{"over@example.test"}, `takes no arguments, got "over@example.test"`},
		{"unknown flag", []string{"--over-hard-cap"}, "unknown flag: --over-hard-cap"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := cmdtest.Refuse(t, clients.NewCmdList, nil, tc.args...)
			require.Equal(t, exitcode.Usage, exitcode.Of(err), "%v", err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestShowArgs(t *testing.T) {
	t.Parallel()
	require.Equal(t, "over@example.test", cmdtest.Parse(t, clients.NewCmdShow, nil, "over@example.test").Client)
	require.Equal(t, clientID, cmdtest.Parse(t, clients.NewCmdShow, nil, clientID).Client)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no client", nil, "show needs a client: its id (a UUID) or its e-mail (see 'show --help')"},
		{"an empty client", []string{""}, "was given an empty argument: it needs a client"},
		{"a blank client", []string{"  "}, "was given an empty argument"},
		{"two clients", []string{"a@example.test", "b@example.test"}, `takes one argument, a client: its id (a UUID) or its e-mail; got 2: "a@example.test b@example.test"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := cmdtest.Refuse(t, clients.NewCmdShow, nil, tc.args...)
			require.Equal(t, exitcode.Usage, exitcode.Of(err), "%v", err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestEnableFlags(t *testing.T) {
	t.Parallel()
	me := osUser(t)
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want admin.EnableRequest
	}{
		{"the OS user is the actor", []string{"over@example.test", "--note", "OPS-1"}, nil,
			admin.EnableRequest{Client: "over@example.test", Actor: me, Note: "OPS-1"}},
		{"the OS user wins over $USER", []string{clientID, "--note", "OPS-1"}, map[string]string{"USER": "someone-else"},
			admin.EnableRequest{Client: clientID, Actor: me, Note: "OPS-1"}},
		{"--actor wins", []string{"over@example.test", "--note", "OPS-1", "--actor", "ops:alice"}, nil,
			admin.EnableRequest{Client: "over@example.test", Actor: "ops:alice", Note: "OPS-1"}},
		{"--exempt-until a date is 00:00 UTC", []string{"over@example.test", "--note", "n", "--exempt-until", "2026-12-01"}, nil,
			admin.EnableRequest{Client: "over@example.test", Actor: me, Note: "n", ExemptUntil: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}},
		{"--exempt-until RFC 3339 in another zone", []string{"over@example.test", "--note", "n", "--exempt-until", "2026-11-30T12:00:00+02:00"}, nil,
			admin.EnableRequest{Client: "over@example.test", Actor: me, Note: "n", ExemptUntil: time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)}},
		{"--dry-run", []string{"over@example.test", "--note", "n", "--dry-run"}, nil,
			admin.EnableRequest{Client: "over@example.test", Actor: me, Note: "n", DryRun: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := cmdtest.Parse(t, clients.NewCmdEnable, tc.env, tc.args...)
			require.Equal(t, tc.want, got.Request)
			require.NotNil(t, got.Factory)
		})
	}
}

func TestEnableRefusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no note", []string{"over@example.test"}, "--note is required: say why"},
		{"a blank note", []string{"over@example.test", "--note", "  "}, "--note was given but is empty"},
		{"an empty actor", []string{"over@example.test", "--note", "n", "--actor", ""}, "--actor was given but is empty"},
		{"no client", []string{"--note", "n"}, "needs a client: its id (a UUID) or its e-mail"},
		{"an empty client", []string{"", "--note", "n"}, "was given an empty argument"},
		{"two clients", []string{"a@example.test", "b@example.test", "--note", "n"}, "takes one argument"},
		{"--exempt-until not a date", []string{"over@example.test", "--note", "n", "--exempt-until", "next week"}, `invalid --exempt-until "next week": use RFC 3339`},
		{"--exempt-until a month", []string{"over@example.test", "--note", "n", "--exempt-until", "2026-12"}, `invalid --exempt-until "2026-12"`},
		{"--exempt-until given but empty", []string{"over@example.test", "--note", "n", "--exempt-until", ""}, "--exempt-until was given but is empty"},
		{"--reason is disable's", []string{"over@example.test", "--note", "n", "--reason", "admin"}, "unknown flag: --reason"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := cmdtest.Refuse(t, clients.NewCmdEnable, nil, tc.args...)
			require.Equal(t, exitcode.Usage, exitcode.Of(err), "%v", err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestDisableFlags(t *testing.T) {
	t.Parallel()
	me := osUser(t)
	for _, tc := range []struct {
		name string
		args []string
		want admin.DisableRequest
	}{
		{"reason admin by default", []string{"abuse@example.test", "--note", "OPS-2"},
			admin.DisableRequest{Client: "abuse@example.test", Reason: "admin", Actor: me, Note: "OPS-2"}},
		{"every flag", []string{clientID, "--reason", "admin", "--note", "OPS-2: scraping", "--actor", "ops:bob", "--dry-run"},
			admin.DisableRequest{Client: clientID, Reason: "admin", Actor: "ops:bob", Note: "OPS-2: scraping", DryRun: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, cmdtest.Parse(t, clients.NewCmdDisable, nil, tc.args...).Request)
		})
	}
}

func TestDisableRefusals(t *testing.T) {
	t.Parallel()
	const list = "an operator may set admin (hard_cap and grace_expired are the billing jobs' own, subscription_cancelled the subscription flow's)"
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"hard_cap is the overage job's", []string{"a@example.test", "--note", "n", "--reason", "hard_cap"}, `invalid --reason "hard_cap": ` + list},
		{"grace_expired is the grace job's", []string{"a@example.test", "--note", "n", "--reason", "grace_expired"}, `invalid --reason "grace_expired": ` + list},
		{"subscription_cancelled", []string{"a@example.test", "--note", "n", "--reason", "subscription_cancelled"}, `invalid --reason "subscription_cancelled"`},
		{"an unknown reason", []string{"a@example.test", "--note", "n", "--reason", "fraud"}, `invalid --reason "fraud": ` + list},
		{"--reason given but empty", []string{"a@example.test", "--note", "n", "--reason", ""}, "--reason was given but is empty"},
		{"no note", []string{"a@example.test"}, "--note is required"},
		{"no client", []string{"--note", "n"}, "needs a client"},
		{"--exempt-until is enable's", []string{"a@example.test", "--note", "n", "--exempt-until", "2026-12-01"}, "unknown flag: --exempt-until"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := cmdtest.Refuse(t, clients.NewCmdDisable, nil, tc.args...)
			require.Equal(t, exitcode.Usage, exitcode.Of(err), "%v", err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}
