// Package deadman pings a dead-man's switch (healthchecks.io, or Cronitor)
// when a run starts and when it ends, so that a run that never happened is
// noticed by a service that expects to hear from it. It knows nothing of
// jobs or the database: the caller says what happened.
//
// The protocol is healthchecks.io's: <url>/start when a run starts, <url>
// on success, <url>/<exit code> on failure (healthchecks takes 1-255 as a
// failure and shows the code), <url>/log for an event that changes nothing
// (a run skipped for the lock); each with ?rid=<run id> and the message as
// a text/plain POST body. A URL on cronitor.link gets Cronitor's telemetry
// API instead: ?state=run|complete|fail with series=<run id>,
// status_code=<exit code> and message=<message>, by GET; a log event is not
// sent to it.
//
// Pings never fail the caller and never hold it up for long: they are sent
// one after another (so /start arrives before the outcome) by a goroutine,
// each limited by Options.Timeout, and Close waits for what is still queued
// at most the time it is given. A failed ping is only reported to
// Options.Report. The standard library only.
package deadman

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultTimeout is how long one ping may take.
const DefaultTimeout = 3 * time.Second

// MaxMessage is how much of a message a ping carries, in bytes.
const MaxMessage = 2000

// Options shape a Pinger; zero values are the defaults.
type Options struct {
	Timeout   time.Duration // of one ping; DefaultTimeout when zero
	Client    *http.Client  // http.DefaultClient's transport when nil
	UserAgent string        // e.g. cortexctl/v1.2.3
	// Report learns the outcome of each ping (Err nil: answered 2xx).
	Report func(Result)
}

// Result is one ping's outcome, with the URL redacted.
type Result struct {
	Event  string // start, success, fail, log
	URL    string // the check's URL, redacted (see Redact); Event says which endpoint
	Status int    // the HTTP status; 0 if none came
	Err    error
}

// Pinger pings one check. Its methods may be called from any goroutine.
type Pinger struct {
	base     *url.URL
	cronitor bool
	opts     Options

	mu     sync.Mutex
	closed bool
	queue  chan ping
	done   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
}

type ping struct {
	event  string
	method string
	url    string
	body   string
}

// New checks url (http or https, with a host) and returns a Pinger for it.
// The error never holds the URL's secret part.
func New(rawURL string, opts Options) (*Pinger, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("ping URL %s is not an http(s) URL with a host, e.g. https://hc-ping.com/<uuid>", Redact(rawURL))
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Client == nil {
		opts.Client = &http.Client{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Pinger{base: u, cronitor: strings.HasSuffix(u.Hostname(), "cronitor.link"), opts: opts,
		queue: make(chan ping, 8), done: make(chan struct{}), ctx: ctx, cancel: cancel}
	go p.loop()
	return p, nil
}

// Start says a run started.
func (p *Pinger) Start(rid string) {
	if p.cronitor {
		p.enqueue("start", p.cronitorURL("run", rid, -1, ""), "")
		return
	}
	p.enqueue("start", p.hcURL("/start", rid), "")
}

// Success says a run succeeded; message is a summary line.
func (p *Pinger) Success(rid, message string) {
	if p.cronitor {
		p.enqueue("success", p.cronitorURL("complete", rid, 0, message), "")
		return
	}
	p.enqueue("success", p.hcURL("", rid), message)
}

// Fail says a run failed with exit code code (1-255); message is its error.
func (p *Pinger) Fail(rid string, code int, message string) {
	if code < 1 || code > 255 {
		code = 1
	}
	if p.cronitor {
		p.enqueue("fail", p.cronitorURL("fail", rid, code, message), "")
		return
	}
	p.enqueue("fail", p.hcURL("/"+strconv.Itoa(code), rid), message)
}

// Log records an event that changes nothing (healthchecks' /log); Cronitor
// has no such event and is sent nothing.
func (p *Pinger) Log(rid, message string) {
	if p.cronitor {
		return
	}
	p.enqueue("log", p.hcURL("/log", rid), message)
}

// Close sends what is queued, waiting at most wait, then cancels what is
// left. A Pinger takes no ping after Close.
func (p *Pinger) Close(wait time.Duration) {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.queue)
	}
	p.mu.Unlock()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
		p.cancel()
		<-p.done // the request in flight returns at once once cancelled
	}
	p.cancel()
}

func (p *Pinger) enqueue(event, u, body string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	method := http.MethodPost
	if p.cronitor {
		method = http.MethodGet
	}
	select {
	case p.queue <- ping{event: event, method: method, url: u, body: truncate(body)}:
	default: // never block the run: a ping that does not fit is dropped
		p.report(Result{Event: event, URL: Redact(p.base.String()), Err: errors.New("ping queue full: dropped")})
	}
}

func (p *Pinger) loop() {
	defer close(p.done)
	for pg := range p.queue {
		if p.ctx.Err() != nil {
			p.report(Result{Event: pg.event, URL: Redact(p.base.String()), Err: fmt.Errorf("not sent: %w", p.ctx.Err())})
			continue
		}
		p.send(pg)
	}
}

func (p *Pinger) send(pg ping) {
	ctx, cancel := context.WithTimeout(p.ctx, p.opts.Timeout)
	defer cancel()
	res := Result{Event: pg.event, URL: Redact(p.base.String())}
	var body io.Reader
	if pg.body != "" {
		body = strings.NewReader(pg.body)
	}
	req, err := http.NewRequestWithContext(ctx, pg.method, pg.url, body)
	if err != nil {
		res.Err = errors.New("build the ping request")
		p.report(res)
		return
	}
	if body != nil {
		req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	}
	if p.opts.UserAgent != "" {
		req.Header.Set("User-Agent", p.opts.UserAgent)
	}
	resp, err := p.opts.Client.Do(req)
	if err != nil {
		res.Err = redactErr(err)
		p.report(res)
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	_ = resp.Body.Close()
	res.Status = resp.StatusCode
	if resp.StatusCode/100 != 2 {
		res.Err = fmt.Errorf("answered %s", resp.Status)
	}
	p.report(res)
}

func (p *Pinger) report(r Result) {
	if p.opts.Report != nil {
		p.opts.Report(r)
	}
}

func (p *Pinger) hcURL(suffix, rid string) string {
	u := *p.base
	u.Path += suffix
	if rid != "" {
		q := u.Query()
		q.Set("rid", rid)
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// cronitorURL is a Cronitor telemetry event; code < 0 sends none.
func (p *Pinger) cronitorURL(state, rid string, code int, message string) string {
	u := *p.base
	q := u.Query()
	q.Set("state", state)
	if rid != "" {
		q.Set("series", rid)
	}
	if code >= 0 {
		q.Set("status_code", strconv.Itoa(code))
	}
	if message = truncate(message); message != "" {
		q.Set("message", message)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func truncate(s string) string {
	if len(s) <= MaxMessage {
		return s
	}
	return s[:MaxMessage-3] + "..."
}

// Redact returns url without its secrets, fit for a log line: no user
// information and no query, and each path segment cut to its first 4
// characters (a healthchecks.io uuid or ping key, a Cronitor API key).
func Redact(rawURL string) string {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || u.Host == "" {
		return "(an unparsable URL)"
	}
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	for i, s := range segs {
		if len(s) > 4 {
			segs[i] = s[:4] + "…"
		}
	}
	out := u.Scheme + "://" + u.Host
	if len(segs) > 0 && segs[0] != "" {
		out += "/" + strings.Join(segs, "/")
	}
	return out
}

// redactErr drops the URL a *url.Error carries.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return fmt.Errorf("%s: timed out", ue.Op)
		}
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}
