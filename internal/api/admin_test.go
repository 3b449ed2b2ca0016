package api_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/internal/api"
	"github.com/cortexlayer/cortexctl/internal/billing"
)

// The admin routes: the admin key, and what `cortexctl clients …` does,
// over HTTP, against the real database.

const adminKey = "adm_test"

// newAdminEnv is a server with the admin routes on.
func newAdminEnv(t *testing.T) *env {
	return newEnv(t, func(c *api.Config, _ *api.Deps) { c.AdminKey = adminKey })
}

// asAdmin are the headers of an admin request, and more pairs.
func asAdmin(more ...string) []string { return with(bearer(adminKey), more...) }

func fixtureEmail(id uuid.UUID) string { return id.String() + "@example.test" }

// Parts of the admin routes' answers that tests read.
type (
	keyJSON struct {
		ID        uuid.UUID  `json:"key_id"`
		ClientID  uuid.UUID  `json:"client_id"`
		Prefix    string     `json:"prefix"`
		CreatedBy string     `json:"created_by"`
		RevokedAt *time.Time `json:"revoked_at"`
		RevokedBy *string    `json:"revoked_by"`
		Secret    string     `json:"secret"`
	}
	eventJSON struct {
		From               string     `json:"from_status"`
		To                 string     `json:"to_status"`
		Reason             *string    `json:"reason"`
		Actor              string     `json:"actor"`
		Note               *string    `json:"note"`
		HardCapExemptUntil *time.Time `json:"hard_cap_exempt_until"`
	}
	clientJSON struct {
		ID           uuid.UUID   `json:"client_id"`
		Email        string      `json:"email"`
		Company      string      `json:"company_name"`
		Plan         string      `json:"plan"`
		Status       string      `json:"status"`
		Stripe       *string     `json:"stripe_customer_id"`
		Period       string      `json:"period"`
		Used         int64       `json:"used"`
		Hard         int64       `json:"hard"`
		OverSoftCap  bool        `json:"over_soft_cap"`
		OverHardCap  bool        `json:"over_hard_cap"`
		StatusEvents []eventJSON `json:"status_events"`
		APIKeys      []keyJSON   `json:"api_keys"`
	}
	changeJSON struct {
		DryRun             bool       `json:"dry_run"`
		ClientID           uuid.UUID  `json:"client_id"`
		FromStatus         string     `json:"from_status"`
		ToStatus           string     `json:"to_status"`
		HardCapExemptUntil *time.Time `json:"hard_cap_exempt_until"`
		Actor              string     `json:"actor"`
		Note               string     `json:"note"`
		Event              *eventJSON `json:"event"`
	}
)

// status is a client's billing status as stored.
func status(e *env, id uuid.UUID) string {
	e.t.Helper()
	var s string
	e.F.Scalar(&s, `SELECT billing_status FROM clients WHERE id = $1`, id)
	return s
}

func TestAdminKeyIsRequired(t *testing.T) {
	t.Parallel()
	e := newAdminEnv(t)
	clientKey := e.F.APIKey(e.F.Client("starter"))
	body := map[string]any{"email": "x@example.test", "company_name": "X", "plan_code": "starter"}

	for name, h := range map[string][]string{
		"no header":       nil,
		"basic auth":      {"Authorization", "Basic " + adminKey},
		"empty bearer":    {"Authorization", "Bearer "},
		"a prefix of it":  bearer(adminKey[:len(adminKey)-1]),
		"longer":          bearer(adminKey + "x"),
		"another case":    bearer(strings.ToUpper(adminKey)),
		"a client's key":  bearer(clientKey),
		"its hash":        bearer(fmt.Sprintf("%x", sha256.Sum256([]byte(adminKey)))),
		"as a query only": nil, // below, with ?key=
	} {
		t.Run(name, func(t *testing.T) {
			for _, req := range []struct{ method, path string }{
				{"GET", "/admin/clients"}, {"POST", "/admin/clients"}, {"GET", "/admin/job-runs"},
				{"POST", "/admin/clients/" + uuid.NewString() + "/disable"},
			} {
				path := req.path
				if name == "as a query only" {
					path += "?key=" + adminKey
				}
				var b any
				if req.method == "POST" {
					b = body
				}
				r := do(t, e.URL, req.method, path, b, h...)
				require.Equal(t, http.StatusUnauthorized, r.Status, "%s %s: %s", req.method, req.path, r.Body)
				require.Equal(t, api.CodeUnauthorized, r.ErrorCode(t))
				require.Equal(t, `Bearer realm="cortexlayer"`, r.Header.Get("WWW-Authenticate"))
				require.NotContains(t, string(r.Body), adminKey, "the key is never echoed")
			}
		})
	}
	var n int
	e.F.Scalar(&n, `SELECT count(*) FROM clients WHERE email = 'x@example.test'`)
	require.Zero(t, n, "no unauthorised request created anything")

	// The right key, whatever the scheme's case.
	require.Equal(t, http.StatusOK, e.do("GET", "/admin/clients", nil, asAdmin()...).Status)
	require.Equal(t, http.StatusOK, e.do("GET", "/admin/clients", nil, "Authorization", "bearer "+adminKey).Status)

	// The admin key is no client key either.
	r := e.do("GET", "/v1/usage", nil, asAdmin()...)
	require.Equal(t, http.StatusUnauthorized, r.Status)

	// A method the route does not take: 405, in the error shape.
	r = e.do("PUT", "/admin/clients", body, asAdmin()...)
	require.Equal(t, http.StatusMethodNotAllowed, r.Status)
	require.Contains(t, r.Header.Get("Allow"), "POST")
}

func TestAdminRoutesAreOffWithoutAKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t) // no AdminKey
	id := e.F.Client("starter")
	for _, h := range [][]string{nil, bearer(""), bearer(adminKey)} {
		for _, req := range []struct{ method, path string }{
			{"GET", "/admin/clients"}, {"GET", "/admin/clients/" + id.String()}, {"GET", "/admin/job-runs"},
			{"POST", "/admin/clients/" + id.String() + "/disable"},
		} {
			var b any
			if req.method == "POST" {
				b = map[string]any{"note": "n"}
			}
			r := e.do(req.method, req.path, b, h...)
			require.Equal(t, http.StatusNotFound, r.Status, "%s %s %q", req.method, req.path, h)
			require.Equal(t, api.CodeNotFound, r.ErrorCode(t))
		}
	}
	require.Equal(t, "active", status(e, id))
}

func TestAdminCreateClient(t *testing.T) {
	t.Parallel()
	e := newAdminEnv(t)
	body := map[string]any{"email": "billing@acme.test", "company_name": "Acme Ltd", "plan_code": "growth", "stripe_customer_id": "cus_Acme1"}

	r := e.do("POST", "/admin/clients", body, asAdmin("X-Actor", "alice")...)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var created struct {
		Client clientJSON `json:"client"`
		Key    keyJSON    `json:"api_key"`
	}
	r.JSON(t, &created)
	c, k := created.Client, created.Key
	require.Equal(t, "billing@acme.test", c.Email)
	require.Equal(t, "Acme Ltd", c.Company)
	require.Equal(t, "growth", c.Plan)
	require.Equal(t, "active", c.Status)
	require.Equal(t, "cus_Acme1", *c.Stripe)
	require.Regexp(t, `^ck_live_[A-Z2-7]{26}$`, k.Secret)
	require.Equal(t, k.Secret[:12], k.Prefix)
	require.Equal(t, c.ID, k.ClientID)
	require.Equal(t, "admin-api:alice", k.CreatedBy)
	require.Len(t, c.APIKeys, 1)
	require.Equal(t, k.ID, c.APIKeys[0].ID)
	require.Empty(t, c.APIKeys[0].Secret, "the detail never holds a secret")

	// The key works on a client route at once, as that client.
	u := e.do("GET", "/v1/usage", nil, bearer(k.Secret)...)
	require.Equal(t, http.StatusOK, u.Status, "%s", u.Body)
	require.Contains(t, string(u.Body), `"client_id":"`+c.ID.String()+`"`)
	require.Equal(t, http.StatusCreated, e.do("POST", "/v1/usage", map[string]any{"operation_type": "query"}, bearer(k.Secret)...).Status)

	// Only its hash is stored; the secret is nowhere in the table, nor in
	// the server's log, nor in what the admin routes say of the client later.
	var hash []byte
	e.F.Scalar(&hash, `SELECT key_hash FROM api_keys WHERE id = $1`, k.ID)
	sum := sha256.Sum256([]byte(k.Secret))
	require.True(t, bytes.Equal(sum[:], hash))
	body26 := strings.TrimPrefix(k.Secret, "ck_live_")
	var n int
	e.F.Scalar(&n, `SELECT count(*) FROM api_keys t WHERE strpos(t::text, $1) > 0`, body26)
	require.Zero(t, n, "the secret is not stored")
	got := e.do("GET", "/admin/clients/"+c.ID.String(), nil, asAdmin()...)
	require.Equal(t, http.StatusOK, got.Status)
	require.NotContains(t, string(got.Body), body26)
	logs := e.Logs.String()
	require.NotContains(t, logs, body26, "the secret is never logged")
	require.Contains(t, logs, "admin: client created with its first API key")
	require.Contains(t, logs, `"prefix":"`+k.Prefix+`"`)
	require.Contains(t, logs, `"actor":"admin-api:alice"`)

	// The same e-mail, even in capitals, or the same Stripe customer: 409,
	// and nothing written.
	for _, b := range []map[string]any{
		{"email": "billing@acme.test", "company_name": "Other", "plan_code": "starter"},
		{"email": "BILLING@ACME.TEST", "company_name": "Other", "plan_code": "starter"},
		{"email": "other@acme.test", "company_name": "Other", "plan_code": "starter", "stripe_customer_id": "cus_Acme1"},
	} {
		r := e.do("POST", "/admin/clients", b, asAdmin()...)
		require.Equal(t, http.StatusConflict, r.Status, "%v: %s", b, r.Body)
		require.Equal(t, api.CodeClientExists, r.ErrorCode(t))
		require.Contains(t, string(r.Body), c.ID.String(), "names the client that has it")
	}

	// Bad input: 400, and nothing written.
	for _, tc := range []struct {
		body any
		says string
	}{
		{map[string]any{"email": "new@acme.test", "company_name": "N", "plan_code": "platinum"}, `unknown plan \"platinum\": the plans are starter, growth, scale`},
		{map[string]any{"email": "new@acme.test", "company_name": "N"}, "no plan"},
		{map[string]any{"email": "not-an-address", "company_name": "N", "plan_code": "starter"}, "is not an e-mail address"},
		{map[string]any{"email": "new@acme.test", "plan_code": "starter"}, "no company name"},
		{map[string]any{"email": "new@acme.test", "company_name": "N", "plan_code": "starter", "stripe_customer_id": "acct_1"}, "not a Stripe customer id"},
		{map[string]any{"email": "new@acme.test", "company_name": "N", "plan_code": "starter", "plan": "growth"}, `unknown field \"plan\"`},
	} {
		r := e.do("POST", "/admin/clients", tc.body, asAdmin()...)
		require.Equal(t, http.StatusBadRequest, r.Status, "%v: %s", tc.body, r.Body)
		require.Equal(t, api.CodeInvalidRequest, r.ErrorCode(t))
		require.Contains(t, string(r.Body), tc.says)
	}
	r = e.do("POST", "/admin/clients", `{"email":`, asAdmin()...)
	require.Equal(t, http.StatusBadRequest, r.Status)
	require.Equal(t, api.CodeInvalidJSON, r.ErrorCode(t))
	e.F.Scalar(&n, `SELECT count(*) FROM clients`)
	require.Equal(t, 1, n, "only the first request created a client")
}

func TestAdminActorNamesWhoIsBehindTheRequest(t *testing.T) {
	t.Parallel()
	e := newAdminEnv(t)
	for i, tc := range []struct{ header, actor string }{
		{"", "admin-api"},
		{"ops:alice@corp.test", "admin-api:ops:alice@corp.test"},
		{"Alice Smith / ops", "admin-api:Alice_Smith___ops"},
		{"   ", "admin-api"},
		{strings.Repeat("x", 100), "admin-api:" + strings.Repeat("x", api.MaxActorLen)},
		{"é", "admin-api"},
	} {
		h := asAdmin()
		if tc.header != "" {
			h = asAdmin("X-Actor", tc.header)
		}
		r := e.do("POST", "/admin/clients", map[string]any{"email": uuid.NewString() + "@example.test", "company_name": "A", "plan_code": "starter"}, h...)
		require.Equal(t, http.StatusCreated, r.Status, "%d: %s", i, r.Body)
		var c struct {
			Key keyJSON `json:"api_key"`
		}
		r.JSON(t, &c)
		require.Equal(t, tc.actor, c.Key.CreatedBy, "X-Actor %q", tc.header)
	}
}

func TestAdminListAndGetClients(t *testing.T) {
	t.Parallel()
	e := newAdminEnv(t)
	period := billing.PeriodOf(e.Clock.Now())
	under := e.F.Client("starter")
	e.F.Usage(under, 100, period.Start)
	between := e.F.Client("starter")
	e.F.Usage(between, 1300, period.Start)
	over := e.F.Client("growth")
	e.F.Usage(over, 8000, period.Start)
	e.F.Disable(over, billing.ReasonHardCap)

	list := func(query string) []uuid.UUID {
		t.Helper()
		r := e.do("GET", "/admin/clients"+query, nil, asAdmin()...)
		require.Equal(t, http.StatusOK, r.Status, "%s: %s", query, r.Body)
		var b struct {
			Clients []clientJSON `json:"clients"`
		}
		r.JSON(t, &b)
		var ids []uuid.UUID
		for _, c := range b.Clients {
			ids = append(ids, c.ID)
		}
		return ids
	}
	require.ElementsMatch(t, []uuid.UUID{under, between, over}, list(""))
	require.ElementsMatch(t, []uuid.UUID{between, over}, list("?over_soft_cap=true"))
	require.ElementsMatch(t, []uuid.UUID{under, between, over}, list("?over_soft_cap=false"))
	require.ElementsMatch(t, []uuid.UUID{over}, list("?status=disabled"))
	require.ElementsMatch(t, []uuid.UUID{between}, list("?status=active&plan=starter&over_soft_cap=true"))
	require.Empty(t, list("?plan=scale"))
	r := e.do("GET", "/admin/clients?plan=scale", nil, asAdmin()...)
	require.JSONEq(t, `{"clients":[]}`, string(r.Body), "an empty list is [], not null")

	for query, says := range map[string]string{
		"?status=paused":            `unknown status \"paused\"`,
		"?plan=platinum":            `unknown plan \"platinum\"`,
		"?over_soft_cap=maybe":      `over_soft_cap=\"maybe\": use true or false`,
		"?staus=disabled":           `unknown query parameter \"staus\"`,
		"?status=":                  "status is given but empty",
		"?status=active&status=dis": "status is given 2 times",
	} {
		r := e.do("GET", "/admin/clients"+query, nil, asAdmin()...)
		require.Equal(t, http.StatusBadRequest, r.Status, "%s: %s", query, r.Body)
		require.Equal(t, api.CodeInvalidRequest, r.ErrorCode(t))
		require.Contains(t, string(r.Body), says, query)
	}

	// One client, with its usage this period against its caps.
	r = e.do("GET", "/admin/clients/"+over.String(), nil, asAdmin()...)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var c clientJSON
	r.JSON(t, &c)
	require.Equal(t, over, c.ID)
	require.Equal(t, "disabled", c.Status)
	require.Equal(t, period.String(), c.Period)
	require.EqualValues(t, 8000, c.Used)
	require.EqualValues(t, 7500, c.Hard)
	require.True(t, c.OverHardCap)
	require.Len(t, c.StatusEvents, 1)
	require.NotNil(t, c.APIKeys)

	for _, id := range []string{uuid.NewString(), "nope", fixtureEmail(over), "00000000-0000-0000-0000-000000000000", "{" + over.String() + "}"} {
		r := e.do("GET", "/admin/clients/"+id, nil, asAdmin()...)
		require.Equal(t, http.StatusNotFound, r.Status, "%s: %s", id, r.Body)
		require.Equal(t, api.CodeNotFound, r.ErrorCode(t))
		require.Contains(t, string(r.Body), "no client has the id")
	}
}

func TestAdminChangePlan(t *testing.T) {
	t.Parallel()
	e := newAdminEnv(t)
	period := billing.PeriodOf(e.Clock.Now())
	id := e.F.Client("starter")
	e.F.Usage(id, 1600, period.Start)
	path := "/admin/clients/" + id.String() + "/plan"

	r := e.do("POST", path, map[string]any{"plan_code": "growth"}, asAdmin("X-Actor", "bob")...)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var c struct {
		FromPlan    string `json:"from_plan"`
		ToPlan      string `json:"to_plan"`
		Actor       string `json:"actor"`
		Used        int64  `json:"used"`
		Hard        int64  `json:"hard"`
		OverHardCap bool   `json:"over_hard_cap"`
	}
	r.JSON(t, &c)
	require.Equal(t, [2]string{"starter", "growth"}, [2]string{c.FromPlan, c.ToPlan})
	require.Equal(t, "admin-api:bob", c.Actor)
	require.EqualValues(t, 1600, c.Used)
	require.EqualValues(t, 7500, c.Hard)
	require.False(t, c.OverHardCap)
	var plan string
	e.F.Scalar(&plan, `SELECT plan_code FROM clients WHERE id = $1`, id)
	require.Equal(t, "growth", plan)
	require.Contains(t, e.Logs.String(), "admin: plan changed")

	// The client's usage report follows at once.
	key := e.F.APIKey(id)
	u := e.do("GET", "/v1/usage", nil, bearer(key)...)
	require.Contains(t, string(u.Body), `"plan":"growth"`)

	r = e.do("POST", path, map[string]any{"plan_code": "growth"}, asAdmin()...)
	require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
	require.Equal(t, api.CodeChangeRefused, r.ErrorCode(t))
	require.Contains(t, string(r.Body), "it is on that plan already")
	for b, says := range map[string]string{
		`{"plan_code":"platinum"}`: `unknown plan \"platinum\"`,
		`{}`:                       "plan_code is required",
		`{"plan":"growth"}`:        `unknown field \"plan\"`,
	} {
		r := e.do("POST", path, b, asAdmin()...)
		require.Equal(t, http.StatusBadRequest, r.Status, "%s: %s", b, r.Body)
		require.Contains(t, string(r.Body), says)
	}
	r = e.do("POST", "/admin/clients/"+uuid.NewString()+"/plan", map[string]any{"plan_code": "scale"}, asAdmin()...)
	require.Equal(t, http.StatusNotFound, r.Status)
	e.F.Scalar(&plan, `SELECT plan_code FROM clients WHERE id = $1`, id)
	require.Equal(t, "growth", plan, "refusals change nothing")
}

func TestAdminRotateAndRevokeKeys(t *testing.T) {
	t.Parallel()
	e := newAdminEnv(t)
	id := e.F.Client("starter")
	old := e.F.APIKey(id)
	othersKey := e.F.APIKey(e.F.Client("starter"))
	keys := "/admin/clients/" + id.String() + "/keys"
	usage := func(key string) int {
		t.Helper()
		return e.do("GET", "/v1/usage", nil, bearer(key)...).Status
	}
	require.Equal(t, http.StatusOK, usage(old))

	type created struct {
		ClientID uuid.UUID `json:"client_id"`
		Key      keyJSON   `json:"api_key"`
		Revoked  []keyJSON `json:"revoked"`
	}
	// A rotation (no body: revoke_others defaults to true): the old key is
	// refused on the very next request, the new one works.
	r := e.do("POST", keys, nil, asAdmin()...)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var rot created
	r.JSON(t, &rot)
	require.Equal(t, id, rot.ClientID)
	require.Len(t, rot.Revoked, 1)
	require.Equal(t, old[:12], rot.Revoked[0].Prefix)
	require.Equal(t, "admin-api", *rot.Revoked[0].RevokedBy)
	require.Equal(t, http.StatusUnauthorized, usage(old))
	require.Equal(t, http.StatusOK, usage(rot.Key.Secret))
	require.Equal(t, http.StatusOK, usage(othersKey), "another client's key is untouched")
	require.NotContains(t, e.Logs.String(), strings.TrimPrefix(rot.Key.Secret, "ck_live_"))

	// Keeping the others: both work.
	r = e.do("POST", keys, map[string]any{"revoke_others": false}, asAdmin()...)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var added created
	r.JSON(t, &added)
	require.Empty(t, added.Revoked)
	require.Contains(t, string(r.Body), `"revoked":[]`)
	require.Equal(t, http.StatusOK, usage(added.Key.Secret))
	require.Equal(t, http.StatusOK, usage(rot.Key.Secret))
	r = e.do("POST", keys, map[string]any{"revoke_others": true}, asAdmin()...)
	require.Equal(t, http.StatusCreated, r.Status)
	var again created
	r.JSON(t, &again)
	require.Len(t, again.Revoked, 2)
	require.Equal(t, http.StatusUnauthorized, usage(added.Key.Secret))
	require.Equal(t, http.StatusUnauthorized, usage(rot.Key.Secret))
	require.Equal(t, http.StatusOK, usage(again.Key.Secret))

	r = e.do("POST", keys, map[string]any{"revoke_others": "yes"}, asAdmin()...)
	require.Equal(t, http.StatusBadRequest, r.Status)
	r = e.do("POST", "/admin/clients/"+uuid.NewString()+"/keys", nil, asAdmin()...)
	require.Equal(t, http.StatusNotFound, r.Status)

	// Revoke one key: refused at once; a second revoke changes nothing.
	type revoked struct {
		Key     keyJSON `json:"api_key"`
		Already bool    `json:"already_revoked"`
	}
	del := keys + "/" + again.Key.ID.String()
	r = e.do("DELETE", del, nil, asAdmin("X-Actor", "carol")...)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var rev revoked
	r.JSON(t, &rev)
	require.False(t, rev.Already)
	require.Equal(t, again.Key.ID, rev.Key.ID)
	require.Equal(t, "admin-api:carol", *rev.Key.RevokedBy)
	require.Equal(t, http.StatusUnauthorized, usage(again.Key.Secret))
	r = e.do("DELETE", del, nil, asAdmin()...)
	require.Equal(t, http.StatusOK, r.Status)
	var rev2 revoked
	r.JSON(t, &rev2)
	require.True(t, rev2.Already)
	require.Equal(t, "admin-api:carol", *rev2.Key.RevokedBy, "who revoked it first")

	// Another client's key, no key, not a key id: 404, and nothing revoked.
	var othersKeyID uuid.UUID
	e.F.Scalar(&othersKeyID, `SELECT id FROM api_keys WHERE revoked_at IS NULL AND client_id <> $1`, id)
	for _, kid := range []string{othersKeyID.String(), uuid.NewString(), "ck_live_ABCD"} {
		r := e.do("DELETE", keys+"/"+kid, nil, asAdmin()...)
		require.Equal(t, http.StatusNotFound, r.Status, "%s: %s", kid, r.Body)
		require.Equal(t, api.CodeNotFound, r.ErrorCode(t))
	}
	require.Equal(t, http.StatusOK, usage(othersKey))
}

func TestAdminDisableAndEnable(t *testing.T) {
	t.Parallel()
	e := newAdminEnv(t)
	period := billing.PeriodOf(e.Clock.Now())
	id := e.F.Client("starter")
	key := e.F.APIKey(id)
	e.F.Usage(id, 1600, period.Start) // beyond the hard cap of 1500, not yet disabled
	base := "/admin/clients/" + id.String()
	body := map[string]any{"operation_type": "query"}

	// A dry run decides and writes nothing.
	r := e.do("POST", base+"/disable", map[string]any{"note": "OPS-9: scraping", "dry_run": true}, asAdmin()...)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var dry changeJSON
	r.JSON(t, &dry)
	require.True(t, dry.DryRun)
	require.Nil(t, dry.Event)
	require.Equal(t, "active", status(e, id))

	// Disabled: the client's key is refused on its very next request.
	r = e.do("POST", base+"/disable", map[string]any{"note": "OPS-9: scraping"}, asAdmin("X-Actor", "ops-alice")...)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var dis changeJSON
	r.JSON(t, &dis)
	require.Equal(t, [2]string{"active", "disabled"}, [2]string{dis.FromStatus, dis.ToStatus})
	require.NotNil(t, dis.Event)
	require.Equal(t, "admin-api:ops-alice", dis.Event.Actor)
	require.Equal(t, "OPS-9: scraping", *dis.Event.Note)
	require.Equal(t, "admin", *dis.Event.Reason)
	u := e.do("POST", "/v1/usage", body, bearer(key)...)
	require.Equal(t, http.StatusForbidden, u.Status)
	require.Equal(t, api.CodeClientDisabled, u.ErrorCode(t))
	require.Contains(t, string(u.Body), `"reason":"admin"`)
	require.Contains(t, e.Logs.String(), "admin: client status changed")

	// The rules, as `clients disable` has them.
	r = e.do("POST", base+"/disable", map[string]any{"note": "again"}, asAdmin()...)
	require.Equal(t, http.StatusConflict, r.Status)
	require.Equal(t, api.CodeChangeRefused, r.ErrorCode(t))
	require.Contains(t, string(r.Body), "refusing to disable client "+fixtureEmail(id))
	for b, says := range map[string]string{
		`{"note":"n","reason":"hard_cap"}`: `reason \"hard_cap\": an operator may set admin`,
		`{"reason":"admin"}`:               "note is required",
		`{"note":"  "}`:                    "note is required",
		`{"note":"n","actor":"me"}`:        `unknown field \"actor\"`,
	} {
		r := e.do("POST", base+"/disable", b, asAdmin()...)
		require.Equal(t, http.StatusBadRequest, r.Status, "%s: %s", b, r.Body)
		require.Contains(t, string(r.Body), says)
	}

	// Enabling a client beyond its hard cap without an exemption: refused
	// (409), with the rule's message; nothing changes.
	r = e.do("POST", base+"/enable", map[string]any{"note": "OPS-10"}, asAdmin()...)
	require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
	require.Equal(t, api.CodeChangeRefused, r.ErrorCode(t))
	require.Contains(t, string(r.Body), "the next overage run would disable it again: its 1600 queries this period")
	r = e.do("POST", base+"/enable", map[string]any{"note": "OPS-10", "exempt_until": period.End.Add(time.Hour)}, asAdmin()...)
	require.Equal(t, http.StatusConflict, r.Status)
	require.Contains(t, string(r.Body), "the exemption may not run past the end of the current billing period")
	r = e.do("POST", base+"/enable", map[string]any{"note": "OPS-10", "exempt_until": "tomorrow"}, asAdmin()...)
	require.Equal(t, http.StatusBadRequest, r.Status)
	require.Contains(t, string(r.Body), "RFC 3339")
	r = e.do("POST", base+"/enable", map[string]any{"exempt_until": period.End}, asAdmin()...)
	require.Equal(t, http.StatusBadRequest, r.Status)
	require.Equal(t, "disabled", status(e, id))
	require.Equal(t, http.StatusForbidden, e.do("GET", "/v1/usage", nil, bearer(key)...).Status)

	// With an exemption to the end of the period: enabled, audited, served.
	r = e.do("POST", base+"/enable", map[string]any{"note": "OPS-10: upgrading", "exempt_until": period.End}, asAdmin("X-Actor", "bob")...)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var en changeJSON
	r.JSON(t, &en)
	require.Equal(t, [2]string{"disabled", "active"}, [2]string{en.FromStatus, en.ToStatus})
	require.True(t, period.End.Equal(*en.HardCapExemptUntil))
	require.Equal(t, "admin-api:bob", en.Actor)
	require.Equal(t, http.StatusCreated, e.do("POST", "/v1/usage", body, bearer(key)...).Status)

	// The status events carry the admin actors and notes, newest first.
	r = e.do("GET", base, nil, asAdmin()...)
	var c clientJSON
	r.JSON(t, &c)
	require.Len(t, c.StatusEvents, 2)
	require.Equal(t, eventJSON{From: "disabled", To: "active", Actor: "admin-api:bob", Note: ptr("OPS-10: upgrading"),
		HardCapExemptUntil: c.StatusEvents[0].HardCapExemptUntil}, c.StatusEvents[0])
	require.True(t, period.End.Equal(*c.StatusEvents[0].HardCapExemptUntil))
	require.Equal(t, eventJSON{From: "active", To: "disabled", Reason: ptr("admin"), Actor: "admin-api:ops-alice", Note: ptr("OPS-9: scraping")}, c.StatusEvents[1])

	r = e.do("POST", base+"/enable", map[string]any{"note": "n"}, asAdmin()...)
	require.Equal(t, http.StatusConflict, r.Status, "an active client is not enabled")
	r = e.do("POST", "/admin/clients/"+uuid.NewString()+"/enable", map[string]any{"note": "n"}, asAdmin()...)
	require.Equal(t, http.StatusNotFound, r.Status)
}

func TestAdminJobRuns(t *testing.T) {
	t.Parallel()
	e := newAdminEnv(t)
	e.F.Exec(`INSERT INTO job_runs (id, job, status, host, pid, version, started_at, finished_at, exit_code, summary, error)
		VALUES ('00000000-0000-0000-0000-000000000001', 'billing-overage', 'succeeded', 'h', 1, 'v', '2026-03-01T00:00:00Z', '2026-03-01T00:00:30Z', 0, '{"totals":{"disabled":2}}', NULL),
		       ('00000000-0000-0000-0000-000000000002', 'billing-grace', 'failed', 'h', 2, 'v', '2026-03-02T00:00:00Z', '2026-03-02T00:00:05Z', 69, NULL, 'database unreachable'),
		       ('00000000-0000-0000-0000-000000000003', 'billing-overage', 'running', 'h', 3, 'v', '2026-03-03T00:00:00Z', NULL, NULL, NULL, NULL)`)
	type run struct {
		ID      string         `json:"run_id"`
		Status  string         `json:"status"`
		Summary map[string]any `json:"summary"`
		Error   *string        `json:"error"`
	}
	runs := func(query string) []run {
		t.Helper()
		r := e.do("GET", "/admin/job-runs"+query, nil, asAdmin()...)
		require.Equal(t, http.StatusOK, r.Status, "%s: %s", query, r.Body)
		var b struct {
			Runs []run `json:"runs"`
		}
		r.JSON(t, &b)
		return b.Runs
	}
	ids := func(rs []run) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ID[len(r.ID)-1:])
		}
		return out
	}
	all := runs("")
	require.Equal(t, []string{"3", "2", "1"}, ids(all), "newest first")
	require.Nil(t, all[2].Summary, "no report unless asked")
	require.Equal(t, "database unreachable", *all[1].Error)
	require.Equal(t, []string{"3", "1"}, ids(runs("?job=billing-overage")))
	require.Equal(t, []string{"2"}, ids(runs("?status=failed")))
	require.Equal(t, []string{"3"}, ids(runs("?limit=1")))
	require.Empty(t, runs("?job=db-backup"))
	withSummary := runs("?job=billing-overage&status=succeeded&summary=true")
	require.Equal(t, map[string]any{"totals": map[string]any{"disabled": float64(2)}}, withSummary[0].Summary)

	for query, says := range map[string]string{
		"?status=done":        `status \"done\": use one of running, succeeded`,
		"?limit=0":            "use a whole number from 1 to 100",
		"?limit=101":          "use a whole number from 1 to 100",
		"?limit=x":            "use a whole number",
		"?job=DROP%20TABLE":   "a job's name is lower-case letters",
		"?since=1h":           `unknown query parameter \"since\"`,
		"?summary=perhaps":    "use true or false",
		"?job=billing-grace&": "",
	} {
		r := e.do("GET", "/admin/job-runs"+query, nil, asAdmin()...)
		if says == "" {
			require.Equal(t, http.StatusOK, r.Status, "%s: %s", query, r.Body)
			continue
		}
		require.Equal(t, http.StatusBadRequest, r.Status, "%s: %s", query, r.Body)
		require.Contains(t, string(r.Body), says)
	}
}

func ptr[T any](v T) *T { return &v }
