package main_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/db/fixture"
	"github.com/cortexlayer/cortexctl/db/usage"
	"github.com/cortexlayer/cortexctl/internal/apikey"
)

// End-to-end tests of the commands that make clients and keys, through
// the binary: a key is printed once, on stdout only, and works at once;
// only its hash is stored.

var keyLine = regexp.MustCompile(`(?m)^API key\s+(ck_live_[A-Z2-7]{26})$`)

// keyWorks asks the database, as the API does, which client a key opens.
func keyWorks(t *testing.T, f *fixture.Fixture, secret string) (uuid.UUID, bool) {
	t.Helper()
	c, err := usage.Authenticate(context.Background(), f.DB.Pool, apikey.Hash(secret))
	if err != nil {
		require.ErrorIs(t, err, usage.ErrUnknownKey)
		return uuid.Nil, false
	}
	return c.ClientID, true
}

type createdJSON struct {
	Client struct {
		ID      uuid.UUID `json:"client_id"`
		Email   string    `json:"email"`
		Plan    string    `json:"plan"`
		Status  string    `json:"status"`
		APIKeys []struct {
			ID     uuid.UUID `json:"key_id"`
			Prefix string    `json:"prefix"`
		} `json:"api_keys"`
	} `json:"client"`
	Key struct {
		ID        uuid.UUID `json:"key_id"`
		Prefix    string    `json:"prefix"`
		CreatedBy string    `json:"created_by"`
		Secret    string    `json:"secret"`
	} `json:"api_key"`
}

func TestKeysCreateClientPrintsItsKeyOnce(t *testing.T) {
	t.Parallel()
	f := fixture.New(t)
	c := newCLI(t, f.DB.URL)

	r := c.runOK("clients", "create", "--email", "billing@acme.test", "--company", "Acme Ltd", "--plan", "growth",
		"--stripe-customer", "cus_Acme1", "--actor", "ops:alice")
	m := keyLine.FindStringSubmatch(r.stdout)
	require.NotNil(t, m, "the table shows the key:\n%s", r.stdout)
	secret := m[1]
	require.Equal(t, 1, strings.Count(r.stdout, secret), "printed once")
	require.Contains(t, r.stdout, "This API key is shown once, now")
	require.NotContains(t, r.stderr, secret[len(apikey.Prefix):], "never logged")
	require.Contains(t, r.stderr, `"message":"client created"`)

	// It works at once, for that client; only its hash is stored.
	var id uuid.UUID
	f.Scalar(&id, `SELECT id FROM clients WHERE email = 'billing@acme.test'`)
	got, ok := keyWorks(t, f, secret)
	require.True(t, ok)
	require.Equal(t, id, got)
	var hashes, holding int
	f.Scalar(&hashes, `SELECT count(*) FROM api_keys WHERE client_id = $1 AND key_hash = $2 AND created_by = 'ops:alice'`, id, apikey.Hash(secret))
	f.Scalar(&holding, `SELECT count(*) FROM api_keys t WHERE strpos(t::text, $1) > 0`, secret[len(apikey.Prefix):])
	require.Equal(t, 1, hashes)
	require.Zero(t, holding, "the key itself is stored nowhere")

	// `clients show` lists it by prefix and id, never the key.
	show := c.runOK("clients", "show", "billing@acme.test").stdout
	require.Contains(t, show, secret[:apikey.ShownLen])
	require.NotContains(t, show, secret)

	// The same e-mail again, in capitals: exit 2 naming the client, nothing written.
	before := f.Dump()
	requireOneLineError(t, c.run("clients", "create", "--email", "BILLING@acme.test", "--company", "X", "--plan", "starter"), 2,
		"client "+id.String()+` has the e-mail "billing@acme.test" already`)
	requireOneLineError(t, c.run("clients", "create", "--email", "new@acme.test", "--company", "X", "--plan", "platinum"), 2,
		`unknown plan "platinum": the plans are starter, growth, scale`)
	require.Equal(t, before, f.Dump())

	// -o json: the key in the JSON, once; the warning on stderr.
	js := decode[createdJSON](t, c.runOK("clients", "create", "--email", "ops@beta.test", "--company", "Beta", "--plan", "starter", "--output", "json"))
	require.Regexp(t, `^ck_live_[A-Z2-7]{26}$`, js.Key.Secret)
	require.Equal(t, js.Key.Secret[:apikey.ShownLen], js.Key.Prefix)
	require.Len(t, js.Client.APIKeys, 1)
	require.Equal(t, js.Key.ID, js.Client.APIKeys[0].ID)
	betaID, ok := keyWorks(t, f, js.Key.Secret)
	require.True(t, ok)
	require.Equal(t, js.Client.ID, betaID)

	// rotate-key: the new key works, the first is refused, at once.
	rot := c.runOK("clients", "rotate-key", "billing@acme.test", "--actor", "ops:bob")
	m = keyLine.FindStringSubmatch(rot.stdout)
	require.NotNil(t, m, rot.stdout)
	require.Contains(t, rot.stdout, "revoked  1 key, refused from now on: "+secret[:apikey.ShownLen])
	_, ok = keyWorks(t, f, secret)
	require.False(t, ok, "the old key is refused")
	_, ok = keyWorks(t, f, m[1])
	require.True(t, ok)
	require.NotContains(t, rot.stderr, m[1][len(apikey.Prefix):])

	// revoke-key: by the id `clients show` lists.
	var newID uuid.UUID
	f.Scalar(&newID, `SELECT id FROM api_keys WHERE key_hash = $1`, apikey.Hash(m[1]))
	rev := c.runOK("clients", "revoke-key", "billing@acme.test", newID.String(), "--actor", "ops:carol")
	require.Contains(t, rev.stdout, "revoked API key "+m[1][:apikey.ShownLen]+" ("+newID.String()+") of billing@acme.test")
	_, ok = keyWorks(t, f, m[1])
	require.False(t, ok)
	requireOneLineError(t, c.run("clients", "revoke-key", "ops@beta.test", newID.String()), 2, "client ops@beta.test ("+js.Client.ID.String()+") has no API key "+newID.String())

	// set-plan: the plan moves; the usage report follows.
	sp := c.runOK("clients", "set-plan", "billing@acme.test", "scale", "--actor", "ops:alice")
	require.Contains(t, sp.stdout, "moved billing@acme.test ("+id.String()+") from growth to scale")
	var plan string
	f.Scalar(&plan, `SELECT plan_code FROM clients WHERE id = $1`, id)
	require.Equal(t, "scale", plan)
	requireOneLineError(t, c.run("clients", "set-plan", "billing@acme.test", "scale"), 2, "it is on that plan already")
}
