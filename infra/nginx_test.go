package infra_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cortexlayer/cortexctl/internal/testenv"
	"github.com/stretchr/testify/require"
)

// directive is one nginx directive: its name, arguments and, for a block, the
// directives inside it.
type directive struct {
	name     string
	args     []string
	children []*directive
}

// parseNginx reads nginx's configuration syntax: words (quoted or not),
// `;` ending a directive, `{ … }` a block, `#` a comment to the end of line.
func parseNginx(t *testing.T, text string) *directive {
	t.Helper()
	var tokens []string
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == '#':
			for i < len(text) && text[i] != '\n' {
				i++
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == ';' || c == '{' || c == '}':
			tokens = append(tokens, string(c))
			i++
		case c == '"' || c == '\'':
			j := i + 1
			for j < len(text) && text[j] != c {
				if text[j] == '\\' {
					j++
				}
				j++
			}
			require.Less(t, j, len(text), "unterminated quote")
			tokens = append(tokens, text[i+1:j])
			i = j + 1
		default:
			j := i
			for j < len(text) && !strings.ContainsRune(" \t\r\n;{}", rune(text[j])) {
				j++
			}
			tokens = append(tokens, text[i:j])
			i = j
		}
	}
	top := &directive{name: "main"}
	stack := []*directive{top}
	var words []string
	for _, tok := range tokens {
		cur := stack[len(stack)-1]
		switch tok {
		case ";":
			require.NotEmpty(t, words)
			cur.children = append(cur.children, &directive{name: words[0], args: words[1:]})
			words = nil
		case "{":
			require.NotEmpty(t, words)
			d := &directive{name: words[0], args: words[1:]}
			cur.children = append(cur.children, d)
			stack = append(stack, d)
			words = nil
		case "}":
			require.Empty(t, words, "a directive without ;")
			require.Greater(t, len(stack), 1, "unbalanced }")
			stack = stack[:len(stack)-1]
		default:
			words = append(words, tok)
		}
	}
	require.Len(t, stack, 1, "unbalanced {")
	return top
}

func (d *directive) all(name string) []*directive {
	var out []*directive
	for _, c := range d.children {
		if c.name == name {
			out = append(out, c)
		}
	}
	return out
}

func (d *directive) one(t *testing.T, name string) *directive {
	t.Helper()
	all := d.all(name)
	require.Lenf(t, all, 1, "one %s in %s %v", name, d.name, d.args)
	return all[0]
}

// arg returns the arguments of d's only child name, joined by spaces.
func (d *directive) arg(t *testing.T, name string) string {
	t.Helper()
	return strings.Join(d.one(t, name).args, " ")
}

// walk calls fn on every directive under d.
func (d *directive) walk(fn func(*directive)) {
	for _, c := range d.children {
		fn(c)
		c.walk(fn)
	}
}

// listens reports whether server listens on port.
func listens(server *directive, port string) bool {
	for _, l := range server.all("listen") {
		addr := l.args[0]
		if addr == port || strings.HasSuffix(addr, ":"+port) {
			return true
		}
	}
	return false
}

// route returns the location nginx picks for path in server: an exact match,
// else the longest prefix (the config has no regex location; checked).
func route(t *testing.T, server *directive, path string) *directive {
	t.Helper()
	var best *directive
	for _, loc := range server.all("location") {
		switch {
		case len(loc.args) == 2 && loc.args[0] == "=":
			if loc.args[1] == path {
				return loc
			}
		case len(loc.args) == 2 && loc.args[0] == "^~", len(loc.args) == 1:
			prefix := loc.args[len(loc.args)-1]
			if strings.HasPrefix(path, prefix) && (best == nil || len(prefix) > len(best.args[len(best.args)-1])) {
				best = loc
			}
		default:
			t.Fatalf("location %v: a regex location; teach route about it", loc.args)
		}
	}
	require.NotNilf(t, best, "no location for %s", path)
	return best
}

func proxies(loc *directive) bool { return len(loc.all("proxy_pass")) > 0 }

func TestNginxConfig(t *testing.T) {
	t.Parallel()
	conf := parseNginx(t, readFile(t, "infra/nginx.conf"))
	http := conf.one(t, "http")

	require.Equal(t, "1m", http.arg(t, "client_max_body_size"), "the API's 1 MiB limit")
	require.Equal(t, "off", http.arg(t, "gzip"), "the webhook's body reaches the API byte for byte")
	require.Equal(t, "off", http.arg(t, "server_tokens"))

	t.Run("real client IP from Cloudflare only", func(t *testing.T) {
		require.Equal(t, "CF-Connecting-IP", http.arg(t, "real_ip_header"))
		var v4, v6 int
		for _, d := range http.all("set_real_ip_from") {
			p, err := netip.ParsePrefix(d.args[0])
			require.NoError(t, err)
			require.Falsef(t, p.Addr().IsPrivate() || p.Addr().IsLoopback(), "%s: only Cloudflare's ranges are believed", p)
			require.Equal(t, p.Masked(), p, "a range's base address")
			if p.Addr().Is4() {
				v4++
			} else {
				v6++
			}
		}
		// Cloudflare's published list (www.cloudflare.com/ips-v4, ips-v6).
		require.Equal(t, 15, v4, "Cloudflare's IPv4 ranges")
		require.Equal(t, 7, v6, "Cloudflare's IPv6 ranges")
	})

	t.Run("upstream api:8000 with keepalive", func(t *testing.T) {
		var up *directive
		for _, u := range http.all("upstream") {
			if u.args[0] == "api" {
				up = u
			}
		}
		require.NotNil(t, up)
		require.Equal(t, "api:8000", up.arg(t, "server"))
		require.NotEmpty(t, up.arg(t, "keepalive"))
		require.Equal(t, "1.1", http.arg(t, "proxy_http_version"), "upstream keepalive needs HTTP/1.1")
	})

	t.Run("headers passed to the API", func(t *testing.T) {
		headers := map[string]string{}
		for _, d := range http.all("proxy_set_header") {
			headers[d.args[0]] = strings.Join(d.args[1:], " ")
		}
		require.Equal(t, "", headers["Connection"], "keepalive to the upstream")
		require.Equal(t, "$remote_addr", headers["CF-Connecting-IP"], "never a forged CF-Connecting-IP")
		require.Equal(t, "$proxy_add_x_forwarded_for", headers["X-Forwarded-For"])
		require.Contains(t, headers, "X-Forwarded-Proto")
		require.Contains(t, headers, "Host")
		reqID := headers["X-Request-ID"]
		require.NotEmpty(t, reqID)
		// $req_id is the caller's X-Request-ID, else $request_id.
		var found bool
		for _, m := range http.all("map") {
			if m.args[1] != reqID {
				continue
			}
			found = true
			require.Equal(t, "$http_x_request_id", m.args[0])
			require.Equal(t, "$http_x_request_id", m.arg(t, "default"), "the caller's id when it sent one")
			require.Equal(t, "$request_id", m.arg(t, ""), "nginx's own when it sent none")
		}
		require.True(t, found, "a map defines %s", reqID)
		// A location with its own proxy_set_header (or add_header) drops
		// every one inherited: none may have one.
		http.walk(func(d *directive) {
			if d.name == "location" {
				require.Emptyf(t, d.all("proxy_set_header"), "location %v sets proxy_set_header: it would drop the inherited ones", d.args)
				require.Emptyf(t, d.all("add_header"), "location %v sets add_header: it would drop the inherited ones", d.args)
			}
		})
	})

	var public, internal []*directive
	for _, s := range http.all("server") {
		if listens(s, "8080") {
			internal = append(internal, s)
		} else {
			public = append(public, s)
		}
	}
	require.Len(t, internal, 1, "one internal server on :8080")
	require.Len(t, public, 2, "80 (redirect) and 443")

	t.Run("public servers", func(t *testing.T) {
		for _, s := range public {
			require.Truef(t, listens(s, "80") || listens(s, "443"), "listen %v", s.all("listen"))
			for _, path := range []string{"/metrics", "/admin/", "/admin/clients", "/admin/job-runs"} {
				loc := route(t, s, path)
				require.Falsef(t, proxies(loc), "%s is routed to the API from the internet", path)
				if listens(s, "443") {
					require.Equalf(t, "404", loc.arg(t, "return"), "%s answers 404 from the internet", path)
				}
			}
			if !listens(s, "443") {
				require.Contains(t, route(t, s, "/v1/usage").arg(t, "return"), "301 https://")
				continue
			}
			require.Equal(t, "/etc/nginx/certs/origin.pem", s.arg(t, "ssl_certificate"))
			for _, path := range []string{"/v1/usage", "/healthz", "/webhooks/stripe"} {
				require.Equalf(t, "http://api", route(t, s, path).arg(t, "proxy_pass"), "%s reaches the API", path)
			}
			hook := route(t, s, "/webhooks/stripe")
			require.Equal(t, []string{"=", "/webhooks/stripe"}, hook.args)
			require.Equal(t, "off", hook.arg(t, "proxy_request_buffering"), "the webhook streams through unbuffered")
			var headers []string
			for _, h := range s.all("add_header") {
				headers = append(headers, h.args[0])
			}
			require.Subset(t, headers, []string{"X-Content-Type-Options", "X-Frame-Options", "Strict-Transport-Security", "Referrer-Policy"})
		}
	})

	t.Run("internal server", func(t *testing.T) {
		s := internal[0]
		for _, path := range []string{"/metrics", "/admin/clients"} {
			require.Truef(t, proxies(route(t, s, path)), "%s is served internally", path)
		}
		require.Equal(t, "all", s.all("deny")[len(s.all("deny"))-1].args[0], "deny all but the private ranges")
		for _, a := range s.all("allow") {
			p, err := netip.ParsePrefix(a.args[0])
			if err != nil {
				addr, err2 := netip.ParseAddr(a.args[0])
				require.NoError(t, err2)
				p = netip.PrefixFrom(addr, addr.BitLen())
			}
			require.Truef(t, p.Addr().IsPrivate() || p.Addr().IsLoopback(), "allow %s: private ranges only", p)
		}
	})
}

// TestNginxSyntax runs `nginx -t` on infra/nginx.conf, with api:8000 (the
// compose network's name) as 127.0.0.1:8000 and a throwaway certificate,
// everything else in a temporary directory.
func TestNginxSyntax(t *testing.T) {
	t.Parallel()
	nginx := needNginx(t)
	dir := t.TempDir()
	writeSelfSigned(t, filepath.Join(dir, "origin.pem"), filepath.Join(dir, "origin.key"))
	text := readFile(t, "infra/nginx.conf")
	require.Contains(t, text, "server api:8000;")
	require.Contains(t, text, "/etc/nginx/certs/")
	text = strings.ReplaceAll(text, "server api:8000;", "server 127.0.0.1:8000;")
	text = strings.ReplaceAll(text, "/etc/nginx/certs/", dir+"/")
	conf := filepath.Join(dir, "nginx.conf")
	require.NoError(t, os.WriteFile(conf, []byte(text), 0o600))

	out, err := exec.Command(nginx, "-t", "-q", "-p", dir, "-c", conf, "-g", "pid "+filepath.Join(dir, "nginx.pid")+";").CombinedOutput()
	require.NoErrorf(t, err, "nginx -t:\n%s", out)
	// Warnings (a duplicate, a deprecated form) fail too.
	require.Emptyf(t, strings.TrimSpace(string(out)), "nginx -t printed:\n%s", out)
}

// needNginx returns the nginx binary, or ends t (testenv.Need).
func needNginx(t *testing.T) string {
	t.Helper()
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		if _, statErr := os.Stat("/usr/sbin/nginx"); statErr == nil {
			nginx, err = "/usr/sbin/nginx", nil
		}
	}
	if err != nil {
		err = errors.New("nginx not found: apt-get install nginx-light (bash .ci/run does)")
	}
	testenv.Need(t, "nginx", err)
	return nginx
}

func writeSelfSigned(t *testing.T, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "origin.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     []string{"origin.test"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
}
