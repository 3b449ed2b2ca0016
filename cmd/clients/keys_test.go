package clients_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/cmd/clients"
	"github.com/cortexlayer/cortexctl/cmd/cmdutil/cmdtest"
	"github.com/cortexlayer/cortexctl/db/admin"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// Flags and arguments of create, set-plan, rotate-key and revoke-key,
// through runF: no database is dialled.

const keyID = "3f1c2e8a-5b7d-4e21-9a0c-6d4b2f8e1a73"

func TestCreateFlags(t *testing.T) {
	t.Parallel()
	me := osUser(t)
	for _, tc := range []struct {
		name string
		args []string
		want admin.CreateRequest
	}{
		{"the required flags; the OS user is the actor", []string{"--email", "billing@acme.test", "--company", "Acme Ltd", "--plan", "growth"},
			admin.CreateRequest{Email: "billing@acme.test", Company: "Acme Ltd", Plan: "growth", Actor: me}},
		{"every flag, trimmed", []string{"--email", " billing@acme.test ", "--company", "Acme Ltd ", "--plan", "growth",
			"--stripe-customer", "cus_Acme1", "--actor", "ops:alice"},
			admin.CreateRequest{Email: "billing@acme.test", Company: "Acme Ltd", Plan: "growth", StripeCustomerID: "cus_Acme1", Actor: "ops:alice"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := cmdtest.Parse(t, clients.NewCmdCreate, nil, tc.args...)
			require.Equal(t, tc.want, got.Request)
			require.NotNil(t, got.Factory)
		})
	}
}

func TestCreateRefusals(t *testing.T) {
	t.Parallel()
	ok := []string{"--email", "a@acme.test", "--company", "A", "--plan", "starter"}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no flags", nil, "--email is required (see 'create --help')"},
		{"no company", []string{"--email", "a@acme.test", "--plan", "starter"}, "--company is required"},
		{"no plan", []string{"--email", "a@acme.test", "--company", "A"}, "--plan is required"},
		{"an e-mail given empty", append(ok, "--email", ""), "--email was given but is empty"},
		{"not an e-mail", append(ok, "--email", "acme"), `"acme" is not an e-mail address`},
		{"an e-mail with a name", append(ok, "--email", "Bob <bob@acme.test>"), "is not an e-mail address"},
		{"not a Stripe customer", append(ok, "--stripe-customer", "sub_1"), `"sub_1" is not a Stripe customer id`},
		{"an argument", append(ok, "acme"), `takes no arguments, got "acme"`},
		{"--note is enable's", append(ok, "--note", "n"), "unknown flag: --note"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := cmdtest.Refuse(t, clients.NewCmdCreate, nil, tc.args...)
			require.Equal(t, exitcode.Usage, exitcode.Of(err), "%v", err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestRotateKeyFlags(t *testing.T) {
	t.Parallel()
	me := osUser(t)
	require.Equal(t, admin.KeyRequest{Client: "a@acme.test", Actor: me, RevokeOthers: true},
		cmdtest.Parse(t, clients.NewCmdRotateKey, nil, "a@acme.test").Request, "a rotation revokes the others by default")
	require.Equal(t, admin.KeyRequest{Client: clientID, Actor: "ops:bob"},
		cmdtest.Parse(t, clients.NewCmdRotateKey, nil, clientID, "--keep-others", "--actor", "ops:bob").Request)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no client", nil, "rotate-key needs a client"},
		{"two clients", []string{"a@acme.test", "b@acme.test"}, "takes one argument"},
		{"an empty actor", []string{"a@acme.test", "--actor", " "}, "--actor was given but is empty"},
	} {
		err := cmdtest.Refuse(t, clients.NewCmdRotateKey, nil, tc.args...)
		require.Equal(t, exitcode.Usage, exitcode.Of(err), "%s: %v", tc.name, err)
		require.Contains(t, err.Error(), tc.want, tc.name)
	}
}

func TestRevokeKeyArgs(t *testing.T) {
	t.Parallel()
	me := osUser(t)
	require.Equal(t, admin.RevokeRequest{Client: "a@acme.test", KeyID: uuid.MustParse(keyID), Actor: me},
		cmdtest.Parse(t, clients.NewCmdRevokeKey, nil, "a@acme.test", keyID).Request)
	require.Equal(t, "ops:carol", cmdtest.Parse(t, clients.NewCmdRevokeKey, nil, clientID, keyID, "--actor", "ops:carol").Request.Actor)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no key", []string{"a@acme.test"}, "revoke-key takes 2 arguments, a client: its id (a UUID) or its e-mail, then the key's id"},
		{"three", []string{"a@acme.test", keyID, keyID}, "takes 2 arguments"},
		{"an empty key", []string{"a@acme.test", " "}, "was given an empty argument 2: it needs the key's id"},
		{"a prefix is not an id", []string{"a@acme.test", "ck_live_ABCD"}, `invalid KEY_ID "ck_live_ABCD": give the key's id (a UUID`},
		{"a key is not an id", []string{"a@acme.test", "ck_live_ABCDEFGHIJKLMNOPQRSTUVWXYZ"}, "invalid KEY_ID"},
		{"braces", []string{"a@acme.test", "{" + keyID + "}"}, "invalid KEY_ID"},
	} {
		err := cmdtest.Refuse(t, clients.NewCmdRevokeKey, nil, tc.args...)
		require.Equal(t, exitcode.Usage, exitcode.Of(err), "%s: %v", tc.name, err)
		require.Contains(t, err.Error(), tc.want, tc.name)
	}
}

func TestSetPlanArgs(t *testing.T) {
	t.Parallel()
	me := osUser(t)
	require.Equal(t, admin.PlanRequest{Client: "a@acme.test", Plan: "scale", Actor: me},
		cmdtest.Parse(t, clients.NewCmdSetPlan, nil, "a@acme.test", "scale").Request)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no plan", []string{"a@acme.test"}, "set-plan takes 2 arguments"},
		{"an empty plan", []string{"a@acme.test", ""}, "empty argument 2: it needs a plan's code"},
		{"--plan is create's", []string{"a@acme.test", "--plan", "scale"}, "unknown flag: --plan"},
	} {
		err := cmdtest.Refuse(t, clients.NewCmdSetPlan, nil, tc.args...)
		require.Equal(t, exitcode.Usage, exitcode.Of(err), "%s: %v", tc.name, err)
		require.Contains(t, err.Error(), tc.want, tc.name)
	}
}
