package api

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// requestInfo is what the middleware learns of a request, for its log line.
type requestInfo struct {
	id       string
	ip       string
	clientID string
	err      error // the cause of a 5xx, logged and never sent
}

type infoKey struct{}

// reqInfo is the request's info; an empty one outside the middleware.
func reqInfo(ctx context.Context) *requestInfo {
	if i, ok := ctx.Value(infoKey{}).(*requestInfo); ok {
		return i
	}
	return &requestInfo{}
}

// recorder remembers the status and size of a response.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// MaxRequestIDLen bounds an X-Request-ID taken from the caller.
const MaxRequestIDLen = 128

// requestID is the caller's X-Request-ID when it is a sane token (Nginx's
// $request_id, a UUID, ...), else a new one.
func requestID(h string) string {
	if h != "" && len(h) <= MaxRequestIDLen && strings.Trim(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:") == "" {
		return h
	}
	return strings.ToLower(rand.Text())
}

// clientIP is the address the request came from: the peer, unless the peer
// is a trusted proxy, in which case Cloudflare's CF-Connecting-IP, else the
// rightmost X-Forwarded-For address that is not itself a trusted proxy.
func clientIP(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !isTrusted(peer.Unmap(), trusted) {
		return host
	}
	if cf, err := netip.ParseAddr(strings.TrimSpace(r.Header.Get("CF-Connecting-IP"))); err == nil {
		return cf.Unmap().String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a hop we cannot read: trust nothing to its left
		}
		if a = a.Unmap(); !isTrusted(a, trusted) {
			return a.String()
		}
	}
	return host
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ParseProxies parses a comma-separated list of addresses and CIDR ranges.
func ParseProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an IP address nor a CIDR range (such as 10.0.0.0/8)", f)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// observe is the outermost middleware: request id, client IP, panic
// recovery, the access log line and the request metrics.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &requestInfo{id: requestID(r.Header.Get("X-Request-ID")), ip: clientIP(r, s.cfg.TrustedProxies)}
		w.Header().Set("X-Request-ID", info.id)
		rec := &recorder{ResponseWriter: w}
		r = r.WithContext(context.WithValue(r.Context(), infoKey{}, info))
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler { //nolint:errorlint // a recovered value, compared by identity as net/http does
					panic(v)
				}
				info.err = fmt.Errorf("panic: %v", v)
				if rec.status == 0 {
					s.writeError(rec, r, info.err)
				}
			}
			elapsed := time.Since(start)
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			s.metrics.observe(route, r.Method, status, elapsed)
			s.accessLog(r, info, status, rec.bytes, elapsed)
		}()
		next.ServeHTTP(rec, r)
	})
}

// accessLog writes one line per request: errors at error level, probes at
// debug so they do not drown the rest.
func (s *Server) accessLog(r *http.Request, info *requestInfo, status int, size int64, elapsed time.Duration) {
	var ev *zerolog.Event
	switch {
	case status >= 500:
		ev = s.cfg.Log.Error().Err(info.err)
	case r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || r.URL.Path == "/metrics":
		ev = s.cfg.Log.Debug()
	default:
		ev = s.cfg.Log.Info()
	}
	ev = ev.Str("method", r.Method).Str("path", r.URL.Path).Int("status", status).
		Float64("duration_ms", float64(elapsed.Microseconds())/1000).Int64("bytes", size).
		Str("request_id", info.id).Str("ip", info.ip)
	if info.clientID != "" {
		ev = ev.Str("client_id", info.clientID)
	}
	ev.Msg("request")
}
