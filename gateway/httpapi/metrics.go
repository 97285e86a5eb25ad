package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// Metrics are the gateway's Prometheus metrics. Every label is a closed
// set (vendor profile, outcome, fault class, state, route pattern): never
// a school, pupil or token.
type Metrics struct {
	reg        *prometheus.Registry
	syncs      *prometheus.HistogramVec
	pupils     *prometheus.CounterVec
	deliveries *prometheus.CounterVec
	results    *prometheus.CounterVec
	requests   *prometheus.HistogramVec
	logins     *prometheus.CounterVec
	throttled  *prometheus.CounterVec
}

// Gauges are read at every scrape.
type Gauges struct {
	// Outbox counts result batches by state over every school.
	Outbox func(ctx context.Context) (map[gateway.BatchState]int, error)
	// Expiry returns expiry times by kind ("evidence_certificate",
	// "client_certificate": the earliest of all schools' mTLS certificates).
	Expiry func(ctx context.Context) map[string]time.Time
	// VaultTerm returns the active vault key term's creation time and how
	// many values it sealed (rotate well before the nonce limit).
	VaultTerm func() (created time.Time, seals uint64)
}

// NewMetrics registers the gateway's metrics and the Go runtime's.
func NewMetrics(g Gauges) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.syncs = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "uwlr_sync_duration_seconds",
		Help:    "Duration of school syncs by vendor profile and outcome (applied, unchanged, held, refused, failed).",
		Buckets: []float64{0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800}}, []string{"vendor", "outcome"})
	m.pupils = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "uwlr_pupils_synced_total",
		Help: "Pupils in syncs that were applied or unchanged, by vendor profile."}, []string{"vendor"})
	m.deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "uwlr_deliveries_total",
		Help: "Result batches settled by the delivery workers, by outcome and fault class."}, []string{"outcome", "fault_class"})
	m.results = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "uwlr_delivered_results_total",
		Help: "Results in settled batches, by outcome."}, []string{"outcome"})
	m.requests = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "uwlr_http_request_duration_seconds",
		Help: "Admin HTTP requests by route pattern and status class."}, []string{"route", "code"})
	m.logins = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "uwlr_logins_total",
		Help: "Logins to the admin API and web page, by success and channel."}, []string{"ok", "via"})
	m.throttled = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "uwlr_logins_throttled_total",
		Help: "Login attempts refused unchecked (429) because their address used up its failed logins, by channel."}, []string{"via"})
	m.reg.MustRegister(m.syncs, m.pupils, m.deliveries, m.results, m.requests, m.logins, m.throttled,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if g.Outbox != nil {
		m.reg.MustRegister(&outboxCollector{depth: g.Outbox,
			desc: prometheus.NewDesc("uwlr_outbox_batches", "Result batches in the outbox by state, over every school.", []string{"state"}, nil)})
	}
	if g.Expiry != nil {
		m.reg.MustRegister(&expiryCollector{expiry: g.Expiry,
			desc: prometheus.NewDesc("uwlr_expiry_timestamp_seconds", "When a certificate or key expires (unix seconds), by kind.", []string{"kind"}, nil)})
	}
	if g.VaultTerm != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "uwlr_vault_active_term_created_timestamp_seconds",
			Help: "Creation time of the active vault key term."}, func() float64 { c, _ := g.VaultTerm(); return float64(c.Unix()) }))
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "uwlr_vault_active_term_seals",
			Help: "Values sealed with the active vault key term by this process since it started."}, func() float64 { _, n := g.VaultTerm(); return float64(n) }))
	}
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ObserveSync records one sync.
func (m *Metrics) ObserveSync(vendor string, status gateway.SyncStatus, d time.Duration, pupils int) {
	if vendor == "" {
		vendor = "standard"
	}
	m.syncs.WithLabelValues(vendor, string(status)).Observe(d.Seconds())
	if status == gateway.SyncApplied || status == gateway.SyncUnchanged {
		m.pupils.WithLabelValues(vendor).Add(float64(pupils))
	}
}

// ObserveDelivery records one settled batch.
func (m *Metrics) ObserveDelivery(state gateway.BatchState, class gateway.ErrorClass, results int) {
	m.deliveries.WithLabelValues(string(state), class.Label()).Inc()
	m.results.WithLabelValues(string(state)).Add(float64(results))
}

type outboxCollector struct {
	depth func(ctx context.Context) (map[gateway.BatchState]int, error)
	desc  *prometheus.Desc
}

func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d, err := c.depth(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for _, st := range gateway.BatchStates {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(d[st]), string(st))
	}
}

type expiryCollector struct {
	expiry func(ctx context.Context) map[string]time.Time
	desc   *prometheus.Desc
}

func (c *expiryCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *expiryCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for kind, t := range c.expiry(ctx) {
		if !t.IsZero() {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(t.Unix()), kind)
		}
	}
}
