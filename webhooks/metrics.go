package webhooks

import "github.com/prometheus/client_golang/prometheus"

// metrics are the Channel's Prometheus series.
//
//	zhibu_webhooks_attempts_total{outcome}     attempts: delivered, retry, failed
//	zhibu_webhooks_attempt_seconds             duration of one request (histogram)
//	zhibu_webhooks_fanned_out_total            deliveries created from events
//	zhibu_webhooks_disabled_total              subscriptions disabled after failures
//	zhibu_webhooks_pending                     deliveries waiting (gauge)
//	zhibu_webhooks_in_flight                   deliveries being sent (gauge)
//	zhibu_webhooks_oldest_due_seconds          age of the oldest due delivery (gauge)
type metrics struct {
	attempts  *prometheus.CounterVec
	latency   prometheus.Histogram
	fannedOut prometheus.Counter
	disabled  prometheus.Counter
	pending   prometheus.Gauge
	inFlight  prometheus.Gauge
	oldest    prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "zhibu", Subsystem: "webhooks", Name: "attempts_total",
			Help: "Outbound webhook attempts by outcome (delivered, retry, failed)."}, []string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "zhibu", Subsystem: "webhooks", Name: "attempt_seconds",
			Help: "Duration of one outbound webhook request.", Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}),
		fannedOut: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "zhibu", Subsystem: "webhooks", Name: "fanned_out_total",
			Help: "Webhook deliveries created from events."}),
		disabled: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "zhibu", Subsystem: "webhooks", Name: "disabled_total",
			Help: "Webhook subscriptions disabled after failed deliveries in a row."}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "zhibu", Subsystem: "webhooks", Name: "pending",
			Help: "Webhook deliveries waiting to be sent."}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "zhibu", Subsystem: "webhooks", Name: "in_flight",
			Help: "Webhook deliveries being sent."}),
		oldest: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "zhibu", Subsystem: "webhooks", Name: "oldest_due_seconds",
			Help: "Age of the oldest due webhook delivery (0 when none)."}),
	}
	if reg != nil {
		reg.MustRegister(m.attempts, m.latency, m.fannedOut, m.disabled, m.pending, m.inFlight, m.oldest)
	}
	return m
}
