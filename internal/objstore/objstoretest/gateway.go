package objstoretest

import (
	"fmt"
	"go/build"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/cortexlayer/cortexctl/internal/testenv"
)

// Gateway is a versitygw of one test's own, on its own port and directory,
// that the test may kill and start again (on the same port and data).
type Gateway struct {
	Endpoint string
	t        testing.TB
	bin      string
	dir      string
	addr     string
	log      *os.File
	cmd      *exec.Cmd
	waited   chan error // gets cmd.Wait's result
}

// StartGateway starts a private versitygw on a free port of 127.0.0.1 with
// the test credentials and stops it when t ends. Without the versitygw
// binary the test fails, or skips if CORTEXCTL_TEST_SKIP lists s3.
func StartGateway(t testing.TB) *Gateway {
	t.Helper()
	bin, err := versitygw()
	testenv.Need(t, Service, err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	dir := t.TempDir()
	log, err := os.Create(filepath.Join(dir, "versitygw.log"))
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o750); err != nil {
		t.Fatal(err)
	}
	g := &Gateway{Endpoint: "http://" + addr, t: t, bin: bin, dir: data, addr: addr, log: log}
	t.Cleanup(func() {
		g.Kill()
		_ = log.Close()
		if t.Failed() {
			if out, err := os.ReadFile(log.Name()); err == nil {
				t.Logf("versitygw's log:\n%s", out)
			}
		}
	})
	g.Start()
	return g
}

// Start starts the gateway (again) and waits until it accepts connections.
func (g *Gateway) Start() {
	g.t.Helper()
	g.cmd = exec.Command(g.bin, "--port", g.addr, "--quiet", "posix", g.dir)
	g.cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+AccessKey, "ROOT_SECRET_KEY="+SecretKey)
	g.cmd.Stdout, g.cmd.Stderr = g.log, g.log
	if err := g.cmd.Start(); err != nil {
		g.t.Fatalf("start versitygw: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- g.cmd.Wait() }()
	u, _ := url.Parse(g.Endpoint)
	deadline := time.Now().Add(20 * time.Second)
	for testenv.Dial(g.t.Context(), u) != nil {
		select {
		case err := <-exited:
			g.cmd = nil
			g.t.Fatalf("versitygw exited before answering at %s (%v); its log: %s", g.addr, err, g.log.Name())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			g.t.Fatalf("versitygw did not answer at %s within 20s; its log: %s", g.addr, g.log.Name())
		}
	}
	g.waited = exited
}

// Kill stops the gateway at once (SIGKILL), as a crash or a pulled cable
// would, and waits until it is gone. Killing a stopped gateway does nothing.
func (g *Gateway) Kill() {
	if g.cmd == nil {
		return
	}
	_ = g.cmd.Process.Kill()
	err := <-g.waited
	g.t.Logf("versitygw at %s killed: %v", g.addr, err)
	g.cmd = nil
}

func versitygw() (string, error) {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	gobin := os.Getenv("GOBIN")
	if gobin == "" {
		gobin = filepath.Join(filepath.SplitList(build.Default.GOPATH)[0], "bin")
	}
	p := filepath.Join(gobin, "versitygw")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%w (looked in %s too)", ErrNoVersitygw, strconv.Quote(gobin))
	}
	return p, nil
}
