package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/db/fixture"
	"github.com/cortexlayer/cortexctl/internal/ratelimit/ratelimittest"
)

// apiProc is a running `cortexctl api`.
type apiProc struct {
	t      *testing.T
	c      *cli
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	URL    string
}

// startAPI starts `cortexctl api` on a free loopback port and waits until
// it logs where it listens.
func startAPI(t *testing.T, c *cli, args ...string) *apiProc {
	t.Helper()
	cmd, out, errb := c.start(append([]string{"api", "--addr", "127.0.0.1:0"}, args...)...)
	p := &apiProc{t: t, c: c, cmd: cmd, stdout: out, stderr: errb}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	waitForLine(t, errb, `"message":"listening"`)
	for line := range strings.SplitSeq(errb.String(), "\n") {
		var l struct{ Message, Addr string }
		if json.Unmarshal([]byte(line), &l) == nil && l.Message == "listening" {
			p.URL = "http://" + l.Addr
		}
	}
	require.NotEmpty(t, p.URL, "the listening line names the address:\n%s", errb)
	return p
}

// stop sends SIGTERM and waits for the exit.
func (p *apiProc) stop() result {
	p.t.Helper()
	require.NoError(p.t, p.cmd.Process.Signal(syscall.SIGTERM))
	return p.c.wait(p.cmd, p.stdout, p.stderr)
}

type httpResult struct {
	status int
	header http.Header
	body   string
}

func call(t *testing.T, method, url, key string, body string, headers ...string) httpResult {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return httpResult{status: res.StatusCode, header: res.Header, body: string(b)}
}

func TestAPIServesAndShutsDownGracefully(t *testing.T) {
	t.Parallel()
	f := fixture.New(t)
	id := f.Client("starter")
	key := f.APIKey(id)
	c := newCLI(t, f.DB.URL)
	p := startAPI(t, c)

	r := call(t, "GET", p.URL+"/healthz", "", "")
	require.Equal(t, http.StatusOK, r.status)
	require.JSONEq(t, `{"status":"ok","version":"`+testVersion+`"}`, r.body)
	require.Equal(t, http.StatusOK, call(t, "GET", p.URL+"/readyz", "", "").status)
	r = call(t, "POST", p.URL+"/v1/usage", key, `{"operation_type":"query","quantity":2}`, "X-Request-ID", "e2e-1")
	require.Equal(t, http.StatusCreated, r.status, r.body)
	require.Equal(t, "e2e-1", r.header.Get("X-Request-ID"))

	// The access log line names the request.
	waitForLine(t, p.stderr, `"request_id":"e2e-1"`)
	var line map[string]any
	for l := range strings.SplitSeq(p.stderr.String(), "\n") {
		if strings.Contains(l, `"request_id":"e2e-1"`) {
			require.NoError(t, json.Unmarshal([]byte(l), &line))
		}
	}
	require.Equal(t, "POST", line["method"])
	require.Equal(t, "/v1/usage", line["path"])
	require.EqualValues(t, 201, line["status"])
	require.Equal(t, id.String(), line["client_id"])
	require.Contains(t, line, "duration_ms")

	// A request in flight when SIGTERM arrives is answered before the exit:
	// an open transaction holds its Idempotency-Key, so it waits.
	tx, err := f.DB.Pool.Begin(context.Background())
	require.NoError(t, err)
	_, err = tx.Exec(context.Background(), `INSERT INTO usage_requests (client_id, idempotency_key, request_hash, response) VALUES ($1, 'held', '\x00', '{}')`, id)
	require.NoError(t, err)
	inFlight := make(chan httpResult, 1)
	go func() {
		inFlight <- call(t, "POST", p.URL+"/v1/usage", key, `{"operation_type":"query","quantity":5}`, "Idempotency-Key", "held")
	}()
	f.WaitForLockWait()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	waitForLine(t, p.stderr, "stopping: no new connections, finishing the requests in flight")
	waitForLine(t, p.stderr, "shutting down")
	// No new connections once it is shutting down.
	post, err := http.Post(p.URL+"/healthz", "application/json", bytes.NewReader(nil))
	if err == nil {
		_ = post.Body.Close()
	}
	require.Error(t, err, "the listener is closed")
	require.NoError(t, tx.Rollback(context.Background())) // the key's first holder gave up: this request records
	got := <-inFlight
	require.Equal(t, http.StatusCreated, got.status, got.body)
	res := c.wait(p.cmd, p.stdout, p.stderr)
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stderr, "every request in flight was answered")
	var units int64
	f.Scalar(&units, `SELECT sum(quantity) FROM usage_logs WHERE client_id = $1`, id)
	require.EqualValues(t, 7, units)
}

func TestAPIRefusesAnUnmigratedDatabase(t *testing.T) {
	t.Parallel()
	f := emptyFixture(t)
	r := newCLI(t, f.DB.URL).run("api", "--addr", "127.0.0.1:0")
	requireOneLineError(t, r, 78, "cortexctl db migrate")
}

func TestAPIRateLimitIsSharedByTwoProcessesOnOneRedis(t *testing.T) {
	t.Parallel()
	f := fixture.New(t)
	plan := "rl" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	f.Plan(plan, 1000, 10_000)
	f.Exec(`UPDATE plans SET rate_limit_per_minute = 5 WHERE code = $1`, plan)
	key := f.APIKey(f.Client(plan))
	c := newCLI(t, f.DB.URL, "REDIS_URL="+ratelimittest.URL(t))
	a, b := startAPI(t, c), startAPI(t, c)

	statuses := map[int]int{}
	var retryAfter string
	for i := range 8 {
		p := a
		if i%2 == 1 {
			p = b
		}
		r := call(t, "POST", p.URL+"/v1/usage", key, `{"operation_type":"query"}`)
		statuses[r.status]++
		if r.status == http.StatusTooManyRequests {
			retryAfter = r.header.Get("Retry-After")
			require.Contains(t, r.body, `"code":"rate_limited"`)
		}
	}
	require.Equal(t, map[int]int{201: 5, 429: 3}, statuses, "5 per minute across both replicas")
	require.NotEmpty(t, retryAfter)
	var n int
	f.Scalar(&n, `SELECT count(*) FROM usage_logs`)
	require.Equal(t, 5, n)
	require.Equal(t, 0, a.stop().code)
	require.Equal(t, 0, b.stop().code)
}

func TestAPIFailsOpenWhenRedisIsDown(t *testing.T) {
	t.Parallel()
	f := fixture.New(t)
	f.Exec(`UPDATE plans SET rate_limit_per_minute = 1 WHERE code = 'starter'`)
	key := f.APIKey(f.Client("starter"))
	c := newCLI(t, f.DB.URL, "REDIS_URL=redis://127.0.0.1:1") // nothing listens on port 1
	p := startAPI(t, c)

	for range 3 {
		r := call(t, "POST", p.URL+"/v1/usage", key, `{"operation_type":"query"}`)
		require.Equal(t, http.StatusCreated, r.status, "served without rate limits while Redis is down: %s", r.body)
	}
	waitForLine(t, p.stderr, "rate limiter failed: serving without rate limits (fail open)")
	r := call(t, "GET", p.URL+"/readyz", "", "")
	require.Equal(t, http.StatusServiceUnavailable, r.status, "readiness says Redis is down")
	require.Contains(t, r.body, `"name":"redis","ok":false`)
	r = call(t, "GET", p.URL+"/metrics", "", "")
	require.Contains(t, r.body, "cortexctl_ratelimit_errors_total 3")
	require.Equal(t, 0, p.stop().code)
}
