package telemetry

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/skript-dev/skript/store"
)

// MaxWorkflowLabels bounds the distinct workflow names the metrics label:
// past it, further workflows count under "other", so a program starting
// runs of generated workflows cannot grow the series without end. No
// metric is labelled by run id or frame.
const MaxWorkflowLabels = 200

// otherWorkflow is the label of the workflows past MaxWorkflowLabels.
const otherWorkflow = "other"

// Metrics are the runtime's Prometheus metrics, on a registry of their own
// (with the Go and process collectors).
type Metrics struct {
	reg *prometheus.Registry

	stepsStarted  *prometheus.CounterVec
	stepsFinished *prometheus.CounterVec
	stepDuration  *prometheus.HistogramVec
	retries       *prometheus.CounterVec
	schedLatency  *prometheus.HistogramVec
	takenOver     prometheus.Counter
	stale         prometheus.Counter
	deliveryLimit *prometheus.CounterVec
	runsStarted   *prometheus.CounterVec
	runsEnded     *prometheus.CounterVec
	storeDuration *prometheus.HistogramVec
	storeErrors   *prometheus.CounterVec
	queue         *queueCollector
	workflows     sync.Map // name -> struct{}
	nworkflows    atomic.Int32
}

// NewMetrics returns the metrics, registered on a new registry.
func NewMetrics() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	wa := []string{"workflow", "action"}
	m.stepsStarted = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "skript_steps_started_total",
		Help: "Step attempts started, by workflow and action."}, wa)
	m.stepsFinished = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "skript_steps_finished_total",
		Help: "Step attempts finished, by workflow, action and outcome (succeeded; failed, whether or not it is retried; cancelled, as its run ended)."},
		[]string{"workflow", "action", "outcome"})
	m.stepDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "skript_step_duration_seconds",
		Help: "How long step attempts ran, by workflow and action.", Buckets: prometheus.ExponentialBuckets(0.0001, 4, 12)}, wa)
	m.retries = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "skript_retries_scheduled_total",
		Help: "Failed step attempts scheduled to run again, by workflow."}, []string{"workflow"})
	m.schedLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "skript_schedule_latency_seconds",
		Help:    "From a task becoming ready to a worker starting it, by task kind (exec, resume, timer).",
		Buckets: prometheus.ExponentialBuckets(0.00005, 4, 12)}, []string{"kind"})
	m.takenOver = prometheus.NewCounter(prometheus.CounterOpts{Name: "skript_leases_taken_over_total",
		Help: "Tasks this worker leased after another worker's lease on them had lapsed (a delivery after the first)."})
	m.stale = prometheus.NewCounter(prometheus.CounterOpts{Name: "skript_stale_completions_total",
		Help: "Completions the store refused because their token had moved on or their run had ended."})
	m.deliveryLimit = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "skript_delivery_limit_failures_total",
		Help: "Steps failed without running because their task went over the store's delivery limit, by workflow."}, []string{"workflow"})
	m.runsStarted = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "skript_runs_started_total",
		Help: "Runs started by this process, by workflow."}, []string{"workflow"})
	m.runsEnded = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "skript_runs_ended_total",
		Help: "Runs ended by this process (it applied the ending transition or the cancel), by workflow and status."}, []string{"workflow", "status"})
	m.storeDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "skript_store_operation_duration_seconds",
		Help:    "Store operations' latency, by operation (lease includes its wait for a task, up to a second).",
		Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10)}, []string{"op"})
	m.storeErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "skript_store_errors_total",
		Help: "Store operations that failed, by operation."}, []string{"op"})
	m.queue = &queueCollector{
		depth: prometheus.NewDesc("skript_queue_depth", "Tasks ready to run, by partition.", []string{"partition"}, nil),
		delayed: prometheus.NewDesc("skript_queue_delayed_tasks", "Tasks due later (retries, Waits), by partition (stores that count them).",
			[]string{"partition"}, nil),
	}
	m.reg.MustRegister(m.stepsStarted, m.stepsFinished, m.stepDuration, m.retries, m.schedLatency, m.takenOver, m.stale,
		m.deliveryLimit, m.runsStarted, m.runsEnded, m.storeDuration, m.storeErrors, m.queue,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the registry the metrics are on (to add a host
// program's own, or to gather them in a test).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Serve serves /metrics on addr until ctx is done. It returns once the
// listener is open (its address, for ":0"), or the error opening it.
func (m *Metrics) Serve(ctx context.Context, addr string) (net.Addr, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	return ln.Addr(), nil
}

// workflow returns the label for a workflow name (see MaxWorkflowLabels).
func (m *Metrics) workflow(name string) string {
	if _, ok := m.workflows.Load(name); ok {
		return name
	}
	if m.nworkflows.Load() >= MaxWorkflowLabels {
		return otherWorkflow
	}
	if _, loaded := m.workflows.LoadOrStore(name, struct{}{}); !loaded {
		m.nworkflows.Add(1)
	}
	return name
}

// StepStarted counts a step attempt starting.
func (m *Metrics) StepStarted(workflow, action string) {
	m.stepsStarted.WithLabelValues(m.workflow(workflow), action).Inc()
}

// Step outcomes, the outcome label of skript_steps_finished_total.
const (
	OutcomeSucceeded = "succeeded"
	OutcomeFailed    = "failed"
	// OutcomeCancelled: the run ended while the step ran.
	OutcomeCancelled = "cancelled"
)

// StepFinished counts a step attempt ending with outcome, d after it
// started.
func (m *Metrics) StepFinished(workflow, action, outcome string, d time.Duration) {
	wf := m.workflow(workflow)
	m.stepsFinished.WithLabelValues(wf, action, outcome).Inc()
	m.stepDuration.WithLabelValues(wf, action).Observe(d.Seconds())
}

// RetryScheduled counts a failed attempt that will run again.
func (m *Metrics) RetryScheduled(workflow string) {
	m.retries.WithLabelValues(m.workflow(workflow)).Inc()
}

// DeliveryLimit counts a step failed for going over the delivery limit.
func (m *Metrics) DeliveryLimit(workflow string) {
	m.deliveryLimit.WithLabelValues(m.workflow(workflow)).Inc()
}

// TaskStarted records a leased task starting at started: its scheduling
// latency, and whether its lease was taken over from another worker.
func (m *Metrics) TaskStarted(t *store.Task, started time.Time) {
	if !t.Enqueued.IsZero() {
		m.schedLatency.WithLabelValues(kindName(t.Kind)).Observe(max(started.Sub(t.Enqueued), 0).Seconds())
	}
	if t.Deliveries > 1 {
		m.takenOver.Inc()
	}
}

func kindName(k store.TaskKind) string {
	switch k {
	case store.Exec:
		return "exec"
	case store.Resume:
		return "resume"
	case store.Timer:
		return "timer"
	}
	return "other"
}

// Stale counts completions the store refused as stale.
func (m *Metrics) Stale(n int) { m.stale.Add(float64(n)) }

// RunStarted counts a run started.
func (m *Metrics) RunStarted(workflow string) {
	m.runsStarted.WithLabelValues(m.workflow(workflow)).Inc()
}

// RunEnded counts a run ended, with its status.
func (m *Metrics) RunEnded(workflow string, status store.Status) {
	m.runsEnded.WithLabelValues(m.workflow(workflow), string(status)).Inc()
}

// queueCollector asks the store for its queue counts on each scrape.
type queueCollector struct {
	depth, delayed *prometheus.Desc
	mu             sync.Mutex
	src            store.QueueStats
}

// WatchQueues makes the metrics report s's queues when its driver counts
// them (implements store.QueueStats); otherwise it does nothing.
func (m *Metrics) WatchQueues(s store.Store) {
	for s != nil {
		if qs, ok := s.(store.QueueStats); ok {
			m.queue.mu.Lock()
			m.queue.src = qs
			m.queue.mu.Unlock()
			return
		}
		u, ok := s.(interface{ Unwrap() store.Store })
		if !ok {
			return
		}
		s = u.Unwrap()
	}
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.depth
	ch <- c.delayed
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	src := c.src
	c.mu.Unlock()
	if src == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	parts, err := src.QueueStats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.depth, errors.Join(errors.New("queue stats"), err))
		return
	}
	for _, p := range parts {
		l := strconv.Itoa(p.Partition)
		ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(p.Ready), l)
		ch <- prometheus.MustNewConstMetric(c.delayed, prometheus.GaugeValue, float64(p.Delayed), l)
	}
}
