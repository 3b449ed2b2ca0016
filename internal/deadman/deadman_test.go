package deadman_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/internal/deadman"
)

// received is what a fake check service saw.
type received struct {
	Method, Path, Query, Body, UA string
}

type fakeCheck struct {
	mu   sync.Mutex
	got  []received
	srv  *httptest.Server
	wait time.Duration // before answering
	code int
}

func newFake(t *testing.T) *fakeCheck {
	f := &fakeCheck{code: http.StatusOK}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.got = append(f.got, received{r.Method, r.URL.Path, r.URL.RawQuery, string(body), r.UserAgent()})
		wait, code := f.wait, f.code
		f.mu.Unlock()
		select {
		case <-time.After(wait):
		case <-r.Context().Done():
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeCheck) received() []received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]received(nil), f.got...)
}

type reports struct {
	mu  sync.Mutex
	all []deadman.Result
}

func (r *reports) add(res deadman.Result) { r.mu.Lock(); r.all = append(r.all, res); r.mu.Unlock() }
func (r *reports) list() []deadman.Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]deadman.Result(nil), r.all...)
}

const rid = "1e052956-8806-49e7-a9c7-6494e639f756"

func TestHealthchecksProtocol(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		send  func(p *deadman.Pinger)
		want  []received
		event string
	}{
		{"start then success", func(p *deadman.Pinger) { p.Start(rid); p.Success(rid, "billing-grace succeeded") }, []received{
			{Method: "POST", Path: "/ping/0f3c1a2b", Query: "rid=" + rid},
			{Method: "POST", Path: "/ping/0f3c1a2b", Query: "rid=" + rid, Body: "billing-grace succeeded"},
		}, "success"},
		{"start then fail with the exit code", func(p *deadman.Pinger) { p.Start(rid); p.Fail(rid, 3, "2 clients failed") }, []received{
			{Method: "POST", Path: "/ping/0f3c1a2b/start", Query: "rid=" + rid},
			{Method: "POST", Path: "/ping/0f3c1a2b/3", Query: "rid=" + rid, Body: "2 clients failed"},
		}, "fail"},
		{"a code out of range fails as 1", func(p *deadman.Pinger) { p.Fail("", 300, "x") }, []received{
			{Method: "POST", Path: "/ping/0f3c1a2b/1", Body: "x"},
		}, "fail"},
		{"log", func(p *deadman.Pinger) { p.Log(rid, "skipped: lock held") }, []received{
			{Method: "POST", Path: "/ping/0f3c1a2b/log", Query: "rid=" + rid, Body: "skipped: lock held"},
		}, "log"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			var rep reports
			p, err := deadman.New(f.srv.URL+"/ping/0f3c1a2b/", deadman.Options{UserAgent: "cortexctl/test", Report: rep.add})
			require.NoError(t, err)
			tc.send(p)
			p.Close(5 * time.Second)
			got := f.received()
			require.Len(t, got, len(tc.want))
			for i := range got {
				require.Equal(t, "cortexctl/test", got[i].UA)
				got[i].UA = ""
			}
			if tc.name == "start then success" {
				tc.want[0].Path += "/start"
			}
			require.Equal(t, tc.want, got, "in order: /start before the outcome")
			r := rep.list()
			require.Len(t, r, len(tc.want))
			require.Equal(t, tc.event, r[len(r)-1].Event)
			require.NoError(t, r[len(r)-1].Err)
			require.Equal(t, http.StatusOK, r[len(r)-1].Status)
		})
	}
}

func TestCronitorProtocol(t *testing.T) {
	t.Parallel()
	var got []string
	var mu sync.Mutex
	client := &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.Host+r.URL.Path+"?"+r.URL.RawQuery)
		mu.Unlock()
		return &http.Response{StatusCode: 200, Body: http.NoBody, Request: r}, nil
	})}
	p, err := deadman.New("https://cronitor.link/p/apikey123/billing-grace", deadman.Options{Client: client})
	require.NoError(t, err)
	p.Start(rid)
	p.Log(rid, "not sent to Cronitor")
	p.Fail(rid, 69, "database down")
	p.Close(5 * time.Second)
	require.Equal(t, []string{
		"GET cronitor.link/p/apikey123/billing-grace?series=" + rid + "&state=run",
		"GET cronitor.link/p/apikey123/billing-grace?message=database+down&series=" + rid + "&state=fail&status_code=69",
	}, got)
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestASlowServerDoesNotDelay(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.wait = time.Minute
	var rep reports
	p, err := deadman.New(f.srv.URL+"/slow", deadman.Options{Timeout: 300 * time.Millisecond, Report: rep.add})
	require.NoError(t, err)
	began := time.Now()
	p.Start(rid)
	p.Success(rid, "ok")
	require.Less(t, time.Since(began), 50*time.Millisecond, "pinging does not wait for the server")
	p.Close(time.Second)
	require.Less(t, time.Since(began), 1500*time.Millisecond, "Close waits at most its bound")
	r := rep.list()
	require.Len(t, r, 2)
	for _, res := range r {
		require.Error(t, res.Err)
		require.Contains(t, res.Err.Error(), "timed out")
		require.NotContains(t, res.Err.Error(), "/slow?rid", "errors carry no URL")
	}
}

func TestCloseBoundsTheWait(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.wait = time.Minute
	var rep reports
	p, err := deadman.New(f.srv.URL+"/slow", deadman.Options{Timeout: time.Minute, Report: rep.add})
	require.NoError(t, err)
	p.Start(rid)
	p.Success(rid, "ok")
	began := time.Now()
	p.Close(200 * time.Millisecond)
	require.Less(t, time.Since(began), time.Second, "Close cancels what is left after its bound")
	r := rep.list()
	require.Len(t, r, 2, "both pings are reported, the second as not sent")
	require.Contains(t, r[1].Err.Error(), "not sent")
	p.Fail(rid, 1, "after Close: dropped") // must not panic or send
	require.Len(t, f.received(), 1)
}

func TestAnUnreachableServerDoesNotFail(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close()) // nothing listens there now
	var rep reports
	p, err := deadman.New("http://"+addr+"/0f3c1a2b-secret", deadman.Options{Report: rep.add})
	require.NoError(t, err)
	began := time.Now()
	p.Start(rid)
	p.Fail(rid, 69, "x")
	p.Close(3 * time.Second)
	require.Less(t, time.Since(began), 3*time.Second)
	r := rep.list()
	require.Len(t, r, 2)
	require.Error(t, r[0].Err)
	require.Equal(t, "http://"+addr+"/0f3c…", r[0].URL)
	require.NotContains(t, r[0].Err.Error(), "secret")
}

func TestAnErrorStatusIsReported(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.code = http.StatusNotFound
	var rep reports
	p, err := deadman.New(f.srv.URL+"/nope", deadman.Options{Report: rep.add})
	require.NoError(t, err)
	p.Success(rid, "")
	p.Close(time.Second)
	r := rep.list()
	require.Len(t, r, 1)
	require.Equal(t, http.StatusNotFound, r[0].Status)
	require.EqualError(t, r[0].Err, "answered 404 Not Found")
}

func TestNewRefusesABadURL(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"", "hc-ping.com/0f3c1a2b-dead-beef", "ftp://hc-ping.com/0f3c1a2b-dead-beef", "https:///0f3c1a2b-dead-beef"} {
		_, err := deadman.New(u, deadman.Options{})
		require.Error(t, err, u)
		require.NotContains(t, err.Error(), "dead-beef", "the error holds no secret")
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://hc-ping.com/0f3c1a2b-1234-4a5b-8c9d-0123456789ab":         "https://hc-ping.com/0f3c…",
		"https://hc-ping.com/pingkey-secret/billing-grace":                 "https://hc-ping.com/ping…/bill…",
		"https://user:pw@cronitor.link/p/apikey123/billing-grace?x=secret": "https://cronitor.link/p/apik…/bill…",
		"https://hc.example.com":                                           "https://hc.example.com",
		"not a url at all %zz":                                             "(an unparsable URL)",
		"/relative/0f3c1a2b-dead":                                          "(an unparsable URL)",
	} {
		require.Equal(t, want, deadman.Redact(in), in)
	}
}
