package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// Error codes, the "code" of every error response. docs/api.md lists them
// with what a client should do; docs/openapi.yaml enumerates them.
const (
	CodeInvalidJSON       = "invalid_json"       // 400: the body is not the JSON the route takes
	CodeInvalidRequest    = "invalid_request"    // 400: well-formed, but a field is wrong
	CodeUnauthorized      = "unauthorized"       // 401: no key, a malformed, unknown or revoked one
	CodeClientDisabled    = "client_disabled"    // 403: the client is disabled; reason says why
	CodeClientCancelled   = "client_cancelled"   // 403: the client's subscription was cancelled
	CodeNotFound          = "not_found"          // 404
	CodeMethodNotAllowed  = "method_not_allowed" // 405
	CodeBodyTooLarge      = "body_too_large"     // 413
	CodeIdempotencyReused = "idempotency_key_reused"
	CodeRateLimited       = "rate_limited"        // 429, with Retry-After
	CodeInternal          = "internal_error"      // 500
	CodeUnavailable       = "service_unavailable" // 503: the database (or a needed service) is down
)

// Problem is an error answered to a request: its status and the body's
// fields. Reason is set for a 403 (the client's disable reason).
type Problem struct {
	Status  int
	Code    string
	Message string
	Reason  string
}

func (p *Problem) Error() string { return p.Message }

// problem builds a *Problem.
func problem(status int, code, msg string) *Problem {
	return &Problem{Status: status, Code: code, Message: msg}
}

type errorBody struct {
	Error errorFields `json:"error"`
}

type errorFields struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Reason    string `json:"reason,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// writeError answers err as the one error shape. A *Problem is answered as
// it says; a dependency that is down (exit code 69) is 503; anything else is
// a 500 whose details go to the log only.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var p *Problem
	switch {
	case errors.As(err, &p):
	case exitcode.Of(err) == exitcode.Unavailable:
		p = problem(http.StatusServiceUnavailable, CodeUnavailable, "a service the API needs is unavailable; retry later")
		w.Header().Set("Retry-After", "5")
	default:
		p = problem(http.StatusInternalServerError, CodeInternal, "internal error; the request id names it in the server's log")
	}
	info := reqInfo(r.Context())
	if p.Status >= 500 {
		info.err = err
	}
	writeJSON(w, p.Status, errorBody{Error: errorFields{Code: p.Code, Message: p.Message, Reason: p.Reason, RequestID: info.id}})
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal_error","message":"the response could not be encoded"}}`)
	}
	writeRaw(w, status, b)
}

// writeRaw answers a JSON body as it is.
func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
