package handlers

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"smiledash/models"
	"smiledash/models/ingest"
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
	// The projector (ingest.Projector) behind the acknowledgement.
	projected     *prometheus.CounterVec
	projectorTime prometheus.Histogram
	projectorFail prometheus.Counter
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
			Help:    "Time to commit one batch to the event log (the projections follow).",
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
		projected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "smiledash_projector_events_total",
			Help: "Events this process's projector applied to the projections (projected) or could not (parked).",
		}, []string{"outcome"}),
		projectorTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "smiledash_projector_batch_seconds",
			Help:    "Time to project and commit one batch of the event log.",
			Buckets: []float64{.001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
		projectorFail: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "smiledash_projector_batch_failures_total",
			Help: "Projector batches that failed as a whole (the database was unavailable); they are retried.",
		}),
	}
	reg.MustRegister(m.deliveries, m.latency, m.batchSize, m.batchTime, m.batchFails, m.dropped,
		m.projected, m.projectorTime, m.projectorFail,
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

// ObserveBatch records one group commit; pass it as ingest.WriterOptions.OnBatch.
func (m *Metrics) ObserveBatch(r ingest.BatchReport) {
	if r.Size > 0 {
		m.batchSize.Observe(float64(r.Size))
		m.batchTime.Observe(r.Duration.Seconds())
	}
	if r.Err != nil {
		m.batchFails.Inc()
	}
	m.dropped.Add(float64(r.RejectionsLost))
}

// ObserveProjector records one projector batch; pass it as
// ingest.ProjectorOptions.OnBatch.
func (m *Metrics) ObserveProjector(r ingest.ProjectorReport) {
	if r.Err != nil {
		m.projectorFail.Inc()
		return
	}
	m.projected.WithLabelValues("projected").Add(float64(r.Projected))
	m.projected.WithLabelValues("parked").Add(float64(r.Parked))
	m.projectorTime.Observe(r.Duration.Seconds())
}

// WatchProjectorLag exports how far the projections are behind the event log,
// read from the database at scrape time (at most once a second), so every
// replica reports the same, whichever of them is projecting.
func (m *Metrics) WatchProjectorLag(r ProjectorLagReader) {
	cache := newLagCache(r)
	read := func(f func(models.ProjectorLag) float64) func() float64 {
		return func() float64 {
			lag, err := cache.read(context.Background())
			if err != nil {
				return -1
			}
			return f(lag)
		}
	}
	m.registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "smiledash_projector_lag_events",
			Help: "Stored events not projected yet (-1 when it cannot be read).",
		}, read(func(l models.ProjectorLag) float64 { return float64(l.Events) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "smiledash_projector_lag_seconds",
			Help: "How long the oldest unprojected event has waited (-1 when it cannot be read).",
		}, read(func(l models.ProjectorLag) float64 { return l.Behind(time.Now()).Seconds() })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "smiledash_projector_parked_events",
			Help: "Events the projections could not take; a rebuild retries them (-1 when it cannot be read).",
		}, read(func(l models.ProjectorLag) float64 { return float64(l.Parked) })),
	)
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
