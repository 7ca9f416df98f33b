package outbox

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zhibu/zhibu/storage"
)

// metrics are the dispatcher's Prometheus series, labelled with the channel.
//
//	zhibu_outbox_queue_depth{channel,priority}     pending rows (gauge, refreshed by a query)
//	zhibu_outbox_in_flight{channel}                 rows in 'sending' (gauge, same query)
//	zhibu_outbox_oldest_due_seconds{channel}        age of the oldest due pending row (gauge)
//	zhibu_outbox_sent_total{channel,method}         rows delivered
//	zhibu_outbox_retried_total{channel,reason}      rows put back: rate_limited, temporary, migrated, paused, shutdown
//	zhibu_outbox_failed_total{channel,reason}       rows failed: bad_request, unreachable, max_age, expired, original_failed
//	zhibu_outbox_uncertain_total{channel,reason}    rows sent at most once that may or may not have been delivered and are
//	                                                not sent again: leader_changed, lease_expired, no_answer
//	zhibu_outbox_rate_limited_total{channel}        429 answers (0 when pacing works)
//	zhibu_outbox_send_seconds{channel,method}       duration of one API call (histogram)
type metrics struct {
	depth       *prometheus.GaugeVec
	inFlight    prometheus.Gauge
	oldest      prometheus.Gauge
	sent        *prometheus.CounterVec
	retried     *prometheus.CounterVec
	failed      *prometheus.CounterVec
	uncertain   *prometheus.CounterVec
	rateLimited prometheus.Counter
	latency     *prometheus.HistogramVec
}

func newMetrics(channel string, reg prometheus.Registerer) *metrics {
	cl := prometheus.Labels{"channel": channel}
	m := &metrics{
		depth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "zhibu", Subsystem: "outbox", Name: "queue_depth", ConstLabels: cl,
			Help: "Pending outbox rows by priority (0 replies … 6 bulk).",
		}, []string{"priority"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "zhibu", Subsystem: "outbox", Name: "in_flight", ConstLabels: cl,
			Help: "Outbox rows being sent.",
		}),
		oldest: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "zhibu", Subsystem: "outbox", Name: "oldest_due_seconds", ConstLabels: cl,
			Help: "Age of the oldest pending row that is due (0 when none).",
		}),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "zhibu", Subsystem: "outbox", Name: "sent_total", ConstLabels: cl,
			Help: "Outbox rows delivered.",
		}, []string{"method"}),
		retried: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "zhibu", Subsystem: "outbox", Name: "retried_total", ConstLabels: cl,
			Help: "Outbox rows put back to pending, by reason.",
		}, []string{"reason"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "zhibu", Subsystem: "outbox", Name: "failed_total", ConstLabels: cl,
			Help: "Outbox rows that will not be delivered, by reason.",
		}, []string{"reason"}),
		uncertain: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "zhibu", Subsystem: "outbox", Name: "uncertain_total", ConstLabels: cl,
			Help: "Outbox rows sent at most once (red notices) whose call may or may not have been delivered; not sent again.",
		}, []string{"reason"}),
		rateLimited: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "zhibu", Subsystem: "outbox", Name: "rate_limited_total", ConstLabels: cl,
			Help: "429 Too Many Requests answers received.",
		}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "zhibu", Subsystem: "outbox", Name: "send_seconds", ConstLabels: cl,
			Help:    "Duration of one send call.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"method"}),
	}
	for p := storage.PriorityReply; p <= storage.PriorityBulk; p++ {
		m.depth.WithLabelValues(strconv.Itoa(p))
	}
	if reg != nil {
		reg.MustRegister(m.depth, m.inFlight, m.oldest, m.sent, m.retried, m.failed, m.uncertain, m.rateLimited, m.latency)
	}
	return m
}

// setStats publishes a queue snapshot.
func (m *metrics) setStats(st storage.OutboxStats) {
	for p := storage.PriorityReply; p <= storage.PriorityBulk; p++ {
		m.depth.WithLabelValues(strconv.Itoa(p)).Set(float64(st.Pending[p]))
	}
	for p, n := range st.Pending {
		if p < storage.PriorityReply || p > storage.PriorityBulk {
			m.depth.WithLabelValues(strconv.Itoa(p)).Set(float64(n))
		}
	}
	m.inFlight.Set(float64(st.Sending))
	m.oldest.Set(st.OldestDue.Seconds())
}
