package handlers

import (
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"smiledash/models"
	"smiledash/smile"
)

// Metrics are the Prometheus series smiledash exports at /metrics.
type Metrics struct {
	registry   *prometheus.Registry
	deliveries *prometheus.CounterVec
	latency    prometheus.Histogram
	batchSize  prometheus.Histogram
	batchTime  prometheus.Histogram
	batchFails prometheus.Counter
	dropped    prometheus.Counter
}

// NewMetrics registers the series on a new registry.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		registry: reg,
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "smiledash_webhook_deliveries_total",
			Help: "Webhook delivery attempts by event type and outcome (stored, duplicate, or the rejection reason).",
		}, []string{"type", "outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "smiledash_webhook_ingest_seconds",
			Help:    "Time from receiving a verified webhook to acknowledging it durably stored.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "smiledash_ingest_batch_size",
			Help:    "Webhooks committed per group commit.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 11),
		}),
		batchTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "smiledash_ingest_batch_seconds",
			Help:    "Time to commit one batch, projections included.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, 1},
		}),
		batchFails: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "smiledash_ingest_batch_failures_total",
			Help: "Group commits that failed; their webhooks were answered 503.",
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "smiledash_webhook_rejections_unrecorded_total",
			Help: "Rejected attempts not written to the deliveries table: the writer was busy, or the database refused the record.",
		}),
	}
	reg.MustRegister(m.deliveries, m.latency, m.batchSize, m.batchTime, m.batchFails, m.dropped,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// WatchQueue exports depth, the number of webhooks waiting for the writer.
func (m *Metrics) WatchQueue(depth func() int) {
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "smiledash_ingest_queue_depth",
		Help: "Verified webhooks waiting for the writer.",
	}, func() float64 { return float64(depth()) }))
}

// ObserveBatch records one group commit; pass it as models.IngestOptions.OnBatch.
func (m *Metrics) ObserveBatch(r models.BatchReport) {
	if r.Size > 0 {
		m.batchSize.Observe(float64(r.Size))
		m.batchTime.Observe(r.Duration.Seconds())
	}
	if r.Err != nil {
		m.batchFails.Inc()
	}
	m.dropped.Add(float64(r.RejectionsLost))
}

// delivery counts one attempt. Types Smile has not documented share one label,
// so a hostile sender cannot create unbounded series.
func (m *Metrics) delivery(eventType smile.EventType, outcome string) {
	label := string(eventType)
	switch {
	case eventType == "":
		label = "none"
	case !eventType.Known():
		label = "unknown"
	}
	m.deliveries.WithLabelValues(label, outcome).Inc()
}

// Registry exposes the registry, so commands can add their own series.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

func (h *Handler) metrics(c *fiber.Ctx) error {
	return adaptor.HTTPHandler(promhttp.HandlerFor(h.deps.Metrics.registry, promhttp.HandlerOpts{}))(c)
}
