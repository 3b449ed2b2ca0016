package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/db/fixture"
	"github.com/cortexlayer/cortexctl/internal/api"
)

// The contract: docs/openapi.yaml. Every response a test receives through
// env.do is validated against it (status documented, headers and body
// matching the schema); TestMain fails the run if an operation it documents
// never answered a test with success.
const specPath = "../../docs/openapi.yaml"

var (
	spec       *openapi3.T
	specRouter routers.Router
	errSchema  *openapi3.Schema

	seenMu sync.Mutex
	seen   = map[string]bool{} // "METHOD /path/{param}" of every exchange validated with a 2xx
)

func TestMain(m *testing.M) {
	ctx := context.Background()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(specPath)
	if err == nil {
		err = doc.Validate(ctx)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s is not a valid OpenAPI document: %v\n", specPath, err)
		os.Exit(1)
	}
	doc.Servers = nil // match requests to any host: the tests listen on loopback ports
	spec = doc
	if specRouter, err = legacy.NewRouter(doc); err != nil {
		fmt.Fprintf(os.Stderr, "route %s: %v\n", specPath, err)
		os.Exit(1)
	}
	errSchema = doc.Components.Schemas["Error"].Value
	code := m.Run()
	if code == 0 && runsEverything() {
		if missing := unexercised(); len(missing) > 0 {
			fmt.Fprintf(os.Stderr, "docs/openapi.yaml documents operations that answered no test with success:\n  %s\n", strings.Join(missing, "\n  "))
			code = 1
		}
	}
	os.Exit(code)
}

// runsEverything reports whether this run runs every test (no -run, -skip
// or -short), so that an unexercised operation means a missing test.
func runsEverything() bool {
	for _, name := range []string{"test.run", "test.skip"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			return false
		}
	}
	return !testing.Short()
}

func unexercised() []string {
	var missing []string
	for _, path := range spec.Paths.InMatchingOrder() {
		for method := range spec.Paths.Value(path).Operations() {
			if op := method + " " + path; !seen[op] {
				missing = append(missing, op)
			}
		}
	}
	sort.Strings(missing)
	return missing
}

// clock is a settable clock for the server.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }

// syncBuffer is a log sink tests read while the server writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.buf.String() }

// env is one test's API: a server on its own database, behind httptest.
type env struct {
	t     *testing.T
	F     *fixture.Fixture
	Clock *clock
	Logs  *syncBuffer
	URL   string
	srv   *httptest.Server
}

// newEnv starts a server on a fresh database. The server's clock starts at
// the database's now (so what it records falls in the database's current
// period); opts may change the config and deps before the server is built.
func newEnv(t *testing.T, opts ...func(*api.Config, *api.Deps)) *env {
	t.Helper()
	f := fixture.New(t)
	var now time.Time
	f.Scalar(&now, `SELECT now()`)
	e := &env{t: t, F: f, Clock: &clock{now: now.UTC()}, Logs: &syncBuffer{}}
	cfg := api.Config{
		Log:     zerolog.New(e.Logs).Level(zerolog.DebugLevel),
		Now:     e.Clock.Now,
		Version: "test",
	}
	deps := api.Deps{DB: f.DB.Pool}
	for _, o := range opts {
		o(&cfg, &deps)
	}
	e.srv = httptest.NewServer(api.New(cfg, deps))
	t.Cleanup(e.srv.Close)
	e.URL = e.srv.URL
	return e
}

// resp is a response as a test reads it.
type resp struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test if it is not JSON.
func (r resp) JSON(t *testing.T, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Body, v), "body: %s", r.Body)
}

// ErrorCode is the error code of an error response, failing the test if
// the body is not the error shape.
func (r resp) ErrorCode(t *testing.T) string {
	t.Helper()
	var body struct {
		Error struct{ Code, Message, Reason string }
	}
	r.JSON(t, &body)
	require.NotEmpty(t, body.Error.Code, "an error body: %s", r.Body)
	require.NotEmpty(t, body.Error.Message, "an error body: %s", r.Body)
	return body.Error.Code
}

// do sends a request and validates the exchange against docs/openapi.yaml.
// body is sent as is if it is a string or []byte, else as JSON; headers are
// name, value pairs.
func (e *env) do(method, path string, body any, headers ...string) resp {
	e.t.Helper()
	return do(e.t, e.URL, method, path, body, headers...)
}

func do(t *testing.T, base, method, path string, body any, headers ...string) resp {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, base+path, rd)
	require.NoError(t, err)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	require.Zero(t, len(headers)%2, "headers are name, value pairs")
	for i := 0; i < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	r := resp{Status: res.StatusCode, Header: res.Header, Body: raw}
	validate(t, req, r)
	return r
}

// validate holds one exchange to the document: a documented route answers
// only documented statuses with documented bodies; anything else must be
// the error shape. Every response carries X-Request-ID.
func validate(t *testing.T, req *http.Request, r resp) {
	t.Helper()
	require.NotEmpty(t, r.Header.Get("X-Request-ID"), "%s %s: every response carries X-Request-ID", req.Method, req.URL.Path)
	route, params, err := specRouter.FindRoute(req)
	if err != nil {
		// Not a documented route (a 404 or 405 test): the error shape.
		require.Contains(t, []int{http.StatusNotFound, http.StatusMethodNotAllowed}, r.Status,
			"%s %s is not in docs/openapi.yaml but answered %d: document it", req.Method, req.URL.Path, r.Status)
		var v any
		require.NoError(t, json.Unmarshal(r.Body, &v), "%s %s: body %s", req.Method, req.URL.Path, r.Body)
		require.NoError(t, errSchema.VisitJSON(v), "%s %s: not the error shape: %s", req.Method, req.URL.Path, r.Body)
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 r.Status,
		Header:                 r.Header,
		Body:                   io.NopCloser(bytes.NewReader(r.Body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	require.NoError(t, openapi3filter.ValidateResponse(req.Context(), in),
		"%s %s answered %d, which docs/openapi.yaml does not allow: %s", req.Method, req.URL.Path, r.Status, r.Body)
	if r.Status < 300 {
		seenMu.Lock()
		seen[req.Method+" "+route.Path] = true
		seenMu.Unlock()
	}
}

// bearer is the Authorization header pair for a key.
func bearer(key string) []string { return []string{"Authorization", "Bearer " + key} }

// with appends header pairs.
func with(h []string, more ...string) []string { return append(slices.Clone(h), more...) }
