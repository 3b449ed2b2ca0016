package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/cortexlayer/cortexctl/jobs/runner"
)

// metrics is the API's Prometheus registry: its own, so two servers in one
// test process do not collide.
type metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	limiterDown prometheus.Counter
}

func newMetrics(s *Server) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cortexctl_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cortexctl_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
		limiterDown: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cortexctl_ratelimit_errors_total",
			Help: "Requests let through without a rate-limit decision because the limiter (Redis) failed.",
		}),
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "cortexctl_build_info", Help: "The running binary's version.",
	}, []string{"version"})
	build.WithLabelValues(s.cfg.Version).Set(1)
	m.reg.MustRegister(m.requests, m.duration, m.limiterDown, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&jobCollector{s: s})
	return m
}

func (m *metrics) observe(route, method string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route, method).Observe(d.Seconds())
}

func (m *metrics) handler(log zerolog.Logger) http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: promLog{log}, ErrorHandling: promhttp.ContinueOnError})
}

type promLog struct{ log zerolog.Logger }

func (l promLog) Println(v ...any) { l.log.Warn().Msgf("metrics: %v", v...) }

// jobCollector reads job_runs on every scrape: for each job, when it last
// succeeded, and its last run's status, exit code, start and duration.
type jobCollector struct{ s *Server }

var (
	jobUp = prometheus.NewDesc("cortexctl_job_metrics_up",
		"1 if job_runs could be read for this scrape, else 0.", nil, nil)
	jobLastSuccess = prometheus.NewDesc("cortexctl_job_last_success_timestamp_seconds",
		"When the job's newest successful run (not a dry run) finished. Alert on its age.", []string{"job"}, nil)
	jobLastRun = prometheus.NewDesc("cortexctl_job_last_run_timestamp_seconds",
		"When the job's newest run (not a dry run) started.", []string{"job"}, nil)
	jobLastDuration = prometheus.NewDesc("cortexctl_job_last_run_duration_seconds",
		"How long the job's newest finished run took.", []string{"job"}, nil)
	jobLastExit = prometheus.NewDesc("cortexctl_job_last_run_exit_code",
		"The exit code of the job's newest finished run.", []string{"job"}, nil)
	jobLastStatus = prometheus.NewDesc("cortexctl_job_last_run_status",
		"1 for the status of the job's newest run (succeeded, failed, partial, skipped, interrupted, timed_out, running).",
		[]string{"job", "status"}, nil)
)

// ScrapeTimeout bounds the job_runs read of one scrape.
const ScrapeTimeout = 2 * time.Second

func (c *jobCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{jobUp, jobLastSuccess, jobLastRun, jobLastDuration, jobLastExit, jobLastStatus} {
		ch <- d
	}
}

func (c *jobCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), ScrapeTimeout)
	defer cancel()
	latest, err := runner.LatestRuns(ctx, c.s.deps.DB)
	if err != nil {
		c.s.cfg.Log.Warn().Err(err).Msg("metrics: cannot read job_runs")
		ch <- prometheus.MustNewConstMetric(jobUp, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(jobUp, prometheus.GaugeValue, 1)
	for _, l := range latest {
		run := l.LastRun
		if l.LastSuccess != nil {
			ch <- prometheus.MustNewConstMetric(jobLastSuccess, prometheus.GaugeValue, unix(*l.LastSuccess), l.Job)
		}
		ch <- prometheus.MustNewConstMetric(jobLastRun, prometheus.GaugeValue, unix(run.StartedAt), l.Job)
		ch <- prometheus.MustNewConstMetric(jobLastStatus, prometheus.GaugeValue, 1, l.Job, run.Status)
		if run.FinishedAt != nil {
			ch <- prometheus.MustNewConstMetric(jobLastDuration, prometheus.GaugeValue, run.FinishedAt.Sub(run.StartedAt).Seconds(), l.Job)
		}
		if run.ExitCode != nil {
			ch <- prometheus.MustNewConstMetric(jobLastExit, prometheus.GaugeValue, float64(*run.ExitCode), l.Job)
		}
	}
}

func unix(t time.Time) float64 { return float64(t.UnixMicro()) / 1e6 }
