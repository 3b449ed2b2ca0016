package infra_test

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// seen is what the fake API received.
type seen struct {
	path   string
	header http.Header
	body   []byte
}

// TestNginxProxies runs infra/nginx.conf for real, its three servers on
// loopback ports and api:8000 a fake API, and checks what reaches the API and
// what does not.
func TestNginxProxies(t *testing.T) {
	t.Parallel()
	nginx := needNginx(t)

	var mu sync.Mutex
	var got []seen
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, seen{path: r.URL.Path, header: r.Header.Clone(), body: body})
		mu.Unlock()
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(api.Close)
	last := func(t *testing.T) seen {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		require.NotEmpty(t, got, "the request reached the API")
		s := got[len(got)-1]
		got = nil
		return s
	}
	none := func(t *testing.T) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		require.Empty(t, got, "the request must not reach the API")
	}

	dir := t.TempDir()
	writeSelfSigned(t, filepath.Join(dir, "origin.pem"), filepath.Join(dir, "origin.key"))
	httpPort, httpsPort, internalPort := freePort(t), freePort(t), freePort(t)
	text := readFile(t, "infra/nginx.conf")
	for _, r := range []struct{ old, new string }{
		{"server api:8000;", "server " + api.Listener.Addr().String() + ";"},
		{"/etc/nginx/certs/", dir + "/"},
		{"listen 80 default_server;", "listen 127.0.0.1:" + httpPort + " default_server;"},
		{"listen 443 ssl default_server;", "listen 127.0.0.1:" + httpsPort + " ssl default_server;"},
		{"listen 8080;", "listen 127.0.0.1:" + internalPort + ";"},
		{"access_log /dev/stdout combined;", "access_log " + filepath.Join(dir, "access.log") + " combined;"},
		{"worker_processes auto;", "worker_processes 1;"},
	} {
		require.Containsf(t, text, r.old, "infra/nginx.conf changed: update this test's rewrite of %q", r.old)
		text = strings.ReplaceAll(text, r.old, r.new)
	}
	// IPv6 listeners: the machine may have no IPv6.
	text = regexp.MustCompile(`(?m)^\s*listen \[::\].*$`).ReplaceAllString(text, "")
	conf := filepath.Join(dir, "nginx.conf")
	require.NoError(t, os.WriteFile(conf, []byte(text), 0o600))

	var stderr bytes.Buffer
	cmd := exec.Command(nginx, "-p", dir, "-c", conf, "-g", "daemon off; pid "+filepath.Join(dir, "nginx.pid")+";")
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	for _, port := range []string{httpPort, httpsPort, internalPort} {
		require.Eventuallyf(t, func() bool {
			c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, 100*time.Millisecond)
			if err == nil {
				c.Close()
			}
			return err == nil
		}, 10*time.Second, 50*time.Millisecond, "nginx listens on %s: %s", port, &stderr)
	}

	client := &http.Client{
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, // a throwaway self-signed certificate
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}
	// do sends a request and returns the answer's status and headers (its
	// body read and closed).
	do := func(t *testing.T, method, url string, body []byte, header map[string]string) answer {
		t.Helper()
		req, err := http.NewRequest(method, url, bytes.NewReader(body))
		require.NoError(t, err)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return answer{status: resp.StatusCode, header: resp.Header}
	}
	public := "https://127.0.0.1:" + httpsPort

	t.Run("metrics and admin are not public", func(t *testing.T) {
		for _, path := range []string{"/metrics", "/admin/clients", "/admin/job-runs"} {
			resp := do(t, "GET", public+path, nil, map[string]string{"Authorization": "Bearer x"})
			require.Equalf(t, http.StatusNotFound, resp.status, "GET %s from the internet", path)
			none(t)
		}
	})

	t.Run("internal server serves them", func(t *testing.T) {
		for _, path := range []string{"/metrics", "/admin/clients"} {
			resp := do(t, "GET", "http://127.0.0.1:"+internalPort+path, nil, nil)
			require.Equal(t, http.StatusOK, resp.status)
			require.Equal(t, path, last(t).path)
		}
	})

	t.Run("headers the API relies on", func(t *testing.T) {
		resp := do(t, "GET", public+"/v1/usage", nil, map[string]string{
			"CF-Connecting-IP": "203.0.113.9", // forged: the peer is not Cloudflare
			"CF-Visitor":       `{"scheme":"https"}`,
		})
		require.Equal(t, http.StatusOK, resp.status)
		require.Equal(t, "nosniff", resp.header.Get("X-Content-Type-Options"))
		require.NotEmpty(t, resp.header.Get("Strict-Transport-Security"))
		s := last(t)
		require.Equal(t, "127.0.0.1", s.header.Get("CF-Connecting-IP"), "a forged CF-Connecting-IP is replaced")
		require.Equal(t, "https", s.header.Get("X-Forwarded-Proto"))
		require.Regexp(t, `^[0-9a-f]{32}$`, s.header.Get("X-Request-ID"), "Nginx's $request_id when the caller sent none")
		require.Equal(t, "127.0.0.1", s.header.Get("X-Forwarded-For"))

		do(t, "GET", public+"/v1/usage", nil, map[string]string{"X-Request-ID": "caller-id-1"})
		require.Equal(t, "caller-id-1", last(t).header.Get("X-Request-ID"), "the caller's X-Request-ID is kept")
	})

	t.Run("the webhook's body arrives byte for byte", func(t *testing.T) {
		body := []byte("{\"id\": \"evt_1\",\n  \"type\":\"invoice.paid\" ,\t\"data\":{}}\r\n  ")
		resp := do(t, "POST", public+"/webhooks/stripe", body, map[string]string{
			"Content-Type":     "application/json; charset=utf-8",
			"Stripe-Signature": "t=1,v1=abc",
		})
		require.Equal(t, http.StatusOK, resp.status)
		s := last(t)
		require.Equal(t, "/webhooks/stripe", s.path)
		require.Equal(t, body, s.body)
		require.Equal(t, "t=1,v1=abc", s.header.Get("Stripe-Signature"))
		require.Equal(t, "application/json; charset=utf-8", s.header.Get("Content-Type"))
	})

	t.Run("bodies over 1 MiB are refused", func(t *testing.T) {
		resp := do(t, "POST", public+"/v1/usage", bytes.Repeat([]byte("a"), 1<<20+1), nil)
		require.Equal(t, http.StatusRequestEntityTooLarge, resp.status)
		none(t)
		resp = do(t, "POST", public+"/v1/usage", bytes.Repeat([]byte("a"), 1<<20), nil)
		require.Equal(t, http.StatusOK, resp.status)
		require.Len(t, last(t).body, 1<<20)
	})

	t.Run("port 80 redirects to https", func(t *testing.T) {
		resp := do(t, "GET", "http://127.0.0.1:"+httpPort+"/v1/usage?x=1", nil, nil)
		require.Equal(t, http.StatusMovedPermanently, resp.status)
		require.Equal(t, "https://127.0.0.1/v1/usage?x=1", resp.header.Get("Location"))
		none(t)
	})
}

// answer is what do returns of a response.
type answer struct {
	status int
	header http.Header
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}
