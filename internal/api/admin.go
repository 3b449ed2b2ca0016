package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/cortexlayer/cortexctl/db/admin"
	"github.com/cortexlayer/cortexctl/internal/billing"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/jobs/runner"
)

// The admin routes: what `cortexctl clients …` does, over HTTP, through the
// same functions of db/admin. They are served only when Config.AdminKey is
// set, and only to a caller that sends it as its bearer token.

// Error codes of the admin routes (docs/api.md#admin).
const (
	CodeClientExists  = "client_exists"  // 409: the e-mail or Stripe customer is a client's already
	CodeChangeRefused = "change_refused" // 409: the rules refuse the change (an enable beyond the hard cap, ...)
)

// AdminActor is who the admin routes record as the actor of their writes
// (status events, api_keys.created_by and revoked_by): "admin-api", or
// "admin-api:<X-Actor>" when the request names the person behind it.
const AdminActor = "admin-api"

// MaxActorLen bounds the X-Actor kept in the actor.
const MaxActorLen = 64

// Limits of GET /admin/job-runs.
const (
	DefaultRunsLimit = 20
	MaxRunsLimit     = 100
)

// adminHandler serves one admin route for actor; an error it returns is
// answered by adminProblem.
type adminHandler func(w http.ResponseWriter, r *http.Request, actor string) error

// routeAdmin registers the /admin/ routes when an admin key is configured.
func (s *Server) routeAdmin(mux *http.ServeMux) {
	if s.cfg.AdminKey == "" {
		return
	}
	want := sha256.Sum256([]byte(s.cfg.AdminKey))
	route := func(pattern string, h adminHandler) { mux.Handle(pattern, s.admin(want, h)) }
	route("POST /admin/clients", s.adminCreateClient)
	route("GET /admin/clients", s.adminListClients)
	route("GET /admin/clients/{id}", s.adminGetClient)
	route("POST /admin/clients/{id}/plan", s.adminChangePlan)
	route("POST /admin/clients/{id}/keys", s.adminCreateKey)
	route("DELETE /admin/clients/{id}/keys/{key_id}", s.adminRevokeKey)
	route("POST /admin/clients/{id}/disable", s.adminDisable)
	route("POST /admin/clients/{id}/enable", s.adminEnable)
	route("GET /admin/job-runs", s.adminJobRuns)
}

// admin checks the admin key, in constant time (the SHA-256 of what was
// sent against that of the key, so neither length nor content leaks), and
// calls h. A client's API key is no admin key: 401 like any other.
func (s *Server) admin(want [sha256.Size]byte, h adminHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearer(r)
		if !ok {
			s.writeError(w, r, unauthorized(w, "no admin key: send it as Authorization: Bearer $ADMIN_API_KEY"))
			return
		}
		got := sha256.Sum256([]byte(token))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			s.writeError(w, r, unauthorized(w, "wrong admin key: the admin routes take the deployment's ADMIN_API_KEY"))
			return
		}
		if err := h(w, r, adminActor(r.Header.Get("X-Actor"))); err != nil {
			s.writeError(w, r, adminProblem(r, err))
		}
	})
}

// adminActor is the actor of a request: AdminActor, and after a colon the
// X-Actor header with anything but letters, digits and . _ @ + - : replaced
// by _, cut to MaxActorLen.
func adminActor(h string) string {
	h = strings.TrimSpace(h)
	if len(h) > MaxActorLen {
		h = h[:MaxActorLen]
	}
	h = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._@+-:", r) {
			return r
		}
		return '_'
	}, h)
	if strings.Trim(h, "_") == "" {
		return AdminActor
	}
	return AdminActor + ":" + h
}

// adminProblem answers what db/admin refused: a rule's refusal 409
// change_refused, a client that exists already 409 client_exists, a client
// or key that is not there 404, any other bad input 400. Anything else is
// the server's (500, or 503 when the database is down).
func adminProblem(r *http.Request, err error) error {
	var (
		p       *Problem
		refused *admin.Refused
	)
	switch {
	case errors.As(err, &p):
		return p
	case errors.As(err, &refused):
		return problem(http.StatusConflict, CodeChangeRefused, err.Error())
	case errors.Is(err, admin.ErrClientExists):
		return problem(http.StatusConflict, CodeClientExists, err.Error())
	case errors.Is(err, admin.ErrNoClient):
		return noClient(r.PathValue("id"))
	case errors.Is(err, admin.ErrNoKey):
		return problem(http.StatusNotFound, CodeNotFound, fmt.Sprintf("client %s has no API key %s", r.PathValue("id"), r.PathValue("key_id")))
	case exitcode.Of(err) == exitcode.Usage:
		return invalid(err.Error())
	}
	return err
}

func noClient(id string) *Problem {
	return problem(http.StatusNotFound, CodeNotFound, fmt.Sprintf("no client has the id %q", id))
}

// pathUUID reads a path parameter that is an id; one that is not a UUID
// names nothing: 404.
func pathUUID(r *http.Request, name, what string) (uuid.UUID, error) {
	v := r.PathValue(name)
	id, err := uuid.Parse(v)
	if err != nil || id == uuid.Nil || len(v) != 36 {
		return uuid.Nil, problem(http.StatusNotFound, CodeNotFound, fmt.Sprintf("no %s has the id %q: ids are UUIDs", what, v))
	}
	return id, nil
}

func clientID(r *http.Request) (string, error) {
	id, err := pathUUID(r, "id", "client")
	return id.String(), err
}

// adminLog is the logger of an admin write's line: who, on which client,
// in which request. Nothing logged of a key is its secret.
func (s *Server) adminLog(r *http.Request, actor string, client uuid.UUID) *zerolog.Logger {
	l := s.cfg.Log.With().Str("actor", actor).Str("client_id", client.String()).Str("request_id", reqInfo(r.Context()).id).Logger()
	return &l
}

// createBody is POST /admin/clients.
type createBody struct {
	Email            string `json:"email"`
	CompanyName      string `json:"company_name"`
	PlanCode         string `json:"plan_code"`
	StripeCustomerID string `json:"stripe_customer_id"`
}

func (s *Server) adminCreateClient(w http.ResponseWriter, r *http.Request, actor string) error {
	var b createBody
	if err := s.decode(w, r, &b); err != nil {
		return err
	}
	c, err := admin.CreateClient(r.Context(), s.deps.DB, admin.CreateRequest{
		Email: b.Email, Company: b.CompanyName, Plan: b.PlanCode, StripeCustomerID: b.StripeCustomerID, Actor: actor})
	if err != nil {
		return err
	}
	s.adminLog(r, actor, c.Client.ID).Info().Str("plan", c.Client.Plan).Str("key_id", c.Key.ID.String()).Str("prefix", c.Key.Prefix).
		Msg("admin: client created with its first API key")
	c.Client = nonNilDetail(c.Client)
	writeJSON(w, http.StatusCreated, c)
	return nil
}

// nonNilDetail makes the detail's lists [] rather than null.
func nonNilDetail(d admin.ClientDetail) admin.ClientDetail {
	d.Charged, d.PendingCharges = nonNil(d.Charged), nonNil(d.PendingCharges)
	d.StatusEvents, d.APIKeys = nonNil(d.StatusEvents), nonNil(d.APIKeys)
	return d
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// query reads a route's query parameters: only those named, each at most
// once, none empty.
func query(r *http.Request, names ...string) (url.Values, error) {
	q := r.URL.Query()
	for k, v := range q {
		switch {
		case !slices.Contains(names, k):
			return nil, invalid(fmt.Sprintf("unknown query parameter %q: this route takes %s", k, strings.Join(names, ", ")))
		case len(v) > 1:
			return nil, invalid(fmt.Sprintf("query parameter %s is given %d times: give it once", k, len(v)))
		case strings.TrimSpace(v[0]) == "":
			return nil, invalid(fmt.Sprintf("query parameter %s is given but empty: give it a value, or leave it out", k))
		}
	}
	return q, nil
}

// boolParam reads a true/false query parameter; absent is false.
func boolParam(q url.Values, name string) (bool, error) {
	if !q.Has(name) {
		return false, nil
	}
	v, err := strconv.ParseBool(q.Get(name))
	if err != nil {
		return false, invalid(fmt.Sprintf("%s=%q: use true or false", name, q.Get(name)))
	}
	return v, nil
}

func (s *Server) adminListClients(w http.ResponseWriter, r *http.Request, _ string) error {
	q, err := query(r, "status", "plan", "over_soft_cap")
	if err != nil {
		return err
	}
	f := admin.ClientFilter{Status: q.Get("status"), Plan: q.Get("plan")}
	if f.OverSoftCap, err = boolParam(q, "over_soft_cap"); err != nil {
		return err
	}
	list, err := admin.ListClients(r.Context(), s.deps.DB, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"clients": nonNil(list)})
	return nil
}

func (s *Server) adminGetClient(w http.ResponseWriter, r *http.Request, _ string) error {
	id, err := clientID(r)
	if err != nil {
		return err
	}
	d, err := admin.ShowClient(r.Context(), s.deps.DB, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, nonNilDetail(d))
	return nil
}

// planBody is POST /admin/clients/{id}/plan.
type planBody struct {
	PlanCode string `json:"plan_code"`
}

func (s *Server) adminChangePlan(w http.ResponseWriter, r *http.Request, actor string) error {
	id, err := clientID(r)
	if err != nil {
		return err
	}
	var b planBody
	if err := s.decode(w, r, &b); err != nil {
		return err
	}
	if strings.TrimSpace(b.PlanCode) == "" {
		return invalid(`plan_code is required, e.g. "growth"`)
	}
	c, err := admin.ChangePlan(r.Context(), s.deps.DB, admin.PlanRequest{Client: id, Plan: b.PlanCode, Actor: actor})
	if err != nil {
		return err
	}
	s.adminLog(r, actor, c.ClientID).Info().Str("from_plan", c.FromPlan).Str("to_plan", c.ToPlan).Bool("over_hard_cap", c.OverHardCap).
		Msg("admin: plan changed")
	writeJSON(w, http.StatusOK, c)
	return nil
}

// keyBody is POST /admin/clients/{id}/keys; the body may be left out.
type keyBody struct {
	RevokeOthers *bool `json:"revoke_others"` // default true: a rotation
}

func (s *Server) adminCreateKey(w http.ResponseWriter, r *http.Request, actor string) error {
	id, err := clientID(r)
	if err != nil {
		return err
	}
	var b keyBody
	if r.ContentLength != 0 {
		if err := s.decode(w, r, &b); err != nil {
			return err
		}
	}
	revoke := b.RevokeOthers == nil || *b.RevokeOthers
	k, err := admin.CreateKey(r.Context(), s.deps.DB, admin.KeyRequest{Client: id, Actor: actor, RevokeOthers: revoke})
	if err != nil {
		return err
	}
	s.adminLog(r, actor, k.ClientID).Info().Str("key_id", k.Key.ID.String()).Str("prefix", k.Key.Prefix).Int("revoked", len(k.Revoked)).
		Msg("admin: API key created")
	writeJSON(w, http.StatusCreated, k)
	return nil
}

func (s *Server) adminRevokeKey(w http.ResponseWriter, r *http.Request, actor string) error {
	id, err := clientID(r)
	if err != nil {
		return err
	}
	keyID, err := pathUUID(r, "key_id", "API key")
	if err != nil {
		return err
	}
	k, err := admin.RevokeKey(r.Context(), s.deps.DB, admin.RevokeRequest{Client: id, KeyID: keyID, Actor: actor})
	if err != nil {
		return err
	}
	if !k.AlreadyRevoked {
		s.adminLog(r, actor, k.Key.ClientID).Info().Str("key_id", k.Key.ID.String()).Str("prefix", k.Key.Prefix).Msg("admin: API key revoked")
	}
	writeJSON(w, http.StatusOK, k)
	return nil
}

// disableBody is POST /admin/clients/{id}/disable.
type disableBody struct {
	Reason string `json:"reason"` // default admin
	Note   string `json:"note"`
	DryRun bool   `json:"dry_run"`
}

func (s *Server) adminDisable(w http.ResponseWriter, r *http.Request, actor string) error {
	id, err := clientID(r)
	if err != nil {
		return err
	}
	b := disableBody{Reason: billing.ReasonAdmin}
	if err := s.decode(w, r, &b); err != nil {
		return err
	}
	if !slices.Contains(billing.OperatorReasons, b.Reason) {
		return invalid(fmt.Sprintf("reason %q: an operator may set %s (hard_cap and grace_expired are the billing jobs' own, subscription_cancelled the subscription flow's)",
			b.Reason, strings.Join(billing.OperatorReasons, ", ")))
	}
	if strings.TrimSpace(b.Note) == "" {
		return invalid(`note is required: say why, e.g. "OPS-125: scraping"`)
	}
	c, err := admin.Disable(r.Context(), s.deps.DB, admin.DisableRequest{Client: id, Reason: b.Reason, Actor: actor, Note: b.Note, DryRun: b.DryRun})
	if err != nil {
		return err
	}
	s.logChange(r, c)
	writeJSON(w, http.StatusOK, c)
	return nil
}

// enableBody is POST /admin/clients/{id}/enable.
type enableBody struct {
	Note        string     `json:"note"`
	ExemptUntil *time.Time `json:"exempt_until"`
	DryRun      bool       `json:"dry_run"`
}

func (s *Server) adminEnable(w http.ResponseWriter, r *http.Request, actor string) error {
	id, err := clientID(r)
	if err != nil {
		return err
	}
	var b enableBody
	if err := s.decode(w, r, &b); err != nil {
		return err
	}
	if strings.TrimSpace(b.Note) == "" {
		return invalid(`note is required: say why, e.g. "OPS-123: usage double-counted"`)
	}
	req := admin.EnableRequest{Client: id, Actor: actor, Note: b.Note, DryRun: b.DryRun}
	if b.ExemptUntil != nil {
		// As the database keeps it, so the instant checked is the one stored.
		req.ExemptUntil = b.ExemptUntil.UTC().Truncate(time.Microsecond)
	}
	c, err := admin.Enable(r.Context(), s.deps.DB, req)
	if err != nil {
		return err
	}
	s.logChange(r, c)
	writeJSON(w, http.StatusOK, c)
	return nil
}

// logChange logs a status change as `clients enable|disable` do.
func (s *Server) logChange(r *http.Request, c admin.Change) {
	ev := s.cfg.Log.Info().Str("request_id", reqInfo(r.Context()).id).Fields(c.LogFields())
	if c.DryRun {
		ev.Msg("admin: status change checked (dry run); nothing was changed")
		return
	}
	ev.Msg("admin: client status changed")
}

var jobRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,63}$`)

func (s *Server) adminJobRuns(w http.ResponseWriter, r *http.Request, _ string) error {
	q, err := query(r, "job", "status", "limit", "summary")
	if err != nil {
		return err
	}
	f := runner.Filter{Job: q.Get("job"), Status: q.Get("status"), Limit: DefaultRunsLimit}
	if f.Job != "" && !jobRE.MatchString(f.Job) {
		return invalid(fmt.Sprintf("job %q: a job's name is lower-case letters, digits and -, e.g. billing-overage", f.Job))
	}
	if f.Status != "" && !slices.Contains(runner.Statuses, f.Status) {
		return invalid(fmt.Sprintf("status %q: use one of %s", f.Status, strings.Join(runner.Statuses, ", ")))
	}
	if q.Has("limit") {
		if f.Limit, err = strconv.Atoi(q.Get("limit")); err != nil || f.Limit < 1 || f.Limit > MaxRunsLimit {
			return invalid(fmt.Sprintf("limit=%q: use a whole number from 1 to %d", q.Get("limit"), MaxRunsLimit))
		}
	}
	summary, err := boolParam(q, "summary")
	if err != nil {
		return err
	}
	runs, err := runner.Runs(r.Context(), s.deps.DB, f)
	if err != nil {
		return err
	}
	if !summary {
		for i := range runs {
			runs[i].Summary = nil
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"runs": nonNil(runs)})
	return nil
}
