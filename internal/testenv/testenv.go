// Package testenv decides what a test does when an external service it
// needs (stripe-mock, the S3 server, Redis) is not answering: it fails,
// unless the person running the tests opted out of that service.
//
// A helper that finds a service checks that it answers and hands the result
// to Need:
//
//	err := dial(addr)
//	testenv.Need(t, "stripe-mock", err)
//
// With err == nil, Need returns and the test goes on. Otherwise the test
// fails with a message that says how to get the service: `make test`
// (scripts/test.sh) starts every service the tests need that is not already
// answering, and stops it afterwards.
//
// The only way to skip is to say so: CORTEXCTL_TEST_SKIP holds a
// comma-separated list of service names (for example
// CORTEXCTL_TEST_SKIP=stripe-mock,s3). A test whose service is listed there
// and is not answering is skipped, with a reason that names the variable, and
// `make test` neither starts that service nor hides the skip: its summary
// counts the skipped tests and shows why. Listing a service allows a skip; it
// does not force one: if the service answers, the tests that need it run.
package testenv

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// EnvSkip names the environment variable that lists, comma-separated, the
// services whose tests may be skipped when the service is not answering.
const EnvSkip = "CORTEXCTL_TEST_SKIP"

// Need ends t when service is not answering (err != nil): t is skipped if
// EnvSkip lists service and fails otherwise, in both cases with err and how
// to start the service. With err == nil, Need does nothing. err should say
// where the service was looked for and how to point the tests elsewhere.
func Need(t testing.TB, service string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	// The message is built here and passed to Skip and Fatal, not Skipf and
	// Fatalf: recording fakes of testing.TB then need to override only two.
	msg := fmt.Sprintf("%s is not answering: %v", service, err)
	if Skipped(service) {
		t.Skip(msg + fmt.Sprintf("; skipped because %s lists %s", EnvSkip, service))
	}
	t.Fatal(msg + fmt.Sprintf(". `make test` starts it for you; "+
		"or set %s=%s to skip the tests that need it", EnvSkip, service))
}

// Skipped reports whether EnvSkip lists service. Names are compared without
// case and surrounding spaces.
func Skipped(service string) bool {
	for name := range strings.SplitSeq(os.Getenv(EnvSkip), ",") {
		if name = strings.TrimSpace(name); name != "" && strings.EqualFold(name, service) {
			return true
		}
	}
	return false
}

// URL returns the base URL of a service the tests talk to over HTTP:
// $envVar if set, else def. A malformed URL fails the test. If nothing
// accepts TCP connections there, Need decides (fail with hint, or skip
// when EnvSkip lists service).
func URL(t testing.TB, service, envVar, def, hint string) string {
	t.Helper()
	raw := os.Getenv(envVar)
	if raw == "" {
		raw = def
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		t.Fatalf("%s=%q: want a URL such as %s", envVar, raw, def)
	}
	if err := Dial(t.Context(), u); err != nil {
		Need(t, service, fmt.Errorf("nothing accepts connections at %s=%s: %w (%s)", envVar, raw, err, hint))
	}
	return strings.TrimSuffix(raw, "/")
}

// Dial checks that something accepts TCP connections at u's host (its
// scheme's port when it names none), waiting half a second at most.
func Dial(ctx context.Context, u *url.URL) error {
	addr := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		addr = net.JoinHostPort(u.Hostname(), port)
	}
	dialer := net.Dialer{Timeout: 500 * time.Millisecond}
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err == nil {
		_ = conn.Close()
	}
	return err
}
